"""Ingestion into a real chromadb in a temp folder: incremental, replaces, deletes, skips bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA, CountingEmbedder, write_corpus

from assistant27.config import Settings
from assistant27.indexing import ingest, load_manifest
from assistant27.store import ChunkStore


@pytest.fixture(params=["local", "server"])
def settings(request: pytest.FixtureRequest, isolated_state: Path) -> Settings:
    """Each test runs on a local chromadb folder and on a real Chroma server (ASSISTANT27_CHROMA_URL)."""
    write_corpus(isolated_state / "corpus")
    if request.param == "server":
        request.getfixturevalue("server")
    return Settings.from_env()


def run(settings: Settings, embedder: CountingEmbedder, paths=None):  # type: ignore[no-untyped-def]
    store = ChunkStore.open(settings.index_dir, settings.chroma_url, create=True)
    report = ingest(settings, lambda: embedder, store, paths, echo=lambda _l: None, show_progress=False)
    return report, store


def test_ingest_indexes_every_publication_with_metadata(settings: Settings, embedder: CountingEmbedder) -> None:
    report, store = run(settings, embedder)
    assert report.count("indexed") == 2
    chunks = store.all_chunks()
    assert embedder.embedded == len(chunks) == store.count() > 0
    nouveaux = [c for c in chunks if "Dunkerque" in c.text]
    assert nouveaux and nouveaux[0].title == "Rapport d'activité 2022" and nouveaux[0].year == 2022
    assert nouveaux[0].heading.startswith("Nouveaux Accords")


def test_unchanged_corpus_costs_no_embedding(settings: Settings, embedder: CountingEmbedder) -> None:
    run(settings, embedder)
    first = embedder.embedded
    report, _ = run(settings, embedder)
    assert embedder.embedded == first
    assert report.count("unchanged") == 2 and report.embedded == 0


def test_changed_file_replaces_its_chunks_and_reuses_unchanged_ones(
    settings: Settings, embedder: CountingEmbedder
) -> None:
    _, store = run(settings, embedder)
    path = settings.corpus_dir / "rapport-2025.txt"
    path.write_text(
        path.read_text(encoding="utf-8") + "\nUn nouveau paragraphe sur les jardins partagés de Lille.\n",
        encoding="utf-8",
    )
    before = embedder.embedded
    report, store = run(settings, embedder)
    assert report.count("indexed") == 1 and report.count("unchanged") == 1
    texts = [c.text for c in store.all_chunks() if c.source == "rapport-2025.txt"]
    assert any("jardins partagés" in t for t in texts)
    assert embedder.embedded - before == report.embedded >= 1
    assert len(set(store.all_chunks()[i].id for i in range(store.count()))) == store.count()


def test_deleted_file_disappears(settings: Settings, embedder: CountingEmbedder) -> None:
    run(settings, embedder)
    (settings.corpus_dir / "rapport-2025.txt").unlink()
    report, store = run(settings, embedder)
    assert report.count("deleted") == 1
    assert {c.source for c in store.all_chunks()} == {"rapport-2022.txt"}
    assert "rapport-2025.txt" not in load_manifest(settings.index_dir)


def test_bad_files_are_reported_and_the_rest_is_ingested(settings: Settings, embedder: CountingEmbedder) -> None:
    shutil.copy(DATA / "truncated.pdf", settings.corpus_dir / "truncated.pdf")
    shutil.copy(DATA / "empty.txt", settings.corpus_dir / "empty.txt")
    report, store = run(settings, embedder)
    by_source = {f.source: f for f in report.files}
    assert by_source["truncated.pdf"].status == "skipped" and "truncated.pdf" in by_source["truncated.pdf"].error
    assert by_source["empty.txt"].warnings
    assert by_source["rapport-2022.txt"].status == "indexed"
    assert store.count() > 0


def test_pdf_chunks_keep_their_page(settings: Settings, embedder: CountingEmbedder) -> None:
    shutil.copy(DATA / "two-pages.pdf", settings.corpus_dir / "two-pages.pdf")
    report, store = run(settings, embedder)
    pdf = [c for c in store.all_chunks() if c.source == "two-pages.pdf"]
    assert {c.page for c in pdf} == {1, 2}
    assert next(f for f in report.files if f.source == "two-pages.pdf").pages == 2
