"""Passages + question -> a prompt, and an answer with validated citations."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant27.analysis import analyze, fold, strip_urls, tokenize
from assistant27.generators import GenerationRequest
from assistant27.language import detect_language, sentences_in
from assistant27.prompts import render
from assistant27.refusal import MODEL_REFUSAL
from assistant27.schema import CITATION_MARKER, Citation, Passage

_MARKER_AFTER_END = re.compile(r"([.!?…]+)((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")
_END_RUN = re.compile(r"[.!?…]+$")  # « aussi... », « vraiment ?! »: one end, however many marks

# Pronouns and demonstratives that point back to what was asked before (folded, as `fold` writes them).
_BACK_REFERENCES = frozenset(
    {"ca", "cela", "ceci", "celui", "celle", "ceux", "celles", "il", "elle", "ils", "elles", "lui", "leur", "eux", "y"}
    | {"cet", "cette", "ces", "it", "its", "they", "them", "this", "that", "those", "these", "he", "she", "his", "her"}
)
_INVERTED_SUBJECT = re.compile(r"-(?:t-)?(?:il|elle|ils|elles|on)\b", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]+")
# A capitalised word that does not open the question (nor a sentence of it), or an acronym.
_NAMED = re.compile(r"(?<![.!?¿¡]\s)(?<!^)(?<!^\s)\b(?!(?:La|Le|Les|L|The|A|An|I)\b)[A-ZÀ-Ý][\w'’-]*[A-Za-zÀ-ÿ]|\b[A-Z]{2,}\b")
_FOLLOW_UP = re.compile(r"^\s*(?:et|and|what about|et pour|et en|et pour|et dans|et avec|mais)\b", re.IGNORECASE)


def retrieval_query(question: str, history: list[dict[str, str]]) -> str:
    """The text to search with: a follow-up that depends on the previous question borrows it (`et en 2031 ?`).

    A self-contained question is searched alone, so nothing of the previous one (its year, its subject) carries
    over silently. In a chain of follow-ups each borrows the question the chain started from.
    """
    root = _chain_root(history)
    return f"{root} {question}" if root and depends_on_previous(question) else question


def _chain_root(history: list[dict[str, str]]) -> str:
    """The last question of `history` that stands on its own (the start of the current chain of follow-ups)."""
    asked = [t["content"] for t in history if t.get("role") == "user"]
    for text in reversed(asked):
        if not depends_on_previous(text):
            return text
    return asked[0] if asked else ""


def depends_on_previous(question: str) -> bool:
    """True when a question cannot be searched alone: it opens on a connective (« et … », « mais … », « what
    about … »), points back with a pronoun while naming little of its own (« ça a commencé quand ? »), or names
    at most one thing or only years (« Quels partenaires ? », « 2023 ? »)."""
    words = tokenize(question)
    if _FOLLOW_UP.match(question) or not words or all(w.isdigit() for w in words):
        return True
    # « C'est quoi Le Lab Exemple ? », « What is Exemple and how large is it? »: a question that names something
    # (a capitalised word inside it) is about that, however few its words and whatever its pronouns point to.
    if _NAMED.search(question):
        return False
    if len(words) <= 1:
        return True
    # « a-t-il », « est-elle »: an inverted subject repeats the one the question names, it points nowhere back.
    own = _INVERTED_SUBJECT.sub(" ", question)
    points_back = {fold(w) for w in _LETTERS.findall(own)} & _BACK_REFERENCES
    return bool(points_back) and len(words) <= 3


def trim_passage(text: str, question: str, limit: int) -> str:
    """Keep the sentences of a passage that best match the question, in reading order, within `limit` characters.

    The best-matching sentence comes with its neighbours first, the next one before the previous one: the
    answer usually follows the words the question repeats ("... avec les collectivités suivantes : X, Y et Z").
    Then the other sentences by match, while they fit. Web addresses are left out (they cost tokens and say
    little); full sentences beat heading lines.
    """
    sentences = [strip_urls(s) for s in sentences_in(text)]
    sentences = [s for s in sentences if s]
    if sum(len(s) + 1 for s in sentences) <= limit:
        return " ".join(sentences)
    terms = set(analyze(question))
    values = []
    for sentence in sentences:
        words = analyze(sentence)
        values.append(len(terms & set(words)) + min(len(words), 20) / 20)
    best = max(range(len(sentences)), key=lambda i: values[i])
    if len(sentences[best]) + 1 > limit:  # one sentence longer than the limit: cut it
        return sentences[best][:limit]
    keep = {best}
    size = len(sentences[best]) + 1
    low = high = best
    while True:
        # the following sentence gets half a shared word more than the previous one
        around = [(values[high + 1] + 0.5, high + 1)] if high + 1 < len(sentences) else []
        around += [(values[low - 1], low - 1)] if low > 0 else []
        around = [(v, i) for v, i in around if size + len(sentences[i]) + 1 <= limit]
        if not around:
            break
        i = max(around)[1]
        keep.add(i)
        size += len(sentences[i]) + 1
        low, high = min(low, i), max(high, i)
    for i in sorted(range(len(sentences)), key=lambda i: -values[i]):
        if i not in keep and size + len(sentences[i]) + 1 <= limit:
            keep.add(i)
            size += len(sentences[i]) + 1
    return " ".join(sentences[i] for i in sorted(keep))


def build_messages(
    question: str,
    context: list[Passage],
    history: list[dict[str, str]],
    language: str,
    passage_chars: int,
) -> list[dict[str, str]]:
    """System prompt, the last turns of the conversation, and the numbered passages with the question."""
    system = render(
        "system_fr.txt", language="anglais" if language == "en" else "français", refusal=MODEL_REFUSAL[language]
    )
    numbered = "\n".join(
        f"[{n}] ({p.title}{', ' + str(p.year) if p.year else ''}) {trim_passage(p.text, question, passage_chars)}"
        for n, p in enumerate(context, start=1)
    )
    messages = [{"role": "system", "content": system}]
    for turn in history[-4:]:
        if turn.get("role") in ("user", "assistant") and turn.get("content"):
            messages.append({"role": turn["role"], "content": CITATION_MARKER.sub("", turn["content"])[:400]})
    messages.append({"role": "user", "content": render("user.txt", passages=numbered, question=question)})
    return messages


@dataclass
class ValidatedAnswer:
    text: str
    citations: list[Citation]
    flagged: list[str]
    claims: list[dict[str, Any]] = field(default_factory=list)  # each kept sentence with its verbatim quote


def quote_for(claim: str, passage_text: str) -> tuple[str, float]:
    """The passage's sentence, or two sentences in a row (« La Fondation … Elle publie … »), verbatim, that
    shares most of the claim's words (the shorter on a tie), and that share (0..1)."""
    terms = set(analyze(claim))
    sentences = sentences_in(passage_text)
    best, share = "", 0.0
    for i, sentence in enumerate(sentences):
        for window in ([sentence], sentences[i : i + 2]) if i + 1 < len(sentences) else ([sentence],):
            start = passage_text.find(window[0])
            end = passage_text.find(window[-1], max(start, 0)) + len(window[-1])
            quote = passage_text[start:end] if start >= 0 and end > start else sentence
            overlap = _lexical_support(terms, set(analyze(quote)))
            if overlap > share:
                best, share = quote, overlap
    return best, round(share, 4)


def _lexical_support(sentence_terms: set[str], passage_terms: set[str]) -> float:
    return len(sentence_terms & passage_terms) / len(sentence_terms) if sentence_terms else 0.0


def validate_citations(
    text: str,
    context: list[Passage],
    embed_sentences: Callable[[list[str]], np.ndarray] | None = None,
    passage_vectors: np.ndarray | None = None,
    *,
    drop_unsupported: bool = True,
    min_lexical: float = 0.34,
    min_dense: float = 0.83,
) -> ValidatedAnswer:
    """Keep only citations that point to real passages and support their sentence.

    Each sentence (and each line of a list) is checked against every context passage: by shared
    French stems, and by dense similarity when vectors are given. A marker to no passage is removed;
    a sentence without a valid marker gets the passage that supports it best; a sentence that no
    passage supports is flagged, and dropped when `drop_unsupported` (answers in the passages'
    language: a cross-language answer cannot be checked word by word, so it is only flagged).
    """
    # "sentence. [1]" -> "sentence [1]." so a marker stays with the sentence it follows ("aussi... [1]" as a whole).
    text = _MARKER_AFTER_END.sub(lambda m: f" {m.group(2).strip()}{m.group(1)}", text)
    lines = [sentences_in(line, claims=True) for line in text.strip().split("\n")]
    sentences = [(n, s) for n, line in enumerate(lines) for s in line]
    passage_terms = [set(analyze(p.text)) for p in context]
    plain = [CITATION_MARKER.sub("", s).strip() for _, s in sentences]
    dense: np.ndarray | None = None
    if embed_sentences is not None and passage_vectors is not None and plain and context:
        dense = embed_sentences(plain) @ passage_vectors.T
    kept: list[tuple[int, str, list[int]]] = []
    flagged: list[str] = []
    for i, ((line_no, sentence), bare) in enumerate(zip(sentences, plain)):
        if not any(c.isalnum() for c in bare):
            continue  # punctuation alone (« . ») states nothing, and must not be cited
        cited: list[int] = []
        for m in CITATION_MARKER.finditer(sentence):
            cited.extend(int(x) for x in re.split(r"\s*[,;]\s*", m.group(1)))
        terms = set(analyze(bare))
        support = [
            max(
                _lexical_support(terms, pt) / min_lexical,
                (float(dense[i, j]) / min_dense if dense is not None else 0.0),
            )
            for j, pt in enumerate(passage_terms)
        ]  # >= 1.0 means supported
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(context) and support[n - 1] >= 1.0]
        if not valid and support and max(support) >= 1.0:
            valid = [int(np.argmax(support)) + 1]
        if not valid and len(terms) >= 3:
            flagged.append(bare)
            if drop_unsupported:
                continue
        kept.append((line_no, bare, valid))
    if flagged and not any(v for _, _, v in kept):
        # Nothing is supported: keep the text but say so through `flagged`, rather than answer with nothing.
        kept = [(n, s, []) for (n, _), s in zip(sentences, plain) if s]
    # Number citations by first appearance: [1] is the first passage the answer relies on.
    order: dict[int, int] = {}
    out_lines: dict[int, list[str]] = {}
    for line_no, bare, valid in kept:
        markers = "".join(f"[{order.setdefault(n, len(order) + 1)}]" for n in valid)
        end = _END_RUN.search(bare)
        if not markers:
            piece = bare
        elif end:
            piece = f"{bare[: end.start()].rstrip()} {markers}{end.group(0)}"
        else:
            piece = f"{bare} {markers}"
        out_lines.setdefault(line_no, []).append(piece)
    # Each claim's quote: the sentence of its first cited passage that states it, verbatim (checked: it is a
    # sentence of that passage), with the share of the claim's words it holds.
    claims: list[dict[str, Any]] = []
    quotes: dict[int, str] = {}
    for _line_no, bare, valid in kept:
        quote, share = quote_for(bare, context[valid[0] - 1].text) if valid else ("", 0.0)
        claims.append({"claim": bare, "citations": [order[n] for n in valid], "quote": quote, "support": share})
        if valid and quote:
            quotes.setdefault(valid[0], quote)
    citations = [Citation(n=k, passage=context[n - 1], quote=quotes.get(n, "")) for n, k in order.items()]
    text = "\n".join(" ".join(parts) for _, parts in sorted(out_lines.items()))
    return ValidatedAnswer(text, citations, flagged, claims)


def request_for(
    question: str,
    context: list[Passage],
    history: list[dict[str, str]],
    language: str,
    passage_chars: int,
    max_tokens: int,
    refuse_at: float | None = None,
) -> GenerationRequest:
    """What a generator needs; `refuse_at`: see `GenerationRequest.refuse_at`."""
    return GenerationRequest(
        question=question,
        passages=context,
        messages=build_messages(question, context, history, language, passage_chars),
        language=language,
        max_tokens=max_tokens,
        refusal=MODEL_REFUSAL[language],
        refuse_at=refuse_at,
    )


# An English question answered with quotes of French publications: the answer says so in English, the quotes stay as
# the publications wrote them.
QUOTED_IN_FRENCH = "The publications say (quoted in French): "


def in_question_language(text: str, language: str) -> str:
    """The answer as the asker reads it: French quotes answering an English question are introduced in English."""
    if language == "en" and detect_language(text) == "fr":
        return QUOTED_IN_FRENCH + text
    return text
