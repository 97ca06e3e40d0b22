"""The evaluation runner: frozen tuning / held-out parts, another corpus in its own index, suites side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import REPO, write_corpus
from helpers import ITEMS, write_set

from assistant27.cli import main
from assistant27.evaluation import HELD_OUT, TUNING, load_split


def test_split_is_frozen_stratified_and_read_by_the_runner(tmp_path: Path) -> None:
    """evals/split.py draws a third per type, keeps earlier parts when items are added, and load_split reads it."""
    set_path = write_set(tmp_path / "evals")
    split = [sys.executable, str(REPO / "evals" / "split.py")]
    subprocess.run([*split, str(set_path)], check=True, capture_output=True)
    parts = load_split(set_path)
    assert set(parts) == {"a1", "a2", "u1"}
    # ceil(1/3 of each type): the list, the factual and the unanswerable item are each alone of their type.
    assert sorted(parts.values()) == [HELD_OUT] * 3
    with set_path.open("a", encoding="utf-8") as f:
        for n in range(6):
            f.write(json.dumps({**ITEMS[1], "id": f"f{n}", "question": f"question {n}"}) + "\n")
    assert "f0" not in load_split(set_path)  # an item the manifest does not know is in no part
    subprocess.run([*split, str(set_path)], check=True, capture_output=True)
    again = load_split(set_path)
    assert {k: again[k] for k in parts} == parts  # frozen: earlier items keep their part
    assert sum(again[f"f{n}"] == HELD_OUT for n in range(6)) == 2 and list(again.values()).count(TUNING) == 4
    check = subprocess.run([*split, str(set_path), "--check"], capture_output=True, text=True)
    assert check.returncode == 0 and "every item has its part" in check.stdout


def test_the_repository_set_has_a_frozen_held_out_third() -> None:
    parts = load_split(REPO / "evals" / "publications.jsonl")
    items = [json.loads(line) for line in (REPO / "evals" / "publications.jsonl").read_text().splitlines() if line]
    assert {str(i["id"]) for i in items} == set(parts)
    assert list(parts.values()).count(HELD_OUT) * 3 >= len(items)


def test_eval_on_another_corpus_uses_its_own_index_and_reports_both_parts(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`eval SET --corpus DIR` ingests DIR into index/corpora/ (the main index untouched) and scores the parts."""
    other = write_corpus(tmp_path / "other-corpus")
    set_path = write_set(tmp_path / "evals")
    manifest = {"sets": {"mini.jsonl": {"tuning": ["a2"], "held_out": ["a1", "u1"]}}}
    (set_path.parent / "split.json").write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["eval", str(set_path), "--corpus", str(other), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not (settings.index_dir / "chroma").exists()  # the configured index was never written
    assert list((settings.index_dir / "corpora").glob("other-corpus-*"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["by_part"][TUNING]["items"] == 1 and summary["by_part"][HELD_OUT]["items"] == 2
    assert summary["hard_unanswerables"]["total"] == 1
    assert summary["by_part"][HELD_OUT]["hard_unanswerables"]["total"] == 1
    assert "part held-out" in result.output and "hard unanswerables refused" in result.output
    assert "Tuning and held-out parts" in (out / "report.html").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["id"]: r["part"] for r in rows} == {"a1": HELD_OUT, "a2": TUNING, "u1": HELD_OUT}

    held = CliRunner().invoke(
        main, ["eval", str(set_path), "--corpus", str(other), "--part", "held-out", "--out", str(tmp_path / "h")]
    )
    assert held.exit_code == 0, held.output
    assert json.loads((tmp_path / "h" / "summary.json").read_text())["metrics"]["items"] == 2


def test_suite_reports_every_set_part_side_by_side(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = write_corpus(tmp_path / "evals" / "corpora" / "other")
    first = write_set(tmp_path / "evals", "first.jsonl")
    write_set(tmp_path / "evals", "second.jsonl")
    manifest = {
        "sets": {"first.jsonl": {"tuning": ["a2"], "held_out": ["a1", "u1"]}, "second.jsonl": {"held_out": "all"}}
    }
    (first.parent / "split.json").write_text(json.dumps(manifest), encoding="utf-8")
    suite = first.parent / "suite.json"
    suite.write_text(
        json.dumps(
            {
                "sets": [
                    {"name": "home", "set": "first.jsonl"},
                    {"name": "elsewhere", "set": "second.jsonl", "corpus": "corpora/other"},
                ]
            }
        ),
        encoding="utf-8",
    )
    assert CliRunner().invoke(main, ["ingest"]).exit_code == 0
    out = tmp_path / "suite-run"
    result = CliRunner().invoke(main, ["eval", "--suite", str(suite), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [c["column"] for c in summary["columns"]] == ["home · tuning", "home · held-out", "elsewhere · held-out"]
    assert summary["columns"][2]["metrics"]["hard_unanswerables"]["total"] == 1
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "refusal on hard unanswerables" in report and "elsewhere/report.html" in report
    assert (out / "home" / "results.jsonl").is_file() and (out / "elsewhere" / "results.jsonl").is_file()
    assert other.is_dir()
    again = CliRunner().invoke(main, ["eval", "--suite", str(suite), "--out", str(out)])
    assert again.exit_code == 0 and again.output.count("; kept") == 2  # finished sets are not run again
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["columns"] == summary["columns"]
    bad = CliRunner().invoke(main, ["eval", "--suite", str(suite), "--corpus", str(other)])
    assert bad.exit_code == 2 and "--suite names its own sets" in bad.output
    # The held-out parts alone: the whole runs already there hold them and are kept; a new folder runs the parts.
    held = CliRunner().invoke(main, ["eval", "--suite", str(suite), "--part", "held-out", "--out", str(out)])
    assert held.exit_code == 0 and held.output.count("; kept") == 2
    fresh = tmp_path / "held-only"
    held = CliRunner().invoke(main, ["eval", "--suite", str(suite), "--part", "held-out", "--out", str(fresh)])
    assert held.exit_code == 0, held.output
    columns = json.loads((fresh / "summary.json").read_text(encoding="utf-8"))["columns"]
    assert [c["column"] for c in columns] == ["home · held-out", "elsewhere · held-out"]
    assert json.loads((fresh / "home" / "summary.json").read_text())["metrics"]["items"] == 2
