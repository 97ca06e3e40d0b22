"""Everything a generator is asked and every answer given, for every item of evaluation sets: to show that a change
of the question's path (not of the generators) leaves each answer as it was, with any generator.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/route_trace.py SET.jsonl [SET.jsonl ...] --like local --out F
       .venv/bin/python benchmarks/route_trace.py --compare OLD.jsonl NEW.jsonl

`--like local` stands in for the local model without running it (an answer of the local model takes about a
minute here): a generator that declares what the local one declares (it reads the prompt's budget of passages,
and year-by-year answers are quoted) and records each request it gets (messages, passages, token budget, refusal
gate), writing the model's refusal sentence. Which requests a question makes does not depend on what the
generator writes, and the local model is deterministic for a given request (temperature 0, one slot), so equal
requests mean equal answers. `--like extractive` records the same for a generator declaring what the extractive
one declares (it reads its own four passages). One line per item: its id, the requests, and the `ask --json`
answer without timings. `--compare` lists the items whose line differs (fields the newer answers added aside).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant27.assistant import Assistant, make_embedder
from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator, GenerationRequest
from assistant27.refusal import MODEL_REFUSAL
from assistant27.store import ChunkStore


class Recorder:
    """Records each request and writes the model's refusal sentence."""

    def __init__(self, like: str, reads: int) -> None:
        self.name = like
        self.quotes_year_parts = like == "local"
        self.context_passages = reads
        self.requests: list[dict[str, Any]] = []

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        self.requests.append(
            {
                "question": request.question,
                "passages": [p.chunk_id for p in request.passages],
                "messages": request.messages,
                "language": request.language,
                "max_tokens": request.max_tokens,
                "refusal": request.refusal,
                "refuse_at": request.refuse_at,
            }
        )
        yield MODEL_REFUSAL[request.language]


def trace(sets: list[Path], like: str, out: Path) -> None:
    settings = Settings.from_env()
    embedder = make_embedder(settings)
    reads = settings.context_passages if like == "local" else ExtractiveGenerator().from_passages
    recorder = Recorder(like, reads)
    assistant = Assistant(settings, ChunkStore.open(settings.index_dir, settings.chroma_url), embedder, recorder)
    with out.open("w", encoding="utf-8") as f:
        for path in sets:
            items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            for n, item in enumerate(items, start=1):
                recorder.requests = []
                answer = assistant.ask(item["question"]).to_json()
                answer.pop("timings")
                row = {"id": f"{path.stem}/{item['id']}", "requests": recorder.requests, "answer": answer}
                f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                print(f"\r{path.name} {n}/{len(items)}", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)


def compare(old: Path, new: Path) -> int:
    def rows(path: Path) -> dict[str, str]:
        lines = path.read_text(encoding="utf-8").splitlines()
        return {json.loads(line)["id"]: line for line in lines if line.strip()}

    def same(before: str, after: str | None) -> bool:
        """Equal, fields the newer answers added aside (the `ask --json` contract only grows)."""
        if after is None:
            return False
        x, y = json.loads(before), json.loads(after)
        y["answer"] = {k: v for k, v in y["answer"].items() if k in x["answer"]}
        return x == y

    a, b = rows(old), rows(new)
    differ = [i for i in a if not same(a[i], b.get(i))] + [i for i in b if i not in a]
    print(f"{len(a)} items before, {len(b)} after, {len(differ)} differ")
    for i in differ:
        print(" ", i)
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--like", choices=("local", "extractive"), default="local")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    if not args.sets or args.out is None:
        parser.error("give SET.jsonl files and --out, or --compare OLD NEW")
    trace(args.sets, args.like, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
