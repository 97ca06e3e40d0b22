"""The kind of thing a question asks for (a person, an amount, a count, a date, a place) and whether a text holds one.

Shared by answer selection (the extractive generator prefers sentences holding the kind asked) and by the
answerability decision (refusal.py). Wording only, French, informal French and English; nothing of any corpus.
"""

from __future__ import annotations

import re

from assistant27.analysis import analyze, fold

# Kinds of answer a question asks for, recognised from its wording (French, informal French, English).
PERSON, AMOUNT, COUNT, DATE, PLACE = "person", "amount", "count", "date", "place"


def _fold(text: str) -> str:
    return fold(text.replace("’", "'"))


# Order matters: "combien a coûté" asks an amount before a count; "qui" after the others ("qui a lancé ... quand").
_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        AMOUNT,
        re.compile(
            r"\bhow much\b|\bmontant|\bbudget\b|\bsalaire|\bsalary|\bcout\b|\bcoute|\bcouta|\bprix\b|\bprice\b|\btarif"
            r"|\b(?:combien|cb|cmb)\b.*\b(?:euros?|donne|verse|finance|paye|gagne|subvention|rapporte|depense|coute)"
        ),
    ),
    (COUNT, re.compile(r"\bhow many\b|\b(?:combien|cb|cmb)\b|\bnombre de\b|\bnumber of\b")),
    (
        DATE,
        re.compile(
            r"\bquand\b|\bqd\b|\bwhen\b|\bwhat year\b|\bwhich year\b|\bquelle annee\b|\bdepuis quand\b"
            r"|\bquelle date\b|\bwhat date\b|\ba quelle date\b"
        ),
    ),
    (
        PLACE,
        re.compile(
            r"\bwhere\b|\bdans quelle (?:ville|region|commune)\b|\bquelle ville\b|\bwhich (?:city|town|region)\b"
            r"|\bquel lieu\b|\bc(?:'est| est| t)? ou\b|^ou\b|\bse trouve\b|\bsitue"
        ),
    ),
    (
        PERSON,
        re.compile(
            r"^(?:et )?(?:qui|ki|who|whom)\b|\b(?:c'est|c|est|sont|etait|was|is) (?:qui|ki)\b|\bwho (?:is|was|are|were)\b"
            r"|\bcomment s'appelle|\bquel est le nom\b|\bthe name of\b|\bwhat is the name\b|\bwho\b"
        ),
    ),
]

_AMOUNT_IN = re.compile(
    r"\d[\d\s.,]*\s?(?:€|k€|m€|euros?\b|eur\b|millions? d'euros|milliards?)|€\s?\d|\$\s?\d|\d\s?\$",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante"
    r"|cinquante|soixante|cent|mille|dizaine|douzaine|quinzaine|vingtaine|centaine|two|three|four|five|six|seven"
    r"|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|dozen"
)
# A count is a number that is not a year ("en 2031" counts nothing).
_COUNT_IN = re.compile(rf"(?<![\d.,])(?!(?:1[89]|20)\d\d(?!\d))\d|\b(?:{_NUMBER_WORDS})s?\b", re.IGNORECASE)
_MONTHS = (
    r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|january|february"
    r"|march|april|may|june|july|august|september|october|november|december|printemps|ete|automne|hiver"
)
_DATE_IN = re.compile(rf"\b(?:1[89]|20)\d\d\b|\b(?:{_MONTHS})\b|\b\d{{1,2}}[./]\d{{1,2}}\b", re.IGNORECASE)
# A capitalised word that is not the first of its sentence, or an acronym: a name of someone, something, somewhere.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-Ý][\w'’-]*[A-Za-zÀ-ÿ]|\b[A-Z]{2,}\b")


def asked_kind(question: str) -> str | None:
    """The kind of answer the question asks for, or None when it asks for something else (a why, a what)."""
    folded = _fold(question).strip()
    for kind, pattern in _KINDS:
        if pattern.search(folded):
            return kind
    return None


def holds_kind(sentence: str, kind: str | None, question: str) -> bool:
    """Whether the sentence holds a thing of the asked kind; names must be new (not words of the question)."""
    if kind is None:
        return True
    if kind == AMOUNT:
        return bool(_AMOUNT_IN.search(sentence))
    if kind == COUNT:
        return bool(_COUNT_IN.search(sentence))
    if kind == DATE:
        return bool(_DATE_IN.search(_fold(sentence)))
    asked = set(analyze(question))
    return any(set(analyze(m.group(0))) - asked for m in _NAME.finditer(sentence))


_MARKER = re.compile(r"\[\d+\]")


def answer_holds_kind(question: str, answer: str) -> bool:
    """Whether an answer (citation markers aside) holds a thing of the kind the question asks for: an answer to
    « who » that names nobody new, or to « how much » that states no amount, does not answer, whatever it quotes."""
    return holds_kind(_MARKER.sub(" ", answer), asked_kind(question), question)


def focus_terms(question: str) -> set[str]:
    """The question's content terms (stems), without the words that only say what kind of answer it wants."""
    return set(analyze(question)) - _KIND_TERMS


_KIND_TERMS = set(
    analyze(
        "qui ki who whom quand when where combien cb cmb how much many nombre number montant budget quel quelle "
        "quels quelles what which year annee date lieu ville nom name appelle est sont c'est koi quoi"
    )
)
