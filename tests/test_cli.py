"""The command line through click's CliRunner: JSON output, errors with exit codes, help."""

from __future__ import annotations

import json

from click.testing import CliRunner

from assistant27.cli import main
from assistant27.config import Settings


def test_help_lists_the_environment_variables() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    for var in ("ASSISTANT27_CORPUS_DIR", "ASSISTANT27_INDEX_DIR", "ASSISTANT27_GENERATOR", "ASSISTANT27_CHROMA_URL"):
        assert var in out


def test_ingest_then_ask_json(settings: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["ingest"])
    assert first.exit_code == 0, first.output
    assert "indexed  rapport-2022.txt" in first.output and "2 indexed" in first.output
    again = runner.invoke(main, ["ingest"])
    assert "0 chunks embedded" in again.output
    # The hashing fake scores lower than e5; the refusal floor is a setting like any other.
    result = runner.invoke(main, ["search", "--json", "réglementation des achats"])
    assert result.exit_code == 0
    assert "réglementation" in json.loads(result.stdout)[0]["text"]
    result = runner.invoke(main, ["ask", "--json", "--generator", "extractive", "Qui participe à Nouveaux Accords ?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question"] == "Qui participe à Nouveaux Accords ?" and len(data["passages"]) >= 1


def test_errors_are_messages_with_exit_code_1(settings: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["ask", "Bonjour ?"])
    assert result.exit_code == 1
    assert "No index" in result.output and "assistant27 ingest" in result.output
    runner.invoke(main, ["ingest"])
    result = runner.invoke(main, ["ask", ""])
    assert result.exit_code == 1 and "empty" in result.output


def test_empty_corpus_is_a_clear_error(settings: Settings) -> None:
    for f in settings.corpus_dir.iterdir():
        f.unlink()
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 1 and "No publication found" in result.output
