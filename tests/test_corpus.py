"""The corpus view follows ingestion: a process that searches (as `serve` does) while another process ingests sees
the new version whole at its next question, BM25, catalogue, chunks and years included, in a local folder and on a
Chroma server."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant27.assistant import Assistant
from assistant27.config import Settings
from assistant27.errors import IndexBusyError
from assistant27.indexing import ingest_lock
from assistant27.store import LOCK

CLI = [sys.executable, "-c", "from assistant27.cli import main; main()"]
OLD = "# Les forêts\n\nSylve est un programme de recherche-action sur la gestion des forêts publiques, mené avec la Région.\n"
NEW = "# Les tiers-lieux\n\nTiers Ouverts est un programme de recherche-action qui a ouvert des tiers-lieux dans les villages.\n"
OTHER = "# Les cantines\n\nLes cantines scolaires ont été étudiées avec les agents de la restauration collective.\n"
# Ingests, then holds the ingestion lock until told to go (a line on stdin): an ingestion still running.
HOLDING = """
import sys
from assistant27.cli import _ingest
from assistant27.config import Settings
from assistant27.indexing import ingest_lock
settings = Settings.from_env()
_ingest(settings, None, rebuild=False, echo=lambda line: None)
with ingest_lock(settings.index_dir):
    print("ingested", flush=True)
    sys.stdin.readline()
"""


def _ingest() -> None:
    done = subprocess.run([*CLI, "ingest"], env=os.environ, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _serving(corpus: Path) -> Assistant:
    """Two markdown publications ingested by another process, and an assistant that has answered from them."""
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "forets-2022.md").write_text(OLD, encoding="utf-8")
    (corpus / "cantines-2023.md").write_text(OTHER, encoding="utf-8")
    _ingest()
    assistant = Assistant.from_settings(Settings.from_env())
    assert "Sylve" in assistant.search("gestion des forêts publiques")[0].text
    assert "Sylve" in [p.name for p in assistant.catalogue.programmes]
    return assistant


def _change(corpus: Path) -> None:
    (corpus / "forets-2022.md").write_text(NEW, encoding="utf-8")
    (corpus / "tiers-lieux-2031.md").write_text(NEW.replace("villages", "quartiers"), encoding="utf-8")


def _assert_new_version_only(assistant: Assistant) -> None:
    """Every read of the corpus, dense, BM25, catalogue, chunks and years, shows the new version and only it."""
    for mode in ("fused", "dense", "bm25"):
        texts = [p.text for p in assistant.search("Sylve gestion des forêts publiques tiers-lieux", mode=mode)]
        assert not any("Sylve" in t for t in texts), mode
    assert "tiers-lieux" in assistant.search("tiers-lieux dans les villages", mode="bm25")[0].text
    assert "tiers-lieux" in assistant.search("tiers-lieux dans les villages", mode="dense")[0].text
    answer = assistant.ask("Quel programme a ouvert des tiers-lieux dans les villages ?")
    assert "Sylve" not in answer.answer and all("Sylve" not in c.passage.text for c in answer.citations)
    view = assistant.corpus.current()
    assert not any("Sylve" in c.text for c in view.chunks) and view.by_id == {c.id: c for c in view.chunks}
    assert view.years == {2022, 2023, 2031}
    names = [p.name for p in assistant.catalogue.programmes]
    assert "Tiers Ouverts" in names and "Sylve" not in names


@pytest.mark.slow  # a second process ingests: tens of seconds on 2 cores
def test_a_searching_process_follows_an_ingestion_by_another_process(isolated_state: Path) -> None:
    assistant = _serving(isolated_state / "corpus")
    _change(isolated_state / "corpus")
    _ingest()
    _assert_new_version_only(assistant)  # before: chromadb's "Error finding id", or BM25 still on the old version


@pytest.mark.slow
def test_while_another_process_ingests_a_local_folder_the_old_version_is_served_whole(isolated_state: Path) -> None:
    assistant = _serving(isolated_state / "corpus")
    _change(isolated_state / "corpus")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDING], env=os.environ, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "ingested"
        # Committed, but the ingesting process still holds the folder: its vector index is not ours to load yet.
        assert "Sylve" in assistant.search("gestion des forêts publiques")[0].text
        assert "Sylve" in [p.name for p in assistant.catalogue.programmes]
        assert assistant.corpus.current().years == {2022, 2023}
    finally:
        holder.stdin.write("go\n")
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    _assert_new_version_only(assistant)


@pytest.mark.slow
def test_a_searching_process_follows_an_ingestion_into_a_chroma_server(server: str, isolated_state: Path) -> None:
    assistant = _serving(isolated_state / "corpus")
    _change(isolated_state / "corpus")
    started = time.monotonic()
    _ingest()
    _assert_new_version_only(assistant)
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("held_by_an_ingestion", [False, True])
def test_an_ingestion_waits_for_a_reader_reopening_but_not_for_another_ingestion(
    settings: Settings, held_by_an_ingestion: bool
) -> None:
    settings.index_dir.mkdir(parents=True)
    lock = settings.index_dir / LOCK
    lock.write_text("12345" if held_by_an_ingestion else "", encoding="ascii")  # an ingestion writes its pid
    fd = os.open(lock, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)  # on another open file, as another process would hold it
    release = threading.Timer(0.3, fcntl.flock, (fd, fcntl.LOCK_UN))
    release.start()
    try:
        if held_by_an_ingestion:
            with pytest.raises(IndexBusyError, match="pid 12345"), ingest_lock(settings.index_dir):
                pass
        else:
            with ingest_lock(settings.index_dir):
                assert lock.read_text(encoding="ascii") == str(os.getpid())
    finally:
        release.join()
        os.close(fd)
