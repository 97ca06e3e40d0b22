"""The programme catalogue: programmes and projects named in the publications, built by rules at ingestion.

Every entry is traceable: each name, year, partner, funder, place and stated date points to the chunks
(passages) that say it. Nothing is invented: a fact enters the catalogue only when a rule finds it in a
sentence of the corpus. Precision and recall against a hand-checked list: `benchmarks/catalogue_quality.py`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant27.analysis import analyze, fold, stop_words, strip_urls
from assistant27.language import YEAR, sentences_in
from assistant27.schema import Chunk

CATALOGUE_FILE = "programmes.json"
CATALOGUE_VERSION = 4  # 2: bodies named in lower case (« Direction régionale des achats »); 3: no « Parc » alone;
# 4: the corpus's publishers kept with it

_UP = "A-ZÀ-ÖØ-ÞŒ"
_LOW = "a-zß-öø-ÿœ"
# One word of a name: capitalised, all capitals, a digit, or a bracketed prefix like "(Ré)visions".
_CAP_WORD = rf"(?:\([{_UP}][{_LOW}]*\)[{_LOW}]+|[{_UP}0-9][\w’'•‑\-+]*(?:\.(?:fr|org|eu|com)\b)?)"
_CONNECTOR = r"(?:de|du|des|d['’]|en|et|the|of|for|la|le|les|l['’]|à|au|aux|sur)"
_NAME_CONNECTOR = r"(?:de|du|des|d['’]|en|et|the|of|for)"
# A name: capitalised words, possibly joined by connectors ("Jardins en Commun", "Co•opérative Publique").
_NAME = rf"{_CAP_WORD}(?:[ \t]+(?:{_NAME_CONNECTOR}[ \t]*)?{_CAP_WORD})*"
# Words between the cue and the name that describe the programme ("le programme de recherche-action Archipel").
_DESCRIPTOR = (
    r"(?:(?:de[ \t]+)?recherche[- ]action(?:[ \t]+collaborative)?|de[ \t]+recherche|expérimental|européen|"
    r"partenarial|inter-régional|interrégional|international|communautaire|passé|national|pilote|intitulé|appelé|nommé|baptisé)"
)
_CUE = r"(?:[Pp]rogramme|PROGRAMME|[Pp]rojet|[Dd]ispositif|[Jj]eu|[Rr]echerche-action|[Rr]éseau|[Aa]ssociation|[Pp]lateforme)"
_QUOTED = r"[«\"“]\s*([^»\"”]{3,90}?)\s*[»\"”]"

# "le programme Terres Vives", "du programme\nARCHIPEL", "programme : Jardins Communs", "projet « Passerelles »".
_AFTER_CUE = re.compile(rf"\b{_CUE}s?(?:\s+{_DESCRIPTOR})*\s*:?\s+(?:{_QUOTED}|({_NAME}))")
# "Débuté en 2029, Les Veilleurs est un programme", "Terres Vives, un programme de ..."
_BEFORE_CUE = re.compile(
    rf"(?:^|[,.;:!?\n(]\s*)((?:La |Le |Les |L['’])?{_NAME}(?:[ \t]+(?!(?:est|était|a|avons|pour|qui|que|vise|visait)\b)[{_LOW}'’\-]+){{0,3}})"
    rf"(?:(?:\s+(?:est|était|a été)|\s*,)\s+(?:un|une|le|la|notre|l['’]un de nos)\s+(?:nouveau\s+|nouvelle\s+|premier\s+|première\s+|ancien\s+)?"
    rf"(?:programme|projet|espace|lieu|plateforme|réseau|dispositif)\b"
    rf"|\s+(?:vise|visait) à|\s+est (?:mené|menée|porté|portée|conduit|conduite)\b)"
)
# "notre projet de jardins partagés, les Terres Vives": the name in apposition to what the cue says it is.
_APPOSED = re.compile(
    rf"\b{_CUE}\s+(?:de|d['’])\s*[{_LOW}’'\-\s]{{3,40}}?,\s+(?:les |la |le |l['’])?((?:Les |La |Le |L['’])?{_NAME})"
)
# A heading that the next line defines: "Terres Vives\nUn réseau de pionniers de ...".
_HEADING_DEFINED = re.compile(
    rf"(?:^|\n)[ \t]*((?:La |Le |Les |L['’])?{_NAME})[ \t]*\n[ \t]*(?:Un|Une)[ \t]+(?:nouveau[ \t]+|nouvelle[ \t]+)?"
    rf"(?i:programme|projet|réseau|plateforme|dispositif|jeu|recherche-action)\b",
)
# A report's summary that points to its programmes: "(Terres Vives, page 18)".
_PAGE_REF = re.compile(rf"\(({_NAME}), page \d+\)")

_MONTHS = (
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
)

# Heads of organisation names: "Ville d'Exempleville", "Communauté urbaine de Valcourt", "Fondation Exemple".
_ORG_HEADS = (
    "Ville",
    "Villes",
    "Région",
    "Régions",
    "Département",
    "Conseil",
    "Métropole",
    "Eurométropole",
    "Communauté",
    "Agglomération",
    "Agence",
    "Fondation",
    "Institut",
    "Université",
    "Ministère",
    "ministère",
    "Caisse",
    "Banque",
    "Commissariat",
    "Centre",
    "Association",
    "Commune",
    "Préfecture",
    "Direction",
    "Parc",
    "Office",
    "École",
    "Ecole",
    "Philanthropies",
    "Foundation",
    "Lab",
    "Labs",
    "Collège",
    "College",
    "Fédération",
    "Réseau",
    "Syndicat",
    "Mutuelle",
    "Territoires",
    "lab",
)
_ORG_CONNECTOR = r"(?:de|du|des|d['’]|en|the|of|for|la|le|les|l['’]|à|au|aux|sur)"
_ORG_WORD = rf"(?:(?![0-9]){_CAP_WORD}|ministère|urbaine|européenne|européen|départemental|régional|naturelle|naturel|nationale|national|générale|général|d['’]agglomération|de communes|communauté(?= d)|métropole(?= d)|ville(?= d)|département(?= d)|lab(?= [A-Z]))"
_ORG = re.compile(
    rf"(?<![\w’'])((?:l['’]|la |le |les )?{_ORG_WORD}(?:[ \t]+(?:{_ORG_CONNECTOR}[ \t]*){{0,2}}{_ORG_WORD})*)"
)
# Bodies whose names go on in lower case: "Direction régionale des achats", "ministère de la vie associative",
# "Commissariat général à l'exemple (CGE)". The name runs from its head to the first comma, "et",
# "via" or parenthesis, and at most six more words; a longer run is a sentence, not a name.
# The head must go on with a connector or an adjective of bodies ("le Centre a ouvert ses portes" is no name).
_LOWER_HEADS = (
    r"(?:[Mm]inistère|Direction|Commissariat|Centre|Agence|Institut|Office|Délégation|Caisse)(?=[ \t]+(?:"
    rf"{_ORG_CONNECTOR}\b|(?:national|général|interministériel|régional|départemental|européen|français|"
    r"technique|territorial)(?:e|le)?s?\b))"
)
_BODY = re.compile(
    rf"(?<![\w’'])(?:l['’]|la |le |les )?({_LOWER_HEADS}(?:[ \t]+(?:{_ORG_CONNECTOR}[ \t]*){{0,2}}(?!et\b|via\b|qui\b|pour\b|dont\b)[\w’'\-]+){{1,6}}?)"
    r"(?=[ \t]*(?:[,;.:)(]|\bet\b|\bvia\b|$))"
)
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]{1,7}$")
# Acronyms that are not organisations (roman numerals, formats, the programme names in capitals).
# First words of capitalised phrases that contain an organisation word but name a policy, not a body.
_KIND_ONLY = {
    "Agence",
    "Parc",
    "Centre",
    "Direction",
    "Office",
    "Conseil",
    "Institut",
    "Ville",
    "Région",
    "Département",
    "Communauté",
    "Métropole",
}
_NOT_ORG_FIRST = {"Politique", "Politiques", "Contrat", "Contrats", "Quartiers", "Projet", "Programme", "Plan"}
_FUNDING_PROGRAMME = re.compile(
    rf"(?:soutien|financement|financé|cofinancé|co-financé|subvention)\w*\s+(?:du|de|par|d['’]un|d['’]une|le|la)?\s*"
    rf"(?:programme\s+(?:(?:communautaire|européen|national)\s+)?)?({_NAME})"
)
_FUNDING_CUE = re.compile(r"financ|soutien|soutenu|mécén|mecen|subvention|grâce à|avec l['’]appui|lauréat", re.I)
_PARTNER_CUE = re.compile(
    r"partenari|partenaire|avec |aux côtés|consortium|associ|en lien avec|co-port|porté par|mené par|menée par|"
    r"collectivités? (?:engagée|participante|impliquée)|territoires? (?:test|pilote)|en collaboration",
    re.I,
)
_PLACE = re.compile(
    rf"\b(?:à|a|en|au)[ \t]+((?:La |Le )?[{_UP}][\w’'\-]+(?:[ \t\-]+(?:(?:de|du|sur|en)[ \t])?[{_UP}][\w’'\-]+)*)"
)
_PLACE_FROM_ORG = re.compile(
    r"^(?:la |le |l['’])?(?:Ville|Commune|Métropole(?= de| du)|Communauté urbaine|Communauté d['’]agglomération|"
    r"Communauté de communes|Agglomération|Région|Département|Conseil départemental|Conseil régional|Eurométropole)"
    r"(?:[ \t]+(?:de la|de l['’]|des|du|de|d['’]))?[ \t]*(.+)$"
)
_NOT_PLACES = {fold(w) for w in ("La", "Le", "Les", "Nous", "Elle", "Il", "En", "Ce")} | {m for m in _MONTHS}
_MONTH = r"(?:janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|printemps|été|automne|hiver|fin|début)"
# "lancé en 2031", "initié en 2029", "Débuté en 2030", "Fondé en 2028", "depuis 2031", "entre avril 2030 et avril 2032",
# "(2029-2031)", "au printemps 2033", "en octobre 2032".
_START = re.compile(
    rf"\b(?:lancée?s?|initiée?s?|débutée?s?|démarrée?s?|fondée?s?|créée?s?|commencée?s?|née?|depuis|dès)\b[^.;]{{0,80}}?\b(?:en|depuis|dès|au)?\s*(?:{_MONTH}\s+)?({YEAR})"
    rf"|entre\s+(?:{_MONTH}\s+)?({YEAR})\s+et\s+(?:{_MONTH}\s+)?({YEAR})"
    rf"|\(({YEAR})\s*[-–]\s*({YEAR})?\)?",
    re.I,
)


@dataclass
class Fact:
    """A value stated in the corpus, with the passages that state it."""

    value: str
    chunks: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)  # quotes[i]: the sentence of chunks[i] that states it


@dataclass
class Mention:
    """One sentence of one passage that names the programme."""

    chunk_id: str
    source: str
    year: int | None
    sentence: str
    following: str = ""  # the next sentence of the passage, read for partners and places
    others: int = 0  # how many other programmes the sentence names (a summary line names many)
    named: bool = True  # False: a sentence of a passage about the programme (under its heading) that does not name it


@dataclass
class StatedDate:
    """A start (and maybe end) year that a publication states for the programme."""

    source: str
    year: int | None  # the publication's year
    start: int
    end: int | None
    chunk_id: str
    quote: str  # the sentence
    phrase: str = ""  # the words that state the date ("initié en 2011")


@dataclass
class Programme:
    """One programme or project, as the publications describe it."""

    name: str
    key: str
    variants: list[str]
    kind: str  # "programme" or "projet"
    mentions: list[Mention]
    partners: list[Fact] = field(default_factory=list)
    funders: list[Fact] = field(default_factory=list)
    places: list[Fact] = field(default_factory=list)
    dates: list[StatedDate] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted({m.year for m in self.mentions if m.year is not None})

    @property
    def sources(self) -> list[str]:
        return sorted({m.source for m in self.mentions}, key=lambda s: (self._year_of(s), s))

    def _year_of(self, source: str) -> int:
        return next((m.year or 0 for m in self.mentions if m.source == source), 0)

    @property
    def start(self) -> int | None:
        """The start year the publications state (the earliest if they disagree), else the first year named."""
        if self.dates:
            return min(d.start for d in self.dates)
        return self.years[0] if self.years else None

    def timeline(self, per_publication: int = 2) -> list[tuple[int | None, str, list[Mention]]]:
        """(year, file, sentences naming it) per publication, oldest first: what each publication says of it."""
        steps = []
        for source in self.sources:
            named = [m for m in self.mentions if m.source == source and m.named and len(m.sentence) >= 40]
            best = sorted(named, key=lambda m: (m.others, -len(m.sentence)))[:per_publication]
            best.sort(key=lambda m: named.index(m))
            if best:
                steps.append((best[0].year, source, best))
        return steps

    def disagreements(self) -> list[tuple[StatedDate, StatedDate]]:
        """Pairs of publications stating different start years for the programme."""
        by_source: dict[str, StatedDate] = {}
        for d in sorted(self.dates, key=lambda d: d.start):
            by_source.setdefault(d.source, d)
        dates = list(by_source.values())
        return [(a, b) for i, a in enumerate(dates) for b in dates[i + 1 :] if a.start != b.start]

    def to_json(self) -> dict:
        data = asdict(self)
        data["years"] = self.years
        data["sources"] = self.sources
        data["start"] = self.start
        return data

    @classmethod
    def from_json(cls, data: dict) -> Programme:
        return cls(
            name=data["name"],
            key=data["key"],
            variants=list(data["variants"]),
            kind=data["kind"],
            mentions=[Mention(**m) for m in data["mentions"]],
            partners=[Fact(**f) for f in data["partners"]],
            funders=[Fact(**f) for f in data["funders"]],
            places=[Fact(**f) for f in data["places"]],
            dates=[StatedDate(**d) for d in data["dates"]],
        )


@dataclass
class Catalogue:
    """Every programme found, with a fingerprint of the chunks it was built from."""

    programmes: list[Programme]
    fingerprint: str = ""
    # The corpus's publishers (catalogue.csv): named in nearly every passage, they are no partner, place or topic.
    publishers: list[str] = field(default_factory=list)

    @functools.cached_property
    def terms(self) -> frozenset[str]:
        """Every BM25 stem of the sentences the catalogue holds (computed once)."""
        return frozenset(t for p in self.programmes for m in p.mentions for t in analyze(f"{m.sentence} {m.following}"))

    def is_publisher(self, name: str) -> bool:
        """Whether `name` is one of the corpus's publishers (`l'Agence Exemple` is `Agence Exemple`)."""
        return is_publisher(name, self.publishers)

    def find(self, name: str) -> Programme | None:
        key = name_key(name)
        return next((p for p in self.programmes if p.key == key or key in {name_key(v) for v in p.variants}), None)

    def named_in(self, text: str) -> list[Programme]:
        """The programmes whose name (any variant) appears in a text such as a question; longest names first."""
        folded = f" {plain(text)} "
        found: list[tuple[int, Programme]] = []
        for p in self.programmes:
            for v in sorted(p.variants, key=len, reverse=True):
                written = plain(v)
                if len(written) >= 3 and f" {written} " in folded:
                    found.append((folded.index(f" {written} "), p))
                    break
        found.sort(key=lambda item: item[0])
        return [p for _, p in found]

    def filter(self, year: int | None = None, partner: str = "", kind: str = "") -> list[Programme]:
        """The programmes named in a publication of `year`, with a partner, funder or place matching `partner`."""
        out = []
        words = [w for w in name_key(partner).split() if len(w) > 2]
        for p in self.programmes:
            if year is not None and year not in p.years:
                continue
            if kind and p.kind != kind:
                continue
            if words and not any(
                all(w in name_key(f.value).split() for w in words) for f in [*p.partners, *p.funders, *p.places]
            ):
                continue
            out.append(p)
        return out

    def summary(self) -> str:
        """One line for the ingestion report."""
        n_partners = sum(len(p.partners) + len(p.funders) for p in self.programmes)
        n_dated = sum(bool(p.dates) for p in self.programmes)
        return (
            f"programme catalogue: {len(self.programmes)} programmes and projects, {n_partners} partners and funders, "
            f"{n_dated} with a stated start (assistant27 programmes to list them)"
        )

    def to_json(self) -> dict:
        return {
            "version": CATALOGUE_VERSION,
            "fingerprint": self.fingerprint,
            "publishers": self.publishers,
            "programmes": [p.to_json() for p in self.programmes],
        }

    @classmethod
    def from_json(cls, data: dict) -> Catalogue:
        return cls(
            [Programme.from_json(p) for p in data.get("programmes", [])],
            data.get("fingerprint", ""),
            list(data.get("publishers", [])),
        )

    def save(self, index_dir: Path) -> Path:
        path = index_dir / CATALOGUE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def current(
        cls, chunks: Sequence[Chunk], index_dir: Path, publishers: Iterable[str] = ()
    ) -> tuple[Catalogue, bool]:
        """The saved catalogue when it was built from these chunks and publishers with these rules, else a new one
        (saved). `publishers`: the corpus's, from `catalogue_publishers(settings.catalogue_path)`.

        Returns (catalogue, rebuilt). A read-only index folder keeps the new catalogue in memory only.
        """
        publishers = list(publishers)
        saved = cls.load(index_dir)
        if saved is not None and saved.fingerprint == fingerprint(chunks, publishers):
            return saved, False
        built = build_catalogue(chunks, publishers)
        with contextlib.suppress(OSError):
            built.save(index_dir)
        return built, True

    @classmethod
    def load(cls, index_dir: Path) -> Catalogue | None:
        path = index_dir / CATALOGUE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("version") != CATALOGUE_VERSION:
            return None
        return cls.from_json(data)


def plain(text: str) -> str:
    """Accents, case, typography and punctuation folded away: how names are compared."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("•", " ").replace("‑", "-")
    text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae")  # Vandœuvre is Vandoeuvre
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def name_key(name: str) -> str:
    """A name without its article, accents or case: `Les Veilleurs` and `VEILLEURS` share one key."""
    return re.sub(r"^(?:la|le|les|l|the) ", "", plain(name))


def fingerprint(chunks: Sequence[Chunk], publishers: Iterable[str] = ()) -> str:
    """Which chunks, publishers and rules a catalogue was built from: a change to any of them rebuilds it."""
    import hashlib

    digest = hashlib.sha1(Path(__file__).read_bytes())
    for cid in sorted(c.id for c in chunks):
        digest.update(cid.encode())
    digest.update(json.dumps(sorted(publishers), ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def catalogue_publishers(path: Path) -> list[str]:
    """The `publisher` column of a corpus's catalogue.csv, most frequent first; [] without the file or the column.

    Read as `readers.load_catalogue` reads the file: UTF-8 (or Windows cp1252), `,` or `;` (Excel in French).
    """
    try:
        data = path.read_bytes()
    except OSError:
        return []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [column.strip().lower() for column in next(rows, [])]
    if "publisher" not in header:
        return []
    at = header.index("publisher")
    names = Counter(" ".join(row[at].split()) for row in rows if len(row) > at and row[at].strip())
    return [name for name, _ in names.most_common()]


def is_publisher(name: str, publishers: Iterable[str]) -> bool:
    """Whether `name` is one of `publishers`, article, accents and case aside."""
    key = name_key(name)
    return any(key == name_key(p) for p in publishers)


def of_publisher(publishers: Sequence[str]) -> str:
    """« de La Fondation Exemple », « du Centre Exemple », « d'Agence Exemple » for a corpus of one publisher;
    "" for several or none (the front ends then say « les publications » alone)."""
    if len(publishers) != 1:
        return ""
    name = publishers[0]
    if name.startswith("Le "):
        return f"du {name[3:]}"
    if name.startswith("Les "):
        return f"des {name[4:]}"
    if fold(name[:1]) in "aeiouyh":
        return f"d'{name}"
    return f"de {name}"


def _clean_name(raw: str) -> str:
    name = " ".join(raw.replace("\n", " ").split()).strip(" ,.;:-–")
    # A name ends at its last capitalised word (lowercase words after it describe it).
    words = name.split(" ")
    while words and not re.match(rf"[{_UP}0-9(]", words[-1]):
        words.pop()
    return " ".join(words)


# "nous avons lancé le programme X": the publisher's own, even when named once.
_OURS = re.compile(
    r"(?:avons|a|ont)\s+(?:co-)?(?:lancé|initié|mené|conduit|créé|démarré|porté)\s+(?:le|la|les|un|une|notre)?\s*$"
)


def _candidate_names(text: str, corpus_text: str) -> list[tuple[str, bool, bool]]:
    """(name, strong, defined) triples.

    strong: on the same line as its cue; defined: the subject of a sentence that says what it is
    (`X est un programme`, `X vise à`) or a programme the report's summary points to (`X, page 8`).
    """
    found: list[tuple[str, bool, bool]] = []
    for m in _AFTER_CUE.finditer(text):
        group = 1 if m.group(1) else 2
        if group == 1:  # a quoted name is whole, lowercase words included
            name = " ".join(m.group(1).split())
        else:
            name = _extend(_clean_name(m.group(group)), text[m.end(group) :], corpus_text)
        if re.search(r"\b(?:européen|communautaire)\b", text[m.start() : m.start(group)]):
            continue  # "le programme européen Exemplum+": a funding programme of an institution, not the publisher's
        newline = "\n" in text[m.start() : m.start(group)]
        ours = bool(_OURS.search(text[max(0, m.start() - 60) : m.start()]))
        found.append((name, not newline or name.isupper(), ours))
    for m in _BEFORE_CUE.finditer(text):
        if re.search(rf"(?<![\w’'])[{_LOW}]{{2,}}[^\n]*[ \t][{_UP}][{_LOW}’'\-]+[ \t]*\n[ \t]*$", text[: m.start(1)]):
            continue  # "la méthode Exemple\nDéfi, un programme": a line of prose cut a name in two
        found.append((" ".join(m.group(1).split()), True, True))
    for m in _APPOSED.finditer(text):
        found.append((_clean_name(m.group(1)), True, False))
    for m in _HEADING_DEFINED.finditer(text):
        found.append((" ".join(m.group(1).split()), True, True))
    for m in _PAGE_REF.finditer(text):
        found.append((_clean_name(m.group(1)), True, True))
    out = []
    for name, strong, defined in found:
        name = re.sub(r"^(?:Un|Une|Ce|Cette|Notre) ", "", name)
        key = name_key(name)
        words = key.split()
        if not words or len(name) < 3 or len(words) > 10 or words[0] in _MONTHS:
            continue
        first = re.sub(r"^(?:La |Le |Les |L['’])", "", name).split()[0]
        if fold(first) in stop_words() or re.fullmatch(_CUE, first) or re.search(r"\b(?:programme|projet)s?\b", name):
            continue  # "Pour chaque piste", "Chaque programme vise", "Programme": a sentence's opening, not a name
        if re.match(r"\d", key):
            continue
        out.append((name, strong, defined))
    return out


def _extend(name: str, following: str, corpus_text: str) -> str:
    """`Jardins` followed by `en commun` here, and elsewhere too, is the name `Jardins en commun`."""
    tail = re.match(r"((?:[ \t]+[a-zà-ÿœ'’]+){1,3})", following)
    if not tail:
        return name
    words = tail.group(1).split()
    flat = " ".join(corpus_text.split())
    for k in range(len(words), 0, -1):
        if words[k - 1] in {"de", "des", "du", "en", "et", "la", "le", "les", "à", "a", "d'", "l'"}:
            continue
        candidate = f"{name} {' '.join(words[:k])}"
        if flat.count(candidate) >= 2:
            return candidate
    return name


def _is_common_word(name: str, corpus_text: str) -> bool:
    """A one-word name that the corpus also uses as an ordinary lowercase word (`Intervention`, `Lieux`)."""
    words = re.sub(r"^(?:La |Le |Les |L['’])", "", name).split()
    if len(words) != 1 or words[0].isupper() and len(words[0]) <= 6:
        return False
    word = words[0].lower()
    return len(re.findall(rf"(?<![\w]){re.escape(word)}(?![\w])", corpus_text)) >= 2


def _variant_pattern(variants: Iterable[str]) -> re.Pattern[str]:
    """The names as written (and in capitals): `Les Veilleurs`, `LES VEILLEURS`, but not `les veilleurs publics`."""
    parts = []
    forms = set(variants)
    forms |= {v.upper() for v in forms}
    # A name seen only in capitals after its cue ("le programme JARDINS COMMUNS") is written in title case elsewhere
    # ("Jardins Communs"); one word is left out (every sentence opens on a capitalised word).
    forms |= {_title_case(v) for v in forms if v.isupper() and len(v.split()) >= 2}
    for v in sorted(forms, key=len, reverse=True):
        words = [w for w in re.split(r"[\s•‑\-]+", v) if w]
        escaped = [re.escape(w) for w in words]
        if len(words) >= 3 and not v.isupper():
            # "Jardins en Communs" is "Jardins en commun"; two words stay exact ("Les veilleurs publics").
            escaped = [escaped[0]] + [f"(?i:{e})" for e in escaped[1:]]
            escaped[-1] += "(?:s|x)?" if not words[-1].endswith(("s", "x")) else ""
        parts.append(r"[\s•‑\-]+".join(escaped))
    # "Post-Exemple" is another name than "Exemple": a hyphen joins a name into a longer one.
    return re.compile(r"(?<![\w\-‑])(?:" + "|".join(parts) + r")(?![\w]|[\-‑]\w)")


def _title_case(name: str) -> str:
    """`JARDINS EN COMMUN` -> `Jardins en Commun`: each word capitalised, connectors in lower case."""
    words = name.lower().split()
    return " ".join(w if i and re.fullmatch(_CONNECTOR, w) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _is_capitalised(text: str) -> bool:
    first = text.lstrip('(«"“ ')[:1]
    return bool(first) and (first.isupper() or first.isdigit() or text.startswith("("))


def build_catalogue(chunks: Sequence[Chunk], publishers: Iterable[str] = ()) -> Catalogue:
    """Find the programmes the chunks name, then every passage that names each, with partners, places and dates.

    `publishers`: the corpus's publishers (`catalogue_publishers`), never a partner, funder or place.
    """
    publishers = list(publishers)
    texts = {c.id: strip_urls(c.text) for c in chunks}
    corpus_text = "\n".join(texts.values())
    # 1. Names, from the phrasing around "programme" / "projet" (and a summary's page references).
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    cue_counts: Counter[str] = Counter()
    strong: Counter[str] = Counter()
    defined: Counter[str] = Counter()
    for c in chunks:
        for name, is_strong, is_defined in _candidate_names(texts[c.id], corpus_text):
            key = name_key(name)
            surface[key][name] += 1
            cue_counts[key] += 1
            strong[key] += is_strong
            defined[key] += is_defined
    # Names only ever seen across a line break from their cue, or ordinary words used once as a name, are dropped.
    for key in list(surface):
        common = any(_is_common_word(n, corpus_text) for n in surface[key])
        if not strong[key] or common and cue_counts[key] < 3:
            del surface[key]
    # A key that another key starts with, and that is never named alone more often, is the same programme cut short.
    keys = sorted(surface, key=len, reverse=True)
    merged: dict[str, str] = {}
    for key in keys:
        longer = next((k for k in keys if k != key and k.startswith(key + " ") and k not in merged), None)
        if longer and cue_counts[longer] >= cue_counts[key]:
            merged[key] = longer
    for short, long in merged.items():
        surface[long].update(surface.pop(short))
        defined[long] += defined[short]
    programmes = []
    for key, names in surface.items():
        variants = sorted(set(names) | _article_variants(names), key=lambda v: (-names.get(v, 0), v))
        pattern = _variant_pattern(variants)
        mentions = []
        seen_variants: Counter[str] = Counter()
        for c in chunks:
            lines = sentences_in(texts[c.id])
            for i, sentence in enumerate(lines):
                hits = [m for m in pattern.finditer(sentence) if _is_capitalised(m.group(0))]
                if hits:
                    # The next sentence often goes on about it ("... avec l'Agence Exemple, Valcourt ...").
                    following = lines[i + 1] if i + 1 < len(lines) else ""
                    if _AFTER_CUE.search(following) or len(following) < 40:
                        following = ""
                    mentions.append(Mention(c.id, c.source, c.year, sentence, following))
                    seen_variants.update(" ".join(m.group(0).split()) for m in hits)
        if not mentions:
            continue
        named_at = {(m.chunk_id, m.sentence) for m in mentions}
        for c in chunks:
            if not c.heading or not any(_is_capitalised(h.group(0)) for h in pattern.finditer(c.heading)):
                continue
            for sentence in sentences_in(texts[c.id]):
                if (c.id, sentence) not in named_at and len(sentence) >= 40 and not pattern.search(sentence):
                    mentions.append(Mention(c.id, c.source, c.year, sentence, named=False))
        if len(named_at) < 2 and not defined[key]:
            continue  # named once, in passing ("dans le cadre du programme X"): someone else's programme
        variants = sorted(set(variants) | set(seen_variants), key=lambda v: (-seen_variants.get(v, 0), v))
        programme = Programme(
            name=_display_name(seen_variants or names),
            key=key,
            variants=variants,
            kind=_kind(mentions),
            mentions=mentions,
        )
        programmes.append(programme)
    _add_neighbours(programmes, chunks, texts)
    _count_others(programmes)
    for programme in programmes:
        _attach_facts(programme, publishers)
    programmes.sort(key=lambda p: (p.start or 0, p.name))
    return Catalogue(programmes, fingerprint(chunks, publishers), publishers)


# "le programme a embarqué 12 organisations": the programme named last before it in the passage.
# Not "le programme de formation des laboratoires" nor "le programme sud-africain": those name another one.
_ANAPHORA = re.compile(
    r"\b(?:[Ll]e|[Cc]e|du|au|[Nn]otre) (?:programme|projet)\b"
    r"(?!\s*(?:de\b|d['’]|du\b|des\b|[A-ZÀ-Ö«\"(]|[\w-]{2,}(?:ain|aine|ais|aise|ien|ienne|éen|éenne|al|ale|ique)\b))"
)

# "n'ayant pas suivi le programme", "sans le programme": the sentence speaks of what is outside the programme.
_NEGATION = re.compile(r"\b(?:pas|jamais|sans|aucun|aucune|ni|non)\b[^,;:.]{0,40}$", re.I)


def _about_it(sentence: str) -> bool:
    """The sentence says "le programme" of the one named before it, and never to speak of what is outside it."""
    found = list(_ANAPHORA.finditer(sentence))
    return bool(found) and not any(_NEGATION.search(sentence[: m.start()]) for m in found)


# A programme the catalogue does not hold ("le programme européen Exemplum+"): later "le programme" means it.
_OTHER_PROGRAMME = re.compile(
    r"\b(?:programme|projet)\s+(?:(?:européen|national|communautaire|régional)\s+)?(?:[A-ZÀ-Ö][\w+]|«|\")"
)


def _add_neighbours(programmes: list[Programme], chunks: Sequence[Chunk], texts: dict[str, str]) -> None:
    """The other sentences of a passage that names a programme (and names no other): what it goes on to say.

    A sentence that says "le programme" after the programme was named, with no other named in between,
    is about it: it counts as naming it (partners and dates are read from it).
    """
    by_id = {c.id: c for c in chunks}
    named_anywhere = {(m.chunk_id, m.sentence) for p in programmes for m in p.mentions if m.named}
    named_by: dict[tuple[str, str], list[Programme]] = defaultdict(list)
    for p in programmes:
        for m in p.mentions:
            if m.named:
                named_by[(m.chunk_id, m.sentence)].append(p)
    # "le programme ..." in reading order, across passage boundaries: the last programme named before it.
    about: dict[tuple[str, str], Programme] = {}
    last: list[Programme] = []
    previous_source = None
    for c in sorted(chunks, key=lambda c: (c.source, c.page or 0, c.start)):
        if c.source != previous_source:
            last, previous_source = [], c.source
        for sentence in sentences_in(texts[c.id]):
            place = (c.id, sentence)
            if place in named_by:
                last = named_by[place]
            elif _OTHER_PROGRAMME.search(sentence):
                last = []  # "retenus dans le cadre du programme européen Exemplum+": "le programme" is that one now
            elif len(last) == 1 and len(sentence) >= 40 and _about_it(sentence):
                about[place] = last[0]
    for place, p in about.items():
        c = by_id[place[0]]
        p.mentions.append(Mention(c.id, c.source, c.year, place[1], named=True))
        named_anywhere.add(place)
    for p in programmes:
        have = {(m.chunk_id, m.sentence) for m in p.mentions}
        for chunk_id in dict.fromkeys(m.chunk_id for m in p.mentions if m.named):
            c = by_id[chunk_id]
            for sentence in sentences_in(texts[chunk_id]):
                place = (chunk_id, sentence)
                if len(sentence) >= 40 and place not in have and place not in named_anywhere:
                    p.mentions.append(Mention(chunk_id, c.source, c.year, sentence, named=False))
                    have.add(place)


def _count_others(programmes: list[Programme]) -> None:
    """Mark sentences that name several programmes: summaries and tables of contents, weak evidence for any one."""
    named: Counter[tuple[str, str]] = Counter()
    for p in programmes:
        for place in {(m.chunk_id, m.sentence) for m in p.mentions if m.named}:
            named[place] += 1
    for p in programmes:
        for mention in p.mentions:
            mention.others = max(0, named[(mention.chunk_id, mention.sentence)] - 1)


def _article_variants(names: Iterable[str]) -> set[str]:
    out = set()
    for n in names:
        bare = re.sub(r"^(?:La |Le |Les |L['’])", "", n)
        if bare != n and len(bare) >= 4:
            out.add(bare)
    return out


def _display_name(counts: Counter[str]) -> str:
    """A frequent written form that is not all capitals (`Terres Vives`, not `TERRES VIVES`), article kept (`Les Veilleurs`)."""
    mixed = [(n, v) for v, n in counts.items() if not v.isupper() and (v[:1].isupper() or v[:1] == "(")]
    pool = mixed or [(n, v.title()) for v, n in counts.items()]
    top = max(n for n, _ in pool)
    frequent = [(n, v) for n, v in pool if n * 3 >= top]
    return max(frequent, key=lambda item: (len(item[1]), item[0]))[1]


def _kind(mentions: list[Mention]) -> str:
    text = " ".join(m.sentence for m in mentions).lower()
    return "programme" if text.count("programme") >= text.count("projet") else "projet"


def _attach_facts(p: Programme, publishers: Sequence[str] = ()) -> None:
    """Partners, funders, places and stated dates, from the sentences that name the programme (and the next one).

    Sentences under its heading that do not name it add recall but cost more precision (measured:
    partners 0.78 precision / 0.48 recall with them, 0.84 / 0.47 without), so they are left out here.
    """
    partners: dict[str, Fact] = {}
    funders: dict[str, Fact] = {}
    places: dict[str, Fact] = {}
    own = {name_key(v) for v in p.variants}
    for m in p.mentions:
        if m.others >= 2 or not m.named:
            continue
        sentence = f"{m.sentence} {m.following}".strip()
        orgs = [o for o in organisations(sentence) if name_key(o) not in own and not _same_as_programme(o, own)]
        funding = bool(_FUNDING_CUE.search(sentence))
        partnering = bool(_PARTNER_CUE.search(sentence))
        listed = [x for x in enumerated(sentence) if name_key(x) not in own and not _same_as_programme(x, own)]
        for item in listed:
            if not any(same_body(item, o) for o in orgs):
                _add(partners, item, m)
                if not any(w in _ORG_HEADS for w in item.split()) and not _ACRONYM.match(item):
                    _add(places, item, m)
        if funding:
            # "avec le soutien du programme communautaire Exemplum", "grâce à un financement Exemplum+"
            for m_fund in _FUNDING_PROGRAMME.finditer(sentence):
                funder = _clean_name(m_fund.group(1))
                if funder and name_key(funder) not in own and not _same_as_programme(funder, own):
                    _add(funders, funder, m)
        for org in orgs:
            if funding and _funding_near(sentence, org):
                _add(funders, org, m)
            elif partnering or funding or any(same_body(org, item) for item in listed):
                _add(partners, org, m)  # a list of bodies with the programme is a list of partners
            place = place_of_organisation(org)
            if place:
                _add(places, place, m)
        if partnering or funding or re.search(r"\bmen[ée]|\btest|\bexp[ée]riment|territoire", sentence, re.I):
            for place in places_in(sentence):
                if name_key(place) not in own:
                    _add(places, place, m)
        for d in _stated_dates(m.sentence, m):
            p.dates.append(d)
    # The publisher runs the programme: it is named with it everywhere, as no partner, funder or place.
    p.partners = sorted((f for f in partners.values() if not is_publisher(f.value, publishers)), key=_by_support)
    p.funders = sorted((f for f in funders.values() if not is_publisher(f.value, publishers)), key=_by_support)
    p.places = sorted((f for f in places.values() if not is_publisher(f.value, publishers)), key=_by_support)


def _by_support(fact: Fact) -> tuple[int, str]:
    return -len(fact.chunks), fact.value


_LIST_CUE = re.compile(
    r"(?:\b(?:villes|collectivités|territoires|métropoles|départements|régions|Régions|communes|intercommunalités|"
    r"partenaires|structures|acteurs|organisations|organismes)\s*(?:pilotes\s*|partenaires\s*|associées?s?\s*|engagée?s\s*|publiques\s*|publics\s*)?(?:de |d['’]|:)?"
    r"|\b(?:avec|aux côtés de|associe|associant|réunit|réunissant|rejoint par|dont)\s+(?:la |le |les |l['’])?)"
)
_ITEM_LEAD = re.compile(
    r"^(?:et |la |le |les |l['’]|de |du |des |d['’])+(?:(?:ville|commune|métropole|région|département)s? (?:de |d['’]|du )?)?",
    re.I,
)


# A name in a list: capitalised words, or a body written in lower case ("la communauté d'agglomération de Valcourt").
_LIST_ITEM = re.compile(
    rf"(?:[{_UP}][\w’'\-]*|communauté|ville|métropole|département|région|lab)"
    rf"(?:[ \t]+(?:(?:de|du|des|la|le|lès|sur|en|d['’])[ \t]*){{0,2}}(?:[{_UP}][\w’'\-]*|agglomération|urbaine|communes))*"
)


def enumerated(sentence: str) -> list[str]:
    """Names in a list after a cue: `les villes de Valcourt, Montclair-la-Forêt et Bourg-lès-Exemple`."""
    out: list[str] = []
    for cue in _LIST_CUE.finditer(sentence):
        after = sentence[cue.end() :]
        if after.lstrip().startswith("("):  # "quatre collectivités (Montclair-la-Forêt, Valcourt et ...)"
            after = after.lstrip()[1:]
        rest = re.split(r"[.;)(]|\s[-–]\s", after, maxsplit=1)[0]
        pieces = re.split(r",\s*|\s+et\s+|\s+ainsi que\s+", rest)
        items = []
        for piece in pieces:
            piece = _ITEM_LEAD.sub("", piece.strip())
            m = _LIST_ITEM.match(piece)
            if not m:
                break  # the list ends at the first item that is not a name
            item = " ".join(m.group(0).split())
            if item[:1].islower() and " " not in item:
                break  # "avec la communauté élargie": a common noun, not a body's name
            if item in _KIND_ONLY:
                continue  # "le Parc naturel régional (PNR)": the kind of body, cut at its first lower-case word
            items.append(item[:1].upper() + item[1:])  # "communauté d'agglomération de Valcourt"
        if len(items) >= 2 or (items and any(w in _ORG_HEADS for w in items[0].split())):
            out.extend(i for i in items if name_key(i) not in _NOT_PLACES and len(i) > 2)
    return list(dict.fromkeys(out))


# Words that say what kind of body a name is, not which one ("Ville de Valcourt" is "Valcourt").
GENERIC_ORG_WORDS = frozenset(
    ("ville", "region", "departement", "conseil", "metropole", "communaute", "urbaine", "agence", "fondation")
)


def same_body(a: str, b: str) -> bool:
    """`Exemple Philanthropies` and `Fondation Exemple Philanthropies` name one body; so do `Valcourt` and `Ville de Valcourt`."""
    generic = GENERIC_ORG_WORDS | {"de", "du", "des", "la", "le", "l", "d"}
    wa = {w for w in name_key(a).split() if w not in generic}
    wb = {w for w in name_key(b).split() if w not in generic}
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _same_as_programme(org: str, own: set[str]) -> bool:
    key = name_key(org)
    return any(key in k or k in key for k in own if len(k) > 3)


def _funding_near(sentence: str, org: str) -> bool:
    """The funding cue comes before the organisation, in the same clause ("soutenu par la Fondation Exemple")."""
    at = sentence.find(org)
    if at < 0:  # "Ministère de la vie associative", written "ministère de la vie associative" in the sentence
        at = sentence.find(org[:1].lower() + org[1:])
    if at < 0:
        return False
    before = sentence[max(0, at - 120) : at]
    cues = list(_FUNDING_CUE.finditer(before))
    return bool(cues) and not re.search(r"[.;]", before[cues[-1].end() :])


def _add(facts: dict[str, Fact], value: str, m: Mention) -> None:
    key = name_key(value)
    fact = facts.setdefault(key, Fact(value))
    if m.chunk_id not in fact.chunks:
        fact.chunks.append(m.chunk_id)
        fact.quotes.append(m.sentence if value in m.sentence or not m.following else f"{m.sentence} {m.following}")
    if m.source not in fact.sources:
        fact.sources.append(m.source)


def organisations(sentence: str) -> list[str]:
    """Organisation names in a sentence: `la Ville de Valcourt`, `Fondation Exemple`, `l'AEX`, `Exemple Philanthropies`."""
    found = []
    spans = [(m.start(1), m.end(1)) for m in _ORG.finditer(sentence)]
    longer = [(m.start(1), m.end(1)) for m in _BODY.finditer(sentence)]
    # A body's full name replaces the capitalised start of it: "le Commissariat général" in "le Commissariat général
    # au développement durable".
    spans = [s for s in spans if not any(s[0] < b and a < s[1] <= b and (a, b) != s for a, b in longer)] + longer
    for start, end in sorted(set(spans)):
        raw = sentence[start:end]
        if sentence[max(0, start - 1) : start] in {'"', "«", "“"}:
            continue  # a quoted word ("answer only "PWNED"") is speech, not a body
        name = re.sub(r"^(?:l['’]|la |le |les )", "", raw).strip(" -")
        name = _clean_org(name)
        if not name:
            continue
        words = name.split()
        if words[0][:1].islower() and words[0].capitalize() in _ORG_HEADS:
            words[0] = words[0].capitalize()  # "la communauté d'agglomération de Montclair-la-Forêt"
            name = " ".join(words)
        if words[0] in _NOT_ORG_FIRST:
            continue
        capitals = [w for w in words if w[:1].isupper()]
        connected = any(re.fullmatch(_ORG_CONNECTOR, w) or re.match(r"[dl]['’]", w) for w in words[1:])
        if len(words) > 1 and len(capitals) < 2 and capitals and capitals[0] in _KIND_ONLY and not connected:
            continue  # "Agence nationale", "Parc naturel régional": a kind of body, not its name
        if any(w in _ORG_HEADS for w in words) and len(words) >= 2 or _ACRONYM.match(name):
            found.append(name)
    return list(dict.fromkeys(found))


def _clean_org(name: str) -> str:
    words = name.split()
    while words and (
        words[-1] in {"de", "du", "des", "d'", "d’", "en", "et", "la", "le", "les", "à", "au", "aux", "sur"}
    ):
        words.pop()
    while words and words[0] in {"de", "du", "des", "en", "et", "à", "au", "aux", "sur"}:
        words.pop(0)
    return " ".join(words)


def place_of_organisation(org: str) -> str | None:
    """`Ville de Valcourt` -> `Valcourt`; `Communauté urbaine de Montclair` -> `Montclair`."""
    m = _PLACE_FROM_ORG.match(org)
    if not m:
        return None
    place = m.group(1).strip()
    if not place or not place[0].isupper() or name_key(place) in _NOT_PLACES:
        return None
    return place


def places_in(sentence: str) -> list[str]:
    """Places written as `à Valcourt`, `en Val-d'Exemple`, `au Portugal`."""
    out = []
    for m in _PLACE.finditer(sentence):
        place = m.group(1)
        key = name_key(place)
        if key in _NOT_PLACES or key.split()[0] in _MONTHS or re.match(r"\d", key):
            continue
        if any(w in _ORG_HEADS for w in place.split()):
            continue
        out.append(place)
    return list(dict.fromkeys(out))


_NEW_STAGE = re.compile(r"nouvelle (?:édition|phase|version|saison)|deuxième|seconde|relanc|suite", re.I)


def _stated_dates(sentence: str, m: Mention) -> list[StatedDate]:
    """The start a sentence states ("initié en 2011"); a new edition or phase is not a start."""
    if _NEW_STAGE.search(sentence):
        return []
    out = []
    for d in _START.finditer(sentence):
        groups = [g for g in d.groups()]
        if groups[0]:
            start, end = int(groups[0]), None
        elif groups[1]:
            start, end = int(groups[1]), int(groups[2])
        else:
            start, end = int(groups[3]), int(groups[4]) if groups[4] else None
        if m.year and start > m.year:
            continue  # a plan, not a start ("lancé en 2032" in a 2031 report)
        out.append(StatedDate(m.source, m.year, start, end, m.chunk_id, sentence, d.group(0)))
    return out[:1]
