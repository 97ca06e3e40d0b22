"""Server mode: ingestion and retrieval against a real `chroma run` on loopback, shared by several processes and
machines (the committed record and the ingestion lease live in the server)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import free_port, write_corpus
from helpers import Versions, assert_whole, by_source, write_versioned_corpus

from assistant27.cli import main
from assistant27.embedding import HashingEmbedder
from assistant27.errors import IndexBusyError
from assistant27.indexing import load_manifest
from assistant27.schema import Chunk
from assistant27.store import ChunkStore

pytestmark = pytest.mark.slow  # a real Chroma server and processes beside it (make test runs them, test-fast does not)

CLI = [sys.executable, "-c", "from assistant27.cli import main; main()"]


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_ingest_and_search_go_to_the_server(server: str, isolated_state: Path) -> None:
    write_corpus(isolated_state / "corpus")
    code, output = _invoke("ingest")
    assert code == 0 and "2 indexed" in output and "3 chunks embedded" in output, output
    assert not (isolated_state / "index" / "chroma").exists()  # nothing in the local folder but the manifest
    code, output = _invoke("search", "--json", "Nouveaux Accords Dunkerque")
    assert code == 0, output
    hits = json.loads(output)
    assert hits[0]["source"] == "rapport-2022.txt" and hits[0]["year"] == 2022
    code, output = _invoke("search", "--json", "forêts", "--year-min", "2025")
    assert code == 0 and {h["source"] for h in json.loads(output)} == {"rapport-2025.txt"}, output

    code, output = _invoke("ingest")
    assert code == 0 and "0 chunks embedded" in output and "2 unchanged" in output, output
    (isolated_state / "corpus" / "rapport-2025.txt").unlink()
    code, output = _invoke("ingest")
    assert code == 0 and "1 deleted" in output, output
    code, output = _invoke("search", "--json", "forêts Morvan")
    assert code == 0 and all(h["source"] != "rapport-2025.txt" for h in json.loads(output))

    # --rebuild empties the server's collection too: everything is embedded again.
    code, output = _invoke("ingest", "--rebuild")
    assert code == 0 and "1 indexed" in output and "2 chunks embedded" in output, output


def test_the_committed_record_is_in_the_server_for_every_machine(
    server: str, isolated_state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second machine (another index folder, nothing on its disk) sees what the first one committed."""
    write_corpus(isolated_state / "corpus")
    assert _invoke("ingest")[0] == 0
    other = isolated_state / "other-machine"
    monkeypatch.setenv("ASSISTANT27_INDEX_DIR", str(other))
    code, output = _invoke("ingest")
    assert code == 0 and "2 unchanged" in output and "0 chunks embedded" in output, output
    third = isolated_state / "third-machine"
    monkeypatch.setenv("ASSISTANT27_INDEX_DIR", str(third))
    code, output = _invoke("search", "--json", "forêts")
    assert code == 0, output
    # Opening the store wrote this machine's copy of the list of publications (the web app reads it).
    assert sorted(load_manifest(third)) == ["rapport-2022.txt", "rapport-2025.txt"]
    committed = ChunkStore.open(third, server).committed()
    assert committed is not None and sorted(committed.publications) == ["rapport-2022.txt", "rapport-2025.txt"]


HOLD_LEASE = """
import os, sys, time
from pathlib import Path
from assistant27.store import ChunkStore
store = ChunkStore.open(Path(sys.argv[1]), os.environ["ASSISTANT27_CHROMA_URL"], create=True)
with store.lease():
    print("leased", flush=True)
    time.sleep(60)
"""


def test_a_second_ingestion_refuses_while_another_machine_holds_the_lease(server: str, isolated_state: Path) -> None:
    write_corpus(isolated_state / "corpus")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LEASE, str(isolated_state / "elsewhere")],  # its own folder: no shared flock
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "leased"
        code, output = _invoke("ingest")
        assert code == 1, output
        assert f"Another ingestion is writing to the Chroma server at {server} (process {holder.pid} on " in output
        assert "Wait for it to finish" in output
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # Its process is gone (same machine): the lease is taken over at once, without waiting for it to expire.
    code, output = _invoke("ingest")
    assert code == 0 and "2 indexed" in output, output


def test_an_ingestion_that_lost_its_lease_stops_before_committing(server: str, isolated_state: Path) -> None:
    first = ChunkStore.open(isolated_state / "a", server, create=True)
    second = ChunkStore.open(isolated_state / "b", server, create=True)
    chunk = Chunk(id="x-1", source="x.txt", text="Un texte.", page=None, heading="", start=0, end=9)

    def embed(chunks):  # type: ignore[no-untyped-def]
        return HashingEmbedder().embed_passages([c.text for c in chunks])

    with first.lease(seconds=1.0):
        first.prepare_ingest("hashing")
        time.sleep(1.2)  # stalled past its lease: another ingestion may take the server
        with second.lease():
            with pytest.raises(IndexBusyError, match="lost its lease"):
                first.replace("x.txt", [chunk], embed, {"hash": "h"})
            assert second.all_chunks() == [] and second.committed() is not None
            assert "x.txt" not in second.committed().publications  # type: ignore[union-attr]


def test_server_down_is_a_clear_error(isolated_state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ASSISTANT27_CHROMA_URL", url)
    code, output = _invoke("search", "--json", "forêts")
    assert code == 1 and f"Cannot reach the Chroma server at {url}" in output, output


def test_searching_a_server_without_publications_says_to_ingest(server: str) -> None:
    code, output = _invoke("search", "--json", "forêts")
    assert code == 1 and "has no publications. Run: assistant27 ingest" in output, output


SEARCH_LOOP = """
import json, subprocess, sys, time
cli = [sys.executable, "-c", "from assistant27.cli import main; main()"]
stop, results = sys.argv[1], []
while True:
    done = subprocess.run([*cli, "search", "--json", "programme Région"], capture_output=True, text=True)
    results.append({"rc": done.returncode, "hits": len(json.loads(done.stdout)) if done.returncode == 0 else -1,
                    "err": done.stderr[-500:]})
    if __import__("os").path.exists(stop):
        break
print(json.dumps(results))
"""


def test_two_processes_query_while_a_third_ingests(server: str, isolated_state: Path) -> None:
    corpus = write_corpus(isolated_state / "corpus")
    assert _invoke("ingest")[0] == 0
    for n in range(40):
        (corpus / f"ajout-{n:02d}.txt").write_text(
            "\n\n".join(
                f"Le programme {n}.{p} de la Région associe agents, élus et habitants autour de la commande publique "
                f"et des tiers-lieux, étape {p} sur douze, avec un laboratoire d'innovation numéro {n * 12 + p}."
                for p in range(30)
            ),
            encoding="utf-8",
        )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    stop = isolated_state / "stop"
    searchers = [
        subprocess.Popen([sys.executable, "-c", SEARCH_LOOP, str(stop)], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    ingestion = subprocess.run([*CLI, "ingest"], env=env, capture_output=True, text=True, timeout=300)
    stop.touch()
    outputs = [json.loads(s.communicate(timeout=120)[0]) for s in searchers]
    assert ingestion.returncode == 0 and "40 indexed" in ingestion.stdout, ingestion.stdout + ingestion.stderr
    for results in outputs:
        assert len(results) >= 2
        assert all(r["rc"] == 0 and r["hits"] > 0 for r in results), results
    code, output = _invoke("search", "--json", "laboratoire d'innovation commande publique tiers-lieux")
    assert code == 0 and any(h["source"].startswith("ajout-") for h in json.loads(output)), output


def _reader(url: str, folder: Path, old: Versions, new: Versions, stop: threading.Event, out: dict) -> None:
    """Query the server without pause through every read path (the listing BM25 is built from, a dense query over
    everything, vectors by id for citations); record any read that shows a publication half replaced."""
    store = ChunkStore.open(folder, url)
    vector = HashingEmbedder().embed_query("la forêt et les cantines")
    source_of = {i: source for versions in (old, new) for source, ids in versions.items() for i in ids}
    while not stop.is_set():
        moment = f"read {out['reads']}"
        try:
            assert_whole(by_source([[c.id, c.source, ""] for c in store.all_chunks()]), old, new, moment + " (listing)")
            hits = store.query(vector, 100000)
            assert_whole(by_source([[c.id, c.source, ""] for c, _ in hits]), old, new, moment + " (dense query)")
            vectors = store.embeddings_for(sorted(source_of))
            assert_whole(by_source([[i, source_of[i], ""] for i in vectors]), old, new, moment + " (vectors by id)")
        except AssertionError as exc:
            out["mixes"].append(str(exc).splitlines()[0])
        except Exception as exc:  # noqa: BLE001 - a failed read is a finding too, reported by the test
            out["mixes"].append(f"{moment} failed: {type(exc).__name__}: {exc}")
        out["reads"] += 1


def test_queries_never_see_a_mix_while_ingestion_is_killed(server: str, isolated_state: Path) -> None:
    """SIGKILL an ingestion that replaces publications, several times, while another process queries the server."""
    rng = random.Random(5)
    corpus = isolated_state / "corpus"
    write_versioned_corpus(corpus, files=12)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    assert subprocess.run([*CLI, "ingest"], env=env, capture_output=True, timeout=300).returncode == 0
    old = by_source([[c.id, c.source, c.text] for c in ChunkStore.open(isolated_state / "index", server).all_chunks()])
    write_versioned_corpus(corpus, files=12, version=2)
    local = {**env, "ASSISTANT27_INDEX_DIR": str(isolated_state / "reference"), "ASSISTANT27_CHROMA_URL": ""}
    assert subprocess.run([*CLI, "ingest"], env=local, capture_output=True, timeout=300).returncode == 0
    reference = ChunkStore.open(isolated_state / "reference").all_chunks()
    new = by_source([[c.id, c.source, c.text] for c in reference])

    stop, seen = threading.Event(), {"reads": 0, "mixes": []}
    reader = threading.Thread(target=_reader, args=(server, isolated_state / "reader", old, new, stop, seen))
    reader.start()
    try:
        for _ in range(3):
            process = subprocess.Popen(
                [*CLI, "ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            assert process.stdout is not None
            target, done = rng.randint(1, 3), 0
            for line in process.stdout:
                done += line.startswith("indexed")
                if done >= target:
                    break
            time.sleep(rng.uniform(0, 0.15))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            process.stdout.close()
        final = subprocess.run([*CLI, "ingest"], env=env, capture_output=True, text=True, timeout=300)
        time.sleep(0.5)
    finally:
        stop.set()
        reader.join(60)
    assert final.returncode == 0, final.stdout + final.stderr
    assert seen["mixes"] == [] and seen["reads"] >= 10, seen
    now = ChunkStore.open(isolated_state / "index", server).all_chunks()
    assert sorted((c.id, c.text) for c in now) == sorted((c.id, c.text) for c in reference)
