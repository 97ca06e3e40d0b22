"""The language of a text, the years it names, and its sentences: one rule for each, used by every stage."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Function words, lower-cased, accented forms included: a handful of them tell a question's language apart
# even when it names French programmes in English ("Who funds Archipel?") or is typed informally ("c koi").
# fmt: off
_ENGLISH = frozenset({
    "the", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "does", "did", "do", "is",
    "are", "was", "were", "has", "have", "had", "of", "and", "in", "on", "for", "with", "from", "by", "about",
    "its", "their", "this", "that", "these", "those", "many", "much", "to", "as", "be", "it", "or", "an", "not",
    "at", "we", "they", "been", "but", "more", "into",
})
_FRENCH = frozenset({
    "le", "la", "les", "un", "une", "des", "du", "de", "et", "est", "sont", "que", "qui", "quoi", "quel",
    "quelle", "quels", "quelles", "comment", "pourquoi", "combien", "quand", "dans", "pour", "avec", "sur",
    "par", "au", "aux", "ce", "cette", "ces", "ont", "ou", "où", "c", "koi", "pas", "nous", "vous", "ils",
    "elles", "été", "être", "leur", "leurs", "mais", "plus", "comme",
})
# fmt: on
_WORD = re.compile(r"[^\W\d_]+")
# A document's language is read from its start; more adds time, not certainty.
_SAMPLE_CHARS = 20_000


def detect_language(text: str | Iterable[str], default: str = "fr") -> str:
    """`en` when a text (or the start of a publication's sections) has more English than French function words,
    `fr` when fewer, `default` when as many (none at all, say)."""
    sample = ""
    for part in [text] if isinstance(text, str) else text:
        sample += part + "\n"
        if len(sample) > _SAMPLE_CHARS:
            break
    words = [w.lower() for w in _WORD.findall(sample[:_SAMPLE_CHARS])]
    english = sum(w in _ENGLISH for w in words)
    french = sum(w in _FRENCH for w in words)
    if english == french:
        return default
    return "en" if english > french else "fr"


# A year is four digits from 1900 to 2099 standing alone: not inside a longer number, a decimal (`1.2031`,
# `2031,5`) or a code; a letter may follow (`2030s`, `2031e`), and a range is two years (`2031-2033`).
YEAR = r"(?:19|20)\d\d"
YEARS = re.compile(rf"(?<!\d)(?<!\d[.,])({YEAR})(?![.,]?\d)")


def years_in(text: str) -> list[int]:
    """The years a text names, in the order it first names them (`dans les années 2030, puis 2031-2033`)."""
    return list(dict.fromkeys(int(y) for y in YEARS.findall(text)))


@dataclass(frozen=True)
class YearSpan:
    """Years a text states as a stretch: « de 2031 à 2034 », « 2031-2034 », « entre 2031 et 2034 » (both ends),
    « depuis 2031 », « après 2031 » (from then on), « avant 2031 », « jusqu'en 2031 » (up to then). Each reader
    takes the forms that mean what it needs: a comparison of years, or a catalogue's range."""

    low: int | None
    high: int | None
    opener: str  # the word before the first year, folded ("de", "entre", "depuis", "avant"...); "-" in « 2031-2034 »
    closer: str  # the word before the second year ("a", "et", "to"...); "" for a span open at one end
    adjacent: bool  # no other word between the years and the words that open and close the span


_YEAR_WORDS = r"(?:l'an\s+|la\s+\w+\s+de\s+)"  # « de l'an 2031 », « de la fin de 2031 »
_BOTH_ENDS = re.compile(
    rf"\b(de|du|from|entre|between)\s+({_YEAR_WORDS}?)({YEAR})\b(.{{0,60}}?)\b(a|au|to|until|jusqu'en|et|and)\s+"
    rf"((?:l'\w+\s+de\s+|la\s+\w+\s+de\s+)?)({YEAR})\b|\b({YEAR})\s*[-–]\s*({YEAR})\b"
)
_SINCE_WORDS = ("depuis", "since", "apres", "after", "a partir de", "from")
_OPEN_END = re.compile(
    rf"\b({'|'.join(_SINCE_WORDS)}|avant|before|jusqu.?en|until)\s+((?:\w+\s+){{0,2}}?)({YEAR})\b"
)


def fold(text: str) -> str:
    """Lower-case and strip accents: `Réglementation` -> `reglementation`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def year_spans(text: str) -> list[YearSpan]:
    """The stretches of years a text states, those with both ends first, each kind in the order of the text."""
    folded = fold(text.replace("’", "'"))
    spans = []
    for m in _BOTH_ENDS.finditer(folded):
        if m.group(8):
            spans.append(YearSpan(int(m.group(8)), int(m.group(9)), "-", "-", True))
            continue
        adjacent = not m.group(2) and not m.group(4).strip() and not m.group(6)
        spans.append(YearSpan(int(m.group(3)), int(m.group(7)), m.group(1), m.group(5), adjacent))
    for m in _OPEN_END.finditer(folded):
        year, adjacent = int(m.group(3)), not m.group(2)
        if m.group(1) in _SINCE_WORDS:
            spans.append(YearSpan(year, None, m.group(1), "", adjacent))
        else:
            spans.append(YearSpan(None, year, m.group(1), "", adjacent))
    return spans


def is_year(word: str) -> bool:
    """Whether a word is a year and nothing else (`2031`, not `2031-2033` nor `20190`)."""
    return years_in(word) == [int(word)] if word.isdigit() else False


# Abbreviations after which a period does not end a sentence (lower-cased, without the period).
# fmt: off
ABBREVIATIONS = frozenset({
    "p", "pp", "m", "mm", "mme", "mmes", "mlle", "mlles", "dr", "pr", "st", "ste", "cf", "ex", "etc", "vol",
    "art", "al", "n", "no", "nos", "fig", "chap", "éd", "ed", "av", "bd", "env", "min", "max", "tél", "tel",
    "coll", "dir", "hab", "km", "kg", "janv", "févr", "fév", "sept", "oct", "nov", "déc", "réf", "ref", "ibid",
    "op", "cit", "resp", "cie", "ets", "sté",
})
# fmt: on
# A sentence ends at . ! ? … (possibly closed by a quote or bracket) followed by whitespace.
SENTENCE_END = re.compile(r"[.!?…]+[»\"”’)\]]*(?=\s)")


def is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation (`p.`, `M.`, `cf.`) or an initial (`J.`)."""
    if text[dot] != ".":
        return False
    m = re.search(r"(\w+)$", text[:dot])
    if not m:
        return False
    word = m.group(1)
    return word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper())


def sentence_ends(text: str) -> Iterable[int]:
    """Where the chunker ends the sentences of one paragraph (the text's end excluded): at `SENTENCE_END`, but not
    after an abbreviation or an initial (`M. Dupont`, `p. 12`). A chunk's id hashes its text, so this rule stays
    as the index was built with it."""
    for m in SENTENCE_END.finditer(text):
        if not is_abbreviation(text, m.start()):
            yield m.end()


# A stop that ends a sentence wherever it stands in the layout: before a space, a line break or the text's end.
_STOP = re.compile(r"[.!?…](?=\s|$)")


def first_sentence_end(text: str, most: int | None = None) -> int | None:
    """Where the first sentence of `text` ends (just after its stop), looking through line breaks and within `most`
    characters; None when no stop ends one there. For a sentence the layout cut into lines, read to its end."""
    end = _STOP.search(text, 0, len(text) if most is None else most)
    return end.end() if end else None


# Within a passage: a line break, or . ! ? … and spaces before a capital, a digit or an opening quote, so that
# « 6. design », « etc. et » and « www. exemple. fr » go on. Within a generated answer, every end counts: each
# claim is checked against its passage on its own.
_PASSAGE_END = re.compile(r"\n+|(?<=[.!?…])\s+(?=[«\"(]?[A-ZÀ-ÖØ-Þ0-9])")
_ANY_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def sentences_in(text: str, *, claims: bool = False) -> list[str]:
    """The sentences and heading lines of a passage, stripped; `claims`: of a generated answer, line by line.

    Not the chunker's abbreviations: these are the sentences the extractive generator ranks, and a first version
    that kept « M. Dupont » whole and went on before a lower-case word or a closing quote changed 7 of 41
    extractive answers, two for the worse (one lost the issue number it was asked for).
    """
    if claims:
        return [s.strip() for line in text.split("\n") for s in _ANY_END.split(line) if s.strip()]
    return [s.strip() for s in _PASSAGE_END.split(text) if s.strip()]


# Words that open a question (French, informal French, English), for the parts of a compound question.
_ASKING = (
    r"qui|ki|quand|qd|o[uù]|quel(?:le)?s?|combien|cb|comment|pourquoi|que|qu'|quoi|koi|jusqu'?(?:a|à|où|ou)?\s*quand"
    r"|depuis quand|d'o[uù]|de quoi|sur quoi|sur quel(?:le)?s?|[aà] quel(?:le)?s?|avec qui|par qui|en quelle"
    r"|who|whom|when|where|what|which|how|why|until when|since when"
)
# « …, et quand a-t-il démarré ? », « … and who attended? »: a second question after « et » / « and ».
_AND_ASKING = re.compile(rf"\s*,?\s+(?:et|and)\s+(?=(?:{_ASKING})\b)", re.IGNORECASE)
# « Où et quand s'est tenue … ? », « When and where did … ? »: two question words sharing the rest.
_PAIRED = re.compile(rf"^\s*((?:{_ASKING}))\s+(?:et|and)\s+((?:{_ASKING}))\b\s*(.*)$", re.IGNORECASE | re.DOTALL)

_DETERMINER = re.compile(r"(?:quel(?:le)?s?|which|what)$", re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The questions a compound question asks, each whole: « Où et quand s'est tenue l'AG ? » -> « Où s'est tenue
    l'AG ? », « quand s'est tenue l'AG ? »; « Qu'est-ce que X, et quand a-t-il démarré ? » -> « Qu'est-ce que X »,
    « quand a-t-il démarré ? ». A question that asks one thing is its only part."""
    text = question.replace("’", "'").strip()
    paired = _PAIRED.match(text)
    if paired:
        first, second, rest = paired.groups()
        # « Avec qui et sur quelle période X ? »: the noun after « quelle » is the second question's own.
        own = _DETERMINER.search(second) and rest.split(maxsplit=1)
        return [f"{first} {own[-1] if own else rest}".strip(), f"{second} {rest}".strip()]
    parts = [p.strip() for p in _AND_ASKING.split(text) if p.strip()]
    # « Quelles collectivités et quelles associations ont participé ? » asks one thing: the first part carries the
    # subject (three words at least), each other part more than its question word.
    if len(parts) > 1 and len(_WORD.findall(parts[0])) >= 3 and all(len(_WORD.findall(p)) >= 2 for p in parts):
        return parts
    return [text]
