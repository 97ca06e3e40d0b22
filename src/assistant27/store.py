"""The vector store: chunks with their vectors and metadata in chromadb (a local folder or a Chroma server).

Queries see each publication whole, in its old version or its new one, never a mix. Every commit (one
publication added, changed or deleted) is a *generation*; each chunk row carries the generations it belongs to
(`gen_from` <= g < `gen_to`), and a small second collection next to the chunks holds the committed generation,
each publication's committed entry and, on a server, the ingestion lease. Ingestion writes a publication's new
rows invisible (`gen_from` = next generation), marks the rows it drops (`gen_to` = next generation), then
commits by writing one record; every read filters on the committed generation. A kill at any point leaves the
old version visible, and the rows already written for the new one to be reused by the next ingestion.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant27.errors import IndexBusyError, IndexMissingError
from assistant27.schema import Chunk

COLLECTION = "publications"
# The committed generation, the publications' entries and the lease: a collection next to the chunks, so that
# every machine using the same Chroma server sees the same committed state.
STATE_COLLECTION = "publications-state"
STORE_FORMAT = 2  # 1: chunks without generations and a local manifest only (before 2026-11-22)
# A local copy of the committed entries (the publications list of the web app reads it), next to the chroma
# folder; opening checks it. Written by each commit, and at start by every process in server mode.
MANIFEST = "manifest.json"
# An ingestion into a local folder holds an exclusive flock on this file in the index folder (indexing.ingest_lock);
# a reading process takes it shared while it reopens its client.
LOCK = "ingest.lock"
LIVE = 2_147_483_647  # `gen_to` of a row no commit has dropped yet
LEASE_SECONDS = 120.0  # an ingestion renews its lease at each batch of 64 chunks, well within this
LEASE_SETTLE_SECONDS = 0.5  # after claiming, wait this long and check the claim held (no compare-and-set in Chroma)
_COMMIT_ID = "commit"
_LEASE_ID = "lease"
_STATE_VECTOR = [1.0]  # chroma wants a vector for every record; the state collection is never searched
# Row metadata that is not the chunk's content: rows whose content metadata is equal are the same chunk.
_VERSIONING = ("gen_from", "gen_to", "chunk_id", "content_hash")


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


def ids_digest(ids: Iterable[str]) -> str:
    """A short fingerprint of a set of chunk ids: a publication's entry keeps it to notice chunks lost since."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()[:16]


def _metadata(chunk: Chunk, generation: int) -> dict[str, Any]:
    # chromadb refuses None values: absent page/year are stored as 0 and read back as None.
    return {
        "source": chunk.source,
        "title": chunk.title,
        "kind": chunk.kind,
        "year": chunk.year or 0,
        "language": chunk.language,
        "page": chunk.page or 0,
        "page_label": chunk.page_label,
        "heading": chunk.heading,
        "start": chunk.start,
        "end": chunk.end,
        "chunk_id": chunk.id,
        "gen_from": generation,
        "gen_to": LIVE,
    }


def _content(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if k not in _VERSIONING}


def _chunk(id_: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        # A row's own id is the chunk id, or the chunk id with "@generation" when an older row holds that name.
        id=str(meta.get("chunk_id") or id_),
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
        page_label=str(meta.get("page_label", "")),
    )


def _visible_at(generation: int) -> dict[str, Any]:
    return {"$and": [{"gen_from": {"$lte": generation}}, {"gen_to": {"$gt": generation}}]}


def _both(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    if a is None or b is None:
        return a or b
    return {"$and": [a, b]}


def _is_visible(meta: dict[str, Any], generation: int) -> bool:
    return "gen_from" in meta and int(meta["gen_from"]) <= generation < int(meta.get("gen_to", LIVE))


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


@dataclass
class Committed:
    """What queries see: the committed generation, the embedder that wrote it, each publication's entry."""

    generation: int
    embedder: str = ""
    publications: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Lease:
    """Who is ingesting into a Chroma server, and until when it holds the server without renewing."""

    owner: str
    host: str
    pid: int
    started: float
    expires: float

    def alive(self, now: float) -> bool:
        """Unexpired, and (when it was taken on this machine) its process still runs."""
        if now >= self.expires:
            return False
        if self.host == socket.gethostname():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True


class _Gate:
    """Any number of reads at once, or one reopening of the client alone (it closes what reads are using)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._reads = 0
        self._reopening = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._reopening)
            self._reads += 1
        try:
            yield
        finally:
            with self._changed:
                self._reads -= 1
                self._changed.notify_all()

    @contextmanager
    def reopening(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._reopening and not self._reads)
            self._reopening = True
        try:
            yield
        finally:
            with self._changed:
                self._reopening = False
                self._changed.notify_all()


@contextmanager
def _no_ingestion(lock: Path) -> Iterator[bool]:
    """Whether no ingestion holds the index folder's lock; while True, none can start (a shared flock)."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only index folder: nothing can ingest into it
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _local_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False))


def _get_collection(client: Any, name: str) -> Any | None:
    try:
        return client.get_collection(name, embedding_function=None)
    except Exception as exc:  # chromadb raises NotFoundError or ValueError depending on the backend
        if "does not exist" in str(exc):
            return None
        raise


class ChunkStore:
    """chromadb behind the few operations we need; cosine space; embeddings always passed explicitly.

    Reads (`query`, `all_chunks`, `embeddings_for`, `count`) see the committed generation only. Ingestion calls
    `prepare_ingest`, then `replace` or `remove` for each publication (each one a commit), then
    `collect_garbage`; on a server it holds `lease()` around all of it.

    A local folder that another process ingests into: chromadb keeps the vector index it loaded in memory and never
    reloads it, while the metadata (our committed generation with it) comes fresh from SQLite, so a query at the
    new generation would filter on rows that index lacks and fail ("Error finding id"). Chroma is not
    process-safe: one process writes a folder at a time, and opening a client writes too (it flushes the vector
    index). So a reading store keeps reading the generation its client loaded (still whole: rows an ingestion
    drops are deleted by the next one) until the ingestion has released the folder, then reopens its client
    and reads the new generation (`generation`). On a Chroma server, the server is the one writer: every read
    sees the committed generation.
    """

    def __init__(
        self,
        collection: Any,
        client: Any = None,
        state: Any = None,
        *,
        index_dir: Path | None = None,
        where: str = "the index",
        remote: bool = False,
    ) -> None:
        self._collection = collection
        self._client = client
        self._state = state
        self._gate = _Gate()
        self._seen: int | None = None  # the generation this store reads (its client's, in a local folder)
        self._seen_any = False
        self._index_dir = index_dir
        self._where = where
        self._remote = remote
        self._generation: int | None = None  # the writer's view, set by prepare_ingest
        self._settled = 0  # the generation committed when this ingestion started
        self._entries: dict[str, dict[str, Any]] = {}
        self._embedder = ""
        self._lease: Lease | None = None
        self._lease_seconds = LEASE_SECONDS
        self._renewed = 0.0

    @classmethod
    def open(cls, index_dir: Path, chroma_url: str = "", *, create: bool = False) -> ChunkStore:
        """Open (or create) the store in `index_dir`, or on the Chroma server at `chroma_url`.

        Raises IndexMissingError, naming the fix, when there is no index, when the local folder or its
        manifest is damaged, or when the server cannot be reached. In server mode, opening also refreshes the
        local copy of the committed entries (`index_dir/manifest.json`), so every machine lists the same
        publications.
        """
        rebuild = "Run: assistant27 ingest --rebuild"
        if not create and not chroma_url:
            _check_manifest(index_dir, rebuild)
        if chroma_url:
            from urllib.parse import urlparse

            url = urlparse(chroma_url)
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            try:
                client = chromadb.HttpClient(
                    host=url.hostname or "localhost",
                    port=url.port or 8000,
                    ssl=url.scheme == "https",
                    settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
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
                client = _local_client(path)
            except Exception as exc:  # a damaged sqlite file raises InternalError
                raise IndexMissingError(
                    f"The index in {index_dir}/ cannot be opened ({_reason(exc)}); it is damaged. {rebuild}"
                ) from exc
            where = f"the index in {index_dir}/"
        state: Any = None
        try:
            if create:
                collection = client.get_or_create_collection(
                    COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
                state = client.get_or_create_collection(STATE_COLLECTION, embedding_function=None)
            else:
                collection = client.get_collection(COLLECTION, embedding_function=None)
                state = _get_collection(client, STATE_COLLECTION)  # absent: an index of store format 1
            collection.count()  # reads the store now, so damage shows here rather than mid-answer
        except Exception as exc:  # chromadb raises NotFoundError/ValueError/InternalError depending on the case
            if not create and "does not exist" in str(exc):
                raise IndexMissingError(
                    f"{where[0].upper()}{where[1:]} has no publications. Run: assistant27 ingest"
                ) from exc
            raise IndexMissingError(
                f"{where[0].upper()}{where[1:]} cannot be read ({_reason(exc)}). {rebuild}"
            ) from exc
        store = cls(collection, client, state, index_dir=index_dir, where=where, remote=bool(chroma_url))
        store._committed_generation()  # refuses a store written by a newer version, with the fix
        if chroma_url and not create:
            # A read-only disk: only the list of publications goes without it.
            with contextlib.suppress(OSError):
                store.write_manifest_copy()
        return store

    # ---- reads: the committed generation only ------------------------------------------------------------------

    def generation(self) -> int | None:
        """The generation this store reads (None for an index written before generations): the committed one, or
        in a local folder another process is still ingesting into, the one its client loaded (see the class)."""
        return self._committed_generation()

    def close(self) -> None:
        """Release the client (an ingestion closes it before it releases the index folder's lock)."""
        if self._client is not None:
            self._client.close()

    def _committed_generation(self) -> int | None:
        with self._gate.reading():
            generation = self._read_generation()
        # A writer reads what it commits itself; it opened the folder under the ingestion lock.
        local_reader = not self._remote and self._index_dir is not None and self._generation is None
        if not local_reader or not self._seen_any or generation == self._seen:
            self._seen, self._seen_any = generation, True
            return generation
        with self._gate.reopening():
            if generation != self._seen and self._reopen():  # another thread may have reopened it meanwhile
                self._seen = generation
        return self._seen

    def _reopen(self) -> bool:
        """A new client of the local folder, loading its vector index again; False while an ingestion holds it."""
        assert self._index_dir is not None
        with _no_ingestion(self._index_dir / LOCK) as free:
            if not free:
                return False
            # close() stops chromadb's shared system of this folder when it was its last client in the process;
            # only then does the next client load the vector index from the folder instead of reusing it.
            self._client.close()
            self._client = _local_client(self._index_dir / "chroma")
            self._collection = self._client.get_collection(COLLECTION, embedding_function=None)
            self._state = _get_collection(self._client, STATE_COLLECTION)
        return True

    def _read_generation(self) -> int | None:
        """The generation queries see; None for an index written before generations (store format 1)."""
        if self._state is None:
            # A format-1 index may be being upgraded by an ingestion: look again, so we switch when it commits.
            self._state = _get_collection(self._client, STATE_COLLECTION) if self._client is not None else None
            if self._state is None:
                return None
        got = self._state.get(ids=[_COMMIT_ID], include=["metadatas"])
        if not got["ids"]:
            return None
        meta = got["metadatas"][0] or {}
        found = int(meta.get("format") or STORE_FORMAT)
        if found > STORE_FORMAT:
            raise IndexMissingError(
                f"{self._where[0].upper()}{self._where[1:]} was written by a newer assistant27 (store format "
                f"{found}; this one reads {STORE_FORMAT}). Update assistant27, or run: assistant27 ingest --rebuild"
            )
        return int(meta.get("generation") or 0)

    def _view(self, at: int | None = None) -> dict[str, Any] | None:
        """The `where` clause of generation `at`, or of the committed one (None on a format-1 index: every row is
        committed). A generation stays readable after later commits until the next ingestion's garbage collection.
        """
        generation = self._committed_generation() if at is None else at
        return None if generation is None else _visible_at(generation)

    def count(self) -> int:
        """Committed chunks."""
        view = self._view()
        with self._gate.reading():
            if view is None:
                return int(self._collection.count())
            return len(self._collection.get(where=view, include=[])["ids"])

    def all_chunks(self, at: int | None = None) -> list[Chunk]:
        """Every chunk of generation `at` (default: the committed one), in the store's order."""
        view = self._view(at)
        with self._gate.reading():
            got = self._collection.get(where=view, include=["documents", "metadatas"])
        return [_chunk(i, d or "", m or {}) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def embeddings_for(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of committed chunks, by chunk id (ids not committed are left out)."""
        if not ids:
            return {}
        view = self._view()
        with self._gate.reading():
            if view is None:
                got = self._collection.get(ids=list(ids), include=["embeddings", "metadatas"])
            else:
                where = _both(view, {"chunk_id": {"$in": list(ids)}})
                got = self._collection.get(where=where, include=["embeddings", "metadatas"])
        return {
            _chunk("", "", {**(m or {}), "chunk_id": (m or {}).get("chunk_id") or i}).id: np.asarray(
                e, dtype=np.float32
            )
            for i, e, m in zip(got["ids"], got["embeddings"], got["metadatas"])
        }

    def query(
        self, vector: np.ndarray, n: int, filters: Filters | None = None, at: int | None = None
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks of generation `at` (default: the committed one) by cosine similarity (1 - cosine
        distance), best first."""
        where = _both(self._view(at), filters.where() if filters else None)
        with self._gate.reading():
            if self._collection.count() == 0:
                return []
            got = self._collection.query(
                query_embeddings=[vector],
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        return [
            (_chunk(i, d or "", m or {}), 1.0 - float(dist))
            for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    def committed(self) -> Committed | None:
        """The committed generation and entries, as any machine using this store sees them; None on format 1."""
        generation = self._committed_generation()
        if generation is None or self._state is None:
            return None
        with self._gate.reading():
            got = self._state.get(ids=[_COMMIT_ID], include=["metadatas"])
            embedder = str((got["metadatas"][0] or {}).get("embedder", "")) if got["ids"] else ""
            return Committed(generation, embedder, self._read_entries(generation))

    def committed_ids_by_source(self) -> dict[str, set[str]]:
        """The committed chunk ids, grouped by the source file their metadata names."""
        view = self._view()
        with self._gate.reading():
            got = self._collection.get(where=view, include=["metadatas"])
        out: dict[str, set[str]] = {}
        for id_, meta in zip(got["ids"], got["metadatas"]):
            chunk = _chunk(id_, "", meta or {})
            out.setdefault(chunk.source, set()).add(chunk.id)
        return out

    def _read_entries(self, generation: int) -> dict[str, dict[str, Any]]:
        """Each publication's latest entry at or before `generation` (a deletion removes it)."""
        assert self._state is not None
        got = self._state.get(where={"kind": "publication"}, include=["documents", "metadatas"])
        latest: dict[str, tuple[int, str, bool]] = {}
        for doc, meta in zip(got["documents"], got["metadatas"]):
            meta = meta or {}
            gen = int(meta.get("generation") or 0)
            source = str(meta.get("source", ""))
            if gen <= generation and (source not in latest or gen > latest[source][0]):
                latest[source] = (gen, doc or "{}", bool(meta.get("deleted")))
        return {source: json.loads(doc) for source, (_, doc, deleted) in sorted(latest.items()) if not deleted}

    def write_manifest_copy(self) -> None:
        """Write the committed entries to `index_dir/manifest.json` (write then rename: never half a file)."""
        if self._index_dir is None:
            return
        if self._generation is not None:
            generation, embedder, entries = self._generation, self._embedder, self._entries
        else:
            committed = self.committed()
            if committed is None:
                return
            generation, embedder, entries = committed.generation, committed.embedder, committed.publications
        self._index_dir.mkdir(parents=True, exist_ok=True)
        path = self._index_dir / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
        data = {"format": STORE_FORMAT, "generation": generation, "embedder": embedder, "publications": entries}
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)

    # ---- ingestion: versions written invisible, one commit per publication ---------------------------------------

    def prepare_ingest(self, embedder: str, legacy: dict[str, dict[str, Any]] | None = None) -> list[str]:
        """Make the store ready for an ingestion (which holds the lock or lease); return notes for the user.

        Upgrades a format-1 index in place (`legacy`: its local manifest, whose chunk ids were the committed
        ones), and sets aside what an interrupted ingestion wrote without committing, for `replace` to reuse.
        """
        if self._state is None:
            self._state = self._client.get_or_create_collection(STATE_COLLECTION, embedding_function=None)
        self._embedder = embedder
        notes: list[str] = []
        generation = self._committed_generation()
        if generation is None:
            notes += self._upgrade(legacy or {})
            generation = 0
        else:
            # Rows of a generation never committed would turn visible when a later commit reaches their number.
            pending = [i for i, _ in self._rows({"gen_from": {"$gt": generation}})]
            self._set(pending, [{"gen_from": 0, "gen_to": 0}] * len(pending))
            marked = [i for i, _ in self._rows({"$and": [{"gen_to": {"$gt": generation}}, {"gen_to": {"$lt": LIVE}}]})]
            self._set(marked, [{"gen_to": LIVE}] * len(marked))
            self._state.delete(where={"$and": [{"kind": "publication"}, {"generation": {"$gt": generation}}]})
            if pending or marked:
                notes.append(
                    f"An interrupted ingestion left {len(pending)} chunk(s) written but not committed (queries never "
                    "saw them): they are reused where they still fit, and removed otherwise."
                )
        self._generation = self._settled = generation
        self._entries = self._read_entries(generation)
        self.write_manifest_copy()
        return notes

    def _upgrade(self, legacy: dict[str, dict[str, Any]]) -> list[str]:
        """Store format 1 -> 2: rows the local manifest lists (every row, without one) become generation 0."""
        assert self._state is not None
        rows = self._rows(None)
        listed = {s: set(e["ids"]) for s, e in legacy.items() if isinstance(e, dict) and isinstance(e.get("ids"), list)}
        ids: list[str] = []
        metas: list[dict[str, Any]] = []
        for rid, meta in rows:
            source = str(meta.get("source", ""))
            committed = not legacy or (rid in listed[source] if source in listed else source in legacy)
            ids.append(rid)
            metas.append(
                {
                    "chunk_id": str(meta.get("chunk_id") or rid),
                    **({"gen_from": 0, "gen_to": LIVE} if committed else {"gen_from": 0, "gen_to": 0}),
                }
            )
        self._set(ids, metas)
        by_source: dict[str, set[str]] = {}
        for rid, meta in rows:
            by_source.setdefault(str(meta.get("source", "")), set()).add(rid)
        for source, entry in legacy.items() if rows else ():
            if not isinstance(entry, dict):
                continue
            kept = {k: v for k, v in entry.items() if k != "ids"}
            kept["chunk_ids_digest"] = ids_digest(listed.get(source, by_source.get(source, set())))
            self._write_entry(0, source, kept)
        self._write_commit(0)
        if not rows:
            return []
        return [
            f"Upgraded {self._where} to store format {STORE_FORMAT} (each publication's version is recorded in the "
            f"store): {len(rows)} chunk(s) kept, none embedded again."
        ]

    def replace(
        self,
        source: str,
        chunks: Sequence[Chunk],
        embed: Callable[[Sequence[Chunk]], np.ndarray],
        entry: dict[str, Any],
        *,
        batch: int = 64,
    ) -> int:
        """Commit `chunks` as the new version of `source`, with `entry` as its record; return how many were embedded.

        A chunk already stored (committed, set aside, or dropped earlier) keeps its vector; only the others go
        through `embed`, `batch` at a time, each batch written at once so a crash loses at most one.
        """
        current = self._writer_generation()
        generation = current + 1
        visible: dict[str, tuple[str, dict[str, Any]]] = {}
        spare: dict[str, str] = {}
        taken: set[str] = set()
        for rid, meta in self._rows({"source": source}):
            taken.add(rid)
            cid = str(meta.get("chunk_id") or rid)
            if _is_visible(meta, current):
                visible[cid] = (rid, meta)
            else:
                spare.setdefault(cid, rid)
        revive_ids: list[str] = []
        revive_meta: list[dict[str, Any]] = []
        copies: list[tuple[str, Chunk]] = []  # (committed row whose vector it takes, chunk)
        fresh: list[Chunk] = []
        drop: list[str] = []
        for chunk in chunks:
            meta = _metadata(chunk, generation)
            old = visible.get(chunk.id)
            if old is not None and _content(old[1]) == _content(meta):
                continue  # the same row serves the old version and the new one
            if old is not None:
                drop.append(
                    old[0]
                )  # same text, new metadata (title, offsets): a new row, so the old version stays whole
            if chunk.id in spare:
                revive_ids.append(spare.pop(chunk.id))
                revive_meta.append(meta)
            elif old is not None:
                copies.append((old[0], chunk))
            else:
                fresh.append(chunk)
        wanted = {c.id for c in chunks}
        drop += [rid for cid, (rid, _) in visible.items() if cid not in wanted]

        self._heartbeat()
        self._set(revive_ids, revive_meta)
        if copies:
            vectors = self._vectors([rid for rid, _ in copies])
            self._write([c for _, c in copies], np.stack([vectors[rid] for rid, _ in copies]), generation, taken)
        for i in range(0, len(fresh), batch):
            part = fresh[i : i + batch]
            vectors_part = embed(part)
            self._heartbeat()
            self._write(part, vectors_part, generation, taken)
        self._set(drop, [{"gen_to": generation}] * len(drop))
        self._commit(generation, source, {**entry, "chunk_ids_digest": ids_digest(wanted)})
        return len(fresh)

    def remove(self, source: str) -> None:
        """Commit the deletion of `source`."""
        current = self._writer_generation()
        generation = current + 1
        drop = [rid for rid, meta in self._rows({"source": source}) if _is_visible(meta, current)]
        self._heartbeat()
        self._set(drop, [{"gen_to": generation}] * len(drop))
        self._commit(generation, source, None)

    def collect_garbage(self, *, set_aside: bool = True) -> None:
        """Delete rows and entries that no query can need any more.

        Those dropped before this ingestion started, not the ones it dropped itself: a query reads the committed
        generation, then the rows, and one that read it just before a commit of this run must still find that
        generation's rows. The next ingestion deletes them. `set_aside=False` also keeps the rows an interrupted
        ingestion left (an ingestion of a few paths: the next full one may still reuse them).
        """
        assert self._state is not None
        settled = self._settled
        self._collection.delete(where={"$and": [{"gen_to": {"$gt": 0}}, {"gen_to": {"$lte": settled}}]})
        if set_aside:
            self._collection.delete(where={"gen_to": 0})  # never committed: no query ever saw them
        got = self._state.get(where={"kind": "publication"}, include=["metadatas"])
        latest: dict[str, tuple[int, str, bool]] = {}  # per source, its newest entry from before this run
        stale: list[str] = []
        for rid, meta in zip(got["ids"], got["metadatas"]):
            meta = meta or {}
            gen, source = int(meta.get("generation") or 0), str(meta.get("source", ""))
            if gen > settled:
                continue
            if source in latest and latest[source][0] > gen:
                stale.append(rid)
                continue
            if source in latest:
                stale.append(latest[source][1])
            latest[source] = (gen, rid, bool(meta.get("deleted")))
        stale += [rid for _, rid, deleted in latest.values() if deleted]
        if stale:
            self._state.delete(ids=stale)

    def _writer_generation(self) -> int:
        if self._generation is None:
            raise RuntimeError("ChunkStore.prepare_ingest() must come before writing")
        return self._generation

    def _rows(self, where: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
        got = self._collection.get(where=where, include=["metadatas"])
        return [(i, dict(m or {})) for i, m in zip(got["ids"], got["metadatas"])]

    def _vectors(self, row_ids: Sequence[str]) -> dict[str, np.ndarray]:
        got = self._collection.get(ids=list(row_ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])}

    def _set(self, row_ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Change some metadata fields of rows (chromadb merges them into the rest)."""
        for i in range(0, len(row_ids), 500):
            self._collection.update(ids=row_ids[i : i + 500], metadatas=metadatas[i : i + 500])

    def _write(self, chunks: Sequence[Chunk], embeddings: np.ndarray, generation: int, taken: set[str]) -> None:
        # A chunk's row is named by its id; when a row of that name is still in use, by "id@generation".
        ids = [c.id if c.id not in taken else f"{c.id}@{generation}" for c in chunks]
        taken.update(ids)
        for i in range(0, len(chunks), 500):
            part = chunks[i : i + 500]
            self._collection.upsert(
                ids=ids[i : i + 500],
                embeddings=embeddings[i : i + 500],
                documents=[c.text for c in part],
                metadatas=[_metadata(c, generation) for c in part],
            )

    def _write_entry(self, generation: int, source: str, entry: dict[str, Any] | None) -> None:
        assert self._state is not None
        self._state.upsert(
            ids=[f"publication@{generation}:{source}"],
            embeddings=[_STATE_VECTOR],
            documents=[json.dumps(entry or {}, ensure_ascii=False)],
            metadatas=[{"kind": "publication", "source": source, "generation": generation, "deleted": entry is None}],
        )

    def _write_commit(self, generation: int) -> None:
        assert self._state is not None
        self._state.upsert(
            ids=[_COMMIT_ID],
            embeddings=[_STATE_VECTOR],
            metadatas=[{"generation": generation, "format": STORE_FORMAT, "embedder": self._embedder}],
        )

    def _commit(self, generation: int, source: str, entry: dict[str, Any] | None) -> None:
        self._write_entry(generation, source, entry)
        self._heartbeat()
        # The commit: one record, written last. Until it lands, queries see the previous generation whole.
        self._write_commit(generation)
        self._generation = generation
        if entry is None:
            self._entries.pop(source, None)
        else:
            self._entries[source] = entry
        self.write_manifest_copy()

    # ---- one ingestion at a time on a server ----------------------------------------------------------------------

    @contextmanager
    def lease(self, seconds: float = LEASE_SECONDS) -> Iterator[None]:
        """On a Chroma server, claim the index for one ingestion; a no-op on a local folder (ingest_lock guards it).

        A lease record (owner, machine, process, expiry) in the state collection, renewed at each batch and
        checked before each commit. Chroma has no compare-and-set, so this is not a distributed lock: two
        ingestions that claim within LEASE_SETTLE_SECONDS of each other, or one that stalls past its expiry,
        can still overlap; the second claimant then refuses, and the stalled one stops before its next commit.
        """
        if not self._remote:
            yield
            return
        self._claim(seconds)
        try:
            yield
        finally:
            self._release()

    def _read_lease(self) -> Lease | None:
        if self._state is None:
            return None
        got = self._state.get(ids=[_LEASE_ID], include=["metadatas"])
        if not got["ids"]:
            return None
        m = got["metadatas"][0] or {}
        return Lease(
            owner=str(m.get("owner", "")),
            host=str(m.get("host", "")),
            pid=int(m.get("pid") or 0),
            started=float(m.get("started") or 0.0),
            expires=float(m.get("expires") or 0.0),
        )

    def _write_lease(self, lease: Lease) -> None:
        assert self._state is not None
        meta: dict[str, Any] = {
            "owner": lease.owner,
            "host": lease.host,
            "pid": lease.pid,
            "started": lease.started,
            "expires": lease.expires,
        }
        self._state.upsert(ids=[_LEASE_ID], embeddings=[_STATE_VECTOR], metadatas=[meta])

    def _busy(self, held: Lease, now: float) -> str:
        return (
            f"Another ingestion is writing to {self._where} (process {held.pid} on {held.host}, started "
            f"{now - held.started:.0f} s ago). Wait for it to finish; if it was stopped, its lease expires in "
            f"{max(0.0, held.expires - now):.0f} s, then run assistant27 ingest again."
        )

    def _claim(self, seconds: float) -> None:
        if self._state is None:
            self._state = self._client.get_or_create_collection(STATE_COLLECTION, embedding_function=None)
        now = time.time()
        held = self._read_lease()
        if held is not None and held.alive(now):
            raise IndexBusyError(self._busy(held, now))
        host = socket.gethostname()
        mine = Lease(f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}", host, os.getpid(), now, now + seconds)
        self._write_lease(mine)
        time.sleep(LEASE_SETTLE_SECONDS)  # a claim made at the same moment lands by then; the last one wins
        held = self._read_lease()
        if held is None or held.owner != mine.owner:
            raise IndexBusyError(
                self._busy(held, time.time())
                if held
                else f"Another ingestion released {self._where} as this one claimed it. Run assistant27 ingest again."
            )
        self._lease, self._lease_seconds, self._renewed = mine, seconds, time.time()

    def _heartbeat(self) -> None:
        """Renew the lease (a no-op without one); stop if another ingestion took it over."""
        if self._lease is None:
            return
        held = self._read_lease()
        now = time.time()
        if held is None or held.owner != self._lease.owner:
            self._lease = None
            raise IndexBusyError(
                f"This ingestion lost its lease on {self._where}"
                + (f" to process {held.pid} on {held.host}" if held else "")
                + f" (it went more than {self._lease_seconds:.0f} s without renewing it). It stopped before "
                "committing anything more; run assistant27 ingest again once the other one has finished."
            )
        if now - self._renewed > self._lease_seconds / 4:
            self._lease = Lease(held.owner, held.host, held.pid, held.started, now + self._lease_seconds)
            self._write_lease(self._lease)
            self._renewed = now

    def _release(self) -> None:
        mine, self._lease = self._lease, None
        if mine is not None and self._state is not None:
            held = self._read_lease()
            if held is not None and held.owner == mine.owner:
                self._state.delete(ids=[_LEASE_ID])

    # ---- maintenance ---------------------------------------------------------------------------------------------

    def clear(self) -> None:
        """Delete every chunk and record (drop the collections, create them again): `ingest --rebuild` on a server."""
        for name in (COLLECTION, STATE_COLLECTION):
            if _get_collection(self._client, name) is not None:
                self._client.delete_collection(name)
        self._collection = self._client.create_collection(
            COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        self._state = self._client.create_collection(STATE_COLLECTION, embedding_function=None)
        self._generation, self._entries = None, {}
        if self._lease is not None:
            self._write_lease(self._lease)

    def ids_for_source(self, source: str) -> set[str]:
        """The ids of every row of `source`, committed or not (maintenance and tests)."""
        got = self._collection.get(where={"source": source}, include=[])
        return set(got["ids"])

    def stored_chunk_ids(self) -> set[str]:
        """Every chunk id with a row in the store, committed or not: what an ingestion would not embed again."""
        return {_chunk(i, "", m).id for i, m in self._rows(None)}

    def delete(self, ids: Iterable[str]) -> None:
        """Delete rows by their ids, committed or not (maintenance and tests; ingestion commits instead)."""
        ids = list(ids)
        for i in range(0, len(ids), 500):
            self._collection.delete(ids=ids[i : i + 500])
