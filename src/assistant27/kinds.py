"""The kind of thing a question asks for (a person, an amount, a count, a date, a place) and whether a text holds one.

Shared by answer selection (the extractive generator prefers sentences holding the kind asked) and by the
answerability decision (refusal.py). Wording only, French, informal French and English; nothing of any corpus.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from assistant27.analysis import analyze, fold, shared_terms
from assistant27.language import YEAR, question_parts

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
            r"|\b(?:combien|cb|cmb)\b.*\b(?:euros?|argent|money|donne|verse|finance|paye|gagne|subvention|rapporte|depense|coute)"
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

_NUMBER_WORDS = (
    r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante"
    r"|cinquante|soixante|cent|mille|dizaine|douzaine|quinzaine|vingtaine|trentaine|quarantaine|cinquantaine"
    r"|soixantaine|centaine|millier|two|three|four|five|six|seven"
    r"|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|dozen"
)
# « 25 000 € », « 3 millions d'euros », « un à deux milliards d'euros ».
_AMOUNT_IN = re.compile(
    r"\d[\d\s.,]*\s?(?:€|k€|m€|euros?\b|eur\b|millions? d'euros|milliards?)|€\s?\d|\$\s?\d|\d\s?\$"
    rf"|\b(?:un|une|{_NUMBER_WORDS})\s+(?:millions?|milliards?)\s+d['’]euros|\b(?:{_NUMBER_WORDS})\s+euros\b",
    re.IGNORECASE,
)
# A count is a number that is not a year (« en 2031 » counts nothing) nor an ordinal (« la 12e Exemple », « le 2ème
# atelier », « 1er juin »: a rank, a name, a date).
_COUNT_IN = re.compile(
    rf"(?<![\d.,])(?!{YEAR}(?!\d))\d+(?:[.,\s\u00a0\u202f]\d+)*(?!\d|\s?\^?(?:e|è|ème|eme|er|ère|re|nd|rd|th|st)\b)"
    rf"|\b(?:{_NUMBER_WORDS})s?\b",
    re.IGNORECASE,
)
_MONTHS = (
    r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|january|february"
    r"|march|april|may|june|july|august|september|october|november|december|printemps|ete|automne|hiver"
)
_DATE_IN = re.compile(rf"\b{YEAR}\b|\b(?:{_MONTHS})\b|\b\d{{1,2}}[./]\d{{1,2}}\b", re.IGNORECASE)
# A capitalised word that is not the first of its sentence, or an acronym: a name of someone, something, somewhere.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-Ý][\w'’-]*[A-Za-zÀ-ÿ]|\b[A-Z]{2,}\b")


def asked_kinds(question: str) -> list[tuple[str, str | None]]:
    """Each question a compound question asks (`language.question_parts`) with the kind of answer it asks for."""
    return list(_parts_and_kinds(question))


@lru_cache(maxsize=256)
def _parts_and_kinds(question: str) -> tuple[tuple[str, str | None], ...]:
    # Read once per question: `holds_kind` asks it for every candidate sentence.
    return tuple((part, _kind_of(part)) for part in question_parts(question))


def asked_kind(question: str) -> str | None:
    """The kind of answer the question asks for, or None when it asks for something else (a why, a what). A
    compound question asks for its first part's kind, or None when one of its parts asks for no kind (« Qu'est-ce
    que X, et quand a-t-il démarré ? »: any sentence may answer its first part)."""
    kinds = [kind for _, kind in asked_kinds(question)]
    return None if None in kinds else kinds[0]


def _kind_of(question: str) -> str | None:
    folded = _fold(question).strip()
    for kind, pattern in _KINDS:
        if pattern.search(folded):
            return kind
    return None


def holds_kind(sentence: str, kind: str | None, question: str) -> bool:
    """Whether the sentence holds a thing of the asked kind; names must be new (not words of the question). For a
    compound question (« Où et quand … ? »), a thing of the kind one of its parts asks for.

    With the checks of `CHECKS`: a count must count the thing asked (« 12 villes » for « combien de villes »), and
    the one asked for a named role (« qui préside », « le nom du maire ») must be a person's name (« Prénom Nom »).
    """
    if kind is None:
        return True
    parts = _parts_and_kinds(question)
    if len(parts) > 1:
        return any(_holds(sentence, part_kind, part) for part, part_kind in parts)
    return _holds(sentence, kind, question)


def _holds(sentence: str, kind: str | None, question: str) -> bool:
    if kind is None:
        return True
    if kind == AMOUNT:
        return bool(_AMOUNT_IN.search(sentence))
    if kind == COUNT:
        counted = counted_noun(question) if COUNTED_NOUN in CHECKS else None
        if counted is not None:
            return _counts(sentence, counted)
        return bool(_COUNT_IN.search(sentence))
    if kind == DATE:
        return bool(_DATE_IN.search(_fold(sentence)))
    asked = set(analyze(question))
    if kind == PERSON and PERSON_NAME in CHECKS and asks_for_someone(question):
        return any(set(analyze(name)) - asked for name in person_names(sentence))
    return any(set(analyze(m.group(0))) - asked for m in _NAME.finditer(sentence))


# The checks that make `holds_kind` stricter than « a number », « a capitalised word »; each measured alone and
# together by benchmarks/refusal_replay.py (evals/HISTORY.md, 2026-12-07).
COUNTED_NOUN, PERSON_NAME, ORDINAL = "counted noun", "person name", "ordinal"
CHECKS: frozenset[str] = frozenset({COUNTED_NOUN, PERSON_NAME, ORDINAL})

# « combien de salariés », « cb d'adhérents », « nombre de villes »: the thing counted, the word after « de ».
_COUNTED = re.compile(r"\b(?:combien|cb|cmb|nombre)\s+(?:de\s+|d')(?:l'|la\s+|les\s+)?([a-z][\w.·-]*)")
# « combien de temps »: a duration answers, a number of units of time.
_DURATION = "duration"
_TIME_UNITS = frozenset(analyze("ans annees mois semaines jours heures minutes h"))
# How far a number may stand from the noun it counts: « 12 organisations publiques », « une quinzaine d'agents »,
# « 800 kilos de matières premières » before it; « critères (79) », « biens publiés | 2547 » after it.
_BEFORE, _AFTER = 4, 3
_HOURS = re.compile(r"\b\d{1,2}\s?h(?:\s?\d\d)?\b")
_TOKEN = re.compile(r"\d+(?:[\s\u00a0\u202f]\d{3})*(?:[.,]\d+)?|[^\W\d_]+(?:['’][^\W\d_]+)?(?:[.·][^\W\d_]+)*")


def counted_noun(question: str) -> str | None:
    """The stem of what a French « combien de X » counts (`_DURATION` for « combien de temps »), or None when the
    question names nothing counted (« à combien », « how many » over French passages: the words differ)."""
    found = _COUNTED.search(_fold(question))
    if found is None:
        return None
    stems = analyze(found.group(1))
    if not stems:
        return None
    return _DURATION if stems[0] == analyze("temps")[0] else stems[0]


def _counts(sentence: str, counted: str) -> bool:
    """Whether a number (not a year) stands next to the counted noun, or before a unit of time for a duration."""
    tokens = _TOKEN.findall(sentence)
    numbers = [i for i, t in enumerate(tokens) if _A_NUMBER.fullmatch(t)]
    if not numbers:
        return False
    if counted == _DURATION and _HOURS.search(sentence):
        return True
    wanted = _TIME_UNITS if counted == _DURATION else {counted}
    # « cb de pros » counts « professionnels »: a short word of the question may begin the passage's.
    nouns = [i for i, t in enumerate(tokens) if any(w.startswith(c) for w in analyze(t) for c in wanted)]
    return any(-_AFTER <= n - j <= _BEFORE and n != j for n in nouns for j in numbers)


# A number that is not a year, in figures or in words (« 12 », « 2 000 », « douze », « une quinzaine »).
_A_NUMBER = re.compile(rf"(?!{YEAR}$)\d[\d\s\u00a0\u202f.,]*|(?:{_NUMBER_WORDS})s?", re.IGNORECASE)

# A question about someone in a role or who did something a person does: its answer is a person's name. « Qui
# finance / soutient / participe » asks for organisations as often, and keeps the capitalised-word check.
_SOMEONE = re.compile(
    r"\b(?:presid|preside|chair|dirig|direct|tresori|treasur|maire|mayor|senat|depute|elu\b|elue\b|philosoph"
    r"|fondat|founder|cofond|co-?found|tradu|translat|auteur|author|ecrit|wrote|dgs|delegue|secretaire|secretar"
    r"|vice|succed|succeed|remplac|replac|recrut|embauch|hired|rejoint|joined|quitte|left|intervenu|parle|spoke"
    r"|nom de famille|surname|s'appelle|le nom d|the name of|what is the name|prenom|first name|head)"
)


def asks_for_someone(question: str) -> bool:
    """Whether the question asks for a person (a role, or what a person does), not for any named thing."""
    return bool(_SOMEONE.search(_fold(question)))


# « Prénom Nom »: a first name then a capitalised word (a name may be written in capitals: « Camille MARTIN »).
_PAIR = re.compile(r"\b([A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?)\s+((?:d[eu]\s|de la\s|van\s|von\s|le\s)?[A-ZÀ-Ý][\w'’-]+)")


def person_names(sentence: str) -> list[str]:
    """The « Prénom Nom » of a sentence: a first name of the word list that Faker ships, and a capitalised word."""
    return [m.group(0) for m in _PAIR.finditer(sentence) if fold(m.group(1)).lower() in _first_names()]


@cache
def _first_names() -> frozenset[str]:
    """The first names of every locale of Faker's person providers (about 30,000), folded, Latin script only."""
    import importlib
    import pkgutil

    import faker.providers.person as people

    names: set[str] = set()
    for module in pkgutil.iter_modules(people.__path__):
        provider = importlib.import_module(f"{people.__name__}.{module.name}").Provider
        for attribute in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            value = vars(provider).get(attribute)
            if isinstance(value, list | tuple | dict | set | frozenset):
                names.update(fold(str(name)).lower() for name in value)
    return frozenset(n for n in names if re.fullmatch(r"[a-z]+(?:-[a-z]+)?", n))


_MARKER = re.compile(r"\[\d+\]")


def answer_holds_kind(question: str, answer: str) -> bool:
    """Whether an answer (citation markers aside) holds a thing of the kind the question asks for: an answer to
    « who » that names nobody new, or to « how much » that states no amount, does not answer, whatever it quotes."""
    return holds_kind(_MARKER.sub(" ", answer), asked_kind(question), question)


def states_amount_of_subject(question: str, answer: str, publishers: tuple[str, ...] = ()) -> bool:
    """Whether the answer names what an amount it states is of, near that amount (`_NEAR`), beyond the amount's own
    word: « le salaire du directeur » is not answered by « Impôts sur les salaires 16 000 € ». The publishers' names
    and the years are left aside (nearly every passage holds them)."""
    names = set(analyze(" ".join(publishers)))
    subject = {t for t in focus_terms(question) - _AMOUNT_WORDS - names if not t.isdigit()}
    if not subject:
        return True
    text = _MARKER.sub(" ", answer)
    for amount in _AMOUNT_IN.finditer(text):
        # Near the amount: a table's lines run on without a stop, and a sentence may hold a whole page of them.
        if shared_terms(subject, analyze(text[max(0, amount.start() - _NEAR) : amount.end() + _NEAR // 2])):
            return True
    return False


_NEAR = 120  # characters before an amount where what it is of is said (« le salaire annuel du directeur est de »)


# The words that say an amount is asked, not what it is of.
_AMOUNT_WORDS = set(
    analyze("salaire salaires salary cout coute prix price tarif somme argent money euros financement verse donne paye")
)


def focus_terms(question: str) -> set[str]:
    """The question's content terms (stems), without the words that only say what kind of answer it wants."""
    return set(analyze(question)) - _KIND_TERMS


_KIND_TERMS = set(
    analyze(
        "qui ki who whom quand when where combien cb cmb how much many nombre number montant budget quel quelle "
        "quels quelles what which year annee date lieu ville nom name appelle est sont c'est koi quoi"
    )
)


# « la 2e édition », « le troisième atelier », « the 3rd week »: an ordinal that qualifies what is asked (« la 27e
# Région », an ordinal before a capitalised word in French, is a name). The first is left out: « le premier » is
# as often « the main one ».
_ORDINAL_WORDS = {
    2: "deuxieme|second|seconde|2nd", 3: "troisieme|third|3rd", 4: "quatrieme|fourth", 5: "cinquieme|fifth",
    6: "sixieme|sixth", 7: "septieme|seventh", 8: "huitieme|eighth", 9: "neuvieme|ninth", 10: "dixieme|tenth",
}
_ORDINAL_IN_QUESTION = re.compile(r"\b(\d{1,2})(?:(?:e|eme|è|ème)\s+(?=[a-zà-ÿ])|(?:nd|rd|th)\b)")
_ORDINAL_WORD = re.compile(rf"\b({'|'.join(_ORDINAL_WORDS.values())})\b")


def asked_ordinals(question: str) -> set[int]:
    """The ordinals (2 and over) that qualify what the question asks: « la 2e édition » -> {2}."""
    found = {int(m.group(1)) for m in _ORDINAL_IN_QUESTION.finditer(question.replace("’", "'"))}
    for m in _ORDINAL_WORD.finditer(fold(question).lower()):
        found.update(n for n, words in _ORDINAL_WORDS.items() if m.group(1) in words.split("|"))
    return {n for n in found if n >= 2}


def holds_ordinal(text: str, n: int) -> bool:
    """Whether a text names the n-th of something, in any form: « 2e », « 2ème », « deuxième », « second », or the
    number alone (« ses 5 ans » for « the fifth anniversary »)."""
    words = _ORDINAL_WORDS.get(n, "")
    pattern = rf"(?<![\d.,]){n}(?:e|eme|è|ème|er|nd|rd|th)?(?![\d.,]?\d)" + (rf"|\b(?:{words})\b" if words else "")
    return bool(re.search(pattern, fold(text.replace("’", "'")).lower()))
