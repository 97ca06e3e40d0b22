"""French BM25 over a set of chunks: the index, a question's terms, the share of them a chunk holds."""

from __future__ import annotations

import numpy as np

from assistant27.analysis import analyze, analyze_query
from assistant27.schema import Chunk
from assistant27.store import Filters


class BM25Index:
    """bm25s over the analysed text (title, section and passage) of every chunk in the store."""

    def __init__(self, chunks: list[Chunk], k1: float = 0.9, b: float = 0.2, publishers: tuple[str, ...] = ()) -> None:
        import bm25s

        self.chunks = chunks
        self.publishers = publishers  # names a question drops: nearly every passage repeats its publisher's
        self._by_id = {c.id: i for i, c in enumerate(chunks)}
        # k1 0.9, b 0.2 (bm25s defaults: 1.5, 0.75): a weaker length normalisation stops short chunks (a heading
        # and a link list) from outranking the passage that holds the answer; measured in benchmarks/README.md.
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        docs = [analyze(f"{c.heading} {c.text}") or ["_"] for c in chunks]
        if docs:
            self._bm25.index(docs, show_progress=False)
        self.vocabulary: frozenset[str] = frozenset(self._bm25.vocab_dict) if docs else frozenset()
        self._terms = {c.id: frozenset(d) for c, d in zip(chunks, docs)}

    def coverage(self, chunk_id: str, terms: list[str]) -> float:
        """The share of the distinct `terms` that the chunk holds (0 for an unknown chunk or no terms)."""
        wanted = set(terms)
        if not wanted:
            return 0.0
        return len(wanted & self._terms.get(chunk_id, frozenset())) / len(wanted)

    def query_terms(self, query: str) -> list[str]:
        """The BM25 terms of a question: analysis.analyze_query against this index's vocabulary."""
        return analyze_query(query, self.vocabulary, self.publishers)

    def search(self, query: str, n: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        terms = [t for t in self.query_terms(query) if t in self.vocabulary]
        if not terms or not self.chunks:
            return []
        scores = self._bm25.get_scores(terms)
        order = np.argsort(-scores)
        out: list[tuple[Chunk, float]] = []
        for i in order:
            if scores[i] <= 0 or len(out) >= n:
                break
            chunk = self.chunks[int(i)]
            if filters is None or filters.accepts(chunk):
                out.append((chunk, float(scores[i])))
        return out
