"""Citation validation, refusal detection, language, follow-up queries."""

from assistant27.answering import (
    detect_language,
    is_refusal,
    retrieval_query,
    trim_passage,
    validate_citations,
)
from assistant27.schema import Passage


def passage(rank: int, text: str) -> Passage:
    return Passage(rank, f"id{rank}", "r.txt", "Rapport", 2022, "rapport", None, "", text, 1.0)


CONTEXT = [
    passage(1, "Nouveaux Accords associe la Communauté urbaine de Dunkerque, Vitry-le-François et Aix-Marseille."),
    passage(2, "La Transfo accompagne les Régions dans la création de laboratoires d'innovation publique."),
]


def test_marker_to_no_passage_is_removed_and_replaced_by_the_supporting_one() -> None:
    out = validate_citations("Nouveaux Accords associe Dunkerque, Vitry-le-François et Aix-Marseille [7].", CONTEXT)
    assert out.text.endswith("[1].")
    assert [c.passage.chunk_id for c in out.citations] == ["id1"]


def test_citations_are_renumbered_by_first_appearance() -> None:
    text = "La Transfo crée des laboratoires d'innovation publique [2]. Nouveaux Accords associe Dunkerque [1]."
    out = validate_citations(text, CONTEXT)
    assert (
        out.text
        == "La Transfo crée des laboratoires d'innovation publique [1]. Nouveaux Accords associe Dunkerque [2]."
    )
    assert [c.n for c in out.citations] == [1, 2]
    assert out.citations[0].passage.chunk_id == "id2"


def test_unsupported_sentence_is_dropped_and_flagged() -> None:
    text = "Nouveaux Accords associe Dunkerque et Vitry-le-François [1]. Le budget annuel atteint trois millions d'euros pour Marseille."
    out = validate_citations(text, CONTEXT)
    assert "millions" not in out.text
    assert out.flagged and "millions" in out.flagged[0]


def test_an_answer_nothing_supports_is_kept_but_flagged() -> None:
    out = validate_citations("Le budget annuel atteint trois millions d'euros.", CONTEXT)
    assert out.citations == [] and out.flagged


def test_refusal_detection() -> None:
    assert is_refusal("Les publications ne répondent pas à cette question.")
    assert is_refusal("Les extraits ne mentionnent pas ce budget.")
    assert is_refusal("The publications do not answer this question.")
    assert not is_refusal("Nouveaux Accords associe Dunkerque [1].")


def test_language_detection() -> None:
    assert detect_language("Which cities took part in Nouveaux Accords?") == "en"
    assert detect_language("Quelles collectivités ont participé à Nouveaux Accords ?") == "fr"
    assert detect_language("c koi la transfo") == "fr"


def test_follow_up_borrows_the_previous_question() -> None:
    history = [{"role": "user", "content": "Quels programmes en 2024 ?"}, {"role": "assistant", "content": "..."}]
    assert retrieval_query("et en 2025 ?", history) == "Quels programmes en 2024 ? et en 2025 ?"
    assert retrieval_query("Qui finance la Transfo depuis sa création ?", history).startswith("Qui")
    assert retrieval_query("et en 2025 ?", []) == "et en 2025 ?"


def test_trim_keeps_the_matching_sentences() -> None:
    text = (
        "Une phrase sans rapport aucun. " * 20
        + "Dunkerque participe au programme Nouveaux Accords. "
        + "Autre chose encore. " * 20
    )
    out = trim_passage(text, "Dunkerque et Nouveaux Accords ?", 200)
    assert "Dunkerque participe" in out and len(out) <= 200


def test_list_answers_keep_their_lines_and_get_a_citation_per_item() -> None:
    text = "Les collectivités sont :\n- la Communauté urbaine de Dunkerque\n- Vitry-le-François et Aix-Marseille [5]"
    out = validate_citations(text, CONTEXT)
    lines = out.text.split("\n")
    assert len(lines) == 3
    assert lines[1] == "- la Communauté urbaine de Dunkerque [1]"
    assert lines[2].endswith("[1]") and "[5]" not in out.text


def test_cross_language_answers_are_flagged_not_dropped() -> None:
    out = validate_citations("The budget was three million euros for Marseille.", CONTEXT[:1], drop_unsupported=False)
    assert out.text.startswith("The budget") and out.flagged


def test_a_marker_after_the_period_stays_with_its_sentence() -> None:
    text = "La Transfo crée des laboratoires d'innovation publique. [2] Nouveaux Accords associe Dunkerque. [1]"
    out = validate_citations(text, CONTEXT)
    assert (
        out.text
        == "La Transfo crée des laboratoires d'innovation publique [1]. Nouveaux Accords associe Dunkerque [2]."
    )
