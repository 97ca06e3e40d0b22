"""Freeze the held-out part of an evaluation set: evals/split.json says, per set, which items are held out.

Usage: python3 evals/split.py evals/publications.jsonl [--all-held-out] [--check]

Changes are tuned on the tuning part only; the held-out part tells a real gain from fitting. A third of the
items of each question type (rounded up) is drawn at random with the manifest's fixed seed, so the held-out
part has the set's mix. `--all-held-out` holds a whole set out (a set written from a corpus that nothing was
built from). An item already in the manifest keeps its part: the split is frozen once written; items added
to a set later are drawn the same way among themselves. `--check` only reports what the manifest lacks.

Standalone (standard library only), like check_set.py.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 20261204
FRACTION = 1 / 3
MANIFEST = "split.json"


def draw(items: list[dict], seed: int, fraction: float) -> list[str]:
    """The ids held out: per type, ceil(fraction * n) items drawn with the seed (same input, same draw)."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for item in items:
        by_type[str(item["type"])].append(str(item["id"]))
    rng = random.Random(seed)
    held: list[str] = []
    for kind in sorted(by_type):
        ids = sorted(by_type[kind])
        held += rng.sample(ids, math.ceil(fraction * len(ids)))
    return sorted(held)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set", type=Path)
    parser.add_argument("--all-held-out", action="store_true", help="hold the whole set out")
    parser.add_argument("--check", action="store_true", help="only say whether every item has its part")
    args = parser.parse_args(argv)
    if not args.set.is_file():
        print(f"Error: no file {args.set}. Give the path of a .jsonl set.", file=sys.stderr)
        return 2
    path = args.set.parent / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    manifest.setdefault(
        "description",
        "The held-out part of each evaluation set, frozen: tune on the tuning part only, report both. "
        "Drawn by evals/split.py: per question type, a third of the items (rounded up) at random with the seed.",
    )
    manifest.setdefault("seed", SEED)
    manifest.setdefault("fraction", round(FRACTION, 4))
    sets = manifest.setdefault("sets", {})
    items = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    entry = sets.get(args.set.name)
    ids = {str(item["id"]) for item in items}
    if entry is not None:
        known = ids if entry.get("held_out") == "all" else set(entry.get("held_out", [])) | set(entry.get("tuning", []))
        new = [item for item in items if str(item["id"]) not in known]
    else:
        new = items
    if args.check:
        print(f"{args.set.name}: {len(new)} item(s) without a part" if new else f"{args.set.name}: every item has its part")
        return 1 if new else 0
    if args.all_held_out:
        sets[args.set.name] = {"held_out": "all"}
    elif entry is not None and entry.get("held_out") == "all":
        print(f"{args.set.name} is held out whole already; nothing to draw.")
        return 0
    elif new:
        held = draw(new, int(manifest["seed"]) + len(ids) - len(new), float(manifest["fraction"]))
        old = entry or {"held_out": [], "tuning": []}
        sets[args.set.name] = {
            "held_out": sorted(set(old["held_out"]) | set(held)),
            "tuning": sorted(set(old["tuning"]) | {str(i["id"]) for i in new} - set(held)),
        }
    else:
        print(f"{args.set.name}: every item has its part already; the split is frozen.")
        return 0
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    entry = sets[args.set.name]
    held_n = len(ids) if entry["held_out"] == "all" else len(entry["held_out"])
    print(f"{path}: {args.set.name}: {held_n} of {len(ids)} items held out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
