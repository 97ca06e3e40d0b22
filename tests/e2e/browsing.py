"""What the browser tests share: the app served over a scripted generator with Chromium on it, and the page's
gestures (ask a question, wait until every question is answered)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from appserver import make_app, serving
from chromium import CHROMIUM, CHROMIUM_ARGS, require_browser

from assistant27.config import Settings
from assistant27.generators import GenerationRequest

sync_api = require_browser()

REPLY = "La Communauté urbaine de Dunkerque a participé au programme Nouveaux Accords [1]."
Q1 = "Qui a participé à Nouveaux Accords ?"


class Slow:
    """Replies word by word with a pause, so a second question can come while the first is written."""

    name = "slow-scripted"
    context_passages: int | None = None
    quotes_year_parts = False

    def __init__(self, reply: str, pause: float) -> None:
        self.reply, self.pause = reply, pause
        self.questions: list[str] = []

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        self.questions.append(request.question)
        for i, word in enumerate(self.reply.split(" ")):
            time.sleep(self.pause)
            yield ("" if i == 0 else " ") + word


@contextmanager
def served(settings: Settings, generator: Slow) -> Iterator[tuple[Any, Any, str]]:
    """The app over `generator`, served, and Chromium; yields a browser context, a page open on it, and the URL."""
    with serving(make_app(settings, generator)) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
        try:
            yield context, open_page(context, url), url
        finally:
            context.close()
            browser.close()


def open_page(context, url: str):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.set_default_timeout(20_000)
    sync_api.expect.set_options(timeout=20_000)
    page.goto(url)
    page.wait_for_function("() => localStorage.getItem('assistant27-browser') !== null")
    return page


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#a27-question textarea").fill(question)
    page.locator("#a27-send").click()


def answered(page, questions: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The chat shows these questions in this order, each followed by its answer (not waiting, not an error)."""
    expect = sync_api.expect
    turns = page.locator("#a27-chat .a27-turn")
    expect(turns).to_have_count(len(questions), timeout=30_000)
    expect(page.locator("#a27-chat .a27-streaming")).to_have_count(0, timeout=30_000)
    for turn, question in zip(turns.all(), questions, strict=True):
        expect(turn.locator(".a27-user")).to_have_text(question)
        expect(turn.locator(".a27-bot")).to_have_count(1)
        expect(turn.locator(".a27-error")).to_have_count(0)
