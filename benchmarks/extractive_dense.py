"""How much the extractive generator gains from weighing each sentence's meaning (DENSE_WEIGHT), on recorded passages.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/extractive_dense.py RUN_DIR [--weights 0.5,1,2,4,8,12,16,24,32,64]

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
from assistant27.generators import ExtractiveGenerator, GenerationRequest
from assistant27.schema import Passage

_PASSAGE_FIELDS = ("rank", "chunk_id", "source", "title", "year", "kind", "page", "heading", "text", "score", "scores")


def holds(text: str, groups: list[list[str]]) -> bool:
    answer = normalise(text)
    return all(any(normalise(alt) in answer for alt in group) for group in groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--weights", default="0.5,1,2,4,8,12,16,24,32,64")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]

    embedded = similarity_to(make_embedder(Settings.from_env()))
    cache: dict[tuple[str, str], float] = {}

    def similarity(question: str, sentences: list[str]) -> np.ndarray:
        new = [s for s in dict.fromkeys(sentences) if (question, s) not in cache]
        if new:
            cache.update({(question, s): float(v) for s, v in zip(new, embedded(question, new))})
        return np.array([cache[question, s] for s in sentences])

    items = []
    for line in (args.run / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        result = row["result"]
        if result["refused"] or result["generator"] != "extractive" or not row["verdict"]["answerable"]:
            continue
        if re.match(r"(19|20)\d\d : ", result.get("generated") or ""):
            continue  # answered year by year, each from its own passages: not recorded here
        passages = [Passage(**{k: p.get(k) for k in _PASSAGE_FIELDS}) for p in result["passages"][:4]]
        items.append((row, passages))

    baseline: dict[str, bool] = {}
    started = time.perf_counter()
    for weight in [0.0, *weights]:
        correct, changed = 0, []
        for row, passages in items:
            generator = ExtractiveGenerator(similarity=similarity if weight else None, dense_weight=weight)
            text = "".join(generator.generate(GenerationRequest(row["question"], passages)))
            good = holds(text, row["must_include"])
            correct += good
            if not weight:
                baseline[row["id"]] = good
            elif good != baseline[row["id"]]:
                changed.append(("+" if good else "-") + row["id"])
        elapsed = time.perf_counter() - started
        print(
            f"weight {weight:g}: {correct}/{len(items)} answers hold the answer ({elapsed:.0f} s) {' '.join(changed)}"
        )


if __name__ == "__main__":
    main()
