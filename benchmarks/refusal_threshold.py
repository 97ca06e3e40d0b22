"""Calibrate `refuse_at`, the local model's refusal threshold, from one evaluation run.

Usage:
    python benchmarks/refusal_threshold.py run SET --out DIR     # eval SET with the local model, refuse_at=1.0
    python benchmarks/refusal_threshold.py curve DIR [DIR ...]   # metrics for each threshold, from such runs

The local generator measures the probability that the model starts its refusal sentence, over the sentence's
first two tokens (`refusal_probability` in each result; generators.RefusalGate). With refuse_at=1.0 it never
refuses that way: every answer the model would give below any threshold is generated and recorded. Decoding is
greedy, so the run answers for every threshold at once: at threshold t an item is refused when it was refused
anyway (retrieval gate, or a refusal written in other words) or when its probability is >= t, and keeps its
recorded answer otherwise. One approximation: where the model did not start with the refusal's first token, only
that token's probability is recorded (an upper bound); the gate at a threshold t below it would have made the
model start the refusal and then decided on both tokens (mostly for t < 0.5: above, the first token is usually
the greedy choice anyway). `curve` prints answer accuracy, citation accuracy, refusal accuracy and false refusals
for a grid of thresholds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def at_threshold(rows: list[dict[str, Any]], threshold: float) -> dict[str, tuple[int, int]]:
    """(hits, total) of the four answer metrics if the run had used `refuse_at=threshold`."""
    counts = {"answer_accuracy": [0, 0], "citation_accuracy": [0, 0], "refusal_accuracy": [0, 0]}
    counts["false_refusals"] = [0, 0]
    for row in rows:
        verdict = row["verdict"]
        p = row["result"].get("refusal_probability")
        refused = bool(verdict["refused"]) or (p is not None and p >= threshold)
        if verdict["answerable"]:
            for name, ok in (
                ("answer_accuracy", verdict["answer_correct"] and not refused),
                ("citation_accuracy", verdict["cited_correctly"] and not refused),
                ("false_refusals", refused),
            ):
                counts[name][0] += int(bool(ok))
                counts[name][1] += 1
        else:
            counts["refusal_accuracy"][0] += int(refused)
            counts["refusal_accuracy"][1] += 1
    return {name: (hits, total) for name, (hits, total) in counts.items()}


def curve(dirs: list[Path]) -> list[str]:
    rows = [
        json.loads(line)
        for d in dirs
        for line in (d / "results.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    measured = sum(r["result"].get("refusal_probability") is not None for r in rows)
    lines = [f"{len(rows)} items from {', '.join(map(str, dirs))}; {measured} with a measured refusal probability"]
    lines.append(f"{'refuse_at':>9}  {'answers':>14}  {'citations':>14}  {'refusals':>12}  {'false refusals':>14}")
    for t in GRID:
        m = at_threshold(rows, t)

        def cell(name: str, m: dict[str, tuple[int, int]] = m) -> str:
            hits, total = m[name]
            return f"{hits / total:.2f} ({hits}/{total})" if total else "-"

        lines.append(
            f"{t:>9.2f}  {cell('answer_accuracy'):>14}  {cell('citation_accuracy'):>14}  "
            f"{cell('refusal_accuracy'):>12}  {cell('false_refusals'):>14}"
        )
    return lines


def run(set_path: Path, out: Path) -> None:
    from assistant27.assistant import Assistant
    from assistant27.config import Settings
    from assistant27.evalrunner import metric_lines, run_eval

    settings = Settings.from_env(generator="local").replace(refuse_at=1.0)
    summary = run_eval(Assistant.from_settings(settings), set_path, out, baselines=False)
    print("\n".join(metric_lines(summary)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("set", type=Path)
    r.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("curve")
    c.add_argument("dirs", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        run(args.set, args.out)
    else:
        print("\n".join(curve(args.dirs)))


if __name__ == "__main__":
    main()
