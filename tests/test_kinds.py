"""The kind of thing a question asks for, and whether a sentence or an answer holds one."""

from __future__ import annotations

import pytest

from assistant27.kinds import AMOUNT, COUNT, DATE, PERSON, PLACE, answer_holds_kind, asked_kind, holds_kind


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


def test_an_answer_that_holds_nothing_of_the_kind_asked_does_not_answer() -> None:
    who = "c ki le vice président de l'association ?"
    assert not answer_holds_kind(who, "Depuis sa création, l'association entend jouer le rôle de laboratoire [1].")
    assert answer_holds_kind(who, "Le vice-président est Camille Martin [2].")
    much = "How much did the foundation give in 2031?"
    assert not answer_holds_kind(much, "The foundation has supported the programme since 2031 [1].")
    assert answer_holds_kind(much, "The foundation gave 25 000 € [1].")
    # The citation markers are no count: « [3] » answers no « how many ».
    assert not answer_holds_kind("How many employees in 2031?", "The team of the association [3].")
    assert answer_holds_kind("Qu'est-ce que le programme ?", "Un programme de recherche-action [1].")
