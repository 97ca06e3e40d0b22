"""The facade on a tiny corpus: the JSON contract, citations, refusals, follow-ups, streaming order."""

from __future__ import annotations

import pytest
from conftest import build_assistant as build

from assistant27.assistant import Assistant, PassagesFound, Token
from assistant27.config import Settings
from assistant27.errors import IndexMissingError, QuestionError
from assistant27.generators import ExtractiveGenerator, ScriptedGenerator
from assistant27.schema import Answer
from assistant27.store import Filters


def test_json_contract(settings: Settings) -> None:
    answer = build(settings, ExtractiveGenerator()).ask("Quelles collectivités ont participé à Nouveaux Accords ?")
    data = answer.to_json()
    assert set(data) >= {"question", "answer", "refused", "citations", "passages", "timings"}
    assert set(data["timings"]) >= {"retrieval_s", "first_token_s", "total_s"}
    assert data["refused"] is False
    assert "Dunkerque" in data["answer"]
    assert data["citations"] and set(data["citations"][0]) >= {"n", "source", "title", "year", "page", "text"}
    assert "Dunkerque" in data["citations"][0]["text"]
    assert [p["rank"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))
    assert set(data["passages"][0]) >= {"rank", "source", "title", "year", "page", "text", "score"}


def test_generated_markers_map_to_real_passages(settings: Settings) -> None:
    scripted = ScriptedGenerator(["La Communauté urbaine de Dunkerque a participé à Nouveaux Accords [1] [9]."])
    answer = build(settings, scripted).ask("Qui a participé à Nouveaux Accords ?")
    assert "[9]" not in answer.answer and "[1]" in answer.answer
    assert "Dunkerque" in answer.citations[0].passage.text
    prompt = scripted.requests[0].messages[-1]["content"]
    assert "[1]" in prompt and "Nouveaux Accords" in prompt


def test_list_questions_about_programmes_are_answered_from_the_catalogue(settings: Settings) -> None:
    scripted = ScriptedGenerator(["never used"])
    assistant = build(settings, scripted)
    answer = assistant.ask("Quels partenaires pour Nouveaux Accords ?")
    assert answer.generator == "catalogue" and not scripted.requests
    items = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert any("Dunkerque" in line for line in items) and any("Vitry" in line for line in items)
    for line in items:  # every item cited, every citation a real passage that names the item
        n = int(line.rsplit("[", 1)[1].rstrip("]"))
        name = line[2:].split(" [")[0].split()[-1]
        assert name in answer.citations[n - 1].passage.text
    data = answer.to_json()
    assert data["citations"][0]["quote"] and data["citations"][0]["quote"] in data["citations"][0]["text"]
    assert [p["rank"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))
    # The catalogue was saved next to the index, and is reused while the index does not change.
    assert (settings.index_dir / "programmes.json").exists()
    assert Assistant(assistant.settings, assistant.store, assistant.embedder, scripted).catalogue.programmes


def test_unanswerable_question_is_refused_with_pointers(settings: Settings) -> None:
    scripted = ScriptedGenerator(["Les publications ne répondent pas à cette question."])
    answer = build(settings, scripted).ask("Quel est le budget du programme de cuisine moléculaire à Tokyo ?")
    assert answer.refused and answer.citations == []
    assert answer.passages  # the closest passages are still listed as pointers


def test_a_name_no_passage_holds_is_refused_before_generating(settings: Settings) -> None:
    """'la Ville de Nice', 'le numéro SIRET', 'en 2030': no passage found names it, so the passages cannot answer."""
    scripted = ScriptedGenerator(["never used"])
    assistant = build(settings, scripted)
    for question, name in [
        ("Quel programme avons-nous mené avec la Ville de Nice ?", "Nice"),
        ("Quel est le numéro SIRET de Nouveaux Accords ?", "SIRET"),
        ("Qui a participé à Nouveaux Accords en 2030 ?", "2030"),
    ]:
        answer = assistant.ask(question)
        assert answer.refused and answer.citations == [] and answer.passages, question
        assert answer.answer.endswith(f"ne nomme : {name}."), answer.answer
    assert not scripted.requests
    english = assistant.ask("Which towns took part in Nouveaux Accords in 2031?")
    assert english.refused and english.answer.endswith("names: 2031.")


def test_follow_up_uses_the_conversation(settings: Settings) -> None:
    assistant = build(settings, ExtractiveGenerator())
    history = [
        {"role": "user", "content": "Quel programme porte sur les forêts ?"},
        {"role": "assistant", "content": "Le programme Forêts [1]."},
    ]
    answer = assistant.ask("et en 2025 ?", history)
    assert answer.passages[0].source == "rapport-2025.txt"


def test_stream_shows_passages_before_the_first_token(settings: Settings) -> None:
    events = list(
        build(settings, ScriptedGenerator(["Dunkerque participe à Nouveaux Accords [1]."])).ask_stream(
            "Qui participe à Nouveaux Accords ?"
        )
    )
    assert isinstance(events[0], PassagesFound)
    assert isinstance(events[1], Token)
    assert isinstance(events[-1], Answer) and events[-1].timings.first_token_s is not None


def test_filters_restrict_passages(settings: Settings) -> None:
    passages = build(settings, ExtractiveGenerator()).search("programme", Filters(year_min=2025))
    assert passages and {p.year for p in passages} == {2025}


def test_empty_question_and_missing_index_are_clear_errors(settings: Settings) -> None:
    with pytest.raises(QuestionError, match="empty"):
        build(settings, ExtractiveGenerator()).ask("   ")
    with pytest.raises(IndexMissingError, match="assistant27 ingest"):
        Assistant.from_settings(settings.replace(index_dir=settings.index_dir / "nothing"))


def test_the_extractive_generators_weigh_sentences_with_the_embedder(settings: Settings) -> None:
    """Each request carries the embedder's similarity, which the extractive generator weighs sentences with (see
    test_extractive); nothing is set on the generator itself."""
    question = "Quand le programme Nouveaux Accords a-t-il démarré ?"
    embedded = {}
    for name, generator in {"words only": ExtractiveGenerator(dense_weight=0), "meaning": ExtractiveGenerator()}.items():
        assistant = build(settings, generator)
        before = assistant.embedder.embedded
        answer = assistant.ask(question)
        assert answer.generator == "extractive" and generator.similarity is None
        embedded[name] = assistant.embedder.embedded - before
    assert embedded["meaning"] > embedded["words only"]  # the candidate sentences were embedded
