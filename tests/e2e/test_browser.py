"""The web app in a real headless browser: Playwright driving Debian's Chromium against the app on localhost.

`make test` installs Chromium (apt-get) and Playwright's Python package; Playwright's own browser download is
never used. Without them these tests fail, saying how to install them (make test does).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS, require_browser
from click.testing import CliRunner
from conftest import CountingEmbedder

from assistant27.assistant import Assistant
from assistant27.cli import main
from assistant27.config import Settings
from assistant27.generators import GenerationRequest
from assistant27.indexing import ingest
from assistant27.store import ChunkStore
from assistant27.webapp import WebApp

REPLY = "La Communauté urbaine de Dunkerque a participé au programme Nouveaux Accords [1]."

pytestmark = pytest.mark.slow  # a real browser: seconds a test (make test runs them, make test-fast does not)
sync_api = require_browser()


class SlowGenerator:
    """Replies word by word with a pause, so the browser can see the answer being written."""

    name = "slow-scripted"
    context_passages: int | None = None
    quotes_year_parts = False

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        for i, word in enumerate(REPLY.split(" ")):
            time.sleep(0.08)
            yield ("" if i == 0 else " ") + word


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    import uvicorn

    store = ChunkStore.open(settings.index_dir, create=True)
    embedder = CountingEmbedder()
    ingest(settings, lambda: embedder, store, echo=lambda _l: None, show_progress=False)
    # The hashing fake's similarities are lower than e5's: loosen the dense refusal floor for it.
    app = WebApp(Assistant(settings.replace(min_dense=0.2), store, embedder, SlowGenerator()))  # type: ignore[arg-type]
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app.asgi_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not uv.started and time.time() < deadline:
        time.sleep(0.05)
    assert uv.started, "the app did not start"
    yield f"http://127.0.0.1:{port}/"
    uv.should_exit = True
    thread.join(10)


@pytest.fixture
def page(server: str) -> Iterator[object]:
    """A page that refuses, and records, every request that would leave the machine."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
        outside: list[str] = []

        def guard(route) -> None:  # type: ignore[no-untyped-def]
            host = urlparse(route.request.url).hostname
            if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.set_default_timeout(20_000)
        sync_api.expect.set_options(timeout=20_000)
        page.outside_requests = outside  # type: ignore[attr-defined]
        page.goto(server)
        # Loaded: the app has given this browser its id (kept in local storage) and opened its conversation.
        page.wait_for_function("() => localStorage.getItem('assistant27-browser') !== null")
        yield page
        context.close()
        browser.close()


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#a27-question textarea").fill(question)
    page.locator("#a27-send").click()


def test_chat_streams_cites_persists_and_takes_feedback(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    expect(page.locator("#a27-examples button").first).to_be_visible()
    _ask(page, "Qui a participé à Nouveaux Accords ?")

    # Passages first, then the answer being written, then the finished answer with its citation.
    expect(page.locator("#a27-passages .a27-passage").first).to_be_visible()
    streaming = page.locator(".a27-streaming")
    expect(streaming).to_contain_text("Communauté")
    partial = streaming.inner_text()
    assert partial and "Nouveaux Accords [1]" not in partial
    cite = page.locator("#a27-chat .a27-cite").first
    expect(cite).to_be_visible()
    expect(page.locator("#a27-status")).to_contain_text("Réponse en")
    expect(page.locator("#a27-examples")).to_be_hidden()

    # A citation opens its passage: publication, year, the quote with the answer's words marked, the file.
    cite.click()
    passage = page.locator("details.a27-citation[open]")
    expect(passage).to_contain_text("Rapport d'activité 2022")
    expect(passage.locator("mark").first).to_be_visible()
    link = passage.locator("a.a27-source")
    assert (link.get_attribute("href") or "").startswith("/read/rapport-2022.txt?passage=")
    source = page.request.get(page.url.rstrip("/") + "/source/rapport-2022.txt")
    assert source.ok and "Dunkerque" in source.text()
    assert page.request.get(page.url.rstrip("/") + "/source/catalogue.csv").status == 404

    # The conversation survives a reload.
    page.reload()
    expect(page.locator("#a27-chat .a27-user")).to_contain_text("Nouveaux Accords")
    expect(page.locator("#a27-chat .a27-cite").first).to_be_visible()

    # Thumbs down with a comment, then found in the feedback export.
    page.locator(".a27-fb[data-rating='down']").first.click()
    expect(page.locator(".a27-fb.a27-on[data-rating='down']")).to_be_visible()
    page.locator("#a27-comment textarea").fill("Il manque Vitry-le-François.")
    page.locator("#a27-comment-send").click()
    expect(page.locator("#a27-chat")).to_contain_text("Il manque Vitry-le-François.")
    out = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [item] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert item["question"] == "Qui a participé à Nouveaux Accords ?"
    assert (item["feedback"], item["comment"], item["source"]) == (
        "down",
        "Il manque Vitry-le-François.",
        "rapport-2022.txt",
    )

    # A new conversation starts empty, with the examples back.
    page.locator("#a27-new").click()
    expect(page.locator("#a27-examples button").first).to_be_visible()
    expect(page.locator("#a27-chat .a27-user")).to_have_count(0)
    assert page.outside_requests == []


def test_filtered_search_and_publications(page) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    page.get_by_role("tab", name="Recherche").click()
    page.locator("#a27-year-min input").click()
    page.get_by_role("option", name="2025").click()
    page.locator("#a27-q textarea").fill("programme forêts")
    started = time.perf_counter()
    page.locator("#a27-search").click()
    results = page.locator("#a27-results .a27-passage")
    expect(results.first).to_be_visible()
    elapsed = time.perf_counter() - started
    assert elapsed < 3, f"search took {elapsed:.2f} s in the browser"
    metas = page.locator("#a27-results .a27-meta").all_inner_texts()
    assert metas and all("2025" in m for m in metas)
    expect(results.first.locator("mark").first).to_be_visible()
    expect(page.locator("#a27-search-status")).to_contain_text("passage")

    page.get_by_role("tab", name="Publications").click()
    table = page.locator("#a27-publications")
    expect(table).to_contain_text("rapport-2022.txt")
    expect(table).to_contain_text("Rapport d'activité 2025")
    assert page.outside_requests == []


def test_programmes_page_and_a_list_question(page) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    # A list question is answered from the catalogue: each item cited, no generation.
    _ask(page, "Quels partenaires pour Nouveaux Accords ?")
    expect(page.locator("#a27-status")).to_contain_text("Réponse en")
    answer = page.locator("#a27-chat .a27-bot").last
    expect(answer).to_contain_text("Communauté urbaine de Dunkerque")
    assert answer.locator(".a27-cite").count() >= 2

    page.get_by_role("tab", name="Programmes").click()
    table = page.locator("#a27-programmes")
    expect(table).to_contain_text("La Transfo")
    page.locator("#a27-prog-partner textarea").fill("Dunkerque")
    page.locator("#a27-prog-filter").click()
    expect(table).not_to_contain_text("La Transfo")
    expect(table).to_contain_text("Nouveaux Accords")
    page.locator("#a27-prog-name input").click()
    page.get_by_role("option", name="Nouveaux Accords").click()
    step = page.locator("#a27-programme .a27-step").first
    expect(step).to_contain_text("2022")
    assert step.locator("a.a27-source").get_attribute("href") == "/read/rapport-2022.txt"
    assert page.outside_requests == []
