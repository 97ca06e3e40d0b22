"""Generated sentences that repeat the prompt's own instructions, cut out before an answer reaches the user.

A small model sometimes copies its instructions into the answer (« Les extraits numérotés [1], [2] et [3]
indiquent que … », « Réponds en français, en 1 à 3 phrases. »). No list of phrases is kept here: the
instructions are read from the prompt files themselves (their own text: the slots where the passages and the
question go cut it, any other slot stands for one word), so a change of prompt changes what counts as an echo.
Replayed on the recorded answers of evals/reports/*local* (benchmarks/prompt_echo.py), it changed 16 of 665, each one
opening with « Les extraits numérotés [1] et [2] indiquent que / contiennent la réponse : / mentionnent … ».
"""

from __future__ import annotations

import re
from collections.abc import Set
from functools import cache, lru_cache

from assistant27.analysis import analyze, fold
from assistant27.language import SENTENCE_END, sentences_in
from assistant27.prompts import PROMPT_FILES, load

RUN = 3  # words in a row, as in the instructions: shorter runs (« la question ») are everyday French
CONTENT_WORDS = 2  # of which at least this many are words that are not stop words (« à la question » is no echo)
# The slots where the user's words and the corpus go: the prompt's own text stops there. Any other slot is part
# of an instruction (« Réponds en ${language} »): it stands for any one word.
CONTENT_SLOTS = ("question", "passages")
_SLOT = re.compile(r"\$\{(\w+)\}|\$(\w+)")
ANY = "*"
_WORD = re.compile(r"\w+", re.UNICODE)
# A citation marker, or a list of them (« [1], [2] et [3] »): left out when looking for an echo and its end.
_MARKERS = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\](?:\s*(?:,|;|\bet\b|\band\b)\s*\[\d+(?:\s*[,;]\s*\d+)*\])*")
# Where a reporting lead-in ends (« X indiquent que », « selon Y, », « Z : »): what it reports follows.
_LEAD_END = re.compile(r"\b(?:que|qu['’]|that)\s*|[:,;]\s*", re.IGNORECASE)
_LEAD_MAX = 40  # characters of reporting verb between the echo and that end (« indiquent clairement »)
_REPORTS = re.compile(r"\b(?:que|qu['’]|that)\s*|:\s*", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


def _content(run: tuple[str, ...]) -> int:
    return run.count(ANY) + sum(stem.isalpha() for stem in analyze(" ".join(w for w in run if w != ANY)))


@cache
def instruction_runs() -> frozenset[tuple[str, ...]]:
    """Every run of RUN words of the prompt files' own text holding enough content words (a slot of an
    instruction as ANY word; the question and passages slots cut the text)."""
    runs: set[tuple[str, ...]] = set()
    for name in PROMPT_FILES:

        def slot(match: re.Match[str]) -> str:
            return "\n" if (match.group(1) or match.group(2)) in CONTENT_SLOTS else f" {ANY} "

        for piece in _SLOT.sub(slot, load(name).template).split("\n"):
            words = [ANY if w == ANY else fold(w) for w in re.findall(r"\w+|\*", piece)]
            runs |= {run for run in _runs(words) if _content(run) >= CONTENT_WORDS}
    return frozenset(runs)


def _instruction(run: tuple[str, ...]) -> bool:
    """The run, or the run with one word standing for a slot, is in the instructions."""
    known = instruction_runs()
    return run in known or any(run[:i] + (ANY,) + run[i + 1 :] in known for i in range(len(run)))


@lru_cache(maxsize=8)
def _read(sources: tuple[str, ...]) -> tuple[frozenset[tuple[str, ...]], frozenset[str]]:
    """The runs of words and the stems of the sources (kept a while: an answer being written is redrawn often)."""
    runs: set[tuple[str, ...]] = set()
    for source in sources:
        runs |= _runs(_words(source))
    return frozenset(runs), frozenset(analyze(" ".join(sources)))


def echo_end(sentence: str, allowed: Set[tuple[str, ...]]) -> int | None:
    """Where the last run of the instructions ends in `sentence` (a character offset), None when it holds none.

    Runs found in `allowed` (those of the passages and the question) are the corpus speaking, not the prompt.
    """
    matches = list(_WORD.finditer(sentence))
    words = [fold(m.group()) for m in matches]
    end = None
    for i in range(len(words) - RUN + 1):
        run = tuple(words[i : i + RUN])
        if run not in allowed and _instruction(run):
            end = matches[i + RUN - 1].end()
    return end


def strip_prompt_echo(text: str, sources: list[str]) -> str:
    """`text` without what repeats the prompt's instructions, where `sources` (the passages, the question) do not.

    A sentence that opens with an echo and then reports (« Les extraits numérotés [1] et [2] indiquent que
    la ville a participé [1]. ») keeps what it reports, capitalised; any other sentence holding one is dropped.
    Other sentences, lines and citation markers are kept as they were.
    """
    allowed, known = _read(tuple(sources))
    lines = []
    for line in text.split("\n"):
        kept = []
        for sentence in sentences_in(line, claims=True):
            plain = _MARKERS.sub(lambda m: " " * len(m.group()), sentence)  # same offsets, no markers
            end = echo_end(plain, allowed)
            if end is None:
                kept.append(sentence)
            elif rest := _reported(plain, sentence, end, known):
                kept.append(rest)
        if kept or not line.strip():
            lines.append(" ".join(kept))
    return "\n".join(lines).strip()


def _reported(plain: str, sentence: str, end: int, known: Set[str]) -> str:
    """What a sentence reports after its echoed lead-in (« … indiquent que X » -> « X »), "" when nothing.

    What follows must come from the sources (most of its words are theirs): « Réponds en français, en 1 à 3
    phrases » reports nothing.
    """
    lead = _LEAD_END.search(plain, end)
    if lead is not None and lead.start() - end > _LEAD_MAX:
        # A longer lead-in (« mentionnent les partenaires de 2031 et 2034, respectivement : X »): only a
        # « que » or a colon says where what it reports begins.
        lead = _REPORTS.search(plain, end)
    if lead is None:
        return ""
    rest = sentence[lead.end() :].strip()
    words = set(analyze(_MARKERS.sub(" ", rest)))
    if not words or len(words & known) < len(words) / 2:
        return ""
    return rest[:1].upper() + rest[1:]


@cache
def _run_starts() -> frozenset[tuple[str, ...]]:
    return frozenset(run[:k] for run in instruction_runs() for k in range(1, RUN))


def shown_while_written(text: str, sources: list[str]) -> str:
    """The part of an answer being written that may be shown: `strip_prompt_echo`, with the word being written and
    the words at its end that could start an echo (« … [1]. Réponds en ») held back until the next words say."""
    said = strip_prompt_echo(text, sources)
    if said and _WORD.fullmatch(said[-1]):  # a word still being written: shown once whole
        said = said[: list(_WORD.finditer(said))[-1].start()].rstrip()
    matches = list(_WORD.finditer(said))
    starts = _run_starts()
    for k in range(min(RUN - 1, len(matches)), 0, -1):
        tail = tuple(fold(m.group()) for m in matches[-k:])
        variants = [tail] + [tail[:i] + (ANY,) + tail[i + 1 :] for i in range(k)]
        if any(v in starts for v in variants) and not SENTENCE_END.search(said[matches[-k].start() :] + " "):
            return said[: matches[-k].start()].rstrip()
    return said
