"""Load test of the web app: N simulated users, mixed search and chat, through Gradio's own client API.

Usage: .venv/bin/python benchmarks/load_test.py [--users 10] [--seconds 60] [--max-requests 5000] [--url URL]
       [--embedder hashing|e5] [--unique-words] [--name load] [--tag TAG] [--warm-up-min 3]

Without --url it starts the app in a child process on a free loopback port: the repo's corpus ingested into a
temp index with the hashing embedder (no model; `--embedder e5`: the real multilingual-e5-small, so every search
embeds its query with the model), and a scripted generator that writes a 24-word answer at
--word-delay seconds a word, one generation at a time, as the local model does. With --url it drives a running
`assistant27 serve` (loopback addresses only; --token if it has ASSISTANT27_WEB_TOKEN; --pid to sample its memory).
Bounded in time (--seconds, 600 for the soak of issue 5) and count (--max-requests). Writes
benchmarks/results/NAME-DATE.json and .md (NAME: --name, default `load`; NAME-DATE-TAG with --tag): requests
served, errors, latency percentiles per kind, whether every chat turn was stored exactly once (each user's
answered questions lined up with its conversation's stored turns), the server's memory
over the run with its trend (least-squares slope of each minute's lowest and mean sample after --warm-up-min
minutes; the lowest samples' slope over each half of those minutes, with a verdict on the second half: flat,
growing, unclear), the same for its anonymous memory alone (RssAnon), and the load average at start, each minute and
end (other work on the machine makes every figure slower). Keep --max-requests above what the run will send (about
150 a minute with e5 and 10 users), or the users stop early.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import html
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
SEARCHES = [
    "Nouveaux Accords contrat de ville",
    "laboratoire d'innovation publique",
    "programme forêts",
    "réglementation des achats publics",
    "La Transfo Régions",
    "design des politiques publiques",
    "partenaires 2024",
    "résidences dans les administrations",
]
QUESTIONS = [
    "Quelles collectivités ont participé à Nouveaux Accords ?",
    "Qu'est-ce que La Transfo ?",
    "Quels programmes La 27e Région a-t-elle menés en 2024 ?",
    "Qu'est-ce que La 27e Région ?",
]
REPLY = (
    "La 27e Région mène des programmes de recherche-action avec les collectivités territoriales, "
    "comme Nouveaux Accords et La Transfo, pour transformer les politiques publiques [1]."
)


# ---- the server under test (child process) ------------------------------------------------------------------


def make_webapp(state: Path, word_delay: float, embedder_name: str) -> Any:
    """The app under test: the corpus ingested into `state` (hashing or e5 embedder), a slow scripted generator.

    Sets the ASSISTANT27_* variables of this process to `state`; returns the `WebApp` (also used in-process by
    memory_probe.py).
    """
    os.environ.update(
        ASSISTANT27_CORPUS_DIR=str(REPO / "corpus"),
        ASSISTANT27_INDEX_DIR=str(state / "index"),
        ASSISTANT27_DATA_DIR=str(state / "data"),
        ASSISTANT27_EMBEDDER=embedder_name,
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        ANONYMIZED_TELEMETRY="False",
    )
    from assistant27.assistant import Assistant, make_embedder
    from assistant27.config import Settings
    from assistant27.generators import GenerationRequest
    from assistant27.indexing import ingest
    from assistant27.store import ChunkStore
    from assistant27.webapp import WebApp, tune_malloc

    tune_malloc()  # as `serve` does, before the models' threads make their malloc arenas

    class SlowScripted:
        """The local model's shape without the model: one fixed answer, word by word."""

        name = "slow-scripted"
        context_passages: int | None = None
        quotes_year_parts = False

        def generate(self, request: GenerationRequest) -> Iterator[str]:
            for i, word in enumerate(REPLY.split(" ")):
                if word_delay:
                    time.sleep(word_delay)
                yield ("" if i == 0 else " ") + word

    settings = Settings.from_env()
    store = ChunkStore.open(settings.index_dir, create=True)
    embedder = make_embedder(settings)
    ingest(settings, lambda: embedder, store, echo=lambda _l: None, show_progress=False)
    # The hashing fake's similarities are lower than e5's: loosen the dense refusal floor for it.
    if embedder_name == "hashing":
        settings = settings.replace(min_dense=0.2)
    assistant = Assistant(settings, store, embedder, SlowScripted())  # type: ignore[arg-type]
    assistant.warm_up()
    return WebApp(assistant)


def serve_fake(port: int, state: Path, word_delay: float, embedder_name: str) -> None:
    """Child process: ingest the corpus (hashing or e5 embedder), serve the app with a slow scripted generator."""
    import uvicorn

    app = make_webapp(state, word_delay, embedder_name)
    uvicorn.run(app.asgi_app(), host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """Resident memory of a process and its children (Linux /proc), in MB: all of it (VmRSS), or one part of it
    (RssAnon: heap, arenas, Python's objects, what a leak grows; RssFile: the mapped model and libraries, whose
    pages the kernel may drop and read again)."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            if p == pid:
                return None
    return round(total, 1)


# ---- the simulated users -------------------------------------------------------------------------------------


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    search_s: list[float] = field(default_factory=list)
    passages_s: list[float] = field(default_factory=list)
    chat_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    browsers: dict[int, str] = field(default_factory=dict)  # user -> its browser id (one conversation each)
    chats_sent: dict[int, list[str]] = field(default_factory=dict)  # user -> its chat questions, in order
    chats_answered: dict[int, list[str]] = field(default_factory=dict)  # user -> those its page showed answered
    requests: int = 0

    def take(self, limit: int) -> bool:
        """Count one more request, or say the budget is spent."""
        with self.lock:
            if self.requests >= limit:
                return False
            self.requests += 1
            return True


def answered_on_page(chat: str, question: str) -> bool:
    """Whether the page's last exchange is `question` with an answer (not an error, not still pending)."""
    last = chat.rsplit("<div class='a27-msg a27-user'>", 1)
    if len(last) < 2 or not last[1].startswith(html.escape(question) + "</div>"):
        return False
    return "a27-bot" in last[1] and "a27-error" not in last[1] and "a27-streaming" not in last[1]


def one_request(
    client: Any, rng: random.Random, n: int, i: int, chat_share: float, unique_words: bool, out: Results
) -> None:
    """User `n`'s request `i`: one search, or one chat turn (passages, then the answer); records its time or error.

    A chat question comes from QUESTIONS, as real users repeat a few questions; with `unique_words` it also
    carries a tag no other question has (`(demande u3-q17)`), new words for every cache keyed by word.
    """
    try:
        if rng.random() < chat_share:
            question = rng.choice(QUESTIONS) + (f" (demande u{n}-q{i})" if unique_words else "")
            with out.lock:
                out.chats_sent.setdefault(n, []).append(question)
            started = time.perf_counter()
            first = client.predict(question, api_name="/retrieve")
            passages = time.perf_counter() - started
            assert "a27-passage" in str(first[1]), "no passages before the answer"
            final = client.predict(api_name="/generate")
            total = time.perf_counter() - started
            if not answered_on_page(str(final[0]), question):
                raise RuntimeError(f"chat u{n}-q{i}: answer missing from the page")
            with out.lock:
                out.passages_s.append(passages)
                out.chat_s.append(total)
                out.chats_answered.setdefault(n, []).append(question)
        else:
            started = time.perf_counter()
            results, status = client.predict(rng.choice(SEARCHES), None, None, [], [], api_name="/search_page")
            took = time.perf_counter() - started
            if "a27-passage" not in str(results):
                raise RuntimeError(f"search: no results ({status})")
            with out.lock:
                out.search_s.append(took)
    except Exception as exc:  # noqa: BLE001 - a load test records every failure and goes on
        with out.lock:
            out.errors.append(f"u{n}-q{i}: {type(exc).__name__}: {exc}"[:300])


def open_session(url: str, headers: dict[str, str], n: int, out: Results) -> Any | None:
    """A Gradio client with its own session, its conversation opened as a page load does (None on failure)."""
    from gradio_client import Client

    try:
        client = Client(url, headers=headers, verbose=False)
        started = client.predict(None, api_name="/start")  # (browser id, chat, export): the conversation is state
        with out.lock:
            out.browsers[n] = str(started[0])
        return client
    except Exception as exc:  # noqa: BLE001
        with out.lock:
            out.errors.append(f"user {n} start: {type(exc).__name__}: {exc}"[:300])
        return None


def user(
    url: str,
    headers: dict[str, str],
    n: int,
    deadline: float,
    limit: int,
    chat_share: float,
    unique_words: bool,
    out: Results,
) -> None:
    rng = random.Random(n)
    client = open_session(url, headers, n, out)
    i = 0
    while client is not None and time.time() < deadline and out.take(limit):
        i += 1
        one_request(client, rng, n, i, chat_share, unique_words, out)


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (minute, MB) points, in MB a minute (None under 3 points)."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return round(sum((x - mx) * (y - my) for x, y in points) / sxx, 3) if sxx else None


def slope_and_error(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares slope of (minute, MB) points and its standard error, MB a minute (None under 4 points)."""
    n = len(points)
    if n < 4:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if not sxx:
        return None
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    residuals = sum((y - my - slope * (x - mx)) ** 2 for x, y in points)
    return round(slope, 3), round((residuals / (n - 2) / sxx) ** 0.5, 3)


# A slope under this, in MB a minute, counts as flat: 15 MB an hour, about 1 % of the e5 app's RSS.
FLAT_MB_PER_MIN = 0.25
MIN_HALF_MINUTES = 5  # fewer whole minutes in a half than this: too short to tell


def plateau(lowest: list[tuple[float, float]]) -> dict[str, Any]:
    """The slope of each minute's lowest sample over the first and the second half of the minutes after warm-up.

    Memory that levels off after a slow climb shows as a first half that rises and a second half that does not.
    The verdict reads the second half only, with its slope's interval of 2 standard errors: `growing` when the
    interval lies above zero (a rise, however slow, stands out of the noise), `flat` when it reaches zero or
    below and the slope is at most FLAT_MB_PER_MIN, `unclear` otherwise (a slope too noisy to call),
    `too short` when a half has fewer than MIN_HALF_MINUTES minutes.
    """
    half = len(lowest) // 2
    parts = {"first_half": lowest[:half], "second_half": lowest[half:]}
    out: dict[str, Any] = {"flat_mb_per_min": FLAT_MB_PER_MIN}
    for key, points in parts.items():
        fit = slope_and_error(points)
        out[key] = {
            "minutes": [int(points[0][0]), int(points[-1][0])] if points else [],
            "slope_mb_per_min": fit[0] if fit else None,
            "stderr_mb_per_min": fit[1] if fit else None,
            "from_mb": points[0][1] if points else None,
            "to_mb": points[-1][1] if points else None,
        }
    second, error = out["second_half"]["slope_mb_per_min"], out["second_half"]["stderr_mb_per_min"]
    if half < MIN_HALF_MINUTES or second is None:
        out["verdict"] = "too short"
    elif second - 2 * error > 0:
        out["verdict"] = "growing"
    else:
        out["verdict"] = "flat" if second <= FLAT_MB_PER_MIN else "unclear"
    return out


def rss_trend(samples: list[tuple[float, float]], warm_up_min: int) -> dict[str, Any]:
    """The RSS trend after `warm_up_min` minutes, over whole minutes only (the last, partial one is left out).

    Each minute's lowest sample (the app trims its memory at most once a minute, so it is the level right after a
    trim) and mean sample, and the least-squares slope of each in MB a minute; also the slope of every 2 s sample,
    and `plateau`: the lowest samples' slope over each half of those minutes, with a verdict on the second half.
    """
    by_minute: dict[int, list[float]] = {}
    for t, mb in samples:
        by_minute.setdefault(int(t // 60), []).append(mb)
    whole = int(samples[-1][0] // 60) if samples else 0  # minutes 0 .. whole-1 are complete
    minutes = [m for m in sorted(by_minute) if warm_up_min <= m < whole]
    lowest = [(float(m), min(by_minute[m])) for m in minutes]
    mean = [(float(m), round(sum(by_minute[m]) / len(by_minute[m]), 1)) for m in minutes]
    every = [(t / 60, mb) for t, mb in samples if warm_up_min * 60 <= t < whole * 60]
    return {
        "warm_up_min": warm_up_min,
        "minutes": minutes,
        "lowest_mb": [y for _, y in lowest],
        "mean_mb": [y for _, y in mean],
        "slope_lowest_mb_per_min": slope_per_minute(lowest),
        "slope_mean_mb_per_min": slope_per_minute(mean),
        "slope_all_samples_mb_per_min": slope_per_minute(every),
        "plateau": plateau(lowest),
    }


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"n": len(values), "p50_s": at(0.5), "p95_s": at(0.95), "max_s": round(ordered[-1], 3)}


def stored_turns(data_dir: Path) -> dict[str, list[str]]:
    """The questions stored for each browser, in the order they were stored."""
    db = sqlite3.connect(data_dir / "conversations.sqlite3")
    try:
        stored: dict[str, list[str]] = {}
        rows = db.execute(
            "SELECT c.browser, t.answer FROM turns t JOIN conversations c ON c.id = t.conversation ORDER BY t.id"
        )
        for browser, answer in rows:
            stored.setdefault(browser, []).append(json.loads(answer).get("question", ""))
        return stored
    finally:
        db.close()


def chat_integrity(out: Results, stored: dict[str, list[str]] | None) -> dict[str, Any]:
    """Whether every chat turn a page showed answered was stored exactly once, for its browser, in order.

    Each user's answered questions are lined up with those stored for its browser (difflib): a turn answered
    but not stored is lost; a stored turn no answer matches is extra (a turn stored twice, or one the page
    never showed).
    """
    answered = sum(len(q) for q in out.chats_answered.values())
    integrity: dict[str, Any] = {"chats_sent": sum(len(q) for q in out.chats_sent.values()), "chats_answered": answered}
    if stored is None:
        return integrity
    once, lost, extra = 0, [], []
    for n, browser in sorted(out.browsers.items()):
        mine, kept = out.chats_answered.get(n, []), stored.get(browser, [])
        for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, mine, kept, autojunk=False).get_opcodes():
            if op == "equal":
                once += a2 - a1
            lost += [f"u{n} turn {k + 1}: {mine[k]}" for k in range(a1, a2) if op in ("delete", "replace")]
            extra += [f"u{n} stored {k + 1}: {kept[k]}" for k in range(b1, b2) if op in ("insert", "replace")]
    integrity.update(stored_exactly_once=once, stored_twice=extra, lost=lost)
    return integrity


# ---- the run ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long users send requests (600: the soak)")
    parser.add_argument("--max-requests", type=int, default=5000, help="stop after this many requests in all")
    parser.add_argument("--chat-share", type=float, default=0.3, help="share of requests that are chat turns")
    parser.add_argument(
        "--unique-words",
        action="store_true",
        help="tag each chat question with words no other has (grows every per-word cache: PyStemmer's, the tokenizer's)",
    )
    parser.add_argument("--word-delay", type=float, default=0.05, help="scripted generator: seconds per word")
    parser.add_argument(
        "--embedder", choices=("hashing", "e5"), default="hashing", help="the child app's embedder (e5: the real model)"
    )
    parser.add_argument("--name", default="load", help="results file name prefix: NAME-DATE.json/.md")
    parser.add_argument("--tag", help="results file name suffix: NAME-DATE-TAG.json/.md (keeps earlier runs)")
    parser.add_argument("--warm-up-min", type=int, default=3, help="minutes left out of the RSS slope")
    parser.add_argument("--url", help="a running app (loopback only) instead of starting one")
    parser.add_argument("--token", default=os.environ.get("ASSISTANT27_WEB_TOKEN"), help="its ASSISTANT27_WEB_TOKEN")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, to sample its memory")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--serve-fake", nargs=4, metavar=("PORT", "STATE", "DELAY", "EMB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        a = args.serve_fake
        serve_fake(int(a[0]), Path(a[1]), float(a[2]), a[3])
        return 0
    load_start = os.getloadavg()

    state = Path(tempfile.mkdtemp(prefix="assistant27-load-"))
    child: subprocess.Popen[bytes] | None = None
    pid = args.pid
    if args.url:
        host = urlparse(args.url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"Error: {args.url} is not a loopback address. This load test only drives this machine.")
            return 2
        url = args.url.rstrip("/") + "/"
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        cmd = [sys.executable, __file__, "--serve-fake", str(port), str(state), str(args.word_delay), args.embedder]
        child = subprocess.Popen(cmd, cwd=REPO)
        pid = child.pid
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        import httpx

        deadline = time.time() + (900 if args.embedder == "e5" else 180)  # e5 embeds the corpus first
        while True:
            try:
                if httpx.get(url + "gradio_api/info", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or (child is not None and child.poll() is not None):
                print("Error: the app did not start")
                return 1
            time.sleep(0.5)

        memory: list[tuple[float, float]] = []
        anonymous: list[tuple[float, float]] = []  # RssAnon alone: the file-backed pages come and go with the cache
        loads: list[tuple[float, float]] = []  # (seconds, 1-minute load average), once a minute
        out = Results()
        started = time.time()
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set() and pid:
                now = time.time() - started
                value = rss_mb(pid)
                anon = rss_mb(pid, "RssAnon")
                if value is not None and anon is not None:
                    memory.append((round(now, 1), value))
                    anonymous.append((round(now, 1), anon))
                if not loads or now - loads[-1][0] >= 60:
                    loads.append((round(now, 1), round(os.getloadavg()[0], 2)))
                stop.wait(2.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        users = [
            threading.Thread(
                target=user,
                args=(
                    url,
                    headers,
                    n,
                    started + args.seconds,
                    args.max_requests,
                    args.chat_share,
                    args.unique_words,
                    out,
                ),
            )
            for n in range(args.users)
        ]
        for t in users:
            t.start()
        for t in users:
            t.join(args.seconds + 300)  # the last chats may wait for the generations queued before them
        elapsed = time.time() - started
        stop.set()
        sampler.join(5)
        stored = stored_turns(state / "data") if child is not None else None
    finally:
        if child is not None:
            child.terminate()
            child.wait(20)
        shutil.rmtree(state, ignore_errors=True)

    integrity = chat_integrity(out, stored)
    rss = [m for _, m in memory]
    report: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "setup": f"child process, {args.embedder} embedder, scripted generator" if child else f"running app at {url}",
        "load_average": {
            "start": [round(x, 2) for x in load_start],
            "end": [round(x, 2) for x in os.getloadavg()],
            "each_minute_1min": loads,
        },
        "users": args.users,
        "seconds": args.seconds,
        "elapsed_s": round(elapsed, 1),
        "chat_share": args.chat_share,
        "unique_words": args.unique_words,
        "word_delay_s": args.word_delay if child else None,
        "requests": out.requests,
        "served": len(out.search_s) + len(out.chat_s),
        "errors": len(out.errors),
        "error_samples": out.errors[:10],
        "search": percentiles(out.search_s),
        "chat_time_to_passages": percentiles(out.passages_s),
        "chat_total": percentiles(out.chat_s),
        "integrity": integrity,
        "rss_mb": {
            "start": rss[0] if rss else None,
            "peak": max(rss) if rss else None,
            "end": rss[-1] if rss else None,
            "trend": rss_trend(memory, args.warm_up_min),
            "samples": memory,
        },
        "anon_mb": {"trend": rss_trend(anonymous, args.warm_up_min), "samples": anonymous},
        "target_search_p95_below_1s": (out.search_s != [] and percentiles(out.search_s)["p95_s"] < 1.0),  # type: ignore[operator]
    }
    write_results(report, args.out, args.name, markdown, args.tag)
    return 0 if not out.errors and not integrity.get("lost") and not integrity.get("stored_twice") else 1


def write_results(
    report: dict[str, Any],
    out: Path,
    name: str,
    to_markdown: Callable[[dict[str, Any]], str],
    tag: str | None = None,
) -> None:
    """Write OUT/NAME-DATE[-TAG].json and .md (a second run the same day replaces them) and print the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{name}-{dt.date.today().isoformat()}{'-' + tag if tag else ''}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(to_markdown(report), encoding="utf-8")
    print(to_markdown(report))
    print(f"written: {stem}.json, {stem}.md")


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# Load test {r['date']} ({r['machine']})",
        "",
        f"{r['users']} users for {r['seconds']:.0f} s ({r['elapsed_s']} s with the last queued chats), "
        f"{r['chat_share']:.0%} chat turns"
        + (", each chat question tagged with words of its own" if r.get("unique_words") else ", questions repeated")
        + f"; {r['setup']}"
        + (f", {r['word_delay_s']} s a word (about 1.2 s a generation, one at a time)." if r["word_delay_s"] else "."),
        "",
        "| measure | n | p50 | p95 | max |",
        "|---|---|---|---|---|",
    ]
    for key, label in (
        ("search", "search"),
        ("chat_time_to_passages", "chat: passages shown"),
        ("chat_total", "chat: answer complete"),
    ):
        v = r[key]
        lines.append(f"| {label} | {v['n']} | {v['p50_s']} s | {v['p95_s']} s | {v['max_s']} s |")
    m = r["rss_mb"]
    la = r.get("load_average") or {"start": [0.0], "end": [0.0]}
    lines += [
        "",
        f"Requests: {r['requests']} sent, {r['served']} served, {r['errors']} errors.",
        f"Chat integrity: {json.dumps(r['integrity'])}",
        f"Server memory (RSS): start {m['start']} MB, peak {m['peak']} MB, end {m['end']} MB.",
        *_memory_by_minute(m["samples"]),
        *_trend_lines(m.get("trend")),
        *_trend_lines(r.get("anon_mb", {}).get("trend"), "Anonymous memory (RssAnon: no mapped files)"),
        *_load_lines(la.get("each_minute_1min")),
        f"Load average (1, 5, 15 min) at start {la['start']}, at end {la['end']} on {os.cpu_count()} cores"
        + (
            ": HIGH LOAD, other work shared the CPU."
            if max(la["start"][0], la["end"][0]) > 0.75 * (os.cpu_count() or 1)
            else "."
        ),
        f"Target search p95 < 1 s with {r['users']} users: {'met' if r['target_search_p95_below_1s'] else 'NOT met'}.",
    ]
    if r["error_samples"]:
        lines += ["", "Errors (first 10):", ""] + [f"- {e}" for e in r["error_samples"]]
    return "\n".join(lines) + "\n"


def _trend_lines(trend: dict[str, Any] | None, what: str = "RSS") -> list[str]:
    if not trend or trend["slope_lowest_mb_per_min"] is None:
        return []
    first, last = trend["minutes"][0], trend["minutes"][-1]
    return [
        "",
        f"{what} trend over minutes {first}-{last} (after {trend['warm_up_min']} minutes of warm-up; least-squares "
        f"slope): lowest sample of each minute {trend['slope_lowest_mb_per_min']:+.2f} MB/min "
        f"({trend['lowest_mb'][0]:.0f} -> {trend['lowest_mb'][-1]:.0f} MB), mean of each minute "
        f"{trend['slope_mean_mb_per_min']:+.2f} MB/min ({trend['mean_mb'][0]:.0f} -> {trend['mean_mb'][-1]:.0f} MB), "
        f"every 2 s sample {trend['slope_all_samples_mb_per_min']:+.2f} MB/min.",
        *_plateau_lines(trend.get("plateau")),
        "",
    ]


def _plateau_lines(p: dict[str, Any] | None) -> list[str]:
    if not p or p["second_half"]["slope_mb_per_min"] is None:
        return []
    halves = []
    for key, label in (("first_half", "first half"), ("second_half", "second half")):
        h = p[key]
        if h["slope_mb_per_min"] is None:
            continue
        halves.append(
            f"{label} (minutes {h['minutes'][0]}-{h['minutes'][1]}) {h['slope_mb_per_min']:+.2f} "
            f"± {2 * h['stderr_mb_per_min']:.2f} MB/min ({h['from_mb']:.0f} -> {h['to_mb']:.0f} MB)"
        )
    verdict = {
        "flat": f"FLAT: no rise stands out of the noise in the second half, and its slope is at most "
        f"{p['flat_mb_per_min']} MB/min",
        "growing": "STILL GROWING: the second half's rise stands out of the noise (its interval lies above zero)",
        "unclear": f"UNCLEAR: the second half's slope is above {p['flat_mb_per_min']} MB/min but within its noise",
        "too short": "too short to tell a plateau",
    }[p["verdict"]]
    return [
        "",
        "Plateau (lowest sample of each minute; slope ± 2 standard errors): " + "; ".join(halves) + f". {verdict}.",
    ]


def _load_lines(loads: list[tuple[float, float]] | None) -> list[str]:
    if not loads:
        return []
    return ["1-minute load average each minute: " + ", ".join(f"{t / 60:.0f} min {v}" for t, v in loads) + "."]


def _memory_by_minute(samples: list[tuple[float, float]]) -> list[str]:
    """The RSS at each whole minute of a long run, then each minute's lowest and mean sample (growth shows here).

    The app trims its memory at most once a minute (`MemoryTrim`), so one sample a minute lands anywhere on that
    saw-tooth; the lowest and the mean of a minute's samples (one every 2 s) follow the trend better.
    """
    if not samples or samples[-1][0] < 120:
        return []
    marks, minute = [], 0
    for t, mb in samples:
        if t >= minute * 60:
            marks.append(f"{minute} min {mb:.0f}")
            minute += 1
    by_minute: dict[int, list[float]] = {}
    for t, mb in samples:
        by_minute.setdefault(int(t // 60), []).append(mb)
    spans = [f"{m} min {min(v):.0f} / {sum(v) / len(v):.0f}" for m, v in sorted(by_minute.items())]
    return [
        "RSS by minute (MB): " + ", ".join(marks) + ".",
        "",
        "RSS per minute, lowest / mean of its samples (MB): " + ", ".join(spans) + ".",
    ]


if __name__ == "__main__":
    sys.exit(main())
