"""Text -> vectors behind one small interface: multilingual-e5-small, or a hashing fake for tests."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns passages and queries into L2-normalised vectors of the same space."""

    name: str  # stored with the index: changing the embedder means re-embedding

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


# question, sentences -> one similarity per sentence (cosine of the embedder's vectors)
Similarity = Callable[[str, list[str]], np.ndarray]


def similarity_to(embedder: Embedder) -> Similarity:
    """question, sentences -> the cosine of each sentence (embedded as a passage) with the question (as a query);
    a sentence given twice (overlapping chunks repeat them) is embedded once."""

    def similarity(question: str, sentences: list[str]) -> np.ndarray:
        unique = list(dict.fromkeys(sentences))
        cosines = dict(zip(unique, embedder.embed_passages(unique) @ embedder.embed_query(question)))
        return np.array([cosines[s] for s in sentences])

    return similarity


class E5Embedder:
    """multilingual-e5-small through sentence-transformers, with its `query: ` / `passage: ` prefixes."""

    name = "multilingual-e5-small"

    def __init__(self, model_dir: Path, batch_size: int = 16) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

            torch.set_num_threads(max(1, torch.get_num_threads()))
            self._model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        return self._model

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        vectors = self.model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        # Sorting by length keeps padding small within a batch: about 1.5x faster on mixed chunks.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        step = self.batch_size * 2
        for i in range(0, len(order), step):
            idx = order[i : i + step]
            out[idx] = self._encode([texts[j] for j in idx], "passage: ")
            if progress:
                progress(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], "query: ")[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query: ")


_TOKEN = re.compile(r"\w+")


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


class HashingEmbedder:
    """A deterministic fake: words (accent-folded, cut to 5 letters) hashed into a fixed-size vector.

    Shipped in the package so tests and the app can run without model files; texts sharing words
    get similar vectors, which is enough to exercise retrieval end to end.
    """

    name = "hashing-256"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in _TOKEN.findall(text):
            w = _fold(word)[:5]
            if len(w) < 3:
                continue
            h = int.from_bytes(hashlib.md5(w.encode()).digest()[:4], "little")
            v[h % self.dim] += 1.0
        norm = math.sqrt(float(v @ v))
        if norm == 0:
            v[0] = 1.0
            return v
        return v / norm

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)
