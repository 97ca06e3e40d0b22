"""Memory probe of the web app: rounds of searches and chat turns in this process, RSS and what grew between rounds.

Usage: .venv/bin/python benchmarks/memory_probe.py [--via handlers|gradio] [--rounds 8] [--warm-up 2]
       [--searches 60] [--chats 10] [--users 10] [--new-sessions] [--embedder e5|hashing] [--no-trace] [--trim]

The app is the load test's (`load_test.make_webapp`: the corpus ingested into a temp index, a scripted generator,
here without its per-word delay). `--via handlers` calls the `WebApp` handlers directly (no Gradio); `--via gradio`
serves the real ASGI app (Gradio's queue and per-session state included) on a loopback port in this process and
drives it from a child process through `gradio_client`, so the clients' memory is not counted. After the warm-up
rounds, tracemalloc starts (unless --no-trace); after every round: a full garbage collection, then RSS (anonymous
and file-backed), glibc's malloc counters (mallinfo2: bytes in use, free bytes kept in the heap), the bytes
tracemalloc sees alive, the count of live objects by type, and a tracemalloc snapshot. Python objects that pile up
show in tracemalloc and the object counts; memory that native code (torch, chroma's Rust core, SQLite) keeps in
use shows in malloc's in-use bytes without tracemalloc moving; memory freed but kept by the allocator shows in
malloc's free bytes (`--trim` calls malloc_trim(0) after each round and records what it gave back). Each round
also splits the resident anonymous memory (after the trim, with --trim) by where it lives: glibc's main heap, its
other arenas, the rest (Python's own arenas, blocks mapped whole, thread stacks). MALLOC_* variables in the
environment replace the app's own malloc settings (`webapp.tune_malloc`), so a setting can be tried without a code
change: `MALLOC_ARENA_MAX=2 ... memory_probe.py ... --label NAME`.

Writes benchmarks/results/memory-LABEL-DATE.json and .md (LABEL: --label, default the --via mode).
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import gc
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import load_test  # benchmarks/ is this script's folder, so it is on sys.path

REPO = load_test.REPO
# What the probe measures, not how: its own frames and the client side are left out of the allocation sites.
_IGNORED = [
    tracemalloc.Filter(False, __file__),
    tracemalloc.Filter(False, tracemalloc.__file__),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
    tracemalloc.Filter(False, "<unknown>"),
]


# ---- what is measured after each round ---------------------------------------------------------------------------


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> Any | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        return libc
    except (OSError, AttributeError):  # not glibc, or glibc before 2.33
        return None


LIBC = _libc()
MB = 1024 * 1024


def process_memory() -> dict[str, float]:
    """RSS of this process split into anonymous (heap, arenas) and file-backed (mapped models, libraries), MB."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def malloc_counters() -> dict[str, float]:
    """glibc's totals over all arenas, MB: in use (uordblks + mmapped blocks), free but kept (fordblks), from the OS."""
    if LIBC is None:
        return {}
    info = LIBC.mallinfo2()
    return {
        "in_use": round((info.uordblks + info.hblkhd) / MB, 1),
        "free_kept": round(info.fordblks / MB, 1),
        "heap": round(info.arena / MB, 1),
        "mmapped": round(info.hblkhd / MB, 1),
    }


def malloc_trim() -> tuple[float, float]:
    """Give the allocator's free pages back to the OS; returns (RSS released in MB, milliseconds it took)."""
    before = process_memory()["VmRSS"]
    started = time.perf_counter()
    if LIBC is not None:
        LIBC.malloc_trim(0)
    took = (time.perf_counter() - started) * 1000
    return round(before - process_memory()["VmRSS"], 1), round(took, 1)


# glibc maps each arena but the main one as a heap aligned to HEAP_MAX_SIZE (64 MiB on 64-bit).
_ARENA_ALIGN = 64 * MB


def resident_by_kind() -> dict[str, float]:
    """Resident anonymous memory by where it lives (/proc/self/smaps), MB.

    `brk_heap`: glibc's main arena; `malloc_arenas`: its other arenas (mappings starting on a 64 MiB boundary);
    `other_anon`: the rest (Python's own 1 MiB arenas, blocks glibc mapped whole, thread stacks, native caches).
    A growth that stays in `other_anon` while the malloc counters stay flat is not glibc's heap.
    """
    kinds = {"brk_heap": 0, "malloc_arenas": 0, "other_anon": 0}
    kind = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and not head[0].endswith(":"):
            start = int(head[0].split("-")[0], 16)
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                kind = "brk_heap"
            elif not name:
                kind = "malloc_arenas" if start % _ARENA_ALIGN == 0 else "other_anon"
            else:
                kind = ""  # files, stacks of the main thread, vdso
        elif kind and head and head[0] == "Rss:":
            kinds[kind] += int(head[1])
    return {k: round(v / 1024, 1) for k, v in kinds.items()}


def object_counts() -> Counter[str]:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def growth_sites(new: tracemalloc.Snapshot, old: tracemalloc.Snapshot, top: int) -> list[dict[str, Any]]:
    """The allocation sites (by traceback) whose live size grew most from `old` to `new`."""
    out = []
    for stat in new.compare_to(old, "traceback")[:top]:
        if stat.size_diff <= 0:
            break
        frames = [f"{_short(f.filename)}:{f.lineno}" for f in reversed(stat.traceback)]  # most recent call first
        out.append(
            {
                "kb": round(stat.size_diff / 1024, 1),
                "blocks": stat.count_diff,
                "site": frames[0],
                "callers": frames[1:],
            }
        )
    return out


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# ---- the workload -------------------------------------------------------------------------------------------------


class HandlerDriver:
    """Rounds of requests as plain calls of the `WebApp` handlers (no Gradio)."""

    def __init__(self, app: Any, users: int, new_sessions: bool) -> None:
        self.app = app
        self.users = users
        self.new_sessions = new_sessions
        self.conversations = [app.start(None)[1] for _ in range(users)]

    def round(self, r: int, searches: int, chats: int) -> dict[str, int]:
        if self.new_sessions:  # every round, every user is a new visitor with a new conversation
            self.conversations = [self.app.start(None)[1] for _ in range(self.users)]
        errors = 0
        for i in range(searches):
            results, _status = self.app.search(load_test.SEARCHES[i % len(load_test.SEARCHES)], None, None, [], [])
            errors += "a27-passage" not in results
        for j in range(chats):
            n = j % self.users
            question = f"{load_test.QUESTIONS[j % len(load_test.QUESTIONS)]} (demande u{n}-r{r}-q{j})"
            steps = list(self.app.retrieve(question, self.conversations[n]))
            final = list(self.app.generate(steps[-1][4], self.conversations[n]))
            errors += f"(demande u{n}-r{r}-q{j})" not in str(final[-1][0])
        return {"errors": errors}

    def close(self) -> None:
        pass


class GradioDriver:
    """The real ASGI app served from this process; the requests come from a child process through gradio_client."""

    def __init__(self, app: Any, users: int, new_sessions: bool) -> None:
        import uvicorn

        port = load_test.free_port()
        config = uvicorn.Config(app.asgi_app(), host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.1)
        cmd = [sys.executable, __file__, "--drive", f"http://127.0.0.1:{port}/", "--users", str(users)]
        if new_sessions:
            cmd.append("--new-sessions")
        self.child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)

    def round(self, r: int, searches: int, chats: int) -> dict[str, int]:
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write(f"{r} {searches} {chats}\n")
        self.child.stdin.flush()
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError("the driver process ended")
        return dict(json.loads(line))

    def close(self) -> None:
        if self.child.stdin is not None:
            self.child.stdin.close()
        self.child.wait(60)
        self.server.should_exit = True
        self.thread.join(30)


def drive(url: str, users: int, new_sessions: bool) -> int:
    """Child process of --via gradio: one line on stdin per round (R SEARCHES CHATS), one JSON line back when done."""
    out = load_test.Results()
    clients: list[Any] = []
    for line in sys.stdin:
        r, searches, chats = (int(x) for x in line.split())
        if new_sessions or not clients:
            clients = [load_test.open_session(url, {}, n, out) for n in range(users)]
        before = len(out.errors)
        drive_round(clients, r, searches, chats, out)
        print(json.dumps({"errors": len(out.errors) - before, "error_samples": out.errors[before:][:3]}), flush=True)
    return 0


def drive_round(clients: list[Any], r: int, searches: int, chats: int, out: Any) -> None:
    """The round's requests, shuffled, sent by one thread per client at once (as the load test's users do)."""
    plan = [0.0] * searches + [1.0] * chats  # chat_share per request: 0 a search, 1 a chat turn
    random.Random(r).shuffle(plan)
    queue = list(enumerate(plan))
    lock = threading.Lock()

    def worker(n: int) -> None:
        while clients[n] is not None:
            with lock:
                if not queue:
                    return
                i, kind = queue.pop()
            load_test.one_request(clients[n], random.Random(i), f"u{n}-r{r}-q{i}", kind, out)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---- the run ------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--via", choices=("handlers", "gradio"), default="handlers")
    parser.add_argument("--rounds", type=int, default=8, help="measured rounds (after the warm-up)")
    parser.add_argument("--warm-up", type=int, default=2, help="rounds before the baseline (at least 1)")
    parser.add_argument("--searches", type=int, default=60, help="searches per round")
    parser.add_argument("--chats", type=int, default=10, help="chat turns per round (passages, then the answer)")
    parser.add_argument("--users", type=int, default=10, help="conversations (handlers) or client sessions (gradio)")
    parser.add_argument("--new-sessions", action="store_true", help="new visitors every round instead of the same")
    parser.add_argument("--embedder", choices=("hashing", "e5"), default="e5")
    parser.add_argument("--no-trace", action="store_true", help="RSS and malloc counters only (tracemalloc is slow)")
    parser.add_argument("--frames", type=int, default=6, help="tracemalloc frames kept per allocation")
    parser.add_argument("--top", type=int, default=12, help="allocation sites listed per comparison")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) after each round, RSS before and after")
    parser.add_argument("--label", help="results file name: memory-LABEL-DATE (default: the --via mode)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        return drive(args.drive, args.users, args.new_sessions)
    args.warm_up = max(1, args.warm_up)  # the baseline is taken after the last warm-up round

    load_start = os.getloadavg()
    state = Path(tempfile.mkdtemp(prefix="assistant27-memory-"))
    rows: list[dict[str, Any]] = []
    sites_last: list[dict[str, Any]] = []
    sites_all: list[dict[str, Any]] = []
    objects_all: list[tuple[str, int]] = []
    started = time.perf_counter()
    try:
        app = load_test.make_webapp(state, 0.0, args.embedder)
        driver: HandlerDriver | GradioDriver = (HandlerDriver if args.via == "handlers" else GradioDriver)(
            app, args.users, args.new_sessions
        )
        ready = process_memory()
        print(f"app ready: RSS {ready['VmRSS']} MB ({time.perf_counter() - started:.0f} s)", flush=True)
        baseline: tracemalloc.Snapshot | None = None
        previous: tracemalloc.Snapshot | None = None
        first_objects: Counter[str] | None = None
        for r in range(args.warm_up + args.rounds):
            t0 = time.perf_counter()
            result = driver.round(r, args.searches, args.chats)
            took = time.perf_counter() - t0
            gc.collect()
            if r < args.warm_up - 1:
                continue
            if r == args.warm_up - 1:  # the end of the warm-up: the baseline
                if not args.no_trace:
                    tracemalloc.start(args.frames)
                first_objects = object_counts()
                row = {"round": "warm-up", **process_memory(), "malloc": malloc_counters(), **resident_by_kind()}
                rows.append(row)
                print(_row_line(row), flush=True)
                if not args.no_trace:
                    baseline = previous = tracemalloc.take_snapshot().filter_traces(_IGNORED)
                continue
            row = {
                "round": r - args.warm_up + 1,
                "seconds": round(took, 1),
                "errors": result.get("errors", 0),
                "error_samples": result.get("error_samples", []),
                **process_memory(),
                "malloc": malloc_counters(),
                "objects": len(gc.get_objects()),
                "py_blocks": sys.getallocatedblocks(),  # Python's own allocations, counted without tracemalloc
            }
            if not args.no_trace:
                snapshot = tracemalloc.take_snapshot().filter_traces(_IGNORED)
                row["traced_mb"] = round(sum(s.size for s in snapshot.statistics("filename")) / MB, 2)
                assert previous is not None and baseline is not None
                sites_last = growth_sites(snapshot, previous, args.top)
                sites_all = growth_sites(snapshot, baseline, args.top)
                row["top_growth"] = sites_last[:3]
                previous = snapshot
            if args.trim:
                row["trimmed_mb"], row["trim_ms"] = malloc_trim()
                row["VmRSS_after_trim"] = process_memory()["VmRSS"]
            row.update(resident_by_kind())  # after the trim, when there is one: what a trim cannot give back
            rows.append(row)
            print(_row_line(row), flush=True)
            for site in row.get("top_growth", []):
                callers = ", ".join(site["callers"][:2])
                print(f"    +{site['kb']} KB ({site['blocks']:+d} blocks) {site['site']} <- {callers}")
        if first_objects is not None:
            grown = object_counts() - first_objects
            objects_all = grown.most_common(args.top)
        driver.close()
    finally:
        tracemalloc.stop()
        shutil.rmtree(state, ignore_errors=True)

    report: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in os.getloadavg()]},
        "command": "benchmarks/memory_probe.py " + " ".join(sys.argv[1:]),
        "via": args.via,
        "embedder": args.embedder,
        "rounds": args.rounds,
        "warm_up": args.warm_up,
        "per_round": {"searches": args.searches, "chats": args.chats, "users": args.users},
        "new_sessions": args.new_sessions,
        "traced": not args.no_trace,
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
        "rows": rows,
        "growth_sites_last_round": sites_last,
        "growth_sites_since_warm_up": sites_all,
        "object_types_grown_since_warm_up": objects_all,
    }
    report["summary"] = summary(rows)
    load_test.write_results(report, args.out, f"memory-{args.label or args.via}", markdown)
    return 0


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Growth per measured round over the whole run and over its second half (MB per round)."""
    measured = [r for r in rows if r["round"] != "warm-up"]
    if len(measured) < 2:
        return {}

    def rate(key: str, part: list[dict[str, Any]]) -> float | None:
        values = [_get(r, key) for r in part]
        if any(v is None for v in values) or len(part) < 2:
            return None
        return round((values[-1] - values[0]) / (len(part) - 1), 2)  # type: ignore[operator]

    half = measured[len(measured) // 2 - (len(measured) % 2 == 0) :]
    keys = ("VmRSS", "RssAnon", "malloc.in_use", "malloc.free_kept", "traced_mb", "VmRSS_after_trim")
    keys += ("brk_heap", "malloc_arenas", "other_anon")
    return {
        "mb_per_round_all": {k: rate(k, measured) for k in keys},
        "mb_per_round_second_half": {k: rate(k, half) for k in keys},
    }


def _get(row: dict[str, Any], key: str) -> float | None:
    if key.startswith("malloc."):
        return row.get("malloc", {}).get(key.split(".", 1)[1])
    return row.get(key)


def _row_line(row: dict[str, Any]) -> str:
    m = row.get("malloc", {})
    parts = [
        f"round {row['round']}:",
        f"RSS {row['VmRSS']} MB (anon {row.get('RssAnon')}, file {row.get('RssFile')})",
        f"malloc in use {m.get('in_use')} free kept {m.get('free_kept')}",
    ]
    if "traced_mb" in row:
        parts.append(f"traced {row['traced_mb']} MB")
    if "objects" in row:
        parts.append(f"objects {row['objects']} python blocks {row['py_blocks']}")
    if "trimmed_mb" in row:
        parts.append(f"trim gave back {row['trimmed_mb']} MB in {row['trim_ms']} ms -> {row['VmRSS_after_trim']}")
    if "other_anon" in row:
        parts.append(f"[heap {row['brk_heap']} arenas {row['malloc_arenas']} other anon {row['other_anon']}]")
    if row.get("errors"):
        parts.append(f"ERRORS {row['errors']} (first: {row['error_samples'][:1]})")
    if "seconds" in row:
        parts.append(f"({row['seconds']} s)")
    return " ".join(parts)


def markdown(r: dict[str, Any]) -> str:
    per = r["per_round"]
    lines = [
        f"# Memory probe {r['date']} ({r['machine']})",
        "",
        f"`{r['command']}`",
        "",
        f"Via {r['via']}, {r['embedder']} embedder; {r['warm_up']} warm-up rounds then {r['rounds']} measured, each "
        f"{per['searches']} searches and {per['chats']} chat turns over {per['users']} "
        + ("new sessions a round" if r["new_sessions"] else "sessions kept for the run")
        + f"; tracemalloc {'on' if r['traced'] else 'off'}; "
        + (" ".join(f"{k}={v}" for k, v in r.get("malloc_env", {}).items()) or "no MALLOC_* in the environment")
        + " (the app's own settings apply where the environment sets none: `webapp.tune_malloc`).",
        "",
        "| round | RSS MB | anon MB | file MB | malloc in use MB | malloc free kept MB | traced MB | objects "
        "| Python blocks | trim gave back MB | RSS after trim MB | brk heap MB | malloc arenas MB | other anon MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        m = row.get("malloc", {})
        lines.append(
            f"| {row['round']} | {row['VmRSS']} | {row.get('RssAnon', '')} | {row.get('RssFile', '')} | "
            f"{m.get('in_use', '')} | {m.get('free_kept', '')} | {row.get('traced_mb', '')} | "
            f"{row.get('objects', '')} | {row.get('py_blocks', '')} | {row.get('trimmed_mb', '')} | "
            f"{row.get('VmRSS_after_trim', '')} | {row.get('brk_heap', '')} | {row.get('malloc_arenas', '')} | "
            f"{row.get('other_anon', '')} |"
        )
    s = r["summary"]
    if s:
        lines += [
            "",
            "Growth per round (MB), all measured rounds: "
            + ", ".join(f"{k} {v:+}" for k, v in s["mb_per_round_all"].items() if v is not None),
            "",
            "Growth per round (MB), second half: "
            + ", ".join(f"{k} {v:+}" for k, v in s["mb_per_round_second_half"].items() if v is not None),
        ]
    for key, title in (
        ("growth_sites_since_warm_up", "Allocation sites grown most since the warm-up (tracemalloc)"),
        ("growth_sites_last_round", "Allocation sites grown most in the last round"),
    ):
        if r[key]:
            lines += ["", f"## {title}", "", "| KB | blocks | site | called from |", "|---|---|---|---|"]
            lines += [
                f"| {s['kb']} | {s['blocks']:+d} | `{s['site']}` | {' <- '.join(f'`{c}`' for c in s['callers'][:3])} |"
                for s in r[key]
            ]
    if r["object_types_grown_since_warm_up"]:
        lines += ["", "Live objects grown since the warm-up, by type: "]
        lines[-1] += ", ".join(f"{name} {n:+d}" for name, n in r["object_types_grown_since_warm_up"])
    la = r["load_average"]
    lines += ["", f"Load average at start {la['start']}, at end {la['end']} on {os.cpu_count()} cores."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
