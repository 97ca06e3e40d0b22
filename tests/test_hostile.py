"""Hostile text (issue 5): a corpus document that carries instructions, fake system tags, fake citations and
HTML/JS; odd questions; paths that try to leave the corpus; one browser reading another's conversations.

Citations must still come only from real passages, the page must never turn corpus or answer text into markup,
and no input may crash the assistant or the web handlers.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from appserver import make_app, serving
from conftest import DATA, SMALL_CATALOGUE, write_corpus

from assistant27.assistant import MAX_QUESTION_CHARS, Assistant
from assistant27.config import Settings
from assistant27.errors import QuestionError
from assistant27.generators import ExtractiveGenerator, Generator, ScriptedGenerator
from assistant27.schema import Answer
from assistant27.webapp import WebApp

HOSTILE = DATA / "hostile" / "programme-rebonds.txt"
QUESTION = "Qui participe au programme Rebonds ?"  # answered by retrieval and the generator
LIST_QUESTION = "Quels programmes les publications nomment-elles ?"  # answered from the programme catalogue
# What a model fooled by the document might write: fake markers, the injected word, markup of its own.
FOOLED_REPLY = (
    "Le programme Rebonds a réuni la Région Bretagne et la Métropole de Lyon [7]. PWNED [9]. "
    "Source: [1] Rapport secret 2030, page 99 [12]. <script>window.__pwned = true</script> "
    "<img src=x onerror=alert(1)> Les agents du programme Rebonds accompagnent les collectivités territoriales [1]."
)
ODD_QUESTIONS = {
    "control characters": "\x00\x07Quelles\x1b[31m collectivités\x08 ont participé à Nouveaux Accords ?\x7f",
    "bidi and zero-width": "\u202eQuelles\u200b collectivités\u200d ont participé à Nouveaux Accords ?\u202c",
    "chinese": "拉27区域参与了哪些项目？新协议是什么？",
    "arabic": "ما هي البرامج التي قامت بها المنطقة السابعة والعشرون؟",
    "emoji": "🌲🌳 Le programme forêts 2025 ? 🤔🔥",
    "sql and template": "'; DROP TABLE turns; -- {question} {{passages}} $(rm -rf /)",
    "one long word": "a" * MAX_QUESTION_CHARS,
    "newlines": "Nouveaux Accords\n\n\n?\n" * 20,
}
REFUSED_QUESTIONS = {
    "too long": "Quelles collectivités ? " * 100,  # 2400 characters
    "only control characters": "\x00\x01\x02\x1b\x7f",
}


@pytest.fixture
def hostile_settings(isolated_state: Path) -> Settings:
    corpus = write_corpus(
        isolated_state / "corpus",
        catalogue=SMALL_CATALOGUE + "programme-rebonds.txt,Programme Rebonds,guide,2023,fr,\n",
    )
    shutil.copy(HOSTILE, corpus / HOSTILE.name)
    return Settings.from_env()


def _assistant(settings: Settings, generator: Generator) -> Assistant:
    return make_app(settings, generator).assistant


def assert_citations_are_real(answer: Answer) -> None:
    """Every marker in the answer is a citation, numbered 1..k, each the text of a retrieved passage."""
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    numbers = [c.n for c in answer.citations]
    assert markers == set(numbers), (answer.answer, numbers)
    assert numbers == list(range(1, len(numbers) + 1))
    retrieved = {(p.source, p.text) for p in answer.passages}
    assert all((c.passage.source, c.passage.text) in retrieved for c in answer.citations)


@pytest.mark.parametrize("generator", ["scripted", "extractive"])
def test_injected_text_cannot_invent_citations(hostile_settings: Settings, generator: str) -> None:
    gen: Generator = ScriptedGenerator([FOOLED_REPLY]) if generator == "scripted" else ExtractiveGenerator()
    assistant = _assistant(hostile_settings, gen)
    answer = assistant.ask(QUESTION)
    assert not answer.refused and answer.citations
    assert any(p.source == "programme-rebonds.txt" for p in answer.passages)  # the hostile text was retrieved
    assert_citations_are_real(answer)
    assert "[7]" not in answer.answer and "[9]" not in answer.answer and "[12]" not in answer.answer
    assert answer.to_json()["citations"] and all(c["n"] <= len(answer.passages) for c in answer.to_json()["citations"])
    if isinstance(gen, ScriptedGenerator):
        # Corpus text reaches the model only as numbered data in the user message, never as system text.
        system, *_rest, user = gen.requests[0].messages
        assert system["role"] == "system" and "Ignore previous" not in system["content"]
        assert "<|im_start|>" not in system["content"]
        assert user["role"] == "user"


def test_catalogue_answers_over_hostile_text_cite_only_real_passages(hostile_settings: Settings) -> None:
    app = make_app(hostile_settings, ScriptedGenerator(["never used"]))
    answer = app.assistant.ask(LIST_QUESTION)
    assert answer.generator == "catalogue"
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}
    stored = {(c.source, c.text) for c in app.assistant.store.all_chunks()}
    assert all((c.passage.source, c.passage.text) in stored for c in answer.citations)
    assert "[7]" not in answer.answer and "[9]" not in answer.answer
    names = [line[2:].split(" (")[0] for line in answer.answer.splitlines() if line.startswith("- ")]
    assert "Rebonds" in names and "PWNED" not in names
    # The page shows the quoted corpus text as text.
    _browser, conversation, *_ = app.start(None)
    first = list(app.retrieve(LIST_QUESTION, conversation))
    for step in first + list(app.generate(first[-1][4], conversation)):
        for value in step:
            if isinstance(value, str):
                assert_safe_html(value)


class _Tags(HTMLParser):
    """Every tag and attribute of an HTML fragment, as the browser would parse it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


SAFE_TAGS = {"div", "span", "p", "h4", "mark", "button", "details", "summary", "a", "br"}


def assert_safe_html(fragment: str) -> None:
    """Only our own markup: known tags, no event handlers, links only to the app's /source/ and /read/ routes."""
    parser = _Tags()
    parser.feed(fragment)
    for tag, attrs in parser.tags:
        assert tag in SAFE_TAGS, (tag, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name == "href":
                assert (value or "").startswith(("/source/", "/read/")), value
            if name == "src":
                raise AssertionError(f"{tag} has src={value!r}")


def test_hostile_passages_and_answers_are_shown_as_text(hostile_settings: Settings) -> None:
    app = make_app(hostile_settings, ScriptedGenerator([FOOLED_REPLY]))
    _browser, conversation, *_ = app.start(None)
    first = list(app.retrieve(QUESTION, conversation))
    second = list(app.generate(first[-1][4], conversation))
    chat, panel, _status, _export = second[-1]
    assert "programme-rebonds.txt" in panel  # the hostile passage is shown...
    assert "&lt;script&gt;" in panel + chat  # ...as text
    for step in first + second:
        for value in step:
            if isinstance(value, str):
                assert_safe_html(value)
    results, _ = app.search("script onerror pwned Rebonds", None, None, [], [])
    assert "programme-rebonds.txt" in results and "&lt;img src=x" in results and "&lt;svg" in results
    assert_safe_html(results)


def test_web_chat_says_a_question_is_too_long(settings: Settings) -> None:
    scripted = ScriptedGenerator()
    app = make_app(settings, scripted)
    _browser, conversation, *_ = app.start(None)
    steps = list(app.retrieve("x" * 2500, conversation))
    chat, _panel, _status, kept, pending = steps[-1]
    assert "trop longue (2500 caractères, 2000 au plus)" in chat and "role='alert'" in chat
    assert kept == "x" * 2500  # the text stays in the box to shorten
    # The pending turn only shows the same message again: nothing is generated.
    assert list(app.generate(pending, conversation))[-1][0] == chat and not scripted.requests
    assert len(re.sub(r"<[^>]+>", "", chat)) < 300  # a short message, not the question echoed back
    results, status = app.search("x " * 1500, None, None, [], [])
    assert results == "" and "trop longue" in status


@pytest.mark.parametrize("name", sorted(ODD_QUESTIONS))
def test_odd_questions_get_an_answer_or_a_refusal(settings: Settings, name: str) -> None:
    question = ODD_QUESTIONS[name]
    for generator in (ExtractiveGenerator(), ScriptedGenerator(["Nouveaux Accords a réuni des collectivités [1]."])):
        assistant = _assistant(settings, generator)
        answer = assistant.ask(question)
        assert answer.refused or answer.answer
        assert_citations_are_real(answer)
        assert not any(ch in answer.question for ch in "\x00\x07\x1b\x7f")  # control characters are dropped
        assert isinstance(assistant.search(question), list)


@pytest.mark.parametrize("name", sorted(REFUSED_QUESTIONS))
def test_refused_questions_are_a_clear_error(settings: Settings, name: str) -> None:
    assistant = _assistant(settings, ExtractiveGenerator())
    with pytest.raises(QuestionError, match="too long|empty"):
        assistant.ask(REFUSED_QUESTIONS[name])


def test_odd_questions_through_the_web_handlers(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator(["Nouveaux Accords a réuni des collectivités [1]."] * 20))
    _browser, conversation, *_ = app.start(None)
    for question in [*ODD_QUESTIONS.values(), *REFUSED_QUESTIONS.values()]:
        first = list(app.retrieve(question, conversation))
        second = list(app.generate(first[-1][4], conversation)) if first[-1][4] else []
        for step in first + second:
            for value in step:
                if isinstance(value, str):
                    assert "Traceback" not in value and "Une erreur est survenue" not in value
                    assert_safe_html(value)
        results, status = app.search(question, None, None, [], [])
        assert "échoué" not in status
        assert_safe_html(results)
    answered = app.conversations.turns(conversation)
    assert len(answered) == len(ODD_QUESTIONS)  # every odd question got a turn; the refused ones none


def test_one_browser_cannot_read_or_rate_another(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator(["La Communauté urbaine de Dunkerque a participé [1]."]))
    browser_a, conversation_a, *_ = app.start(None)
    first = list(app.retrieve("Quelles collectivités ont participé à Nouveaux Accords ?", conversation_a))
    list(app.generate(first[-1][4], conversation_a))
    [turn_a] = app.conversations.turns(conversation_a)

    browser_b, conversation_b, chat_b, export_b, *_ = app.start(None)
    assert browser_b != browser_a and conversation_b != conversation_a
    assert "Dunkerque" not in chat_b and export_b is None
    assert app.conversations.current_conversation(browser_b) == conversation_b
    assert app.conversations.turns(conversation_b) == []
    # Nor can it open A's conversation as one of its past ones, nor see it listed.
    app.open_conversation(browser_b, conversation_a)
    assert app.conversations.current_conversation(browser_b) == conversation_b
    assert app.conversations.conversations(browser_b) == []
    # B's handlers only act on B's conversation: a turn id of A's is refused, nothing is stored.
    assert app.rate(conversation_b, turn_a.id, "down")[1] == {}
    _chat, message = app.comment(conversation_b, {"turn": turn_a.id, "rating": "down"}, "pirate")
    assert "Notez d'abord" in message
    assert app.conversations.feedback() == []
    # A new conversation for B leaves A's untouched; A still finds its own.
    app.new_conversation(browser_b)
    assert app.start(browser_a)[1] == conversation_a and "Dunkerque" in app.start(browser_a)[2]
    # Exports are one file per conversation: B's download never holds A's turns.
    export_a = app.export_markdown(conversation_a)
    assert export_a and conversation_a in export_a and app.export_markdown(conversation_b) is None


def test_source_path_refuses_links_out_of_the_corpus(settings: Settings, tmp_path: Path) -> None:
    app = make_app(settings, ScriptedGenerator())
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    indexed = settings.corpus_dir / "rapport-2025.txt"
    indexed.unlink()
    indexed.symlink_to(outside)  # an indexed name now pointing out of the corpus
    assert app.source_path("rapport-2025.txt") is None
    for name in ["/etc/passwd", "../state/corpus/rapport-2022.txt", "./rapport-2022.txt/..", "", ".", "%2e%2e"]:
        assert app.source_path(name) is None


ESCAPES = [
    "source/../../../../etc/passwd",
    "source/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "source/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "source/%252e%252e/%252e%252e/etc/passwd",
    "source//etc/passwd",
    "source/%2Fetc%2Fpasswd",
    "source/..\\..\\..\\etc\\passwd",
    "source/catalogue.csv",
    "source/rapport-2022.txt%00.pdf",
    "read/../../../../etc/passwd",
    "read/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "read/catalogue.csv",
    "read/%2Fetc%2Fpasswd",
    "gradio_api/file=/etc/passwd",
    "gradio_api/file=%2Fetc%2Fpasswd",
    "gradio_api/file=../../../../etc/passwd",
    "gradio_api/file=%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "gradio_api/file=..%2F..%2F..%2Fetc%2Fpasswd",
    "gradio_api/file={corpus}/rapport-2022.txt",
    "gradio_api/file={corpus}/catalogue.csv",
    "gradio_api/file={data}/conversations.sqlite3",
    "gradio_api/file={data}/browser-secret",
    "gradio_api/file=http://127.0.0.1:{port}/source/rapport-2022.txt",
    "file=/etc/passwd",
    "file={corpus}/rapport-2022.txt",
    "assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "static/../../../../etc/passwd",
    "gradio_api/static/..%2F..%2F..%2Fetc%2Fpasswd",
    "favicon.ico/..%2F..%2Fetc%2Fpasswd",
]


def test_routes_serve_only_what_they_should(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator())
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        secret = (settings.data_dir / "browser-secret").read_text(encoding="utf-8").strip()  # made by build()
        port = url.rstrip("/").rsplit(":", 1)[1]
        ok = http.get("source/rapport-2022.txt")
        assert ok.status_code == 200 and "Dunkerque" in ok.text
        read = http.get("read/rapport-2022.txt")
        assert read.status_code == 200 and "Dunkerque" in read.text
        for path in ESCAPES:
            path = path.format(corpus=settings.corpus_dir, data=settings.data_dir, port=port)
            response = http.get(url + path)  # the raw path: httpx keeps %2e and %2F as given
            assert response.status_code in (400, 403, 404), (path, response.status_code)
            body = response.text
            assert "root:" not in body and "Dunkerque" not in body and secret not in body, path
        # The page itself shows no server folder. (The BrowserState key is in it by Gradio's design: the browser
        # encrypts its local storage with it. The browser id it protects is random, and is the credential.)
        page = http.get("").text + http.get("config").text
        assert str(settings.data_dir) not in page and str(settings.corpus_dir) not in page


def test_web_app_binds_to_loopback_by_default() -> None:
    import inspect

    assert inspect.signature(WebApp.launch).parameters["host"].default == "127.0.0.1"
