"""The one language detector, year parser and sentence splitter, on the cases that made their copies disagree."""

import pytest

from assistant27.language import detect_language, is_year, question_parts, sentence_ends, sentences_in, years_in


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Who funds Rebonds?", "en"),  # one English word and a French name: the copies said en, fr and fr
        ("Which nine member Regions supported La 27e Région from its beginnings?", "en"),
        ("Which cities did the Enacting the commons team visit in 2019?", "en"),
        ("What is the 'nouvelles places publiques régionales' initiative?", "en"),
        ("Are donations to La 27e Région now tax-deductible?", "en"),
        ("Qu'est devenu Enacting the commons après son lancement ?", "fr"),  # an English title in a French question
        ("Qu'est-ce que le programme Enacting the commons ?", "fr"),
        ("Quelles collectivités ont participé à Nouveaux Accords ?", "fr"),
        ("c koi la transfo", "fr"),
        ("cb d'adherents en 2025", "fr"),
        ("ya eu quoi comme programmes en 2019", "fr"),
        ("", "fr"),
        ("Rebonds ?", "fr"),  # no function word at all: our users' language
    ],
)
def test_the_language_of_a_question(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_the_language_of_a_publication_reads_its_start() -> None:
    english = ["The region and the state are working on the future of public policy.", "With the people."]
    assert detect_language(english) == "en"
    assert detect_language(["La Région et les agents travaillent sur les politiques publiques."]) == "fr"
    assert detect_language([""], default="en") == "en"
    # Only the first 20,000 characters count: a long French text with an English annex stays French.
    assert detect_language(["Le projet et la méthode. " * 1000, "the and of the with the " * 5000]) == "fr"


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("Qui soutenait La 27e Région en 2014, et qui en 2019 ?", [2014, 2019]),
        ("de 2019-2021", [2019, 2021]),  # a range names its two ends
        ("dans les années 2010", [2010]),
        ("in the 2010s", [2010]),  # a `\b` rule missed it
        ("la 2019e édition, rapport_2022", [2019, 2022]),
        ("2019 puis 2019 puis 2018", [2019, 2018]),
        ("1.5 million, 1.2019, 2019,5 %, 20190, 12019, 1850, 2100", []),
        ("rapport.2019", [2019]),
    ],
)
def test_the_years_a_text_names(text: str, years: list[int]) -> None:
    assert years_in(text) == years


def test_a_year_alone() -> None:
    assert is_year("2019")
    assert not is_year("2019-2021")
    assert not is_year("20190")
    assert not is_year("1850")
    assert not is_year("ANCT")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le taux est de 1.5 %. La suite.", ["Le taux est de 1.5 %.", "La suite."]),
        (
            "Des designers, etc. et des agents. En 2031, la suite.",
            ["Des designers, etc. et des agents.", "En 2031, la suite."],
        ),
        ("des plasticiens…) et d'un agent. Puis la suite.", ["des plasticiens…) et d'un agent.", "Puis la suite."]),
        (
            "Séminaire « Où en est l’innovation publique ? », à Paris. «Un titre» suit.",
            ["Séminaire « Où en est l’innovation publique ? », à Paris.", "«Un titre» suit."],
        ),
        ("6. design et www. exemple. fr restent", ["6. design et www. exemple. fr restent"]),
        ("Un titre\n- un point. - Un autre.\n\nFin", ["Un titre", "- un point. - Un autre.", "Fin"]),
        ("What did they do? In 2019, a lot!", ["What did they do?", "In 2019, a lot!"]),
    ],
)
def test_the_sentences_of_a_passage(text: str, expected: list[str]) -> None:
    assert sentences_in(text) == expected


def test_the_claims_of_an_answer_end_at_every_stop() -> None:
    answer = "Le programme associe Dunkerque [1]. et Vitry [2].\n- Un point ; fin"
    assert sentences_in(answer, claims=True) == [
        "Le programme associe Dunkerque [1].",
        "et Vitry [2].",
        "- Un point ; fin",
    ]


def test_the_chunker_goes_on_after_abbreviations_and_initials() -> None:
    text = "Voir p. 12 et le n° 3. M. Dupont et J. Martin, cf. annexe. Fin"
    assert [text[:end] for end in sentence_ends(text)] == [
        "Voir p. 12 et le n° 3.",
        "Voir p. 12 et le n° 3. M. Dupont et J. Martin, cf. annexe.",
    ]


def test_year_spans_are_read_once_for_comparisons_and_the_catalogue() -> None:
    from assistant27.language import YearSpan, year_spans

    assert year_spans("Qu'avons-nous fait de 2019 à 2025 ?") == [YearSpan(2019, 2025, "de", "a", True)]
    assert year_spans("From 2022 to 2025?")[0] == YearSpan(2022, 2025, "from", "to", True)
    assert year_spans("les programmes 2019-2022") == [YearSpan(2019, 2022, "-", "-", True)]
    assert year_spans("entre 2019 et 2024") == [YearSpan(2019, 2024, "entre", "et", True)]
    assert year_spans("de l'an 2019 jusqu'en 2024")[0] == YearSpan(2019, 2024, "de", "jusqu'en", False)
    assert year_spans("depuis fin 2019") == [YearSpan(2019, None, "depuis", "", False)]
    assert year_spans("Après 2020 ?") == [YearSpan(2020, None, "apres", "", True)]
    assert year_spans("avant 2022") == [YearSpan(None, 2022, "avant", "", True)]
    assert year_spans("en 2019 et en 2024") == []  # two years, no stretch between them


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Où et quand s'est tenue l'assemblée générale ?",
            ["Où s'est tenue l'assemblée générale ?", "quand s'est tenue l'assemblée générale ?"],
        ),
        (
            "When and where did the lab celebrate its anniversary?",
            ["When did the lab celebrate its anniversary?", "where did the lab celebrate its anniversary?"],
        ),
        ("Qu'est-ce que le programme Exemple, et quand a-t-il démarré ?",
         ["Qu'est-ce que le programme Exemple", "quand a-t-il démarré ?"]),
        ("le programme c financé par qui et jusqua quand", ["le programme c financé par qui", "jusqua quand"]),
        (
            "Avec qui et sur quelle période le programme a-t-il été mené ?",
            ["Avec qui le programme a-t-il été mené ?", "sur quelle période le programme a-t-il été mené ?"],
        ),
        ("What is the lab and how large is it?", ["What is the lab", "how large is it?"]),
        # One question: two things listed under one verb, « et » inside a name or a phrase.
        ("Quelles collectivités et quelles associations ont participé ?",
         ["Quelles collectivités et quelles associations ont participé ?"]),
        ("Qui est à l'origine de la création et du développement du lab ?",
         ["Qui est à l'origine de la création et du développement du lab ?"]),
        ("C'est quoi le programme ?", ["C'est quoi le programme ?"]),
    ],
)
def test_a_compound_question_is_read_as_its_parts(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts
