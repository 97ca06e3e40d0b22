"""Issues 18 and 19 in a real browser: the wait said in French and stoppable, follow-ups that show what was
searched, publications opened at the passage, the phone and staff pages, past conversations, and axe-core's
accessibility checks. Playwright drives Debian's Chromium against the app on localhost."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from browsing import Q1, REPLY, Slow, answered, ask, served, sync_api

from assistant27.config import Settings

pytestmark = pytest.mark.slow  # a real browser: seconds a test (make test runs them, make test-fast does not)

DATA = Path(__file__).resolve().parents[1] / "data"
LONG_REPLY = " ".join([REPLY] * 6)
TABS = ("Discussion", "Recherche", "Programmes", "Publications")


def test_the_wait_is_said_in_french_and_the_answer_can_be_stopped(settings: Settings) -> None:
    expect = sync_api.expect
    slow = Slow(REPLY, 0.01)
    with served(settings, slow) as (_context, page, _url):
        # Every progress text Gradio would show (its English timer « processing | 3.9s » among them).
        page.evaluate(
            """() => {
              window.__progress = []; window.__status = [];
              new MutationObserver(() => {
                document.querySelectorAll('.progress-text, .eta-bar, .timer')
                  .forEach(e => !e.closest('.hide') && e.checkVisibility({opacityProperty: true})
                    && window.__progress.push(e.textContent));
                window.__status.push(document.getElementById('a27-status').innerText);
              }).observe(document.body, {subtree: true, childList: true, characterData: true});
            }"""
        )
        ask(page, Q1)  # a first answer, for the estimate of the next ones
        answered(page, [Q1])
        slow.reply, slow.pause = LONG_REPLY, 0.3
        ask(page, Q1)
        status = page.locator("#a27-status")
        expect(page.locator("#a27-chat .a27-cursor")).to_contain_text("Communauté")
        expect(status).to_contain_text("passages trouvés")
        expect(status).to_contain_text("rédaction de la réponse")
        # The estimate, from the first answer's time (the line says when this one takes longer).
        said = page.evaluate("() => window.__status")
        assert [t for t in said if re.search(r"attente estimée : environ \d+ s \(d'après la dernière réponse\)", t)], (
            said
        )
        # A question sent meanwhile is told its place in the line.
        ask(page, "Qui a participé au programme Nouveaux Accords ?")
        expect(page.locator("#a27-chat .a27-user")).to_have_count(3)
        page.wait_for_function(
            "() => window.__status.some(t => t.includes('1 réponse à écrire avant la vôtre (place dans la file : 2)'))"
        )
        # « Arrêter » stops the answer being written and the question waiting; both stay, marked as stopped.
        page.get_by_role("button", name="Arrêter").click()
        stopped = page.locator("#a27-chat .a27-stopped")
        expect(stopped).to_have_count(2)
        expect(stopped.first).to_contain_text("Réponse arrêtée à votre demande")
        expect(page.locator("#a27-chat .a27-streaming")).to_have_count(0)
        progress = page.evaluate("() => window.__progress")
        assert not [t for t in progress if re.search(r"processing|\d+(\.\d+)?s\b", t)], progress
        page.reload()  # the stopped question stays in the conversation, marked
        expect(page.locator("#a27-chat .a27-user")).to_have_count(3)
        expect(page.locator("#a27-chat .a27-stopped")).to_have_count(2)


def test_a_follow_up_borrows_the_question_only_when_it_depends_on_it(settings: Settings) -> None:
    expect = sync_api.expect
    with served(settings, Slow(REPLY, 0.0)) as (_context, page, _url):
        ask(page, "Quels programmes en 2025 ?")
        answered(page, ["Quels programmes en 2025 ?"])
        searched = page.locator("#a27-chat .a27-searched")
        expect(searched.last).to_have_text("Recherche : Quels programmes en 2025 ?")
        ask(page, "et en 2022 ?")
        expect(searched).to_have_count(2)
        expect(searched.last).to_have_text("Recherche : Quels programmes en 2025 ? et en 2022 ?")
        # A question that stands on its own keeps nothing of the one before, its year least of all.
        alone = "koi la 27e région a fait avec les forêts ?"
        ask(page, alone)
        expect(searched).to_have_count(3)
        expect(searched.last).to_have_text(f"Recherche : {alone}")


def test_open_the_document_at_the_passage(settings: Settings) -> None:
    expect = sync_api.expect
    shutil.copy(DATA / "two-pages.pdf", settings.corpus_dir / "guide.pdf")
    with served(settings, Slow(REPLY, 0.0)) as (context, page, url):
        ask(page, Q1)
        answered(page, [Q1])
        link = page.locator("#a27-chat .a27-citation .a27-source").first
        href = link.get_attribute("href") or ""
        assert href.startswith("/read/rapport-2022.txt?passage=") and href.endswith("#a27-cited"), href
        with context.expect_page() as opened:
            page.locator("#a27-chat .a27-cite").first.click()
            link.click()
        reader = opened.value
        reader.wait_for_load_state()
        cited = reader.locator("mark#a27-cited")
        expect(cited).to_contain_text("Communauté urbaine de Dunkerque")
        expect(cited).to_be_in_viewport()
        expect(reader.locator("h1")).to_have_text("Rapport d'activité 2022")
        reader.close()
        # A PDF is served itself, opened at the cited page.
        page.get_by_role("tab", name="Recherche").click()
        page.locator("#a27-q textarea").fill("page")
        page.locator("#a27-search").click()
        pdf_link = page.locator("#a27-results a.a27-source[href^='/source/guide.pdf']").first
        pdf_href = pdf_link.get_attribute("href") or ""
        assert re.fullmatch(r"/source/guide\.pdf#page=\d", pdf_href), pdf_href
        response = page.request.get(url + pdf_href.split("#")[0].lstrip("/"))
        assert response.ok and response.headers["content-type"] == "application/pdf"
        assert page.request.get(url + "read/catalogue.csv").status == 404


def test_on_a_phone_the_question_box_the_answer_and_every_tab_are_in_view(settings: Settings) -> None:
    expect = sync_api.expect
    with served(settings, Slow(LONG_REPLY, 0.05)) as (_context, page, _url):
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        question = page.locator("#a27-question textarea")
        expect(question).to_be_in_viewport(ratio=1)
        for _ in range(3):  # a conversation longer than the screen
            ask(page, Q1)
            expect(page.locator("#a27-chat .a27-streaming")).to_have_count(1)
            expect(page.locator("#a27-chat .a27-cursor")).to_be_in_viewport()  # written where it is seen
            expect(page.locator("#a27-chat .a27-streaming")).to_have_count(0, timeout=30_000)
        expect(page.locator("#a27-chat .a27-turn").last.locator(".a27-answer")).to_be_in_viewport()
        expect(question).to_be_in_viewport(ratio=1)
        assert page.get_by_role("button", name="Autres onglets").filter(visible=True).count() == 0
        for tab in TABS:
            expect(page.get_by_role("tab", name=tab)).to_be_in_viewport(ratio=1)
        page.get_by_role("tab", name="Programmes").click()
        # Readable on the phone: each programme a card, every field on screen without scrolling sideways.
        card = page.locator("#a27-programme-cards .a27-card").filter(has_text="Nouveaux Accords").first
        expect(card).to_be_visible()
        expect(card).to_contain_text("Partenaires")
        expect(card).to_contain_text("Communauté urbaine de Dunkerque")
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.get_by_role("tab", name="Publications").click()
        expect(page.locator("#a27-publication-cards .a27-card").first).to_contain_text("Passages")


def test_staff_tables_are_readable_and_empty_results_say_what_to_try(settings: Settings) -> None:
    expect = sync_api.expect
    with served(settings, Slow(REPLY, 0.0)) as (_context, page, _url):
        page.get_by_role("tab", name="Publications").click()
        table = page.locator("#a27-publications")
        expect(table).to_contain_text("rapport-2022.txt")
        expect(table).not_to_contain_text("Chunks")
        expect(table.get_by_role("columnheader", name="Passages").first).to_be_visible()
        # No header is broken letter by letter: each header is at least as wide as its longest word.
        narrow = page.evaluate(
            """() => [...document.querySelectorAll('#a27-publications th, #a27-programmes th')]
              .filter(th => th.offsetParent !== null)
              .map(th => {
                const range = document.createRange(); range.selectNodeContents(th);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
                const words = th.textContent.trim().split(/\\s+/).filter(Boolean).length;
                return [th.textContent.trim(), lines, words];
              })
              .filter(([text, lines, words]) => text && lines > Math.max(1, words))"""
        )
        assert narrow == [], narrow
        page.get_by_role("tab", name="Programmes").click()
        partner = page.get_by_role("textbox", name="Partenaire, financeur ou lieu")
        partner.fill("Exempleville")
        partner.press("Enter")
        expect(page.locator("#a27-prog-status")).to_contain_text("Aucun programme pour « Exempleville »")
        expect(page.locator("#a27-prog-status")).to_contain_text("Retirez un filtre")


def test_past_conversations_are_kept_and_a_reload_shows_the_last_passages(settings: Settings) -> None:
    expect = sync_api.expect
    with served(settings, Slow(REPLY, 0.0)) as (_context, page, _url):
        ask(page, Q1)
        answered(page, [Q1])
        page.reload()
        answered(page, [Q1])
        expect(page.locator("#a27-passages .a27-passage").first).to_contain_text("Dunkerque")
        expect(page.locator("#a27-question textarea")).to_be_in_viewport(ratio=1)

        page.get_by_role("button", name="Nouvelle conversation").click()
        expect(page.locator("#a27-chat .a27-turn")).to_have_count(0)
        past = page.get_by_role("combobox", name="Conversations précédentes")
        past.click()
        page.get_by_role("option", name=re.compile(re.escape(Q1))).click()
        answered(page, [Q1])
        page.reload()  # the conversation chosen is the one the page opens again
        answered(page, [Q1])


SERIOUS = {"serious", "critical"}


@pytest.mark.parametrize("width,height", [(1400, 1000), (390, 844)], ids=["desktop", "phone"])
def test_no_serious_accessibility_violation_on_any_tab(settings: Settings, width: int, height: int) -> None:
    """axe-core (bundled by axe-playwright-python) on each tab, after an answer."""
    with served(settings, Slow(REPLY, 0.0)) as (_context, page, _url):
        page.set_viewport_size({"width": width, "height": height})
        ask(page, Q1)
        answered(page, [Q1])
        expect = sync_api.expect
        expect(
            page.get_by_role("button", name=re.compile(r"^Source 1 : Rapport d'activité 2022")).first
        ).to_be_visible()
        axe = Axe()
        for tab in TABS:
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(300)
            results = axe.run(page)
            serious = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]
                if v["impact"] in SERIOUS
            ]
            assert serious == [], (tab, serious)
