"""Ingestion killed at random points: queries see each publication whole (old or new version), the next run
completes the job without redoing work; an old index is upgraded in place; one ingestion at a time; damage is
detected."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CountingEmbedder
from helpers import Versions, assert_whole, by_source, write_versioned_corpus

from assistant27.config import Settings
from assistant27.embedding import HashingEmbedder
from assistant27.indexing import ingest, load_manifest
from assistant27.store import ChunkStore

CLI = [sys.executable, "-c", "from assistant27.cli import main; main()"]
# Every read path of the store, as a fresh process sees it: the listing BM25 is built from, a dense query over
# everything, and the vectors fetched by id for citations; plus every chunk with a row, committed or not.
DUMP = """
import json, sys
from pathlib import Path
from assistant27.embedding import HashingEmbedder
from assistant27.store import ChunkStore
store = ChunkStore.open(Path(sys.argv[1]))
chunks = store.all_chunks()
hits = store.query(HashingEmbedder().embed_query("la forêt et les cantines"), 100000)
print(json.dumps({
    "chunks": sorted([c.id, c.source, c.text] for c in chunks),
    "query": sorted(c.id for c, _ in hits),
    "vectors": sorted(store.embeddings_for([c.id for c in chunks])),
    "stored": sorted(store.stored_chunk_ids()),
}))
"""


def _env(index_dir: Path, corpus_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ASSISTANT27_INDEX_DIR": str(index_dir),
        "ASSISTANT27_CORPUS_DIR": str(corpus_dir),
        "ASSISTANT27_EMBEDDER": "hashing",
        "PYTHONUNBUFFERED": "1",
    }


def _ingest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "ingest", *args], env=env, capture_output=True, text=True, timeout=300)


def _read(env: dict[str, str]) -> dict[str, list]:
    done = subprocess.run(
        [sys.executable, "-c", DUMP, env["ASSISTANT27_INDEX_DIR"]], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _dump(env: dict[str, str]) -> list[list[str]]:
    return [list(x) for x in _read(env)["chunks"]]


def _assert_consistent(view: dict[str, list], old: Versions, new: Versions, moment: str) -> None:
    """The listing shows whole publications, and the dense query and the vectors by id show the same chunks."""
    assert_whole(by_source(view["chunks"]), old, new, moment)
    ids = sorted(c[0] for c in view["chunks"])
    assert view["query"] == ids, f"{moment}: the dense query sees other chunks than the listing"
    assert view["vectors"] == ids, f"{moment}: vectors by id come from other chunks than the listing"


def _embedded(output: str) -> int:
    match = re.search(r"(\d+) chunks embedded", output)
    assert match, output
    return int(match.group(1))


def _kill_during(env: dict[str, str], rng: random.Random, kills: int, old: Versions, new: Versions) -> list[int]:
    """Run ingest `kills` times, each SIGKILLed after a random number of files plus a random delay; after each
    kill, every read path shows each publication whole, in its `old` or `new` version."""
    files_done: list[int] = []
    for _ in range(kills):
        process = subprocess.Popen(
            [*CLI, "ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert process.stdout is not None
        target, seen = rng.randint(1, 4), 0
        for line in process.stdout:
            if line.startswith("indexed"):
                seen += 1
                if seen >= target:
                    break
        # Between files a new one is being read, embedded in batches and written: land anywhere in it.
        time.sleep(rng.uniform(0, 0.08))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
        files_done.append(seen)
        # Whatever the moment, the index still opens, its manifest parses, and no publication is half replaced.
        manifest = Path(env["ASSISTANT27_INDEX_DIR"]) / "manifest.json"
        if manifest.exists():
            json.loads(manifest.read_text(encoding="utf-8"))
        _assert_consistent(_read(env), old, new, f"after kill {len(files_done)} ({seen} files done)")
    return files_done


@pytest.mark.slow
def test_sigkill_at_random_points_then_ingest_finishes_without_redoing_work(tmp_path: Path) -> None:
    rng = random.Random(27)
    corpus = tmp_path / "corpus"
    write_versioned_corpus(corpus, files=30)
    env = _env(tmp_path / "index", corpus)
    clean_env = _env(tmp_path / "clean", corpus)

    old: Versions = {}
    for phase, version in (("first build", 1), ("update", 2)):
        if version > 1:
            # 20 of 30 files change (half their text), 10 stay
            write_versioned_corpus(corpus, files=20, version=version)
            (corpus / "pub-029.txt").unlink()  # and one disappears
        clean = _ingest(clean_env, "--rebuild")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        reference = _dump(clean_env)
        new = by_source(reference)
        files_done = _kill_during(env, rng, kills=4, old=old, new=new)
        assert sum(files_done) >= 4, phase
        before = set(_read(env)["stored"])

        final = _ingest(env)
        assert final.returncode == 0, final.stdout + final.stderr
        index = _dump(env)
        assert index == reference, phase  # same chunk ids, sources and texts as a clean build
        # Chunks that reached the store before a kill, committed or not, were reused, not embedded again.
        assert _embedded(final.stdout) == len({c[0] for c in reference} - before), phase
        assert _embedded(final.stdout) < _embedded(clean.stdout), phase
        again = _ingest(env)
        assert _embedded(again.stdout) == 0 and "0 indexed" in again.stdout, again.stdout
        old = new


class Killed(BaseException):
    """What the crashing embedder raises: like SIGKILL, nothing in ingestion catches it."""


class CrashingEmbedder(HashingEmbedder):
    """The hashing fake, dying after `after` passages as a killed process would (mid-file, rows half written)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.embedded = 0

    def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
        if self.embedded + len(texts) > self.after:
            raise Killed(f"killed after {self.embedded} passages")
        self.embedded += len(texts)
        return super().embed_passages(texts, progress)


def _run(settings: Settings, embedder: HashingEmbedder) -> tuple[list[str], ChunkStore]:
    store = ChunkStore.open(settings.index_dir, create=True)
    lines: list[str] = []
    ingest(settings, lambda: embedder, store, echo=lines.append, show_progress=False)
    return lines, store


def _long_publication(path: Path, version: int) -> None:
    """About 100 chunks (more than one write batch of 64), all different from one version to the next."""
    path.write_text(
        "\n\n".join(
            f"Version {version}, partie {p}. "
            + " ".join(f"La Région numéro {version}{p}{i} a innové." for i in range(40))
            for p in range(60)
        ),
        encoding="utf-8",
    )


def test_a_change_cut_short_is_invisible_and_its_written_chunks_are_reused(settings: Settings) -> None:
    long = settings.corpus_dir / "long.txt"
    _long_publication(long, 1)
    _run(settings, HashingEmbedder())
    store = ChunkStore.open(settings.index_dir)
    version_1 = {c.id for c in store.all_chunks() if c.source == "long.txt"}
    texts_1 = {c.text for c in store.all_chunks()}

    _long_publication(long, 2)
    crashing = CrashingEmbedder(after=64)
    with pytest.raises(Killed):
        _run(settings, crashing)
    store = ChunkStore.open(settings.index_dir)
    assert len(store.ids_for_source("long.txt")) == len(version_1) + 64  # the first batch reached the store
    assert {c.text for c in store.all_chunks()} == texts_1  # but queries still see version 1 only
    assert {c.id for c, _ in store.query(HashingEmbedder().embed_query("Région"), 1000)} == {
        c.id for c in store.all_chunks()
    }
    assert store.count() == len(texts_1)

    embedder = CountingEmbedder()
    lines, store = _run(settings, embedder)
    assert any("An interrupted ingestion left 64 chunk(s)" in line for line in lines), lines
    version_2 = {c.id for c in store.all_chunks() if c.source == "long.txt"}
    assert version_2.isdisjoint(version_1) and embedder.embedded == len(version_2) - 64
    # Version 1's rows stay until the next ingestion (a query may have read the generation just before the
    # commit), which deletes them.
    assert len(store.ids_for_source("long.txt")) == len(version_1) + len(version_2)
    _, store = _run(settings, embedder)
    assert store.ids_for_source("long.txt") == {c.id for c in store.all_chunks() if c.source == "long.txt"}


def test_chunks_of_a_file_added_then_deleted_before_its_commit_are_removed(settings: Settings) -> None:
    """A file added, cut short before its commit, then deleted: queries never see it, its rows do not stay."""
    _run(settings, HashingEmbedder())
    _long_publication(settings.corpus_dir / "long.txt", 1)
    with pytest.raises(Killed):
        _run(settings, CrashingEmbedder(after=64))
    store = ChunkStore.open(settings.index_dir)
    assert len(store.ids_for_source("long.txt")) == 64
    assert "long.txt" not in {c.source for c in store.all_chunks()}
    (settings.corpus_dir / "long.txt").unlink()
    lines, store = _run(settings, HashingEmbedder())
    assert any("An interrupted ingestion left 64 chunk(s)" in line for line in lines), lines
    assert store.ids_for_source("long.txt") == set()
    assert "long.txt" not in load_manifest(settings.index_dir)


def test_an_index_of_store_format_1_is_upgraded_in_place_without_embedding(settings: Settings) -> None:
    """An index written before generations (rows without them, a manifest listing the committed chunk ids,
    one stray row a crash left) is still searchable, and the next ingest upgrades it without embedding."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    new_dir = settings.index_dir.parent / "new"
    _run(settings.replace(index_dir=new_dir), HashingEmbedder())
    built = ChunkStore.open(new_dir)
    chunks = built.all_chunks()
    vectors = built.embeddings_for([c.id for c in chunks])
    entries = json.loads((new_dir / "manifest.json").read_text(encoding="utf-8"))["publications"]

    client = chromadb.PersistentClient(
        path=str(settings.index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    old = client.create_collection("publications", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    stray = chunks[0].id + "-stray"  # a row a crash wrote for a version never committed
    old.add(
        ids=[c.id for c in chunks] + [stray],
        embeddings=[vectors[c.id] for c in chunks] + [vectors[chunks[0].id]],
        documents=[c.text for c in chunks] + ["Une version jamais terminée."],
        metadatas=[
            {
                "source": c.source,
                "title": c.title,
                "kind": c.kind,
                "year": c.year or 0,
                "language": c.language,
                "page": c.page or 0,
                "heading": c.heading,
                "start": c.start,
                "end": c.end,
                "content_hash": "x",
            }
            for c in chunks
        ]
        + [{"source": chunks[0].source, "content_hash": "y"}],
    )
    del client
    legacy = {
        source: {
            "hash": e["hash"],
            "embedder": e["embedder"],
            "report": e["report"],
            "ids": sorted(c.id for c in chunks if c.source == source),
        }
        for source, e in entries.items()
    }
    (settings.index_dir / "manifest.json").write_text(
        json.dumps({"pipeline": "4", "embedder": "hashing", "publications": legacy}), encoding="utf-8"
    )
    assert len(ChunkStore.open(settings.index_dir).all_chunks()) == len(chunks) + 1  # format 1: read as it was

    embedder = CountingEmbedder()
    lines, store = _run(settings, embedder)
    assert any("Upgraded the index" in line and "none embedded again" in line for line in lines), lines
    assert embedder.embedded == 0 and sum("unchanged" in line for line in lines) == 2, lines
    assert sorted(c.id for c in store.all_chunks()) == sorted(c.id for c in chunks)
    assert stray not in store.ids_for_source(chunks[0].source)  # set aside at the upgrade, then removed


@pytest.mark.slow  # ingestion runs in other processes: about a minute on 2 cores
def test_chunks_missing_from_the_store_are_detected_and_repaired(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_versioned_corpus(corpus, files=2)
    env = _env(tmp_path / "index", corpus)
    first = _ingest(env)
    total = _embedded(first.stdout)
    removed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from assistant27.store import ChunkStore; "
            "s = ChunkStore.open(Path(sys.argv[1])); s.delete(sorted(s.ids_for_source('pub-000.txt'))[:3])",
            str(tmp_path / "index"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert removed.returncode == 0, removed.stderr
    done = _ingest(env)
    assert "repaired" in done.stdout and _embedded(done.stdout) == 3, done.stdout
    assert len(_dump(env)) == total


HOLD_LOCK = """
import sys, time
from pathlib import Path
from assistant27.indexing import ingest_lock
with ingest_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
def test_a_second_ingestion_refuses_while_one_runs(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_versioned_corpus(corpus, files=2)
    env = _env(tmp_path / "index", corpus)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "index")], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = _ingest(env)
        assert second.returncode == 1
        assert (
            f"Another ingestion is running on {tmp_path / 'index'}/ (pid {holder.pid}). Wait for it to finish."
            in second.stderr
        ), second.stderr
        assert not (tmp_path / "index" / "chroma").exists()  # it touched nothing
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel drops the lock of a killed process: the next ingestion runs.
    assert _ingest(env).returncode == 0


def _search(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "search", "--json", "forêt"], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_missing_or_damaged_index_is_detected_with_the_fix(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_versioned_corpus(corpus, files=2)
    index = tmp_path / "index"
    env = _env(index, corpus)

    missing = _search(env)
    assert missing.returncode == 1 and "No index in" in missing.stderr and "assistant27 ingest" in missing.stderr

    assert _ingest(env).returncode == 0
    assert _search(env).returncode == 0
    manifest = index / "manifest.json"
    manifest.write_text('{"pipeline": "4", "publications": {"pub-0', encoding="utf-8")  # cut mid-write
    damaged = _search(env)
    assert damaged.returncode == 1 and "manifest.json" in damaged.stderr, damaged.stderr
    assert "Run: assistant27 ingest --rebuild" in damaged.stderr

    assert _ingest(env, "--rebuild").returncode == 0
    (index / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(8192))
    for command in (_search(env), _ingest(env)):
        assert command.returncode == 1, command.stdout + command.stderr
        assert "cannot be opened" in command.stderr and "Run: assistant27 ingest --rebuild" in command.stderr

    rebuilt = _ingest(env, "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    found = _search(env)
    assert found.returncode == 0 and json.loads(found.stdout)
