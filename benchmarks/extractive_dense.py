"""How much the extractive generator gains from weighing each sentence's meaning (DENSE_WEIGHT) or its holding a thing
of the kind asked (KIND_WEIGHT), on recorded passages, by part (tuning, held-out) of the frozen split.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/extractive_dense.py RUN_DIR [RUN_DIR ...]
           [--weights 0.5,1,2,4,8,12,16,24,32,64] [--kind-weights 0.25,0.5,1,2]

With --kind-weights, the dense weight stays at DENSE_WEIGHT and each kind weight is tried; the unanswerable items
are replayed too, and counted refused when the answer holds nothing of the kind asked (kinds.answer_holds_kind,
the check the assistant applies after any generator).

Reads RUN_DIR/results.jsonl (an `assistant27 eval` run with the extractive generator) and, for every item the
extractive generator answered from the question's own passages (not the catalogue, not a year-by-year answer,
not refused), answers again from the first four recorded passages: once with the words alone (weight 0), then
once per weight with the real embedder's similarity (multilingual-e5-small; needs `make models`). Prints, per
weight, how many answers hold every `must_include` group (the EVAL_FORMAT definition) and which items changed.
No retrieval is run, so differences come from the sentence choice alone; `assistant27 eval` measures the whole.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from assistant27.assistant import make_embedder
from assistant27.config import Settings
from assistant27.embedding import similarity_to
from assistant27.evaluation import normalise
from assistant27.generators import DENSE_WEIGHT, ExtractiveGenerator, GenerationRequest
from assistant27.kinds import answer_holds_kind
from assistant27.schema import Passage

_PASSAGE_FIELDS = ("rank", "chunk_id", "source", "title", "year", "kind", "page", "heading", "text", "score", "scores")


def holds(text: str, groups: list[list[str]]) -> bool:
    answer = normalise(text)
    return all(any(normalise(alt) in answer for alt in group) for group in groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--weights", default="0.5,1,2,4,8,12,16,24,32,64")
    parser.add_argument("--kind-weights", default="")
    args = parser.parse_args()
    if args.kind_weights:
        configs = [(DENSE_WEIGHT, 0.0)] + [(DENSE_WEIGHT, float(w)) for w in args.kind_weights.split(",")]
    else:
        configs = [(0.0, 0.0)] + [(float(w), 0.0) for w in args.weights.split(",")]

    embedded = similarity_to(make_embedder(Settings.from_env()))
    cache: dict[tuple[str, str], float] = {}

    def similarity(question: str, sentences: list[str]) -> np.ndarray:
        new = [s for s in dict.fromkeys(sentences) if (question, s) not in cache]
        if new:
            cache.update({(question, s): float(v) for s, v in zip(new, embedded(question, new))})
        return np.array([cache[question, s] for s in sentences])

    items = []
    lines = [(run, line) for run in args.runs for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    for run, line in lines:
        row = {**json.loads(line), "run": run.name}
        result = row["result"]
        if result["refused"] or result["generator"] != "extractive":
            continue
        if not row["verdict"]["answerable"] and not args.kind_weights:
            continue
        if re.match(r"(19|20)\d\d : ", result.get("generated") or ""):
            continue  # answered year by year, each from its own passages: not recorded here
        passages = [Passage(**{k: p.get(k) for k in _PASSAGE_FIELDS}) for p in result["passages"][:4]]
        items.append((row, passages))

    baseline: dict[str, bool] = {}
    started = time.perf_counter()
    for n, (dense, kind) in enumerate(configs):
        tally: dict[str, list[int]] = {}  # part -> [answers right, answerable, answers lacking the kind, unanswerable]
        changed = []
        for row, passages in items:
            generator = ExtractiveGenerator(similarity=similarity if dense else None, dense_weight=dense, kind_weight=kind)
            text = "".join(generator.generate(GenerationRequest(row["question"], passages)))
            counts = tally.setdefault(row.get("part") or "all", [0, 0, 0, 0])
            if not row["verdict"]["answerable"]:
                counts[2] += not answer_holds_kind(row["question"], text)
                counts[3] += 1
                continue
            good = holds(text, row["must_include"]) and (not args.kind_weights or answer_holds_kind(row["question"], text))
            counts[0] += good
            counts[1] += 1
            key = f"{row['run']}:{row['id']}"
            if not n:
                baseline[key] = good
            elif good != baseline[key]:
                changed.append(("+" if good else "-") + row["id"])
        elapsed = time.perf_counter() - started
        parts = "; ".join(
            f"{part}: {c[0]}/{c[1]} right" + (f", unanswerable refused {c[2]}/{c[3]}" if c[3] else "")
            for part, c in sorted(tally.items(), reverse=True)
        )
        print(f"dense {dense:g}, kind {kind:g}: {parts} ({elapsed:.0f} s) {' '.join(changed)}")


if __name__ == "__main__":
    main()
