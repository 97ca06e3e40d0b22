"""The one answerability decision: answered, refused as absent, refused as unverified; the kind a question asks."""

from __future__ import annotations

from conftest import CountingEmbedder

from assistant27.assistant import Assistant
from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator, ScriptedGenerator
from assistant27.indexing import ingest
from assistant27.kinds import DATE
from assistant27.refusal import ABSENT, UNVERIFIED, Decision, after_answer, best_support
from assistant27.store import ChunkStore


def test_best_support_prefers_a_sentence_holding_the_kind() -> None:
    texts = ["Le programme Horizons réunit des villes. Il a commencé en mars 2031 avec trois villes."]
    support = best_support("Quand le programme Horizons a-t-il commencé ?", texts)
    assert support.kind == DATE and support.typed and "2031" in support.sentence


def build(settings: Settings) -> Assistant:
    store = ChunkStore.open(settings.index_dir, create=True)
    embedder = CountingEmbedder()
    ingest(settings, lambda: embedder, store, echo=lambda _l: None, show_progress=False)
    # The hashing fake's similarities are lower than e5's: loosen the dense refusal floor for it.
    return Assistant(settings.replace(min_dense=0.2), store, embedder, ExtractiveGenerator())


def test_each_refusal_kind_and_an_answer_with_its_confidence(settings: Settings) -> None:
    assistant = build(settings)
    answered = assistant.ask("Qui participe à Nouveaux Accords ?").to_json()
    assert answered["refused"] is False and answered["refusal"] is None
    assert 0.0 < answered["confidence"] <= 1.0

    # The corpus speaks of the programme but gives no amount: passages found, none states what is asked.
    unverified = assistant.ask("Combien a coûté le programme Forêts ?").to_json()
    assert unverified["refused"] is True and unverified["refusal"] == UNVERIFIED
    assert unverified["passages"] and unverified["confidence"] == 0.0
    assert "aucun ne dit ce qui est demandé" in unverified["answer"]

    # A name no passage holds: the publications do not speak of it.
    absent = assistant.ask("Quel programme avec la Ville de Valparaiso ?").to_json()
    assert absent["refused"] is True and absent["refusal"] == ABSENT
    assert "Valparaiso" in absent["answer"]


def test_the_catalogue_answers_only_what_its_facts_hold(settings: Settings) -> None:
    """« How much did the partners pay? » is no partner list: the catalogue holds no amount, the general path
    decides (here: passages found, no amount stated)."""
    assistant = build(settings)
    listed = assistant.ask("Quels partenaires pour Nouveaux Accords ?").to_json()
    assert listed["generator"] == "catalogue" and "Dunkerque" in listed["answer"]
    for question in (
        "Combien ont versé les partenaires de Nouveaux Accords ?",
        "How much did the partners of Nouveaux Accords pay?",
    ):
        priced = assistant.ask(question).to_json()
        assert priced["generator"] != "catalogue", priced["answer"]
        assert priced["refusal"] == UNVERIFIED


def test_an_answer_that_holds_nothing_of_the_kind_asked_is_refused_as_unverified(settings: Settings) -> None:
    """Any generator: passages hold a name, but the written answer names no one for « who »: refused after writing."""
    assistant = build(settings)
    question = "Qui participe à Nouveaux Accords ?"
    assistant.generator = ScriptedGenerator(["Nouveaux Accords est un programme de recherche-action sur le contrat de ville [1]."])
    vague = assistant.ask(question).to_json()
    assert vague["refused"] is True and vague["refusal"] == UNVERIFIED, vague["answer"]
    assert vague["generated"].startswith("Nouveaux Accords est un programme")
    assistant.generator = ScriptedGenerator(["Il est mené avec la Ville de Vitry-le-François et la Communauté urbaine de Dunkerque [1]."])
    named = assistant.ask(question).to_json()
    assert named["refused"] is False and "Dunkerque" in named["answer"]


def test_after_answer_keeps_answers_of_no_particular_kind() -> None:
    support = best_support("Qu'est-ce que Nouveaux Accords ?", ["Nouveaux Accords est un programme."])
    answered = Decision(None, 0.5, "answerable", support)
    assert after_answer("Qu'est-ce que Nouveaux Accords ?", "Un programme de recherche-action [1].", answered) is answered
