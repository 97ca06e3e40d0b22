"""The web app's public names, where `assistant27 serve`, the tests and the benchmarks import them.

The web app lives in `assistant27.web`, one job a module: `app` (the Gradio page: layout and event wiring),
`render` (the HTML views), `auth` (the access token gate), `memory` (bounded state and malloc tuning). This module
only re-exports, so callers written against the single module it once was keep working unchanged.
"""

from __future__ import annotations

from assistant27.web.app import (
    DEFAULT_EXAMPLES,
    EXAMPLES_FILE,
    PENDING_TURNS,
    WaitBoard,
    WebApp,
    example_questions,
)
from assistant27.web.auth import LOGIN_PATH, TOKEN_COOKIE, TOKEN_ENV, TokenGate, is_loopback
from assistant27.web.memory import MemoryTrim, Recent, tune_malloc
from assistant27.web.render import (
    SHOWN_TURNS,
    confidence_label,
    highlight,
    render_chat,
    source_link,
    stems,
    wait_status,
)

__all__ = [
    "DEFAULT_EXAMPLES",
    "EXAMPLES_FILE",
    "LOGIN_PATH",
    "PENDING_TURNS",
    "SHOWN_TURNS",
    "TOKEN_COOKIE",
    "TOKEN_ENV",
    "MemoryTrim",
    "Recent",
    "TokenGate",
    "WaitBoard",
    "WebApp",
    "confidence_label",
    "example_questions",
    "highlight",
    "is_loopback",
    "render_chat",
    "source_link",
    "stems",
    "tune_malloc",
    "wait_status",
]
