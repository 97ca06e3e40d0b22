"""French text analysis for BM25 and support checks: elision, accent folding, stop words, Snowball stemming."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

# Web addresses: their slugs repeat a page's words and let link lists outrank the text itself.
_URL = re.compile(r"<?(?:https?://|www\.)\S+>?")
_TOKEN = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)
# l', d', qu', jusqu'... are glued to the next word in French; BM25 must see the word alone.
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)

# Words that carry no topic in questions (in French, informal French and English), beyond NLTK's lists.
_EXTRA_STOP = [
    "quel",
    "quelle",
    "quels",
    "quelles",
    "lequel",
    "laquelle",
    "lesquels",
    "lesquelles",
    "comment",
    "pourquoi",
    "combien",
    "quand",
    "où",
    "ou",
    "qui",
    "quoi",
    "koi",
    "kel",
    "kels",
    "c",
    "est",
    "ce",
    "cet",
    "cette",
    "ces",
    "ca",
    "ça",
    "y",
    "a",
    "il",
    "elle",
    "ils",
    "elles",
    "on",
    "nous",
    "vous",
    "dit",
    "dire",
    "fait",
    "faire",
    "peut",
    "peux",
    "etre",
    "être",
    "avoir",
    "ont",
    "sont",
    "été",
    "the",
    "what",
    "which",
    "who",
    "whom",
    "when",
    "where",
    "why",
    "how",
    "does",
    "did",
    "do",
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "about",
    "tell",
    "me",
    "please",
    "stp",
    "svp",
    "est-ce",
    "moi",
    "toi",
    "parle",
    "parler",
    "explique",
    "expliquer",
    "donne",
    "donner",
    "liste",
    "lister",
    "cite",
    "citer",
]


def strip_urls(text: str) -> str:
    """The text without its web addresses (kept for display, left out of matching)."""
    lines = (" ".join(line.split()) for line in _URL.sub(" ", text).split("\n"))
    return "\n".join(line for line in lines if line)


def fold(text: str) -> str:
    """Lower-case and strip accents: `Réglementation` -> `reglementation`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def stop_words() -> frozenset[str]:
    """French and English stop words (NLTK's lists shipped inside llama-index, folded), plus question words."""
    import llama_index.core

    base = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache" / "corpora" / "stopwords"
    words: set[str] = set(_EXTRA_STOP)
    for lang in ("french", "english"):
        path = base / lang
        if path.exists():
            words.update(path.read_text(encoding="utf-8").split())
    return frozenset(fold(w) for w in words)


@cache
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("french")


def tokenize(text: str) -> list[str]:
    """Words of `text` with elisions removed, folded, without stop words (not stemmed)."""
    stops = stop_words()
    out = []
    for m in _TOKEN.finditer(_URL.sub(" ", text)):
        word = _ELISION.sub("", m.group(0))
        w = fold(word).replace("’", "'")
        if len(w) < 2 and not w.isdigit():
            continue
        if w in stops:
            continue
        out.append(w)
    return out


def analyze(text: str) -> list[str]:
    """BM25 terms: tokenize, then Snowball French stems (folding first keeps `reglementation` == `réglementation`)."""
    return list(_stemmer().stemWords(tokenize(text)))
