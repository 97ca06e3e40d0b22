"""The web app served by uvicorn on a free loopback port, in a thread, for HTTP and browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from conftest import build_assistant

from assistant27.config import Settings
from assistant27.generators import Generator
from assistant27.webapp import WebApp


def make_app(settings: Settings, generator: Generator) -> WebApp:
    """Ingest the settings' corpus with the hashing fake and wrap it in the web app."""
    return WebApp(build_assistant(settings, generator))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: WebApp, token: str | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields its base URL (ending with /)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app.asgi_app(token), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the app did not start"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)
