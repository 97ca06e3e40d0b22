"""Speed and memory on this machine: ingestion, retrieval, local generation, `ask` and `serve` memory, scaling.

Usage: .venv/bin/python benchmarks/run.py [--questions N] [--generations N] [--factors 1,10,50] [--real-10x] ...
(`make bench` runs it with the defaults, about 15-25 minutes on 2 cores.) Writes benchmarks/results/DATE.json
and DATE.md. Times are medians (or percentiles) of several runs, measured with time.perf_counter.
benchmarks/README.md explains each figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_scale  # noqa: E402  (benchmarks/corpus_scale.py)
import first_token  # noqa: E402  (benchmarks/first_token.py)

if TYPE_CHECKING:
    from assistant27.config import Settings

CLI = str(REPO / ".venv" / "bin" / "assistant27")
BASE_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT27_")},
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
}
HASHING_DIM, E5_DIM = 256, 384
EMBED_SAMPLE = 64  # chunks embedded with e5 to measure its throughput
ASK_QUESTION = "Quelles collectivités ont participé à Nouveaux Accords ?"
SERVE_SEARCHES = ["réglementation", "Nouveaux Accords", "laboratoires d'innovation publique", "Kriz", "2024"]


# ---- small helpers -----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float], digits: int = 3) -> float | None:
    return round(statistics.median(values), digits) if values else None


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class ChildRun:
    seconds: float
    stdout: str
    stderr: str
    peak_rss_mb: int  # this child's own peak resident set (ru_maxrss from os.wait4), MiB
    returncode: int


# Started by a small launcher, not by this process: Linux carries a process's peak RSS over fork and exec, so a
# child forked straight from this (by then large) process would report this process's peak, not its own.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)
"""


def child(args: list[str], env: dict[str, str], check: bool = True) -> ChildRun:
    """Run `assistant27 ARGS` in a child process; its wall time and its own peak RSS (not the other children's)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(peak_file), CLI, *args], env=env, cwd=REPO, stdout=out, stderr=err
        )
        took = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        peak = peak_file.read_text() if peak_file.exists() else "-1024"
        run = ChildRun(
            took,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            int(peak) // 1024,  # Linux: KiB
            proc.returncode,
        )
    if check and run.returncode != 0:
        raise SystemExit(f"assistant27 {' '.join(args)} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    return run


def env_for(index_dir: Path, corpus_dir: Path, embedder: str, data_dir: Path | None = None) -> dict[str, str]:
    env = {
        **BASE_ENV,
        "ASSISTANT27_INDEX_DIR": str(index_dir),
        "ASSISTANT27_CORPUS_DIR": str(corpus_dir),
        "ASSISTANT27_EMBEDDER": embedder,
    }
    if data_dir is not None:
        env["ASSISTANT27_DATA_DIR"] = str(data_dir)
    return env


def settings_for(index_dir: Path, corpus_dir: Path, embedder: str) -> Settings:
    from assistant27.config import Settings

    return Settings.from_env({}, index_dir=index_dir, corpus_dir=corpus_dir, embedder=embedder)


def indexed_chunks(stdout: str) -> int:
    return sum(int(m.group(1)) for m in re.finditer(r"^indexed .*?(\d+) chunks \(", stdout, re.MULTILINE))


def embedded_in_summary(stdout: str) -> int:
    found = re.search(r"(\d+) chunks embedded", stdout)
    return int(found.group(1)) if found else -1


# ---- ingestion ---------------------------------------------------------------------------------------------


def bench_ingest(corpus_dir: Path, work: Path, embedder: str, cold_runs: int, reruns: int) -> dict[str, Any]:
    """Cold ingestions (each into an empty index), then unchanged re-runs on the last one. Keeps work/index."""
    colds: list[ChildRun] = []
    index_dir = work / "index"
    for i in range(cold_runs):
        if index_dir.exists():
            shutil.rmtree(index_dir)
        colds.append(child(["ingest"], env_for(index_dir, corpus_dir, embedder)))
        log(f"  {embedder} cold ingest {i + 1}/{cold_runs}: {colds[-1].seconds:.1f} s")
    chunks = indexed_chunks(colds[-1].stdout)
    again = [child(["ingest"], env_for(index_dir, corpus_dir, embedder)) for _ in range(reruns)]
    cold_s = statistics.median(r.seconds for r in colds)
    result: dict[str, Any] = {
        "embedder": embedder,
        "cold_runs": cold_runs,
        "cold_s": round(cold_s, 1),
        "cold_s_all": [round(r.seconds, 1) for r in colds],
        "chunks": chunks,
        "chunks_per_s": round(chunks / cold_s, 1),
        "peak_rss_mb": max(r.peak_rss_mb for r in colds),
        "index_mb": folder_mb(index_dir),
    }
    if again:
        result |= {
            "unchanged_rerun_s": round(statistics.median(r.seconds for r in again), 2),
            "unchanged_rerun_embedded": embedded_in_summary(again[-1].stdout),
        }
    return result


# ---- retrieval ---------------------------------------------------------------------------------------------


def bench_retrieval(settings: Settings, questions: list[str], build_runs: int = 3) -> dict[str, Any]:
    """BM25 start-up cost, then per question: full search latency and its parts (query embedding, chroma, BM25)."""
    from assistant27.assistant import Assistant
    from assistant27.lexical import BM25Index

    assistant = Assistant.from_settings(settings, generator="extractive")
    store = assistant.store
    fetch, build = [], []
    for _ in range(build_runs):  # what the corpus view does at the first query: all chunks out of chroma, then BM25
        t0 = time.perf_counter()
        chunks = store.all_chunks()
        t1 = time.perf_counter()
        BM25Index(chunks)
        fetch.append(t1 - t0)
        build.append(time.perf_counter() - t1)
    started = time.perf_counter()
    assistant.embedder.embed_query("warm-up")  # loads the model (e5: from the model cache)
    model_load_s = time.perf_counter() - started
    assistant.warm_up()  # embedder loaded, BM25 built: as in a running server
    passages_per_s = None
    if settings.embedder == "e5":  # e5's throughput on real chunks, as ingestion embeds them (for extrapolation)
        from assistant27.indexing import embedding_text

        sample = [embedding_text(c.title, c.heading, c.text) for c in chunks[:EMBED_SAMPLE]]
        started = time.perf_counter()
        assistant.embedder.embed_passages(sample)
        passages_per_s = round(len(sample) / (time.perf_counter() - started), 2)
    embed: list[float] = []
    dense: list[float] = []
    lexical: list[float] = []
    total: list[float] = []
    # The parts are timed inside the very calls that `search` makes (wrapped on these instances only).
    timed(assistant.embedder, "embed_query", embed)
    timed(store, "query", dense)
    timed(assistant.corpus.current().bm25, "search", lexical)
    for q in questions:
        t0 = time.perf_counter()
        assistant.search(q)
        total.append(time.perf_counter() - t0)
    return {
        "embedder": settings.embedder,
        "chunks": len(chunks),
        "n": len(total),
        "p50_s": round(percentile(total, 0.5), 4),
        "p95_s": round(percentile(total, 0.95), 4),
        "query_embedding_s_p50": round(percentile(embed, 0.5), 4),
        "dense_chroma_s_p50": round(percentile(dense, 0.5), 4),
        "dense_chroma_s_p95": round(percentile(dense, 0.95), 4),
        "bm25_s_p50": round(percentile(lexical, 0.5), 4),
        "bm25_s_p95": round(percentile(lexical, 0.95), 4),
        "startup_fetch_chunks_s": median(fetch),
        "startup_bm25_build_s": median(build),
        "embedder_load_s": round(model_load_s, 2),
        "embedding_passages_per_s": passages_per_s,
    }


def timed(obj: object, name: str, into: list[float]) -> None:
    """Replace obj.name by a wrapper that appends each call's duration to `into`."""
    original = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    setattr(obj, name, wrapper)


# ---- local generation --------------------------------------------------------------------------------------


def bench_generation(settings: Settings, questions: list[str], wanted: int) -> dict[str, Any]:
    """Time to first token and streamed pieces per second, after `warm_up()`; refusals before generation are skipped.
    Each answer also gives llama.cpp's own figures (prompt tokens, cached, prefill and generation tokens/s), printed
    one line an answer (`first_token.answer_line`) and summarised as p50 / p95 (`first_token.summary`)."""
    from assistant27.assistant import Assistant, PassagesFound, Token
    from assistant27.schema import Answer

    local = Assistant.from_settings(settings, generator="local")
    started = time.perf_counter()
    local.warm_up()
    warm_up_s = time.perf_counter() - started
    shown: list[float] = []
    firsts: list[float] = []
    rates: list[float] = []
    generating: list[float] = []
    after: list[float] = []
    totals: list[float] = []
    prompts: list[dict[str, Any]] = []
    tried = refused_before = 0
    for q in questions:
        if len(firsts) >= wanted or tried >= 3 * wanted:
            break
        tried += 1
        started = time.perf_counter()
        first = last = done = None
        pieces = 0
        answer = None
        for event in local.ask_stream(q):
            now = time.perf_counter() - started
            if isinstance(event, PassagesFound):
                shown.append(now)
            elif isinstance(event, Token):
                pieces += 1
                first = now if first is None else first
                last = now
            elif isinstance(event, Answer):
                done = now
                answer = event
        model = answer.timings.model if answer is not None else None
        if first is None or last is None or done is None or model is None:
            refused_before += 1  # refused before generation, or answered from the catalogue: no model ran
            continue
        firsts.append(first)
        if pieces > 1 and last > first:
            rates.append((pieces - 1) / (last - first))
        generating.append(last - first)
        after.append(done - last)
        totals.append(done)
        row = {"question": q, **asdict(model), "first_token_s": round(first, 2), "total_s": round(done, 2)}
        prompts.append(row)
        log(f"  generation {len(firsts)}/{wanted}: {first_token.answer_line(row)}")
    return {
        "n": len(firsts),
        "questions_tried": tried,
        "refused_before_generation": refused_before,
        "warm_up_s": round(warm_up_s, 1),
        "passages_shown_s_p50": median(shown),
        "first_token_s_p50": median(firsts, 2),
        "first_token_s_max": round(max(firsts), 2) if firsts else None,
        "tokens_per_s_median": median(rates, 1),
        "generation_s_p50": median(generating, 2),
        "after_last_token_s_p50": median(after, 2),  # end of the stream and the citation check
        "after_last_token_s_max": round(max(after), 2) if after else None,
        "total_s_p50": median(totals, 2),
        "llama_cpp": first_token.summary(prompts),  # the server's own figures, p50 / p95
        "prompts": prompts,
    }


# ---- memory of ask and serve -------------------------------------------------------------------------------


def bench_ask(env: dict[str, str], generator: str, runs: int) -> dict[str, Any]:
    """`assistant27 ask --json --generator G "..."` in a child process: wall time (models loaded cold) and peak RSS."""
    got = [child(["ask", "--json", "--generator", generator, ASK_QUESTION], env) for _ in range(runs)]
    answer = json.loads(got[-1].stdout)
    return {
        "runs": runs,
        "peak_rss_mb": max(r.peak_rss_mb for r in got),
        "wall_s_p50": median([r.seconds for r in got], 1),
        "refused": answer.get("refused"),
        "first_token_s_in_process": (answer.get("timings") or {}).get("first_token_s"),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_status(pid: int, field: str) -> int:
    """A `VmXXX:` line of /proc/PID/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return -1


def bench_serve(env: dict[str, str], generator: str, searches: int, asks: int, questions: list[str]) -> dict[str, Any]:
    """Start `assistant27 serve`, wait for HTTP, run searches and asks through the Gradio API, read VmHWM, stop it."""
    port = _free_port()
    with tempfile.TemporaryFile() as log_file:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--generator", generator],
            env=env,
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            ready_s = _wait_for_http(proc, f"http://127.0.0.1:{port}/", started, log_file)
            return {"generator": generator, "ready_s": round(ready_s, 1)} | _drive(
                proc.pid, f"http://127.0.0.1:{port}/", searches, asks, questions
            )
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_http(proc: subprocess.Popen[bytes], url: str, started: float, log_file: IO[bytes]) -> float:
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        if proc.poll() is not None:
            log_file.seek(0)
            raise SystemExit(f"assistant27 serve exited ({proc.returncode}):\n{log_file.read().decode()}")
        if time.perf_counter() - started > 300:
            raise SystemExit("assistant27 serve did not answer HTTP within 300 s")
        try:
            with no_proxy.open(url, timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.5)


def _drive(pid: int, url: str, searches: int, asks: int, questions: list[str]) -> dict[str, Any]:
    """Searches, then asks (passages, then the answer) through the Gradio API, as the page sends them."""
    from gradio_client import Client

    hwm_ready = _proc_status(pid, "VmHWM")
    client = Client(url, verbose=False)
    client.predict(None, api_name="/start")
    search_s, retrieve_s, generate_s = [], [], []
    for i in range(searches):
        t0 = time.perf_counter()
        client.predict(SERVE_SEARCHES[i % len(SERVE_SEARCHES)], None, None, [], [], api_name="/search_page")
        search_s.append(time.perf_counter() - t0)
    for q in [ASK_QUESTION, *questions][:asks]:
        t0 = time.perf_counter()
        client.predict(q, api_name="/retrieve")
        t1 = time.perf_counter()
        client.predict(api_name="/generate")
        retrieve_s.append(t1 - t0)
        generate_s.append(time.perf_counter() - t1)
    return {
        "vmhwm_mb_when_ready": hwm_ready,
        "vmhwm_mb": _proc_status(pid, "VmHWM"),
        "vmrss_mb_at_end": _proc_status(pid, "VmRSS"),
        "searches": searches,
        "search_http_s_p50": median(search_s),
        "asks": asks,
        "ask_passages_http_s_p50": median(retrieve_s),
        "ask_answer_http_s_p50": median(generate_s, 1),
    }


# ---- scaling -----------------------------------------------------------------------------------------------


def bench_scaling(
    factors: list[int],
    work: Path,
    questions: list[str],
    repeats: int,
    largest_repeats: int,
    real_10x: bool,
    real_1x: dict[str, Any] | None,
) -> dict[str, Any]:
    """The corpus replicated N times with altered text; ingestion and retrieval with the hashing embedder."""
    rows: list[dict[str, Any]] = []
    for factor in factors:
        base = work / f"x{factor}"
        corpus = base / "corpus"
        made = corpus_scale.build(REPO / "corpus", corpus, factor)
        runs = largest_repeats if factor == max(factors) and factor > 1 else repeats
        log(f"scaling {factor}x: {made.files} files, {made.characters / 1e6:.1f} M characters, {runs} cold run(s)")
        ingest = bench_ingest(corpus, base, "hashing", runs, 1)
        retrieval = bench_retrieval(settings_for(base / "index", corpus, "hashing"), questions)
        row: dict[str, Any] = {
            "factor": factor,
            "files": made.files,
            "corpus_mb": round(sum(p.stat().st_size for p in corpus.iterdir()) / 1e6, 1),
            "ingest": ingest,
            "retrieval": retrieval,
        }
        if real_10x and factor == 10:
            log("scaling 10x with the real e5 embedder (--real-10x)")
            row["ingest_e5_measured"] = bench_ingest(corpus, base / "e5", "e5", 1, 0)
        rows.append(row)
        shutil.rmtree(base)
    _extrapolate(rows, real_1x)
    return {
        "embedder": f"hashing ({HASHING_DIM}-d vectors; e5-small's are {E5_DIM}-d)",
        "rows": rows,
    }


def _extrapolate(rows: list[dict[str, Any]], real_1x: dict[str, Any] | None) -> None:
    """e5 ingestion at N x = hashing ingestion at N x + e5 model load + chunks at N x / e5 passages per second.

    e5's load time and throughput are measured in-process on real chunks (bench_retrieval); at 1 x the same
    formula is written next to the measured e5 ingestion, as a check of the extrapolation.
    """
    one = next((r for r in rows if r["factor"] == 1), None)
    if one is None or not real_1x:
        return
    rate, load = real_1x.get("passages_per_s"), real_1x.get("model_load_s") or 0.0
    if rate:
        per_chunk = 1.0 / rate
    else:  # no throughput measured: what e5 ingestion took beyond hashing ingestion at 1 x, per chunk
        per_chunk, load = max(real_1x["cold_s"] - one["ingest"]["cold_s"], 0.0) / max(real_1x["chunks"], 1), 0.0
    e5_latency = real_1x.get("retrieval_p50_s")
    for row in rows:
        chunks = row["ingest"]["chunks"]
        seconds = row["ingest"]["cold_s"] + load + chunks * per_chunk
        estimate = {
            "cold_s": round(seconds, 0),
            "chunks_per_s": round(chunks / seconds, 1) if seconds else None,
            "e5_embedding_s_per_chunk": round(per_chunk, 4),
            "e5_model_load_s": round(load, 1),
        }
        if row["factor"] == 1:  # the e5 ingestion measured above, and what the formula says for it
            row["ingest_e5_measured"] = {k: real_1x[k] for k in ("cold_s", "chunks", "chunks_per_s")}
            row["ingest_e5_formula_check"] = estimate
            continue
        row["ingest_e5_extrapolated"] = estimate
        if e5_latency is not None:
            growth = row["retrieval"]["p50_s"] - one["retrieval"]["p50_s"]
            row["retrieval_e5_p50_s_extrapolated"] = round(e5_latency + growth, 4)


# ---- report ------------------------------------------------------------------------------------------------


def load_note(start: tuple[float, ...], end: tuple[float, ...]) -> str:
    cores = os.cpu_count() or 1
    high = max(start[0], end[0], start[1], end[1]) > 0.75 * cores
    if high:
        return (
            f"HIGH LOAD: load average above 0.75 x {cores} cores at start or end; other work ran on this machine "
            "at the same time, so times are noisy (likely slower than on an idle machine)."
        )
    return "load average low at start and end"


def markdown(r: dict[str, Any]) -> str:
    def cell(v: Any, unit: str = "") -> str:
        return "n/a" if v is None else f"{v}{unit}"

    lines = [
        f"# Benchmarks {r['date']} ({r['machine']})",
        "",
        f"`{r.get('command', '')}`; figures explained in benchmarks/README.md.",
        "",
        f"Load average (1/5/15 min) at start {r['load_average']['start']}, at end {r['load_average']['end']}: "
        f"{r['load_average']['note']}",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    add = lines.append
    if ing := r.get("ingest"):
        add(f"| ingestion, cold (e5, {ing['chunks']} chunks) | {ing['cold_s']} s, {ing['chunks_per_s']} chunks/s |")
        add(
            f"| ingestion, unchanged re-run | {cell(ing.get('unchanged_rerun_s'), ' s')} "
            f"({ing.get('unchanged_rerun_embedded')} chunks embedded) |"
        )
        add(f"| ingestion peak RSS | {ing['peak_rss_mb']} MiB |")
        add(f"| index size on disk | {ing['index_mb']} MB |")
    if ret := r.get("retrieval"):
        add(
            f"| retrieval latency, {ret['n']} eval questions (e5 + BM25) | p50 {ret['p50_s']} s, p95 {ret['p95_s']} s |"
        )
        add(
            f"| of which query embedding / chroma / BM25 (p50) | {ret['query_embedding_s_p50']} / "
            f"{ret['dense_chroma_s_p50']} / {ret['bm25_s_p50']} s |"
        )
        add(
            f"| BM25 start-up (chunks out of chroma + build) | {ret['startup_fetch_chunks_s']} + "
            f"{ret['startup_bm25_build_s']} s |"
        )
        if ret.get("embedding_passages_per_s"):
            add(
                f"| e5 embedding speed ({EMBED_SAMPLE} chunks, in-process) / model load | "
                f"{ret['embedding_passages_per_s']} chunks/s / {ret['embedder_load_s']} s |"
            )
    if gen := r.get("local_generation"):
        add(f"| local model warm-up (load) | {gen['warm_up_s']} s |")
        add(f"| time to first token, p50 ({gen['n']} answers) | {cell(gen['first_token_s_p50'], ' s')} |")
        add(f"| generation speed, median | {cell(gen['tokens_per_s_median'], ' tokens/s')} |")
        add(f"| full answer, p50 | {cell(gen['total_s_p50'], ' s')} |")
        if ll := gen.get("llama_cpp"):
            add(
                f"| llama.cpp: prompt tokens p50 (cached) / prefill p50 / generation p50 | {ll['prompt_tokens_p50']} "
                f"({ll['cached_tokens_p50']}) / {cell(ll['prefill_tokens_per_s_p50'], ' tokens/s')} / "
                f"{cell(ll['generation_tokens_per_s_p50'], ' tokens/s')} |"
            )
            add(
                f"| first token p50 / p95, total p50 / p95 ({ll['n']} answers) | {cell(ll['first_token_s_p50'], ' s')} / "
                f"{cell(ll['first_token_s_p95'], ' s')}, {cell(ll['total_s_p50'], ' s')} / {cell(ll['total_s_p95'], ' s')} |"
            )
    for name, mem in (r.get("memory") or {}).items():
        if name.startswith("ask"):
            add(f"| peak RSS of `{mem['command']}` | {mem['peak_rss_mb']} MiB ({mem['wall_s_p50']} s) |")
        elif name == "serve":
            add(
                f"| peak RSS of `serve` (VmHWM, after {mem['searches']} searches + {mem['asks']} ask(s)) | "
                f"{mem['vmhwm_mb']} MiB (ready in {mem['ready_s']} s at {mem['vmhwm_mb_when_ready']} MiB) |"
            )
    if sc := r.get("scaling"):
        lines += [
            "",
            f"Scaling, corpus replicated with altered text; embedder {sc['embedder']}. "
            "e5 ingestion at 10x/50x is *extrapolated* unless marked measured.",
            "",
            "| corpus | files | chunks | ingest cold (hashing) | unchanged re-run | index | ingest peak RSS "
            "| BM25 start-up | retrieval p50 / p95 | chroma p50 | BM25 p50 | e5 ingest |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in sc["rows"]:
            i, q = row["ingest"], row["retrieval"]
            e5s = []
            if "ingest_e5_measured" in row:
                e5s.append(f"{row['ingest_e5_measured']['cold_s']} s (measured)")
            if "ingest_e5_formula_check" in row:
                e5s.append(f"formula gives ~{row['ingest_e5_formula_check']['cold_s']:.0f} s")
            if "ingest_e5_extrapolated" in row:
                e5s.append(f"~{row['ingest_e5_extrapolated']['cold_s']:.0f} s (extrapolated)")
            e5 = "; ".join(e5s) or "n/a"
            add(
                f"| {row['factor']}x ({row['corpus_mb']} MB) | {row['files']} | {i['chunks']} | {i['cold_s']} s "
                f"({i['chunks_per_s']} chunks/s) | {i.get('unchanged_rerun_s')} s | {i['index_mb']} MB "
                f"| {i['peak_rss_mb']} MiB | {round(q['startup_fetch_chunks_s'] + q['startup_bm25_build_s'], 3)} s "
                f"| {q['p50_s']} / {q['p95_s']} s | {q['dense_chroma_s_p50']} s | {q['bm25_s_p50']} s | {e5} |"
            )
    return "\n".join(lines) + "\n"


# ---- main --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Speed and memory benchmarks (benchmarks/README.md).")
    parser.add_argument("--questions", type=int, default=0, help="Eval questions for latency (default: all).")
    parser.add_argument("--generations", type=int, default=10, help="Local-model answers to time (0: skip).")
    parser.add_argument("--skip-ingest", action="store_true", help="No e5 ingestion; use the existing index/.")
    parser.add_argument("--ask-runs", type=int, default=1, help="`ask` child processes per generator (0: skip).")
    parser.add_argument("--serve-searches", type=int, default=5, help="Searches sent to `serve`.")
    parser.add_argument("--serve-asks", type=int, default=1, help="Questions asked through `serve` (-1: no serve).")
    parser.add_argument("--factors", default="1,10,50", help="Corpus sizes for scaling ('' to skip).")
    parser.add_argument("--scale-repeats", type=int, default=3, help="Cold hashing ingestions per size.")
    parser.add_argument("--largest-repeats", type=int, default=1, help="Cold ingestions at the largest size.")
    parser.add_argument("--real-10x", action="store_true", help="Also ingest the 10x corpus with e5 (10-15 min).")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()

    from assistant27.evaluation import load_set
    from assistant27.models import local_model_available

    load_start = os.getloadavg()
    results: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    items = load_set(REPO / "evals" / "publications.jsonl")
    questions = [str(i["question"]) for i in items][: args.questions or None]
    answerable = [str(i["question"]) for i in items if i.get("answer")]
    corpus = REPO / "corpus"
    steps: list[tuple[str, Callable[[], None]]] = []

    with tempfile.TemporaryDirectory(prefix="assistant27-bench-") as tmp:
        work = Path(tmp)
        index_dir = work / "e5" / "index" if not args.skip_ingest else REPO / "index"
        settings = settings_for(index_dir, corpus, "e5")
        child_env = env_for(index_dir, corpus, "e5", work / "data")
        have_local = local_model_available(settings.models_dir)

        def ingest() -> None:
            results["ingest"] = bench_ingest(corpus, work / "e5", "e5", 1, 3)

        def retrieval() -> None:
            results["retrieval"] = bench_retrieval(settings, questions)

        def generation() -> None:
            results["local_generation"] = bench_generation(settings, answerable, args.generations)

        def memory() -> None:
            mem: dict[str, Any] = {}
            for generator in ("local", "extractive") if have_local else ("extractive",):
                if args.ask_runs > 0:
                    got = bench_ask(child_env, generator, args.ask_runs)
                    mem[f"ask_{generator}"] = {"command": f"ask --json --generator {generator} QUESTION", **got}
            if args.serve_asks >= 0:
                generator = "local" if have_local else "extractive"
                mem["serve"] = bench_serve(child_env, generator, args.serve_searches, args.serve_asks, answerable)
            results["memory"] = mem

        def scaling() -> None:
            factors = [int(f) for f in args.factors.split(",") if f.strip()]
            real = None
            if "ingest" in results and "retrieval" in results:
                ret = results["retrieval"]
                real = {
                    **results["ingest"],
                    "retrieval_p50_s": ret["p50_s"],
                    "passages_per_s": ret["embedding_passages_per_s"],
                    "model_load_s": ret["embedder_load_s"],
                }
            results["scaling"] = bench_scaling(
                factors, work / "scale", questions, args.scale_repeats, args.largest_repeats, args.real_10x, real
            )

        if not args.skip_ingest:
            steps.append(("ingestion (e5, cold then unchanged)", ingest))
        steps.append(("retrieval latency", retrieval))
        if args.generations and have_local:
            steps.append(("local generation", generation))
        steps.append(("memory of ask and serve", memory))
        if args.factors.strip():
            steps.append(("scaling", scaling))
        for name, step in steps:
            log(name)
            started = time.perf_counter()
            step()
            log(f"{name}: {time.perf_counter() - started:.0f} s")

    load_end = os.getloadavg()
    results["load_average"] = {
        "start": [round(x, 2) for x in load_start],
        "end": [round(x, 2) for x in load_end],
        "note": load_note(load_start, load_end),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.date.today().isoformat()
    (args.out / f"{stamp}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = markdown(results)
    (args.out / f"{stamp}.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
