"""Speed on this machine: ingestion (cold, unchanged), retrieval latency, local generation, memory, index size.

Usage: .venv/bin/python benchmarks/run.py [--questions N] [--generations N] [--skip-ingest]
Writes benchmarks/results/DATE.json and DATE.md. Each figure is a median (or percentile) of several runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cli(args: list[str], env: dict[str, str]) -> tuple[float, str, int]:
    """Run the CLI in a child process; return wall seconds, output, and its peak RSS in MB."""
    started = time.perf_counter()
    out = subprocess.run([str(REPO / ".venv/bin/assistant27"), *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"assistant27 {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return took, out.stdout, peak_mb


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from assistant27.assistant import Assistant
    from assistant27.config import Settings
    from assistant27.evaluation import load_set

    results: dict[str, object] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    if not args.skip_ingest:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **ENV,
                "ASSISTANT27_INDEX_DIR": str(Path(tmp) / "index"),
                "ASSISTANT27_CORPUS_DIR": str(REPO / "corpus"),
            }
            cold, out, peak = cli(["ingest"], env)
            chunks = sum(
                int(line.split(" chunks (")[0].rsplit(" ", 1)[1])
                for line in out.splitlines()
                if line.startswith("indexed")
            )
            reruns = [cli(["ingest"], env) for _ in range(3)]
            summary = reruns[-1][1].strip().splitlines()[-1]
            results["ingest"] = {
                "cold_s": round(cold, 1),
                "chunks": chunks,
                "chunks_per_s": round(chunks / cold, 1),
                "unchanged_rerun_s_median": round(statistics.median(r[0] for r in reruns), 2),
                "unchanged_rerun_embedded": int(re.search(r"(\d+) chunks embedded", summary).group(1)),  # type: ignore[union-attr]
                "peak_rss_mb": peak,
                "index_mb": round(folder_mb(Path(tmp) / "index"), 1),
            }

    settings = Settings.from_env()
    assistant = Assistant.from_settings(settings, generator="extractive")
    questions = [i["question"] for i in load_set(REPO / "evals/publications.jsonl")][: args.questions]
    assistant.search(questions[0])  # load models and BM25 once, as a running server would have
    latencies = []
    for q in questions:
        started = time.perf_counter()
        assistant.search(q)
        latencies.append(time.perf_counter() - started)
    results["retrieval"] = {
        "n": len(latencies),
        "p50_s": round(percentile(latencies, 0.5), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
    }

    from assistant27.assistant import PassagesFound, Token
    from assistant27.models import local_model_available

    if args.generations and local_model_available(settings.models_dir):
        local = Assistant.from_settings(settings, generator="local")
        firsts, rates, totals = [], [], []
        for q in questions[: args.generations]:
            started = time.perf_counter()
            first = None
            tokens = 0
            for event in local.ask_stream(q):
                if isinstance(event, PassagesFound):
                    shown = time.perf_counter() - started
                if isinstance(event, Token):
                    tokens += 1
                    if first is None:
                        first = time.perf_counter() - started
            total = time.perf_counter() - started
            if first is not None:
                firsts.append(first)
                rates.append(tokens / max(total - first, 1e-6))
                totals.append(total)
        results["local_generation"] = {
            "n": len(firsts),
            "first_token_s_p50": round(statistics.median(firsts), 2) if firsts else None,
            "tokens_per_s_median": round(statistics.median(rates), 1) if rates else None,
            "total_s_p50": round(statistics.median(totals), 2) if totals else None,
            "passages_shown_s_last": round(shown, 3),
        }
    results["peak_rss_mb_this_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    out_dir = REPO / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.date.today().isoformat()
    (out_dir / f"{stamp}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    lines = [f"# Benchmarks {results['date']} ({results['machine']})", "", "| measure | value |", "|---|---|"]
    for section, values in results.items():
        if isinstance(values, dict):
            for k, v in values.items():
                lines.append(f"| {section}.{k} | {v} |")
        elif section not in ("date", "machine"):
            lines.append(f"| {section} | {values} |")
    (out_dir / f"{stamp}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
