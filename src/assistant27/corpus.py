"""The corpus as a whole, one view per committed generation: chunks, by id, years, BM25, the programme catalogue."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant27.config import Settings
from assistant27.lexical import BM25Index
from assistant27.programmes import Catalogue, build_catalogue, catalogue_publishers
from assistant27.schema import Chunk
from assistant27.store import ChunkStore, Filters

VectorsOf = Callable[[Sequence[str]], dict[str, np.ndarray]]  # chunk ids -> their stored vectors (ChunkStore)


class CorpusView:
    """One generation of the corpus, whole and unchanging: what one question reads from start to end."""

    def __init__(
        self,
        generation: int | None,
        chunks: list[Chunk],
        *,
        index_dir: Path | None = None,
        publishers: tuple[str, ...] = (),
        bm25_k1: float = 0.9,
        bm25_b: float = 0.2,
        vectors_of: VectorsOf | None = None,
    ) -> None:
        self.generation = generation  # None: an index written before generations
        self.chunks = chunks  # in the store's order, which BM25 breaks its ties by
        self.by_id = {c.id: c for c in chunks}
        self.years = frozenset(c.year for c in chunks if c.year)
        self._index_dir = index_dir
        self.publishers = publishers  # the corpus's publishers (catalogue.csv): named by nearly every passage
        self._bm25_params = (bm25_k1, bm25_b)
        self.catalogue_rebuilt = False  # whether reading `catalogue` built it anew (the saved one was out of date)
        self._vectors_of = vectors_of

    @cached_property
    def bm25(self) -> BM25Index:
        """BM25 over these chunks, built at first use."""
        return BM25Index(self.chunks, *self._bm25_params, publishers=self.publishers)

    @cached_property
    def _matrix(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Every chunk's vector, normalised, in `chunks` order, and the ids; None when the store does not give them
        all (an ingestion committed another generation meanwhile)."""
        if self._vectors_of is None or not self.chunks:
            return None
        found = self._vectors_of([c.id for c in self.chunks])
        if any(c.id not in found for c in self.chunks):
            return None
        matrix = np.stack([found[c.id] for c in self.chunks]).astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return matrix, np.array([c.id for c in self.chunks])

    def nearest(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[Chunk, float]] | None:
        """The `n` chunks nearest to `vector` by cosine similarity, exactly, best first (ties by id); None when the
        vectors are not at hand. Chroma's own search is approximate: it missed some of the nearest chunks, and not
        the same ones from one process to the next (benchmarks/dense_exactness.py)."""
        at_hand = self._matrix
        if at_hand is None:
            return None
        matrix, ids = at_hand
        sims = matrix @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
        found: list[tuple[Chunk, float]] = []
        for i in np.lexsort((ids, -np.round(sims, 6))):
            if len(found) == n:
                break
            if filters is None or filters.accepts(self.chunks[i]):
                found.append((self.chunks[i], float(sims[i])))
        return found

    @cached_property
    def catalogue(self) -> Catalogue:
        """The programme catalogue `ingest` saved when it was built from these chunks, else built now (and saved)."""
        if self._index_dir is None:
            self.catalogue_rebuilt = True
            return build_catalogue(self.chunks, self.publishers)
        catalogue, self.catalogue_rebuilt = Catalogue.current(self.chunks, self._index_dir, self.publishers)
        return catalogue


class Corpus:
    """The view of the store's generation: `current()` rebuilds it when an ingestion has committed another one."""

    def __init__(
        self,
        store: ChunkStore,
        *,
        index_dir: Path | None = None,
        publishers: tuple[str, ...] = (),
        bm25_k1: float = 0.9,
        bm25_b: float = 0.2,
    ) -> None:
        self.store = store
        self._index_dir = index_dir
        self._publishers = publishers
        self._bm25_params = (bm25_k1, bm25_b)
        self._view: CorpusView | None = None
        self._building = threading.Lock()

    @classmethod
    def from_settings(cls, store: ChunkStore, settings: Settings) -> Corpus:
        """The corpus of `store`, with the catalogue saved in settings' index folder and the corpus's publishers."""
        return cls(
            store,
            index_dir=settings.index_dir,
            publishers=tuple(catalogue_publishers(settings.catalogue_path)),
            bm25_k1=settings.bm25_k1,
            bm25_b=settings.bm25_b,
        )

    def current(self) -> CorpusView:
        """The view of the generation the store reads now (one small read of the store when it has not changed)."""
        generation = self.store.generation()
        with self._building:  # one rebuild for all the threads that notice the new generation
            if self._view is None or self._view.generation != generation:
                k1, b = self._bm25_params
                self._view = CorpusView(
                    generation,
                    self.store.all_chunks(generation),
                    index_dir=self._index_dir,
                    publishers=self._publishers,
                    bm25_k1=k1,
                    bm25_b=b,
                    vectors_of=self.store.embeddings_for,
                )
            return self._view
