"""How many questions' dense candidates (the top 40) differ from an exact search over every committed vector:
Chroma's own search (`ChunkStore.query`) and the retriever's (`CorpusView.nearest`).

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/dense_exactness.py [SET.jsonl ...]   (default: our two sets)
Chroma's search is approximate: run it under two PYTHONHASHSEED values to see its misses move from one process to
the next.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from assistant27.assistant import Assistant
from assistant27.generators import ExtractiveGenerator

CANDIDATES = 40


def main(sets: list[Path]) -> None:
    assistant = Assistant.from_settings(generator=ExtractiveGenerator())
    view = assistant.corpus.current()
    ids = [c.id for c in view.chunks]
    vectors = assistant.store.embeddings_for(ids)
    matrix = np.stack([vectors[i] for i in ids])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    chroma = ours = total = 0
    for path in sets:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            vector = assistant.embedder.embed_query(json.loads(line)["question"])
            sims = matrix @ (vector / np.linalg.norm(vector))
            exact = {ids[i] for i in np.lexsort((np.array(ids), -np.round(sims, 6)))[:CANDIDATES]}
            approximate = {c.id for c, _ in assistant.store.query(vector, CANDIDATES, None, at=view.generation)}
            nearest = {c.id for c, _ in view.nearest(vector, CANDIDATES) or []}
            total += 1
            chroma += approximate != exact
            ours += nearest != exact
    print(f"{total} questions with dense candidates other than the exact top {CANDIDATES}: Chroma's search {chroma},")
    print(f"the retriever's (CorpusView.nearest) {ours}")

if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or [Path("evals/publications.jsonl"), Path("evals/hard_unanswerable.jsonl")])
