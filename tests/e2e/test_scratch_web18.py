from test_browser import sync_api
from test_honest_browser import Q1, REPLY, Slow, _answered, _ask, _served


def test_scratch(settings):
    with _served(settings, Slow(" ".join([REPLY] * 4), 0.2)) as (_context, page, _url):
        page.evaluate("""() => { window.__p = [];
          new MutationObserver(() => document.querySelectorAll('.progress-text').forEach(e => {
            if (e.checkVisibility() && window.__p.length < 3) {
              let w = e; for (let i = 0; i < 3 && w.parentElement; i++) w = w.parentElement;
              window.__p.push([performance.now(), w.outerHTML.slice(0, 600)]); } }))
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
        _ask(page, Q1)
        sync_api.expect(page.locator("#a27-chat .a27-cursor")).to_contain_text("Communauté")
        for t, h in page.evaluate("() => window.__p"):
            print("P", t, h)
        tabs = page.evaluate("""() => [...document.querySelectorAll('[role=tab]')].map(e => [e.textContent, getComputedStyle(e).fontSize, getComputedStyle(e).padding, e.getBoundingClientRect().width])""")
        print("TABS", tabs)
        print("TABHTML", page.evaluate("() => document.querySelector('[role=tablist]').parentElement.parentElement.outerHTML.slice(0, 1500)"))
