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


def test_eval_compare_lists_fixed_and_broken_items(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def run(name: str, verdicts: dict[str, tuple[bool, bool]], answers: float) -> str:
        folder = tmp_path / name
        folder.mkdir()
        rows = [
            {
                "id": key,
                "type": "factual",
                "question": f"question {key}",
                "verdict": {"answerable": True, "refused": False, "answer_correct": ok, "cited_correctly": cited},
            }
            for key, (ok, cited) in verdicts.items()
        ]
        (folder / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        summary = {"metrics": {"answer_accuracy": {"value": answers}}}
        (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
        return str(folder)

    old = run("old", {"q1": (True, True), "q2": (False, False), "q3": (True, True)}, 0.67)
    new = run("new", {"q1": (True, False), "q2": (True, True), "q3": (True, True)}, 0.67)
    result = CliRunner().invoke(main, ["eval", "--compare", old, new])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "BROKEN q1 [factual] question q1" in lines and "fixed  q2 [factual] question q2" in lines
    assert not any("q3" in line for line in lines)
    assert "answer_accuracy    0.670 -> 0.670" in lines
    missing = CliRunner().invoke(main, ["eval", "--compare", old, str(tmp_path)])
    assert missing.exit_code == 2 and "No results.jsonl in" in missing.output and "--out DIR" in missing.output
