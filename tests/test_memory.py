"""The web app's memory stays bounded: every per-session store and cache drops its oldest entries past its limit."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from appserver import make_app, serving
from click.testing import CliRunner

from assistant27.cli import main
from assistant27.config import Settings
from assistant27.generators import ScriptedGenerator
from assistant27.webapp import PENDING_TURNS, SHOWN_TURNS, MemoryTrim, Recent, WebApp, render_chat, tune_malloc

QUESTION = "Qui a participé à Nouveaux Accords ?"
REPLY = "La Communauté urbaine de Dunkerque a participé à Nouveaux Accords [1]."


def chat(app: WebApp, conversation: str, question: str = QUESTION) -> list[tuple]:
    first = list(app.retrieve(question, conversation))
    return list(app.generate(first[-1][4], conversation))


def test_recent_drops_the_least_recently_set_entry() -> None:
    dropped: list[tuple[str, int]] = []
    recent: Recent[str, int] = Recent(2, on_drop=lambda k, v: dropped.append((k, v)))
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 3)  # set again: now the most recent
    recent.put("c", 4)
    assert dropped == [("b", 2)] and len(recent) == 2 and "a" in recent and "c" in recent
    assert recent.pop("a") == 3 and recent.pop("a") is None and dropped == [("b", 2)]  # pop is not a drop


def test_exports_are_kept_for_the_last_conversations_only(settings: Settings) -> None:
    app = make_app(settings.replace(web_sessions=2), ScriptedGenerator([REPLY] * 3))
    exports = []
    for _ in range(3):
        _browser, conversation, *_ = app.start(None)
        chat(app, conversation)
        exports.append(Path(str(app.export_markdown(conversation))))
    assert [p.exists() for p in exports] == [False, True, True]
    assert len(list(exports[-1].parent.iterdir())) == 2


def test_a_chat_turn_writes_no_export_and_the_download_holds_every_turn(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([f"Réponse {i} : Dunkerque a participé [1]." for i in range(3)]))
    _browser, conversation, _chat, export, *_ = app.start(None)
    assert export is None
    for i in range(3):
        steps = chat(app, conversation, f"Question {i} : qui a participé à Nouveaux Accords ?")
        assert all(step[3] is None for step in steps)  # the download button is given no file at a turn
    assert list(app._exports.iterdir()) == []  # and none was written
    path = Path(str(app.export_markdown(conversation)))  # the click on "Exporter en Markdown"
    text = path.read_text(encoding="utf-8")
    assert [f"Question {i}" in text for i in range(3)] == [True] * 3 and list(app._exports.iterdir()) == [path]


def test_a_request_reads_only_the_turns_it_shows(settings: Settings) -> None:
    # A long conversation (3 x SHOWN_TURNS turns, stored directly) whose older turns are then made unreadable in
    # the SQLite file: every request of the page still works, so none of them reads more than the turns it shows.
    scripted = ScriptedGenerator([REPLY])
    app = make_app(settings, scripted)
    browser, conversation, *_ = app.start(None)
    ids = [
        app.conversations.add_turn(
            conversation,
            {"question": f"Question n°{i} : qui a participé à Nouveaux Accords ?", "answer": f"Réponse n°{i}."},
        )
        for i in range(3 * SHOWN_TURNS)
    ]
    export = Path(str(app.export_markdown(conversation))).read_text(encoding="utf-8")
    assert all(f"Question n°{i} :" in export for i in range(3 * SHOWN_TURNS))  # the download holds them all
    with sqlite3.connect(app.conversations.path) as db:
        db.execute("UPDATE turns SET answer = 'not JSON' WHERE id <= ?", (ids[-SHOWN_TURNS - 1],))
    db.close()
    page = app.start(browser)[2]
    assert page.count("class='a27-turn'") == SHOWN_TURNS and f"{2 * SHOWN_TURNS} questions plus anciennes" in page
    assert "Question n°40 :" in page and "Question n°59 :" in page
    steps = chat(app, conversation, "Et ensuite ?")  # a follow-up: the last turns still go to the generator
    assert any("Réponse n°59." in m["content"] for m in scripted.requests[0].messages)
    assert steps[-1][0].count("class='a27-turn'") == SHOWN_TURNS and "Question n°40 :" not in steps[-1][0]
    assert "Dunkerque" in steps[-1][0] and f"{2 * SHOWN_TURNS + 1} questions plus anciennes" in steps[-1][0]
    assert app.rate(conversation, ids[-1], "up")[1] == {"turn": ids[-1], "rating": "up"}
    assert "enregistré" in app.comment(conversation, {"turn": ids[-1], "rating": "up"}, "Clair.")[1]


@pytest.mark.slow  # a load: one more question than the bound, each retrieved
def test_pending_turns_are_bounded(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator())
    _browser, conversation, *_ = app.start(None)
    held = [list(app.retrieve(QUESTION, conversation))[-1][4] for _ in range(PENDING_TURNS + 1)]
    assert len(app._pending) == PENDING_TURNS and held[0] not in app._pending and held[-1] in app._pending


def test_the_page_shows_the_last_turns_and_says_where_the_others_are(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([f"Réponse numéro {i} à Nouveaux Accords [1]." for i in range(3)]))
    _browser, conversation, *_ = app.start(None)
    for i in range(3):
        chat(app, conversation, f"Question {i} : qui a participé à Nouveaux Accords ?")
    page = render_chat(app.conversations.turns(conversation), shown=2)
    assert "Question 0" not in page and "Question 1" in page and "Question 2" in page
    assert "1 question plus ancienne" in page
    export = Path(str(app.export_markdown(conversation))).read_text(encoding="utf-8")
    assert all(f"Question {i}" in export for i in range(3))


def test_memory_is_trimmed_at_most_every_interval() -> None:
    now = [0.0]
    calls: list[float] = []
    trim = MemoryTrim(60, release=lambda: calls.append(now[0]), clock=lambda: now[0])
    for t in (1, 59, 61, 62, 100, 122):
        now[0] = t
        trim.after_request()
    assert calls == [61, 122]
    assert not MemoryTrim(0, release=lambda: calls.append(-1)).after_request() and -1 not in calls


def test_malloc_settings_leave_what_the_environment_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # glibc read it at start; the app must not override it
    assert tune_malloc() in ([], ["MALLOC_MMAP_THRESHOLD_=65536"])  # [] off glibc


# Run in a fresh process (no thread has allocated yet): after tune_malloc, how many arenas glibc made for 4 new
# threads, and whether a block of 100 KB freed by one of them was mapped whole (mallinfo2's mmapped blocks).
_ARENAS_SCRIPT = """
import ctypes, ctypes.util, json, tempfile, threading
from assistant27.webapp import tune_malloc
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Info
set_ = tune_malloc()
mapped = []
def work():
    block = libc.malloc(100_000)
    mapped.append(libc.mallinfo2().hblks)
    libc.free(block)
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
path = tempfile.mktemp()
fp = libc.fopen(path.encode(), b"w"); libc.malloc_info(0, fp); libc.fclose(fp)
print(json.dumps({"set": set_, "arenas": open(path).read().count("<heap nr="), "mapped": min(mapped) > 0}))
"""


@pytest.mark.slow  # a fresh interpreter that imports the app
@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc settings")
def test_threads_started_after_tune_malloc_share_one_arena_and_map_large_blocks() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", _ARENAS_SCRIPT], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["set"] == ["MALLOC_ARENA_MAX=1", "MALLOC_MMAP_THRESHOLD_=65536"]
    assert result["arenas"] == 1  # 2 with MALLOC_ARENA_MAX=2: the first new thread makes its own
    assert result["mapped"]  # with the 128 KB threshold, 100 KB came from an arena


def test_serve_tunes_malloc_before_the_models_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant27.assistant
    import assistant27.webapp

    calls: list[str] = []

    class Models:
        @classmethod
        def from_settings(cls, settings: Settings) -> Models:
            calls.append("models")
            return cls()

        def warm_up(self) -> None:
            calls.append("warm up")

    class Page:
        def __init__(self, assistant: Models) -> None:
            pass

        def launch(self, host: str, port: int, token: str | None = None) -> None:
            calls.append("launch")

    monkeypatch.setattr(assistant27.webapp, "tune_malloc", lambda: calls.append("malloc") or [])
    monkeypatch.setattr(assistant27.assistant, "Assistant", Models)
    monkeypatch.setattr(assistant27.webapp, "WebApp", Page)
    result = CliRunner().invoke(main, ["serve", "--port", "7999"])
    assert result.exit_code == 0, result.output
    assert calls == ["malloc", "models", "warm up", "launch"]


def test_gradio_keeps_the_state_of_web_sessions_sessions_at_most(settings: Settings) -> None:
    from gradio_client import Client

    app = make_app(settings.replace(web_sessions=2), ScriptedGenerator([REPLY] * 3))
    with serving(app) as url:
        clients = [Client(url, verbose=False) for _ in range(3)]
        for client in clients:
            client.predict(None, api_name="/start")
        assert app.page is not None and len(app.page.state_holder.session_data) == 2
        # The first session's state (its conversation id) was dropped: it is asked to try again, as a page that
        # has not loaded its conversation yet is; a reload brings the conversation back.
        assert "réessayez" in str(clients[0].predict(QUESTION, api_name="/retrieve")[0])
        assert "Dunkerque" in str(clients[2].predict(QUESTION, api_name="/retrieve")[1])


def test_a_chat_turn_adds_nothing_to_the_gradio_session(settings: Settings) -> None:
    # Gradio 6 keeps a new copy of a component in the session for each gr.skip() followed by a value; the
    # chat's outputs are always values, so the session's components stay those of the page.
    from gradio_client import Client

    app = make_app(settings, ScriptedGenerator([REPLY] * 3))
    with serving(app) as url:
        client = Client(url, verbose=False)
        client.predict(None, api_name="/start")
        assert app.page is not None
        [session] = app.page.state_holder.session_data.values()
        components = len(session.blocks_config.blocks)
        for _ in range(3):
            client.predict(QUESTION, api_name="/retrieve")
            assert "Dunkerque" in str(client.predict(api_name="/generate")[0])
        assert len(session.blocks_config.blocks) == components
