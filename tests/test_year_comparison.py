"""Questions that name several years: each year's publications searched and answered on their own, side by side."""

from __future__ import annotations

from conftest import SMALL_CORPUS, write_corpus
from conftest import build_assistant as build

from assistant27.assistant import Token
from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator, LlamaServerGenerator, ScriptedGenerator
from assistant27.refusal import MODEL_REFUSAL
from assistant27.schema import Answer
from assistant27.store import Filters
from assistant27.year_comparison import OTHER_YEARS, compared_years, year_query

YEARS = {2014, 2019, 2022, 2024, 2025}


def test_the_years_a_question_compares() -> None:
    assert compared_years("Qui soutenait La 27e Région en 2014, et qui en 2019 ?", YEARS) == [2014, 2019]
    assert compared_years("Quelles rencontres avons-nous suivies de 2019 à 2025 ?", YEARS) == [2019, 2022, 2024, 2025]
    assert compared_years("How did it change from 2022 to 2025?", YEARS) == [2022, 2024, 2025]
    assert compared_years("Comment notre participation a-t-elle évolué depuis 2022 ?", YEARS) == [2022, 2024, 2025]
    assert compared_years("Le financement a-t-il changé entre 2022 et 2025 ?", YEARS) == [2022, 2025]
    # One year, years with no publication, or numbers that are not years: nothing to compare.
    assert compared_years("Que s'est-il passé en 2019 ?", YEARS) == []
    assert compared_years("Qu'avons-nous fait en 2012 et en 2019 ?", YEARS) == []
    assert compared_years("Un budget de 2 019,50 euros et 2024 ?", YEARS) == []
    # The user's own year filter narrows the comparison.
    assert compared_years("en 2014, en 2019 et en 2025 ?", YEARS, Filters(year_min=2019)) == [2019, 2025]
    assert (
        year_query("Qui soutenait La 27e Région en 2014, et qui en 2019 ?")
        == "Qui soutenait La 27e Région en , et qui en ?"
    )


def test_each_year_is_answered_from_its_own_publications(settings: Settings) -> None:
    scripted = ScriptedGenerator(
        [
            "La Ville de Vitry-le-François a participé à Nouveaux Accords [1].",
            "La Région Grand Est a participé au programme Forêts [1].",
        ]
    )
    events = list(build(settings, scripted).ask_stream("Quelles Régions ont été réunies en 2022 et en 2025 ?"))
    assert [{p.year for p in r.passages} for r in scripted.requests] == [{2022}, {2025}]
    streamed = "".join(e.text for e in events if isinstance(e, Token))
    assert streamed.lstrip().startswith("2022 : La Ville") and "\n2025 : La Région" in streamed
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert not answer.refused
    lines = answer.answer.splitlines()
    assert lines[0].startswith("- 2022 (Rapport d'activité 2022)") and "Vitry" in lines[0] and lines[0].endswith("[1].")
    assert lines[1].startswith("- 2025 (Rapport d'activité 2025)") and "Grand Est" in lines[1] and "[2]" in lines[1]
    # Citations numbered across the whole answer, each pointing to a passage of its year.
    assert [(c.n, c.passage.year) for c in answer.citations] == [(1, 2022), (2, 2025)]
    assert "Grand Est" in answer.citations[1].passage.text
    # The passages shown take each year in turn, ranked again from 1.
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    assert {p.year for p in answer.passages[:2]} == {2022, 2025}


def test_a_year_that_does_not_answer_says_so_and_no_year_means_a_refusal(settings: Settings) -> None:
    assistant = build(
        settings,
        ScriptedGenerator(["La Ville de Vitry-le-François a participé à Nouveaux Accords [1].", MODEL_REFUSAL["fr"]]),
    )
    answer = assistant.ask("Quelles Régions ont été réunies en 2025 et en 2022 ?")
    assert not answer.refused
    assert answer.answer.splitlines()[1] == "- 2025 : les publications de 2025 ne le disent pas."
    assert [c.passage.year for c in answer.citations] == [2022]
    assistant = build(settings, ScriptedGenerator([MODEL_REFUSAL["fr"], MODEL_REFUSAL["fr"]]))
    refused = assistant.ask("Quelles Régions ont été réunies en 2022 et en 2025 ?")
    assert refused.refused and not refused.citations


def test_the_extractive_generator_answers_each_year(settings: Settings) -> None:
    answer = build(settings, ExtractiveGenerator()).ask("Que disent les rapports de 2022 et 2025 sur la Région ?")
    data = answer.to_json()
    assert not data["refused"]
    assert {c["year"] for c in data["citations"]} == {2022, 2025}
    assert data["answer"].startswith("- 2022") and "\n- 2025" in data["answer"]


def test_a_timeline_gets_the_years_the_catalogue_lacks_from_their_passages(settings: Settings) -> None:
    # The 2025 report speaks of the accords without naming the programme: the catalogue's timeline stops in 2022.
    files = dict(SMALL_CORPUS)
    files["rapport-2025.txt"] += (
        "\n\nEn 2025, les nouveaux accords ont été évalués avec la Ville de Vitry-le-François.\n"
    )
    write_corpus(settings.corpus_dir, files)
    scripted = ScriptedGenerator(
        ["En 2025, les nouveaux accords ont été évalués avec la Ville de Vitry-le-François [1]."]
    )
    answer = build(settings, scripted).ask("Comment Nouveaux Accords a-t-il évolué de 2022 à 2025 ?")
    assert answer.generator == "catalogue"
    # The catalogue's timeline has 2022; 2025 comes from the 2025 publication's passages, through the generator.
    assert [{p.year for p in r.passages} for r in scripted.requests] == [{2025}]
    text = answer.answer
    assert text.index("- 2022") < text.index(OTHER_YEARS["fr"]) < text.index("- 2025 (Rapport d'activité 2025)")
    last = answer.citations[-1]
    assert last.passage.year == 2025 and f"[{last.n}]" in text.splitlines()[-1]
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_with_the_local_model_each_year_is_quoted_without_loading_it(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One generation a year is minutes with the small local model, and its parts were worse than quotes: the
    parts are the extractive generator's, and the answer says so."""
    weights = tmp_path / "model.gguf"
    weights.write_bytes(b"")  # never read: the model loads on its first generation only
    local = LlamaServerGenerator(weights)
    data = build(settings, local).ask("Que disent les rapports de 2022 et 2025 sur la Région ?").to_json()
    assert not data["refused"] and data["generator"] == "extractive"
    assert data["answer"].startswith("- 2022") and "\n- 2025" in data["answer"]
    assert not local.started
