"""A newcomer's first `make run`: a fresh clone, empty pip and model caches, timed until the page is served.

    python3 benchmarks/first_run.py [--ref BRANCH] [--port 7891] [--limit-s 1800] [--keep]

Clones this repository (the committed BRANCH, HEAD's branch by default) into a temporary folder, runs
`make run` there with pip's cache off (PIP_NO_CACHE_DIR=1) and XDG_CACHE_HOME in the temporary folder (so the
model cache, ~/.cache/assistant27 by default, starts empty), and polls the page until it answers 200. Prints
the time to each stage (install, models, index, serving) and the total; stops the server and deletes the
clone (3-4 GB) unless --keep. Packages that this machine keeps on disk for pip (its find-links and local
indexes) are used as on any machine of this kind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A line of `make run`'s output that opens each stage, in order.
STAGES = [
    ("install", "-m venv"),
    ("models", "assistant27 setup"),
    ("index", "assistant27 ingest"),
    ("serve", "assistant27 serve"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def page_served(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    current = subprocess.run(
        ["git", "-C", str(REPO), "branch", "--show-current"], capture_output=True, text=True, check=True
    ).stdout.strip()
    parser.add_argument("--ref", default=current or "main", help="the branch to clone (committed work only)")
    parser.add_argument("--port", type=int, default=0, help="the web app's port (default: a free one)")
    parser.add_argument("--limit-s", type=float, default=1800, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the clone and its caches")
    args = parser.parse_args()

    port = args.port or free_port()
    work = Path(tempfile.mkdtemp(prefix="assistant27-first-run-"))
    clone = work / "assistant27"
    subprocess.run(["git", "clone", "--quiet", "--branch", args.ref, str(REPO), str(clone)], check=True)
    env = dict(os.environ, PIP_NO_CACHE_DIR="1", XDG_CACHE_HOME=str(work / "cache"))
    for var in [v for v in env if v.startswith("ASSISTANT27_")]:
        del env[var]  # the defaults a newcomer gets
    log = (work / "make-run.log").open("w")
    start = time.monotonic()
    make = subprocess.Popen(
        ["make", "run", f"SERVE_ARGS=--port {port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so the server it starts stops with it
    )
    reached: dict[str, float] = {}

    def read() -> None:
        assert make.stdout is not None
        for line in make.stdout:
            log.write(line)
            for stage, marker in STAGES:
                if stage not in reached and marker in line:
                    reached[stage] = time.monotonic() - start

    threading.Thread(target=read, daemon=True).start()
    total = None
    try:
        while time.monotonic() - start < args.limit_s and make.poll() is None:
            if page_served(port):
                total = time.monotonic() - start
                break
            time.sleep(1)
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
        log.close()
    commit = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(
        f"fresh clone of {args.ref} ({commit.stdout.strip()}), pip cache off, empty model cache, {os.cpu_count()} cores"
    )
    previous = 0.0
    for stage, _marker in STAGES:
        if stage in reached:
            print(f"  {stage:8s} from {reached[stage]:6.0f} s")
            previous = reached[stage]
    if total is None:
        print(f"the page was not served (make exited {make.returncode}); the log: {work / 'make-run.log'}")
        return 1
    print(f"  page     at   {total:6.0f} s ({total / 60:.1f} min; serving took {total - previous:.0f} s)")
    if args.keep:
        print(f"kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
