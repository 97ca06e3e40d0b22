"""Replay the answerability signals of refusal.py on recorded evaluation runs: which signal separates questions the
publications answer from those they do not, with a threshold chosen on the tuning part and reported on the
held-out part.

Usage: python benchmarks/answerability.py RUN_DIR [RUN_DIR ...] [--passages 4] [--max-false 0.05]

RUN_DIR: folders written by `assistant27 eval` (results.jsonl: items with their part, each with the passages it
retrieved). For each item the signal is computed over the first N passages; "refuse" means the system refused
(as recorded) or the signal is under the threshold. The threshold is the one that refuses the most unanswerable
tuning items while refusing at most --max-false of the answerable tuning items; the same threshold is then
applied to the held-out items. Nothing is rerun: the passages are the recorded ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant27.kinds import answer_holds_kind
from assistant27.refusal import best_support

# Each signal reads the best candidate sentence of the passages (Support) and the recorded row (its answer).
SIGNALS = {
    "typed focus (kind held, focus share)": lambda s, r: s.score,
    "focus share alone": lambda s, r: s.focus,
    "kind held alone": lambda s, r: 1.0 if s.typed else 0.0,
    "kind questions: focus share of the sentence holding the kind": lambda s, r: (s.score if s.kind else 1.0),
    "the answer itself holds the kind asked": lambda s, r: float(answer_holds_kind(r["question"], r["result"]["answer"])),
    "kind held by a passage and by the answer": lambda s, r: float(
        s.typed and answer_holds_kind(r["question"], r["result"]["answer"])
    ),
}


def load(dirs: list[Path]) -> list[dict]:
    rows = []
    for d in dirs:
        for line in (d / "results.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row["run"] = d.name
                rows.append(row)
    return rows


def rates(rows: list[dict], refuse: list[bool]) -> dict[str, str]:
    unans = [r for r, x in zip(rows, refuse) if r["type"] == "unanswerable" for _ in [x]]
    u_ref = sum(x for r, x in zip(rows, refuse) if r["type"] == "unanswerable")
    a_ref = sum(x for r, x in zip(rows, refuse) if r["type"] != "unanswerable")
    ok_kept = sum(
        (not x) and r["verdict"]["answer_correct"] for r, x in zip(rows, refuse) if r["type"] != "unanswerable"
    )
    ok_all = sum(r["verdict"]["answer_correct"] for r in rows if r["type"] != "unanswerable")
    n_a = len(rows) - len(unans)
    return {
        "refusal": f"{u_ref / len(unans):.2f} ({u_ref}/{len(unans)})" if unans else "–",
        "false refusals": f"{a_ref / n_a:.2f} ({a_ref}/{n_a})" if n_a else "–",
        "right answers kept": f"{ok_kept}/{ok_all}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--passages", type=int, default=4)
    parser.add_argument("--max-false", type=float, default=0.05)
    args = parser.parse_args(argv)
    rows = load(args.runs)
    if not rows:
        print("No results in the given folders.", file=sys.stderr)
        return 2
    support = [
        best_support(r["question"], [p["text"] for p in r["result"]["passages"][: args.passages]]) for r in rows
    ]

    recorded = [bool(r["result"]["refused"]) for r in rows]
    parts = {part: [i for i, r in enumerate(rows) if r.get("part") == part] for part in ("tuning", "held-out")}
    print(f"{len(rows)} items from {', '.join(d.name for d in args.runs)}; first {args.passages} passages\n")
    print("| signal | threshold (tuning) | part | refusal (unanswerable) | false refusals | right answers kept |")
    print("|---|---|---|---|---|---|")
    for part in ("tuning", "held-out"):
        sub = [rows[i] for i in parts[part]]
        r = rates(sub, [recorded[i] for i in parts[part]])
        print(f"| as recorded | – | {part} | {r['refusal']} | {r['false refusals']} | {r['right answers kept']} |")
    for name, signal in SIGNALS.items():
        values = [signal(s, r) for s, r in zip(support, rows)]
        tune = parts["tuning"]
        answerable = [i for i in tune if rows[i]["type"] != "unanswerable"]
        best_t, best_u = 0.0, -1
        for t in sorted({0.0, *values, 1.01}):
            false = sum(recorded[i] or values[i] < t for i in answerable)
            if false > args.max_false * len(answerable):
                continue
            u = sum(recorded[i] or values[i] < t for i in tune if rows[i]["type"] == "unanswerable")
            if u > best_u:
                best_t, best_u = t, u
        for part in ("tuning", "held-out"):
            sub = [rows[i] for i in parts[part]]
            r = rates(sub, [recorded[i] or values[i] < best_t for i in parts[part]])
            print(f"| {name} | {best_t:.3f} | {part} | {r['refusal']} | {r['false refusals']} | {r['right answers kept']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
