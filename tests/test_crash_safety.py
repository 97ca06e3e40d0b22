"""Ingestion killed at random points leaves an index the next run completes without redoing work; one ingestion at a time; damage is detected."""

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

CLI = [sys.executable, "-c", "from assistant27.cli import main; main()"]
DUMP = """
import json, sys
from pathlib import Path
from assistant27.store import ChunkStore
store = ChunkStore.open(Path(sys.argv[1]))
print(json.dumps(sorted([c.id, c.source, c.text] for c in store.all_chunks())))
"""
TOPICS = ["la commande publique", "les tiers-lieux", "la forêt", "les cantines", "le contrat de ville", "les achats"]


def _env(index_dir: Path, corpus_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ASSISTANT27_INDEX_DIR": str(index_dir),
        "ASSISTANT27_CORPUS_DIR": str(corpus_dir),
        "ASSISTANT27_EMBEDDER": "hashing",
        "PYTHONUNBUFFERED": "1",
    }


def _write_corpus(folder: Path, files: int, version: int = 1) -> None:
    rng = random.Random(version)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        paragraphs = []
        for p in range(12):
            topic = rng.choice(TOPICS)
            paragraphs.append(
                f"Publication {n}, partie {p}, version {version}. "
                + " ".join(
                    f"En {2010 + (n + i) % 15}, l'équipe a étudié {topic} avec la Région numéro {n * 100 + p * 7 + i}."
                    for i in range(8)
                )
            )
        (folder / f"pub-{n:03d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")


def _ingest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "ingest", *args], env=env, capture_output=True, text=True, timeout=300)


def _dump(env: dict[str, str]) -> list[list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", DUMP, env["ASSISTANT27_INDEX_DIR"]], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [list(x) for x in json.loads(done.stdout)]


def _embedded(output: str) -> int:
    match = re.search(r"(\d+) chunks embedded", output)
    assert match, output
    return int(match.group(1))


def _kill_during(env: dict[str, str], rng: random.Random, kills: int) -> list[int]:
    """Run ingest `kills` times, each time SIGKILLed after a random number of files plus a random delay."""
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
        # Whatever the moment, the index still opens and its manifest parses.
        manifest = Path(env["ASSISTANT27_INDEX_DIR"]) / "manifest.json"
        if manifest.exists():
            json.loads(manifest.read_text(encoding="utf-8"))
        _dump(env)
    return files_done


@pytest.mark.slow
def test_sigkill_at_random_points_then_ingest_finishes_without_redoing_work(tmp_path: Path) -> None:
    rng = random.Random(27)
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, files=30)
    env = _env(tmp_path / "index", corpus)
    clean_env = _env(tmp_path / "clean", corpus)

    for phase, version in (("first build", 1), ("update", 2)):
        if version > 1:
            _write_corpus(corpus, files=20, version=version)  # 20 of 30 files change, 10 stay
            (corpus / "pub-029.txt").unlink()  # and one disappears
        files_done = _kill_during(env, rng, kills=4)
        assert sum(files_done) >= 4, phase
        before = {c[0] for c in _dump(env)}

        final = _ingest(env)
        assert final.returncode == 0, final.stdout + final.stderr
        clean = _ingest(clean_env, "--rebuild")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        index, reference = _dump(env), _dump(clean_env)
        assert index == reference, phase  # same chunk ids, sources and texts as a clean build
        # Chunks that reached the store before a kill were reused, not embedded again.
        assert _embedded(final.stdout) == len({c[0] for c in reference} - before), phase
        assert _embedded(final.stdout) < _embedded(clean.stdout), phase
        again = _ingest(env)
        assert _embedded(again.stdout) == 0 and "0 indexed" in again.stdout, again.stdout


def test_stray_chunks_of_a_vanished_file_are_removed(tmp_path: Path) -> None:
    """A file added, killed before its manifest entry, then deleted: its chunks do not stay in the index."""
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, files=2)
    env = _env(tmp_path / "index", corpus)
    assert _ingest(env).returncode == 0
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["publications"]["pub-001.txt"]  # what a kill before its commit leaves
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (corpus / "pub-001.txt").unlink()
    done = _ingest(env)
    assert done.returncode == 0 and "deleted  pub-001.txt" in done.stdout, done.stdout
    assert {c[1] for c in _dump(env)} == {"pub-000.txt"}


def test_chunks_missing_from_the_store_are_detected_and_repaired(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, files=2)
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


def test_a_second_ingestion_refuses_while_one_runs(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, files=2)
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
    return subprocess.run(
        [*CLI, "search", "--json", "forêt"], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_missing_or_damaged_index_is_detected_with_the_fix(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, files=2)
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
