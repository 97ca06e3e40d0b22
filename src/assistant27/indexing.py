"""Publications -> cleaned chunks -> vectors -> store; skips unchanged files, replaces changed ones, drops deleted ones."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant27.analysis import strip_urls
from assistant27.chunking import chunk_publication
from assistant27.config import Settings
from assistant27.embedding import Embedder
from assistant27.errors import CorpusEmptyError, IndexBusyError, ReadError
from assistant27.readers import SUPPORTED_SUFFIXES, find_publications, load_catalogue, read_publication
from assistant27.schema import Chunk, Publication
from assistant27.store import LOCK, MANIFEST, ChunkStore, ids_digest
from assistant27.textclean import clean_text

# Bump when reading, cleaning or chunking changes, so every file is processed again on the next ingest.
PIPELINE_VERSION = "6"
# Above this much extracted text a file is refused: 5 M characters is about 2,000 pages, 7,500 chunks,
# 20 minutes of e5 on 2 cores; chunking alone runs at about 1 MB/s. A real publication is far below.
MAX_CHARACTERS = 5_000_000
# New chunks are embedded and written in batches, so a crash loses at most one batch of work.
WRITE_BATCH = 64
# How long an ingestion waits for a reading process that is reopening its client to let go of the index folder.
READER_REOPEN_S = 10.0


@dataclass
class FileReport:
    """What ingestion did with one file."""

    source: str
    status: str  # "indexed", "unchanged", "skipped", "deleted"
    title: str = ""
    year: int | None = None
    kind: str = ""
    pages: int = 0
    empty_pages: list[int] = field(default_factory=list)
    characters: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks whose vectors were computed this run (the rest were reused)
    repairs: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str = ""

    def line(self) -> str:
        """One line for the terminal."""
        if self.status == "skipped":
            return f"SKIPPED  {self.source}: {self.error.removeprefix(self.source + ': ')}"
        if self.status == "deleted":
            return f"deleted  {self.source}"
        if self.status == "unchanged":
            return f"unchanged {self.source} ({self.chunks} chunks)"
        repairs = ", ".join(f"{k} {v}" for k, v in sorted(self.repairs.items())) or "none"
        pages = f"{self.pages} pages" + (f" ({len(self.empty_pages)} without text)" if self.empty_pages else "")
        text = (
            f"indexed  {self.source}: {pages + ', ' if self.pages else ''}{self.characters} characters, "
            f"{self.chunks} chunks ({self.embedded} embedded), repairs: {repairs}"
        )
        for w in self.warnings:
            text += f"\n  WARNING {self.source}: {w}"
        return text


@dataclass
class IngestReport:
    files: list[FileReport]
    seconds: float = 0.0

    @property
    def embedded(self) -> int:
        return sum(f.embedded for f in self.files)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def warned(self) -> int:
        return sum(1 for f in self.files if f.warnings)

    def summary(self) -> str:
        return (
            f"{self.count('indexed')} indexed, {self.count('unchanged')} unchanged, "
            f"{self.count('skipped')} skipped, {self.count('deleted')} deleted, {self.warned} with warnings; "
            f"{self.embedded} chunks embedded in {self.seconds:.1f} s"
        )


def file_hash(path: Path, extra: str = "") -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(extra.encode("utf-8"))
    return h.hexdigest()


def load_manifest(index_dir: Path) -> dict[str, dict]:
    """What is committed, from the local copy: per source, its hash and last report. Empty when there is none.

    The record itself is in the store (`ChunkStore.committed`); every commit, and in server mode every process
    opening the store, writes this copy.
    """
    return _read_manifest(index_dir)[0]


def _read_manifest(index_dir: Path) -> tuple[dict[str, dict], str]:
    """The manifest's publications, and a problem ("" when it is fine or absent)."""
    path = index_dir / MANIFEST
    if not path.exists():
        return {}, ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        publications = data.get("publications", {})
        if not isinstance(publications, dict):
            raise ValueError("no 'publications' object")
    except (OSError, ValueError, AttributeError) as exc:
        return {}, f"{path} cannot be read ({type(exc).__name__}: {exc})"
    return dict(publications), ""


def _flock_within(fd: int, seconds: float) -> bool:
    """Take the exclusive lock, waiting up to `seconds` while no ingestion holds it (no pid in the file: a
    reading process reopening its client holds it shared for a moment, see store.ChunkStore)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if os.pread(fd, 32, 0).strip() or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


@contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index for one ingestion: a second one at the same time refuses instead of mixing writes.

    An flock on index_dir/ingest.lock, released by the kernel when the process ends, however it ends.
    With a Chroma server it guards only this machine's index folder: `ChunkStore.lease` is what the server's
    other clients see (see docs/deploying.md for what it does not guarantee).
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _flock_within(fd, READER_REOPEN_S):
            pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise IndexBusyError(
                f"Another ingestion is running on {index_dir}/ (pid {pid}). Wait for it to finish."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def clear_index(index_dir: Path) -> None:
    """Delete the local index (chroma folder, manifest), keeping the lock file and .gitkeep."""
    import shutil

    if not index_dir.exists():
        return
    for child in index_dir.iterdir():
        if child.name not in (".gitkeep", LOCK):
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def load_manifest_embedder(index_dir: Path) -> str:
    """The embedder the index was built with, from the local copy of the manifest, or "" when there is none."""
    try:
        return str(json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")).get("embedder", ""))
    except (OSError, ValueError):
        return ""


def clean_publication(pub: Publication) -> Counter[str]:
    """Repair the text of every section in place; return the repairs made."""
    repairs: Counter[str] = Counter(pub.repairs)
    cleaned = []
    for section in pub.sections:
        result = clean_text(section.text)
        repairs.update(result.repairs)
        cleaned.append(replace(section, text=result.text))
    pub.sections = cleaned
    return repairs


def _source_of(path: Path, corpus_dir: Path) -> str:
    try:
        return path.resolve().relative_to(corpus_dir.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(find_publications(p))
        elif p.exists():
            out.append(p)
        else:
            raise CorpusEmptyError(f"{p} does not exist. Give a file or folder of publications.")
    return out


def embedding_text(title: str, heading: str, text: str) -> str:
    """What the dense model sees: the passage with its publication title and section, for context."""
    head = " — ".join(x for x in (title, heading) if x)
    text = strip_urls(text) or text
    return f"{head}\n{text}" if head else text


def ingest(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    store: ChunkStore,
    paths: list[Path] | None = None,
    *,
    echo: Callable[[str], None] = print,
    show_progress: bool = True,
) -> IngestReport:
    """Bring the index up to date with the corpus (or with `paths`); embed only what changed.

    Crash-safe at any point, and queries never see a mix: each publication is written invisible and committed
    in the store at once (`ChunkStore.replace`); what a killed run wrote is reused by the next one. Callers that
    may run concurrently hold `ingest_lock` and, on a Chroma server, `store.lease()` (the CLI does).
    """
    started = time.perf_counter()
    corpus_dir = settings.corpus_dir
    catalogue = load_catalogue(settings.catalogue_path)
    whole_corpus = paths is None
    refused: list[tuple[Path, str]] = []
    files = find_publications(corpus_dir, refused) if paths is None else _expand(paths)
    files = [f for f in files if f.suffix.lower() in SUPPORTED_SUFFIXES]
    if not files and not refused:
        raise CorpusEmptyError(
            f"No publication found in {corpus_dir}/ ({', '.join(SUPPORTED_SUFFIXES)}). "
            "Add files there or set ASSISTANT27_CORPUS_DIR."
        )
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    embedder_name = _embedder_name(settings)
    # The local manifest only matters to upgrade an index written before the store kept its own record.
    legacy, problem = _read_manifest(settings.index_dir)
    if problem:
        echo(f"WARNING {problem}: it is written again from the index's own record.")
    for note in store.prepare_ingest(embedder_name, legacy):
        echo(note)
    committed = store.committed()
    manifest = committed.publications if committed else {}
    stored = store.committed_ids_by_source()
    embedder: Embedder | None = None
    reports: list[FileReport] = []

    def done(report: FileReport) -> None:
        reports.append(report)
        echo(report.line())

    for path, reason in refused:
        done(FileReport(source=_source_of_link(path, corpus_dir), status="skipped", error=reason))

    for path in files:
        source = _source_of(path, corpus_dir)
        entry = catalogue.get(source) or catalogue.get(path.name)
        try:
            if not path.is_file():
                raise OSError("not a regular file")
            digest = file_hash(
                path, f"{PIPELINE_VERSION}|{entry}|{settings.chunk_words}|{settings.chunk_overlap_words}"
            )
        except OSError as exc:
            done(
                FileReport(
                    source=source,
                    status="skipped",
                    error=f"{source}: cannot be read ({exc.strerror or exc}). Check that it is a readable file, then ingest again.",
                )
            )
            continue
        known = manifest.get(source)
        intact = known is not None and known.get("chunk_ids_digest") == ids_digest(stored.get(source, set()))
        if known and intact and known.get("hash") == digest and known.get("embedder") == embedder_name:
            done(FileReport(**{**known["report"], "status": "unchanged", "embedded": 0}))
            continue
        try:
            report, chunks = _prepare(path, source, corpus_dir, catalogue, settings)
        except ReadError as exc:
            done(FileReport(source=source, status="skipped", error=str(exc)))
            continue
        if known is not None and not intact:
            report.warnings.append("its chunks in the index differed from its committed record: repaired.")
        embedded_so_far = 0

        def embed(batch: Sequence[Chunk], source: str = source) -> np.ndarray:
            nonlocal embedder, embedded_so_far
            if embedder is None:
                embedder = embedder_factory()
            embedded_so_far += len(batch)
            return _embed_with_progress(embedder, list(batch), f"{source} (+{embedded_so_far})", show_progress)

        record = {"hash": digest, "embedder": embedder_name, "report": _stored(report)}
        report.embedded = store.replace(source, chunks, embed, record, batch=WRITE_BATCH)
        done(report)

    if whole_corpus:
        present = {_source_of(f, corpus_dir) for f in files}
        for source in sorted((set(manifest) | set(stored)) - present):
            store.remove(source)
            done(FileReport(source=source, status="deleted"))
    store.collect_garbage(set_aside=whole_corpus)
    return IngestReport(reports, time.perf_counter() - started)


def _prepare(
    path: Path, source: str, corpus_dir: Path, catalogue: dict, settings: Settings
) -> tuple[FileReport, list[Chunk]]:
    """Read, clean and chunk one file. Raises ReadError for anything that goes wrong, so one file never stops the rest."""
    try:
        pub = read_publication(path, corpus_dir, catalogue)
    except ReadError:
        raise
    except Exception as exc:  # a reader bug or an odd file must cost that file only
        raise ReadError(
            f"{source}: unexpected error while reading ({type(exc).__name__}: {exc}). "
            "The file is skipped; check it opens in its usual application, and report this error with the file."
        ) from exc
    characters = sum(len(s.text) for s in pub.sections)
    if characters > MAX_CHARACTERS:
        raise ReadError(
            f"{source}: {characters:,} characters of text, above the limit of {MAX_CHARACTERS:,} "
            "(about 2,000 pages; it would take very long to embed). Split it into several files, "
            "or check it is really one publication, then ingest again."
        )
    pub.source = source
    try:
        repairs = clean_publication(pub)
        chunks = chunk_publication(pub, max_words=settings.chunk_words, overlap_words=settings.chunk_overlap_words)
    except Exception as exc:
        raise ReadError(
            f"{source}: unexpected error while cutting the text ({type(exc).__name__}: {exc}). "
            "The file is skipped; report this error with the file."
        ) from exc
    report = FileReport(
        source=source,
        status="indexed",
        title=pub.title,
        year=pub.year,
        kind=pub.kind,
        pages=sum(1 for s in pub.sections if s.page is not None),
        empty_pages=[s.page for s in pub.sections if s.page is not None and not s.text.strip()],
        characters=characters,
        chunks=len(chunks),
        repairs=dict(repairs),
        warnings=list(pub.warnings),
    )
    if not chunks and not report.warnings:
        report.warnings.append(
            "no text could be extracted: nothing from this file is searchable. Check its content, then ingest again."
        )
    return report, chunks


def _source_of_link(path: Path, corpus_dir: Path) -> str:
    try:
        return path.relative_to(corpus_dir).as_posix()
    except ValueError:
        return path.as_posix()


def _embedder_name(settings: Settings) -> str:
    return settings.embedder


def _stored(report: FileReport) -> dict:
    data = asdict(report)
    data.pop("embedded", None)
    return data


def _embed_with_progress(embedder: Embedder, chunks: list[Chunk], source: str, show: bool) -> np.ndarray:
    texts = [embedding_text(c.title, c.heading, c.text) for c in chunks]
    if not show:
        return embedder.embed_passages(texts)
    from tqdm import tqdm

    with tqdm(total=len(texts), desc=f"embedding {source}", unit="chunk", file=sys.stderr, leave=False) as bar:
        return embedder.embed_passages(texts, progress=bar.update)
