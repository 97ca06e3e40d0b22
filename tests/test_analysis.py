"""French BM25 analysis: accents, elision, stop words, stemming."""

from assistant27.analysis import analyze, fold, tokenize


def test_accent_folding_makes_reglementation_match() -> None:
    assert analyze("reglementation") == analyze("réglementation") == analyze("Réglementation")
    assert analyze("collectivites") == analyze("collectivités")


def test_elision_is_removed_before_stemming() -> None:
    assert analyze("l’innovation") == analyze("innovation")
    assert analyze("d'innovations") == analyze("innovation")
    assert analyze("qu'elles") == []


def test_stop_words_and_question_words_are_dropped() -> None:
    assert tokenize("Quelles sont les collectivités de la Région ?") == ["collectivites", "region"]
    assert tokenize("c koi la transfo") == ["transfo"]
    assert tokenize("Which programmes did the Region run?") == ["programmes", "region", "run"]


def test_fold() -> None:
    assert fold("Île-de-France ÉTÉ") == "ile-de-france ete"
