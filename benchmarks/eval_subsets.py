"""Two fixed, disjoint subsets of an evaluation set for tuning the generator: dev and held-out.

Usage: python benchmarks/eval_subsets.py [--set evals/publications.jsonl] [--every 6] --out DIR

The rule is mechanical, so nobody picks items by their results: the answerable items are taken in file
order, the k-th (0-based) goes to dev when k % every == 0 and to held-out when k % every == every // 2;
the unanswerable items alternate, even positions to dev and odd ones to held-out. With the default on
evals/publications.jsonl (240 answerable, 20 unanswerable): 40 + 10 items each. Writes DIR/dev.jsonl and
DIR/heldout.jsonl (the same JSON lines as the set) and prints their ids; DIR/heldout-half.jsonl keeps every
other answerable item of held-out (the 1st, 3rd, ...) and all its unanswerable ones, for a machine too busy
to run the whole held-out subset through the local model twice.

Run them through the local model with
    assistant27 eval DIR/dev.jsonl --generator local --out evals/reports/DATE-local-dev-NAME
"""

from __future__ import annotations

import argparse
from pathlib import Path


def split(lines: list[str], every: int) -> tuple[list[str], list[str]]:
    """(dev, held-out) lines of a JSON Lines set, by the rule in this module's docstring."""
    import json

    dev: list[str] = []
    heldout: list[str] = []
    answerable = unanswerable = 0
    for line in lines:
        if not line.strip():
            continue
        if json.loads(line).get("type") == "unanswerable":
            (dev if unanswerable % 2 == 0 else heldout).append(line)
            unanswerable += 1
            continue
        if answerable % every == 0:
            dev.append(line)
        elif answerable % every == every // 2:
            heldout.append(line)
        answerable += 1
    return dev, heldout


def half(lines: list[str]) -> list[str]:
    """Every other answerable item (the 1st, 3rd, ...) and every unanswerable one, in order."""
    import json

    kept: list[str] = []
    answerable = 0
    for line in lines:
        if json.loads(line).get("type") == "unanswerable":
            kept.append(line)
            continue
        if answerable % 2 == 0:
            kept.append(line)
        answerable += 1
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path("evals/publications.jsonl"))
    parser.add_argument("--every", type=int, default=6)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import json

    dev, heldout = split(args.set.read_text(encoding="utf-8").splitlines(), args.every)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, lines in (("dev", dev), ("heldout", heldout), ("heldout-half", half(heldout))):
        (args.out / f"{name}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"{name}: {len(lines)} items: {' '.join(json.loads(line)['id'] for line in lines)}")


if __name__ == "__main__":
    main()
