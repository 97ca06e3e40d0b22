"""Screenshots of the chat, search and programmes pages (desktop, and phone) for the README, against the real index with the extractive generator.

Run from the repository root after `make index`:
    .venv/bin/python tests/e2e/take_screenshots.py [--out docs/screenshots]
Conversations go to a temporary data folder, so the repository's `data/` is left alone.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

from chromium import CHROMIUM, CHROMIUM_ARGS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ["ASSISTANT27_DATA_DIR"] = tempfile.mkdtemp(prefix="assistant27-shots-")

    import uvicorn
    from playwright.sync_api import expect, sync_playwright

    from assistant27.assistant import Assistant
    from assistant27.config import Settings
    from assistant27.webapp import WebApp

    app = WebApp(Assistant.from_settings(Settings.from_env(generator="extractive")))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app.asgi_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    args.out.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=120_000)  # the first question loads the embedding model
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator("#a27-question textarea").fill("Comment Nouvelles Mesures a-t-il évolué entre 2022 et 2025 ?")
        page.locator("#a27-send").click()
        expect(page.locator("#a27-status")).to_contain_text("Réponse en")
        page.locator("#a27-chat .a27-cite").first.click()
        time.sleep(0.5)
        page.screenshot(path=str(args.out / "chat.png"), full_page=True)

        page.get_by_role("tab", name="Recherche").click()
        page.locator("#a27-year-min input").click()
        page.get_by_role("option", name="2022").click()
        page.locator("#a27-q textarea").fill("gouvernance des forêts")
        started = time.perf_counter()
        page.locator("#a27-search").click()
        expect(page.locator("#a27-results .a27-passage").first).to_be_visible()
        print(f"search in the browser: {time.perf_counter() - started:.2f} s")
        page.screenshot(path=str(args.out / "search.png"), full_page=False)

        page.get_by_role("tab", name="Programmes").click()
        page.locator("#a27-prog-partner textarea").fill("ANCT")
        page.locator("#a27-prog-filter").click()
        expect(page.locator("#a27-programmes")).to_contain_text("Nouveaux Accords")
        page.locator("#a27-prog-name input").click()
        page.get_by_role("option", name="Nouvelles Mesures").click()
        expect(page.locator("#a27-programme .a27-step").first).to_be_visible()
        page.screenshot(path=str(args.out / "programmes.png"), full_page=True)

        # A phone (390×844): the same conversation, then the programmes as cards.
        phone = context.new_page()  # the same browser storage: the same conversation
        phone.set_viewport_size({"width": 390, "height": 844})
        phone.set_default_timeout(60_000)
        phone.goto(f"http://127.0.0.1:{port}/")
        expect(phone.locator("#a27-chat .a27-turn")).to_have_count(1)
        phone.locator("#a27-question textarea").fill("Et avec quels partenaires ?")
        phone.locator("#a27-send").click()
        expect(phone.locator("#a27-status")).to_contain_text("Réponse en")
        phone.screenshot(path=str(args.out / "chat-phone.png"))
        phone.get_by_role("tab", name="Programmes").click()
        expect(phone.locator("#a27-programme-cards .a27-card").first).to_be_visible()
        phone.screenshot(path=str(args.out / "programmes-phone.png"))
        browser.close()
    server.should_exit = True
    names = ["chat.png", "search.png", "programmes.png", "chat-phone.png", "programmes-phone.png"]
    print("written: " + ", ".join(str(args.out / n) for n in names))


if __name__ == "__main__":
    main()
