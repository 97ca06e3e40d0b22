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


def test_eval_rescore_names_missed_targets_and_where_each_type_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A finished run scored again: stale verdicts replaced, targets met or missed, failures counted by stage."""
    evidence = "Nouveaux Accords réunit huit collectivités autour du contrat de ville"
    found = [{"rank": 1, "source": "r.txt", "text": f"En 2022, {evidence} et de la cohésion."}]
    other = [{"rank": 1, "source": "r.txt", "text": "La Transfo est un programme inter-régional."}]
    cited = [{"n": 1, "text": found[0]["text"]}]

    def row(key: str, kind: str, answer: str, refused: bool, passages: list, citations: list) -> dict:  # type: ignore[type-arg]
        result = {"question": key, "answer": answer, "refused": refused, "citations": citations, "passages": passages}
        return {
            "id": key,
            "type": kind,
            "question": f"question {key}",
            "must_include": [["huit"]] if kind != "unanswerable" else [],
            "evidence": evidence if kind != "unanswerable" else None,
            "result": {**result, "timings": {"total_s": 1.0, "retrieval_s": 0.1, "first_token_s": 0.5}},
            "verdict": {"answerable": True, "refused": False, "answer_correct": True, "cited_correctly": True},
        }

    rows = [
        row("q1", "factual", "Huit collectivités [1].", False, found, cited),  # passes
        row("q2", "factual", "Huit [1].", False, other, []),  # evidence never retrieved
        row("q3", "factual", "", True, found, []),  # refused with the evidence at hand
        row("q4", "list", "Des collectivités [1].", False, found, cited),  # retrieved, answer lacks « huit »
        row("q5", "unanswerable", "Le trésorier est Paul [1].", False, other, []),  # answered the unanswerable
    ]
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"set": "s.jsonl", "generator": "local"}), encoding="utf-8")

    result = CliRunner().invoke(main, ["eval", "--rescore", str(folder)])
    assert result.exit_code == 0, result.output
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["failures_by_type"] == {
        "factual": {"items": 3, "failed": 2, "retrieval": 1, "refusal": 1, "answer": 0, "unanswerable": 0},
        "list": {"items": 1, "failed": 1, "retrieval": 0, "refusal": 0, "answer": 1, "unanswerable": 0},
        "unanswerable": {"items": 1, "failed": 1, "retrieval": 0, "refusal": 0, "answer": 0, "unanswerable": 1},
    }
    targets = {t["metric"]: t for t in summary["targets"]}
    assert targets["hit@5"]["value"] == 0.75 and targets["hit@5"]["met"] is False
    assert targets["false_refusals"]["value"] == 0.25 and targets["false_refusals"]["met"] is False
    verdicts = [json.loads(line)["verdict"] for line in (folder / "results.jsonl").read_text().splitlines()]
    assert [v["answer_correct"] for v in verdicts] == [True, True, False, False, False]  # rescored, not the stale ones
    assert targets["mrr@10"]["met"] is True  # 0.75 reaches its target exactly
    assert "targets met       1/6; missed: hit@5, answer_accuracy, citation_accuracy, refusal_accuracy" in result.output
    assert "failed factual     2/3: retrieval 1, refusal 1" in result.output
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "Why items fail, by question type" in report and "<b>missed</b>" in report
    missing = CliRunner().invoke(main, ["eval", "--rescore", str(tmp_path)])
    assert missing.exit_code == 2 and "No results.jsonl in" in missing.output


def test_pdf_citations_give_the_printed_page_beside_its_position(settings: Settings) -> None:
    """A guide whose body is numbered from 1 after two roman pages: its passages say « p. 3 (page imprimée 1) » in
    the terminal and carry `page_label` in the JSON, through ingestion and the store."""
    from test_readers import make_pdf, with_page_labels

    pages = ["Preface du guide.", "Sommaire.", "La cartographie des bibliotheques rurales a ete faite en 2021."]
    pdf = with_page_labels(make_pdf(pages), (0, 1, "/r", 1), (2, 2, "/D", 1))
    (settings.corpus_dir / "guide-2021.pdf").write_bytes(pdf)
    runner = CliRunner()
    assert runner.invoke(main, ["ingest"]).exit_code == 0
    result = runner.invoke(main, ["search", "--json", "cartographie bibliotheques rurales"])
    best = json.loads(result.stdout)[0]
    assert (best["source"], best["page"], best["page_label"]) == ("guide-2021.pdf", 3, "1")
    result = runner.invoke(main, ["search", "cartographie bibliotheques rurales"])
    assert "p. 3 (page imprimée 1)" in result.output
    # `ask --json` is `Answer.to_json`; the hashing fake scores under the dense refusal floor, a setting.
    from conftest import CountingEmbedder

    from assistant27.assistant import Assistant
    from assistant27.generators import ScriptedGenerator
    from assistant27.store import ChunkStore

    generator = ScriptedGenerator(["La cartographie a ete faite en 2021 [1]."])
    assistant = Assistant(
        settings.replace(min_dense=0.2), ChunkStore.open(settings.index_dir), CountingEmbedder(), generator
    )
    answer = assistant.ask("Quand la cartographie des bibliotheques rurales a-t-elle ete faite ?").to_json()
    assert not answer["refused"], answer
    assert [(c["page"], c["page_label"]) for c in answer["citations"]] == [(3, "1")]
    others = json.loads(runner.invoke(main, ["search", "--json", "Nouveaux Accords"]).stdout)
    assert all(p["page_label"] == "" for p in others if p["source"].endswith(".txt"))
