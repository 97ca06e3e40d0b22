"""Question -> ranked passages: dense (e5) and French BM25, fused (normalised scores, or reciprocal rank fusion)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant27.analysis import analyze, analyze_query, is_english
from assistant27.embedding import Embedder
from assistant27.schema import Chunk, Passage
from assistant27.store import ChunkStore, Filters

_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")


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


@dataclass
class RankedLists:
    """The separate rankings before fusion, kept for baselines and refusal decisions."""

    dense: list[tuple[Chunk, float]]
    bm25: list[tuple[Chunk, float]]


def reciprocal_rank_fusion(
    lists: list[list[Chunk]], k: int = 60, weights: list[float] | None = None
) -> list[tuple[Chunk, float]]:
    """Score each chunk by sum(w / (k + rank)) over the lists it appears in; best first."""
    weights = weights or [1.0] * len(lists)
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for ranking, w in zip(lists, weights):
        for rank, chunk in enumerate(ranking, start=1):
            scores[chunk.id] = scores.get(chunk.id, 0.0) + w / (k + rank)
            chunks[chunk.id] = chunk
    order = sorted(scores, key=lambda i: -scores[i])
    return [(chunks[i], scores[i]) for i in order]


def convex_fusion(
    dense: list[tuple[Chunk, float]],
    lexical: list[tuple[Chunk, float]],
    bm25_weight: float,
    bonus: dict[str, float] | None = None,
) -> list[tuple[Chunk, float]]:
    """Mix min-max normalised scores: w * BM25 + (1 - w) * dense (+ bonus); a list a chunk is absent from adds 0.

    Measured on evals/publications.jsonl (benchmarks/retrieval_variants.py), this beats RRF here:
    RRF cannot tell a clear BM25 winner from a near tie, and e5-small's dense ranking is the weaker one.
    """

    def normalised(pairs: list[tuple[Chunk, float]]) -> dict[str, float]:
        if not pairs:
            return {}
        hi, lo = max(s for _, s in pairs), min(s for _, s in pairs)
        return {c.id: (s - lo) / (hi - lo) if hi > lo else 1.0 for c, s in pairs}

    d, b = normalised(dense), normalised(lexical)
    chunks = {c.id: c for c, _ in dense + lexical}
    bonus = bonus or {}
    scores = {i: bm25_weight * b.get(i, 0.0) + (1 - bm25_weight) * d.get(i, 0.0) + bonus.get(i, 0.0) for i in chunks}
    return [(chunks[i], scores[i]) for i in sorted(scores, key=lambda i: -scores[i])]


class Retriever:
    """Dense + French BM25, fused, over one store. Mode `fused` (default), `dense` or `bm25` for baselines."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        *,
        candidates: int = 40,
        rrf_k: int = 60,
        fusion: str = "convex",
        bm25_weight: float = 0.7,
        bm25_weight_english: float = 0.4,
        coverage_weight: float = 0.5,
        bm25_k1: float = 0.9,
        bm25_b: float = 0.2,
        publishers: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.publishers = publishers
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.bm25_weight = bm25_weight
        self.bm25_weight_english = bm25_weight_english
        self.coverage_weight = coverage_weight
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b
        self._bm25: BM25Index | None = None

    @property
    def bm25(self) -> BM25Index:
        if self._bm25 is None:
            self._bm25 = BM25Index(self.store.all_chunks(), self.bm25_k1, self.bm25_b, self.publishers)
        return self._bm25

    def rankings(self, query: str, filters: Filters | None = None) -> RankedLists:
        vector = self.embedder.embed_query(query)
        dense = self.store.query(vector, self.candidates, filters)
        bm25 = self.bm25.search(query, self.candidates, filters)
        return RankedLists(dense, bm25)

    def retrieve(
        self, query: str, top_k: int = 10, filters: Filters | None = None, mode: str = "fused"
    ) -> tuple[list[Passage], RankedLists]:
        """The `top_k` best passages for `query`, and the rankings they were fused from."""
        lists = self.rankings(query, filters)
        dense_sim = {c.id: s for c, s in lists.dense}
        bm25_score = {c.id: s for c, s in lists.bm25}
        years = {int(y) for y in _YEAR.findall(query)}
        if mode == "dense":
            fused = lists.dense
        elif mode == "bm25":
            fused = lists.bm25
        elif self.fusion == "convex":
            # A year named in the question favours that year's publication, softly; a passage that holds more of
            # the question's other terms gains up to `coverage_weight`: BM25 alone lets one rare term outweigh
            # the rest of the question.
            terms = [t for t in self.bm25.query_terms(query) if t not in {str(y) for y in years}]
            bonus = {
                c.id: (0.1 if c.year in years else 0.0) + self.coverage_weight * self.bm25.coverage(c.id, terms)
                for c, _ in lists.dense + lists.bm25
            }
            # English questions share few words with the French text: the dense side counts for more.
            weight = self.bm25_weight_english if is_english(query) else self.bm25_weight
            fused = convex_fusion(lists.dense, lists.bm25, weight, bonus)
        else:
            rankings = [[c for c, _ in lists.dense], [c for c, _ in lists.bm25]]
            # A year named in the question favours that year's publication, softly (a third ranking).
            if years:
                pool = reciprocal_rank_fusion(rankings, self.rrf_k)
                rankings.append([c for c, _ in pool if c.year in years])
            fused = reciprocal_rank_fusion(rankings, self.rrf_k)
        passages = []
        for rank, (chunk, score) in enumerate(fused[:top_k], start=1):
            scores = {}
            if chunk.id in dense_sim:
                scores["dense"] = dense_sim[chunk.id]
            if chunk.id in bm25_score:
                scores["bm25"] = bm25_score[chunk.id]
            passages.append(Passage.of(chunk, rank, float(score), scores))
        return passages, lists
