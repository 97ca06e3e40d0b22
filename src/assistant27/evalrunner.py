"""Run an evaluation set through `Assistant.ask`, score it, write results.jsonl, summary.json and report.html."""

from __future__ import annotations

import datetime as dt
import html
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant27.assistant import Assistant
from assistant27.evaluation import (
    CONTEXT_CHARS,
    HELD_OUT,
    STAGES,
    TUNING,
    EvidenceMatcher,
    Verdict,
    by_part,
    by_tag,
    by_type,
    failure_causes,
    failure_stage,
    failures_by_type,
    hard_refusals,
    load_set,
    load_split,
    part_gap,
    retrieval_metrics,
    score_item,
    summarise,
    target_check,
)
from assistant27.generators import ExtractiveGenerator
from assistant27.textclean import clean_text

if TYPE_CHECKING:  # llama-index takes seconds to import: only a run with a peer loads it
    from assistant27.peer_llamaindex import LlamaIndexPeer

RETRIEVAL_ONLY = "none (retrieval only)"  # the summary's generator when nothing was generated
PART_METRICS = ("hit@5", "answer_accuracy", "citation_accuracy", "refusal_accuracy", "false_refusals")


def _repair(text: str) -> str:
    return clean_text(text).text


def _retrieval_result(assistant: Assistant, question: str, mode: str) -> dict[str, Any]:
    import time

    started = time.perf_counter()
    passages = assistant.search(question, top_k=max(10, assistant.settings.top_k), mode=mode)
    took = round(time.perf_counter() - started, 4)
    return {
        "question": question,
        "answer": "",
        "refused": False,
        "citations": [],
        "passages": [p.to_json() for p in passages],
        "timings": {"retrieval_s": took, "first_token_s": None, "total_s": took},
    }


def run_eval(
    assistant: Assistant,
    set_path: Path,
    out_dir: Path,
    *,
    retrieval_only: bool = False,
    baselines: bool = True,
    show_progress: bool = True,
    part: str | None = None,
    peer: LlamaIndexPeer | None = None,
) -> dict[str, Any]:
    """Score every item of `set_path` (or of one `part` of its frozen split); return the summary, also written
    to `out_dir`. Items carry their part (`tuning`, `held-out`) when evals/split.json names the set. A `peer`
    pipeline runs on the same items and is scored beside ours (the summary's `peer`, out_dir/peer_results.jsonl)."""
    from tqdm import tqdm

    split = load_split(set_path)
    items = [
        {**item, "part": split[str(item["id"])]} if str(item["id"]) in split else item for item in load_set(set_path)
    ]
    if part is not None:
        if not split:
            raise ValueError(
                f"{set_path.name} has no split in {set_path.parent / 'split.json'}: run evals/split.py on it first."
            )
        items = [item for item in items if item.get("part") == part]
    matcher = EvidenceMatcher(_repair)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as f:
        for item in tqdm(items, desc=f"eval {set_path.name}", unit="q", file=sys.stderr, disable=not show_progress):
            if retrieval_only:
                result = _retrieval_result(assistant, item["question"], "fused")
            else:
                result = assistant.ask(item["question"]).to_json()
            verdict = score_item(item, result, matcher)
            results.append(result)
            verdicts.append(verdict)
            f.write(json.dumps(_row(item, result, verdict), ensure_ascii=False) + "\n")
    summary: dict[str, Any] = {
        "set": str(set_path),
        "part": part or "all",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "generator": RETRIEVAL_ONLY if retrieval_only else assistant.generator.name,
        "embedder": assistant.settings.embedder,
        "settings": {
            k: v
            for k, v in asdict(assistant.settings).items()
            if k
            in (
                "top_k",
                "candidates",
                "rrf_k",
                "fusion",
                "bm25_weight",
                "bm25_weight_english",
                "coverage_weight",
                "bm25_k1",
                "bm25_b",
                "context_passages",
                "context_chars",
                "min_coverage",
                "min_dense",
                "chunk_words",
                "chunk_overlap_words",
            )
        },
    }
    summary.update(scores(items, results, verdicts, retrieval_only))
    if baselines:
        summary["baselines"] = {}
        for mode in ("bm25", "dense"):
            base = [score_item(item, _retrieval_result(assistant, item["question"], mode), matcher) for item in items]
            summary["baselines"][mode] = retrieval_metrics(base)
    if peer is not None:
        from assistant27.peer_llamaindex import compare_with_peer

        # The peer answers with the same extractive generator as ours; beside another generator, retrieval alone.
        same = assistant.generator if isinstance(assistant.generator, ExtractiveGenerator) else None
        summary["peer"] = compare_with_peer(peer, same, items, results, out_dir, matcher, show_progress=show_progress)
    _write_summary(out_dir, summary, items, results, verdicts)
    return summary


def scores(
    items: list[dict[str, Any]], results: list[dict[str, Any]], verdicts: list[Verdict], retrieval_only: bool
) -> dict[str, Any]:
    """The summary's scores: metrics, by type, by tag, the targets, and where each type's failures come from."""
    metrics = summarise(verdicts, results, retrieval_only)
    parts = by_part(items, verdicts, results, retrieval_only)
    return {
        "metrics": metrics,
        "by_part": parts,
        "gap": part_gap(parts),
        "hard_unanswerables": None if retrieval_only else hard_refusals(items, verdicts),
        "by_type": by_type(items, verdicts, results, retrieval_only),
        "by_tag": by_tag(items, verdicts, results, retrieval_only),
        "targets": target_check(metrics),
        "failures_by_type": failures_by_type(items, verdicts, retrieval_only),
    }


def rescore(out_dir: Path) -> dict[str, Any]:
    """Score a finished run again with today's scoring (the answers kept as they are): rewrite its results.jsonl
    verdicts, summary.json and report.html. The baselines, measured by retrieving again, stay as they were."""
    path = out_dir / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [{k: v for k, v in row.items() if k not in ("result", "verdict")} for row in rows]
    results = [row["result"] for row in rows]
    matcher = EvidenceMatcher(_repair)
    verdicts = [score_item(item, result, matcher) for item, result in zip(items, results)]
    summary_path = out_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    summary.setdefault("set", str(out_dir))
    summary.setdefault("date", "unknown")
    summary.setdefault("generator", rows[0]["result"].get("generator", "unknown") if rows else "unknown")
    summary.setdefault("embedder", "unknown")
    summary.setdefault("settings", {})
    summary.update(scores(items, results, verdicts, _is_retrieval_only(summary)))
    summary["rescored"] = dt.datetime.now().isoformat(timespec="seconds")
    with path.open("w", encoding="utf-8") as f:
        for item, result, verdict in zip(items, results, verdicts):
            f.write(json.dumps(_row(item, result, verdict), ensure_ascii=False) + "\n")
    _write_summary(out_dir, summary, items, results, verdicts)
    return summary


def _row(item: dict[str, Any], result: dict[str, Any], verdict: Verdict) -> dict[str, Any]:
    """One line of results.jsonl: the item's fields, the `ask --json` output, the verdict."""
    return {**item, "result": result, "verdict": {**asdict(verdict), "rank": verdict.rank}}


def _write_summary(
    out_dir: Path,
    summary: dict[str, Any],
    items: list[dict[str, Any]],
    results: list[dict[str, Any]],
    verdicts: list[Verdict],
) -> None:
    (out_dir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    (out_dir / "report.html").write_text(render_report(summary, items, results, verdicts), encoding="utf-8")


def _is_retrieval_only(summary: dict[str, Any]) -> bool:
    """Whether the run scored retrieval alone (its summary names no generator)."""
    return summary.get("generator") == RETRIEVAL_ONLY


def _fmt(metric: dict[str, Any]) -> str:
    if metric.get("value") is None:
        return "–"
    if "hits" in metric:
        return f"{metric['value']:.2f} ({metric['hits']}/{metric['total']})"
    return f"{metric['value']:.2f}"


def metric_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as lines for the terminal and the README."""
    m = summary["metrics"]
    lines = [
        f"{name:<18} {_fmt(m[name])}"
        for name in (
            "hit@1",
            "hit@5",
            "hit@10",
            "mrr@10",
            "answer_accuracy",
            "citation_accuracy",
            "refusal_accuracy",
            "false_refusals",
        )
        if name in m
    ]
    for name in ("latency_s", "first_token_s", "retrieval_s"):
        if m.get(name, {}).get("p50") is not None:
            lines.append(f"{name:<18} p50 {m[name]['p50']:.3f} s, p95 {m[name]['p95']:.3f} s")
    for mode, base in summary.get("baselines", {}).items():
        lines.append(f"baseline {mode:<9} hit@5 {_fmt(base['hit@5'])}, mrr@10 {_fmt(base['mrr@10'])}")
    for part, pm in summary.get("by_part", {}).items():
        parts = [f"{k} {_fmt(pm[k])}" for k in PART_METRICS if k in pm]
        lines.append(f"part {part:<13} " + ", ".join(parts))
    if summary.get("gap"):
        lines.append("gap tuning-held   " + ", ".join(f"{k} {v:+.3f}" for k, v in summary["gap"].items()))
    if summary.get("hard_unanswerables"):
        lines.append(f"hard unanswerables refused {_fmt(summary['hard_unanswerables'])}")
    for tag, tm in summary.get("by_tag", {}).items():
        parts = [f"{k} {_fmt(tm[k])}" for k in ("hit@5", "answer_accuracy", "citation_accuracy") if k in tm]
        lines.append(f"tag {tag:<14} " + ", ".join(parts))
    for name, pm in (summary.get("peer") or {}).get("columns", {}).items():
        parts = [f"{k} {_fmt(pm[k])}" for k in PEER_METRICS[1:] if k in pm]
        lines.append(f"side by side {name:<11} " + ", ".join(parts))
    return lines


def render_report(
    summary: dict[str, Any], items: list[dict[str, Any]], results: list[dict[str, Any]], verdicts: list[Verdict]
) -> str:
    """A self-contained HTML page: metrics with counts, a chart by question type, every failed item."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(line.split()[0])}</td><td>{e(' '.join(line.split()[1:]))}</td></tr>"
        for line in metric_lines(summary)
    )
    chart = []
    groups = [*summary["by_type"].items(), *((f"tag {t}", m) for t, m in summary.get("by_tag", {}).items())]
    for t, m in groups:
        for key in ("hit@5", "answer_accuracy", "citation_accuracy", "refusal_accuracy"):
            v = m.get(key, {})
            if v.get("value") is not None and v.get("total"):
                w = int(300 * v["value"])
                chart.append(
                    f"<tr><td>{e(t)}</td><td>{e(key)}</td><td><div class=bar style='width:{w}px'></div>"
                    f"</td><td>{_fmt(v)}</td></tr>"
                )
    retrieval_only = _is_retrieval_only(summary)
    failed = []
    for item, result, v in zip(items, results, verdicts):
        if failure_stage(v, retrieval_only) is None:
            continue
        why = failure_causes(item, v)
        cites = "".join(
            f"<li>[{c['n']}] {e(str(c.get('title')))} {c.get('year')}: {e(c['text'][:300])}</li>"
            for c in result.get("citations", [])
        )
        passages = "".join(
            f"<li>#{p['rank']} {e(str(p.get('source')))}: {e(p['text'][:200])}</li>"
            for p in result.get("passages", [])[:5]
        )
        failed.append(
            f"<details><summary><b>{e(item['id'])}</b> [{e(item['type'])}] {e(item['question'])} — "
            f"<i>{e('; '.join(why))}</i></summary><p><b>Expected:</b> {e(str(item.get('answer')))}<br>"
            f"<b>Evidence:</b> {e(str(item.get('evidence')))} (ranks {v.ranks})</p>"
            f"<p><b>Answer:</b> {e(result.get('answer', ''))}</p><p>Citations:</p><ol>{cites}</ol>"
            f"<p>Top passages:</p><ol>{passages}</ol></details>"
        )
    return f"""<!doctype html><html lang=en><meta charset=utf-8><title>assistant27 evaluation</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto}}td{{padding:2px 8px}}
.bar{{background:#3b6;height:12px}}details{{margin:.4em 0;border-bottom:1px solid #ddd}}</style>
<h1>Evaluation of {e(summary["set"])}</h1><p>{e(summary["date"])} — generator {e(summary["generator"])},
embedder {e(summary["embedder"])}, settings {e(json.dumps(summary["settings"]))}</p>
<h2>Metrics</h2><table>{rows}</table>{_peer_html(summary)}{_parts_html(summary)}{_targets_html(summary)}{_failures_html(summary)}<h2>By question type and tag</h2><table>{"".join(chart)}</table>
<h2>Failed items ({len(failed)})</h2>{"".join(failed)}</html>"""


def _parts_html(summary: dict[str, Any]) -> str:
    """The whole run, its tuning part and its held-out part side by side."""
    parts = summary.get("by_part") or {}
    if not parts:
        return ""
    columns = [("all", summary["metrics"]), *parts.items()]
    return (
        "<h2>Tuning and held-out parts</h2><p>Tune on the tuning part only (evals/split.json); the held-out part "
        "says whether a change generalises.</p>"
        + _side_by_side([label for label, _ in columns], [m for _, m in columns])
    )


PEER_METRICS = (
    "items",
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr@10",
    "source_hit@5",
    f"evidence@{CONTEXT_CHARS}",
    "answer_accuracy",
    "citation_accuracy",
)


def _peer_html(summary: dict[str, Any]) -> str:
    """Our pipeline and the peer's side by side, on the whole run and on each part."""
    peer = summary.get("peer")
    if not peer:
        return ""
    e = html.escape
    tables = []
    for label, columns in [("all items", peer["columns"]), *peer.get("by_part", {}).items()]:
        names = list(columns)
        tables.append(
            f"<h3>{e(label)}</h3>" + _side_by_side(names, [columns[n] for n in names], PEER_METRICS)
        )
    answers = (
        f"both answer with the {e(str(peer['generator']))} generator (the peer's answers are neither checked nor refused)"
        if peer.get("generator")
        else "the peer is scored on retrieval alone (it answers only beside the extractive generator)"
    )
    return (
        f"<h2>Side by side with the plain {e(peer['name'])} pipeline</h2><p>{e(peer['pipeline'])}; "
        f"{peer['chunks']} chunks, index {e(peer['cache'])}. Over the answerable items: hit@k and MRR@10 on the "
        f"evidence (as above), source_hit@5 on the gold publication, evidence@{CONTEXT_CHARS} when the evidence is "
        f"within the first {CONTEXT_CHARS:,} characters of the passages in rank order; {answers}. Its answers: "
        f"{e(peer['results'])}.</p>" + "".join(tables)
    )


SIDE_BY_SIDE = (
    "items",
    "hit@5",
    "mrr@10",
    "answer_accuracy",
    "citation_accuracy",
    "refusal_accuracy",
    "false_refusals",
    "hard_unanswerables",
)


def _side_by_side(labels: list[str], columns: list[dict[str, Any]], names: tuple[str, ...] = SIDE_BY_SIDE) -> str:
    """An HTML table: one row per metric (with its counts), one column per part, set or pipeline."""
    e = html.escape
    head = "".join(f"<th>{e(label)}</th>" for label in labels)
    rows = []
    for name in names:
        cells = []
        for m in columns:
            v = m.get(name)
            cells.append("–" if v is None else str(v) if isinstance(v, int) else _fmt(v))
        if any(c != "–" for c in cells):
            label = "refusal on hard unanswerables" if name == "hard_unanswerables" else name
            rows.append(f"<tr><td>{e(label)}</td>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    return f"<table border=1 cellspacing=0><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"


def _targets_html(summary: dict[str, Any]) -> str:
    """The targets table: each target, the value reached, met or missed."""
    rows = []
    for t in summary.get("targets", []):
        sign = "≥" if t["kind"] == "min" else "≤"
        verdict = "not measured" if t["met"] is None else ("met" if t["met"] else "<b>missed</b>")
        value = "–" if t["value"] is None else f"{t['value']:.3f}"
        rows.append(
            f"<tr><td>{html.escape(t['metric'])}</td><td>{sign} {t['target']:.2f}</td><td>{value}</td><td>{verdict}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<h2>Targets (issue 4: the full set, local generator)</h2><table><tr><th>metric</th><th>target</th>"
        f"<th>reached</th><th></th></tr>{''.join(rows)}</table>"
    )


def _failures_html(summary: dict[str, Any]) -> str:
    """Why items fail, by question type: where each failed item went wrong first."""
    table = summary.get("failures_by_type") or {}
    if not table:
        return ""
    head = "".join(f"<th title='{html.escape(text)}'>{html.escape(stage)}</th>" for stage, text in STAGES.items())
    rows = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{r['failed']}/{r['items']}</td>"
        + "".join(f"<td>{r.get(stage, 0) or ''}</td>" for stage in STAGES)
        + "</tr>"
        for t, r in table.items()
    )
    legend = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in STAGES.items())
    return (
        "<h2>Why items fail, by question type</h2><p>Each failed item counted once, at the first stage it failed "
        f"at:</p><ul>{legend}</ul><table><tr><th>type</th><th>failed</th>{head}</tr>{rows}</table>"
    )


def failure_lines(summary: dict[str, Any]) -> list[str]:
    """Targets missed and where each type's failures come from, as lines for the terminal."""
    lines = []
    missed = [t for t in summary.get("targets", []) if t["met"] is False]
    measured = [t for t in summary.get("targets", []) if t["met"] is not None]
    if measured:
        lines.append(
            f"targets met       {len(measured) - len(missed)}/{len(measured)}"
            + (f"; missed: {', '.join(t['metric'] for t in missed)}" if missed else "")
        )
    for t, r in (summary.get("failures_by_type") or {}).items():
        if r["failed"]:
            parts = ", ".join(f"{stage} {r[stage]}" for stage in STAGES if r.get(stage))
            lines.append(f"failed {t:<11} {r['failed']}/{r['items']}: {parts}")
    return lines


def compare(old_dir: Path, new_dir: Path) -> list[str]:
    """Item by item: what got fixed and what broke between two runs."""

    def load(d: Path) -> dict[str, dict[str, Any]]:
        rows = [json.loads(line) for line in (d / "results.jsonl").read_text(encoding="utf-8").splitlines() if line]
        return {r["id"]: r for r in rows}

    def ok(row: dict[str, Any]) -> bool:
        v = row["verdict"]
        return bool(v["refused"]) if not v["answerable"] else bool(v["answer_correct"] and v["cited_correctly"])

    old, new = load(old_dir), load(new_dir)
    lines = []
    for key in sorted(set(old) & set(new)):
        if ok(old[key]) != ok(new[key]):
            lines.append(f"{'fixed ' if ok(new[key]) else 'BROKEN'} {key} [{new[key]['type']}] {new[key]['question']}")
    if not (old_dir / "summary.json").is_file() or not (new_dir / "summary.json").is_file():
        return lines  # item verdicts only: a folder cut down by hand may have no summary
    a = json.loads((old_dir / "summary.json").read_text(encoding="utf-8"))["metrics"]
    b = json.loads((new_dir / "summary.json").read_text(encoding="utf-8"))["metrics"]
    for name in ("hit@5", "mrr@10", "answer_accuracy", "citation_accuracy", "refusal_accuracy", "false_refusals"):
        if name in a and name in b and a[name].get("value") is not None and b[name].get("value") is not None:
            lines.append(f"{name:<18} {a[name]['value']:.3f} -> {b[name]['value']:.3f}")
    return lines


# An evaluation suite: several sets, each on its own corpus, scored side by side (evals/suite.json).
@dataclass(frozen=True)
class SuiteSet:
    name: str
    set_path: Path
    corpus: Path | None  # None: the configured corpus and index


def load_suite(path: Path) -> list[SuiteSet]:
    """The sets of a suite file; paths in it are relative to the file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for entry in data.get("sets", []):
        set_path = path.parent / entry["set"]
        corpus = path.parent / entry["corpus"] if entry.get("corpus") else None
        if not set_path.is_file():
            raise FileNotFoundError(f"{path}: no set {set_path}; fix the suite file or add the set.")
        if corpus is not None and not corpus.is_dir():
            raise FileNotFoundError(f"{path}: no corpus folder {corpus}; fix the suite file or add the corpus.")
        out.append(SuiteSet(entry["name"], set_path, corpus))
    if not out:
        raise ValueError(f"{path} names no set: add {{'name', 'set', 'corpus'}} entries under 'sets'.")
    return out


def run_suite(
    sets: list[SuiteSet],
    assistant_for: Callable[[Path | None], Assistant],
    out_dir: Path,
    *,
    show_progress: bool = True,
    part: str | None = None,
) -> dict[str, Any]:
    """Run each set (or only one `part` of each: the held-out parts cost a third of the time) with the assistant
    of its corpus into out_dir/NAME/, then write the suite's summary.json and report.html: every set's tuning and
    held-out parts side by side, with the refusal on hard unanswerables."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, dict[str, Any]] = {}
    for entry in sets:
        assistant = assistant_for(entry.corpus)
        finished = _finished_run(out_dir / entry.name, entry.set_path, assistant.generator.name, part)
        if finished is not None:  # a suite stopped half-way goes on where it stopped
            print(
                f"{entry.name}: a finished run of {entry.set_path} is in {out_dir / entry.name}; kept", file=sys.stderr
            )
            summaries[entry.name] = finished
            continue
        summaries[entry.name] = run_eval(
            assistant, entry.set_path, out_dir / entry.name, baselines=False, show_progress=show_progress, part=part
        )
    columns = suite_columns(summaries)
    first = next(iter(summaries.values()))
    summary = {
        "suite": [{"name": e.name, "set": str(e.set_path), "corpus": str(e.corpus or "")} for e in sets],
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "generator": first["generator"],
        "embedder": first["embedder"],
        "columns": columns,
        "gaps": {name: s["gap"] for name, s in summaries.items() if s.get("gap")},
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "report.html").write_text(render_suite(summary), encoding="utf-8")
    return summary


def _finished_run(folder: Path, set_path: Path, generator: str, part: str | None = None) -> dict[str, Any] | None:
    """The summary of a complete run with this generator in `folder` that holds what is asked (the whole set, or
    the part asked: a run of the whole set holds each part), else None."""
    path = folder / "summary.json"
    if not path.is_file():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    ran = summary.get("part", "all")
    wanted = (
        len(load_set(set_path)) if ran == "all" else sum(1 for value in load_split(set_path).values() if value == ran)
    )
    complete = (
        summary.get("set") == str(set_path)
        and summary.get("generator") == generator
        and ran in ("all", part or "all")
        and summary.get("metrics", {}).get("items") == wanted
    )
    return summary if complete else None


def suite_columns(summaries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One column per set part: NAME · tuning and NAME · held-out when split, NAME alone otherwise."""
    columns = []
    for name, s in summaries.items():
        parts = s.get("by_part") or {}
        if parts and sum(p["items"] for p in parts.values()) == s["metrics"]["items"] and s.get("part", "all") == "all":
            for part in (TUNING, HELD_OUT):
                if part in parts:
                    columns.append({"column": f"{name} · {part}", "set": name, "part": part, "metrics": parts[part]})
        else:
            metrics = {**s["metrics"], "hard_unanswerables": s.get("hard_unanswerables")}
            part = s.get("part", "all")
            label = name if part == "all" else f"{name} · {part}"
            columns.append({"column": label, "set": name, "part": part, "metrics": metrics})
    return columns


def suite_lines(summary: dict[str, Any]) -> list[str]:
    """The suite's columns as lines for the terminal and the README."""
    lines = []
    for c in summary["columns"]:
        m = c["metrics"]
        parts = [f"{k} {_fmt(m[k])}" for k in (*PART_METRICS, "hard_unanswerables") if m.get(k)]
        lines.append(f"{c['column']:<32} " + ", ".join(parts))
    for name, gap in summary.get("gaps", {}).items():
        lines.append(f"gap {name} (tuning - held-out): " + ", ".join(f"{k} {v:+.3f}" for k, v in gap.items()))
    return lines


def render_suite(summary: dict[str, Any]) -> str:
    e = html.escape
    links = "".join(
        f"<li><a href='{e(s['name'])}/report.html'>{e(s['name'])}</a>: {e(s['set'])}"
        f"{' on ' + e(s['corpus']) if s['corpus'] else ''}</li>"
        for s in summary["suite"]
    )
    gaps = "".join(
        f"<li>{e(name)}: " + ", ".join(f"{e(k)} {v:+.3f}" for k, v in gap.items()) + "</li>"
        for name, gap in summary.get("gaps", {}).items()
    )
    table = _side_by_side([c["column"] for c in summary["columns"]], [c["metrics"] for c in summary["columns"]])
    return f"""<!doctype html><html lang=en><meta charset=utf-8><title>assistant27 evaluation suite</title>
<style>body{{font-family:system-ui,sans-serif;max-width:80em;margin:2em auto}}td,th{{padding:2px 8px}}</style>
<h1>Evaluation suite</h1><p>{e(summary["date"])} — generator {e(summary["generator"])}, embedder
{e(summary["embedder"])}. Tune on the tuning parts only; the held-out parts and the second corpus say whether a
change generalises.</p>{table}<h2>Gap, tuning minus held-out</h2><ul>{gaps}</ul><h2>Each set's report</h2><ul>{links}</ul></html>"""
