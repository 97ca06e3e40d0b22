"""Shared fixtures: every test gets its own state folders; a tiny corpus; fakes at the model seams only."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from assistant27.cli import main
from assistant27.config import Settings
from assistant27.embedding import HashingEmbedder
from assistant27.generators import Generator
from assistant27.schema import Passage

if TYPE_CHECKING:
    from assistant27.assistant import Assistant

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every ASSISTANT27_* folder at a temp dir, so no test touches the repo's index or data."""
    state = tmp_path / "state"
    monkeypatch.setenv("ASSISTANT27_INDEX_DIR", str(state / "index"))
    monkeypatch.setenv("ASSISTANT27_DATA_DIR", str(state / "data"))
    monkeypatch.setenv("ASSISTANT27_CORPUS_DIR", str(state / "corpus"))
    monkeypatch.setenv("ASSISTANT27_EMBEDDER", "hashing")
    monkeypatch.setenv("ASSISTANT27_GENERATOR", "extractive")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    for var in ("ASSISTANT27_CHROMA_URL", "ASSISTANT27_OPENAI_BASE_URL", "ASSISTANT27_OPENAI_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return state


SMALL_CORPUS = {
    "rapport-2022.txt": """
        Nouveaux Accords

        Quel est le point de départ ?

        Nouveaux Accords est un programme de recherche-action sur le contrat de ville, mené
        en partenariat avec l’ANCT, Aix-Marseille Provence Métropole, la Ville de Vitry-le-François
        et la Communauté urbaine de Dunkerque. Il a commencé en septembre 2022.

        La Transfo

        La Transfo est un programme d’accompagnement des Régions pour créer des laboratoires
        d’innovation publique. La réglementation des achats publics y a été étudiée avec les agents.
        """,
    "rapport-2025.txt": """
        Les forêts

        En 2025, le programme Forêts a réuni la Région Grand Est et le Parc naturel du Morvan
        autour de la gestion des forêts publiques face au changement climatique.
        """,
}
SMALL_CATALOGUE = """file,title,kind,year,language,publisher
rapport-2022.txt,Rapport d'activité 2022,rapport d'activité,2022,fr,La 27e Région
rapport-2025.txt,Rapport d'activité 2025,rapport d'activité,2025,fr,La 27e Région
"""


def write_corpus(folder: Path, files: dict[str, str] | None = None, catalogue: str = SMALL_CATALOGUE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files or SMALL_CORPUS).items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    (folder / "catalogue.csv").write_text(catalogue, encoding="utf-8")
    return folder


@pytest.fixture
def settings(isolated_state: Path) -> Settings:
    write_corpus(isolated_state / "corpus")
    return Settings.from_env()


class CountingEmbedder(HashingEmbedder):
    """The hashing fake, counting how many passages it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed_passages(texts, progress)


def build_assistant(settings: Settings, generator: Generator) -> Assistant:
    """Ingest the settings' corpus with the hashing fake and answer from it with `generator`."""
    from assistant27.assistant import Assistant
    from assistant27.indexing import ingest
    from assistant27.store import ChunkStore

    store = ChunkStore.open(settings.index_dir, create=True)
    embedder = CountingEmbedder()
    ingest(settings, lambda: embedder, store, echo=lambda _l: None, show_progress=False)
    # The hashing fake's similarities are lower than e5's: loosen the dense refusal floor for it.
    return Assistant(settings.replace(min_dense=0.2), store, embedder, generator)


def passage(rank: int, text: str, dense: float = 0.0) -> Passage:
    """A retrieved passage of a 2022 report, with its dense similarity."""
    return Passage(rank, f"id{rank}", "r.txt", "Rapport", 2022, "rapport", None, "", text, 1.0, {"dense": dense})


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The repo's corpus ingested once per test session with multilingual-e5-small into a temp index.

    Returns the environment to run against it (tests pass it to CliRunner or Settings.from_env).
    """
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(REPO / "corpus", root / "corpus")
    env = {
        "ASSISTANT27_CORPUS_DIR": str(root / "corpus"),
        "ASSISTANT27_INDEX_DIR": str(root / "index"),
        "ASSISTANT27_EMBEDDER": "e5",
        "ASSISTANT27_GENERATOR": "extractive",
    }
    result = CliRunner().invoke(main, ["ingest"], env=env)
    assert result.exit_code == 0, result.output
    assert "5 indexed" in result.output
    yield env


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on a free loopback port, in a temp folder, for the whole session."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.fail(f"no chroma CLI at {chroma}: chromadb is not installed. Run: make test")
    port = free_port()
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

    from assistant27.store import COLLECTION, STATE_COLLECTION

    port = int(chroma_server.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    for name in (COLLECTION, STATE_COLLECTION):
        if name in [c.name for c in client.list_collections()]:
            client.delete_collection(name)
    monkeypatch.setenv("ASSISTANT27_CHROMA_URL", chroma_server)
    return chroma_server
