"""The plain llama-index pipeline as a peer: run beside ours by `eval --peer`, cached, scored side by side."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from conftest import DATA
from helpers import write_set

from assistant27.cli import main
from assistant27.embedding import HashingEmbedder
from assistant27.evaluation import CONTEXT_CHARS, EvidenceMatcher, comparison_metrics, evidence_in_context
from assistant27.peer_llamaindex import OURS, AssistantEmbedding, LlamaIndexPeer


class RecordingEmbedder(HashingEmbedder):
    """The hashing fake, recording which side (passage or query) each text was embedded as."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []
        self.queries: list[str] = []

    def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
        self.passages += texts
        return super().embed_passages(texts, progress)

    def embed_query(self, text):  # type: ignore[no-untyped-def]
        self.queries.append(text)
        return super().embed_query(text)


def test_eval_with_the_llamaindex_peer_reports_both_pipelines_side_by_side(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_path = write_set(tmp_path / "evals")
    manifest = {"sets": {"mini.jsonl": {"tuning": ["a2"], "held_out": ["a1", "u1"]}}}
    (set_path.parent / "split.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert CliRunner().invoke(main, ["ingest"]).exit_code == 0
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["eval", str(set_path), "--peer", "llamaindex", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    peer = summary["peer"]
    assert peer["name"] == "llamaindex" and peer["built_now"] and peer["chunks"] == 2  # one chunk per small file
    assert Path(peer["cache"]).parent == settings.index_dir / "peers" / "llamaindex"
    assert peer["generator"] == "extractive"
    columns = peer["columns"]
    assert list(columns) == [OURS, "llamaindex"]
    for column in columns.values():
        assert column["items"] == 2  # the answerable items
        assert column["hit@5"]["hits"] == 2 and column["source_hit@5"]["hits"] == 2
        assert column[f"evidence@{CONTEXT_CHARS}"]["hits"] == 2
    assert columns["llamaindex"]["answer_accuracy"]["total"] == 2  # the peer answered with the same generator
    assert set(peer["by_part"]) == {"tuning", "held-out"}
    assert peer["by_part"]["held-out"]["llamaindex"]["items"] == 1
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Side by side with the plain llamaindex pipeline" in report
    assert f"<th>{OURS}</th><th>llamaindex</th>" in report and f"evidence@{CONTEXT_CHARS}" in report
    rows = [json.loads(line) for line in (out / "peer_results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a2", "u1"]
    assert rows[0]["result"]["passages"][0]["source"] == "rapport-2022.txt"
    assert "side by side llamaindex" in result.output
    # The summary only adds: every field of a run without a peer is still there.
    plain = CliRunner().invoke(main, ["eval", str(set_path), "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    without = json.loads((tmp_path / "plain" / "summary.json").read_text(encoding="utf-8"))
    assert "peer" not in without and set(without) < set(summary)

    again = CliRunner().invoke(main, ["eval", str(set_path), "--peer", "llamaindex", "--out", str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    second = json.loads((tmp_path / "again" / "summary.json").read_text(encoding="utf-8"))["peer"]
    assert not second["built_now"] and second["cache"] == peer["cache"]  # read back, not embedded again
    assert second["columns"] == columns
    suite = CliRunner().invoke(main, ["eval", "--suite", str(set_path), "--peer", "llamaindex"])
    assert suite.exit_code == 2 and "--peer runs beside one set" in suite.output


def test_the_peer_cache_follows_the_corpus_content(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Le programme Forêts réunit la Région Grand Est.\n", encoding="utf-8")
    (corpus / "catalogue.csv").write_text("file,title\n", encoding="utf-8")  # not a publication: not read
    embedder = RecordingEmbedder()
    peer = LlamaIndexPeer(corpus, tmp_path / "cache", embedder)
    peer.load()
    assert peer.built and len(embedder.passages) == 1 and "file,title" not in embedder.passages[0]
    again = LlamaIndexPeer(corpus, tmp_path / "cache", embedder)
    again.load()
    assert not again.built and len(embedder.passages) == 1  # nothing embedded again
    assert again.retrieve("Région Grand Est")[0].source == "a.txt"
    (corpus / "a.txt").write_text("Le programme Forêts réunit la Région Bretagne.\n", encoding="utf-8")
    changed = LlamaIndexPeer(corpus, tmp_path / "cache", embedder)
    changed.load()
    assert changed.built and changed.key != again.key and len(embedder.passages) == 2


def test_the_peer_reads_pdf_pages_with_their_numbers(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DATA / "two-pages.pdf", corpus / "two-pages.pdf")
    peer = LlamaIndexPeer(corpus, tmp_path / "cache", HashingEmbedder())
    passages = peer.retrieve("Page deux beta")
    assert passages[0].page == 2 and "beta" in passages[0].text and passages[0].source == "two-pages.pdf"


def test_our_embedder_as_a_llamaindex_embedding_keeps_queries_and_passages_apart() -> None:
    embedder = RecordingEmbedder()
    model = AssistantEmbedding(embedder)
    query = model.get_query_embedding("Qui finance ?")
    texts = model.get_text_embedding_batch(["Le programme est financé par la Région."])
    assert embedder.queries == ["Qui finance ?"] and embedder.passages == ["Le programme est financé par la Région."]
    assert np.allclose(query, HashingEmbedder().embed_query("Qui finance ?"))
    assert np.allclose(texts[0], HashingEmbedder().embed_passages(["Le programme est financé par la Région."])[0])


def test_evidence_beyond_the_first_characters_counts_as_retrieved_but_not_within_context() -> None:
    item = {"id": "x", "type": "factual", "source": "b.txt", "evidence": "la Région Grand Est et le Parc du Morvan"}
    long_first = {"rank": 1, "source": "a.txt", "text": "Sans rapport. " * (CONTEXT_CHARS // 10)}
    holder = {"rank": 2, "source": "b.txt", "text": "En 2025, la Région Grand Est et le Parc du Morvan."}
    matcher = EvidenceMatcher()
    assert not evidence_in_context(item, {"passages": [long_first, holder]}, matcher)
    assert evidence_in_context(item, {"passages": [{**holder, "rank": 1}, {**long_first, "rank": 2}]}, matcher)
    metrics = comparison_metrics([item], [{"passages": [long_first, holder]}], matcher, answered=False)
    assert metrics["hit@5"]["hits"] == 1 and metrics["mrr@10"]["value"] == 0.5 and metrics["source_hit@5"]["hits"] == 1
    assert metrics[f"evidence@{CONTEXT_CHARS}"]["hits"] == 0 and "answer_accuracy" not in metrics
