"""The conversation store in a real SQLite file, its Markdown export, and feedback as evaluation items."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from assistant27.cli import main
from assistant27.config import Settings
from assistant27.conversations import ConversationStore, conversation_markdown
from assistant27.feedback import eval_item

ANSWER = {
    "question": "Qui participe à Nouveaux Accords ?",
    "answer": "La Communauté urbaine de Dunkerque [1].",
    "refused": False,
    "citations": [
        {
            "n": 1,
            "source": "rapport-2022.txt",
            "title": "Rapport d'activité 2022",
            "year": 2022,
            "page": None,
            "section": "",
            "rank": 1,
            "text": "Nouveaux Accords est un programme de recherche-action sur le contrat de ville, mené en "
            "partenariat avec l'ANCT, Aix-Marseille Provence Métropole, la Ville de Vitry-le-François et la "
            "Communauté urbaine de Dunkerque. Il a commencé en septembre 2022.",
        }
    ],
    "passages": [],
    "timings": {"retrieval_s": 0.01, "first_token_s": 0.02, "total_s": 0.03},
    "generator": "scripted",
    "flagged": [],
}


def test_conversations_survive_a_new_store_and_stay_per_browser(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "data")
    conversation = store.current_conversation("browser-a")
    turn = store.add_turn(conversation, ANSWER)
    again = ConversationStore(tmp_path / "data")  # as after a server restart
    assert again.current_conversation("browser-a") == conversation
    assert [t.id for t in again.turns(conversation)] == [turn]
    assert again.turns(conversation)[0].question == ANSWER["question"]
    assert again.current_conversation("browser-b") != conversation
    fresh = again.new_conversation("browser-a")
    assert again.current_conversation("browser-a") == fresh and again.turns(fresh) == []
    assert again.browser_secret() == store.browser_secret()


def test_feedback_is_replaced_not_duplicated(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    turn = store.add_turn(store.new_conversation("b"), ANSWER)
    store.set_feedback(turn, "up", settings={"generator": "scripted"})
    store.set_feedback(turn, "down", "Il manque Vitry.", {"generator": "scripted"})
    [fb] = store.feedback()
    assert (fb.rating, fb.comment, fb.settings, fb.answer["answer"]) == (
        "down",
        "Il manque Vitry.",
        {"generator": "scripted"},
        ANSWER["answer"],
    )


def test_markdown_export_lists_the_sources(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    conversation = store.new_conversation("b")
    store.add_turn(conversation, ANSWER)
    text = conversation_markdown(store.turns(conversation))
    assert "## Qui participe à Nouveaux Accords ?" in text
    assert "- [1] Rapport d'activité 2022 (2022) — rapport-2022.txt" in text
    assert "> Nouveaux Accords est un programme" in text


def test_thumbs_down_is_a_draft_eval_item(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    turn = store.add_turn(store.new_conversation("b"), ANSWER)
    store.set_feedback(turn, "down", "Incomplet")
    item = eval_item(store.feedback()[0])
    assert {k: item[k] for k in ("id", "question", "type", "answer", "must_include", "source", "year")} == {
        "id": f"feedback-{turn}",
        "question": ANSWER["question"],
        "type": "factual",
        "answer": ANSWER["answer"],
        "must_include": [],
        "source": "rapport-2022.txt",
        "year": 2022,
    }
    assert 40 <= len(item["evidence"]) <= 200
    assert item["evidence"] in ANSWER["citations"][0]["text"]  # verbatim
    assert (item["feedback"], item["comment"], item["draft"]) == ("down", "Incomplet", True)


def test_feedback_export_command(settings: Settings, tmp_path: Path) -> None:
    store = ConversationStore(settings.data_dir)
    conversation = store.new_conversation("b")
    store.set_feedback(store.add_turn(conversation, ANSWER), "down", "Faux")
    store.set_feedback(store.add_turn(conversation, {**ANSWER, "question": "Autre ?"}), "up")
    out = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out), "--rating", "down"])
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(i["question"], i["feedback"], i["comment"]) for i in items] == [(ANSWER["question"], "down", "Faux")]
    result = CliRunner().invoke(main, ["feedback", "export"])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2


def test_last_turns_reads_the_last_ones_in_order_with_the_count(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    conversation, other = store.new_conversation("a"), store.new_conversation("b")
    ids = [store.add_turn(conversation, {**ANSWER, "question": f"Q{i} ?"}) for i in range(50)]
    store.add_turn(other, ANSWER)
    store.set_feedback(ids[-2], "down", "Incomplet")
    turns, total = store.last_turns(conversation, 20)
    assert total == 50 and [t.id for t in turns] == ids[-20:]
    assert [t.question for t in turns[-2:]] == ["Q48 ?", "Q49 ?"] and (turns[-2].rating, turns[-2].comment) == (
        "down",
        "Incomplet",
    )
    assert store.last_turns(conversation, 0) == ([], 50) and store.last_turns("none", 20) == ([], 0)
    assert len(store.turns(conversation)) == 50  # the export still reads them all


def test_a_turn_is_found_only_in_its_own_conversation(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    conversation, other = store.new_conversation("a"), store.new_conversation("b")
    turn = store.add_turn(conversation, ANSWER)
    found = store.turn(conversation, turn)
    assert found is not None and found.question == ANSWER["question"]
    assert store.turn(other, turn) is None and store.turn(conversation, turn + 1) is None


def test_past_conversations_are_listed_and_reopened_by_their_browser_only(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    first = store.new_conversation("a")
    store.add_turn(first, {"question": "Qui finance la Transfo ?", "answer": "..."})
    store.add_turn(first, {"question": "Et depuis quand ?", "answer": "..."})
    second = store.new_conversation("a")  # « Nouvelle conversation »: empty, so not listed
    assert [(c.id, c.first_question, c.turns) for c in store.conversations("a")] == [
        (first, "Qui finance la Transfo ?", 2)
    ]
    assert store.current_conversation("a") == second
    assert not store.reopen("b", first) and store.current_conversation("a") == second
    assert store.reopen("a", first) and store.current_conversation("a") == first
    assert store.conversations("b") == []
