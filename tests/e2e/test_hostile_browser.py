"""Hostile corpus text in a real browser: no script from the corpus or the answer runs; the token gate's login page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from appserver import make_app, serving
from chromium import CHROMIUM, CHROMIUM_ARGS, require_browser
from conftest import DATA, SMALL_CATALOGUE, write_corpus

from assistant27.config import Settings
from assistant27.generators import ScriptedGenerator

pytestmark = pytest.mark.slow  # a real browser: seconds a test (make test runs them, make test-fast does not)
sync_api = require_browser()

TOKEN = "correct-horse-battery-staple"
FOOLED_REPLY = (
    "Le programme Rebonds accompagne les agents des collectivités territoriales [1]. "
    "<script>window.__pwned = true; alert('réponse')</script> <img src=x onerror=\"window.__pwned = true\"> [7]."
)


@pytest.fixture
def hostile_settings(isolated_state: Path) -> Settings:
    corpus = write_corpus(
        isolated_state / "corpus",
        catalogue=SMALL_CATALOGUE + "programme-rebonds.txt,Programme Rebonds,guide,2023,fr,\n",
    )
    shutil.copy(DATA / "hostile" / "programme-rebonds.txt", corpus)
    return Settings.from_env()


@pytest.fixture
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _page(browser, dialogs: list[str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    sync_api.expect.set_options(timeout=20_000)

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def test_no_script_from_the_corpus_or_the_answer_runs(hostile_settings: Settings, browser) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    app = make_app(hostile_settings, ScriptedGenerator([FOOLED_REPLY]))
    dialogs: list[str] = []
    with serving(app) as url:
        page = _page(browser, dialogs)
        page.goto(url)
        page.wait_for_function("() => localStorage.getItem('assistant27-browser') !== null")
        page.locator("#a27-question textarea").fill("Quels partenaires participent au programme Rebonds ?")
        page.locator("#a27-send").click()
        expect(page.locator("#a27-passages")).to_contain_text("<script>")  # shown as text...
        expect(page.locator("#a27-status")).to_contain_text("Réponse en")
        expect(page.locator("#a27-chat .a27-bot").last).to_contain_text("programme Rebonds")
        page.locator("#a27-chat .a27-cite").first.click()
        page.get_by_role("tab", name="Recherche").click()
        page.locator("#a27-q textarea").fill("script onerror Rebonds")
        page.locator("#a27-search").click()
        expect(page.locator("#a27-results")).to_contain_text("<img src=x")
        page.wait_for_timeout(500)  # let any onerror / onload fire
        # ...and never run: no flag, no dialog, no element from the corpus in the page.
        assert page.evaluate("() => window.__pwned") is None
        assert dialogs == []
        assert page.locator("#a27-chat script, #a27-passages script, #a27-results script").count() == 0
        assert page.locator("img[src='x'], svg[onload], iframe").count() == 0
        assert "[7]" not in page.locator("#a27-chat .a27-answer").last.inner_text()


def test_token_gate_login_page(settings: Settings, browser) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    app = make_app(settings, ScriptedGenerator(["La Communauté urbaine de Dunkerque a participé [1]."]))
    dialogs: list[str] = []
    with serving(app, TOKEN) as url:
        page = _page(browser, dialogs)
        response = page.goto(url)
        assert response is not None and response.status == 401
        expect(page.get_by_text("L'accès est réservé")).to_be_visible()
        page.locator("input[name=token]").fill("wrong")
        page.get_by_role("button", name="Entrer").click()
        expect(page.get_by_text("Jeton incorrect")).to_be_visible()
        page.locator("input[name=token]").fill(TOKEN)
        page.get_by_role("button", name="Entrer").click()
        page.wait_for_function("() => localStorage.getItem('assistant27-browser') !== null")
        page.locator("#a27-question textarea").fill("Quelles collectivités ont participé à Nouveaux Accords ?")
        page.locator("#a27-send").click()
        expect(page.locator("#a27-status")).to_contain_text("Réponse en")
        expect(page.locator("#a27-chat .a27-cite").first).to_be_visible()
        assert page.request.get(url + "source/rapport-2022.txt").ok  # the cookie opens the corpus files too
