"""The one answerability decision: answered, refused as absent, refused as unverified; the kind a question asks."""

from __future__ import annotations

import pytest
from conftest import CountingEmbedder

from assistant27.assistant import Assistant
from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator
from assistant27.indexing import ingest
from assistant27.refusal import (
    ABSENT,
    AMOUNT,
    COUNT,
    DATE,
    PERSON,
    PLACE,
    UNVERIFIED,
    asked_kind,
    best_support,
    holds_kind,
)
from assistant27.store import ChunkStore


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Qui préside le conseil d'administration de l'association ?", PERSON),
        ("c ki le directeur ?", PERSON),
        ("Who chairs the board?", PERSON),
        ("Combien la fondation a-t-elle donné en 2031 ?", AMOUNT),
        ("How much did the ministry give?", AMOUNT),
        ("cb de salariés en 2031 ?", COUNT),
        ("How many cities took part?", COUNT),
        ("Quand le programme a-t-il commencé ?", DATE),
        ("en quelle année a été créée l'agence ?", DATE),
        ("Où se trouve le laboratoire ?", PLACE),
        ("Dans quelle ville a eu lieu la rencontre ?", PLACE),
        ("Qu'est-ce que le programme Horizons ?", None),
        ("Pourquoi travailler avec les usagers ?", None),
    ],
)
def test_the_kind_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_a_sentence_holds_the_kind_asked() -> None:
    q = "Combien la Fondation Exemple a-t-elle donné ?"
    assert holds_kind("La Fondation Exemple a versé 25 000 € en 2031.", AMOUNT, q)
    assert not holds_kind("La Fondation Exemple soutient le programme depuis longtemps.", AMOUNT, q)
    assert holds_kind("Le programme a réuni douze villes.", COUNT, "Combien de villes ?")
    assert holds_kind("Il a commencé en septembre 2031.", DATE, "Quand a-t-il commencé ?")
    # A person's name must be new: the question's own names do not answer « who ».
    who = "Qui dirige la Fondation Exemple ?"
    assert not holds_kind("La Fondation Exemple est née d'un élu et d'un philosophe.", PERSON, who)
    assert holds_kind("La Fondation Exemple est dirigée par Camille Martin.", PERSON, who)


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
