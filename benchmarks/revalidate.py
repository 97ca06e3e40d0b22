"""Re-check recorded answers with the current answering code, without running the model again.

Usage: python benchmarks/revalidate.py RUN_DIR [RUN_DIR ...] [--refuse-at T] [--out DIR]

Everything after generation is deterministic: refusal detection (`is_refusal`, `without_refusals`), the
support check of each sentence and the citations (`validate_citations`, with the passages' stored vectors and
the e5 embedder, as `Assistant.ask` does), and the choice to refuse an answer that no passage supports. This
script replays that part on the generator's raw text (`generated`) of each recorded item, with the context the
model saw (the first `context_passages` passages), and scores the result as `assistant27 eval` does. With
`--refuse-at` it also applies a refusal threshold to the recorded `refusal_probability` (see
benchmarks/refusal_threshold.py). Items refused before generation, answered from the catalogue, or answered
year by year are kept as recorded. `--out` writes results.jsonl and summary.json for `eval --compare`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from assistant27.answering import validate_citations
from assistant27.config import Settings
from assistant27.evalrunner import _repair, metric_lines
from assistant27.evaluation import EvidenceMatcher, score_item, summarise
from assistant27.language import detect_language
from assistant27.refusal import MODEL_REFUSAL, is_refusal, without_refusals
from assistant27.schema import Passage


def passage_of(p: dict[str, Any]) -> Passage:
    return Passage(
        p["rank"],
        p["chunk_id"],
        p["source"],
        p["title"],
        p["year"],
        "",
        p["page"],
        p.get("section") or "",
        p["text"],
        p["score"],
    )


def replay(
    result: dict[str, Any], settings: Settings, embed: Any, vectors_for: Any, refuse_at: float | None
) -> dict[str, Any]:
    """The result as the current code would give it from the same raw text."""
    raw = (result.get("generated") or "").strip()
    probability = result.get("refusal_probability")
    if result.get("generator") not in ("local", "openai", "extractive", "scripted") or not raw:
        return result  # refused before generation, catalogue answer
    if re.match(r"(?:19|20)\d\d : ", raw):
        return result  # answered year by year: left as recorded
    language = detect_language(result["question"])
    refused = is_refusal(raw) or (refuse_at is not None and probability is not None and probability >= refuse_at)
    out = dict(result)
    if refused:
        out.update(answer=MODEL_REFUSAL[language], refused=True, citations=[], flagged=[])
        return out
    context = [passage_of(p) for p in result["passages"][: settings.context_passages]]
    vectors = vectors_for([p.chunk_id for p in context])
    stacked = np.stack([vectors[p.chunk_id] for p in context]) if all(p.chunk_id in vectors for p in context) else None
    checked = validate_citations(without_refusals(raw), context, embed, stacked, drop_unsupported=language == "fr")
    out.update(
        answer=checked.text,
        refused=False,
        flagged=checked.flagged,
        citations=[{"n": c.n, "text": c.passage.text, "source": c.passage.source} for c in checked.citations],
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--refuse-at", type=float, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    from assistant27.assistant import make_embedder
    from assistant27.store import ChunkStore

    settings = Settings.from_env()
    store = ChunkStore.open(settings.index_dir, settings.chroma_url)
    embedder = make_embedder(settings)
    matcher = EvidenceMatcher(_repair)
    rows = [
        json.loads(line)
        for run in args.runs
        for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    results, verdicts, out_rows = [], [], []
    for row in rows:
        item = {k: v for k, v in row.items() if k not in ("result", "verdict")}
        result = replay(row["result"], settings, embedder.embed_queries, store.embeddings_for, args.refuse_at)
        verdict = score_item(item, result, matcher)
        results.append(result)
        verdicts.append(verdict)
        out_rows.append({**item, "result": result, "verdict": {**verdict.__dict__, "rank": verdict.rank}})
    summary = {"set": ", ".join(map(str, args.runs)), "metrics": summarise(verdicts, results)}
    print("\n".join(metric_lines(summary)))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out_rows), encoding="utf-8"
        )
        (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
