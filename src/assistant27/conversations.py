"""Conversations and answer feedback, kept per browser in SQLite under the data folder (never in the index)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE = "conversations.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    browser TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_browser ON conversations (browser, updated);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL REFERENCES conversations (id),
    created REAL NOT NULL,
    answer TEXT NOT NULL  -- Answer.to_json(), the `ask --json` contract
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns (conversation, id);
-- Questions stored before their answer, until it is written: a request finds them without reading the turns.
CREATE TABLE IF NOT EXISTS waiting (
    turn INTEGER PRIMARY KEY REFERENCES turns (id),
    conversation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS waiting_conversation ON waiting (conversation, turn);
CREATE TABLE IF NOT EXISTS feedback (
    turn INTEGER PRIMARY KEY REFERENCES turns (id),
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
"""


@dataclass
class Turn:
    """One question and its answer (the `ask --json` object), with the feedback given on it."""

    id: int
    conversation: str
    answer: dict[str, Any]
    rating: str = ""
    comment: str = ""

    @property
    def question(self) -> str:
        return str(self.answer.get("question", ""))

    @property
    def pending(self) -> bool:
        """Stored, not answered yet (being answered, waiting its turn, or cut off by a closed tab or a restart)."""
        return bool(self.answer.get("pending"))


@dataclass
class Summary:
    """One past conversation as the page lists it: its first question, when it was last used, its size."""

    id: str
    first_question: str
    updated: float
    turns: int


@dataclass
class Feedback:
    """A rating on one answer, with what is needed to replay it: question, answer, citations, settings."""

    turn: int
    rating: str
    comment: str
    answer: dict[str, Any]
    settings: dict[str, Any]
    created: float


class ConversationStore:
    """SQLite file in `data_dir`; one short connection per call, so Gradio's worker threads can share it."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.path = data_dir / DATABASE
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def browser_secret(self) -> str:
        """A key kept in the data folder, so browser ids stored by the app stay readable after a restart."""
        path = self.data_dir / "browser-secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        return path.read_text(encoding="utf-8").strip()

    def new_conversation(self, browser: str) -> str:
        conversation = uuid.uuid4().hex
        now = time.time()
        with self._connect() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?)", (conversation, browser, now, now))
        return conversation

    def current_conversation(self, browser: str) -> str:
        """The browser's most recently used conversation, created when it has none."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id FROM conversations WHERE browser = ? ORDER BY updated DESC LIMIT 1", (browser,)
            ).fetchone()
        return str(row[0]) if row else self.new_conversation(browser)

    def conversations(self, browser: str, limit: int = 30) -> list[Summary]:
        """The browser's conversations that hold at least one question, most recently used first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.updated, COUNT(t.id), "
                "(SELECT answer FROM turns WHERE conversation = c.id ORDER BY id LIMIT 1) "
                "FROM conversations c JOIN turns t ON t.conversation = c.id WHERE c.browser = ? "
                "GROUP BY c.id ORDER BY c.updated DESC LIMIT ?",
                (browser, max(0, limit)),
            ).fetchall()
        return [Summary(r[0], _first_question(r[3]), float(r[1]), int(r[2])) for r in rows]

    def reopen(self, browser: str, conversation: str) -> bool:
        """Make one of the browser's conversations its current one again; False when it is not the browser's."""
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE conversations SET updated = ? WHERE id = ? AND browser = ?", (time.time(), conversation, browser)
            )
            return cursor.rowcount == 1

    def add_question(self, conversation: str, question: str) -> int:
        """Store a question before it is answered, so a closed tab or a second question never loses it."""
        turn = self.add_turn(conversation, {"question": question, "answer": "", "pending": True})
        with self._connect() as db:
            db.execute("INSERT INTO waiting VALUES (?, ?)", (turn, conversation))
        return turn

    def answer_turn(self, turn: int, answer: dict[str, Any]) -> None:
        """Put the answer (or the error met instead) in a question's turn; the turn keeps its place."""
        now = time.time()
        with self._connect() as db:
            db.execute("UPDATE turns SET answer = ? WHERE id = ?", (json.dumps(answer, ensure_ascii=False), turn))
            db.execute("DELETE FROM waiting WHERE turn = ?", (turn,))
            db.execute(
                "UPDATE conversations SET updated = ? WHERE id = (SELECT conversation FROM turns WHERE id = ?)",
                (now, turn),
            )

    def drop_turn(self, turn: int) -> None:
        """Remove a question refused before any answer (too long, nothing to ask): its text stays in the box."""
        with self._connect() as db:
            db.execute("DELETE FROM waiting WHERE turn = ?", (turn,))
            db.execute("DELETE FROM turns WHERE id = ?", (turn,))

    def unanswered(self, conversation: str) -> list[Turn]:
        """The conversation's questions still waiting for their answer, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT t.id, t.answer, NULL, NULL FROM waiting w JOIN turns t ON t.id = w.turn "
                "WHERE w.conversation = ? ORDER BY w.turn",
                (conversation,),
            ).fetchall()
        return [_turn(conversation, row) for row in rows]

    def add_turn(self, conversation: str, answer: dict[str, Any]) -> int:
        now = time.time()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO turns (conversation, created, answer) VALUES (?, ?, ?)",
                (conversation, now, json.dumps(answer, ensure_ascii=False)),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
            return int(cursor.lastrowid or 0)

    def turns(self, conversation: str) -> list[Turn]:
        """Every turn of a conversation, oldest first (the export; a page shows `last_turns`)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT t.id, t.answer, f.rating, f.comment FROM turns t LEFT JOIN feedback f ON f.turn = t.id "
                "WHERE t.conversation = ? ORDER BY t.id",
                (conversation,),
            ).fetchall()
        return [_turn(conversation, row) for row in rows]

    def last_turns(self, conversation: str, limit: int) -> tuple[list[Turn], int]:
        """The conversation's last `limit` turns, oldest first, and how many turns it has in all.

        A request reads what it shows, so its work stays the same however long the conversation grows.
        """
        with self._connect() as db:
            rows = db.execute(
                "SELECT t.id, t.answer, f.rating, f.comment FROM "
                "(SELECT id, answer FROM turns WHERE conversation = ? ORDER BY id DESC LIMIT ?) t "
                "LEFT JOIN feedback f ON f.turn = t.id ORDER BY t.id",
                (conversation, max(0, limit)),
            ).fetchall()
            (total,) = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (conversation,)).fetchone()
        return [_turn(conversation, row) for row in rows], int(total)

    def turn(self, conversation: str, turn: int) -> Turn | None:
        """One turn, only when it belongs to this conversation."""
        with self._connect() as db:
            row = db.execute(
                "SELECT t.id, t.answer, f.rating, f.comment FROM turns t LEFT JOIN feedback f ON f.turn = t.id "
                "WHERE t.conversation = ? AND t.id = ?",
                (conversation, turn),
            ).fetchone()
        return _turn(conversation, row) if row else None

    def set_feedback(self, turn: int, rating: str, comment: str = "", settings: dict[str, Any] | None = None) -> None:
        """Record (or replace) the rating of one answer; a later comment keeps the rating."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (turn, rating, comment, settings, created) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (turn) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, "
                "settings = excluded.settings, created = excluded.created",
                (turn, rating, comment.strip(), json.dumps(settings or {}, ensure_ascii=False), time.time()),
            )

    def feedback(self) -> list[Feedback]:
        """Every rating, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT f.turn, f.rating, f.comment, t.answer, f.settings, f.created "
                "FROM feedback f JOIN turns t ON t.id = f.turn ORDER BY f.created, f.turn"
            ).fetchall()
        return [Feedback(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), r[5]) for r in rows]


def _turn(conversation: str, row: tuple[Any, ...]) -> Turn:
    return Turn(row[0], conversation, json.loads(row[1]), row[2] or "", row[3] or "")


def conversation_markdown(turns: Iterable[Turn], of_publisher: str = "") -> str:
    """A conversation as Markdown: each question, its answer, then the cited passages with their sources.

    `of_publisher`: « de La Fondation Exemple » (`programmes.of_publisher`), for the title; "" for none.
    """
    lines = [f"# Conversation avec l'assistant {of_publisher or 'des publications'}", ""]
    for turn in turns:
        answer = turn.answer
        if turn.pending:
            lines += [f"## {turn.question}", "", "(Réponse pas encore écrite.)", ""]
            continue
        text = str(answer.get("answer") or "") or (f"({answer['error']})" if answer.get("error") else "")
        if answer.get("stopped"):
            text = f"{text} (Réponse arrêtée.)".strip()
        lines += [f"## {turn.question}", "", text, ""]
        citations = answer.get("citations") or []
        if citations:
            lines += ["Sources :", ""]
            for c in citations:
                lines.append(f"- [{c['n']}] {source_label(c)}")
                quote = " ".join(str(c.get("text", "")).split())
                lines.append(f"  > {quote}")
            lines.append("")
        elif answer.get("refused") and answer.get("passages"):
            lines += ["Passages les plus proches :", ""]
            lines += [f"- {source_label(p)}" for p in answer["passages"][:3]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def source_label(item: dict[str, Any]) -> str:
    """`Title (2031), p. 3 — file` for a citation or passage in its JSON form."""
    label = str(item.get("title") or item.get("source", ""))
    if item.get("year"):
        label += f" ({item['year']})"
    if item.get("page"):
        label += f", p. {item['page']}"
    elif item.get("section"):
        label += f", « {item['section']} »"
    return f"{label} — {item.get('source', '')}"


def _first_question(stored: str) -> str:
    """The question of a conversation's first turn, for its label; "" when that row cannot be read (a damaged
    file must not keep the page from listing the other conversations)."""
    try:
        turn = json.loads(stored)
    except (TypeError, ValueError):
        return ""
    return str(turn.get("question", "")) if isinstance(turn, dict) else ""
