"""Refusal: every check that refuses (before answering, after it, in a model's own words) and the refusal itself.

Answerability: does any retrieved sentence state what the question asks?

A question asks for a kind of thing (a person, an amount, a count, a date, a place). A topical
passage that holds no such thing beside the question's own focus words does not answer it, however
similar it looks: embedding cosine between a question and a wrong-but-topical sentence is high, so
cosine alone does not separate answerable from unanswerable. These signals need no model and know
nothing of any corpus; thresholds live in config.py and are calibrated on the tuning part of the
evaluation sets (benchmarks/answerability.py), reported on the held-out part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant27 import kinds
from assistant27.analysis import analyze, fold, unmatched_names
from assistant27.kinds import (
    AMOUNT,
    ORDINAL,
    answer_holds_kind,
    asked_kind,
    asked_ordinals,
    focus_terms,
    holds_kind,
    holds_ordinal,
    states_amount_of_subject,
)
from assistant27.language import detect_language, sentences_in, years_in
from assistant27.schema import CITATION_MARKER, Answer, Passage, Timings


@dataclass(frozen=True)
class Support:
    """The best candidate sentence for a question, and how well it states what is asked."""

    kind: str | None  # the kind of answer asked for
    sentence: str  # the best sentence ("" when none)
    focus: float  # share of the question's focus terms in that sentence (0..1)
    typed: bool  # whether that sentence holds a thing of the asked kind

    @property
    def score(self) -> float:
        """0 when the sentence holds nothing of the asked kind, else its focus share."""
        return self.focus if self.typed else 0.0


def best_support(question: str, texts: list[str]) -> Support:
    """Among the sentences of `texts` (the passages an answer may quote), the one that best states what is asked:
    the highest focus share among sentences holding a thing of the asked kind (or, failing any, the highest)."""
    kind = asked_kind(question)
    terms = focus_terms(question)
    best = Support(kind, "", 0.0, False)
    for text in texts:
        for sentence in sentences_in(text):
            words = set(analyze(sentence))
            focus = len(terms & words) / len(terms) if terms else 1.0
            candidate = Support(kind, sentence, round(focus, 4), holds_kind(sentence, kind, question))
            if (candidate.score, candidate.focus) > (best.score, best.focus):
                best = candidate
    return best


# The refusal kinds of `ask --json` (`refusal`): the publications do not speak of it, or passages were found but
# none states what is asked.
ABSENT, UNVERIFIED = "absent", "unverified"

REFUSAL_TEXT = {
    ABSENT: {
        "fr": "Les publications ne répondent pas à cette question : elles n'en parlent pas.",
        "en": "The publications do not answer this question: they do not speak of it.",
    },
    UNVERIFIED: {
        "fr": "Les publications ne répondent pas à cette question : les passages trouvés en parlent, "
        "mais aucun ne dit ce qui est demandé.",
        "en": "The publications do not answer this question: the passages found speak of it, "
        "but none states what is asked.",
    },
}
_NOT_NAMED = {
    "fr": "Aucun des passages trouvés ne nomme : {names}.",
    "en": "None of the passages found names: {names}.",
}


@dataclass(frozen=True)
class Decision:
    """The one answerability decision: answer (refusal None), or refuse as absent or unverified, and why."""

    refusal: str | None
    confidence: float  # 0..1: the best sentence's share of the question's focus words, 0 when it holds no answer
    reason: str
    support: Support
    missing: tuple[str, ...] = ()  # names of the question that no passage holds

    @property
    def answerable(self) -> bool:
        return self.refusal is None


def decide(question: str, passages: list[Passage], context: list[Passage], *, min_coverage: float,
           min_dense: float, language: str) -> Decision:
    """Decide before answering, for every route: `passages` are all retrieved, `context` those an answer may quote.

    absent: a name the question asks about is in no passage, or the passages share too little with the question
    (retrieval scores); unverified: the question asks for a kind of thing (a person, an amount, a count, a date,
    a place) that no sentence of the context holds.
    """
    support = best_support(question, [p.text for p in context])
    confidence = support.score
    missing = unmatched_names(question, [f"{p.title} {p.year or ''} {p.text}" for p in passages], language)
    if missing:
        return Decision(ABSENT, 0.0, f"no passage names {', '.join(missing)}", support, tuple(missing))
    evidence = assess(question, passages, min_coverage=min_coverage, min_dense=min_dense)
    if not evidence.answerable:
        return Decision(ABSENT, 0.0, f"passages too far (coverage {evidence.coverage:.2f}, "
                        f"dense {evidence.dense:.2f})", support)
    if support.kind is not None and not support.typed:
        return Decision(UNVERIFIED, 0.0, f"no sentence holds the {support.kind} asked for", support)
    # « la 2e édition » asked, passages about the first one: they speak of it and do not answer.
    unnamed = unnamed_ordinals(question, [p.text for p in context])
    if unnamed:
        return Decision(UNVERIFIED, 0.0, f"no passage names the ordinal {unnamed[0]}", support)
    return Decision(None, confidence, "answerable", support)


def unnamed_ordinals(question: str, texts: list[str]) -> list[int]:
    """The ordinals the question asks about (« la 2e édition ») that none of the texts names (kinds.ORDINAL)."""
    if ORDINAL not in kinds.CHECKS:
        return []
    return sorted(n for n in asked_ordinals(question) if not any(holds_ordinal(text, n) for text in texts))


def after_answer(
    question: str, answer: str, decision: Decision, cited: Sequence[Passage] = (), publishers: tuple[str, ...] = ()
) -> Decision:
    """The same decision once an answer is written, by any generator: an answer that holds nothing of the kind the
    question asks for (no one named for « who », no amount for « how much ») quotes a passage that does not state
    what is asked, so it is refused as unverified; so is an amount stated of something else (« Impôts sur les
    salaires » for « le salaire du directeur »). So is an answer about a year the question names (« en 2031 »)
    whose cited passages are neither of that year nor name it: they speak of the subject in other years."""
    if decision.refusal is not None:
        return decision
    kind = decision.support.kind
    if kind is not None and not answer_holds_kind(question, answer):
        return Decision(UNVERIFIED, 0.0, f"the answer holds no {kind}", decision.support)
    if kind == AMOUNT and not states_amount_of_subject(question, answer, publishers):
        return Decision(UNVERIFIED, 0.0, "the amount stated is not of what is asked", decision.support)
    asked_years = set(years_in(question))
    if asked_years and cited and not any(p.year in asked_years or asked_years & set(years_in(p.text)) for p in cited):
        years = ", ".join(str(y) for y in sorted(asked_years))
        return Decision(UNVERIFIED, 0.0, f"no cited passage is of {years} or names it", decision.support)
    return decision


def refusal_text(kind: str, language: str, missing: tuple[str, ...] = ()) -> str:
    """What the user reads when the publications do not answer."""
    text = REFUSAL_TEXT[kind].get(language, REFUSAL_TEXT[kind]["fr"])
    if missing:
        text += " " + _NOT_NAMED.get(language, _NOT_NAMED["fr"]).format(names=", ".join(missing))
    return text


# What the prompt tells the model to write when the passages do not answer: the sentence users see. Its first word
# starts answers too ("Les collectivités ..."), so generators.RefusalGate measures the refusal over its first two
# tokens ("Les publications"). A sentence that starts no answer ("Je ne trouve pas la réponse dans les extraits.",
# measured by its first token alone) made the 1.5B model answer from the wrong passage in
# tests/test_generators.py::test_generator_contract[local] (evals/HISTORY.md, 2026-11-23).
MODEL_REFUSAL = {
    "fr": "Les publications ne répondent pas à cette question.",
    "en": "The publications do not answer this question.",
}
# What a language model writes when it cannot answer, even when it does not copy our sentence exactly.
_REFUSAL_PATTERNS = re.compile(
    r"ne (?:repondent|disent|contiennent|mentionnent|precisent|permettent|trouve) pas"
    r"|(?:aucune|pas d)\s*(?:information|mention)"
    r"|do(?:es)? not (?:answer|say|mention|contain|provide)|no information|not mentioned|cannot find",
)


# "ne précisent pas la date, mais ..." / "do not say when, but ...": what follows is an answer.
_BUT = re.compile(r"\b(?:mais|cependant|toutefois|neanmoins|but|however)\b")


def _refuses(sentence: str) -> bool:
    """One sentence that says the passages do not answer, with no answer after a 'but'."""
    folded = fold(CITATION_MARKER.sub("", sentence))
    found = _REFUSAL_PATTERNS.search(folded)
    return found is not None and not _BUT.search(folded[found.end() :])


def is_refusal(text: str) -> bool:
    """True when generated text only says that the passages do not answer.

    A partial refusal ("Les extraits ne précisent pas la date. Le programme a commencé en 2031 [1].") is an
    answer; a question the model echoed before refusing does not count as one.
    """
    content = [s for s in sentences_in(text.strip(), claims=True) if not CITATION_MARKER.sub("", s).rstrip().endswith("?")]
    return bool(content) and all(_refuses(s) for s in content)


def without_refusals(text: str) -> str:
    """An answer without its refusal sentences ("Les extraits ne disent pas X." before the part that answers)."""
    kept = [" ".join(s for s in sentences_in(line, claims=True) if not _refuses(s)) for line in text.strip().split("\n")]
    return "\n".join(line for line in kept if line)


@dataclass
class Answerability:
    """Evidence that the retrieved passages can answer the question."""

    coverage: float  # share of the question's content terms found in the best passages
    dense: float  # best dense similarity
    answerable: bool


# English questions are read against French passages: their dense similarity runs lower (answerable ones 0.78-0.87,
# off-topic ones 0.75-0.80 on evals/publications.jsonl, where 0.86 refused 18 of 31 answerable English questions),
# and French word coverage says little about them.
ENGLISH_DENSE_OFFSET = 0.06


def assess(question: str, passages: list[Passage], *, min_coverage: float, min_dense: float) -> Answerability:
    """Refuse before generating when the best passages share too little with the question.

    English questions need `min_dense - ENGLISH_DENSE_OFFSET`.
    """
    if detect_language(question) == "en":
        min_dense -= ENGLISH_DENSE_OFFSET
    terms = set(analyze(question))
    top = passages[:5]
    if not top:
        return Answerability(0.0, 0.0, False)
    best_cov = 0.0
    for p in top:
        words = set(analyze(f"{p.title} {p.heading} {p.text}"))
        best_cov = max(best_cov, len(terms & words) / len(terms) if terms else 0.0)
    dense = max((p.scores.get("dense", 0.0) for p in passages), default=0.0)
    answerable = dense >= min_dense or (best_cov >= min_coverage and dense >= min_dense - 0.04)
    return Answerability(best_cov, dense, answerable)


def refused(
    question: str, passages: list[Passage], timings: Timings, language: str, decision: Decision, generator: str
) -> Answer:
    """The refusal answer, of the decision's kind, showing the passages found."""
    kind = decision.refusal or UNVERIFIED
    return Answer(
        question=question,
        answer=refusal_text(kind, language, decision.missing),
        refused=True,
        citations=[],
        passages=passages,
        timings=timings,
        generator=generator,
        refusal=kind,
        confidence=0.0,
    )
