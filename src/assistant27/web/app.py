"""The web app's page: chat for members, passage search and publication list for staff (Gradio layout and wiring).

No retrieval or prompt code lives here: every answer and search goes through `Assistant`. Handlers are plain
methods returning plain values, so tests call them directly; `build` makes the Gradio page, `launch` serves it.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import gradio as gr

from assistant27.assistant import MAX_QUESTION_CHARS, Assistant, Event, PassagesFound, Token
from assistant27.conversations import ConversationStore, Turn, conversation_markdown
from assistant27.errors import Assistant27Error, QuestionError
from assistant27.openai_api import mount_openai_api
from assistant27.programmes import catalogue_publishers, of_publisher
from assistant27.prompt_echo import shown_while_written
from assistant27.reading import render_reading
from assistant27.schema import Answer
from assistant27.store import Filters
from assistant27.web.auth import TokenGate
from assistant27.web.memory import MemoryTrim, Recent, tune_malloc
from assistant27.web.render import (
    PROGRAMME_HEADERS,
    PROGRAMME_WIDTHS,
    PUBLICATION_HEADERS,
    PUBLICATION_WIDTHS,
    SHOWN_TURNS,
    _place,
    conversation_label,
    final_status,
    highlight,
    last_panel,
    render_cards,
    render_chat,
    render_passages_panel,
    render_search,
    source_link,
    status_html,
    stems,
    wait_status,
)

if TYPE_CHECKING:
    from starlette.types import ASGIApp

log = logging.getLogger(__name__)


# The example questions under the chat: a JSON list of questions in the corpus folder, written for its publications
# (a .json file is no publication: ingestion skips it). Without it, questions that fit any corpus.
EXAMPLES_FILE = "example-questions.json"
MAX_EXAMPLES = 8
DEFAULT_EXAMPLES = [
    "Quels programmes les publications présentent-elles ?",
    "Quels partenaires les publications nomment-elles ?",
    "What are the publications about?",
]
SEARCH_CONCURRENCY = 8  # searches never wait behind a generation
GENERATION_CONCURRENCY = 1  # one local model; more requests queue, with their position shown
PENDING_TURNS = 200  # chat turns kept between their two halves (retrieval shown, generation queued)
CACHE_SWEEP = (3600, 86400)  # Gradio's copies of exported files: swept every hour, kept a day
ANALYTICS_EVENTS = "1000"  # Gradio keeps this many events' timings in memory (its default: 10,000)
ERROR_MESSAGE = "Une erreur est survenue pendant la réponse. Réessayez ; si elle persiste, prévenez l'équipe."
_MARKDOWN_MARKS = re.compile(r"[\\`*_\[\]()#<>!|~]")

CSS = """
.a27-chat { display: flex; flex-direction: column; gap: 14px; min-height: 160px; max-height: 62vh; overflow-y: auto;
  padding: 8px; }
.a27-msg { padding: 10px 14px; border-radius: 10px; line-height: 1.5; }
.a27-user { align-self: flex-end; background: var(--color-accent-soft); max-width: 85%; }
.a27-bot { align-self: flex-start; background: var(--background-fill-secondary); max-width: 95%; }
.a27-refused .a27-answer { font-weight: 600; }
.a27-confidence, .a27-refusal-kind { font-size: 0.9em; opacity: 0.85; margin-top: 4px; }
.a27-claim { font-style: italic; margin: 4px 0; }
.a27-error { border-left: 4px solid #c0392b; }
.a27-cite { border: 1px solid var(--color-accent); border-radius: 4px; background: none; color: #3730a3; cursor: pointer; padding: 0 3px; font-size: .85em; }
.a27-citation, .a27-passage { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin-top: 6px; }
.a27-citation summary { cursor: pointer; font-weight: 600; }
.a27-flash { outline: 3px solid var(--color-accent); }
.a27-quote { margin: 6px 0; padding-left: 10px; border-left: 3px solid var(--border-color-primary); white-space: pre-wrap; }
.a27-quote mark { background: #ffe58a; color: inherit; }
.a27-match { font-size: .9em; font-weight: 600; }
.a27-others { margin-top: 14px; font-weight: 600; }
.a27-meta { color: var(--body-text-color-subdued); font-size: .9em; }
.a27-feedback { margin-top: 6px; display: flex; gap: 6px; align-items: center; }
.a27-fb { border: 1px solid var(--border-color-primary); border-radius: 6px; background: none; cursor: pointer; padding: 1px 8px; }
.a27-fb.a27-on { background: var(--color-accent-soft); border-color: var(--color-accent); }
.a27-status { min-height: 1.6em; font-style: italic; }
.a27-empty { color: var(--body-text-color-subdued); text-align: center; margin-top: 40px; }
.a27-cursor::after { content: "▍"; }
.a27-title { font-size: 1.5em; font-weight: 700; margin: 0; }
.a27-panel.a27-scroll { max-height: 75vh; overflow-y: auto; }
.a27-searched { font-size: .9em; color: var(--body-text-color); margin-bottom: 4px; }
/* Contrast (axe-core, WCAG AA): the selected tab's name in a darker shade of the theme's colour. */
.tab-container button.selected { color: #3730a3 !important; }
.a27-stopped-note { font-size: .9em; font-style: italic; margin-top: 4px; }
#a27-programmes th .header, #a27-publications th .header { word-break: normal !important;
  overflow-wrap: normal !important; hyphens: none; }
.a27-cards { display: none; }
.a27-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; margin: 8px 0; }
.a27-card h3 { font-size: 1.05em; margin: 0 0 4px; }
.a27-card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0; }
.a27-card dt { font-weight: 600; } .a27-card dd { margin: 0; overflow-wrap: anywhere; }
/* A phone: the question box and the answer being written fit in the first screen; every tab shows (Gradio
   measures its tab buttons in a hidden copy of the tab bar, which must shrink as well); tables become cards. */
@media (max-width: 640px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .a27-title { font-size: 1.1em; }
  .a27-chat { min-height: 80px; max-height: 40vh; }
  .tab-container button { padding: 0 6px !important; font-size: 13px !important; min-width: 0 !important; }
  .a27-msg { max-width: 100% !important; }
  #a27-ask { flex-wrap: wrap; }
  #a27-ask > :first-child { flex: 1 1 100% !important; min-width: 100% !important; }
  #a27-programmes, #a27-publications { display: none !important; }
  .a27-cards { display: block; }
}
/* A visible focus ring on everything the keyboard reaches (the theme shows none on text boxes). */
textarea:focus-visible, input:focus-visible, button:focus-visible, a:focus-visible, summary:focus-visible,
[role='tab']:focus-visible { outline: 3px solid var(--color-accent) !important; outline-offset: 2px; }
"""

# Gradio names some of its own controls in English whatever the page's language; these are the ones this page
# shows, put in French as they appear (attributes only: no text of ours goes through it).
FRENCH_LABELS = {
    "More tabs": "Autres onglets",
    "Copy table data": "Copier le tableau",
    "Table actions": "Actions du tableau",
    "Download": "Télécharger",
    "Close": "Fermer",
    "Dismiss": "Fermer",
    "Loading response": "Réponse en cours de chargement",
    "Loading Progress": "Progression du chargement",
    "View full screen": "Plein écran",
    "Exit full screen": "Quitter le plein écran",
    "Fullscreen": "Plein écran",
    "Sort column": "Trier la colonne",
    "Open cell menu": "Menu de la cellule",
    "Search": "Rechercher",
    "Clear": "Effacer",
    "Remove": "Retirer",
    "Copy": "Copier",
    "Dataframe": "Tableau",
    "File upload": "Envoi de fichier",
}
# Its progress lines (« processing | 0.1s », « queue: 1/2 », and « In queue: 1 of 2 », « common.complete » read
# to screen readers), rewritten in place inside its progress and status elements only.
FRENCH_PROGRESS = [
    (r"^processing\b", "en cours"),
    (r"^queue:", "file :"),
    (r"^In queue: (\d+) of (\d+)", "En file : $1 sur $2"),
    (r"^common\.complete$", "Terminé"),
    (r"^common\.loading$", "Chargement…"),
]
FRENCH_LABELS_JS = (
    "<script>(() => {const fr = "
    + json.dumps(FRENCH_LABELS, ensure_ascii=False)
    + ";\nconst progress = "
    + json.dumps(FRENCH_PROGRESS, ensure_ascii=False)
    + """.map(([re, to]) => [new RegExp(re), to]);
const fix = () => {
  for (const name of ['aria-label', 'title']) {
    for (const el of document.querySelectorAll('[' + name + ']')) {
      const value = el.getAttribute(name);
      if (fr[value]) { el.setAttribute(name, fr[value]); }
    }
  }
  // The text nodes themselves, so that Gradio goes on updating the ones it made.
  for (const el of document.querySelectorAll('.progress-text, .sr-only[role=status]')) {
    for (const node of el.childNodes) {
      if (node.nodeType !== Node.TEXT_NODE) { continue; }
      let text = node.data;
      for (const [re, to] of progress) { text = text.replace(re, to); }
      if (text !== node.data) { node.data = text; }
    }
  }
};
new MutationObserver(fix).observe(document.documentElement, {subtree: true, childList: true,
  characterData: true, attributes: true, attributeFilter: ['aria-label', 'title']});
})();</script>"""
)

# Clicks inside the conversation: a citation opens its passage; a thumb sends the rating to the server. The
# conversation scrolls inside its box, kept at its end as it is redrawn, so the answer being written is in view.
CHAT_JS = """
const toEnd = () => { const box = element.querySelector('.a27-chat'); if (box) { box.scrollTop = box.scrollHeight; } };
new MutationObserver(toEnd).observe(element, {childList: true, subtree: true, characterData: true});
toEnd();
element.addEventListener('click', (e) => {
  const cite = e.target.closest('.a27-cite');
  if (cite) {
    e.preventDefault();
    const box = element.querySelector('#' + cite.dataset.target);
    if (box) {
      box.open = true;
      box.classList.add('a27-flash');
      box.scrollIntoView({block: 'nearest'});
      setTimeout(() => box.classList.remove('a27-flash'), 1500);
    }
    return;
  }
  const fb = e.target.closest('.a27-fb');
  if (fb) { trigger('select', {turn: Number(fb.dataset.turn), rating: fb.dataset.rating}); }
});
"""


# After the export is written into the unseen DownloadButton: click it, which downloads its value.
DOWNLOAD_JS = """
() => {
  const root = document.getElementById('a27-export-file');
  const button = root && (root.tagName === 'BUTTON' ? root : root.querySelector('button'));
  if (button) { button.click(); }
}
"""


@dataclass
class PendingTurn:
    """A chat turn between its two halves: the question, its stream (None when `retrieve` showed an error
    instead), the passages panel shown meanwhile, and the texts the answer may repeat word for word."""

    question: str
    stream: Iterator[Event] | None
    panel: str
    error: str = ""
    sources: list[str] = dataclasses.field(default_factory=list)  # what the answer may repeat (prompt_echo)
    searched: str = ""  # what was searched (the question, or a follow-up with the question it depends on)
    found: int = 0  # how many passages were found


class WaitBoard:
    """The generation line, for the wait shown to users: the questions whose answer is to be written (all
    conversations), and how long recent answers took to write.

    A question enters when its passages are shown and leaves once answered; one left behind by a tab closed
    between the two (its answer never asked) stops counting after `forget_s`.
    """

    def __init__(self, recent: int = 10, forget_s: float = 1800.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._line: dict[int, float] = {}
        self._took: deque[float] = deque(maxlen=recent)
        self.forget_s = forget_s
        self.clock = clock
        self._lock = threading.Lock()

    def enter(self, turn: int) -> None:
        with self._lock:
            self._line.setdefault(turn, self.clock())

    def leave(self, turn: int, took: float | None = None) -> None:
        """The question is answered (or stopped, or failed); `took`: seconds its answer took to write."""
        with self._lock:
            self._line.pop(turn, None)
            if took is not None:
                self._took.append(took)

    def ahead(self, turn: int) -> int:
        """How many questions, sent earlier, are answered before this one (the one being written included)."""
        now = self.clock()
        with self._lock:
            for old in [t for t, since in self._line.items() if now - since > self.forget_s]:
                del self._line[old]
            return sum(1 for t in self._line if t < turn)

    def typical(self) -> tuple[float, int] | None:
        """The median time recent answers took to write, and over how many answers; None before the first."""
        with self._lock:
            took = list(self._took)
        return (statistics.median(took), len(took)) if took else None


class WebApp:
    """The Gradio UI over one `Assistant` and one conversation store."""

    def __init__(self, assistant: Assistant, conversations: ConversationStore | None = None) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.conversations = conversations or ConversationStore(self.settings.data_dir)
        self.corpus_dir = self.settings.corpus_dir.resolve()
        self.examples = example_questions(self.settings.corpus_dir)
        # Named after the corpus's publisher (catalogue.csv) when there is one.
        self.of_publisher = of_publisher(catalogue_publishers(self.settings.catalogue_path))
        self.title = f"Assistant {self.of_publisher}" if self.of_publisher else "Assistant des publications"
        self.heading = f"Assistant des publications {self.of_publisher}".strip()
        self._exports = Path(tempfile.mkdtemp(prefix="assistant27-exports-"))
        # One Markdown file per conversation, for the download button (Gradio serves its own copy of it).
        self._export_files: Recent[str, Path] = Recent(
            self.settings.web_sessions, on_drop=lambda _c, path: path.unlink(missing_ok=True)
        )
        # Turns whose passages are shown and whose generation waits in the (slower) generation queue; a tab
        # closed between the two halves leaves its turn here until newer ones push it out.
        self._pending: Recent[str, PendingTurn] = Recent(PENDING_TURNS)
        # Stored questions a request is answering (or searching for): no other request answers them too.
        self._claimed: set[int] = set()
        self._claim_lock = threading.Lock()
        self.waits = WaitBoard()
        self._stopping: set[int] = set()  # questions whose answer the user stopped while it is written
        self.memory = MemoryTrim(self.settings.memory_trim_s)
        if self.settings.memory_trim_s > 0:  # the same switch: the app manages its process's memory
            # Again, for an app built without `serve` (tests, the load test): a limit applies to later threads.
            log.debug("malloc: %s", ", ".join(tune_malloc()) or "unchanged")
        self.page: gr.Blocks | None = None

    # ---- handlers: plain values in and out --------------------------------------------------------------

    def start(self, browser: str | None) -> tuple[str, str, str, None, str, Any]:
        """On page load: the browser's id (made once, kept in its local storage), its conversation, the view.

        Returns (browser, conversation, chat, export, passages panel, past conversations). The export value
        clears the one prepared for an earlier download (it is written on each click only); the panel shows the
        passages of the conversation's last answer.
        """
        browser = browser or uuid.uuid4().hex
        conversation = self.conversations.current_conversation(browser)
        turns, total = self._shown(conversation)
        return browser, conversation, render_chat(turns, total=total), None, last_panel(turns), self.past(browser, conversation)

    def new_conversation(self, browser: str | None) -> tuple[str, str, str, str, str | None, Any]:
        """« Nouvelle conversation »: an empty one; the one left stays in the list of past conversations."""
        browser = browser or uuid.uuid4().hex
        conversation = self.conversations.new_conversation(browser)
        return browser, conversation, render_chat([]), render_passages_panel(None), None, self.past(browser, conversation)

    def open_conversation(self, browser: str | None, chosen: str | None) -> tuple[Any, Any, Any, Any]:
        """A past conversation chosen in the list: it becomes the current one (also after a reload).

        Returns (conversation, chat, passages panel, past conversations); nothing changes for a conversation
        that is not this browser's.
        """
        if not browser or not chosen or not self.conversations.reopen(browser, chosen):
            return gr_skip(), gr_skip(), gr_skip(), gr_skip()
        turns, total = self._shown(chosen)
        return chosen, render_chat(turns, total=total), last_panel(turns), self.past(browser, chosen)

    def past(self, browser: str, current: str) -> Any:
        """The list of the browser's conversations (first question, date, size), the current one selected."""
        summaries = self.conversations.conversations(browser)
        choices = [(conversation_label(c), c.id) for c in summaries]
        value = current if any(c.id == current for c in summaries) else None
        return gr.Dropdown(choices=choices, value=value)

    def retrieve(self, question: str, conversation: str) -> Iterator[tuple[str, str, str, str, str]]:
        """First half of a chat turn (search concurrency): store the question, show it, then the passages, at once.

        Yields (chat, passages panel, status, cleared question box, pending id). The question is stored before
        anything else, so neither a second question nor a closed tab loses it: `generate` answers a conversation's
        stored questions in the order they came (a question sent while an answer is written waits its turn, shown
        as waiting). The pending id names an error to show again when the question was refused with a message
        (the text then stays in the box).
        """
        question = (question or "").strip()
        turns, total = self._shown(conversation)
        no_panel = render_passages_panel(None)
        if not conversation:  # the page has not finished loading its conversation yet
            error = "La page se charge encore ; réessayez dans un instant."
            pending = self._hold(PendingTurn(question, None, no_panel, error))
            yield render_chat(turns, error=error, total=total), no_panel, "", question, pending
            return
        if not question:
            yield render_chat(turns, total=total), no_panel, "", "", ""
            return
        waiting = bool(self.conversations.unanswered(conversation))
        turn_id = self.conversations.add_question(conversation, question)
        with self._claim_lock:  # `generate` leaves it alone until its passages are held
            self._claimed.add(turn_id)
        try:
            turns, total = self._shown(conversation)
            yield render_chat(turns, total=total), no_panel, status_html("Recherche des passages…"), "", ""
            history = history_of([t for t in turns if t.id < turn_id])  # the generator reads its last 2
            try:
                stream = self.assistant.ask_stream(question, history)
                first = next(stream)
            except QuestionError:
                self.conversations.drop_turn(turn_id)
                turns, total = self._shown(conversation)
                error = question_message(question)
                pending = self._hold(PendingTurn(question, None, no_panel, error))
                yield render_chat(turns, error=error, total=total), no_panel, "", question, pending
                return
            except Exception:
                log.exception("retrieval failed for %r", question)
                self.conversations.answer_turn(turn_id, {"question": question, "answer": "", "error": ERROR_MESSAGE})
                turns, total = self._shown(conversation)
                yield render_chat(turns, total=total), no_panel, "", "", ""
                return
            found = first if isinstance(first, PassagesFound) else None
            panel = render_passages_panel(found, question)
            searched, count = (found.query or question, len(found.passages)) if found else (question, 0)
            held = PendingTurn(question, stream, panel, sources=answer_sources(question, found), searched=searched, found=count)
            self._pending.put(str(turn_id), held)
            self.waits.enter(turn_id)
        finally:
            with self._claim_lock:
                self._claimed.discard(turn_id)
        ahead = max(self.waits.ahead(turn_id), 1 if waiting else 0)
        status = wait_status(count, ahead, self.waits.typical())
        yield render_chat(turns, total=total), panel, status_html(status), "", str(turn_id)

    def generate(self, pending: str, conversation: str) -> Iterator[tuple[str, str, str, None]]:
        """Second half (generation queue): answer the conversation's stored questions in order, streaming each.

        Yields (chat, panel, status, export). Every yield carries a value for every output, never `gr.skip()`:
        Gradio 6 keeps a new copy of a component in the session for each update followed by a value (about
        10 KB a chat turn, for the session's life). The export is None: it is written when the user asks for
        it (`export_markdown`), not at each turn. Which question is answered comes from the store, not from
        `pending` (a session's state, which a second question overwrites); on a page load (pending "") this
        answers the questions a closed tab or a restart left without their answer.
        """
        held = self._pending.pop(pending) if pending and not pending.isdigit() else None
        if held is not None:  # a question refused with a message: show what `retrieve` showed
            turns, total = self._shown(conversation)
            yield render_chat(turns, error=held.error, total=total), held.panel, "", None
            return
        answered = False
        try:
            while conversation and (turn := self._claim_next(conversation)) is not None:
                try:
                    yield from self._answer(turn, conversation)
                finally:
                    with self._claim_lock:
                        self._claimed.discard(turn.id)
                answered = True
        finally:
            self.memory.after_request()
        if not answered:  # another request answered this one's question (or is answering it): show the store
            turns, total = self._shown(conversation)
            done = [t for t in turns if not t.pending]
            status = final_status(done[-1]) if pending and done else ""
            yield render_chat(turns, total=total), last_panel(turns), status, None

    def resume(self, conversation: str) -> Iterator[tuple[str, str, str, None]]:
        """On page load: answer the questions of the conversation that a closed tab or a restart left unanswered."""
        yield from self.generate("", conversation)

    def _claim_next(self, conversation: str) -> Turn | None:
        """The oldest question of the conversation waiting for its answer that no request is answering; claimed."""
        with self._claim_lock:
            for turn in self.conversations.unanswered(conversation):
                if turn.id not in self._claimed:
                    self._claimed.add(turn.id)
                    return turn
        return None

    def _answer(self, turn: Turn, conversation: str) -> Iterator[tuple[str, str, str, None]]:
        """Stream one stored question's answer into its turn, then store it (or the error met instead, or what was
        written when the user stopped it), saying meanwhile what is happening and how long it should take."""
        question = turn.question
        held = self._pending.pop(str(turn.id))
        turns, total = self._shown(conversation)
        panel = held.panel if held else render_passages_panel(None)
        sources = held.sources if held else [question]
        searched, found = (held.searched, held.found) if held else (question, 0)
        started = time.perf_counter()
        took: float | None = None
        stream: Iterator[Event] | None = None
        text = ""
        self.waits.enter(turn.id)
        try:
            if held is not None and held.stream is not None:
                stream = held.stream
                status = wait_status(found, 0, self.waits.typical())
                yield render_chat(turns, writing=(turn.id, ""), total=total), panel, status_html(status), None
            else:  # its passages were never shown here (a closed tab, a restart): search again
                stream = self.assistant.ask_stream(question, history_of([t for t in turns if t.id < turn.id]))
            last = 0.0
            for event in stream:
                if turn.id in self._stopping:
                    yield self._store_stopped(turn, conversation, shown_while_written(text, sources), searched, panel)
                    return
                if isinstance(event, PassagesFound):
                    panel = render_passages_panel(event, question)
                    sources = answer_sources(question, event)
                    searched, found = event.query or question, len(event.passages)
                    status = wait_status(found, 0, self.waits.typical())
                    yield render_chat(turns, writing=(turn.id, ""), total=total), panel, status_html(status), None
                elif isinstance(event, Token):
                    text += event.text
                    now = time.perf_counter()
                    if now - last > 0.05:  # at most 20 redraws a second, whatever the generator's speed
                        last = now
                        # The words being written, without what repeats the prompt (as the stored answer).
                        shown = shown_while_written(text, sources)
                        chat = render_chat(turns, writing=(turn.id, shown), total=total)
                        status = wait_status(found, 0, self.waits.typical(), now - started)
                        yield chat, panel, status_html(status), None
                elif isinstance(event, Answer):
                    data = event.to_json()
                    data["searched"] = searched
                    self.conversations.answer_turn(turn.id, data)
                    took = time.perf_counter() - started
                    turns, total = self._shown(conversation)
                    status = final_status(Turn(turn.id, conversation, data))
                    yield render_chat(turns, total=total), render_passages_panel(event), status, None
        except QuestionError:
            self.conversations.answer_turn(turn.id, {"question": question, "answer": "", "error": question_message(question)})
            turns, total = self._shown(conversation)
            yield render_chat(turns, total=total), panel, "", None
        except Exception:
            log.exception("generation failed for %r", question)
            self.conversations.answer_turn(turn.id, {"question": question, "answer": "", "error": ERROR_MESSAGE})
            turns, total = self._shown(conversation)
            yield render_chat(turns, total=total), panel, "", None
        finally:
            close = getattr(stream, "close", None)
            if close is not None:  # a stopped answer: its generator ends here, and the model stops writing
                close()
            self.waits.leave(turn.id, took)
            self._stopping.discard(turn.id)

    def _store_stopped(
        self, turn: Turn, conversation: str, written: str, searched: str, panel: str
    ) -> tuple[str, str, str, None]:
        """Keep a stopped question in its conversation, marked as stopped, with what was written of its answer."""
        data = {"question": turn.question, "answer": written, "stopped": True, "searched": searched}
        self.conversations.answer_turn(turn.id, data)
        turns, total = self._shown(conversation)
        return render_chat(turns, total=total), panel, status_html("Réponse arrêtée.", done=True), None

    def stop(self, conversation: str) -> tuple[Any, str]:
        """« Arrêter »: the answer being written stops at its next word; the questions waiting stop at once.

        Each stays in the conversation, marked as stopped. Returns (chat, status); the chat is left as it is while
        an answer is being written: that answer's own stream shows the conversation once it has stopped. A chat
        drawn here would show it still being written, and could reach the page after the stream's last update.
        """
        now: list[Turn] = []
        writing: list[int] = []
        with self._claim_lock:
            for turn in self.conversations.unanswered(conversation) if conversation else []:
                if turn.id in self._claimed:
                    writing.append(turn.id)
                else:
                    self._claimed.add(turn.id)
                    now.append(turn)
        for turn in now:
            held = self._pending.pop(str(turn.id))
            close = getattr(held.stream if held else None, "close", None)
            if close is not None:
                close()
            try:
                self._store_stopped(turn, conversation, "", held.searched if held else "", "")
            finally:
                self.waits.leave(turn.id)
                with self._claim_lock:
                    self._claimed.discard(turn.id)
        # The answer being written stops after the questions waiting are stored as stopped, so that the stream's
        # last update shows them all stopped.
        self._stopping.update(writing)
        if writing:
            status = "Arrêt demandé : la réponse s'arrête au prochain mot écrit."
            return gr_skip(), status_html(status, done=False)
        status = "Réponse arrêtée." if now else "Aucune réponse en cours à arrêter."
        return self._chat(conversation), status_html(status, done=True)

    def _shown(self, conversation: str) -> tuple[list[Turn], int]:
        """The turns the page shows (the last SHOWN_TURNS) and the conversation's number of turns."""
        return self.conversations.last_turns(conversation, SHOWN_TURNS)

    def _chat(self, conversation: str) -> str:
        turns, total = self._shown(conversation)
        return render_chat(turns, total=total)

    def _hold(self, turn: PendingTurn) -> str:
        """Keep a turn for `generate`; returns its pending id."""
        pending = uuid.uuid4().hex
        self._pending.put(pending, turn)
        return pending

    def rate(self, conversation: str, turn: int, rating: str) -> tuple[str, dict[str, Any]]:
        """A thumb on one answer of this conversation; returns the redrawn chat and what the comment box refers to.

        A comment belongs to the rating it was written for: the same thumb again keeps it, the other one drops it.
        """
        rated = self.conversations.turn(conversation, turn) if rating in ("up", "down") else None
        if rated is None or rated.pending or rated.answer.get("error"):
            return self._chat(conversation), {}
        comment = rated.comment if rated.rating == rating else ""
        self.conversations.set_feedback(turn, rating, comment, self.settings_snapshot())
        return self._chat(conversation), {"turn": turn, "rating": rating}

    def comment(self, conversation: str, rated: dict[str, Any], text: str) -> tuple[str, str]:
        """The optional comment on the answer last rated. Returns (chat, confirmation)."""
        rated = rated or {}
        turn = int(rated.get("turn", 0))
        if rated.get("rating") not in ("up", "down") or self.conversations.turn(conversation, turn) is None:
            return self._chat(conversation), "Notez d'abord une réponse (« Utile » ou « À revoir »)."
        self.conversations.set_feedback(turn, str(rated["rating"]), text, self.settings_snapshot())
        return self._chat(conversation), "Merci, votre avis est enregistré."

    def search(
        self, query: str, year_min: int | None, year_max: int | None, kinds: list[str], sources: list[str]
    ) -> tuple[str, str]:
        """Staff search: ranked passages with the query's words highlighted; no generation. Returns (results, status)."""
        try:
            return self._search(query, year_min, year_max, kinds, sources)
        finally:
            self.memory.after_request()

    def _search(
        self, query: str, year_min: int | None, year_max: int | None, kinds: list[str], sources: list[str]
    ) -> tuple[str, str]:
        if not (query or "").strip():
            return "", "Tapez des mots à chercher."
        filters = Filters(
            year_min=int(year_min) if year_min else None,
            year_max=int(year_max) if year_max else None,
            kinds=tuple(kinds or ()),
            sources=tuple(sources or ()),
        )
        started = time.perf_counter()
        try:
            passages = self.assistant.search(query, filters, top_k=20)
        except QuestionError:
            return "", html.escape(question_message(query, "recherche"))
        except Assistant27Error as exc:
            return "", html.escape(str(exc))
        except Exception:
            log.exception("search failed for %r", query)
            return "", "La recherche a échoué. Réessayez ; si elle persiste, prévenez l'équipe."
        took = time.perf_counter() - started
        return render_search(query, passages, took, filtered=not filters.is_empty())

    def refilter(
        self, query: str, year_min: int | None, year_max: int | None, kinds: list[str], sources: list[str]
    ) -> tuple[Any, Any]:
        """A filter changed: search again with it, when there are words to search (else leave the page as it is)."""
        if not (query or "").strip():
            return gr_skip(), gr_skip()
        return self.search(query, year_min, year_max, kinds, sources)

    def publications(self) -> list[list[Any]]:
        """The indexed publications with their metadata and ingestion report, one row each."""
        rows = []
        for source, entry in sorted(self.assistant.publications().items()):
            r = entry.get("report", {})
            rows.append(
                [
                    r.get("title", ""),
                    r.get("year") or "",
                    r.get("kind", ""),
                    source,
                    r.get("pages") or "",
                    ", ".join(str(p) for p in r.get("empty_pages", [])),
                    r.get("chunks", len(entry.get("chunk_ids", []))),
                    r.get("characters", ""),
                    "; ".join(r.get("warnings", [])) or r.get("error", ""),
                ]
            )
        return rows

    def programme_table(self, year: int | str | None, partner: str | None, kind: str | None) -> list[list[Any]]:
        """The programme catalogue as rows (name, kind, start, years, publications, partners, funders, places)."""
        catalogue = self.assistant.catalogue
        rows = []
        for p in catalogue.filter(int(year) if year else None, partner or "", kind or ""):
            rows.append(
                [
                    p.name,
                    p.kind,
                    p.start or "",
                    ", ".join(map(str, p.years)),
                    len(p.sources),
                    ", ".join(f.value for f in p.partners),
                    ", ".join(f.value for f in p.funders),
                    ", ".join(f.value for f in p.places),
                ]
            )
        return rows

    def filter_programmes(
        self, year: int | str | None, partner: str | None, kind: str | None
    ) -> tuple[list[list[Any]], str, str]:
        """The programme table for these filters, the same as cards (a phone), and a line saying what to try when
        no programme matches."""
        rows = self.programme_table(year, partner, kind)
        cards = render_cards(PROGRAMME_HEADERS, rows)
        if rows:
            return rows, cards, f"{len(rows)} programme{'s' if len(rows) > 1 else ''}."
        # The partner typed is shown as plain words: the line is Markdown, so its marks and tags are dropped.
        typed = " ".join(_MARKDOWN_MARKS.sub(" ", partner or "").split())[:80]
        given = [f"l'année {year}" if year else "", f"« {typed} »" if typed else "", f"le type « {kind} »" if kind else ""]
        said = ", ".join(g for g in given if g) or "ces filtres"
        return rows, cards, (
            f"Aucun programme pour {said}. Retirez un filtre, ou essayez un autre nom de partenaire "
            "(un mot suffit), ou cherchez le mot dans l'onglet « Recherche »."
        )

    def reading(self, source: str, key: str = "") -> str | None:
        """A publication that is no PDF as a readable page, the passage `key` marked; None if not in the index."""
        entry = self.assistant.publications().get(source)
        if entry is None or self.source_path(source) is None:
            return None
        # The store keeps a publication's chunks in the order they were cut; a PDF's pages sort them first.
        pieces = [c for c in self.assistant.chunks_by_id.values() if c.source == source]
        pieces.sort(key=lambda c: c.page or 0)
        title = str(entry.get("report", {}).get("title") or source)
        return render_reading(title, pieces, key, "/source/" + quote(source))

    def programme_page(self, name: str | None) -> str:
        """One programme: its timeline across the publications, each step quoted with a link to its source."""
        catalogue = self.assistant.catalogue
        programme = catalogue.find(name or "") if name else None
        if programme is None:
            return "<p class='a27-empty'>Choisissez un programme dans la liste pour voir son parcours.</p>"
        chunks = self.assistant.chunks_by_id
        terms = stems(" ".join(programme.variants))
        e = html.escape
        parts = [f"<h3>{e(programme.name)}</h3>"]
        if programme.dates:
            said = "; ".join(f"{d.start} ({e(d.source)} : « {e(d.phrase)} »)" for d in programme.dates)
            parts.append(f"<p class='a27-meta'>Début indiqué : {said}</p>")
        for a, b in programme.disagreements():
            parts.append(
                f"<p class='a27-warning'>Les publications ne concordent pas sur le début : {e(a.source)} indique "
                f"{a.start}, {e(b.source)} indique {b.start}.</p>"
            )
        for label, facts in (
            ("Partenaires", programme.partners),
            ("Financeurs", programme.funders),
            ("Lieux", programme.places),
        ):
            if facts:
                parts.append(f"<p><b>{label} :</b> {e(', '.join(f.value for f in facts))}</p>")
        for year, _source, mentions in programme.timeline(per_publication=3):
            chunk = chunks.get(mentions[0].chunk_id)
            item = {"source": mentions[0].source, "year": year, "title": chunk.title if chunk else ""}
            quotes = "".join(
                f"<div class='a27-quote'>« {highlight(' '.join(m.sentence.split()), terms)} »</div>" for m in mentions
            )
            parts.append(
                f"<div class='a27-passage a27-step'><div class='a27-meta'>{e(str(year or ''))} — {_place(item)}</div>"
                f"{quotes}{source_link(item)}</div>"
            )
        return "<div class='a27-programme'>" + "".join(parts) + "</div>"

    def export_markdown(self, conversation: str) -> str | None:
        """Write the whole conversation as Markdown, when the user asks to download it; None while it is empty.

        Only here is the whole conversation read: a chat turn reads the turns shown and writes no file.
        """
        turns = self.conversations.turns(conversation)
        if not turns:
            return None
        path = self._exports / f"conversation-{conversation}.md"
        path.write_text(conversation_markdown(turns, self.of_publisher), encoding="utf-8")
        self._export_files.put(conversation, path)
        return str(path)

    def settings_snapshot(self) -> dict[str, Any]:
        """The settings an answer was made with, stored with its feedback (no secrets)."""
        values = dataclasses.asdict(self.settings)
        values.pop("openai_api_key", None)
        values.pop("llamaindex_kwargs", None)
        values["generator"] = self.assistant.generator.name
        return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}

    def source_path(self, source: str) -> Path | None:
        """The corpus file behind a passage, only when it is an indexed file inside the corpus folder."""
        if source not in self.assistant.publications():
            return None
        path = (self.corpus_dir / source).resolve()
        return path if path.is_file() and path.is_relative_to(self.corpus_dir) else None

    # ---- the named API: what gradio_client or any HTTP client calls (README, "The web app's API") -----------

    def api_ask(self, question: str) -> dict:
        """Answer one question (no conversation): the JSON of `ask --json`, citations and refusal kind included."""
        try:
            return self.assistant.ask(question).to_json()
        except Assistant27Error as exc:
            raise gr.Error(str(exc)) from exc

    def api_search(self, query: str, year: int = 0) -> list:
        """Ranked passages for a query (no answer), of one year's publications when `year` is given."""
        filters = Filters(year_min=int(year), year_max=int(year)) if year else None
        try:
            return [p.to_json() for p in self.assistant.search(query, filters)]
        except Assistant27Error as exc:
            raise gr.Error(str(exc)) from exc

    def api_programmes(self, year: int = 0, partner: str = "") -> list:
        """The programme catalogue (as `assistant27 programmes --json`), filtered by year or partner when given."""
        return [p.to_json() for p in self.assistant.catalogue.filter(int(year) or None, partner, "")]

    # ---- layout and wiring ------------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        manifest = self.assistant.publications()
        reports = [e.get("report", {}) for e in manifest.values()]
        kinds = sorted({r.get("kind", "") for r in reports} - {""})
        years = sorted({int(r["year"]) for r in reports if r.get("year")})
        sources = sorted((r.get("title") or s, s) for s, r in zip(manifest, reports, strict=True))

        with gr.Blocks(title=self.title, analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
            browser = gr.BrowserState(
                None, storage_key="assistant27-browser", secret=self.conversations.browser_secret()
            )
            # First, so that they keep these names (the page's own events are named after their handlers).
            gr.api(self.api_ask, api_name="ask")
            gr.api(self.api_search, api_name="search")
            gr.api(self.api_programmes, api_name="programmes")
            conversation = gr.State("")
            pending = gr.State("")
            rated = gr.State({})
            gr.HTML(f"<h1 class='a27-title'>{html.escape(self.heading, quote=False)}</h1>", elem_id="a27-heading")
            with gr.Tabs():
                with gr.Tab("Discussion", id="chat"), gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.HTML(render_chat([]), js_on_load=CHAT_JS, elem_id="a27-chat")
                        status = gr.HTML("", elem_id="a27-status")
                        with gr.Row(elem_id="a27-ask"):
                            question = gr.Textbox(
                                placeholder="Posez une question sur les publications…",
                                label="Votre question",
                                show_label=False,
                                scale=5,
                                elem_id="a27-question",
                                max_length=2000,
                            )
                            send = gr.Button("Envoyer", variant="primary", scale=1, min_width=90, elem_id="a27-send")
                            stop = gr.Button("Arrêter", variant="stop", scale=1, min_width=90, elem_id="a27-stop")
                        with gr.Row(elem_id="a27-examples") as examples:
                            example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in self.examples]
                        with gr.Row():
                            comment = gr.Textbox(
                                placeholder="Un commentaire sur la réponse notée ? (facultatif)",
                                label="Commentaire sur la réponse notée",
                                show_label=False,
                                scale=5,
                                elem_id="a27-comment",
                            )
                            comment_send = gr.Button("Envoyer l'avis", scale=1, elem_id="a27-comment-send")
                        comment_status = gr.Markdown("", elem_id="a27-comment-status")
                        with gr.Row():
                            new = gr.Button("Nouvelle conversation", elem_id="a27-new")
                            export = gr.Button("Exporter en Markdown", elem_id="a27-export")
                            # The file is written on the click above, then this button (in the page, unseen)
                            # downloads it: a DownloadButton only downloads the value it already holds.
                            export_file = gr.DownloadButton(
                                "Télécharger", value=None, visible="hidden", elem_id="a27-export-file"
                            )
                        past = gr.Dropdown(
                            [], value=None, label="Conversations précédentes", elem_id="a27-past", interactive=True
                        )
                    with gr.Column(scale=2):
                        panel = gr.HTML(render_passages_panel(None), elem_id="a27-passages")
                with gr.Tab("Recherche", id="search"):
                    with gr.Row():
                        query = gr.Textbox(label="Recherche", placeholder="Mots à chercher", scale=4, elem_id="a27-q")
                        search = gr.Button("Rechercher", variant="primary", scale=1, elem_id="a27-search")
                    with gr.Row():
                        year_min = gr.Dropdown(years, value=None, label="Année min.", elem_id="a27-year-min")
                        year_max = gr.Dropdown(years, value=None, label="Année max.", elem_id="a27-year-max")
                        kind = gr.Dropdown(kinds, multiselect=True, label="Type de publication", elem_id="a27-kind")
                        source = gr.Dropdown(sources, multiselect=True, label="Publication", elem_id="a27-source")
                    search_status = gr.Markdown("", elem_id="a27-search-status")
                    results = gr.HTML("", elem_id="a27-results")
                with gr.Tab("Programmes", id="programmes"):
                    programme_names = [p.name for p in self.assistant.catalogue.programmes]
                    with gr.Row():
                        prog_year = gr.Dropdown(years, value=None, label="Année", elem_id="a27-prog-year")
                        prog_partner = gr.Textbox(
                            label="Partenaire, financeur ou lieu",
                            placeholder="ex. une ville, une fondation",
                            elem_id="a27-prog-partner",
                        )
                        prog_kind = gr.Dropdown(
                            ["programme", "projet"], value=None, label="Type", elem_id="a27-prog-kind"
                        )
                        prog_filter = gr.Button("Filtrer", elem_id="a27-prog-filter")
                    programmes = self.programme_table(None, None, None)
                    prog_table = gr.Dataframe(
                        value=programmes,
                        headers=PROGRAMME_HEADERS,
                        column_widths=PROGRAMME_WIDTHS,
                        interactive=False,
                        wrap=True,
                        elem_id="a27-programmes",
                    )
                    prog_cards = gr.HTML(render_cards(PROGRAMME_HEADERS, programmes), elem_id="a27-programme-cards")
                    prog_status = gr.Markdown("", elem_id="a27-prog-status")
                    prog_name = gr.Dropdown(
                        programme_names, value=None, label="Parcours d'un programme", elem_id="a27-prog-name"
                    )
                    prog_page = gr.HTML(self.programme_page(None), elem_id="a27-programme")
                with gr.Tab("Publications", id="publications"):
                    publications = self.publications()
                    if not publications:
                        gr.HTML(
                            "<p class='a27-empty'>Aucune publication indexée. Ajoutez des fichiers au dossier du "
                            "corpus, puis lancez : assistant27 ingest</p>"
                        )
                    gr.Dataframe(
                        value=publications,
                        headers=PUBLICATION_HEADERS,
                        column_widths=PUBLICATION_WIDTHS,
                        interactive=False,
                        wrap=True,
                        elem_id="a27-publications",
                    )
                    gr.HTML(render_cards(PUBLICATION_HEADERS, publications), elem_id="a27-publication-cards")

            loaded = demo.load(
                self.start, [browser], [browser, conversation, chat, export_file, panel, past], show_progress="hidden"
            )
            loaded.then(lambda c: gr.Row(visible=not self.conversations.last_turns(c, 0)[1]), [conversation], examples)
            loaded.then(
                self.resume,
                [conversation],
                [chat, panel, status, export_file],
                concurrency_limit=GENERATION_CONCURRENCY,
                concurrency_id="generate",
                show_progress="hidden",
            )
            ask_inputs: dict[str, Any] = {"fn": self.retrieve, "inputs": [question, conversation]}
            ask_outputs = [chat, panel, status, question, pending]
            searching: dict[str, Any] = {"concurrency_limit": SEARCH_CONCURRENCY, "concurrency_id": "search"}
            writing: dict[str, Any] = {
                "fn": self.generate,
                "inputs": [pending, conversation],
                "outputs": [chat, panel, status, export_file],
                "concurrency_limit": GENERATION_CONCURRENCY,
                "concurrency_id": "generate",
                # The status line says in French what happens (wait_status); no timer of Gradio's besides.
                "show_progress": "hidden",
            }
            hide_examples: dict[str, Any] = {
                "fn": lambda: gr.Row(visible=False),
                "outputs": examples,
                "show_progress": "hidden",
                "queue": False,
            }
            # "multiple": a question sent while the previous one is searched is queued too (Gradio's default
            # for clicks, "once", drops it without a word).
            searching_ask = {**searching, "trigger_mode": "multiple"}
            question.submit(**ask_inputs, outputs=ask_outputs, show_progress="hidden", **searching_ask).then(
                **writing
            ).then(**hide_examples)
            question.submit(**hide_examples)
            send.click(**hide_examples)
            send.click(**ask_inputs, outputs=ask_outputs, show_progress="hidden", **searching_ask).then(**writing).then(
                **hide_examples
            )
            for button in example_buttons:
                button.click(
                    self.retrieve,
                    [button, conversation],
                    ask_outputs,
                    show_progress="hidden",
                    **searching,
                ).then(**writing).then(**hide_examples)
                button.click(**hide_examples)
            chat.select(self._on_thumb, [conversation], [chat, rated, comment_status], show_progress="hidden")
            comment_send.click(self.comment, [conversation, rated, comment], [chat, comment_status]).then(
                lambda: "", None, comment
            )
            new.click(
                self.new_conversation, [browser], [browser, conversation, chat, panel, export_file, past]
            ).then(lambda: gr.Row(visible=True), None, examples)
            past.input(self.open_conversation, [browser, past], [conversation, chat, panel, past], **searching).then(
                lambda c: gr.Row(visible=not self.conversations.last_turns(c, 0)[1]), [conversation], examples
            )
            stop.click(self.stop, [conversation], [chat, status], show_progress="hidden", **searching)
            export.click(
                self.export_markdown, [conversation], [export_file], show_progress="hidden", **searching
            ).success(None, None, None, js=DOWNLOAD_JS)
            prog_inputs = [prog_year, prog_partner, prog_kind]
            prog_outputs = [prog_table, prog_cards, prog_status]
            prog_filter.click(self.filter_programmes, prog_inputs, prog_outputs, **searching)
            prog_partner.submit(self.filter_programmes, prog_inputs, prog_outputs, **searching)
            prog_year.change(self.filter_programmes, prog_inputs, prog_outputs, **searching)
            prog_kind.change(self.filter_programmes, prog_inputs, prog_outputs, **searching)
            prog_name.change(self.programme_page, [prog_name], [prog_page], **searching)
            prog_table.select(self._on_programme_row, None, [prog_name], **searching)
            search_inputs = [query, year_min, year_max, kind, source]
            search.click(self.search, search_inputs, [results, search_status], api_name="search_page", **searching)
            query.submit(self.search, search_inputs, [results, search_status], **searching)
            for search_filter in (year_min, year_max, kind, source):  # a filter applies as soon as it changes
                search_filter.change(self.refilter, search_inputs, [results, search_status], **searching)
        # Gradio keeps each session's state (its copy of the page's components and their last values) until
        # `state_session_capacity` newer sessions push it out: bounded by settings.web_sessions, not 10,000.
        demo.state_session_capacity = self.settings.web_sessions
        os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", ANALYTICS_EVENTS)  # read by queue()
        demo.queue(default_concurrency_limit=GENERATION_CONCURRENCY)
        return demo

    def _on_programme_row(self, evt: gr.SelectData) -> Any:
        """A click on a row of the programme table opens that programme's timeline."""
        row = evt.row_value if isinstance(getattr(evt, "row_value", None), list) else None
        return gr.Dropdown(value=row[0]) if row else gr_skip()

    def _on_thumb(self, conversation: str, evt: gr.EventData) -> tuple[str, dict[str, Any], str]:
        """A thumb clicked; the line under the comment box says when the comment of the other rating went."""
        data = evt._data if isinstance(evt._data, dict) else {}
        try:
            turn = int(data.get("turn", 0))
            before = self.conversations.turn(conversation, turn)
            chat, rated = self.rate(conversation, turn, str(data.get("rating", "")))
        except Exception:
            log.exception("feedback failed")
            return self._chat(conversation), {}, ""
        after = self.conversations.turn(conversation, turn) if rated else None
        dropped = before is not None and after is not None and before.comment and not after.comment
        return chat, rated, "Note changée : le commentaire écrit pour l'autre note est retiré." if dropped else ""

    def asgi_app(self, token: str | None = None) -> ASGIApp:
        """The page and `/source/FILE` (corpus files only) as one ASGI app; behind `TokenGate` when `token` is set."""
        import fastapi
        from fastapi.responses import FileResponse, HTMLResponse

        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        app = fastapi.FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/source/{source:path}")
        def source_file(source: str) -> FileResponse:
            path = self.source_path(source)
            if path is None:
                raise fastapi.HTTPException(status_code=404, detail="Pas de tel fichier dans le corpus.")
            return FileResponse(path, content_disposition_type="inline")

        @app.get("/read/{source:path}")
        def read_publication(source: str, passage: str = "") -> HTMLResponse:
            page = self.reading(source, passage)
            if page is None:
                raise fastapi.HTTPException(status_code=404, detail="Pas de telle publication dans l'index.")
            return HTMLResponse(page)

        mount_openai_api(app, self.assistant)  # /v1/...: before Gradio, which takes every other path

        theme = gr.themes.Soft(
            font=[gr.themes.Font("system-ui"), "Segoe UI", "Roboto", "sans-serif"],
            font_mono=[gr.themes.Font("ui-monospace"), "monospace"],
        ).set(
            # Darker shades where the theme's fall short of WCAG AA contrast (axe-core's color-contrast rule):
            # labels, the primary buttons, subdued text and placeholders.
            block_label_text_color="*primary_800",
            block_title_text_color="*primary_800",
            button_primary_background_fill="*primary_700",
            button_primary_background_fill_hover="*primary_800",
            body_text_color_subdued="*neutral_600",
            input_placeholder_color="*neutral_500",
        )
        # The page being served; Gradio hangs its sessions' state on it (`page.state_holder`) when mounting.
        self.page = self.build()
        app = gr.mount_gradio_app(
            app, self.page, path="", theme=theme, css=CSS, head=FRENCH_LABELS_JS, footer_links=[], ssr_mode=False
        )
        return TokenGate(app, token, self.title, self.heading) if token else app

    def launch(
        self, host: str = "127.0.0.1", port: int = 7860, *, token: str | None = None, quiet: bool = False
    ) -> None:
        """Serve until interrupted."""
        import uvicorn

        if not quiet:
            print(f"{self.title} : http://{host}:{port}/", flush=True)
        uvicorn.run(self.asgi_app(token), host=host, port=port, log_level="warning")


def example_questions(corpus_dir: Path) -> list[str]:
    """The corpus's example questions (`EXAMPLES_FILE`, a JSON list of strings), else `DEFAULT_EXAMPLES`."""
    path = corpus_dir / EXAMPLES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return list(DEFAULT_EXAMPLES)
    except (OSError, ValueError) as exc:
        log.warning("%s: not read (%s); general examples are shown. Write a JSON list of questions.", path, exc)
        return list(DEFAULT_EXAMPLES)
    items = data if isinstance(data, list) else []
    questions = [" ".join(q.split()) for q in items if isinstance(q, str) and q.strip()]
    if not questions:
        log.warning("%s: no question in it; general examples are shown. Write a JSON list of questions.", path)
        return list(DEFAULT_EXAMPLES)
    return questions[:MAX_EXAMPLES]


def question_message(text: str, what: str = "question") -> str:
    """What the page says when the core refuses a question (QuestionError): too long, or nothing left to ask."""
    if len(text.strip()) > MAX_QUESTION_CHARS:
        return f"La {what} est trop longue ({len(text.strip())} caractères, {MAX_QUESTION_CHARS} au plus). Raccourcissez-la."
    return f"La {what} est vide une fois les caractères invisibles retirés. Tapez des mots."


def gr_skip() -> Any:
    return gr.skip()


def answer_sources(question: str, found: PassagesFound | None) -> list[str]:
    """The texts a generated answer may repeat word for word: the question and the passages found for it."""
    return [question, *(f"{p.title} {p.text}" for p in (found.passages if found else []))]


def history_of(turns: list[Turn]) -> list[dict[str, str]]:
    """The conversation as the `history` that `Assistant.ask_stream` takes."""
    history = []
    for turn in turns:
        history.append({"role": "user", "content": turn.question})
        history.append({"role": "assistant", "content": str(turn.answer.get("answer", ""))})
    return history
