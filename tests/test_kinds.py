"""The kind of thing a question asks for, and whether a sentence or an answer holds one."""

from __future__ import annotations

import pytest

from assistant27.kinds import (
    AMOUNT,
    COUNT,
    DATE,
    PERSON,
    PLACE,
    answer_holds_kind,
    asked_kind,
    asked_kinds,
    asked_ordinals,
    holds_kind,
    holds_ordinal,
    states_amount_of_subject,
)


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


def test_someone_asked_for_in_a_role_is_a_persons_name_not_any_capitalised_word() -> None:
    """« Qui préside … ? » was answered with a sentence about a programme: its capitalised words (a programme, a
    region, a city) passed for a person's name."""
    chair = "Qui préside le conseil d'administration de l'association ?"
    assert not holds_kind("L'association a lancé le programme Horizons avec la Région Exemple et Valcourt.", PERSON, chair)
    assert holds_kind("Le conseil d'administration est présidé par Camille Martin.", PERSON, chair)
    assert holds_kind("Le conseil d'administration est présidé par Camille MARTIN depuis 2031.", PERSON, chair)
    assert not holds_kind("Le conseil d'administration est présidé par la Fondation Exemple.", PERSON, chair)
    # A first name of the question does not answer « her surname ».
    surname = "c koi le nom de famille de camille, la directrice des finances ?"
    assert not holds_kind("C'est Camille, directrice des finances, qui nous a ouvert.", PERSON, surname)
    # « Qui finance » asks for organisations as often as for people: any new name still answers.
    assert holds_kind("Le programme est soutenu par la Fondation Exemple.", PERSON, "Qui finance le programme ?")
    assert not answer_holds_kind("c ki le trésorier de l'association ?", "Le programme Horizons réunit Valcourt [1].")


def test_a_count_counts_the_thing_asked() -> None:
    """« Combien de salariés ? » was answered by any number: a count of events, a page number, « 3 jours »."""
    staff = "Combien de salariés compte l'association en 2031 ?"
    assert not holds_kind("L'association a accueilli 12 événements en 2031.", COUNT, staff)
    assert holds_kind("L'association compte 10 salariés à temps plein.", COUNT, staff)
    assert holds_kind("L'équipe compte une quinzaine de salarié·es.", COUNT, staff)
    assert holds_kind("Total des salariés (14) au 31 décembre.", COUNT, staff)
    assert holds_kind("Nous avons interviewé une quinzaine d'agents.", COUNT, "Combien d'agents ont été interviewés ?")
    assert not holds_kind("En 2031, les agents ont été interviewés.", COUNT, "Combien d'agents ont été interviewés ?")
    # How long: a duration, not any number.
    how_long = "un atelier ça dure cb de temps ?"
    assert holds_kind("Il s'agit d'un atelier de 2h30 réunissant une dizaine de personnes.", COUNT, how_long)
    assert holds_kind("La formation a duré six mois.", COUNT, "La formation a duré combien de temps ?")
    assert not holds_kind("L'atelier réunit 12 personnes.", COUNT, how_long)
    # Nothing named as counted (« à combien »), or an English question over French passages: any number.
    assert holds_kind("Le jeu se joue de 3 à 9 joueurs.", COUNT, "on y joue à combien ?")
    assert holds_kind("L'équipe compte 7 personnes.", COUNT, "How many employees in 2031?")


def test_an_amount_may_be_written_in_words() -> None:
    assert asked_kind("Combien d'argent a été consacré aux programmes ?") == AMOUNT
    assert holds_kind("Un à deux milliards d'euros ont été consacrés aux programmes.", AMOUNT, "Combien d'argent ?")


def test_the_ordinals_a_question_asks_about() -> None:
    assert asked_ordinals("la 2e edition du forum c quand ?") == {2}
    assert asked_ordinals("Quel était le thème du troisième atelier ?") == {3}
    assert asked_ordinals("What was the theme of the 3rd week?") == {3}
    # « la 27e Région » is a name; the first edition is left out (« le premier » is as often « the main one »).
    assert asked_ordinals("Qui dirige la 27e Région ?") == set()
    assert asked_ordinals("Quand a eu lieu la première édition ?") == set()
    assert holds_ordinal("La deuxième édition s'est tenue à Valcourt.", 2)
    assert holds_ordinal("La 2ème édition", 2) and holds_ordinal("il fête ses 5 ans", 5)
    assert not holds_ordinal("La première édition s'est tenue en 2032.", 2)


def test_a_compound_question_asks_for_each_of_its_parts_kinds() -> None:
    """« Où et quand » is answered by a place or a date; « Qu'est-ce que X, et quand » by any sentence (its first
    part asks for no particular kind), so neither check refuses a definition that holds no date."""
    assert asked_kinds("Où et quand s'est tenue l'assemblée ?") == [
        ("Où s'est tenue l'assemblée ?", PLACE),
        ("quand s'est tenue l'assemblée ?", DATE),
    ]
    question = "Où et quand s'est tenue l'assemblée ?"
    assert holds_kind("L'assemblée s'est tenue en juin.", asked_kind(question), question)
    assert holds_kind("L'assemblée s'est tenue à la Maison Exemple.", asked_kind(question), question)
    assert not holds_kind("L'assemblée a réuni les adhérents.", asked_kind(question), question)
    assert asked_kind("Qu'est-ce que le programme Exemple, et quand a-t-il démarré ?") is None
    assert asked_kind("Quand a-t-il démarré ?") == DATE


def test_an_amount_must_be_stated_of_what_is_asked() -> None:
    """« le salaire du directeur »: a line of the accounts holding « salaires » and an amount is not his salary; the
    publisher's name, which nearly every passage holds, tells nothing."""
    question = "Quel est le salaire du directeur de l'Association Exemple ?"
    accounts = "Impôts sur les salaires et formation professionnelle 16 000 € [1]."
    assert answer_holds_kind(question, accounts)
    assert not states_amount_of_subject(question, accounts, ("Association Exemple",))
    assert states_amount_of_subject(question, "Le directeur perçoit un salaire de 3 000 € [1].", ("Association Exemple",))
    assert states_amount_of_subject("Quel est le budget ?", accounts)  # nothing asked beyond the amount


def test_what_an_amount_is_of_is_said_near_it() -> None:
    """A table's lines run on without a stop: a word of the question far from every amount does not make it his."""
    question = "Quel est le salaire du directeur de l'Association Exemple ?"
    table = "Impôts sur les salaires 16 000 € Total 654 000 € " + "Villes et métropoles • Valcourt • Exempleville " * 6
    assert not states_amount_of_subject(question, table + "journée pour les directeurs d'agences.", ("Association Exemple",))


def test_an_ordinal_is_no_count() -> None:
    """« How many employees did La 27e Exemple have? » was answered by « L'équipe de la 27^e Exemple »: a rank, a
    name or a date (« 1er juin ») counts nothing; a cardinal number does, in figures or in words."""
    staff = "How many employees did La 27e Exemple have in 2031?"
    for ordinal in ("L'équipe de la 27^e Exemple.", "Le 2ème atelier a eu lieu le 1er juin.", "La 3e édition."):
        assert not holds_kind(ordinal, COUNT, staff), ordinal
    for count in ("L'équipe compte 12 personnes.", "Une équipe de 2 000 agents.", "Onze salariés.", "27 membres"):
        assert holds_kind(count, COUNT, staff), count
