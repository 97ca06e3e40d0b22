"""The local model's first token on held-out questions: llama.cpp's own figures per prompt, variants interleaved.

Usage: .venv/bin/python benchmarks/first_token.py [--questions 10] [--variants now,3x400,lookup8] [--out DIR]

Each variant is a llama.cpp server of its own, loaded side by side in this process, over the same index and
embedder. Question i is asked of every variant in turn, the order rotated by one each question (A/B, B/A, ...),
so that other work on the machine slows every variant alike. Each server first answers one tuning question that
is not counted: its prompt cache then holds the fixed system prompt, as in a server that has answered before.
For each answer: prompt tokens, tokens reused from the previous prompt (llama.cpp's prompt cache), prefill
tokens/s, first-token time (from the question, retrieval included), generation tokens/s and total, taken from the
server's `timings`. Questions refused before generation or answered from the catalogue are skipped.
Writes DIR/first-token-DATE.json and .md (default benchmarks/results).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

if TYPE_CHECKING:
    from assistant27.assistant import Assistant

# name -> (settings changed, LlamaServerGenerator arguments)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "now": ({}, {}),
    "3x500": ({"context_passages": 3}, {}),
    "4x350": ({"context_chars": 350}, {}),
    "3x400": ({"context_passages": 3, "context_chars": 400}, {}),
    "2x500": ({"context_passages": 2}, {}),
    "lookup8": ({}, {"lookup_tokens": 8}),
}


def timed_answer(assistant: Assistant, question: str, item: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One question through `ask_stream`: the server's figures and the wall times, or None when no model wrote
    the answer (refused before generation, answered from the catalogue). With its evaluation `item`, whether the
    answer is right (`evaluation.score_item`: every `must_include` group in it)."""
    from assistant27.assistant import Token
    from assistant27.evalrunner import _repair
    from assistant27.evaluation import EvidenceMatcher, score_item
    from assistant27.schema import Answer

    started = time.perf_counter()
    first = None
    answer = None
    for event in assistant.ask_stream(question):
        if isinstance(event, Token) and first is None:
            first = time.perf_counter() - started
        elif isinstance(event, Answer):
            answer = event
    model = answer.timings.model if answer is not None else None
    if answer is None or first is None or model is None:
        return None
    return {
        "question": question,
        **asdict(model),
        "first_token_s": round(first, 2),
        "total_s": round(time.perf_counter() - started, 2),
        "refused": answer.refused,
        "answer": answer.answer,
        "correct": score_item(item, answer.to_json(), EvidenceMatcher(_repair)).answer_correct if item else None,
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 and p95 of each figure over the answers."""
    from assistant27.evaluation import percentile

    out: dict[str, Any] = {"n": len(rows)}
    names = (
        "prompt_tokens",
        "cached_tokens",
        "prefill_tokens_per_s",
        "first_token_s",
        "generation_tokens_per_s",
        "total_s",
    )
    for name in names:
        values = [float(r[name]) for r in rows if r.get(name) is not None]
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        out[f"{name}_p50"], out[f"{name}_p95"] = [None if v is None else round(v, 1) for v in (p50, p95)]
    out["right_answers"] = sum(1 for r in rows if r.get("correct"))
    drafted = sum(r.get("draft_tokens") or 0 for r in rows)
    out["draft_acceptance"] = round(sum(r.get("draft_accepted") or 0 for r in rows) / drafted, 3) if drafted else None
    return out


def answer_line(row: dict[str, Any]) -> str:
    """One answer's figures, as `make bench` prints them."""
    return (
        f"prompt {row['prompt_tokens']} tokens ({row['cached_tokens']} cached), prefill "
        f"{row['prefill_tokens_per_s']} tokens/s, first token {row['first_token_s']} s, generation "
        f"{row['generation_tokens_per_s']} tokens/s ({row['generated_tokens']} tokens), total {row['total_s']} s"
    )


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    """A Markdown table, one line per variant."""
    lines = [
        "| variant | answers | prompt tokens p50 (cached) | prefill tokens/s p50 | first token p50 / p95 "
        "| generation tokens/s p50 | total p50 / p95 | draft accepted | right answers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in results.items():
        lines.append(
            f"| {name} | {s['n']} | {s['prompt_tokens_p50']} ({s['cached_tokens_p50']}) | {s['prefill_tokens_per_s_p50']} "
            f"| {s['first_token_s_p50']} / {s['first_token_s_p95']} s | {s['generation_tokens_per_s_p50']} "
            f"| {s['total_s_p50']} / {s['total_s_p95']} s | {s['draft_acceptance'] if s['draft_acceptance'] is not None else '-'} "
            f"| {s['right_answers']} / {s['n']} |"
        )
    return lines


def held_out_questions(set_name: str = "publications.jsonl") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The answerable items of the set's held-out part, and of its tuning part, in file order."""
    from assistant27.evaluation import load_set

    split = json.loads((REPO / "evals" / "split.json").read_text(encoding="utf-8"))["sets"][set_name]
    items = [i for i in load_set(REPO / "evals" / set_name) if i.get("answer")]
    held, tuning = set(split["held_out"]), set(split["tuning"])
    return [i for i in items if i["id"] in held], [i for i in items if i["id"] in tuning]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10, help="Answers per variant (held-out questions).")
    parser.add_argument("--variants", default="now,3x400,lookup8", help=f"Among: {', '.join(VARIANTS)}.")
    parser.add_argument("--tag", default="", help="Added to the output file names.")
    parser.add_argument("--minutes", type=float, default=0, help="Ask no new question after this long (0: no limit).")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()

    from assistant27.assistant import Assistant
    from assistant27.config import Settings
    from assistant27.generators import LlamaServerGenerator
    from assistant27.models import gguf_path

    settings = Settings.from_env()
    base = Assistant.from_settings(settings, generator="extractive")
    base.warm_up()
    assistants: dict[str, Assistant] = {}
    for name in args.variants.split(","):
        changed, generator_args = VARIANTS[name]
        generator = LlamaServerGenerator(gguf_path(settings.models_dir), **generator_args)
        assistants[name] = Assistant(settings.replace(**changed), base.store, base.embedder, generator)
        assistants[name].warm_up()
    held_out, tuning = held_out_questions()
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    for assistant in assistants.values():
        for item in tuning:  # one answer, not counted, so the prompt cache holds the system prompt
            if timed_answer(assistant, str(item["question"])) is not None:
                break
    load_start = os.getloadavg()
    started = time.perf_counter()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in assistants}
    names = list(assistants)
    asked = 0
    text = ""
    for item in held_out:
        if min(len(r) for r in rows.values()) >= args.questions:
            break
        if args.minutes and time.perf_counter() - started > 60 * args.minutes:
            log(f"stopped after {args.minutes} minutes")
            break
        order = names[asked % len(names) :] + names[: asked % len(names)]
        got = {name: timed_answer(assistants[name], str(item["question"]), item) for name in order}
        if any(g is None for g in got.values()):
            continue  # refused before generation or a catalogue answer: no model ran for some variant
        asked += 1
        for name in order:
            row = got[name]
            assert row is not None
            rows[name].append({"id": item["id"], **row})
            log(f"{asked:>2} {name:<8} {answer_line(row)}, right: {row['correct']}")
        text = write(args.out, args.tag, rows, load_start)  # after each question: a stopped run keeps its answers
    print(text)


def write(out: Path, tag: str, rows: dict[str, list[dict[str, Any]]], load_start: tuple[float, ...]) -> str:
    """DIR/first-token-DATE[-TAG].json (every answer) and .md (the table); returns the Markdown."""
    results = {name: summary(r) for name, r in rows.items()}
    stamp = dt.date.today().isoformat() + (f"-{tag}" if tag else "")
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{os.cpu_count()} cores",
        "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in os.getloadavg()]},
        "summary": results,
        "answers": rows,
    }
    (out / f"first-token-{stamp}.json").write_text(
        json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    text = "\n".join(
        [
            f"# First token, variants interleaved ({record['date']}, load average {record['load_average']})",
            "",
            f"`{record['command']}`",
            "",
            *table(results),
        ]
    )
    (out / f"first-token-{stamp}.md").write_text(text + "\n", encoding="utf-8")
    return text


if __name__ == "__main__":
    main()
