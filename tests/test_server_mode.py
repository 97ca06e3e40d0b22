"""Server mode: ingestion and retrieval against a real `chroma run` on loopback, shared by several processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_corpus

from assistant27.cli import main

CLI = [sys.executable, "-c", "from assistant27.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on a free loopback port, in a temp folder, for the whole session."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.fail(f"no chroma CLI at {chroma}: chromadb is not installed. Run: make test")
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"chroma run did not start: {(folder / 'server.log').read_text(errors='replace')}")
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def server(chroma_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Server mode for this test, on an empty collection."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant27.store import COLLECTION

    port = int(chroma_server.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    if COLLECTION in [c.name for c in client.list_collections()]:
        client.delete_collection(COLLECTION)
    monkeypatch.setenv("ASSISTANT27_CHROMA_URL", chroma_server)
    return chroma_server


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


def test_server_down_is_a_clear_error(isolated_state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
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


@pytest.mark.slow
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
