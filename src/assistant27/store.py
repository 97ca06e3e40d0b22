"""The vector store: chunks with their vectors and metadata in chromadb (a local folder or a Chroma server)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant27.errors import IndexMissingError
from assistant27.schema import Chunk

COLLECTION = "publications"
# The ingestion manifest (written by indexing.py) sits next to the chroma folder; opening checks it.
MANIFEST = "manifest.json"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _check_manifest(index_dir: Path, fix: str) -> None:
    """A manifest that exists must parse: a damaged one means the last ingestion left the index half-written."""
    path = index_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise IndexMissingError(
            f"The index in {index_dir}/ is damaged: {MANIFEST} cannot be read ({_reason(exc)}). {fix}"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("publications", {}), dict):
        raise IndexMissingError(f"The index in {index_dir}/ is damaged: {MANIFEST} has an unknown shape. {fix}")


def _metadata(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    # chromadb refuses None values: absent page/year are stored as 0 and read back as None.
    return {
        "source": chunk.source,
        "title": chunk.title,
        "kind": chunk.kind,
        "year": chunk.year or 0,
        "language": chunk.language,
        "page": chunk.page or 0,
        "heading": chunk.heading,
        "start": chunk.start,
        "end": chunk.end,
        "content_hash": content_hash,
    }


def _chunk(id_: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=id_,
        source=str(meta.get("source", "")),
        text=text,
        page=int(meta.get("page") or 0) or None,
        heading=str(meta.get("heading", "")),
        start=int(meta.get("start") or 0),
        end=int(meta.get("end") or 0),
        title=str(meta.get("title", "")),
        kind=str(meta.get("kind", "")),
        year=int(meta.get("year") or 0) or None,
        language=str(meta.get("language", "")),
    )


@dataclass
class Filters:
    """Optional restrictions on what retrieval may return."""

    year_min: int | None = None
    year_max: int | None = None
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return self.year_min is None and self.year_max is None and not self.kinds and not self.sources

    def where(self) -> dict[str, Any] | None:
        """The same filter as a chromadb `where` clause."""
        clauses: list[dict[str, Any]] = []
        if self.year_min is not None:
            clauses.append({"year": {"$gte": self.year_min}})
        if self.year_max is not None:
            clauses.append({"year": {"$lte": self.year_max}})
        if self.kinds:
            clauses.append({"kind": {"$in": list(self.kinds)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, chunk: Chunk) -> bool:
        year = chunk.year or 0
        if self.year_min is not None and year < self.year_min:
            return False
        if self.year_max is not None and year > self.year_max:
            return False
        if self.kinds and chunk.kind not in self.kinds:
            return False
        return not (self.sources and chunk.source not in self.sources)


class ChunkStore:
    """chromadb behind the few operations we need; cosine space; embeddings always passed explicitly."""

    def __init__(self, collection: Any, client: Any = None) -> None:
        self._collection = collection
        self._client = client

    @classmethod
    def open(cls, index_dir: Path, chroma_url: str = "", *, create: bool = False) -> ChunkStore:
        """Open (or create) the store in `index_dir`, or on the Chroma server at `chroma_url`.

        Raises IndexMissingError, naming the fix, when there is no index, when the local folder or its
        manifest is damaged, or when the server cannot be reached.
        """
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        rebuild = "Run: assistant27 ingest --rebuild"
        if not create:
            _check_manifest(index_dir, rebuild)
        if chroma_url:
            from urllib.parse import urlparse

            url = urlparse(chroma_url)
            try:
                client = chromadb.HttpClient(
                    host=url.hostname or "localhost",
                    port=url.port or 8000,
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
            except Exception as exc:  # connection refused, wrong URL, server error
                raise IndexMissingError(
                    f"Cannot reach the Chroma server at {chroma_url} ({_reason(exc)}). Start it "
                    "(chroma run --path DIR --port PORT) or unset ASSISTANT27_CHROMA_URL to use the local index."
                ) from exc
            where = f"the Chroma server at {chroma_url}"
        else:
            path = index_dir / "chroma"
            if not create and not path.exists():
                raise IndexMissingError(f"No index in {index_dir}/. Run: assistant27 ingest")
            path.mkdir(parents=True, exist_ok=True)
            try:
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            except Exception as exc:  # a damaged sqlite file raises InternalError
                raise IndexMissingError(
                    f"The index in {index_dir}/ cannot be opened ({_reason(exc)}); it is damaged. {rebuild}"
                ) from exc
            where = f"the index in {index_dir}/"
        try:
            if create:
                collection = client.get_or_create_collection(
                    COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
            else:
                collection = client.get_collection(COLLECTION, embedding_function=None)
            collection.count()  # reads the store now, so damage shows here rather than mid-answer
        except Exception as exc:  # chromadb raises NotFoundError/ValueError/InternalError depending on the case
            if not create and "does not exist" in str(exc):
                raise IndexMissingError(
                    f"{where[0].upper()}{where[1:]} has no publications. Run: assistant27 ingest"
                ) from exc
            raise IndexMissingError(
                f"{where[0].upper()}{where[1:]} cannot be read ({_reason(exc)}). {rebuild}"
            ) from exc
        return cls(collection, client)

    def clear(self) -> None:
        """Delete every chunk (drop the collection and create it again): `ingest --rebuild` on a server."""
        name = self._collection.name
        configuration = {"hnsw": {"space": "cosine"}}
        self._client.delete_collection(name)
        self._collection = self._client.create_collection(name, configuration=configuration, embedding_function=None)

    def count(self) -> int:
        return int(self._collection.count())

    def ids_for_source(self, source: str) -> set[str]:
        got = self._collection.get(where={"source": source}, include=[])
        return set(got["ids"])

    def ids_by_source(self) -> dict[str, set[str]]:
        """Every chunk id in the store, grouped by the source file its metadata names."""
        got = self._collection.get(include=["metadatas"])
        out: dict[str, set[str]] = {}
        for id_, meta in zip(got["ids"], got["metadatas"]):
            out.setdefault(str((meta or {}).get("source", "")), set()).add(id_)
        return out

    def add(self, chunks: Sequence[Chunk], embeddings: np.ndarray, content_hash: str) -> None:
        for i in range(0, len(chunks), 500):
            part = chunks[i : i + 500]
            self._collection.upsert(
                ids=[c.id for c in part],
                embeddings=embeddings[i : i + 500],
                documents=[c.text for c in part],
                metadatas=[_metadata(c, content_hash) for c in part],
            )

    def update_metadata(self, chunks: Sequence[Chunk], content_hash: str) -> None:
        """Refresh metadata (title, year, offsets) of chunks already embedded, without re-embedding."""
        for i in range(0, len(chunks), 500):
            part = chunks[i : i + 500]
            self._collection.update(ids=[c.id for c in part], metadatas=[_metadata(c, content_hash) for c in part])

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), 500):
            self._collection.delete(ids=ids[i : i + 500])

    def all_chunks(self) -> list[Chunk]:
        got = self._collection.get(include=["documents", "metadatas"])
        return [_chunk(i, d or "", m or {}) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def embeddings_for(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])}

    def query(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance), best first."""
        total = self.count()
        if total == 0:
            return []
        where = filters.where() if filters else None
        got = self._collection.query(
            query_embeddings=[vector],
            n_results=min(n, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (_chunk(i, d or "", m or {}), 1.0 - float(dist))
            for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]
