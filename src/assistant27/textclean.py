"""French text repair: hyphenation, OCR apostrophes, odd spaces and hyphens, ligatures, vertical syllables, link stubs."""  # noqa: E501

from __future__ import annotations

import collections
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["CleanResult", "clean_text", "is_french_word"]


@dataclass
class CleanResult:
    text: str
    repairs: collections.Counter[str] = field(default_factory=collections.Counter)


Repairs = collections.Counter[str]

# --------------------------------------------------------------------------- word lists


def _load_frequencies(lang: str) -> Mapping[str, int]:
    """pyspellchecker's word frequency list for `lang` (lower-case words -> counts)."""
    from spellchecker import SpellChecker

    # The spell checker itself is dropped: only its list is used (its edit-distance search never is).
    return SpellChecker(language=lang).word_frequency.dictionary


@functools.cache
def _french_freq() -> Mapping[str, int]:
    return _load_frequencies("fr")


@functools.cache
def _english_freq() -> Mapping[str, int]:
    return _load_frequencies("en")


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.cache
def _french_unaccented() -> frozenset[str]:
    # URL slugs drop accents ("experimentations"), so they need an accent-blind lookup.
    return frozenset(_strip_accents(w) for w in _french_freq())


def _norm(word: str) -> str:
    # The list spells "oeuvre"/"coeur" with two letters and uses the ASCII apostrophe.
    return word.lower().replace("’", "'").replace("œ", "oe").replace("æ", "ae")


def is_french_word(word: str) -> bool:
    """True when `word` (any case, œ or oe, ’ or ') is in pyspellchecker's French list."""
    return bool(word) and _norm(word) in _french_freq()


def _is_french_loose(word: str) -> bool:
    return is_french_word(word) or _strip_accents(_norm(word)) in _french_unaccented()


def _is_english_word(word: str) -> bool:
    return _norm(word) in _english_freq()


_LETTERS = r"[^\W\d_]"
_WORD_RE = re.compile(rf"{_LETTERS}+")
_COMPOUND_RE = re.compile(rf"{_LETTERS}+(?:['’-]{_LETTERS}+)+")


def _text_words(text: str) -> set[str]:
    return set(_WORD_RE.findall(_norm(text)))


def _text_compounds(text: str) -> set[str]:
    return set(_COMPOUND_RE.findall(_norm(text)))


# --------------------------------------------------------------------------- rule 1


_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# A soft hyphen is only a line-breaking opportunity, so at a line end the word was
# never meant to be split: join without keeping any hyphen.
_SOFT_HYPHEN_EOL_RE = re.compile("\u00ad[ \t]*\n[ \t]*")
_SOFT_HYPHEN_RE = re.compile("\u00ad")
_ODD_SPACE_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_LINE_SEP_RE = re.compile("\u2028")
_PARA_SEP_RE = re.compile("\u2029")
_ODD_HYPHEN_RE = re.compile("[\u2010\u2011]")


def _fix_odd_characters(text: str, repairs: Repairs) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text, n = _ZERO_WIDTH_RE.subn("", text)
    repairs["zero_width"] += n
    text, n_eol = _SOFT_HYPHEN_EOL_RE.subn("", text)
    text, n = _SOFT_HYPHEN_RE.subn("", text)
    repairs["soft_hyphen"] += n_eol + n
    text, n = _ODD_SPACE_RE.subn(" ", text)
    text, n_line = _LINE_SEP_RE.subn("\n", text)
    text, n_para = _PARA_SEP_RE.subn("\n\n", text)
    repairs["odd_space"] += n + n_line + n_para
    text, n = _ODD_HYPHEN_RE.subn("-", text)
    repairs["odd_hyphen"] += n
    return text


# --------------------------------------------------------------------------- rule 2

# "œ" is deliberately absent: it is a letter of French, not a typographic ligature.
_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
_LIGATURE_RE = re.compile("[" + "".join(_LIGATURES) + "]")


def _fix_ligatures(text: str, repairs: Repairs) -> str:
    text, n = _LIGATURE_RE.subn(lambda m: _LIGATURES[m.group(0)], text)
    repairs["ligature"] += n
    return text


# --------------------------------------------------------------------------- rule 7

# "[*](#)" is a link icon whose target was lost in export: nothing to keep.
_EMPTY_LINK_RE = re.compile(r"\[[ \t]*[*•]?[ \t]*\]\(#?\)[ \t]*")
# "[dès 2020](#)": the words are real prose, only the dead target goes.
_DEAD_LINK_RE = re.compile(r"\[([^\]\n]*[^\W_][^\]\n]*)\]\(#?\)")
# An OCR'd report may render the link pictogram in front of each URL as "#*".
_OCR_LINK_ICON_RE = re.compile(r"^#\*[ \t]*", re.MULTILINE)


def _fix_link_stubs(text: str, repairs: Repairs) -> str:
    text, n_empty = _EMPTY_LINK_RE.subn("", text)
    text, n_dead = _DEAD_LINK_RE.subn(r"\1", text)
    text, n_icon = _OCR_LINK_ICON_RE.subn("", text)
    repairs["link_stub"] += n_empty + n_dead + n_icon
    return text


# --------------------------------------------------------------------------- rule 6


def _is_fragment_line(line: str) -> bool:
    core = line.strip()
    # Up to four visible characters, allowing one inner space because the layout
    # engine keeps word gaps inside fragments ("- j", "r -").
    return 0 < len(core) <= 4 and core.count(" ") <= 1


def _vertical_join(fragments: list[str], outside_words: set[str]) -> str | None:
    with_letters = sum(1 for f in fragments if _WORD_RE.search(f))
    if with_letters * 10 < len(fragments) * 6:
        return None
    # Raw concatenation: leading/trailing spaces inside fragments mark word boundaries.
    joined = re.sub(r"[ \t]+", " ", "".join(fragments)).strip()
    if len(joined.split()) >= len(fragments):
        return None
    long_words = [w for w in _WORD_RE.findall(joined) if len(w) >= 5]
    if not any(is_french_word(w) or _norm(w) in outside_words for w in long_words):
        return None
    return joined


def _fix_vertical_syllables(text: str, repairs: Repairs) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    text_words: set[str] | None = None
    while i < len(lines):
        if not _is_fragment_line(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        # Extend over fragments separated by at most one blank line.
        frag_idx = [i]
        j = i + 1
        while j < len(lines):
            if _is_fragment_line(lines[j]):
                frag_idx.append(j)
                j += 1
            elif not lines[j].strip() and j + 1 < len(lines) and _is_fragment_line(lines[j + 1]):
                j += 1
            else:
                break
        end = frag_idx[-1] + 1
        joined: str | None = None
        if len(frag_idx) >= 3:
            if text_words is None:
                text_words = _text_words(text)
            joined = _vertical_join([lines[k] for k in frag_idx], text_words)
        if joined is None:
            out.extend(lines[i:end])
        else:
            out.append(joined)
            repairs["vertical_syllables"] += 1
        i = end
    return "\n".join(out)


# --------------------------------------------------------------------------- rule 3

# The rest of the next token is only peeked at, so that a slug broken over several
# lines ("les-jardins-\npartages-...-pour-\nfaire-...") is mended in a single pass.
_HYPHEN_BREAK_RE = re.compile(
    r"(?<![^\W_])(?P<a>[^\W_]+)-[ \t]*\n(?P<blank>[ \t]*\n)?[ \t]*(?P<b>[^\W_]+)(?=(?P<rest>\S*))"
)
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+){2,}[-/]?$")
_ELISION_RE = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
# Elided articles glued into URL slugs: "lin-novateur" is "l'innovateur".
_SLUG_ELISION_RE = re.compile(r"^(?:[cdjlmnst]|qu)(?=[aeiouyh])")


def _is_url_context(tok: str, next_tok: str) -> bool:
    for t in (tok, next_tok):
        if "/" in t or "@" in t or t.startswith(("http", "www.")):
            return True
        if _SLUG_RE.match(t.rstrip(".,;:)")):
            return True
    return False


def _url_separator(a: str, b: str, across_blank: bool, words: set[str]) -> str | None:
    joined = a + b
    if _is_french_loose(joined) or _norm(joined) in words:
        return ""
    elision = _SLUG_ELISION_RE.match(a)
    if elision and len(a) > elision.end() and _is_french_loose(joined[elision.end() :]):
        return ""
    # In a slug an unexplained hyphen is more likely real than a syllable break.
    return None if across_blank else "-"


def _hyphen_separator(tok: str, a: str, b: str, across_blank: bool, words: set[str], compounds: set[str]) -> str | None:
    """Separator replacing the break: "" joins, "-" keeps a compound, None leaves it."""
    joined = a + b
    joined_known = is_french_word(joined) or _norm(joined) in words
    if across_blank:
        # A blank line is normally a paragraph break; merge only on strong evidence.
        return "" if joined_known and not b[0].isupper() else None
    if any(ch.isdigit() for ch in a + b):
        return "-"  # "(2031-\n2034)": a range, not a broken word
    if b[0].isupper() and not (a.isupper() and b.isupper()):
        # "Saint-\nValcourt", "Montclair-la-\nForêt"; an unknown lower-case stub before a
        # capital ("d'appren-\nJeanne") is a garbled column, better left as is.
        return "-" if a[0].isupper() or is_french_word(a) else None
    if joined_known:
        return ""
    bare = re.sub(r"^\W+", "", tok + a)
    forms = {f"{a}-{b}", f"{bare}-{b}", f"{_ELISION_RE.sub('', bare)}-{b}"}
    if any(is_french_word(f) or _norm(f) in compounds for f in forms):
        return "-"  # "peut-\nêtre", "c'est-à-\ndire", "rendez-\nvous"
    if is_french_word(b) and (is_french_word(a) or a[0].isupper()):
        return "-"  # two real words: "tiers-\nlieu", "arc-\nen-ciel"
    # The left part is a syllable stub ("pluri", "pion", "phé"): join.
    return ""


def _fix_hyphenation(text: str, repairs: Repairs) -> str:
    if "-" not in text:
        return text
    words = _text_words(text)
    compounds = _text_compounds(text)

    def repl(m: re.Match[str]) -> str:
        a, b, rest = m["a"], m["b"], m["rest"]
        start = m.start()
        tok_start = max(text.rfind(c, 0, start) for c in " \t\n") + 1
        tok = text[tok_start:start]
        across_blank = m["blank"] is not None
        if _is_url_context(tok + a + "-", b + rest):
            sep = _url_separator(a, b, across_blank, words)
        else:
            sep = _hyphen_separator(tok, a, b, across_blank, words, compounds)
        if sep is None:
            return m.group(0)
        repairs["hyphenation"] += 1
        return f"{a}{sep}{b}"

    return _HYPHEN_BREAK_RE.sub(repl, text)


# --------------------------------------------------------------------------- rule 4

# OCR reads the elided article "l'" as "I'" (or "|'", "|I'"), sometimes with a doubled
# apostrophe. The lookahead grabs the next word to tell French apart from "I'm".
_OCR_L_RE = re.compile(rf"(?<![\w'’])(?:\|I|\||I)(['’])['’]?(?=({_LETTERS}+))")
_ENGLISH_CONTRACTIONS = frozenset({"m", "ll", "ve", "d", "re", "s", "t"})
_ELISION_START = frozenset("aeiouyhàâäéèêëîïôöûüœæAEIOUYHÀÂÄÉÈÊËÎÏÔÖÛÜŒÆ")
_DOUBLE_APOSTROPHE_RE = re.compile(rf"(?<={_LETTERS})(['’])['’](?={_LETTERS})")


def _fix_ocr_apostrophes(text: str, repairs: Repairs) -> str:
    def repl(m: re.Match[str]) -> str:
        nxt = m.group(2)
        if nxt in _ENGLISH_CONTRACTIONS:
            return m.group(0)
        if nxt[0] in _ELISION_START or nxt[0].isupper() or is_french_word(nxt):
            repairs["ocr_apostrophe"] += 1
            return "l" + m.group(1)
        return m.group(0)

    text = _OCR_L_RE.sub(repl, text)
    # Keep the first mark so the document's own apostrophe style (’ or ') survives.
    text, n = _DOUBLE_APOSTROPHE_RE.subn(r"\1", text)
    repairs["double_apostrophe"] += n
    return text


# --------------------------------------------------------------------------- rule 5

# Single-character OCR slips that are unambiguous once the result is a known word and
# the misread form is not. Deliberately absent: "a" -> "à" (both "a" and "à" are
# words, so only syntax could decide, and a wrong "à" corrupts a verb) and "e" -> "é"
# (it turns English "the" into "thé" and unaccented slugs are everywhere).
_ACCENT_SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("gc", "ç"),
    ("g", "ç"),
    ("c", "ç"),
    ("e", "è"),
    ("e", "ê"),
    ("é", "è"),
    ("é", "ê"),
    ("i", "î"),
    ("o", "ô"),
    ("u", "û"),
    ("6", "ô"),
    ("oO", "ô"),
)
# Lower-case words only: capitalised ones are mostly names ("Lefevre", "Gerome").
_ACCENT_WORD_RE = re.compile(rf"(?<!{_LETTERS})[a-zàâäéèêëîïôöûüç]+(?:[6O][a-zàâäéèêëîïôöûüç]+)?(?!{_LETTERS})")
_URLISH_RE = re.compile(r"[/@]|www\.|https?:|^[a-z0-9]+(?:-[a-z0-9]+){2,}")
_ORDINAL_CENT_RE = re.compile(r"(?<=\d)¢")  # "3¢ édition": superscript "e" read as "¢"
_CA_CENT_RE = re.compile(r"(?<![\w])¢(?=a\b)")  # "¢a": "ça"
_ILS_RE = re.compile(r"(?<!\S)(?:\||l)ls(?=\s)")  # "lls sont", "|ls nous": "Ils"


def _accent_candidate(word: str) -> str | None:
    freq = _french_freq()
    found: dict[str, int] = {}
    for wrong, right in _ACCENT_SUBSTITUTIONS:
        start = word.find(wrong)
        while start != -1:
            cand = word[:start] + right + word[start + len(wrong) :]
            if right == "ç" and not re.match(r"ç[aouâôû]", cand[start:]):
                pass  # a cedilla only ever stands before a, o, u
            elif (f := freq.get(_norm(cand))) is not None:
                found[cand] = f
            start = word.find(wrong, start + 1)
    if not found:
        return None
    ranked = sorted(found.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] < 10 * ranked[1][1]:
        return None  # "modeles": modèles or modelés? leave it
    return ranked[0][0]


def _line_looks_english(line: str) -> bool:
    en = fr = 0
    for w in _WORD_RE.findall(line):
        if len(w) < 2:
            continue
        in_fr, in_en = is_french_word(w), _is_english_word(w)
        fr += in_fr and not in_en
        en += in_en and not in_fr
    return en >= fr


def _fix_ocr_accents(text: str, repairs: Repairs) -> str:
    text, n = _ORDINAL_CENT_RE.subn("e", text)
    text, n_ca = _CA_CENT_RE.subn("ç", text)
    repairs["ocr_accent"] += n + n_ca
    text, n = _ILS_RE.subn("Ils", text)
    repairs["ocr_letter"] += n

    def fix_word(m: re.Match[str]) -> str:
        word = m.group(0)
        if len(word) < 3 or is_french_word(word):
            return word
        cand = _accent_candidate(word)
        if cand is None:
            return word
        start, end = m.span()
        tok_start = max(text.rfind(c, 0, start) for c in " \t\n") + 1
        tok_ends = [i for i in (text.find(c, end) for c in " \t\n") if i != -1]
        if _URLISH_RE.search(text[tok_start : min(tok_ends, default=len(text))]):
            return word  # slugs drop accents on purpose
        # "concrete", "premiere" are English too: trust the line's language.
        if _is_english_word(word):
            line_end = text.find("\n", end)
            line = text[text.rfind("\n", 0, start) + 1 : line_end if line_end != -1 else len(text)]
            if _line_looks_english(line):
                return word
        repairs["ocr_accent"] += 1
        return cand

    return _ACCENT_WORD_RE.sub(fix_word, text)


# --------------------------------------------------------------------------- rule 8

_INNER_SPACES_RE = re.compile(r"(?<=\S)(?:[ \t]{2,}|\t)(?=\S)")
_EDGE_SPACES_RE = re.compile(r"^[ \t]+|[ \t]+$", re.MULTILINE)


def _fix_spaces(text: str, repairs: Repairs) -> str:
    # Newlines are left alone: blank lines are the chunker's paragraph boundaries.
    text, n_inner = _INNER_SPACES_RE.subn(" ", text)
    text, n_edge = _EDGE_SPACES_RE.subn("", text)
    repairs["space_collapse"] += n_inner + n_edge
    return text


# --------------------------------------------------------------------------- pipeline

# Order matters: characters are normalised before anything looks at words; line
# shortening repairs (stubs, doubled apostrophes) run before the vertical-syllable
# scan so a second pass finds no new short lines; vertical syllables need their edge
# spaces (word boundaries); accents run after hyphenation so that fragments like
# "rable" (from "favo-\nrable") are already joined.
_PIPELINE: tuple[Callable[[str, Repairs], str], ...] = (
    _fix_odd_characters,
    _fix_ligatures,
    _fix_link_stubs,
    _fix_ocr_apostrophes,
    _fix_vertical_syllables,
    _fix_hyphenation,
    _fix_ocr_accents,
    _fix_spaces,
)


def clean_text(text: str) -> CleanResult:
    """Repair extraction artefacts in French publication text; counts each repair by rule."""
    repairs: Repairs = collections.Counter()
    for step in _PIPELINE:
        text = step(text, repairs)
    return CleanResult(text=text, repairs=+repairs)
