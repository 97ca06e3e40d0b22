"""Does the prompt hold the answer? The share of items whose answer words survive passage trimming.

Usage: python benchmarks/prompt_context.py RUN_DIR [--sizes 4x420,4x500,...]

Reads the retrieved passages that an evaluation run recorded (`RUN_DIR/results.jsonl`; any generator: the
passages do not depend on it) and, for the answerable items that reached the generator (not refused before
generation, not answered from the programme catalogue), builds the prompt context as `answering.trim_passage`
does for each size (passages x characters), then counts the items whose evidence quote is in it and the items
whose `must_include` words all are (the most any generator could answer from that prompt). `0` characters
means the passages whole. No model is run: seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from answer_failures import holds  # benchmarks/ is on sys.path when run as a script

from assistant27.answering import trim_passage
from assistant27.evalrunner import _repair
from assistant27.evaluation import EvidenceMatcher, as_list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--sizes", default="3x420,4x420,5x420,4x500,4x600,3x700,4x0,8x0")
    args = parser.parse_args()
    matcher = EvidenceMatcher(_repair)
    rows = [json.loads(line) for line in (args.run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [
        r
        for r in rows
        if r["verdict"]["answerable"] and not r["result"]["refused"] and r["result"].get("generator") != "catalogue"
    ]
    print(f"{len(rows)} answerable items reached the generator in {args.run}")
    print(f"{'size':>7}  {'evidence in prompt':>18}  {'answer words in prompt':>22}")
    for size in args.sizes.split(","):
        n, chars = (int(x) for x in size.split("x"))
        evidence = words = 0
        for r in rows:
            context = [
                trim_passage(p["text"], r["question"], chars) if chars else p["text"]
                for p in r["result"]["passages"][:n]
            ]
            evidence += all(any(matcher.contains(c, e) for c in context) for e in as_list(r["evidence"]))
            words += holds(" ".join(context), r.get("must_include") or [])
        print(f"{size:>7}  {evidence:>18}  {words:>22}")


if __name__ == "__main__":
    main()
