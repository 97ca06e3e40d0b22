"""Question -> ranked passages: dense (e5) and French BM25, fused (normalised scores, or reciprocal rank fusion)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant27.corpus import Corpus, CorpusView
from assistant27.embedding import Embedder
from assistant27.language import detect_language, question_parts, years_in
from assistant27.schema import Chunk, Passage
from assistant27.store import ChunkStore, Filters


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
    """Dense + French BM25, fused, over one store and its corpus. Mode `fused` (default), `dense` or `bm25` for
    baselines."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        *,
        corpus: Corpus | None = None,
        candidates: int = 40,
        rrf_k: int = 60,
        fusion: str = "convex",
        bm25_weight: float = 0.7,
        bm25_weight_english: float = 0.4,
        coverage_weight: float = 0.5,
    ) -> None:
        self.store = store
        # BM25 reads the corpus view; publishers and BM25's parameters are the corpus's (defaults: none, 0.9, 0.2).
        self.corpus = corpus or Corpus(store)
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.bm25_weight = bm25_weight
        self.bm25_weight_english = bm25_weight_english
        self.coverage_weight = coverage_weight

    def rankings(self, query: str, filters: Filters | None = None, view: CorpusView | None = None) -> RankedLists:
        """Both rankings over one generation of the corpus: `view`, or the current one."""
        view = view or self.corpus.current()
        vector = self.embedder.embed_query(query)
        dense = view.nearest(vector, self.candidates, filters)
        if dense is None:
            dense = self.store.query(vector, self.candidates, filters, at=view.generation)
        bm25 = view.bm25.search(query, self.candidates, filters)
        return RankedLists(dense, bm25)

    def retrieve(
        self,
        query: str,
        top_k: int = 10,
        filters: Filters | None = None,
        mode: str = "fused",
        view: CorpusView | None = None,
    ) -> tuple[list[Passage], RankedLists]:
        """The `top_k` best passages for `query` in `view` (default: the current one), and their rankings."""
        view = view or self.corpus.current()
        lists = self.rankings(query, filters, view)
        dense_sim = {c.id: s for c, s in lists.dense}
        bm25_score = {c.id: s for c, s in lists.bm25}
        years = set(years_in(query))
        if mode == "dense":
            fused = lists.dense
        elif mode == "bm25":
            fused = lists.bm25
        elif self.fusion == "convex":
            # A year named in the question favours that year's publication, softly; a passage that holds more of
            # the question's other terms gains up to `coverage_weight`: BM25 alone lets one rare term outweigh
            # the rest of the question.
            terms = [t for t in view.bm25.query_terms(query) if t not in {str(y) for y in years}]
            bonus = {
                c.id: (0.1 if c.year in years else 0.0) + self.coverage_weight * view.bm25.coverage(c.id, terms)
                for c, _ in lists.dense + lists.bm25
            }
            # English questions share few words with the French text: the dense side counts for more.
            weight = self.bm25_weight_english if detect_language(query) == "en" else self.bm25_weight
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


def with_parts(query: str, passages: list[Passage], reads: int, search: Callable[[str], list[Passage]]) -> list[Passage]:
    """A compound question (« Depuis quand X est-il affiché, et depuis quand les acheteurs doivent-ils … ? »): each
    part searched on its own, and each part's best passage among those the answer reads. The whole question's
    ranking favours the part that shares the most words; another part's evidence, often in another publication,
    may rank below what is read."""
    parts = question_parts(query)
    if len(parts) < 2 or not passages:
        return passages
    read = list(passages[:reads])
    kept: set[str] = set()  # the parts' own best passages, which no other part's may replace
    for part in parts:
        best = next(iter(search(part)), None)
        if best is None:
            continue
        if best.chunk_id not in {p.chunk_id for p in read}:
            spare = [i for i, p in enumerate(read) if p.chunk_id not in kept]
            if len(read) < reads:
                read.append(best)
            elif spare:
                read[spare[-1]] = best  # in place of the last passage read that no part asked for
            else:
                continue
        kept.add(best.chunk_id)
    chosen = {p.chunk_id for p in read}
    rest = [p for p in passages if p.chunk_id not in chosen]
    return [replace(p, rank=n) for n, p in enumerate([*read, *rest][: len(passages)], start=1)]
