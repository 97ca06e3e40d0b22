"""Why answers fail: each item of an evaluation run sorted into one cause, with counts.

Usage: python benchmarks/answer_failures.py RUN_DIR [RUN_DIR ...] [--context N] [--list CAUSE]

Reads `RUN_DIR/results.jsonl` (written by `assistant27 eval`; each row holds the item, the full
`ask --json` result, with the generator's raw text in `generated`, and the verdict) and prints, per
run, how the answerable items ended:

- correct: the answer holds every `must_include` group (the EVAL_FORMAT definition);
- catalogue: answered from the programme catalogue (not the generator; counted apart);
- gate refusal: refused before generation (`assess`), so nothing was generated;
- model refusal, answer in text: the raw text was taken for a refusal, yet it holds every
  `must_include` group (a partial refusal such as "ne précisent pas X, mais ...");
- model refusal: the raw text was taken for a refusal and lacks the answer;
- dropped by validation: the raw text holds the answer, the checked answer no longer does;
- missing, evidence in context: answered without the answer although the evidence passage was among
  the first N passages (the prompt's context);
- missing, evidence not in context: answered without the answer, the evidence was not given.

Citations are split the same way (cited / evidence not in context / evidence in context but not
cited), and unanswerable items into gate refusal, model refusal and answered.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from assistant27.evaluation import normalise

ANSWER_CAUSES = (
    "correct",
    "catalogue",
    "gate refusal",
    "model refusal, answer in text",
    "model refusal",
    "dropped by validation",
    "missing, evidence in context",
    "missing, evidence not in context",
)


def holds(text: str, groups: list[list[str]]) -> bool:
    """Every must_include group has an alternative in the text (EVAL_FORMAT's answer check)."""
    answer = normalise(text)
    padded = f" {answer} "
    return all(any(f" {normalise(alt)} " in padded or normalise(alt) in answer for alt in group) for group in groups)


def in_context(row: dict[str, Any], context: int) -> bool:
    """The evidence (each, for cross-doc) was in the first `context` passages."""
    ranks = row["verdict"]["ranks"]
    return bool(ranks) and all(r is not None and r <= context for r in ranks)


def answer_cause(row: dict[str, Any], context: int) -> str:
    """One cause per answerable item, in the order of ANSWER_CAUSES."""
    result, verdict = row["result"], row["verdict"]
    generated = result.get("generated") or ""
    groups = row.get("must_include") or []
    if verdict["answer_correct"]:
        return "correct"
    if result.get("generator") == "catalogue":
        return "catalogue"
    if verdict["refused"]:
        if not generated:
            return "gate refusal"
        return "model refusal, answer in text" if holds(generated, groups) else "model refusal"
    if generated and holds(generated, groups):
        return "dropped by validation"
    return "missing, evidence in context" if in_context(row, context) else "missing, evidence not in context"


def citation_cause(row: dict[str, Any], context: int) -> str:
    result, verdict = row["result"], row["verdict"]
    if verdict["cited_correctly"]:
        return "cited"
    if verdict["refused"]:
        return "refused"
    if result.get("generator") == "catalogue":
        return "catalogue, not cited"
    return "evidence in context, not cited" if in_context(row, context) else "evidence not in context"


def refusal_cause(row: dict[str, Any]) -> str:
    result = row["result"]
    if not result.get("refused"):
        return "answered"
    return "model refusal" if result.get("generated") else "gate refusal"


def analyse(run: Path, context: int) -> dict[str, Any]:
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines() if line]
    answerable = [r for r in rows if r["verdict"]["answerable"]]
    unanswerable = [r for r in rows if not r["verdict"]["answerable"]]
    return {
        "run": str(run),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answers": Counter(answer_cause(r, context) for r in answerable),
        "answers_by_type": Counter((r["type"], answer_cause(r, context)) for r in answerable),
        "citations": Counter(citation_cause(r, context) for r in answerable),
        "refusals": Counter(refusal_cause(r) for r in unanswerable),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument(
        "--context", type=int, default=4, help="passages given to the model (settings.context_passages)"
    )
    parser.add_argument("--list", default="", help="print the items of this answer cause (e.g. 'gate refusal')")
    parser.add_argument("--by-type", action="store_true", help="also break the answer causes down by question type")
    args = parser.parse_args()
    for run in args.runs:
        a = analyse(run, args.context)
        n = a["answerable"]
        print(f"{a['run']}: {n} answerable, {a['unanswerable']} unanswerable items")
        print("  answers (answerable items):")
        for cause in ANSWER_CAUSES:
            print(f"    {cause:<34} {a['answers'][cause]:>4}  ({a['answers'][cause] / n:.2f})")
        print("  citations (answerable items):")
        for cause, count in a["citations"].most_common():
            print(f"    {cause:<34} {count:>4}")
        print("  unanswerable items:")
        for cause, count in a["refusals"].most_common():
            print(f"    {cause:<34} {count:>4}")
        if args.by_type:
            print("  answers by type:")
            for (kind, cause), count in sorted(a["answers_by_type"].items()):
                print(f"    {kind:<12} {cause:<34} {count:>4}")
        if args.list:
            for r in a["rows"]:
                if r["verdict"]["answerable"] and answer_cause(r, args.context) == args.list:
                    generated = (r["result"].get("generated") or "").replace("\n", " ")
                    print(f"\n  {r['id']} [{r['type']}] {r['question']}\n    ranks {r['verdict']['ranks']}")
                    print(f"    must_include {r.get('must_include')}\n    generated: {generated[:400]}")
                    if generated != r["result"]["answer"]:
                        print(f"    answer: {r['result']['answer'][:400]}")
        print()


if __name__ == "__main__":
    main()
