"""Generality: nothing in src/ names today's corpus, and what depends on a corpus is read from the corpus folder.

A rule, comment or string that names a programme, organisation, place, person or year of today's publications
would serve no other corpus. The names come from the hand-checked evals/programmes_gold.json and from
corpus/catalogue.csv (its publisher and years).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path

from click.testing import CliRunner
from conftest import REPO, write_corpus
from starlette.testclient import TestClient

from assistant27.assistant import Assistant
from assistant27.cli import main
from assistant27.config import Settings
from assistant27.conversations import conversation_markdown
from assistant27.programme_answers import answer, recognise
from assistant27.programmes import Catalogue, build_catalogue, catalogue_publishers, of_publisher
from assistant27.schema import Chunk
from assistant27.webapp import DEFAULT_EXAMPLES, EXAMPLES_FILE, TokenGate, WebApp, example_questions

SRC = REPO / "src"
TEXT_SUFFIXES = (".py", ".txt", ".md", ".json", ".html", ".css", ".js", ".toml", ".cfg", ".ini")
# Shorter gold names ("POP", "SDS", "LC3", "14e") are code words (`list.pop`) or pieces of other tokens.
MIN_LENGTH = 4
# Gold names that are also everyday words or phrases ("la base", "tronc commun", `reset`): they count only when
# written as a name, with a capital, so that ordinary prose or code does not fail the test. Folded keys.
ORDINARY = {
    "reset",
    "sonar",
    "rebonds",
    "eclaireurs",
    "les eclaireurs",
    "la base",
    "la pointeuse",
    "partie prenante",
    "nouvelle mesure",
    "nouvelles mesures",
    "tronc commun",
    "lieux communs",
    "justice environnementale",
    "territoires en commun",
    "journee decouverte",
    "journees decouvertes",
    "rencontre au sommet",
    "recherche et collectivites",
    "fabrique a projets",
    "design des institutions",
    "ateliers decontractes",
    "les ateliers decontractes",
    "webinaire adherents",
    "webinaires adherents",
    "dejeuners-recherche",
    "hackaton juridique",
    "assises du design",
    "les beaux jours",
    "itineraire bis",
    "capacites publiques",
    "reflexes publics",
    "remix public",
    "nos services publics",
    "vraiment vraiment",
    "france urbaine",
    "les cliniques",
    "theorie de transformation",
    "carte blanche",
    "labs mutualises",
    "tous elus",
    "public factory",
}
# A year inside an ISO date ("2025-11-22") dates the product's own history, not the corpus.
_ISO_DATE_TAIL = r"(?!-\d\d-\d\d)"


def _fold(text: str) -> str:
    """Accents, ligatures and typographic apostrophes folded away; case kept (ORDINARY names need it)."""
    text = text.replace("’", "'").replace("ʼ", "'").replace("œ", "oe").replace("Œ", "Oe").replace("‑", "-")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def corpus_names() -> set[str]:
    """Programme names and variants, partners, funders, places and people of the gold catalogue, and the
    programmes it leaves out as other organisations' own, and the publisher of corpus/catalogue.csv."""
    gold = json.loads((REPO / "evals" / "programmes_gold.json").read_text(encoding="utf-8"))
    names: set[str] = set()
    for p in gold["programmes"]:
        names.update([p["name"], *p.get("variants", [])])
        for key in ("partners", "funders", "places", "people"):
            names.update(p.get(key, []))
    for excluded in gold.get("excluded", []):
        names.update(re.split(r" / |, ", excluded["name"]))
    with (REPO / "corpus" / "catalogue.csv").open(encoding="utf-8-sig", newline="") as handle:
        names.update(row["publisher"] for row in csv.DictReader(handle) if row.get("publisher"))
    return {" ".join(n.split()) for n in names if len(n.strip()) >= MIN_LENGTH}


def corpus_years() -> set[str]:
    with (REPO / "corpus" / "catalogue.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["year"].strip() for row in csv.DictReader(handle) if row.get("year", "").strip()}


def corpus_mentions(root: Path = SRC) -> list[str]:
    """`file:line: name` for every line under `root` that names today's corpus (whole words, any case, no accents)."""
    patterns = []
    for name in sorted(corpus_names()):
        folded = _fold(name)
        body = r"[\s\-]+".join(re.escape(w) for w in folded.split())
        ordinary = folded.casefold() in ORDINARY
        patterns.append((name, re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE), ordinary))
    for year in sorted(corpus_years()):
        patterns.append((year, re.compile(rf"(?<![\w.]){year}(?!\w){_ISO_DATE_TAIL}"), False))
    # A match holds the name's first word as a whole word: only lines holding one of those words (or a year) are
    # worth trying every pattern on (the scan took about a minute, every pattern on every line).
    firsts = {re.findall(r"\w+", _fold(name).casefold())[:1][0] for name in corpus_names()}
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(TEXT_SUFFIXES)):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            folded = _fold(line)
            words = set(re.findall(r"\w+", folded.casefold()))
            if not words & firsts and not any(year in folded for year in corpus_years()):
                continue
            named = [
                name
                for name, pattern, ordinary in patterns
                if any(not ordinary or m.group(0)[:1].isupper() for m in pattern.finditer(folded))
            ]
            if named:
                found.append(f"{path.relative_to(root.parent)}:{number}: {', '.join(named)}")
    return found


def test_src_names_no_programme_organisation_place_or_year_of_the_corpus() -> None:
    found = corpus_mentions()
    assert not found, (
        f"{len(found)} line(s) of src/ name today's corpus; write a rule that reads the corpus instead, "
        "or an invented example (« le programme Archipel », « Ville d'Exempleville », 2031):\n" + "\n".join(found)
    )


def test_the_scan_finds_names_as_words_and_skips_ordinary_words(tmp_path: Path) -> None:
    # The check itself, on a made-up source folder: a corpus name in any case or accents, a corpus year, a name
    # that is an everyday phrase only when written as a name; not inside another word, nor a date of our own.
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "rules.py").write_text(
        "PUBLISHER = 'la 27E REGION'\n"  # the catalogue's publisher, folded
        "# as in the 2019 report\n"
        "x = {'tronc commun': 1}  # an everyday phrase, in lower case\n"
        "# le programme Tronc Commun\n"
        "# measured on 2025-11-22, at Parisian speed\n",
        encoding="utf-8",
    )
    found = [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in corpus_mentions(folder)]
    assert found == ["1", "2", "4"]


# Generalised behaviour: the publisher and the example questions come from the corpus folder.

OTHER_CORPUS = {
    "rapport-2031.txt": """
        Archipel

        Archipel est un programme de recherche-action sur les communs, mené en partenariat avec l'Agence Exemple,
        la Fondation Horizon Bleu et la Ville de Valcourt. Il a commencé en 2031.

        Le programme Archipel a réuni l'Agence Exemple et la Ville de Valcourt autour des jardins partagés.
        """,
    "rapport-2032.txt": """
        Passerelles

        Passerelles est un programme de l'Agence Exemple avec la Ville de Valcourt et la Métropole de Montclair.
        Le programme Passerelles, soutenu par la Fondation Horizon Bleu, a été lancé en 2032 à Montclair.
        """,
}
OTHER_CATALOGUE = """file,title,kind,year,language,publisher
rapport-2031.txt,Rapport 2031,rapport,2031,fr,Agence Exemple
rapport-2032.txt,Rapport 2032,rapport,2032,fr,Agence Exemple
"""


def _chunks(texts: dict[str, str]) -> list[Chunk]:
    out = []
    for source, text in texts.items():
        year = int(re.findall(r"\d{4}", source)[0])
        body = " ".join(text.split())
        out.append(Chunk(id=source, source=source, text=body, page=None, heading="", start=0, end=len(body), year=year))
    return out


def test_publishers_are_read_from_the_catalogue(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", OTHER_CORPUS, OTHER_CATALOGUE)
    assert catalogue_publishers(corpus / "catalogue.csv") == ["Agence Exemple"]
    # Excel's French export: `;` and cp1252; no catalogue, or no publisher column, means no publisher.
    (tmp_path / "excel.csv").write_bytes("file;publisher\nété.pdf;Société Exemple\n".encode("cp1252"))
    assert catalogue_publishers(tmp_path / "excel.csv") == ["Société Exemple"]
    assert catalogue_publishers(tmp_path / "absent.csv") == []
    (tmp_path / "bare.csv").write_text("file,year\nr.txt,2031\n", encoding="utf-8")
    assert catalogue_publishers(tmp_path / "bare.csv") == []
    assert of_publisher(["Agence Exemple"]) == "d'Agence Exemple"
    assert of_publisher(["Le Centre Exemple"]) == "du Centre Exemple"
    assert of_publisher(["La Fondation Exemple"]) == "de La Fondation Exemple"
    assert of_publisher(["Agence Exemple", "Fondation Exemple"]) == of_publisher([]) == ""


def test_the_catalogues_publisher_is_no_partner_of_its_programmes(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", OTHER_CORPUS, OTHER_CATALOGUE)
    chunks = _chunks(OTHER_CORPUS)
    unaware = build_catalogue(chunks)
    assert "Agence Exemple" in {f.value for f in unaware.find("Archipel").partners}  # type: ignore[union-attr]

    cat = build_catalogue(chunks, catalogue_publishers(corpus / "catalogue.csv"))
    assert cat.publishers == ["Agence Exemple"] and cat.is_publisher("l'Agence Exemple")
    archipel, passerelles = cat.find("Archipel"), cat.find("Passerelles")
    assert archipel is not None and passerelles is not None
    partners = {f.value for f in archipel.partners}
    assert {"Fondation Horizon Bleu", "Ville de Valcourt"} <= partners and "Agence Exemple" not in partners
    assert "Agence Exemple" not in {f.value for p in cat.programmes for f in [*p.partners, *p.funders, *p.places]}
    # Saved and loaded with the catalogue; another publisher is another catalogue (rebuilt).
    cat.save(tmp_path)
    loaded = Catalogue.load(tmp_path)
    assert loaded is not None and loaded.publishers == ["Agence Exemple"]
    assert Catalogue.current(chunks, tmp_path, ["Agence Exemple"]) == (loaded, False)
    assert Catalogue.current(chunks, tmp_path, ["Fondation Horizon Bleu"])[1] is True

    # In questions, the publisher is no partner: the list of its programmes with Valcourt, not of the agency's.
    q = "Quels programmes l'Agence Exemple a-t-elle menés avec la Ville de Valcourt ?"
    shape = recognise(q, cat)
    assert shape is not None and shape.target == "programmes" and shape.partner_words == ["valcourt"]
    reply = answer(shape, q, cat, {c.id: c for c in chunks})
    assert reply is not None and "- Archipel" in reply.text and "- Passerelles" in reply.text
    assert recognise("Depuis quand l'Agence Exemple est-elle une association ?", cat) is None


def test_example_questions_come_from_the_corpus_folder(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", OTHER_CORPUS, OTHER_CATALOGUE)
    assert example_questions(corpus) == DEFAULT_EXAMPLES  # no file: general questions
    (corpus / EXAMPLES_FILE).write_text(
        json.dumps(["Qu'est-ce qu'Archipel ?", "  ", "Quels partenaires pour Passerelles ?", 7]), encoding="utf-8"
    )
    assert example_questions(corpus) == ["Qu'est-ce qu'Archipel ?", "Quels partenaires pour Passerelles ?"]
    (corpus / EXAMPLES_FILE).write_text("{not json", encoding="utf-8")
    assert example_questions(corpus) == DEFAULT_EXAMPLES
    # The repository's own file is a list of questions; it is not a publication (ingestion skips it).
    assert example_questions(REPO / "corpus") != DEFAULT_EXAMPLES


def test_the_web_page_and_exports_name_the_catalogues_publisher(isolated_state: Path) -> None:
    corpus = write_corpus(isolated_state / "corpus", OTHER_CORPUS, OTHER_CATALOGUE)
    (corpus / EXAMPLES_FILE).write_text(json.dumps(["Qu'est-ce qu'Archipel ?"]), encoding="utf-8")
    settings = Settings.from_env()
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "2 indexed" in result.output  # the example questions are no publication
    app = WebApp(Assistant.from_settings(settings))
    assert app.examples == ["Qu'est-ce qu'Archipel ?"]
    page = app.build()
    assert page.title == "Assistant d'Agence Exemple"
    layout = json.dumps(page.config, ensure_ascii=False, default=str)  # its components: buttons, heading, texts
    assert "Qu'est-ce qu'Archipel ?" in layout and "Assistant des publications d'Agence Exemple" in layout
    assert "27e" not in layout
    # The login page in front of a shared server says whose assistant it is, too.
    gate = TokenGate(app.asgi_app(), "correct-horse-battery-staple", app.title, app.heading)
    login = TestClient(gate).get("/")
    assert login.status_code == 401 and "Assistant des publications d&#x27;Agence Exemple</h1>" in login.text
    assert conversation_markdown([], of_publisher(["Agence Exemple"])).startswith(
        "# Conversation avec l'assistant d'Agence Exemple"
    )


def test_ingestion_the_cli_and_the_assistant_give_the_catalogue_its_publisher(isolated_state: Path) -> None:
    # The catalogue is built at ingestion, and again by `programmes` and the assistant when out of date: each of
    # them reads the publisher from the corpus's catalogue.csv (Catalogue.current(..., publishers=...)).
    write_corpus(isolated_state / "corpus", OTHER_CORPUS, OTHER_CATALOGUE)
    runner = CliRunner()
    assert runner.invoke(main, ["ingest"]).exit_code == 0
    listed = runner.invoke(main, ["programmes", "--json"])
    assert listed.exit_code == 0, listed.output
    facts = {f["value"] for p in json.loads(listed.output) for k in ("partners", "funders", "places") for f in p[k]}
    assert "Ville de Valcourt" in facts and "Agence Exemple" not in facts
    assert Assistant.from_settings(Settings.from_env()).catalogue.publishers == ["Agence Exemple"]
