"""How often an answer is right at each confidence the chat shows, by part (tuning, held-out) of the frozen split.

Usage: python benchmarks/confidence_calibration.py RUN_DIR [--bands 0.4,0.8]

RUN_DIR: a suite folder written by `assistant27 eval --suite` (its sets' results.jsonl). Every answer given (not
refused) counts: right when the item is answerable and the answer holds its `must_include`; wrong otherwise,
including any answer to an unanswerable item. The bands' edges are chosen on the tuning part (the web chat's
« élevée / moyenne / faible »: webapp.confidence_label); the held-out part says whether they hold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--bands", default="0.4,0.8", help="the edges between low, medium and high")
    args = parser.parse_args()
    edges = [float(e) for e in args.bands.split(",")]
    names = ["low", "medium", "high"]
    tally: dict[tuple[str, str], list[int]] = {}
    for results in sorted(args.run.glob("*/results.jsonl")):
        for line in results.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            result = row["result"]
            if result["refused"]:
                continue
            confidence = result.get("confidence")
            band = "none" if confidence is None else names[sum(confidence >= e for e in edges)]
            counts = tally.setdefault((row.get("part") or "all", band), [0, 0])
            counts[0] += bool(row["verdict"]["answerable"] and row["verdict"]["answer_correct"])
            counts[1] += 1
    print(f"bands: low < {edges[0]} <= medium < {edges[1]} <= high; 'none': answers without a confidence (catalogue)")
    print("| part | band | answers | right | share right |\n|---|---|---|---|---|")
    for (part, band), (right, total) in sorted(tally.items(), key=lambda kv: (kv[0][0] != "tuning", kv[0][1])):
        print(f"| {part} | {band} | {total} | {right} | {right / total:.2f} |")


if __name__ == "__main__":
    main()
