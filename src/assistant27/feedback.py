"""Answer feedback as evaluation items (EVAL_FORMAT.md), so a thumbs-down becomes a draft item to complete."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from assistant27.conversations import Feedback

EVIDENCE_MAX = 200  # EVAL_FORMAT.md: evidence is a verbatim quote of 40 to 200 characters


def eval_item(feedback: Feedback) -> dict[str, Any]:
    """One evaluation item: the question, the answer given as `answer`, source and evidence from its first citation.

    `must_include` is left empty and `draft` is true: a person writes the groups (and fixes the reference answer
    of a thumbs-down) before the item joins a set. The extra fields keep what the user said and what answered.
    """
    answer = feedback.answer
    citations = answer.get("citations") or []
    first = citations[0] if citations else None
    return {
        "id": f"feedback-{feedback.turn}",
        "question": answer.get("question", ""),
        "type": "factual",
        "answer": answer.get("answer", ""),
        "must_include": [],
        "source": first["source"] if first else None,
        "evidence": _evidence(str(first.get("text", ""))) if first else None,
        "year": first.get("year") if first else None,
        "draft": True,
        "feedback": feedback.rating,
        "comment": feedback.comment,
        "refused": bool(answer.get("refused")),
        "generator": answer.get("generator", ""),
        "citations": citations,
        "settings": feedback.settings,
    }


def _evidence(text: str) -> str:
    # Verbatim and at most 200 characters: cut at the last space before the limit, never inside a word.
    text = text.strip()
    if len(text) <= EVIDENCE_MAX:
        return text
    cut = text.rfind(" ", 0, EVIDENCE_MAX + 1)
    return text[: cut if cut >= 40 else EVIDENCE_MAX].rstrip()


def write_jsonl(items: Iterable[Feedback], out: TextIO, rating: str = "all") -> int:
    """Write one evaluation item per line; `rating` keeps "up", "down" or "all". Returns how many were written."""
    count = 0
    for feedback in items:
        if rating != "all" and feedback.rating != rating:
            continue
        out.write(json.dumps(eval_item(feedback), ensure_ascii=False) + "\n")
        count += 1
    return count


def export_file(items: Iterable[Feedback], path: Path, rating: str = "all") -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        return write_jsonl(items, out, rating)
