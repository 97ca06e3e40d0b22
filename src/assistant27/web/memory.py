"""The web app's memory bounds: bounded mappings of sessions' state, glibc malloc settings and trims."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """A thread-safe mapping of at most `limit` entries: setting one more drops the least recently set.

    `on_drop(key, value)` is called for each entry dropped that way (not for those taken out with `pop`).
    """

    def __init__(self, limit: int, on_drop: Callable[[K, V], None] | None = None) -> None:
        self.limit = max(1, limit)
        self.on_drop = on_drop
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            dropped = [self._items.popitem(last=False) for _ in range(len(self._items) - self.limit)]
        for old_key, old_value in dropped:
            if self.on_drop is not None:
                self.on_drop(old_key, old_value)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._items.pop(key, None)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class MemoryTrim:
    """Hands the memory the allocator keeps free back to the system, at most every `every` seconds, after a request.

    glibc keeps what the request threads freed (e5's activations, rendered pages) in per-thread arenas and
    seldom returns it: with e5 and 10 users at once, each round of 70 requests left 40-50 MB that `malloc_trim`
    gave back in 6-10 ms (benchmarks/README.md, memory). Nothing happens off glibc, or when `every` is 0.
    """

    def __init__(
        self,
        every: float,
        release: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every = every
        self.release = release if release is not None else _malloc_trim()
        self.clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def after_request(self) -> bool:
        """Trim when `every` seconds have passed since the last trim; True when it did."""
        if self.release is None or self.every <= 0:
            return False
        now = self.clock()
        with self._lock:
            if now - self._last < self.every:
                return False
            self._last = now
        self.release()
        return True


# glibc's mallopt parameters, and the values the web app sets unless the environment already chose them.
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8
MALLOC_SETTINGS = {"MALLOC_ARENA_MAX": (_M_ARENA_MAX, 1), "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, 64 * 1024)}


def tune_malloc() -> list[str]:
    """One malloc arena and a 64 KB mmap threshold for this process (glibc only); returns what was set.

    Call it first thing, before any thread allocates: `serve` does, before loading the models. glibc gives a
    thread its own arena on its first allocation (up to 8 per core), and a limit set later does not take back the
    arenas already made: torch's worker threads made 4 more while e5 embedded the corpus, before the app started.
    Freed pieces scattered in those arenas are what a trim cannot give back, and blocks above the mmap threshold
    (e5's activations, rendered pages) are mapped and unmapped whole instead (a fixed threshold: glibc otherwise
    raises it each time a large block is freed). Probe of 16 rounds of 70 requests, e5, through Gradio, a trim
    after each round, rounds 4-16 (benchmarks/README.md, memory probe, 2026-11-23): as before (2 arenas set after
    the models' threads had made 5, 128 KB), glibc kept 99-112 MB free, a trim gave back 24-31 MB and the RSS after
    it was 1,310-1,327 MB; 64 KB alone, 43-51 MB free and still rising, 1,293-1,316 MB, +1.2 MB a round; 1 arena
    alone, 131-170 MB free, 1,291-1,309 MB; both, from the start: 30-33 MB free, a trim gave back 2-4 MB, 1,284-1,301
    MB (slope -0.17 +- 0.35 MB a round), and rounds took no longer (10.9 s against 13.5 s, under other load). A
    setting already given in the environment is left as it is (glibc read it at start).
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return []
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    done = []
    for name, (param, value) in MALLOC_SETTINGS.items():
        if name not in os.environ and mallopt(param, value) == 1:
            done.append(f"{name}={value}")
    return done


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's `malloc_trim(0)`, or None where the C library has none (musl, macOS)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)
