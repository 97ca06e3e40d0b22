"""Join the runs of a set's parts (dev-parts/dev-K.jsonl) into one run of the whole set, without generating again.

Usage: python evals/reports/2026-11-23-local-subsets/merge_parts.py SET RUN_DIR

RUN_DIR holds part-0 .. part-N, each written by `assistant27 eval dev-parts/dev-K.jsonl --out RUN_DIR/part-K`.
The parts were run one after the other, alternating two versions of the code, so that a run cut short by the
deadline still compares both on the same items. This writes RUN_DIR/results.jsonl (in SET's order),
summary.json and report.html, with each item's verdict as recorded in its part, and prints the metrics.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from assistant27.evalrunner import metric_lines, render_report
from assistant27.evaluation import Verdict, by_tag, by_type, load_set, summarise


def main() -> None:
    set_path, run_dir = Path(sys.argv[1]), Path(sys.argv[2])
    rows = {}
    parts = sorted(run_dir.glob("part-*"))
    for part in parts:
        for line in (part / "results.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["id"]] = row
    items = [item for item in load_set(set_path) if item["id"] in rows]
    ordered = [rows[item["id"]] for item in items]
    results = [row["result"] for row in ordered]
    verdicts = [Verdict(**{k: v for k, v in row["verdict"].items() if k != "rank"}) for row in ordered]
    first = json.loads((parts[0] / "summary.json").read_text(encoding="utf-8"))
    summary = {
        "set": f"{set_path} ({len(items)} items, from {', '.join(p.name for p in parts)})",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "generator": first["generator"],
        "embedder": first["embedder"],
        "settings": first["settings"],
        "metrics": summarise(verdicts, results),
        "by_type": by_type(items, verdicts, results),
        "by_tag": by_tag(items, verdicts, results),
    }
    (run_dir / "results.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in ordered), encoding="utf-8"
    )
    (run_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    (run_dir / "report.html").write_text(render_report(summary, items, results, verdicts), encoding="utf-8")
    print(summary["set"])
    print("\n".join(metric_lines(summary)))


if __name__ == "__main__":
    main()
