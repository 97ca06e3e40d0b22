"""Citation validation, prompts, trimming, follow-up queries."""

from conftest import passage

from assistant27.answering import build_messages, request_for, retrieval_query, trim_passage, validate_citations
from assistant27.refusal import MODEL_REFUSAL

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


def test_follow_up_borrows_the_previous_question() -> None:
    history = [{"role": "user", "content": "Quels programmes en 2024 ?"}, {"role": "assistant", "content": "..."}]
    assert retrieval_query("et en 2025 ?", history) == "Quels programmes en 2024 ? et en 2025 ?"
    assert retrieval_query("Qui finance la Transfo depuis sa création ?", history).startswith("Qui")
    assert retrieval_query("et en 2025 ?", []) == "et en 2025 ?"


def test_a_follow_up_borrows_only_when_it_depends_on_the_previous_question() -> None:
    history = [{"role": "user", "content": "Quels programmes en 2024 ?"}, {"role": "assistant", "content": "..."}]
    for follow_up in ("et ça a commencé quand ?", "Combien ça a coûté ?", "Quels partenaires ?", "2023 ?"):
        assert retrieval_query(follow_up, history) == f"Quels programmes en 2024 ? {follow_up}", follow_up
    # Self-contained: searched alone, the previous year left behind (a short one too).
    # A question that names something stands alone, however few its words (« C'est quoi La Transfo ? ») and whatever
    # its pronouns point to (« how large is it? »): borrowing would carry the previous question's subject over.
    for alone in (
        "koi la 27e région a fait avec les forêts ?",
        "Quand Nouveaux Accords a-t-il commencé ?",
        "C'est quoi La Transfo ?",
        "What is Superpublic and how large is it?",
    ):
        assert retrieval_query(alone, history) == alone
    # A chain of follow-ups borrows the question it started from, not the follow-up before.
    chain = history + [{"role": "user", "content": "et en 2025 ?"}, {"role": "assistant", "content": "..."}]
    assert retrieval_query("et en 2026 ?", chain) == "Quels programmes en 2024 ? et en 2026 ?"


def test_trim_keeps_the_sentence_after_the_matching_one() -> None:
    text = (
        "Le rapport présente nos travaux de l'année écoulée. "
        "Nouveaux Accords a réuni plusieurs collectivités partenaires. "
        "Il s'agit de Dunkerque, de Vitry-le-François et d'Aix-Marseille. "
        "Une phrase sans rapport aucun avec la question posée ici. " * 6
    )
    out = trim_passage(text, "Quelles collectivités partenaires pour Nouveaux Accords ?", 140)
    assert out.startswith("Nouveaux Accords a réuni") and "Dunkerque, de Vitry" in out and len(out) <= 140


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


def test_a_sentence_ending_in_several_marks_keeps_them_whole_and_cites_no_punctuation() -> None:
    # « aussi... [2] » came out « aussi. [1]. [1]. »: the marks were split into sentences of their own, and cited.
    text = "La Transfo crée des laboratoires, c'est aussi... [2] Nouveaux Accords associe Dunkerque. [1]"
    out = validate_citations(text, CONTEXT)
    assert out.text == "La Transfo crée des laboratoires, c'est aussi [1]... Nouveaux Accords associe Dunkerque [2]."
    assert [claim["claim"] for claim in out.claims] == [
        "La Transfo crée des laboratoires, c'est aussi...",
        "Nouveaux Accords associe Dunkerque.",
    ]


def test_the_prompt_names_the_model_refusal_and_asks_the_question_twice() -> None:
    question = "Qui a participé à Nouveaux Accords ?"
    messages = build_messages(question, CONTEXT, [], "fr", 500)
    assert messages[0]["role"] == "system" and MODEL_REFUSAL["fr"] in messages[0]["content"]
    assert "${" not in messages[0]["content"] and "français" in messages[0]["content"]
    user = messages[-1]["content"]
    assert user.count(question) == 2 and "[1] (Rapport, 2022) Nouveaux Accords associe" in user
    english = build_messages("Who took part?", CONTEXT, [], "en", 500)
    assert MODEL_REFUSAL["en"] in english[0]["content"] and "anglais" in english[0]["content"]


def test_a_request_carries_the_refusal_sentence_and_threshold() -> None:
    request = request_for("Qui ?", CONTEXT, [], "fr", 500, 64, 0.4)
    assert request.refusal == MODEL_REFUSAL["fr"] and request.refuse_at == 0.4
    assert request.refusal_probability is None and request.max_tokens == 64


def test_each_claim_carries_a_verbatim_quote_of_its_cited_passage() -> None:
    context = [
        passage(1, "Le programme Horizons a commencé en 2031. Il réunit la Ville d'Exempleville et deux agences."),
        passage(2, "La Fondation Exemple soutient les laboratoires. Elle publie un guide chaque année."),
    ]
    checked = validate_citations(
        "Horizons réunit la Ville d'Exempleville [1]. La Fondation Exemple publie un guide [2].", context
    )
    assert [c["claim"] for c in checked.claims] == [
        "Horizons réunit la Ville d'Exempleville.",
        "La Fondation Exemple publie un guide.",
    ]
    assert checked.claims[0]["quote"] == context[0].text  # « Horizons » is in the sentence before « Il réunit »
    # The claim's words span two sentences of the passage: both are quoted, verbatim.
    assert (
        checked.claims[1]["quote"]
        == "La Fondation Exemple soutient les laboratoires. Elle publie un guide chaque année."
    )
    for claim in checked.claims:  # verbatim: a sentence of the passage its first citation points to
        cited = checked.citations[claim["citations"][0] - 1]
        assert claim["quote"] in cited.passage.text and cited.quote
        assert claim["support"] >= 0.5
