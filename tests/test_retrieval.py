"""Retrieval: both fusions over real chromadb and BM25, filters, the year bonus, baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import CountingEmbedder, build_assistant, write_corpus

from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator
from assistant27.indexing import ingest
from assistant27.lexical import BM25Index
from assistant27.retrieval import Retriever, convex_fusion, reciprocal_rank_fusion, with_parts
from assistant27.schema import Chunk, Passage
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


def test_coverage_is_the_share_of_distinct_question_terms_a_chunk_holds() -> None:
    index = BM25Index([Chunk("a", "a.txt", "Le budget des collectivités", None, "", 0, 1)])
    terms = index.query_terms("budget des collectivités et des régions ?")
    assert index.coverage("a", terms) == 2 / 3  # budget, collectivités; not régions
    assert index.coverage("a", index.query_terms("les budgets")) == 1.0
    assert index.coverage("unknown", terms) == index.coverage("a", []) == 0.0


class _ListStore:
    """A store whose dense search returns every chunk with the same similarity (so BM25 and coverage decide)."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks

    def generation(self) -> int:
        return 1

    def all_chunks(self, at: int | None = None) -> list[Chunk]:
        return self.chunks

    def embeddings_for(self, ids: list[str]) -> dict[str, np.ndarray]:
        return {}  # no vectors at hand: the retriever asks `query` for the dense side

    def query(
        self, vector: np.ndarray, n: int, filters: Filters | None = None, at: int | None = None
    ) -> list[tuple[Chunk, float]]:
        return [(c, 0.8) for c in self.chunks[:n]]


@pytest.mark.parametrize(("coverage_weight", "first"), [(0.0, "rare-term-only"), (0.5, "whole-question")])
def test_a_passage_with_the_whole_question_outranks_one_rare_term_repeated(coverage_weight: float, first: str) -> None:
    common = [
        Chunk(f"f{i}", "a.txt", f"budget des collectivités numéro {i}, autres sujets", None, "", 0, 1) for i in range(8)
    ]
    rare = Chunk("rare-term-only", "a.txt", "Erasmus Erasmus Erasmus, un voyage", None, "", 0, 1, year=2022)
    whole = Chunk("whole-question", "a.txt", "Le voyage Erasmus a réuni le budget des collectivités", None, "", 0, 1)
    store = _ListStore([*common, rare, whole])
    retriever = Retriever(store, CountingEmbedder(), coverage_weight=coverage_weight)  # type: ignore[arg-type]
    passages, lists = retriever.retrieve("Erasmus budget collectivités", 3)
    assert lists.bm25[0][0].id == "rare-term-only"  # BM25 alone prefers the repeated rare term
    assert passages[0].chunk_id == first


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


class _ScoredStore(_ListStore):
    """A store whose dense search gives each chunk its own similarity."""

    def __init__(self, chunks: list[Chunk], similarity: dict[str, float]) -> None:
        super().__init__(chunks)
        self.similarity = similarity

    def query(
        self, vector: np.ndarray, n: int, filters: Filters | None = None, at: int | None = None
    ) -> list[tuple[Chunk, float]]:
        return sorted(((c, self.similarity[c.id]) for c in self.chunks[:n]), key=lambda cs: -cs[1])


@pytest.mark.parametrize(
    ("question", "first"), [("Who funds Archipel?", "meaning"), ("Qui finance Archipel ?", "word")]
)
def test_a_question_is_searched_with_the_weights_of_the_language_it_is_answered_in(question: str, first: str) -> None:
    """« Who funds Archipel? » was answered in English but searched with the French weights (one English word)."""
    word = Chunk("word", "a.txt", "Archipel, Archipel et encore Archipel", None, "", 0, 1)
    meaning = Chunk("meaning", "a.txt", "La Fondation Exemple soutient le programme", None, "", 0, 1)
    others = [Chunk(f"o{i}", "a.txt", f"autre sujet numéro {i}", None, "", 0, 1) for i in range(3)]
    similarity = {"word": 0.70, "meaning": 0.90, **{c.id: 0.60 for c in others}}
    store = _ScoredStore([word, meaning, *others], similarity)
    # French questions: BM25 alone; English ones: dense alone.
    retriever = Retriever(store, CountingEmbedder(), bm25_weight=1.0, bm25_weight_english=0.0, coverage_weight=0.0)  # type: ignore[arg-type]
    passages, _ = retriever.retrieve(question, 2)
    assert passages[0].chunk_id == first


def test_dense_search_is_exact_and_the_same_in_every_process(retriever: Retriever) -> None:
    """The dense side ranks every committed vector (Chroma's approximate search missed some nearest chunks, not the
    same ones from one process to the next): the corpus view's answer is the exact one, ties broken by id."""
    view = retriever.corpus.current()
    vector = retriever.embedder.embed_query("réglementation des achats publics")
    found = view.nearest(vector, 3)
    assert found is not None
    vectors = retriever.store.embeddings_for([c.id for c in view.chunks])
    exact = sorted(
        view.chunks,
        key=lambda c: (-round(float(vectors[c.id] @ vector / np.linalg.norm(vectors[c.id]) / np.linalg.norm(vector)), 6), c.id),
    )[:3]
    assert [c.id for c, _ in found] == [c.id for c in exact]
    assert [c.id for c, _ in retriever.rankings("réglementation des achats publics").dense[:3]] == [c.id for c in exact]
    only_2025 = view.nearest(vector, 10, Filters(year_min=2025))
    assert only_2025 and all(c.year == 2025 for c, _ in only_2025)


def test_each_part_of_a_compound_question_has_its_best_passage_read(isolated_state: Path) -> None:
    """« Depuis quand X est-il affiché, et depuis quand les acheteurs doivent-ils en tenir compte ? »: when the
    passages read all serve the first part, the second part's best passage, searched on its own, takes the last
    place; a question that asks one thing keeps its ranking."""
    files = {
        f"affichage-{i}.txt": f"L'indice de réparabilité est affiché sur les produits depuis 2021, note {i}. "
        "L'affichage de l'indice aide les consommateurs à choisir des produits réparables."
        for i in range(4)
    }
    files["achats.txt"] = "Les acheteurs publics doivent en tenir compte dans leurs marchés depuis 2023."
    write_corpus(isolated_state / "corpus", files)
    assistant = build_assistant(Settings.from_env(), ExtractiveGenerator())

    def search(query: str) -> list[Passage]:
        return assistant.retriever.retrieve(query, 10)[0]

    first = "Depuis quand l'indice de réparabilité est-il affiché sur les produits ?"
    crowded = search(first)  # a ranking that favours the first part
    assert crowded[0].source.startswith("affichage") and crowded[1].source.startswith("affichage")
    question = first.rstrip(" ?") + ", et depuis quand les acheteurs publics doivent-ils en tenir compte ?"
    read = with_parts(question, crowded, 2, search)[:2]
    assert {p.source.split("-")[0] for p in read} == {"affichage", "achats.txt"}
    assert [p.rank for p in with_parts(question, crowded, 2, search)] == list(range(1, len(crowded) + 1))
    assert with_parts(first, crowded, 2, search) == crowded
