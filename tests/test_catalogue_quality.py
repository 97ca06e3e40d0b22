"""The catalogue benchmark (benchmarks/catalogue_quality.py): its scoring, its per-publication split, its gold file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from conftest import REPO, write_corpus

from assistant27.config import Settings
from assistant27.programmes import Fact, Mention, Programme, StatedDate, name_key

sys.path.insert(0, str(REPO / "benchmarks"))
import catalogue_quality as cq  # noqa: E402 - a script folder, not a package

GOLD_BY_PUBLICATION = REPO / "evals" / "programmes_gold_by_publication.json"


def programme(
    name: str,
    source: str = "a.txt",
    partners: tuple[str, ...] = (),
    funders: tuple[str, ...] = (),
    places: tuple[str, ...] = (),
    starts: tuple[int, ...] = (),
) -> Programme:
    """A catalogue entry as `build_catalogue` makes them, named in one sentence of `source`."""
    mention = Mention("c1", source, 2020, f"{name} est un programme.")
    return Programme(
        name=name,
        key=name_key(name),
        variants=[name],
        kind="programme",
        mentions=[mention],
        partners=[Fact(v, ["c1"], [source]) for v in partners],
        funders=[Fact(v, ["c1"], [source]) for v in funders],
        places=[Fact(v, ["c1"], [source]) for v in places],
        dates=[StatedDate(source, 2020, year, None, "c1", mention.sentence) for year in starts],
    )


def entry(name: str, importance: str = "minor", **fields: object) -> dict:
    return {"name": name, "variants": [name], "kind": "programme", "importance": importance, **fields}


def gold(*entries: dict, excluded: tuple[str, ...] = ()) -> dict:
    return {
        "programmes": list(entries),
        "partners_checked": [e["name"] for e in entries],
        "excluded": [{"name": n, "reason": "someone else's"} for n in excluded],
    }


def test_names_precision_and_recall_count_matches_excluded_names_and_uncertain_entries() -> None:
    hand = gold(
        entry("Terres Vives", "major"),
        entry("La Passerelle", "major"),
        entry("Atelier Bleu", uncertain=True),
        entry("Carnet Rouge"),
        excluded=("Grand Défi",),
    )
    # "Passerelle" is "La Passerelle" without its article; "Grand Défi" is excluded; "Tour de Garde" is unknown.
    found = [programme("Terres Vives"), programme("Passerelle"), programme("Grand Défi"), programme("Tour de Garde")]
    result = cq.score(found, hand)
    names = result["names"]
    assert names["precision"] == 0.5  # 2 of 4 extracted are gold programmes
    assert names["recall_all"] == 0.5  # 2 of 4 gold entries found
    assert names["recall_certain"] == 0.667  # 2 of the 3 certain entries
    assert names["recall_major"] == 1.0
    assert names["n"] == {
        "right": 2, "extracted": 4, "found": 2, "gold": 4,
        "found_certain": 2, "certain": 3, "found_major": 2, "major": 2,
    }  # fmt: skip
    assert result["wrong_names"] == [
        {"name": "Grand Défi", "excluded_by_gold": True},
        {"name": "Tour de Garde", "excluded_by_gold": False},
    ]
    assert result["missed_major"] == []


def test_partners_include_funders_and_bodies_match_by_their_distinctive_words() -> None:
    hand = gold(
        entry(
            "Terres Vives",
            partners=["Ville de Lyon", "ADEME"],
            funders=["Fondation de France"],
            places=["Lyon"],
        )
    )
    found = [
        programme(
            "Terres Vives",
            partners=("Lyon", "Cerema"),  # `Lyon` is the `Ville de Lyon`; the Cerema is not a partner
            funders=("Fondation de France",),
            places=("Lyon", "Paris"),
        )
    ]
    result = cq.score(found, hand)
    assert result["partners"] == {"precision": 0.667, "recall": 0.667, "tp": 2, "fp": 1, "fn": 1}
    assert result["funders"] == {"precision": 1.0, "recall": 1.0, "tp": 1, "fp": 0, "fn": 0}
    assert result["places"] == {"precision": 0.5, "recall": 1.0, "tp": 1, "fp": 1, "fn": 0}


def test_dates_are_programme_year_pairs_over_the_programmes_found() -> None:
    hand = gold(
        entry("Terres Vives", starts=[2011]),
        entry("La Passerelle", starts=[2019]),
        entry("Carnet Rouge", starts=[2015]),  # not found: its date counts nowhere
    )
    found = [programme("Terres Vives", starts=(2011, 2016)), programme("La Passerelle")]
    assert cq.score(found, hand)["dates"] == {"precision": 0.5, "recall": 0.5, "tp": 1, "fp": 1, "fn": 1}
    # A list that states no start (evals/programmes_gold.json) is not scored on dates.
    assert "dates" not in cq.score(found, gold(entry("Terres Vives")))


def test_the_micro_average_sums_counts_instead_of_averaging_ratios() -> None:
    one = cq.score([programme("Terres Vives")], gold(entry("Terres Vives", starts=[]), entry("Carnet Rouge")))
    other = cq.score(
        [programme("Atelier Bleu"), programme("Tour de Garde"), programme("Grand Défi")],
        gold(entry("Atelier Bleu", starts=[])),
    )
    total = cq.micro_average([one, other])
    assert total["names"]["precision"] == 0.5  # (1 + 1) / (1 + 3), where the mean of 1.0 and 0.333 is 0.667
    assert total["names"]["recall_all"] == 0.667  # (1 + 1) / (2 + 1)
    assert total["names"]["n"]["extracted"] == 4
    assert set(total) == {"names", "publications", "partners", "funders", "places", "dates"}


def test_the_union_merges_each_programme_across_publications() -> None:
    by_publication = {
        "publications": {
            "a.txt": {
                "programmes": [entry("Terres Vives", partners=["Ville de Lyon"], starts=[2011])],
                "excluded": [{"name": "Passerelle", "reason": "someone else's, here"}],
            },
            "b.txt": {
                "programmes": [
                    {**entry("Terres Vives", "major", partners=["ville de Lyon", "ADEME"], starts=[2016]),
                     "variants": ["TERRES VIVES", "Vives"]},
                    entry("La Passerelle", uncertain=True),
                ],
                "excluded": [{"name": "Grand Défi", "reason": "an event"}],
            },
        }
    }  # fmt: skip
    union = cq.union_gold(by_publication, ["a.txt", "b.txt"])
    vives, passerelle = union["programmes"]
    assert vives["publications"] == ["a.txt", "b.txt"]
    assert vives["variants"] == ["Terres Vives", "Vives"]  # `TERRES VIVES` is `Terres Vives`, case aside
    assert vives["partners"] == ["Ville de Lyon", "ADEME"]  # `ville de Lyon` is the same body
    assert vives["starts"] == [2011, 2016]
    assert vives["importance"] == "major" and not vives["uncertain"]
    assert passerelle["uncertain"]
    # A name one publication excludes but another's programme bears is no false positive of the union.
    assert [e["name"] for e in union["excluded"]] == ["Grand Défi"]
    assert union["partners_checked"] == ["Terres Vives", "La Passerelle"]


def test_a_catalogue_read_in_one_publication_keeps_what_was_read_there() -> None:
    both = programme("Terres Vives", source="a.txt", partners=("ADEME",), starts=(2011,))
    both.mentions.append(Mention("c2", "b.txt", 2022, "Terres Vives continue."))
    both.partners.append(Fact("Cerema", ["c2"], ["b.txt"]))
    both.dates.append(StatedDate("b.txt", 2022, 2016, None, "c2", "Terres Vives, relancé en 2016."))
    only_a = programme("Carnet Rouge", source="a.txt")
    [read] = cq.as_read_in([both, only_a], "b.txt")
    assert [m.source for m in read.mentions] == ["b.txt"]
    assert [f.value for f in read.partners] == ["Cerema"]
    assert [d.start for d in read.dates] == [2016]
    assert [f.value for f in both.partners] == ["ADEME", "Cerema"]  # the catalogue itself is left as it was


PUBLICATIONS = {
    "rapport-a.txt": """
        Terres Vives

        Terres Vives est un programme de recherche-action lancé en 2021, mené en partenariat avec la Ville de
        Lyon et la Fondation de France. Terres Vives a réuni une dizaine de collectivités.
        """,
    "rapport-b.txt": """
        La Passerelle

        La Passerelle est un programme de formation des agents publics initié en 2019 avec la Région Bretagne.
        La Passerelle a formé cent agents. Terres Vives reste notre programme phare.
        """,
}
CATALOGUE_CSV = """file,title,kind,year,language,publisher
rapport-a.txt,Rapport A,rapport d'activité,2022,fr,Exemple
rapport-b.txt,Rapport B,rapport d'activité,2023,fr,Exemple
"""


def test_the_split_builds_one_catalogue_per_publication_from_its_chunks_alone(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", PUBLICATIONS, CATALOGUE_CSV)
    chunks, skipped = cq.publication_chunks(corpus, Settings.from_env())
    assert sorted(chunks) == ["rapport-a.txt", "rapport-b.txt"] and skipped == []
    assert all(c.source == source for source, own in chunks.items() for c in own)
    catalogues = cq.catalogues_by_publication(chunks, corpus / "catalogue.csv")
    names = {source: sorted(p.name for p in cat.programmes) for source, cat in catalogues.items()}
    # Terres Vives is defined in rapport-a only: rapport-b alone names it once, in passing.
    assert names == {"rapport-a.txt": ["Terres Vives"], "rapport-b.txt": ["La Passerelle"]}
    for source, catalogue in catalogues.items():
        assert all(p.sources == [source] for p in catalogue.programmes)


def test_leave_one_out_scores_each_publication_and_the_whole_corpus(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", PUBLICATIONS, CATALOGUE_CSV)
    by_publication = {
        "publications": {
            "rapport-a.txt": {"programmes": [entry("Terres Vives", "major", starts=[2021])]},
            "rapport-b.txt": {
                "programmes": [entry("La Passerelle", "major", starts=[2019]), entry("Terres Vives", "minor")]
            },
        }
    }
    result = cq.leave_one_out(corpus, by_publication, Settings.from_env())
    a, b = result["publications"]["rapport-a.txt"], result["publications"]["rapport-b.txt"]
    assert a["names"]["recall_all"] == 1.0 and a["dates"]["recall"] == 1.0
    assert b["names"]["n"]["found"] == 1 and b["names"]["recall_major"] == 1.0  # Terres Vives missed there alone
    assert result["left_out"]["names"]["recall_all"] == 0.667  # 2 of the 3 (programme, publication) entries
    # Together, rapport-a's definition lets rapport-b's passing mention count: that is the in-sample advantage.
    assert result["in_sample"]["names"]["recall_all"] == 1.0
    assert result["in_sample_by_publication"]["micro_average"]["names"]["recall_all"] == 1.0
    assert result["recall_gap_by_publication"]["names_all"] == 0.333
    assert "rapport-b.txt" in cq.loo_markdown({"date": "today", "command": "test", **result})


def test_the_corpus_catalogue_meets_the_issue_target_on_publications_it_was_not_written_from() -> None:
    # Issue 16: names and partners precision >= 0.85 left out, every recall within 0.10 of in-sample (against the
    # union and read per publication). Before: partners precision 0.835, names recall gaps 0.118 to 0.139.
    by_publication = json.loads((REPO / "evals" / "programmes_gold_by_publication.json").read_text(encoding="utf-8"))
    result = cq.leave_one_out(REPO / "corpus", by_publication, Settings.from_env())
    left = result["left_out"]
    assert left["names"]["precision"] >= 0.85
    assert left["partners"]["precision"] >= 0.85
    for gap in (result["recall_gap"], result["recall_gap_by_publication"]):
        assert all(g is None or g <= 0.10 for g in gap.values()), gap
    assert cq._target(result) == "met"


def _checker():  # type: ignore[no-untyped-def]
    """evals/check_programmes_gold.py: the gold lists' own normalisation, standalone on purpose."""
    spec = importlib.util.spec_from_file_location("check_programmes_gold", REPO / "evals" / "check_programmes_gold.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def checked() -> tuple[dict, dict, object]:
    check = _checker()
    texts, _ = check.load_corpus(REPO / "corpus")
    return json.loads(GOLD_BY_PUBLICATION.read_text(encoding="utf-8")), texts, check


def test_the_per_publication_gold_has_a_well_formed_list_for_every_publication(checked) -> None:  # type: ignore[no-untyped-def]
    data, texts, _ = checked
    assert data["description"].strip()
    assert sorted(data["publications"]) == sorted(texts)
    for source, listed in data["publications"].items():
        names = [p["name"] for p in listed["programmes"]]
        assert len(names) == len(set(names)), source
        for p in listed["programmes"]:
            assert p["kind"] in ("programme", "projet", "réseau") and p["importance"] in ("major", "minor"), p["name"]
            assert all(isinstance(y, int) and 1990 <= y <= 2100 for y in p["starts"]), p["name"]
            assert p["variants"] and "name" in p["evidence"], p["name"]
            assert not p.get("uncertain") or p.get("note"), f"{p['name']}: an uncertain entry says why in a note"


def test_every_quote_variant_and_fact_of_the_per_publication_gold_is_in_its_publication(checked) -> None:  # type: ignore[no-untyped-def]
    data, texts, check = checked
    missing = []
    for source, listed in data["publications"].items():
        text = texts[source]
        words = f" {text[0]} "
        for p in listed["programmes"]:
            for field, quotes in p["evidence"].items():
                for quote in [quotes] if isinstance(quotes, str) else quotes:
                    if not check.found(quote, text):
                        missing.append(f"{source} {p['name']} {field}: {quote[:80]!r}")
            missing += [
                f"{source} {p['name']} variant {v!r}" for v in p["variants"] if not check.found(v, text, words=True)
            ]
            for field in ("partners", "funders", "places"):
                for value in p[field]:
                    # Every word of three letters or more: the OCR spellings of a report ("I'Etat") keep the rest.
                    absent = [w for w in check.normalise(value).split() if len(w) >= 3 and f" {w} " not in words]
                    if absent:
                        missing.append(f"{source} {p['name']} {field} {value!r}: {absent}")
    assert not missing, "\n".join(missing)
