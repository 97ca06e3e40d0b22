"""Variants of the extractive generator replayed on recorded passages, by part (tuning, held-out) of the frozen split.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/extractive_replay.py RUN_DIR [RUN_DIR ...]
           --variant NAME='{"read_on": 400}' [--variant ...] [--show NAME] [--passages N]

Each variant is a set of `ExtractiveGenerator` keyword arguments; the first line is always the defaults. For every
item the extractive generator answered from the question's own passages in RUN_DIR/results.jsonl (not the
catalogue, not a year-by-year answer, not refused), it answers again from the first four recorded passages (N with --passages), with
the real embedder's similarity (needs `make models`). Prints, per variant and part, how many answers hold every
`must_include` group (the EVAL_FORMAT definition), the mean answer length, and the items that changed against the
defaults. No retrieval is run: differences come from the generator alone; `assistant27 eval` measures the whole.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant27.assistant import make_embedder
from assistant27.config import Settings
from assistant27.embedding import similarity_to
from assistant27.evaluation import normalise
from assistant27.generators import ExtractiveGenerator, GenerationRequest
from assistant27.schema import Passage

_PASSAGE_FIELDS = ("rank", "chunk_id", "source", "title", "year", "kind", "page", "heading", "text", "score", "scores")


def holds(text: str, groups: list[list[str]]) -> bool:
    answer = normalise(text)
    return all(any(normalise(alt) in answer for alt in group) for group in groups)


def recorded(runs: list[Path], keep: int = 4) -> list[tuple[dict[str, Any], list[Passage]]]:
    """The answerable items a run answered with the extractive generator from their own passages (the first `keep`)."""
    items = []
    for run in runs:
        for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines():
            row = {**json.loads(line), "run": run.name}
            result = row["result"]
            if result["refused"] or result["generator"] != "extractive" or not row["verdict"]["answerable"]:
                continue
            if re.match(r"(19|20)\d\d : ", result.get("generated") or ""):
                continue  # answered year by year, each from its own passages: not recorded here
            passages = [Passage(**{k: p.get(k) for k in _PASSAGE_FIELDS}) for p in result["passages"][:keep]]
            passages = [replace(p, heading=q.get("section") or "") for p, q in zip(passages, result["passages"])]
            items.append((row, passages))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--variant", action="append", default=[], help="NAME=JSON keyword arguments")
    parser.add_argument("--show", default="", help="print the changed answers of this variant")
    parser.add_argument("--passages", type=int, default=4, help="recorded passages handed to each variant")
    parser.add_argument("--words-only", action="store_true", help="no embedder: words alone (a quick proxy)")
    args = parser.parse_args()
    variants: list[tuple[str, dict[str, Any]]] = [("defaults", {})]
    for spec in args.variant:
        name, _, kwargs = spec.partition("=")
        variants.append((name, json.loads(kwargs)))

    embedded = None if args.words_only else similarity_to(make_embedder(Settings.from_env()))
    cache: dict[tuple[str, str], float] = {}

    def similarity(question: str, sentences: list[str]) -> np.ndarray:
        new = [s for s in dict.fromkeys(sentences) if (question, s) not in cache]
        if new and embedded is not None:
            cache.update({(question, s): float(v) for s, v in zip(new, embedded(question, new))})
        return np.array([cache[question, s] for s in sentences])

    items = recorded(args.runs, args.passages)
    baseline: dict[str, bool] = {}
    for name, kwargs in variants:
        tally: dict[str, list[int]] = {}  # part -> [right, total, characters]
        changed = []
        for row, passages in items:
            generator = ExtractiveGenerator(similarity=None if args.words_only else similarity, **kwargs)
            text = "".join(generator.generate(GenerationRequest(row["question"], passages)))
            good = holds(text, row["must_include"])
            counts = tally.setdefault(row.get("part") or "all", [0, 0, 0])
            counts[0] += good
            counts[1] += 1
            counts[2] += len(text)
            key = f"{row['run']}:{row['id']}"
            if name == "defaults":
                baseline[key] = good
            elif good != baseline[key]:
                changed.append(("+" if good else "-") + row["id"])
                if name == args.show:
                    print(f"  {'+' if good else '-'}{row['id']} {row['question']}\n    {text[:600]}")
        parts = "; ".join(
            f"{part}: {c[0]}/{c[1]} right, {c[2] / max(c[1], 1):.0f} chars"
            for part, c in sorted(tally.items(), reverse=True)
        )
        print(f"{name}: {parts} {' '.join(changed)}", flush=True)


if __name__ == "__main__":
    main()
