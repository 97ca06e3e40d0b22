"""Pure scoring of `ask` results against an evaluation set, exactly as EVAL_FORMAT.md defines it."""

from __future__ import annotations

import json
import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TYPES = ("factual", "list", "definition", "synthesis", "english", "cross-doc", "unanswerable")

_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00ad": "",
    }
)
_HYPHEN_EOL = re.compile(r"(\w)-[ \t]*\r?\n[ \t]*(\w)")
_NON_ALNUM = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """NFKC, ASCII punctuation, no accents, casefold, line-end hyphenation joined, one space between words."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    text = _HYPHEN_EOL.sub(r"\1\2", text)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", text.casefold()).strip()


def load_set(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines evaluation set; blank lines are ignored."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc})") from exc
    return items


# The frozen split of evals/split.py: a manifest beside the sets saying which items are held out.
SPLIT_MANIFEST = "split.json"
TUNING, HELD_OUT = "tuning", "held-out"


def load_split(set_path: Path) -> dict[str, str]:
    """{item id: "tuning" or "held-out"} for a set named in the split manifest beside it; {} for any other set.

    A set held out whole (`"held_out": "all"`) puts every item in the held-out part; an item the manifest
    does not know yet (added after the split) is in no part, so it never counts as held out by accident.
    """
    path = set_path.parent / SPLIT_MANIFEST
    if not path.is_file():
        return {}
    entry = json.loads(path.read_text(encoding="utf-8")).get("sets", {}).get(set_path.name)
    if not entry:
        return {}
    if entry.get("held_out") == "all":
        return {str(item["id"]): HELD_OUT for item in load_set(set_path)}
    parts = {str(key): TUNING for key in entry.get("tuning", [])}
    parts.update({str(key): HELD_OUT for key in entry.get("held_out", [])})
    return parts


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class EvidenceMatcher:
    """Does a passage contain an evidence quote? Substring, or a run of min(12, n) evidence words.

    Passages are indexed after French text repair (`I'innovation` -> `l'innovation`), while
    evidence is quoted verbatim from the raw files; `repair` (optional) is applied to the evidence
    as a second try, so an OCR slip fixed by ingestion does not count as a retrieval miss.
    """

    def __init__(self, repair: Callable[[str], str] | None = None) -> None:
        self.repair = repair
        self._cache: dict[str, list[list[str]]] = {}

    def _forms(self, evidence: str) -> list[list[str]]:
        if evidence not in self._cache:
            forms = [normalise(evidence)]
            if self.repair:
                repaired = normalise(self.repair(evidence))
                if repaired != forms[0]:
                    forms.append(repaired)
            self._cache[evidence] = [f.split() for f in forms]
        return self._cache[evidence]

    def contains(self, passage: str, evidence: str) -> bool:
        text = normalise(passage)
        padded = f" {text} "
        for words in self._forms(evidence):
            if not words:
                continue
            if f" {' '.join(words)} " in padded:
                return True
            run = min(12, len(words))
            for i in range(len(words) - run + 1):
                if f" {' '.join(words[i : i + run])} " in padded:
                    return True
        return False


@dataclass
class Verdict:
    """What was measured for one item."""

    ranks: list[int | None]  # per evidence: 1-based rank of the first passage containing it
    answer_correct: bool
    cited_correctly: bool
    refused: bool
    answerable: bool

    @property
    def rank(self) -> int | None:
        """The item's retrieval rank: for cross-doc, the worst of its evidences (all must be found)."""
        if not self.ranks or any(r is None for r in self.ranks):
            return None
        return max(r for r in self.ranks if r is not None)


def score_item(item: dict[str, Any], result: dict[str, Any], matcher: EvidenceMatcher) -> Verdict:
    """Score one `ask --json` result against its item."""
    answerable = item.get("type") != "unanswerable"
    refused = bool(result.get("refused"))
    passages = result.get("passages", [])
    evidences = [e for e in as_list(item.get("evidence")) if e]
    ranks: list[int | None] = []
    for ev in evidences:
        rank = next((int(p["rank"]) for p in passages if matcher.contains(p.get("text", ""), ev)), None)
        ranks.append(rank)
    answer = normalise(result.get("answer", ""))
    padded = f" {answer} "
    groups = item.get("must_include") or []
    correct = (
        answerable
        and not refused
        and all(any(f" {normalise(alt)} " in padded or normalise(alt) in answer for alt in group) for group in groups)
    )
    citations = result.get("citations", [])
    cited = (
        bool(evidences)
        and not refused
        and all(any(matcher.contains(c.get("text", ""), ev) for c in citations) for ev in evidences)
    )
    return Verdict(ranks, bool(correct), bool(cited), refused, answerable)


def _ratio(hits: int, total: int) -> dict[str, Any]:
    return {"value": round(hits / total, 4) if total else None, "hits": hits, "total": total}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 4)


def retrieval_metrics(verdicts: Iterable[Verdict]) -> dict[str, Any]:
    answerable = [v for v in verdicts if v.answerable]
    n = len(answerable)
    out: dict[str, Any] = {}
    for k in (1, 5, 10):
        out[f"hit@{k}"] = _ratio(sum(1 for v in answerable if v.rank is not None and v.rank <= k), n)
    mrr = sum(1.0 / v.rank for v in answerable if v.rank is not None and v.rank <= 10)
    out["mrr@10"] = {"value": round(mrr / n, 4) if n else None, "total": n}
    return out


def summarise(verdicts: list[Verdict], results: list[dict[str, Any]], retrieval_only: bool = False) -> dict[str, Any]:
    """The metrics of EVAL_FORMAT.md over a set, each with its counts."""
    answerable = [v for v in verdicts if v.answerable]
    unanswerable = [v for v in verdicts if not v.answerable]
    out = retrieval_metrics(verdicts)
    if not retrieval_only:
        out["answer_accuracy"] = _ratio(sum(v.answer_correct for v in answerable), len(answerable))
        out["citation_accuracy"] = _ratio(sum(v.cited_correctly for v in answerable), len(answerable))
        out["refusal_accuracy"] = _ratio(sum(v.refused for v in unanswerable), len(unanswerable))
        out["false_refusals"] = _ratio(sum(v.refused for v in answerable), len(answerable))
        # The answers' length beside their accuracy: `must_include` rewards long answers, the reader does not.
        lengths = [
            float(len(r.get("answer") or "")) for r, v in zip(results, verdicts) if v.answerable and not v.refused
        ]
        out["answer_chars"] = {
            "p50": percentile(lengths, 0.5),
            "mean": round(sum(lengths) / len(lengths), 1) if lengths else None,
            "n": len(lengths),
        }
    totals = [r["timings"]["total_s"] for r in results if r.get("timings")]
    firsts = [
        r["timings"]["first_token_s"]
        for r in results
        if r.get("timings") and r["timings"].get("first_token_s") is not None
    ]
    retrievals = [r["timings"]["retrieval_s"] for r in results if r.get("timings")]
    out["latency_s"] = {"p50": percentile(totals, 0.5), "p95": percentile(totals, 0.95), "n": len(totals)}
    out["first_token_s"] = {"p50": percentile(firsts, 0.5), "p95": percentile(firsts, 0.95), "n": len(firsts)}
    out["retrieval_s"] = {"p50": percentile(retrievals, 0.5), "p95": percentile(retrievals, 0.95), "n": len(retrievals)}
    # The local model's own figures (llama.cpp's server), where it wrote the answer.
    models = [r["timings"]["model"] for r in results if r.get("timings") and r["timings"].get("model")]
    for name in ("prompt_tokens", "cached_tokens", "prefill_tokens_per_s", "generation_tokens_per_s"):
        values = [m[name] for m in models if m.get(name) is not None]
        if values:
            out[name] = {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95), "n": len(values)}
    out["items"] = len(verdicts)
    return out


def by_type(
    items: list[dict[str, Any]], verdicts: list[Verdict], results: list[dict[str, Any]], retrieval_only: bool = False
) -> dict[str, dict[str, Any]]:
    """The same metrics per question type."""
    out = {}
    for t in TYPES:
        idx = [i for i, item in enumerate(items) if item.get("type") == t]
        if idx:
            out[t] = summarise([verdicts[i] for i in idx], [results[i] for i in idx], retrieval_only)
    return out


def by_tag(
    items: list[dict[str, Any]], verdicts: list[Verdict], results: list[dict[str, Any]], retrieval_only: bool = False
) -> dict[str, dict[str, Any]]:
    """The same metrics per tag (the optional `tags` field: `programmes`, `list`, `timeline`, `comparison`)."""
    tags = sorted({t for item in items for t in item.get("tags") or []})
    out = {}
    for tag in tags:
        idx = [i for i, item in enumerate(items) if tag in (item.get("tags") or [])]
        out[tag] = summarise([verdicts[i] for i in idx], [results[i] for i in idx], retrieval_only)
    return out


def by_part(
    items: list[dict[str, Any]], verdicts: list[Verdict], results: list[dict[str, Any]], retrieval_only: bool = False
) -> dict[str, dict[str, Any]]:
    """The same metrics on the tuning part and on the held-out part (items' `part`), each present in the run."""
    out = {}
    for part in (TUNING, HELD_OUT):
        idx = [i for i, item in enumerate(items) if item.get("part") == part]
        if idx:
            out[part] = summarise([verdicts[i] for i in idx], [results[i] for i in idx], retrieval_only)
            if not retrieval_only:
                out[part]["hard_unanswerables"] = hard_refusals([items[i] for i in idx], [verdicts[i] for i in idx])
    return out


GAP_METRICS = ("hit@5", "answer_accuracy", "citation_accuracy", "refusal_accuracy", "false_refusals")


def part_gap(parts: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Tuning minus held-out, per metric: a change that widens it fits the tuning part, it does not generalise."""
    if TUNING not in parts or HELD_OUT not in parts:
        return {}
    out = {}
    for name in GAP_METRICS:
        a = parts[TUNING].get(name, {}).get("value")
        b = parts[HELD_OUT].get(name, {}).get("value")
        if a is not None and b is not None:
            out[name] = round(a - b, 4)
    return out


def hard_refusals(items: list[dict[str, Any]], verdicts: list[Verdict]) -> dict[str, Any] | None:
    """Refusal rate on the hard unanswerable questions (tag `hard`), None when the run has none."""
    hard = [v for item, v in zip(items, verdicts) if "hard" in (item.get("tags") or []) and not v.answerable]
    return _ratio(sum(v.refused for v in hard), len(hard)) if hard else None


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


# The targets of the full set with the local generator (issue 4): metric -> (bound, "min" or "max").
TARGETS: dict[str, tuple[float, str]] = {
    "hit@5": (0.90, "min"),
    "mrr@10": (0.75, "min"),
    "answer_accuracy": (0.80, "min"),
    "citation_accuracy": (0.85, "min"),
    "refusal_accuracy": (0.90, "min"),
    "false_refusals": (0.05, "max"),
}

# Where a failed item went wrong first, in the order a question travels through the system.
STAGES = {
    "retrieval": "evidence not in the retrieved passages",
    "refusal": "refused, though the evidence was retrieved",
    "answer": "evidence retrieved, answer incomplete or not cited from it",
    "unanswerable": "answered a question the publications do not answer",
}


def target_check(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the value reached and whether it is met (None when the run did not measure it)."""
    out = []
    for name, (bound, kind) in TARGETS.items():
        value = metrics.get(name, {}).get("value")
        met = None if value is None else (value >= bound if kind == "min" else value <= bound)
        out.append({"metric": name, "target": bound, "kind": kind, "value": value, "met": met})
    return out


def failure_stage(v: Verdict, retrieval_only: bool = False) -> str | None:
    """The first stage an item failed at (a key of STAGES), None when it passed (retrieval alone: when found)."""
    if retrieval_only:
        return "retrieval" if v.answerable and v.rank is None else None
    if not v.answerable:
        return None if v.refused else "unanswerable"
    if v.rank is None:
        return "retrieval"
    if v.refused:
        return "refusal"
    return None if v.answer_correct and v.cited_correctly else "answer"


def failure_causes(item: dict[str, Any], v: Verdict) -> list[str]:
    """Every way an item failed, in words (empty when it passed)."""
    why = []
    if v.answerable and v.rank is None:
        why.append("evidence not retrieved in the top passages")
    if v.answerable and v.refused:
        why.append("refused an answerable question")
    if v.answerable and not v.refused and not v.answer_correct:
        why.append(f"answer lacks {item.get('must_include')}")
    if v.answerable and not v.refused and not v.cited_correctly:
        why.append("no citation contains the evidence")
    if not v.answerable and not v.refused:
        why.append("answered an unanswerable question")
    return why


def failures_by_type(
    items: list[dict[str, Any]], verdicts: list[Verdict], retrieval_only: bool = False
) -> dict[str, dict[str, int]]:
    """Per question type: items, failed items, and how many failed first at each stage (STAGES)."""
    out: dict[str, dict[str, int]] = {}
    for t in TYPES:
        mine = [v for item, v in zip(items, verdicts) if item.get("type") == t]
        if not mine:
            continue
        stages = [failure_stage(v, retrieval_only) for v in mine]
        row = {"items": len(mine), "failed": sum(s is not None for s in stages)}
        row.update({stage: stages.count(stage) for stage in STAGES})
        out[t] = row
    return out


# Characters of retrieved text, in rank order, that a reader (a model's prompt) takes in: the peer comparison
# asks whether the evidence is within them, so that longer chunks do not win hit@k by being longer.
CONTEXT_CHARS = 4000


def evidence_in_context(
    item: dict[str, Any], result: dict[str, Any], matcher: EvidenceMatcher, chars: int = CONTEXT_CHARS
) -> bool:
    """Whether every evidence of the item is in the first `chars` characters of the passages joined in rank order
    (contained as for the retrieval rank: substring, or a run of min(12, n) evidence words)."""
    passages = sorted(result.get("passages", []), key=lambda p: int(p["rank"]))
    window = "\n\n".join(p.get("text", "") for p in passages)[:chars]
    evidences = [e for e in as_list(item.get("evidence")) if e]
    return bool(evidences) and all(matcher.contains(window, ev) for ev in evidences)


def source_rank(item: dict[str, Any], result: dict[str, Any]) -> int | None:
    """The rank of the first passage from the item's gold publication (cross-doc: the worst over its sources)."""
    ranks = []
    for source in as_list(item.get("source")):
        name = Path(str(source)).name
        ranks.append(next((int(p["rank"]) for p in result.get("passages", []) if Path(str(p.get("source"))).name == name), None))
    if not ranks or any(r is None for r in ranks):
        return None
    return max(r for r in ranks if r is not None)


def comparison_metrics(
    items: list[dict[str, Any]], results: list[dict[str, Any]], matcher: EvidenceMatcher, answered: bool
) -> dict[str, Any]:
    """What puts two pipelines side by side on the same items: hit@k and MRR@10 on the evidence, hit@5 on the
    gold publication, the evidence within the first CONTEXT_CHARS characters and, when both answered, answers
    and citations; all over the answerable items."""
    pairs = [(item, result) for item, result in zip(items, results) if item.get("type") != "unanswerable"]
    verdicts = [score_item(item, result, matcher) for item, result in pairs]
    out = retrieval_metrics(verdicts)
    n = len(pairs)
    out["source_hit@5"] = _ratio(sum(1 for i, r in pairs if (rank := source_rank(i, r)) is not None and rank <= 5), n)
    out[f"evidence@{CONTEXT_CHARS}"] = _ratio(sum(evidence_in_context(i, r, matcher) for i, r in pairs), n)
    if answered:
        out["answer_accuracy"] = _ratio(sum(v.answer_correct for v in verdicts), n)
        out["citation_accuracy"] = _ratio(sum(v.cited_correctly for v in verdicts), n)
    out["items"] = n
    return out
