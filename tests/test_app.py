"""The web app's handlers, called directly, on the tiny corpus with the scripted generator."""

from __future__ import annotations

import re
from pathlib import Path

from appserver import make_app

from assistant27.config import Settings
from assistant27.generators import ScriptedGenerator
from assistant27.webapp import WaitBoard, WebApp, highlight, render_chat, source_link, stems, wait_status

QUESTION = "Qui a participé à Nouveaux Accords ?"
REPLY = "La Communauté urbaine de Dunkerque a participé à Nouveaux Accords [1]."


def ask(app: WebApp, conversation: str, question: str) -> tuple[list[tuple], list[tuple]]:
    first = list(app.retrieve(question, conversation))
    second = list(app.generate(first[-1][4], conversation))
    return first, second


def test_passages_come_before_the_answer_then_the_turn_is_stored(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    browser, conversation, chat, export, *_ = app.start(None)
    assert browser and "exemple" in chat and export is None
    first = list(app.retrieve(QUESTION, conversation))
    # The question shows at once, then the passages, before any generation.
    assert "Nouveaux Accords" in first[0][0] and "Recherche" in first[0][2]
    assert "Dunkerque" in first[-1][1] and "a27-passage" in first[-1][1]
    assert app.assistant.generator.requests == []  # type: ignore[attr-defined]
    second = list(app.generate(first[-1][4], conversation))
    assert any("a27-streaming" in step[0] for step in second[:-1])
    chat, panel, status, export = second[-1]
    assert "Dunkerque" in chat and "data-target='a27-cit-" in chat and "<mark>" in chat
    assert "/read/rapport-2022.txt?passage=" in chat and "Réponse en" in status
    assert export is None  # a chat turn writes no export; the download button writes the whole conversation
    assert Path(str(app.export_markdown(conversation))).read_text(encoding="utf-8").startswith("# Conversation")
    # A reload (same browser) finds the conversation.
    assert app.start(browser)[1] == conversation and "Dunkerque" in app.start(browser)[2]


def test_follow_up_sends_the_conversation(settings: Settings) -> None:
    scripted = ScriptedGenerator([REPLY, "Elle a commencé en septembre 2022 [1]."])
    app = make_app(settings, scripted)
    _browser, conversation, *_ = app.start(None)
    ask(app, conversation, QUESTION)
    ask(app, conversation, "Pourquoi ?")
    contents = [m["content"] for m in scripted.requests[1].messages]
    assert any(REPLY.split(" [")[0] in c for c in contents)


def test_refusal_looks_like_one_and_keeps_the_closest_passages(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator(["Les publications ne répondent pas à cette question."]))
    _browser, conversation, *_ = app.start(None)
    _first, second = ask(app, conversation, "Quel est le budget du programme de cuisine moléculaire à Tokyo ?")
    chat, panel, status, _export = second[-1]
    assert "Les publications ne répondent pas à cette question" in chat
    assert "Passages les plus proches" in chat and "a27-passage" in chat
    assert "Passages les plus proches" in panel and "Pas de réponse" in status
    assert "en parlent pas : voici les passages" in chat  # the refusal's kind: « Tokyo » is in no passage


def test_the_chat_shows_the_kind_of_refusal_the_confidence_and_each_claims_quote(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    _browser, conversation, *_ = app.start(None)
    chat = ask(app, conversation, QUESTION)[1][-1][0]
    assert "Confiance :" in chat
    assert "Citation : « " in chat and "Dunkerque" in chat.split("Citation : « ")[1].split("»")[0]
    # Passages speak of the programme, none gives an amount: refused as unverified, said so.
    chat = ask(app, conversation, "Combien a coûté le programme Forêts ?")[1][-1][0]
    assert "aucun ne dit ce qui est demandé" in chat


def test_errors_are_a_short_message_not_a_trace(settings: Settings) -> None:
    class Broken:
        name = "broken"
        context_passages: int | None = None
        quotes_year_parts = False

        def generate(self, request):  # type: ignore[no-untyped-def]
            raise RuntimeError("secret internal detail")
            yield ""

    app = make_app(settings, Broken())  # type: ignore[arg-type]
    _browser, conversation, *_ = app.start(None)
    _first, second = ask(app, conversation, QUESTION)
    chat = second[-1][0]
    assert "Une erreur est survenue" in chat and "secret internal detail" not in chat and "Traceback" not in chat
    empty = list(app.retrieve("   ", conversation))
    assert empty[-1][4] == ""  # nothing sent to generation
    early = list(app.retrieve(QUESTION, ""))  # sent before the page loaded its conversation
    assert "réessayez" in early[-1][0] and early[-1][3] == QUESTION
    # Nothing is generated: the second half shows the same message again (values, never gr.skip()).
    assert list(app.generate(early[-1][4], ""))[-1][0] == early[-1][0]


def test_thumbs_and_comment_are_stored_with_the_settings(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    _browser, conversation, *_ = app.start(None)
    ask(app, conversation, QUESTION)
    turn = app.conversations.turns(conversation)[0].id
    chat, rated = app.rate(conversation, turn, "down")
    assert rated == {"turn": turn, "rating": "down"} and "a27-fb a27-on' data-turn" in chat
    chat, message = app.comment(conversation, rated, "Il manque Vitry-le-François.")
    assert "Merci" in message and "Il manque Vitry" in chat
    [fb] = app.conversations.feedback()
    assert (fb.rating, fb.comment, fb.settings["generator"]) == ("down", "Il manque Vitry-le-François.", "scripted")
    assert "openai_api_key" not in fb.settings
    assert app.rate(conversation, turn + 99, "down")[1] == {}  # not a turn of this conversation


def test_search_filters_and_highlights(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator())
    results, status = app.search("programme forêts", 2025, None, [], [])
    assert "Rapport d&#x27;activité 2025" in results and "2022" not in results.split("a27-meta")[1][:80]
    assert "<mark>forêts</mark>" in results and "passage" in status
    results, _ = app.search("programme", None, None, [], ["rapport-2022.txt"])
    assert "rapport-2022.txt" in results and "rapport-2025.txt" not in results
    assert app.search("  ", None, None, [], [])[1] == "Tapez des mots à chercher."


def test_publications_table_has_the_ingestion_report(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator())
    rows = app.publications()
    assert [r[3] for r in rows] == ["rapport-2022.txt", "rapport-2025.txt"]
    title, year, kind, _source, _pages, _empty, chunks, characters, _warnings = rows[0]
    assert (title, year, kind) == ("Rapport d'activité 2022", 2022, "rapport d'activité")
    assert chunks >= 1 and characters > 100


def test_source_files_are_only_served_from_the_corpus(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator())
    assert app.source_path("rapport-2022.txt") == (settings.corpus_dir / "rapport-2022.txt").resolve()
    assert app.source_path("../corpus/rapport-2022.txt") is None
    assert app.source_path("catalogue.csv") is None  # in the folder, but not an indexed publication


def test_passage_text_is_escaped() -> None:
    marked = highlight("<script>alert('x')</script> les forêts", stems("forêts"))
    assert marked == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; les <mark>forêts</mark>"
    assert "<b>" not in render_chat([], pending_question="<b>gras</b>", pending_text="<i>x</i>")


def test_a_pdf_source_opens_at_its_page() -> None:
    assert "href='/source/guide%202021.pdf#page=3'" in source_link({"source": "guide 2021.pdf", "page": 3})
    assert "href='/read/notes.md'" in source_link({"source": "notes.md", "page": None})


def test_programmes_page_lists_filters_and_shows_a_timeline(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    names = [row[0] for row in app.programme_table(None, None, None)]
    assert "Nouveaux Accords" in names and "La Transfo" in names
    [row] = app.programme_table(None, "Dunkerque", None)
    assert row[0] == "Nouveaux Accords" and "Communauté urbaine de Dunkerque" in row[5]
    assert app.programme_table(2025, None, None) == [r for r in app.programme_table(None, None, None) if "2025" in r[3]]
    assert app.programme_table(None, "Inconnue", None) == []
    page = app.programme_page("Nouveaux Accords")
    assert "activité 2022" in page and "/read/rapport-2022.txt" in page and "<mark>" in page
    assert "Communauté urbaine de Dunkerque" in page
    assert "Choisissez" in app.programme_page(None) and "Choisissez" in app.programme_page("<script>")


def test_a_question_is_stored_before_its_answer_and_a_second_one_waits_its_turn(settings: Settings) -> None:
    scripted = ScriptedGenerator([REPLY, "Il a commencé en septembre 2022 [1]."])
    app = make_app(settings, scripted)
    _browser, conversation, *_ = app.start(None)
    first = list(app.retrieve(QUESTION, conversation))
    [stored] = app.conversations.turns(conversation)
    assert stored.question == QUESTION and stored.pending and "Réponse en attente" in first[-1][0]
    # A second question before the first is written: stored, shown after it, said to wait.
    second = list(app.retrieve("Quand Nouveaux Accords a-t-il commencé ?", conversation))
    assert "1 réponse à écrire avant la vôtre (place dans la file : 2)" in second[-1][2]
    chat = second[-1][0]
    assert chat.index(QUESTION) < chat.index("Quand Nouveaux Accords") and chat.count("Réponse en attente") == 2
    # Both answered in the order they came, whichever pending id the session's state holds.
    list(app.generate(second[-1][4], conversation))
    list(app.generate(first[-1][4], conversation))
    turns = app.conversations.turns(conversation)
    assert [t.question for t in turns] == [QUESTION, "Quand Nouveaux Accords a-t-il commencé ?"]
    assert not any(t.pending for t in turns) and scripted.requests[0].question == QUESTION
    assert "Réponse en attente" not in app.start(_browser)[2]


def test_a_question_left_unanswered_by_a_closed_tab_or_a_restart_is_answered_on_the_next_load(
    settings: Settings,
) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    browser, conversation, *_ = app.start(None)
    list(app.retrieve(QUESTION, conversation))  # the tab closed before the generation queue took it
    restarted = WebApp(app.assistant, app.conversations)  # its passages were held by the old process only
    assert restarted.start(browser)[1] == conversation and "Réponse en attente" in restarted.start(browser)[2]
    chat = list(restarted.resume(conversation))[-1][0]
    assert "Dunkerque" in chat and "Réponse en attente" not in chat
    assert list(restarted.resume(conversation))[-1][0] == chat  # nothing left to answer: the store as it is


def test_a_question_refused_with_a_message_is_not_stored(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator())
    _browser, conversation, *_ = app.start(None)
    steps = list(app.retrieve("x" * 2500, conversation))
    assert steps[-1][3] == "x" * 2500 and app.conversations.turns(conversation) == []


def test_switching_the_rating_drops_the_comment_written_for_the_other(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    _browser, conversation, *_ = app.start(None)
    ask(app, conversation, QUESTION)
    turn = app.conversations.turns(conversation)[0].id
    _chat, rated = app.rate(conversation, turn, "down")
    app.comment(conversation, rated, "Il manque Vitry-le-François.")
    app.rate(conversation, turn, "down")  # the same thumb again keeps the comment
    assert app.conversations.turns(conversation)[0].comment == "Il manque Vitry-le-François."
    chat, _rated = app.rate(conversation, turn, "up")
    [fb] = app.conversations.feedback()
    assert (fb.rating, fb.comment) == ("up", "") and "Il manque" not in chat


def test_search_says_when_no_passage_holds_the_words_and_how_each_matches(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator())
    results, status = app.search("blockchain quantique", None, None, [], [])
    assert "Aucun passage ne contient « blockchain », « quantique »" in status
    assert "<mark>" not in results and results.count("a27-passage") <= 5 and "proche par le sens" in results
    results, status = app.search("réglementation des achats", None, None, [], [])
    assert "avec les mots cherchés" in status
    first = results.split("class='a27-passage'")[1]
    assert "2 mots sur 2" in first and "<mark>réglementation</mark>" in first
    results, status = app.search("réglementation", 2025, None, [], [])
    assert "Aucun passage ne contient « réglementation » avec ces filtres" in status
    assert app.refilter("", 2025, None, [], []) == app.refilter("  ", None, None, [], [])  # no words: unchanged


def test_the_wait_says_passages_place_and_an_estimate_from_recent_answers() -> None:
    clock = [0.0]
    board = WaitBoard(forget_s=100, clock=lambda: clock[0])
    assert "pas encore d'estimation" in wait_status(3, 0, board.typical())
    board.enter(1)
    board.enter(2)
    assert board.ahead(2) == 1 and board.ahead(1) == 0
    board.leave(1, took=20.0)
    board.leave(2, took=40.0)
    board.enter(3)
    board.enter(4)
    line = wait_status(5, board.ahead(4), board.typical())
    assert line == (
        "5 passages trouvés · 1 réponse à écrire avant la vôtre (place dans la file : 2) · "
        "attente estimée : environ 1 min 00 s (d'après les 2 dernières réponses)."
    )
    assert "depuis 45 s" in wait_status(5, 0, board.typical(), 45.0)
    clock[0] = 101.0  # a question whose tab closed before its answer was asked stops counting
    assert board.ahead(4) == 0


def test_a_stopped_question_stays_in_the_conversation_marked(settings: Settings) -> None:
    scripted = ScriptedGenerator([REPLY])
    app = make_app(settings, scripted)
    _browser, conversation, *_ = app.start(None)
    first = list(app.retrieve(QUESTION, conversation))
    chat, status = app.stop(conversation)
    assert "Réponse arrêtée à votre demande" in chat and "Réponse arrêtée" in status
    [turn] = app.conversations.turns(conversation)
    assert turn.question == QUESTION and turn.answer["stopped"] and not turn.pending
    list(app.generate(first[-1][4], conversation))
    assert scripted.requests == []  # nothing written for it
    assert "Aucune réponse en cours" in app.stop(conversation)[1]


def test_stopping_while_an_answer_is_written_leaves_its_stream_the_last_word(settings: Settings) -> None:
    # The stop's own chat would show the answer still being written; reaching the page after the stream's last
    # update, it stayed there (a turn marked as being written, for good).
    app = make_app(settings, ScriptedGenerator([REPLY + " Et bien d'autres choses encore.", REPLY]))
    _browser, conversation, *_ = app.start(None)
    first = list(app.retrieve(QUESTION, conversation))
    stream = app.generate(first[-1][4], conversation)
    next(stream)  # the answer is being written
    list(app.retrieve("Qui a participé à La Transfo ?", conversation))  # a second question waits
    chat, status = app.stop(conversation)
    assert "a27-streaming" not in str(chat) and "prochain mot" in status
    last = list(stream)[-1][0]
    assert last.count("a27-stopped'") == 2 and "a27-streaming" not in last
    assert [t.answer.get("stopped") for t in app.conversations.turns(conversation)] == [True, True]


def test_an_answer_says_what_was_searched_and_opens_its_publication_at_the_passage(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY, REPLY]))
    _browser, conversation, *_ = app.start(None)
    ask(app, conversation, QUESTION)
    first, second = ask(app, conversation, "et ça a commencé quand ?")
    searched = f"Recherche : {QUESTION} et ça a commencé quand ?"
    assert searched in first[-1][1].replace("&#x27;", "'")  # in the passages panel while the answer is written
    chat = second[-1][0]
    assert searched in chat.replace("&#x27;", "'")  # above the answer once written
    [link] = re.findall(r"href='/read/rapport-2022\.txt\?passage=(\w+)#a27-cited'", chat)[:1]
    page = app.reading("rapport-2022.txt", link)
    assert page is not None and "<mark id='a27-cited'" in page and "Dunkerque" in page.split("a27-cited")[1]
    assert page.count("Nouveaux Accords est un programme") == 1  # overlapping chunks printed once
    assert app.reading("catalogue.csv") is None and app.reading("../etc/passwd") is None


def test_a_past_conversation_is_listed_reopened_and_shows_its_last_passages(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    browser, conversation, *_ = app.start(None)
    ask(app, conversation, QUESTION)
    *_, panel, _past = app.start(browser)
    assert "Dunkerque" in panel and "a27-passage" in panel  # after a reload, the last answer's passages
    _b, fresh, chat, *_rest, past = app.new_conversation(browser)
    assert fresh != conversation and "a27-turn" not in chat
    [(label, value)] = past.choices
    assert value == conversation and label.startswith(QUESTION)
    opened, chat, panel, _past = app.open_conversation(browser, conversation)
    assert opened == conversation and QUESTION in chat.replace("&#x27;", "'") and "Dunkerque" in panel
    assert app.start(browser)[1] == conversation


def test_a_programme_filter_that_matches_nothing_says_what_to_try(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([REPLY]))
    rows, cards, line = app.filter_programmes(None, "Exempleville <img src=x>[lien](javascript:x)", None)
    assert rows == [] and "class='a27-card'" not in cards
    assert line.startswith("Aucun programme pour « Exempleville img src=x lien javascript:x »") and "Retirez" in line
    rows, cards, line = app.filter_programmes(None, "Dunkerque", None)
    assert len(rows) == 1 and "Nouveaux Accords" in cards and line == "1 programme."


def test_high_confidence_is_kept_for_answers_right_four_times_in_five() -> None:
    from assistant27.webapp import confidence_label

    # Calibrated on the tuning part (benchmarks/confidence_calibration.py): 0.6-0.8 was right about half the time.
    assert confidence_label(0.7).startswith("Confiance : moyenne")
    assert confidence_label(0.85).startswith("Confiance : élevée")
    assert "vérifiez" in confidence_label(0.35)
