"""French text analysis for BM25 and support checks: elision, accent folding, stop words, Snowball stemming."""

from __future__ import annotations

import re
from collections.abc import Container
from functools import cache

from assistant27.language import YEAR, fold, is_year

# Web addresses: their slugs repeat a page's words and let link lists outrank the text itself.
_URL = re.compile(r"<?(?:https?://|www\.)\S+>?")
# A web address's path or slug written without its scheme, as PDFs print links (« nos-actions/les-defis/ »,
# « u26414578/1158603/ », « la-participation-citoyenne-au-programme-2031 »): it shares a sentence's words and says
# nothing. Not a date (« 12/10/2031 »), « et/ou », « 2031/2033 », nor a compound name (« Saint-Jean-de-Luz »).
_PATH = re.compile(r"(?<![\w/.-])(?:[\w.~%-]+/)+[\w.~%-]*(?![\w/])")
_PATH_PART = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+){2,}$|[a-z]-[a-z0-9]|[a-z]\d{4,}|\.[a-z]{2,}$")
_SLUG = re.compile(r"(?<![\w/-])[a-z0-9]+(?:-[a-z0-9]+){3,}/?(?![\w-])")


def _unlinked(text: str) -> str:
    def path(m: re.Match[str]) -> str:
        address = m.group(0)
        parts = [part for part in address.split("/") if part]
        if (address.count("/") >= 2 or address.endswith("/")) and any(_PATH_PART.search(part) for part in parts):
            return " "
        return address

    return _SLUG.sub(" ", _PATH.sub(path, _URL.sub(" ", text)))


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


# NLTK's English list has these contractions; bm25s's copy of it (STOPWORDS_EN_PLUS) lacks them.
_ENGLISH_CONTRACTIONS = [
    f"{pronoun}'{end}"
    for pronoun, ends in {
        "he": "d ll s", "she": "d ll", "it": "d ll", "i": "d ll m ve", "we": "d ll re ve", "they": "d ll re ve"
    }.items()
    for end in ends.split()
]  # fmt: skip


# Informal and SMS spellings seen in members' questions, rewritten to the words they stand for, so that question
# words fall to the stop list and content words meet their stems: "cb d'adherents" -> "combien d'adherents".
_INFORMAL = {
    "koi": "quoi",
    "kwa": "quoi",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "cb": "combien",
    "cmb": "combien",
    "cbien": "combien",
    "ke": "que",
    "ki": "qui",
    "kel": "quel",
    "kels": "quels",
    "kelle": "quelle",
    "kelles": "quelles",
    "qd": "quand",
    "kan": "quand",
    "jusqua": "jusqu'à",
    "ya": "il y a",
    "ds": "dans",
    "pr": "pour",
    "ac": "avec",
    "avc": "avec",
    "bcp": "beaucoup",
    "tjs": "toujours",
    "tt": "tout",
    "qq": "quelques",
    "pdt": "pendant",
    "nb": "nombre",
    "asso": "association",
    "assos": "associations",
}
_INFORMAL_WORD = re.compile(r"\b(" + "|".join(sorted(_INFORMAL, key=len, reverse=True)) + r")\b", re.IGNORECASE)
# Words that name the publication a question is about, not its content ("selon le rapport 2031", "d'après la
# brochure"), and the publisher's own name, which nearly every passage repeats.
_QUERY_NOISE = re.compile(
    r"\b(?:d['’ ]?apr[eè]s|selon|according to|mentioned in|brochure"
    rf"|(?:rapports?|report)(?: annuels?| d['’]activit[eé]s?)?(?= (?:de |du |of )?{YEAR}\b)"
    r"|rapports? d['’]activit[eé]s?|(?<=\d\d\d\d )(?:annual )?(?:activity )?reports?)\b",
    re.IGNORECASE,
)
_ARTICLE = r"(?:(?:de |a |à )?(?:la|le|les|l')\s*|du |des |au |aux )?"


@cache
def _publisher_pattern(publishers: tuple[str, ...]) -> re.Pattern[str] | None:
    """The publishers' names as typed in questions: accents and case aside, with or without their article, a
    number glued to its letters or not (« La Maison 3e Lieu », « maison 3 e lieu »)."""
    forms = []
    for name in publishers:
        words = fold(name).split()
        if words and words[0] in ("la", "le", "les", "l'"):
            words = words[1:]
        if words:
            forms.append(r"\s+".join(re.sub(r"(?<=\d)(?=[^\W\d])", " ?", re.escape(w)) for w in words))
    if not forms:
        return None
    return re.compile(rf"\b{_ARTICLE}(?:{'|'.join(forms)})\b")


def normalize_query(text: str, publishers: tuple[str, ...] = ()) -> str:
    """A question as BM25 should read it: informal spellings rewritten, references to the publication and the
    publishers' own names (which nearly every passage repeats) dropped."""
    text = _INFORMAL_WORD.sub(lambda m: _INFORMAL[m.group(1).lower()], text)
    text = _QUERY_NOISE.sub(" ", text)
    pattern = _publisher_pattern(publishers)
    if pattern is not None:
        text = pattern.sub(" ", fold(text))
    return " ".join(text.split())


def strip_urls(text: str) -> str:
    """The text without its web addresses, with or without their scheme (kept for display, left out of matching)."""
    lines = (" ".join(line.split()) for line in _unlinked(text).split("\n"))
    return "\n".join(line for line in lines if line)


@cache
def stop_words() -> frozenset[str]:
    """French and English stop words (NLTK's lists, as bm25s ships them), folded, plus question words."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

    words = {*_EXTRA_STOP, *STOPWORDS_FRENCH, *STOPWORDS_EN_PLUS, *_ENGLISH_CONTRACTIONS}
    return frozenset(fold(w) for w in words)


@cache
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("french")


def tokenize(text: str) -> list[str]:
    """Words of `text` with elisions removed, folded, without stop words (not stemmed)."""
    stops = stop_words()
    out = []
    # Only full addresses: a bare path's words (« les-eclaireurs-2018/ ») may be the one place a passage names its
    # subject, which BM25 needs; answers and the dense model's text leave them out (`strip_urls`).
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


# Elisions typed without their apostrophe ("dadhesions", "lassemblee"), longest first.
_GLUED = ("jusqu", "qu", "d", "l", "j", "m", "n", "s", "t", "c")


def analyze_query(text: str, vocabulary: Container[str] = frozenset(), publishers: tuple[str, ...] = ()) -> list[str]:
    """BM25 terms of a question: `normalize_query`, then `analyze`; a term unknown to `vocabulary` that is an
    elision typed without its apostrophe (`dadhesions`) becomes the known term (`adhes`)."""
    stem = _stemmer().stemWord
    out = []
    for word in tokenize(normalize_query(text, publishers)):
        term = stem(word)
        if vocabulary and term not in vocabulary:
            for glued in _GLUED:
                rest = word[len(glued) :]
                if word.startswith(glued) and len(rest) >= 3 and stem(rest) in vocabulary:
                    term = stem(rest)
                    break
        out.append(term)
    return out


_NAME_TOKEN = re.compile(r"[^\W_][\w’'-]*|[.?!;:]")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]+|[A-Z]+\d[A-Z0-9]*")
_LEADING_ELISION = re.compile(r"^(?:[LlDdJjMmNnSsTtCc]|[Qq]u)['’]")
_QUOTED = re.compile(r"[«\"“]\s*([^»\"”]{3,80}?)\s*[»\"”]")


def asked_names(question: str, language: str = "fr") -> list[str]:
    """What a question names that the publications must name too to answer it: years, acronyms (`SIRET`,
    `CO2`), the words of a title in quotes (« Villes nourricières ») and, in French, words written with a
    capital inside the sentence (`la Ville de Nice`).

    In English questions the capitals do not count: a French name may be translated (`Brittany`).
    """
    names = []
    start = True  # the first word of a sentence has its capital anyway
    for m in _NAME_TOKEN.finditer(question):
        token = m.group(0)
        if token in ".?!;:":
            start = True
            continue
        word = _LEADING_ELISION.sub("", token).removesuffix("'s").removesuffix("’s").strip("'’-")
        figure = is_year(word) or (_ACRONYM.fullmatch(word) and len(word) >= 2)
        capital = language != "en" and not start and word[:1].isupper() and fold(word) not in stop_words()
        if figure or capital:
            names.append(word)
        start = False
    for quoted in _QUOTED.finditer(question):
        words = (_LEADING_ELISION.sub("", w) for w in re.findall(r"[^\W\d_][\w’'-]*", quoted.group(1)))
        names.extend(w for w in words if len(w) >= 4 and fold(w) not in stop_words())
    if language != "en":
        names.extend(_lowercase_titles(question))
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(fold(name), name)
    return list(first.values())


# « le programme jardins partagés », « du projet rivières vivantes »: a title typed without capitals, the words after
# « programme », « projet », « dispositif » up to a function word.
_TITLED = re.compile(r"\b(?:le|du|au)\s+(?:programme|projet|dispositif)\s+(.+)", re.IGNORECASE)


_ASKED_VERB = re.compile(r"-(?:t-)?(?:il|elle|on|ils|elles)$", re.IGNORECASE)


def _lowercase_titles(question: str) -> list[str]:
    found = _TITLED.search(question.replace("’", "'"))
    if found is None:
        return []
    words = []
    for word in re.findall(r"[^\W\d_][\w'-]*|\S", found.group(1))[:4]:
        # « a-t-il », « commence-t-il »: the question's verb, not the title.
        if not word[:1].islower() or not word[:1].isalpha() or fold(word) in stop_words() or _ASKED_VERB.search(word):
            break
        words.append(word)
    title = " ".join(words)
    return [title] if len(title) >= 4 else []


def shared_terms(terms: set[str], words: list[str]) -> int:
    """How many of the question's stems a sentence has; stems of 5+ letters also match on their first 5
    (`soutenait`/`soutenue`: `souten`/`soutenu`; `financièrement`/`financements`)."""
    found = terms & set(words)
    prefixes = {w[:5] for w in words if len(w) >= 5}
    return len(found) + sum(1 for t in terms - found if len(t) >= 5 and t[:5] in prefixes)


def unmatched_names(question: str, texts: list[str], language: str = "fr") -> list[str]:
    """The names of `asked_names` that none of `texts` contains as a word (accents folded, a final s aside,
    and for a single word of 6+ letters one letter apart: « hackathon » is the publication's « hackaton »)."""
    folded = fold(" ".join(texts))
    vocabulary = set(re.findall(r"[^\W\d_]{5,}", folded))
    missing = []
    for name in asked_names(question, language):
        stem = fold(name).removesuffix("s")
        # Not inside a longer word; a digit glued on by the layout ("3Fondation Exemple") does not count. A title's
        # words may be cut by a line's end.
        pattern = r"\s+".join(re.escape(word) for word in stem.split())
        if re.search(rf"(?<![^\W\d_]){pattern}s?(?![^\W\d_])", folded):
            continue
        if len(stem) >= 6 and stem.isalpha() and any(one_letter_apart(stem, w.removesuffix("s")) for w in vocabulary):
            continue
        missing.append(name)
    return missing


def one_letter_apart(a: str, b: str) -> bool:
    """Equal, or one letter inserted, removed or changed (`hackathon`/`hackaton`, `foret`/`forest`)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1 :]
