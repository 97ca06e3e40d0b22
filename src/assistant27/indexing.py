"""Publications -> cleaned chunks -> vectors -> store; skips unchanged files, replaces changed ones, drops deleted ones."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant27.analysis import strip_urls
from assistant27.chunking import chunk_publication
from assistant27.config import Settings
from assistant27.embedding import Embedder
from assistant27.errors import CorpusEmptyError, ReadError
from assistant27.readers import SUPPORTED_SUFFIXES, find_publications, load_catalogue, read_publication
from assistant27.schema import Publication, Section
from assistant27.store import ChunkStore
from assistant27.textclean import clean_text

# Bump when reading, cleaning or chunking changes, so every file is processed again on the next ingest.
PIPELINE_VERSION = "4"
MANIFEST = "manifest.json"


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
            return f"SKIPPED  {self.source}: {self.error}"
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
    """What was ingested: per source, its hash, chunk ids and last report. Empty when there is none."""
    path = index_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(data.get("publications", {}))


def load_manifest_embedder(index_dir: Path) -> str:
    """The embedder the index was built with, or "" when there is no index."""
    try:
        return str(json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")).get("embedder", ""))
    except (OSError, ValueError):
        return ""


def _save_manifest(index_dir: Path, publications: dict[str, dict], embedder: str) -> None:
    # Write then rename, so a crash never leaves half a manifest.
    path = index_dir / MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {"pipeline": PIPELINE_VERSION, "embedder": embedder, "publications": publications},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    os.replace(tmp, path)


def clean_publication(pub: Publication) -> Counter[str]:
    """Repair the text of every section in place; return the repairs made."""
    repairs: Counter[str] = Counter()
    cleaned = []
    for section in pub.sections:
        result = clean_text(section.text)
        repairs.update(result.repairs)
        cleaned.append(Section(result.text, section.page, section.heading))
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
    """Bring the index up to date with the corpus (or with `paths`); embed only what changed."""
    started = time.perf_counter()
    corpus_dir = settings.corpus_dir
    catalogue = load_catalogue(settings.catalogue_path)
    whole_corpus = paths is None
    files = find_publications(corpus_dir) if paths is None else _expand(paths)
    files = [f for f in files if f.suffix.lower() in SUPPORTED_SUFFIXES]
    if not files:
        raise CorpusEmptyError(
            f"No publication found in {corpus_dir}/ ({', '.join(SUPPORTED_SUFFIXES)}). "
            "Add files there or set ASSISTANT27_CORPUS_DIR."
        )
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(settings.index_dir)
    embedder: Embedder | None = None
    reports: list[FileReport] = []

    for path in files:
        source = _source_of(path, corpus_dir)
        entry = catalogue.get(source) or catalogue.get(path.name)
        digest = file_hash(path, f"{PIPELINE_VERSION}|{entry}|{settings.chunk_words}|{settings.chunk_overlap_words}")
        known = manifest.get(source)
        if known and known.get("hash") == digest and known.get("embedder") == _embedder_name(settings):
            report = FileReport(**{**known["report"], "status": "unchanged", "embedded": 0})
            reports.append(report)
            echo(report.line())
            continue
        try:
            pub = read_publication(path, corpus_dir, catalogue)
        except ReadError as exc:
            report = FileReport(source=source, status="skipped", error=str(exc))
            reports.append(report)
            echo(report.line())
            continue
        pub.source = source
        repairs = clean_publication(pub)
        chunks = chunk_publication(pub, max_words=settings.chunk_words, overlap_words=settings.chunk_overlap_words)
        report = FileReport(
            source=source,
            status="indexed",
            title=pub.title,
            year=pub.year,
            kind=pub.kind,
            pages=sum(1 for s in pub.sections if s.page is not None),
            empty_pages=[s.page for s in pub.sections if s.page is not None and not s.text.strip()],
            characters=sum(len(s.text) for s in pub.sections),
            chunks=len(chunks),
            repairs=dict(repairs),
            warnings=list(pub.warnings),
        )
        if not chunks and not any("no text" in w or "empty" in w for w in report.warnings):
            report.warnings.append("no text could be extracted: nothing from this file is searchable.")
        old_ids = store.ids_for_source(source)
        new_chunks = [c for c in chunks if c.id not in old_ids]
        kept = [c for c in chunks if c.id in old_ids]
        if new_chunks:
            if embedder is None:
                embedder = embedder_factory()
            vectors = _embed_with_progress(embedder, new_chunks, source, show_progress)
            store.add(new_chunks, vectors, digest)
        if kept:
            store.update_metadata(kept, digest)
        store.delete(old_ids - {c.id for c in chunks})
        report.embedded = len(new_chunks)
        manifest[source] = {"hash": digest, "embedder": _embedder_name(settings), "report": _stored(report)}
        _save_manifest(settings.index_dir, manifest, _embedder_name(settings))
        reports.append(report)
        echo(report.line())

    if whole_corpus:
        present = {_source_of(f, corpus_dir) for f in files}
        for source in sorted(set(manifest) - present):
            store.delete(store.ids_for_source(source))
            del manifest[source]
            _save_manifest(settings.index_dir, manifest, _embedder_name(settings))
            report = FileReport(source=source, status="deleted")
            reports.append(report)
            echo(report.line())
    result = IngestReport(reports, time.perf_counter() - started)
    return result


def _embedder_name(settings: Settings) -> str:
    return settings.embedder


def _stored(report: FileReport) -> dict:
    data = asdict(report)
    data.pop("embedded", None)
    return data


def _embed_with_progress(embedder: Embedder, chunks: list, source: str, show: bool):  # type: ignore[no-untyped-def]
    texts = [embedding_text(c.title, c.heading, c.text) for c in chunks]
    if not show:
        return embedder.embed_passages(texts)
    from tqdm import tqdm

    with tqdm(total=len(texts), desc=f"embedding {source}", unit="chunk", file=sys.stderr, leave=False) as bar:
        return embedder.embed_passages(texts, progress=bar.update)
