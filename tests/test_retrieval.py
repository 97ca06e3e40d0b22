"""Retrieval: both fusions over real chromadb and BM25, filters, the year bonus, baselines."""

from __future__ import annotations

import pytest
from conftest import CountingEmbedder

from assistant27.config import Settings
from assistant27.indexing import ingest
from assistant27.retrieval import Retriever, convex_fusion, reciprocal_rank_fusion
from assistant27.schema import Chunk
from assistant27.store import ChunkStore, Filters


def chunk(i: str, year: int = 2022) -> Chunk:
    return Chunk(i, "a.txt", i, None, "", 0, 1, year=year)


def test_rrf_rewards_agreement_between_lists() -> None:
    a, b, c = chunk("a"), chunk("b"), chunk("c")
    fused = reciprocal_rank_fusion([[a, b, c], [b, c, a]], k=60)
    assert [x.id for x, _ in fused] == ["b", "a", "c"]


def test_convex_fusion_keeps_a_clear_bm25_winner_first() -> None:
    a, b = chunk("a"), chunk("b")
    dense = [(b, 0.90), (a, 0.89)]  # near tie in the dense list
    lexical = [(a, 12.0), (b, 1.0)]  # a clear BM25 winner
    assert [x.id for x, _ in convex_fusion(dense, lexical, 0.7)] == ["a", "b"]
    assert [x.id for x, _ in convex_fusion(dense, lexical, 0.7, {"b": 1.0})] == ["b", "a"]


@pytest.fixture
def retriever(settings: Settings) -> Retriever:
    store = ChunkStore.open(settings.index_dir, create=True)
    embedder = CountingEmbedder()
    ingest(settings, lambda: embedder, store, echo=lambda _line: None, show_progress=False)
    return Retriever(store, embedder)


@pytest.mark.parametrize("mode", ["fused", "bm25", "dense"])
def test_every_mode_finds_the_passage(retriever: Retriever, mode: str) -> None:
    passages, _ = retriever.retrieve("réglementation des achats publics", 3, mode=mode)
    assert "réglementation" in passages[0].text
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))


def test_rrf_setting_is_honoured(retriever: Retriever) -> None:
    retriever.fusion = "rrf"
    passages, _ = retriever.retrieve("reglementation des achats", 3)
    assert "réglementation" in passages[0].text


def test_filters_apply_to_both_lists(retriever: Retriever) -> None:
    passages, lists = retriever.retrieve("programme", 10, Filters(year_max=2022))
    assert passages and all(p.year == 2022 for p in passages)
    assert all(c.year == 2022 for c, _ in lists.dense + lists.bm25)
