"""The corpus as a whole, one view per committed generation: chunks, by id, years, BM25, the programme catalogue."""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from assistant27.config import Settings
from assistant27.lexical import BM25Index
from assistant27.programmes import Catalogue, build_catalogue, catalogue_publishers
from assistant27.schema import Chunk
from assistant27.store import ChunkStore


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
    ) -> None:
        self.generation = generation  # None: an index written before generations
        self.chunks = chunks  # in the store's order, which BM25 breaks its ties by
        self.by_id = {c.id: c for c in chunks}
        self.years = frozenset(c.year for c in chunks if c.year)
        self._index_dir = index_dir
        self._publishers = publishers
        self._bm25_params = (bm25_k1, bm25_b)
        self.catalogue_rebuilt = False  # whether reading `catalogue` built it anew (the saved one was out of date)

    @cached_property
    def bm25(self) -> BM25Index:
        """BM25 over these chunks, built at first use."""
        return BM25Index(self.chunks, *self._bm25_params, publishers=self._publishers)

    @cached_property
    def catalogue(self) -> Catalogue:
        """The programme catalogue `ingest` saved when it was built from these chunks, else built now (and saved)."""
        if self._index_dir is None:
            self.catalogue_rebuilt = True
            return build_catalogue(self.chunks, self._publishers)
        catalogue, self.catalogue_rebuilt = Catalogue.current(self.chunks, self._index_dir, self._publishers)
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
                )
            return self._view
