"""Issue 18 in a real browser: no question is lost, nothing of the prompt is shown, search says how results match,
a rating's comment goes with its rating. Playwright drives Debian's Chromium against the app on localhost."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browsing import Q1, REPLY, Slow, answered, ask, open_page, served, sync_api
from click.testing import CliRunner

from assistant27.cli import main
from assistant27.config import Settings

pytestmark = pytest.mark.slow  # a real browser: seconds a test (make test runs them, make test-fast does not)

# What a small model wrote: its instructions copied before the answer, then one of its rules.
ECHOED = (
    "Les extraits numérotés [1], [2] et [3] indiquent que la Communauté urbaine de Dunkerque a participé au "
    "programme Nouveaux Accords [1]. Réponds en français, en 1 à 3 phrases."
)
Q2 = "Quand Nouveaux Accords a-t-il commencé ?"
# Searched alone (it depends on no earlier question) and answered by the generator.
Q3 = "Qui a participé au programme Nouveaux Accords ?"


def test_a_question_sent_while_an_answer_is_written_is_kept_andanswered(settings: Settings) -> None:
    expect = sync_api.expect
    slow = Slow(REPLY, 0.15)
    with served(settings, slow) as (context, page, url):
        ask(page, Q1)
        expect(page.locator("#a27-chat .a27-cursor")).to_contain_text("Communauté")  # Q1 is being written
        ask(page, Q2)
        # Both questions stay on screen, in order, the second one said to wait.
        expect(page.locator("#a27-chat .a27-user")).to_have_count(2)
        expect(page.locator("#a27-chat .a27-user").first).to_have_text(Q1)
        answered(page, [Q1, Q2])
        assert slow.questions[0] == Q1
        page.reload()
        answered(page, [Q1, Q2])

        # A tab closed while the answer is written: the question was stored first, and is answered.
        ask(page, Q3)
        expect(page.locator("#a27-chat .a27-cursor")).to_contain_text("Communauté")
        page.close()
        page = open_page(context, url)
        answered(page, [Q1, Q2, Q3])
        page.reload()
        answered(page, [Q1, Q2, Q3])


def test_nothing_of_the_prompt_is_shown_even_while_the_answer_is_written(settings: Settings) -> None:
    expect = sync_api.expect
    with served(settings, Slow(ECHOED, 0.05)) as (context, page, _url):
        # Every text the chat ever shows, recorded as it changes.
        page.evaluate(
            """() => {
              window.__shown = [];
              const chat = document.getElementById('a27-chat');
              new MutationObserver(() => window.__shown.push(chat.innerText))
                .observe(chat, {childList: true, subtree: true, characterData: true});
            }"""
        )
        ask(page, Q1)
        answered(page, [Q1])
        answer = page.locator("#a27-chat .a27-bot .a27-answer")
        expect(answer).to_contain_text("Communauté urbaine de Dunkerque a participé")
        expect(answer.locator(".a27-cite").first).to_be_visible()
        shown = page.evaluate("() => window.__shown")
        assert any("Dunkerque" in text for text in shown)
        leaked = [t for t in shown if "numérotés" in t or "Réponds en" in t or "phrases" in t]
        assert leaked == [], leaked[:1]


def test_search_says_when_nothing_holds_the_words_how_each_result_matches_and_applies_filters(
    settings: Settings,
) -> None:
    expect = sync_api.expect
    with served(settings, Slow(REPLY, 0.0)) as (context, page, _url):
        page.get_by_role("tab", name="Recherche").click()
        status = page.locator("#a27-search-status")
        page.locator("#a27-q textarea").fill("blockchain quantique")
        page.locator("#a27-search").click()
        expect(status).to_contain_text("Aucun passage ne contient « blockchain », « quantique »")
        results = page.locator("#a27-results .a27-passage")
        expect(results.first.locator(".a27-match")).to_contain_text("proche par le sens")
        assert page.locator("#a27-results mark").count() == 0

        page.locator("#a27-q textarea").fill("réglementation des achats")
        page.locator("#a27-search").click()
        expect(status).to_contain_text("avec les mots cherchés")
        first = results.first
        expect(first.locator(".a27-match")).to_contain_text("2 mots sur 2")
        expect(first.locator("mark").first).to_have_text("réglementation")
        expect(first.locator(".a27-meta")).to_contain_text("2022")

        # Choosing a year applies at once, without pressing « Rechercher » again.
        page.locator("#a27-year-min input").click()
        page.get_by_role("option", name="2025").click()
        expect(status).to_contain_text("Aucun passage ne contient « réglementation », « achats » avec ces filtres")
        expect(page.locator("#a27-results .a27-meta").first).to_contain_text("2025")


def test_switching_a_rating_drops_the_comment_written_for_the_other(settings: Settings, tmp_path: Path) -> None:
    expect = sync_api.expect
    with served(settings, Slow(REPLY, 0.0)) as (context, page, _url):
        ask(page, Q1)
        answered(page, [Q1])
        page.locator(".a27-fb[data-rating='down']").first.click()
        expect(page.locator(".a27-fb.a27-on[data-rating='down']")).to_be_visible()
        page.locator("#a27-comment textarea").fill("Il manque Vitry-le-François.")
        page.locator("#a27-comment-send").click()
        expect(page.locator("#a27-chat")).to_contain_text("Il manque Vitry-le-François.")
        page.locator(".a27-fb[data-rating='down']").first.click()  # the same rating again keeps it
        expect(page.locator("#a27-chat")).to_contain_text("Il manque Vitry-le-François.")

        page.locator(".a27-fb[data-rating='up']").first.click()
        expect(page.locator(".a27-fb.a27-on[data-rating='up']")).to_be_visible()
        expect(page.locator("#a27-chat")).not_to_contain_text("Il manque Vitry-le-François.")
        expect(page.locator("#a27-comment-status")).to_contain_text("commentaire écrit pour l'autre note est retiré")
        page.reload()
        expect(page.locator(".a27-fb.a27-on[data-rating='up']")).to_be_visible()
        expect(page.locator("#a27-chat")).not_to_contain_text("Il manque Vitry-le-François.")
    out = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [item] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (item["feedback"], item["comment"]) == ("up", "")


# Names Gradio gives its controls in English, or by the component's kind, that the page must not show.
NOT_FRENCH = {"Textbox", "Dropdown", "Dataframe", "More tabs", "Copy table data", "Table actions", "File upload"}
NAMED = re.compile(r'^\s*- (textbox|combobox|button)(?: "([^"]*)")?', re.MULTILINE)


@pytest.mark.parametrize("width,height", [(1400, 1000), (390, 844)], ids=["desktop", "phone"])
def test_every_control_is_named_in_french_with_a_visible_focus(settings: Settings, width: int, height: int) -> None:
    expect = sync_api.expect
    with served(settings, Slow(REPLY, 0.0)) as (_context, page, _url):
        page.set_viewport_size({"width": width, "height": height})
        expect(page.get_by_role("heading", level=1)).to_contain_text("Assistant")
        assert page.get_by_role("heading", level=1).count() == 1
        question = page.get_by_role("textbox", name="Votre question")
        expect(question).to_be_visible()
        expect(page.get_by_role("textbox", name="Commentaire sur la réponse notée")).to_be_attached()
        # Gradio's progress lines, as they change while the question is answered.
        page.evaluate(
            """() => {
              window.__progress = [];
              new MutationObserver(() => document.querySelectorAll('.progress-text, .sr-only[role=status]')
                .forEach(e => window.__progress.push(e.textContent)))
                .observe(document.body, {subtree: true, childList: true, characterData: true});
            }"""
        )
        ask(page, Q1)
        answered(page, [Q1])
        expect(page.get_by_role("button", name=re.compile(r"^Source 1 : ")).first).to_be_visible()
        progress = set(page.evaluate("() => window.__progress"))
        assert progress and not [t for t in progress if re.search(r"processing|In queue|queue:|common\.", t)], progress

        for tab in ("Recherche", "Programmes", "Publications", "Discussion"):
            more = page.get_by_role("button", name="Autres onglets")
            if more.count() and more.first.is_visible():  # a narrow screen: some tabs are behind this button
                more.first.click()
            page.get_by_role("tab", name=tab).or_(page.get_by_role("button", name=tab, exact=True)).first.click()
            page.wait_for_timeout(300)
            labels = page.evaluate(
                "() => [...document.querySelectorAll('[aria-label], [title]')]"
                ".flatMap(e => [e.getAttribute('aria-label'), e.getAttribute('title')]).filter(Boolean)"
            )
            assert NOT_FRENCH.isdisjoint(labels), (tab, sorted(NOT_FRENCH & set(labels)))
            tree = page.locator("body").aria_snapshot()
            unnamed = [m.group(0).strip() for m in NAMED.finditer(tree) if not (m.group(2) or "").strip()]
            assert unnamed == [], (tab, unnamed)
            assert "Textbox" not in tree, tab

        # The box being typed in shows where the keyboard is.
        question.focus()
        ring = question.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }")
        assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2, ring
