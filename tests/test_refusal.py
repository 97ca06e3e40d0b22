"""The one answerability decision: answered, refused as absent, refused as unverified; the kind a question asks."""

from __future__ import annotations

from dataclasses import replace

from conftest import build_assistant, passage

from assistant27.assistant import Assistant
from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator, ScriptedGenerator
from assistant27.kinds import DATE
from assistant27.refusal import (
    ABSENT,
    MODEL_REFUSAL,
    UNVERIFIED,
    Decision,
    after_answer,
    assess,
    best_support,
    decide,
    is_refusal,
    without_refusals,
)


def test_best_support_prefers_a_sentence_holding_the_kind() -> None:
    texts = ["Le programme Horizons réunit des villes. Il a commencé en mars 2031 avec trois villes."]
    support = best_support("Quand le programme Horizons a-t-il commencé ?", texts)
    assert support.kind == DATE and support.typed and "2031" in support.sentence


def build(settings: Settings) -> Assistant:
    return build_assistant(settings, ExtractiveGenerator())


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
    question = "Qui participe à Nouveaux Accords ?"
    assistant = build_assistant(settings, ScriptedGenerator(["Nouveaux Accords est un programme de recherche-action sur le contrat de ville [1]."]))
    vague = assistant.ask(question).to_json()
    assert vague["refused"] is True and vague["refusal"] == UNVERIFIED, vague["answer"]
    assert vague["generated"].startswith("Nouveaux Accords est un programme")
    assistant = build_assistant(settings, ScriptedGenerator(["Il est mené avec la Ville de Vitry-le-François et la Communauté urbaine de Dunkerque [1]."]))
    named = assistant.ask(question).to_json()
    assert named["refused"] is False and "Dunkerque" in named["answer"]


def test_after_answer_keeps_answers_of_no_particular_kind() -> None:
    support = best_support("Qu'est-ce que Nouveaux Accords ?", ["Nouveaux Accords est un programme."])
    answered = Decision(None, 0.5, "answerable", support)
    assert after_answer("Qu'est-ce que Nouveaux Accords ?", "Un programme de recherche-action [1].", answered) is answered


def test_an_answer_about_a_year_the_cited_passages_never_reach_is_refused_as_unverified() -> None:
    """« … en 2031 ? » answered from a 2022 report that does not name 2031: it speaks of the subject in another year.
    A passage of that year, or one that names it (« prévu en 2031 »), answers."""
    question = "Quels résultats le programme Exemple a-t-il obtenus en 2031 ?"
    support = best_support(question, ["Le programme Exemple a réuni des élus."])
    answered = Decision(None, 0.5, "answerable", support)
    other_year = passage(1, "Le programme Exemple a réuni des élus et des habitants.")
    after = after_answer(question, "Le programme Exemple a réuni des élus [1].", answered, [other_year])
    assert after.refusal == UNVERIFIED and "2031" in after.reason
    names_it = passage(1, "Le programme Exemple publiera ses résultats en 2031.")
    assert after_answer(question, "Ses résultats en 2031 [1].", answered, [names_it]) is answered
    of_that_year = replace(other_year, year=2031)
    assert after_answer(question, "Le programme Exemple a réuni des élus [1].", answered, [of_that_year]) is answered


def test_refusal_detection() -> None:
    assert is_refusal("Les publications ne répondent pas à cette question.")
    assert is_refusal("Les extraits ne mentionnent pas ce budget.")
    assert is_refusal("The publications do not answer this question.")
    assert is_refusal(MODEL_REFUSAL["fr"]) and is_refusal(MODEL_REFUSAL["en"])
    assert is_refusal("Les extraits ne précisent pas le budget [2]. Ils ne mentionnent pas de chiffre.")
    assert not is_refusal("Nouveaux Accords associe Dunkerque [1].")
    assert not is_refusal("")


def test_a_partial_refusal_is_an_answer() -> None:
    assert not is_refusal("Les extraits ne précisent pas la date exacte, mais le programme a commencé en 2022 [1].")
    assert not is_refusal("Les extraits ne mentionnent pas le budget. Le programme associe Dunkerque [1].")
    assert not is_refusal("The excerpts do not say when, but Dunkerque took part [1].")


def test_a_question_echoed_before_a_refusal_is_still_a_refusal() -> None:
    assert is_refusal(
        "Quels enseignements tire-t-elle de 2025 ? [1] Les publications ne répondent pas à cette question."
    )


def test_refusal_sentences_are_taken_out_of_an_answer() -> None:
    text = "Les extraits ne mentionnent pas le budget. Le programme associe Dunkerque [1].\n- Vitry [1]"
    assert without_refusals(text) == "Le programme associe Dunkerque [1].\n- Vitry [1]"
    kept = "Les extraits ne précisent pas la date, mais le programme a commencé en 2022 [1]."
    assert without_refusals(kept) == kept


def test_english_questions_pass_the_gate_at_a_lower_dense_similarity() -> None:
    """Cross-language similarity runs lower: 0.82 passes for an English question, not for a French one."""
    context = [passage(1, "Nouveaux Accords associe Dunkerque et Vitry-le-François.", dense=0.82)]
    english = assess("Which cities took part in Nouveaux Accords?", context, min_coverage=0.5, min_dense=0.86)
    french = assess("Quel est le budget du siège ?", context, min_coverage=0.5, min_dense=0.86)
    assert english.answerable and not french.answerable
    off_topic = assess("What is the capital of Japan?", [passage(1, "x", dense=0.77)], min_coverage=0.5, min_dense=0.86)
    assert not off_topic.answerable
    assert not assess("Quoi ?", [], min_coverage=0.5, min_dense=0.86).answerable


def test_the_nth_edition_asked_about_must_be_named_by_a_passage() -> None:
    """« la 2e édition » asked, passages about the first one only: they speak of it, none states what is asked."""
    first = [passage(1, "La première édition du forum s'est tenue le 4 mars 2031 à Valcourt.", dense=0.9)]
    second = "La 2e édition du forum, c'était quand ?"
    decided = decide(second, first, first, min_coverage=0.5, min_dense=0.86, language="fr")
    assert decided.refusal == UNVERIFIED and "ordinal" in decided.reason
    both = [*first, passage(2, "La deuxième édition du forum a eu lieu en mai 2032.", dense=0.9)]
    assert decide(second, both, both, min_coverage=0.5, min_dense=0.86, language="fr").answerable


def test_a_role_asked_for_is_refused_when_the_passages_name_no_one() -> None:
    """The first example of issue 16: a chair asked for, a passage about a programme and regions found."""
    found = [passage(1, "Le programme Horizons a été initié en 2031 par l'association avec la Région Exemple, "
                        "Valcourt et Montagne.", dense=0.9)]
    question = "Qui préside le conseil d'administration de l'association ?"
    decided = decide(question, found, found, min_coverage=0.5, min_dense=0.86, language="fr")
    assert decided.refusal == UNVERIFIED
    named = [passage(1, "Le conseil d'administration de l'association est présidé par Camille Martin.", dense=0.9)]
    assert decide(question, named, named, min_coverage=0.5, min_dense=0.86, language="fr").answerable
