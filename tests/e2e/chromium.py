"""Debian's Chromium as the browser tests and the screenshot script launch it (never Playwright's download)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this offline machine cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_browser() -> ModuleType:
    """Playwright's sync API, for a browser test module; a failure, not a skip, without it or Chromium: CI must
    not pass without its browser tests."""
    import pytest

    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("playwright is not installed: run make test (it installs it)", pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: apt-get install chromium (make test does)", pytrace=False)
    return sync_api
