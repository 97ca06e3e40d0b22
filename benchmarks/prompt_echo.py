"""Replay prompt_echo.strip_prompt_echo on recorded evaluation runs: which generated texts it changes, and how.

Usage: python benchmarks/prompt_echo.py [RUN_DIR ...]   (default: every evals/reports/*local*/ run)

Each item's recorded `generated` text (the model's raw answer) is cut against its recorded question and passages,
as the assistant does before checking citations; every text that changes is printed before and after, then the
count. Nothing is rerun: no model is loaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant27.prompt_echo import strip_prompt_echo

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path, help="folders holding a results.jsonl")
    args = parser.parse_args()
    runs = args.runs or sorted(p.parent for p in (REPO / "evals" / "reports").glob("*local*/results.jsonl"))
    changed = total = 0
    for run in runs:
        for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            result = item.get("result") or {}
            raw = str(result.get("generated") or "").strip()
            if not raw:
                continue
            total += 1
            passages = [f"{p.get('title', '')} {p.get('text', '')}" for p in result.get("passages") or []]
            said = strip_prompt_echo(raw, [str(result.get("question", "")), *passages])
            if said != raw:
                changed += 1
                print(f"--- {run.name} {item.get('id')}\nbefore: {raw}\nafter:  {said}")
    print(f"{changed} of {total} generated texts changed")


if __name__ == "__main__":
    main()
