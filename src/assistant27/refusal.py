"""Answerability: does any retrieved sentence state what the question asks?

A question asks for a kind of thing (a person, an amount, a count, a date, a place). A topical
passage that holds no such thing beside the question's own focus words does not answer it, however
similar it looks: embedding cosine between a question and a wrong-but-topical sentence is high, so
cosine alone does not separate answerable from unanswerable. These signals need no model and know
nothing of any corpus; thresholds live in config.py and are calibrated on the tuning part of the
evaluation sets (benchmarks/answerability.py), reported on the held-out part.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant27.analysis import analyze, unmatched_names
from assistant27.answering import assess
from assistant27.kinds import answer_holds_kind, asked_kind, focus_terms, holds_kind
from assistant27.language import sentences_in
from assistant27.schema import Passage


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
    return Decision(None, confidence, "answerable", support)


def after_answer(question: str, answer: str, decision: Decision) -> Decision:
    """The same decision once an answer is written, by any generator: an answer that holds nothing of the kind the
    question asks for (no one named for « who », no amount for « how much ») quotes a passage that does not state
    what is asked, so it is refused as unverified."""
    kind = decision.support.kind
    if decision.refusal is None and kind is not None and not answer_holds_kind(question, answer):
        return Decision(UNVERIFIED, 0.0, f"the answer holds no {kind}", decision.support)
    return decision


def refusal_text(kind: str, language: str, missing: tuple[str, ...] = ()) -> str:
    """What the user reads when the publications do not answer."""
    text = REFUSAL_TEXT[kind].get(language, REFUSAL_TEXT[kind]["fr"])
    if missing:
        text += " " + _NOT_NAMED.get(language, _NOT_NAMED["fr"]).format(names=", ".join(missing))
    return text
