"""The web app's HTML views: chat turns, passages, search results, cards and wait lines, as pure functions."""

from __future__ import annotations

import html
import re
import time
from typing import Any
from urllib.parse import quote

from assistant27.analysis import analyze
from assistant27.assistant import PassagesFound
from assistant27.conversations import Summary, Turn
from assistant27.language import sentences_in
from assistant27.reading import passage_key
from assistant27.schema import Answer, Passage

REFUSAL_TITLE = "Les publications ne répondent pas à cette question"
# What each refusal kind of `ask --json` (refusal.py) tells a member.
REFUSAL_KINDS = {
    "absent": "Elles n'en parlent pas : voici les passages les plus proches.",
    "unverified": "Des passages en parlent, mais aucun ne dit ce qui est demandé : les voici, à vérifier.",
}


CONFIDENCE_HIGH, CONFIDENCE_MEDIUM = 0.8, 0.4


def confidence_label(confidence: float) -> str:
    """The confidence shown beside an answer: the share of the question's words that the sentence holding the
    answer repeats (refusal.Decision.confidence); low says to check the sources. The edges are calibrated on the
    tuning part (benchmarks/confidence_calibration.py): « élevée » is an answer right about four times in five."""
    if confidence >= CONFIDENCE_HIGH:
        return f"Confiance : élevée ({confidence:.2f})"
    if confidence >= CONFIDENCE_MEDIUM:
        return f"Confiance : moyenne ({confidence:.2f})"
    return f"Confiance : faible ({confidence:.2f}) : vérifiez les sources ci-dessous."


_CITE = re.compile(r"\[(\d+)\]")
_WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)
# The page shows a conversation's last turns (all are stored and exported): Gradio keeps each session's last
# chat view in memory, so this bounds it, and each redraw while an answer streams stays the same size.
SHOWN_TURNS = 20


def seconds_fr(seconds: float) -> str:
    """« 45 s », « 2 min 10 s »."""
    whole = max(1, round(seconds))
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def wait_status(found: int, ahead: int, typical: tuple[float, int] | None, elapsed: float | None = None) -> str:
    """The French line shown while a question waits or its answer is written: passages found, place in the
    line, and an estimate of the wait from the answers written recently."""
    parts = [f"{found} passage{'s' if found > 1 else ''} trouvé{'s' if found > 1 else ''}"]
    if ahead:
        parts.append(
            f"{ahead} réponse{'s' if ahead > 1 else ''} à écrire avant la vôtre (place dans la file : {ahead + 1})"
        )
    else:
        parts.append("rédaction de la réponse" + (f" depuis {seconds_fr(elapsed)}" if elapsed else ""))
    if typical is not None:
        took, over = typical
        left = took * (ahead + 1) - (elapsed or 0.0)
        basis = "la dernière réponse" if over == 1 else f"les {over} dernières réponses"
        if left > 0:
            parts.append(f"attente estimée : environ {seconds_fr(left)} (d'après {basis})")
        else:
            parts.append(f"plus long que d'habitude (d'après {basis})")
    else:
        parts.append("pas encore d'estimation de l'attente (aucune réponse écrite depuis le démarrage)")
    return " · ".join(parts) + "."


# ---- HTML views: every piece of corpus or user text goes through html.escape ------------------------------


def stems(text: str) -> set[str]:
    """The content words of a text, as stems (no stop words)."""
    return set(analyze(_CITE.sub(" ", text)))


def highlight(text: str, terms: set[str]) -> str:
    """Escaped text with every word whose stem is in `terms` wrapped in <mark>."""
    out, pos = [], 0
    for match in _WORD.finditer(text):
        out.append(html.escape(text[pos : match.start()]))
        word = html.escape(match.group())
        out.append(f"<mark>{word}</mark>" if terms and set(analyze(match.group())) & terms else word)
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def chunk_item(chunk: Any) -> dict[str, Any]:
    """A chunk as the dict `_place` and `source_link` read (the `ask --json` passage shape)."""
    return {
        "source": chunk.source,
        "title": chunk.title,
        "year": chunk.year,
        "page": chunk.page,
        "section": chunk.heading,
    }


def source_link(item: dict[str, Any]) -> str:
    """A link that opens the publication at the passage: a PDF itself at its page, any other file as a readable
    page (`/read/`) scrolled to the passage, marked."""
    source = str(item.get("source", ""))
    if source.lower().endswith(".pdf"):
        url = "/source/" + quote(source) + (f"#page={int(item['page'])}" if item.get("page") else "")
    else:
        key = passage_key(str(item.get("text", ""))) if item.get("text") else ""
        url = "/read/" + quote(source) + (f"?passage={key}#a27-cited" if key else "")
    return f"<a class='a27-source' href='{html.escape(url)}' target='_blank' rel='noopener'>Ouvrir le document</a>"


def _place(item: dict[str, Any]) -> str:
    title = str(item.get("title") or item.get("source", ""))
    parts = [html.escape(title)]
    if item.get("year") and str(item["year"]) not in title:
        parts.append(str(int(item["year"])))
    if item.get("page"):
        parts.append(f"p. {int(item['page'])}")
    elif item.get("section"):
        parts.append(f"« {html.escape(str(item['section']))} »")
    return ", ".join(parts)


def render_passage(item: dict[str, Any], terms: set[str], match: str = "") -> str:
    """One passage (search result or retrieved for an answer): where it comes from, how it matches, the quote, the file."""
    strength = f"<div class='a27-match'>{html.escape(match)}</div>" if match else ""
    return (
        f"<div class='a27-passage'><div class='a27-meta'>{int(item.get('rank', 0))}. {_place(item)}</div>{strength}"
        f"<div class='a27-quote'>{highlight(str(item.get('text', '')), terms)}</div>{source_link(item)}</div>"
    )


OTHERS_SHOWN = 5  # passages close by meaning that hold none of the searched words, listed apart


def render_search(query: str, passages: list[Passage], took: float, filtered: bool = False) -> tuple[str, str]:
    """Search results (HTML) and status: first the passages that hold the searched words, each saying how many
    of them it holds, then a few close by meaning only, said to be so; a status that says when none holds them."""
    terms = stems(query)
    words = list(dict.fromkeys(w for w in _WORD.findall(query) if set(analyze(w)) & terms))
    held = [terms & set(analyze(p.text)) for p in passages]
    matching = [(p, h) for p, h in zip(passages, held, strict=True) if h]
    others = [p for p, h in zip(passages, held, strict=True) if not h][:OTHERS_SHOWN]
    cards = [render_passage(p.to_json(), terms, match_line(words, h)) for p, h in matching]
    where = " avec ces filtres" if filtered else ""
    asked = ", ".join(f"« {w} »" for w in words)
    if matching:
        status = f"{len(matching)} passage{'s' if len(matching) > 1 else ''} avec les mots cherchés en {took:.2f} s"
    elif words:
        status = f"Aucun passage ne contient {asked}{where}."
    else:
        status = f"Aucun mot à chercher dans « {query.strip()} » : passages proches par le sens seulement."
    if others:
        lead = "Proches par le sens, sans les mots cherchés" if matching else "Passages proches par le sens seulement"
        cards.append(f"<p class='a27-others'>{html.escape(lead)} :</p>")
        cards += [render_passage(p.to_json(), terms, match_line(words, set())) for p in others]
        if not matching:
            status += f" {len(others)} passage{'s' if len(others) > 1 else ''} proche{'s' if len(others) > 1 else ''} par le sens ci-dessous."
    body = "".join(cards) or f"<p class='a27-empty'>Aucun passage{html.escape(where)}.</p>"
    return f"<div class='a27-results'>{body}</div>", html.escape(status)


def match_line(words: list[str], held: set[str]) -> str:
    """How strongly a passage matches a search: which of the searched words it holds, out of how many."""
    if not words:
        return "Proche par le sens"
    found = [w for w in words if set(analyze(w)) & held]
    if not found:
        return f"Aucun des {len(words)} mots cherchés : proche par le sens" if len(words) > 1 else (
            "Sans le mot cherché : proche par le sens"
        )
    listed = ", ".join(f"« {w} »" for w in found)
    return f"Correspondance : {len(found)} mot{'s' if len(found) > 1 else ''} sur {len(words)} ({listed})"


def _supporting_words(answer: str, n: int) -> set[str]:
    # The words of the sentences that cite [n]; the whole answer when no sentence carries the marker.
    sentences = [s for s in sentences_in(answer, claims=True) if f"[{n}]" in s]
    return stems(" ".join(sentences) or answer)


def _answer_html(turn_id: int, text: str, titles: dict[int, str]) -> str:
    def button(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in titles:
            return match.group()
        name = html.escape(f"Source {n} : {titles[n]}")
        return (
            f"<button class='a27-cite' data-target='a27-cit-{turn_id}-{n}' title='{name}'"
            f" aria-label='{name}'>[{n}]</button>"
        )

    return _CITE.sub(button, html.escape(text)).replace("\n", "<br>")


def render_turn(turn: Turn, writing: str | None = None) -> str:
    """A question and its answer: citations as buttons that open the cited passage, closest passages on refusal.

    A question still waiting for its answer shows `writing` (the answer being written) or that it waits.
    """
    a = turn.answer
    asked = f"<div class='a27-msg a27-user'>{html.escape(turn.question)}</div>"
    if turn.pending:
        if writing is None:
            waits = "<div class='a27-msg a27-bot a27-streaming a27-waiting'>Réponse en attente…</div>"
        else:
            waits = f"<div class='a27-msg a27-bot a27-streaming'><span class='a27-cursor'>{html.escape(writing)}</span></div>"
        return f"<div class='a27-turn' data-turn='{turn.id}'>{asked}{waits}</div>"
    if a.get("error"):
        error = f"<div class='a27-msg a27-bot a27-error' role='alert'>{html.escape(str(a['error']))}</div>"
        return f"<div class='a27-turn' data-turn='{turn.id}'>{asked}{error}</div>"
    text = str(a.get("answer", ""))
    citations = a.get("citations") or []
    parts = [asked]
    searched = f"<div class='a27-searched'>Recherche : {html.escape(str(a['searched']))}</div>" if a.get("searched") else ""
    if a.get("stopped"):
        partial = f"<div class='a27-answer'>{html.escape(text)}</div>" if text else ""
        note = "<div class='a27-stopped-note'>Réponse arrêtée à votre demande. Posez la question à nouveau pour l'obtenir.</div>"
        return f"<div class='a27-turn' data-turn='{turn.id}'>{asked}<div class='a27-msg a27-bot a27-stopped'>{searched}{partial}{note}</div></div>"
    bot = ["<div class='a27-msg a27-bot" + (" a27-refused'>" if a.get("refused") else "'>"), searched]
    if a.get("refused"):
        bot.append(f"<div class='a27-answer'>{html.escape(REFUSAL_TITLE)}.</div>")
        kind = REFUSAL_KINDS.get(str(a.get("refusal")))
        if kind:
            bot.append(f"<div class='a27-refusal-kind'>{html.escape(kind)}</div>")
        elif text and REFUSAL_TITLE.lower() not in text.lower():
            bot.append(f"<div>{html.escape(text)}</div>")
        closest = (a.get("passages") or [])[:3]
        if closest:
            bot.append("<div class='a27-meta'>Passages les plus proches :</div>")
            bot += [render_passage(p, stems(turn.question)) for p in closest]
    else:
        titles = {int(c["n"]): str(c.get("title") or c.get("source", "")) for c in citations}
        bot.append(f"<div class='a27-answer'>{_answer_html(turn.id, text, titles)}</div>")
        confidence = a.get("confidence")
        if isinstance(confidence, (int, float)):
            bot.append(f"<div class='a27-confidence'>{html.escape(confidence_label(float(confidence)))}</div>")
        for c in citations:
            n = int(c["n"])
            quote = str(c.get("quote") or "")
            claim = f"<div class='a27-claim'>Citation : « {html.escape(quote)} »</div>" if quote else ""
            bot.append(
                f"<details class='a27-citation' id='a27-cit-{turn.id}-{n}'><summary>[{n}] {_place(c)}</summary>"
                f"{claim}<div class='a27-quote'>{highlight(str(c.get('text', '')), _supporting_words(text, n))}</div>"
                f"{source_link(c)}</details>"
            )
    thumbs = "".join(
        f"<button class='a27-fb{' a27-on' if turn.rating == r else ''}' data-turn='{turn.id}' data-rating='{r}' "
        f"title='{label}'>{icon}</button>"
        for r, icon, label in (("up", "Utile", "Réponse utile"), ("down", "À revoir", "Réponse fausse ou incomplète"))
    )
    note = f"<span class='a27-meta'>Commentaire : {html.escape(turn.comment)}</span>" if turn.comment else ""
    bot.append(f"<div class='a27-feedback'>{thumbs}{note}</div></div>")
    return f"<div class='a27-turn' data-turn='{turn.id}'>{''.join(parts)}{''.join(bot)}</div>"


def render_chat(
    turns: list[Turn],
    pending_question: str = "",
    pending_text: str | None = None,
    error: str = "",
    shown: int = SHOWN_TURNS,
    total: int | None = None,
    writing: tuple[int, str] | None = None,
) -> str:
    """The conversation (its last `shown` turns), with the answer being written (or an error message) at the end.

    `turns` may be only the last ones; `total` is then the conversation's number of turns (default: len(turns)).
    `writing`: (turn id, text) of a stored question whose answer is being written.
    """
    if not turns and not pending_question and not error:
        return (
            "<div class='a27-chat'><p class='a27-empty'>Posez une question sur les publications "
            "(programmes, partenaires, années), ou choisissez un exemple ci-dessous.</p></div>"
        )
    body = [render_turn(t, writing[1] if writing and writing[0] == t.id else None) for t in turns[-shown:]]
    earlier = (len(turns) if total is None else total) - len(body)
    if earlier > 0:
        body.insert(
            0,
            f"<p class='a27-meta a27-earlier'>{earlier} question{'s' if earlier > 1 else ''} plus ancienne"
            f"{'s' if earlier > 1 else ''} : dans l'export Markdown.</p>",
        )
    if pending_question:
        body.append(f"<div class='a27-msg a27-user'>{html.escape(pending_question)}</div>")
        if pending_text is not None and not error:
            body.append(
                f"<div class='a27-msg a27-bot a27-streaming'><span class='a27-cursor'>{html.escape(pending_text)}</span></div>"
            )
    if error:
        body.append(f"<div class='a27-msg a27-bot a27-error' role='alert'>{html.escape(error)}</div>")
    return f"<div class='a27-chat'>{''.join(body)}</div>"


def render_passages_panel(event: PassagesFound | Answer | None, question: str = "") -> str:
    """The side panel: the passages retrieved for the last question (shown before any token)."""
    if event is None:
        return "<div class='a27-panel'><h4>Passages</h4><p class='a27-meta'>Les passages trouvés s'afficheront ici.</p></div>"
    passages = [p.to_json() for p in event.passages]
    if isinstance(event, Answer):
        title = "Passages les plus proches" if event.refused else "Passages retrouvés"
        terms = stems(event.question)
    else:
        title = f"Passages retrouvés en {event.retrieval_s:.2f} s"
        terms = stems(event.query or question)
    searched = getattr(event, "query", "")
    # While the answer is written, what was searched shows here (the answer shows it above itself once written).
    lead = f"<p class='a27-searched'>Recherche : {html.escape(searched)}</p>" if searched else ""
    cards = "".join(render_passage(p, terms) for p in passages[:6])
    return passages_panel(title, lead + cards)


PROGRAMME_HEADERS = ["Nom", "Type", "Début", "Années", "Publications", "Partenaires", "Financeurs", "Lieux"]
PUBLICATION_HEADERS = [
    "Titre", "Année", "Type", "Fichier", "Pages", "Pages sans texte", "Passages", "Caractères", "Avertissements",
]
# Each column wide enough for its header's longest word at 1,400 px (Gradio otherwise splits « Caractères » and
# « Avertissements » letter by letter); the wide text columns get the rest.
PROGRAMME_WIDTHS: list[str | int] = ["16%", "8%", "7%", "8%", "11%", "20%", "15%", "15%"]
PUBLICATION_WIDTHS: list[str | int] = ["18%", "6%", "12%", "14%", "6%", "9%", "9%", "10%", "16%"]


def render_cards(headers: list[str], rows: list[list[Any]]) -> str:
    """A table as cards, one a row, its first column as the title (what a phone shows instead of the table)."""
    e = html.escape
    cards = []
    for row in rows:
        fields = "".join(
            f"<dt>{e(h)}</dt><dd>{e(str(v))}</dd>" for h, v in zip(headers[1:], row[1:], strict=True) if str(v)
        )
        cards.append(f"<div class='a27-card'><h3>{e(str(row[0]))}</h3><dl>{fields}</dl></div>")
    return f"<div class='a27-cards'>{''.join(cards)}</div>"


def passages_panel(title: str, cards: str) -> str:
    """The side panel's passages, scrolling in a box of their own: one stop for the keyboard, named for screen
    readers (axe-core: a region that scrolls must be reachable by keyboard)."""
    return (
        f"<div class='a27-panel a27-scroll' tabindex='0' role='region' aria-label='{html.escape(title)}'>"
        f"<h4>{html.escape(title)}</h4>{cards}</div>"
    )


def last_panel(turns: list[Turn]) -> str:
    """The passages panel for a conversation opened again: the passages of its last answer."""
    for turn in reversed(turns):
        passages = turn.answer.get("passages") or []
        if passages and not turn.pending:
            title = "Passages les plus proches" if turn.answer.get("refused") else "Passages retrouvés"
            cards = "".join(render_passage(p, stems(turn.question)) for p in passages[:6])
            return passages_panel(title, cards)
    return render_passages_panel(None)


def conversation_label(summary: Summary) -> str:
    """« Qui a participé à … ? — 07/12 14:05, 3 questions »."""
    question = summary.first_question if len(summary.first_question) <= 70 else summary.first_question[:69] + "…"
    when = time.strftime("%d/%m %H:%M", time.localtime(summary.updated))
    return f"{question} — {when}, {summary.turns} question{'s' if summary.turns > 1 else ''}"


def final_status(turn: Turn) -> str:
    """The status line once a turn is answered: how long it took, or that the publications do not answer."""
    a = turn.answer
    if turn.pending or a.get("error"):
        return ""
    if a.get("refused"):
        return status_html("Pas de réponse dans les publications", done=True)
    took = float((a.get("timings") or {}).get("total_s") or 0.0)
    return status_html(f"Réponse en {took:.1f} s", done=True)


def status_html(text: str, done: bool = False) -> str:
    return f"<div class='a27-status' data-done='{str(done).lower()}'>{html.escape(text)}</div>"
