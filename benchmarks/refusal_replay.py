"""Replay the whole answerability decision of refusal.py (before answering and after it) on recorded evaluation runs,
by set and part (tuning, held-out) of the frozen split, with each signal of kinds.py on or off.

Usage: python benchmarks/refusal_replay.py RUN_DIR [RUN_DIR ...] [--signals a,b] [--show]

RUN_DIR: folders written by `assistant27 eval` (results.jsonl). Nothing is retrieved or generated again: an item the
run refused as "absent" stays refused (names or retrieval scores, not changed here); any other item is decided
again from its recorded passages (the first four: what the extractive generator reads) and its recorded answer
(or, when refused after answering, the generator's recorded text): the check before answering (`decide`: a
sentence holds the kind asked), the catalogue's check (its answer holds the kind asked) and the check after
answering (`after_answer`). Prints refusal of unanswerable items, false refusals and right answers kept per part;
`assistant27 eval` measures the whole.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from assistant27 import kinds
from assistant27.kinds import asked_kind, holds_kind
from assistant27.refusal import ABSENT, Decision, after_answer, best_support, unnamed_ordinals
from assistant27.schema import CITATION_MARKER, Passage


def decided(row: dict) -> bool:
    """Whether the item is refused when decided again from its recorded passages and answer."""
    result = row["result"]
    question = result.get("searched") or row["question"]
    if result["refused"] and result.get("refusal") == ABSENT:
        return True
    kind = asked_kind(question)
    answer = result["answer"] if not result["refused"] else (result.get("generated") or "")
    if result["generator"] == "catalogue":
        return not holds_kind(CITATION_MARKER.sub(" ", answer), kind, question)
    if not result["refused"] and answer[:6].rstrip().rstrip(":").strip().isdigit():
        return False  # answered year by year: each year's passages, not recorded apart
    context = result["passages"][:4]
    support = best_support(question, [p["text"] for p in context])
    if support.kind is not None and not support.typed:
        return True
    if unnamed_ordinals(question, [p["text"] for p in context]):
        return True
    if not answer.strip():
        return True
    decision = Decision(None, support.score, "answerable", support)
    # What the answer cites: its citations, or for an answer refused after writing, the context passages its markers
    # name (the generator numbers the passages it reads from 1).
    recorded = result.get("citations") or [
        context[n - 1] for n in sorted({int(m) for m in re.findall(r"\[(\d+)\]", answer)}) if 0 < n <= len(context)
    ]
    cited = [Passage(**{k: c.get(k) for k in ("rank", "source", "title", "year", "page", "text")}, chunk_id="",
                     kind="", heading="", score=0.0) for c in recorded]
    return not after_answer(question, answer, decision, cited).answerable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--signals", default="all", help="the checks of kinds.CHECKS to turn on, comma-separated")
    parser.add_argument("--show", action="store_true", help="print the items whose decision changed")
    args = parser.parse_args(argv)
    if args.signals != "all":
        kinds.CHECKS = frozenset(s for s in args.signals.split(",") if s)
    for run in args.runs:
        tally: dict[str, list[int]] = {}
        for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            refused = decided(row)
            t = tally.setdefault(row.get("part") or "all", [0, 0, 0, 0, 0, 0])
            if row["type"] == "unanswerable":
                t[0] += refused
                t[1] += 1
            else:
                t[2] += refused
                t[3] += 1
                t[4] += (not refused) and row["verdict"]["answer_correct"]
                t[5] += row["verdict"]["answer_correct"]
            if args.show and refused != bool(row["result"]["refused"]):
                mark = "+" if (row["type"] == "unanswerable") == refused else "-"
                print(f"  {mark}{row['id']} {'refused' if refused else 'answered'}: {row['question']}")
        for part, t in sorted(tally.items(), reverse=True):
            print(
                f"{run.name:18} {part:8} refusal {t[0]}/{t[1]}  false refusals {t[2]}/{t[3]}  "
                f"right answers kept {t[4]}/{t[5]}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
