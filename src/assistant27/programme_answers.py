"""List, timeline and comparison questions about programmes, answered from the catalogue and its passages.

Top-k passages answer these badly: the facts are spread over several reports, and a list needs all of
them. Here the question's shape is recognised by rules; the answer is assembled from the catalogue, one
citation per list item or timeline step, each pointing to the passage that states it. Questions of
another shape, or naming nothing the catalogue knows, go back to the usual retrieval and generation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from assistant27.analysis import analyze, fold, one_letter_apart, stop_words, strip_urls
from assistant27.language import YEAR, first_sentence_end, sentences_in, year_spans, years_in
from assistant27.programmes import (
    GENERIC_ORG_WORDS,
    Catalogue,
    Fact,
    Mention,
    Programme,
    enumerated,
    is_publisher,
    name_key,
    organisations,
    plain,
    same_body,
)
from assistant27.schema import Chunk, Passage

_TIMELINE = re.compile(
    r"evolu|chronolog|historique|histoire|etapes?\b|timeline|history|evolv|changed|depuis quand|au fil|parcours|"
    r"ordre|order|periode|period|duree|how long|combien de temps|deroule|s est passe|went|happened|devenu|become|"
    r"trajectoire|over the years|steps|devenu|suite[s]? d|what happened|ce qui s.est passe|quand .* (?:commence|lance|debute)|"
    r"(?:commence|lance|debute|demarre)e?s? quand|"
    r"when .* (?:start|launch|begin|began)",
)
_COMPARISON = re.compile(
    r"compar|difference|differen|\bvs\b|versus|contrairement|points? commun|in common|contradi|disagree"
)
_LIST_PROGRAMMES = re.compile(
    r"\b(?:quel(?:le)?s?|koi|quoi|combien de|liste(?:r)?|which|what|list|all|tous|toutes|les|des|nos|our|other|autres)\s+"
    r"(?:\w+\s+){0,2}(?:programmes|progs|projets|programs|projects)\b"
    r"|\b(?:quel|which|what)\s+(?:programme|prog|projet|program|project)\b"
)
# "Valcourt, on a bossé sur quoi avec eux ?": the programmes run with a partner the question names.
_WORKED_WITH = re.compile(
    r"bosse|travaille|collabor|worked|work with|sur (?:quoi|koi)|avec eux|avec elle|ensemble|together|associe"
)
_LAUNCHED = re.compile(r"lanc|launch|start|demarr|debut|nouveaux|nouvelles|new|cree|created|begun|began")
_BOTH = re.compile(r"a la fois|both|aussi|egalement|et dans|in both|deux rapports|les deux")
_TARGETS = (
    ("funders", re.compile(r"financ|funder|fund(?:ed|s|ing)?\b|soutien|soutenu|mecen|sponsor|\bsupport")),
    (
        "partners",
        re.compile(
            r"partenaires?|partners?|collectivites?|avec qui|with whom|with which|who (?:worked|took part)|acteurs|organisations?|organismes?|agences?|associes?|local (?:authorities|governments)|\bavec quel"
        ),
    ),
    ("places", re.compile(r"(?:^| )ou(?: |$)|where|territoires?\b|villes?\b|cities|regions?\b|places?\b")),
)
# The year stretches a question bounds the catalogue with: « entre 2031 et 2034 », « from 2031 to 2034 » (both
# ends), « depuis 2031 », « après 2031 » (from then on), « avant 2031 » (before then); written right next to
# their years.
_BETWEEN_OPENERS, _BETWEEN_CLOSERS = {"entre", "between", "de", "from"}, {"et", "and", "a", "to"}

_TEXT = {
    "fr": {
        "timeline": "{name} au fil des publications :",
        "programmes": "Programmes et projets que les publications nomment{scope} :",
        "partners": "Partenaires de {name} nommés dans les publications :",
        "funders": "Financeurs et soutiens de {name} nommés dans les publications :",
        "places": "Territoires où {name} est mené, selon les publications :",
        "comparison": "{names}, d'après les publications :",
        "disagree": "Les publications ne concordent pas sur le début de {name} : {a} indique {ya} [{na}], {b} indique {yb} [{nb}].",
        "only_one": "Nommés dans une seule publication — {parts}.",
        "same": "Les publications nomment les mêmes.",
        "since": " depuis {y}",
        "between": " entre {a} et {b}",
        "until": " avant {y}",
        "with": " avec {p}",
        "about": " sur « {t} »",
        "also": "Aussi dans les passages retrouvés :",
    },
    "en": {
        "timeline": "{name} across the publications:",
        "programmes": "Programmes and projects the publications name{scope}:",
        "partners": "Partners of {name} named in the publications:",
        "funders": "Funders and supporters of {name} named in the publications:",
        "places": "Places where {name} was run, according to the publications:",
        "comparison": "{names}, according to the publications:",
        "disagree": "The publications disagree on when {name} started: {a} says {ya} [{na}], {b} says {yb} [{nb}].",
        "only_one": "Named in one publication only — {parts}.",
        "same": "The publications name the same ones.",
        "since": " since {y}",
        "between": " between {a} and {b}",
        "until": " before {y}",
        "with": " with {p}",
        "about": ' about "{t}"',
        "also": "Also in the passages found:",
    },
}


@dataclass
class Shape:
    """What a question asks of the catalogue."""

    kind: str  # "timeline", "comparison", "list"
    target: str = "programmes"  # for lists: "programmes", "partners", "funders", "places"
    programmes: list[Programme] = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    partner: str = ""  # an organisation or place the question names
    topic: list[str] = field(default_factory=list)  # stems the programme's passages must contain
    partner_words: list[str] = field(default_factory=list)  # distinctive words of `partner`
    launched: bool = False  # "lancés depuis 2031": by stated start; otherwise by the years of the publications
    all_years: list[int] = field(default_factory=list)  # "à la fois en 2031 et en 2032": named in each of these
    topic_label: str = ""  # the question's own words for the topic
    by_year: bool = False  # a list compared across publications: which names which
    authorities_only: bool = False  # "quelles collectivités": local and regional governments first


@dataclass
class CatalogueAnswer:
    text: str
    cited: list[Chunk]  # cited[i] is marker [i + 1]
    quotes: list[str]  # quotes[i]: the sentence of cited[i] that states the fact
    kind: str = ""  # the question's shape: "list", "timeline" or "comparison"


def recognise(question: str, catalogue: Catalogue) -> Shape | None:
    """The shape of a programme question, or None for any other question."""
    q = plain(question)
    named = catalogue.named_in(question)
    # The question without the programme names and the publisher's (the publisher is no place nor partner), for
    # the words that say what is asked.
    rest = _without_names(_without_publishers(q, tuple(catalogue.publishers)), named)
    # "ou" is "or" unless written "où": look for the accent in the question itself.
    where = "où" in question.lower() or bool(re.search(r"\bwhere\b", rest))
    # "D'où vient le nom ?", "Where does the name come from?": an origin, not where it was run.
    origin = bool(_ORIGIN.search(rest))
    if _longer_name(question, named):
        return None  # "le programme 'Exemple Santé'": a longer name than the catalogue's, so another programme
    year_min, year_max = _years(question)
    if named and _COMPARISON.search(rest) and len(named) >= 2:
        return Shape("comparison", programmes=named[:3], year_min=year_min, year_max=year_max)
    if named and _TIMELINE.search(rest):
        return Shape("timeline", programmes=named[:1], year_min=year_min, year_max=year_max)
    target = next((name for name, pattern in _TARGETS if pattern.search(rest) and name != "places"), None)
    if target is None and not origin and (where or _TARGETS[2][1].search(rest.replace(" ou ", " "))):
        target = "places"
    asks_programmes = bool(_LIST_PROGRAMMES.search(rest))
    if asks_programmes and named and not _WORKED_WITH.search(rest):
        return None  # "Quels projets concrets illustrent Archipel ?": parts of one programme, not the catalogue
    authorities = bool(re.search(r"collectivit|local (?:authorit|govern)", q))
    if named and target and not asks_programmes:
        if not _facts_hold(question, named[0]):
            return None  # "Quelles villes italiennes ...": the facts cannot tell which are; the general path may
        shape = Shape(
            "list",
            target=target,
            programmes=named[:1],
            year_min=year_min,
            year_max=year_max,
            authorities_only=authorities,
        )
        years = sorted(years_in(q))
        # "Les rapports 2031 et 2033 donnent-ils les mêmes partenaires ?": say which publication names which.
        shape.by_year = len(years) >= 2 or bool(_COMPARISON.search(rest) or _SAME.search(rest))
        return shape
    partner_words = _partner_words(question, catalogue)
    if asks_programmes or (partner_words and not named and _WORKED_WITH.search(rest)):
        if not partner_words and _unknown_name(question, named, catalogue.publishers):
            return None  # "avec la Fondation Inconnue": a body the catalogue does not know; retrieval may
        shape = Shape("list", "programmes", year_min=year_min, year_max=year_max)
        shape.partner = _display_partner(partner_words, catalogue)
        shape.partner_words = partner_words
        shape.topic = _topic(rest, catalogue, partner_words)
        shape.topic_label = _label(rest, shape.topic)
        shape.launched = bool(_LAUNCHED.search(rest))
        years = sorted(years_in(q))
        if len(years) >= 2 and _BOTH.search(rest):
            shape.all_years = years
            shape.year_min = shape.year_max = None
        return shape
    if target in ("partners", "places") and not named and _PLURAL_LIST.search(rest) and _WORKED_WITH.search(rest):
        # "Avec quelles collectivités avons-nous travaillé sur les forêts ?": the programmes on that topic, then their partners.
        topic = _topic(rest, catalogue, [])
        if topic:
            return Shape(
                "list",
                target=target,
                year_min=year_min,
                year_max=year_max,
                topic=topic,
                authorities_only=bool(re.search(r"collectivit|local (?:authorit|govern)", q)),
            )
    return None


_ORIGIN = re.compile(r"\bvien(?:t|nent)\b|\bcomes? from\b|\borigin")
# The nouns a list of facts answers: "quelles villes", "which cities", "quels partenaires".
_ASKED_NOUN = (
    r"(?:villes?|cit(?:y|ies)|towns?|collectivites?|regions?|territoires?|departements?|metropoles?|communes?|"
    r"partenaires?|partners?|organisations?|organizations?|organismes?|acteurs?|structures?|agences?|agencies|"
    r"financeurs?|funders?|lieux|places?)"
)
# A word after the noun that is a verb, not a qualifier ("les collectivités participent", "ont participé").
_VERB_ENDING = re.compile(r"(?:ent|ont|ait|aient|ez|ons|e|a|ee|es)$")
# The level of a public body ("agences nationales", "public organisations"): what its name says (« Agence nationale
# de ... ») or its acronym stands for, which a list of partners answers without the word written by its passages.
_BODY_LEVEL = re.compile(
    r"^(?:nationa(?:l|le|les|ux)|national|regiona(?:l|le|les|ux)|regional|departementa(?:l|le|les|ux)|"
    r"europeen(?:ne)?s?|european|local(?:e|es)?|locaux|municipa(?:l|le|les|ux)|municipal|territoria(?:l|le|les|ux)|"
    r"publi(?:c|cs|que|ques)|interministeriel(?:le)?s?|government|state)$"
)
_ADJECTIVE_ENDING = re.compile(r"(?:ale|ales|ienne|iennes|ande|andes|aise|aises|ique|iques|ine|ines|ane|anes)$")


def _qualifiers(question: str, named: list[Programme]) -> list[str]:
    """The words that qualify what a list question asks for: "normande" in « quelle ville normande », "spanish" in
    "Which Spanish cities"."""
    q = _without_names(plain(question), named)
    french = [m.group(1) for m in re.finditer(rf"\bquel(?:le)?s? {_ASKED_NOUN} (\w+)", q)]
    english = [m.group(1) for m in re.finditer(rf"\b(?:which|what) (\w+) {_ASKED_NOUN}\b", q)]
    french = [w for w in french if not _VERB_ENDING.search(w) or _ADJECTIVE_ENDING.search(w)]
    return [
        w
        for w in french + english
        if w not in stop_words() and len(w) > 2 and not w.isdigit() and not _BODY_LEVEL.match(w)
    ]


def _facts_hold(question: str, p: Programme) -> bool:
    """Whether what the question asks for is something the programme's passages say: each word that qualifies the
    asked list ("villes italiennes") is in a sentence of its passages or in one of its facts."""
    words = _qualifiers(question, [p])
    if not words:
        return True
    have: set[str] = set()
    for m in p.mentions:
        have |= set(analyze(f"{m.sentence} {m.following}"))
    for fact in [*p.partners, *p.funders, *p.places]:
        have |= set(analyze(fact.value))
    # "public" and "publiques", "national" and "nationales": one word across languages and genders.
    return all(
        any(h[:5] == t[:5] and min(len(h), len(t)) >= 5 or h == t for h in have) for w in words for t in analyze(w)
    )


def _longer_name(question: str, named: list[Programme]) -> bool:
    """A programme's name that the question goes on with capitalised words (« Archipel Santé » for « Archipel »)."""
    for p in named:
        for v in p.variants:
            for m in re.finditer(rf"(?<!\w){re.escape(v)}(?!\w)", question):
                tail = question[m.end() :]
                if re.match(r"\s+[A-ZÀ-Ö][\w’'\-]+", tail) and not any(
                    question.find(longer) >= 0 for longer in p.variants if len(longer) > len(v)
                ):
                    return True
    return False


_SAME = re.compile(r"\bmemes?\b|\bsame\b|toujours|encore|still|change")
# "Avec quelles collectivités ...", "Which cities ...": a question that wants a list of bodies or places.
_PLURAL_LIST = re.compile(
    r"\b(?:quel(?:le)?s|which|what)\s+(?:\w+\s+)?(?:collectivites|villes|territoires|regions|partenaires|organisations|"
    r"acteurs|structures|cities|partners|places|local authorities|organisations)\b"
)


def _unknown_name(question: str, named: list[Programme], publishers: Sequence[str] = ()) -> bool:
    """A capitalised name in the question (after its first word) that is no programme of the catalogue, nor the
    publisher's name."""
    known = {w for p in named for v in p.variants for w in name_key(v).split()}
    known |= _NOT_NAMES_IN_QUESTIONS | {w for p in publishers for w in name_key(p).split()}
    words = re.findall(r"[\w’'\-]+", question)[1:]
    return any(w[:1].isupper() and name_key(w) not in known for w in words)


_NOT_NAMES_IN_QUESTIONS = {"la", "le", "les", "i", "we", "our"}
# An ordinal in a name (« 3e », « 3ème », « 1re »), as a question may write it.
_ORDINAL = re.compile(r"(\d+)(?:e|eme|er|ere|re)")


@functools.cache
def _publisher_pattern(publishers: tuple[str, ...]) -> re.Pattern[str] | None:
    """The publishers' names in a `plain` question: whole, with or without their article, and, when a name starts
    with a distinctive word, that word alone (« la 3e scene », « 3e scene », « la 3eme », « 3 »)."""
    forms = []
    for publisher in publishers:
        words = name_key(publisher).split()
        if not words:
            continue
        article = plain(publisher).split()[0] if plain(publisher) != name_key(publisher) else ""
        written = [
            rf"{m.group(1)}(?:e|eme|er|ere|re)?" if (m := _ORDINAL.fullmatch(w)) else re.escape(w) for w in words
        ]
        head, tail = written[0], " ".join(written[1:])
        if tail and words[0] not in _GENERIC_ORG_WORDS:
            body = rf"{head}(?: {tail})?"  # "la 3e" for « La 3e Scène »; "l agence" alone is no name
        else:
            body = f"{head} {tail}" if tail else head
        forms.append(rf"(?:{re.escape(article)} )?{body}" if article else body)
    return re.compile(rf"\b(?:{'|'.join(forms)})\b") if forms else None


def _without_publishers(q: str, publishers: tuple[str, ...]) -> str:
    """`q` (already `plain`) without the publishers' names: they say who publishes, not what is asked."""
    pattern = _publisher_pattern(publishers)
    return pattern.sub(" ", q) if pattern else q


def _years(question: str) -> tuple[int | None, int | None]:
    spans = [s for s in year_spans(question) if s.adjacent]
    for s in spans:
        if s.opener in _BETWEEN_OPENERS and s.closer in _BETWEEN_CLOSERS and s.low and s.high:
            return min(s.low, s.high), max(s.low, s.high)
    for s in spans:
        if s.high is None:
            return s.low, None
    for s in spans:
        if s.low is None and s.high is not None:
            return None, s.high - 1
    years = years_in(question)
    if len(years) == 1:
        return years[0], years[0]
    return None, None


def _partner_words(question: str, catalogue: Catalogue) -> list[str]:
    """The distinctive words of an organisation or place of the catalogue that the question names.

    `Exemple` names `Fondation Exemple Philanthropies`; `Valcourt` names `Ville de Valcourt` and
    `Métropole de Valcourt` alike, so the words, not one value, are what a list is filtered by.
    """
    q_words = set(name_key(question).split())
    own = {w for p in catalogue.named_in(question) for v in p.variants for w in name_key(v).split()}
    best: list[str] = []
    for p in catalogue.programmes:
        for fact in [*p.partners, *p.funders, *p.places]:
            words = [w for w in name_key(fact.value).split() if w not in _GENERIC_ORG_WORDS and len(w) > 2]
            present = [w for w in words if w in q_words and w not in own]
            if present and len(present) > len(best) and (len(present) == len(words) or len(present) >= 2):
                best = present
    return best


def _near(p: Programme, words: list[str], chunks: dict[str, Chunk]) -> tuple[str, str] | None:
    """A passage that names the programme and the partner (its sentence naming the partner), if any."""
    for m in p.mentions:
        if not m.named or m.others >= 2:
            continue
        chunk = chunks.get(m.chunk_id)
        if chunk is None:
            continue
        for sentence in sentences_in(chunk.text):
            if _has_words(sentence, words):
                return m.chunk_id, sentence
    return None


def _names(p: Programme, sentence: str) -> bool:
    return any(v in sentence for v in p.variants)


def _together(p: Programme, words: list[str], quote: str) -> bool:
    """The programme and the partner in one sentence of the quote ("... Archipel. Une agence ... Exemple" is not)."""
    return any(_names(p, part) and _has_words(part, words) for part in sentences_in(quote))


def _display_partner(words: list[str], catalogue: Catalogue) -> str:
    if not words:
        return ""
    values = [
        f.value
        for p in catalogue.programmes
        for f in [*p.partners, *p.funders, *p.places]
        if _has_words(f.value, words)
    ]
    return min(values, key=len) if values else " ".join(words)


def _distinctive(value: str) -> list[str]:
    return [w for w in name_key(value).split() if w not in _GENERIC_ORG_WORDS and len(w) > 2] or name_key(value).split()


def _has_words(value: str, words: list[str]) -> bool:
    have = set(name_key(value).split())
    return all(w in have for w in words)


# Kinds of bodies, and words too common in names to tell one partner from another.
_GENERIC_ORG_WORDS = GENERIC_ORG_WORDS | {"institut", "universite", "ministere", "france", "nationale", "territoires"}
_NOT_TOPIC = set(
    analyze(
        "programme programmes projet projets prog progs program programs project projects lancé lancés lancer menés "
        "mené partenaire partenaires collectivité collectivités travaillé travailler financé financeurs soutenu "
        "soutien territoire territoires ville villes partner partners launched run worked support supported "
        "funded since depuis avant après entre between année années year years nous avons ont été ya eu quoi comme "
        "liste list all tous toutes which what where with autres other did have were porté porter "
        "participé participer associé associés associée associées rapport rapports publication publications figurent figurer fois celui celle aussi "
        "également bossé bosser sujet sujets thème thèmes koi quoi nouveaux nouvelles new our nos notre eux "
        "ensemble together took part worked work about sur concerné concernant quels quelles ville villes région "
        "régions département métropole communauté urbaine agence agences fondation institut conseil national nationale"
    )
)


def _not_topic(catalogue: Catalogue) -> set[str]:
    """Stems that say no topic: the question's frame, and the publisher's name (nearly every passage has it)."""
    return _NOT_TOPIC | set(analyze(" ".join(catalogue.publishers)))


def _topic(rest: str, catalogue: Catalogue, partner_words: list[str]) -> list[str]:
    """Stems of the question's subject (`forêts` -> `foret`), kept when some programme's passages use them."""
    partner_terms = set(analyze(" ".join(partner_words)))
    used = catalogue.terms
    not_topic = _not_topic(catalogue)
    return [
        t
        for t in dict.fromkeys(analyze(rest))
        if t not in not_topic and t not in partner_terms and not t.isdigit() and len(t) > 2 and t in used
    ]


def _without_names(text: str, programmes: list[Programme]) -> str:
    """`text` (already `plain`) without the programmes' names, whole words only."""
    for p in programmes:
        for v in sorted(p.variants, key=len, reverse=True):
            text = re.sub(rf"(?:^| ){re.escape(plain(v))}(?= |$)", " ", text)
    return text


def _beyond_name(p: Programme, sentence: str, topic: list[str]) -> bool:
    """Whether a sentence has a topic word outside the programme's own name."""
    return any(_cognate(t, w) for t in topic for w in analyze(_without_names(plain(sentence), [p])))


def _cognate(a: str, b: str) -> bool:
    """Two stems for one word across French and English (`commun`/`common`, `foret`/`forest`): equal, or one letter apart."""
    return a == b or (min(len(a), len(b)) >= 5 and one_letter_apart(a, b))


def _label(rest: str, topic: list[str]) -> str:
    from assistant27.analysis import tokenize

    words = [w for w in tokenize(rest) if analyze(w) and analyze(w)[0] in topic]
    return " ".join(dict.fromkeys(words))


def answer(
    shape: Shape,
    question: str,
    catalogue: Catalogue,
    chunks: dict[str, Chunk],
    language: str = "fr",
    retrieved: list[Passage] | None = None,
) -> CatalogueAnswer | None:
    """The answer text with [n] markers and the chunks it cites, or None when the catalogue has nothing to say.

    `retrieved`: the passages retrieval found for the question; a list of one programme's partners also
    reads the best of them that name it (the catalogue's rules keep only what they are sure of).
    """
    builder = _Builder(chunks, language)
    if shape.kind == "timeline":
        reply = _timeline(shape.programmes[0], shape, question, builder, _not_topic(catalogue))
    elif shape.kind == "comparison":
        reply = _comparison(shape, question, builder, _not_topic(catalogue))
    elif shape.target == "programmes":
        reply = _programme_list(shape, catalogue, builder, retrieved or [])
    elif shape.programmes:
        reply = _fact_list(shape.programmes[0], shape, builder, retrieved or [], catalogue.publishers)
    else:
        reply = _topic_fact_list(shape, catalogue, builder)
    if reply is not None:
        reply.kind = shape.kind
    return reply


class _Builder:
    """Numbers the cited chunks as the answer is written."""

    def __init__(self, chunks: dict[str, Chunk], language: str) -> None:
        self.chunks = chunks
        self.language = language
        self.cited: list[Chunk] = []
        self.quotes: list[str] = []
        self.lines: list[str] = []

    def t(self, key: str, **values: object) -> str:
        return _TEXT[self.language][key].format(**values)

    def cite(self, chunk_id: str, quote: str = "") -> int | None:
        """The marker number of a chunk, numbering it at its first citation."""
        chunk = self.chunks.get(chunk_id)
        if chunk is None:
            return None
        for i, c in enumerate(self.cited):
            if c.id == chunk_id:
                if quote and quote not in self.quotes[i]:
                    self.quotes[i] = f"{self.quotes[i]} […] {quote}".strip(" […]") if self.quotes[i] else quote
                return i + 1
        self.cited.append(chunk)
        self.quotes.append(quote)
        return len(self.cited)

    def done(self) -> CatalogueAnswer | None:
        if not self.cited:
            return None
        return CatalogueAnswer("\n".join(self.lines), self.cited, self.quotes)


def _in_range(year: int | None, shape: Shape) -> bool:
    if year is None:
        return shape.year_min is None and shape.year_max is None
    return (shape.year_min is None or year >= shape.year_min) and (shape.year_max is None or year <= shape.year_max)


_DATED = re.compile(
    rf"\b{YEAR}\b|\b(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    r"printemps|automne|été|hiver)\b",
    re.I,
)


def _score(m: Mention, terms: set[str]) -> float:
    """How well a sentence tells about its programme: question words, a date, some length; summaries lose."""
    sentence = m.sentence
    words = set(analyze(sentence))
    dated = 0.8 if _DATED.search(sentence) else 0.0
    length = min(len(sentence), 300) / 300
    named = 1.0 if m.named else 0.0
    return len(words & terms) + dated + 0.5 * length + named - 1.5 * min(m.others, 2)


def _timeline(p: Programme, shape: Shape, question: str, b: _Builder, not_topic: set[str]) -> CatalogueAnswer | None:
    terms = set(analyze(question)) - set(analyze(" ".join(p.variants))) - not_topic
    b.lines.append(b.t("timeline", name=p.name))
    by_source: dict[str, list[Mention]] = {}
    for m in p.mentions:
        m = _heading_list(m, b.chunks) or _read_on(m, b.chunks) or m
        m = _with_lead_in(m, b.chunks)
        if _in_range(m.year, shape) and len(m.sentence) >= 40:
            by_source.setdefault(m.source, []).append(m)
    # About eight sentences in all: more of each publication when few publications name the programme.
    per_source = max(2, min(6, 8 // max(1, len(by_source))))
    for source in sorted(by_source, key=lambda s: (by_source[s][0].year or 0, s)):
        mentions = by_source[source]
        ranked = sorted(mentions, key=lambda m: -_score(m, terms))
        picked: list[Mention] = []
        for m in ranked:
            if all(m.sentence != x.sentence for x in picked):
                picked.append(m)
            if len(picked) == per_source:
                break
        picked.sort(key=lambda m: mentions.index(m))
        chunk = b.chunks.get(picked[0].chunk_id)
        title = chunk.title if chunk else source
        parts = []
        for m in picked:
            n = b.cite(m.chunk_id, m.sentence)
            if n is not None:
                parts.append(f"{_quote(m.sentence)} [{n}]")
        if parts:
            b.lines.append(f"- {picked[0].year} ({title}) : " + " ".join(parts))
    _disagreements(p, b)
    return b.done() if len(b.lines) > 1 else None


# An item of a dated list: « Valcourt (2029-2030) ».
_DATED_ITEM = re.compile(rf"\({YEAR}(?:\s*[-–]\s*{YEAR})?\)")


def _heading_list(m: Mention, chunks: dict[str, Chunk]) -> Mention | None:
    """A heading that names the programme over a list of dated items, as one step with its items:
    « LES QUATRE ARCHIPELS / DÉJÀ MENÉS / Valcourt (2029-2030) / Immersion prospective ... / Montclair-la-Forêt
    (2029-2031) / ... » says in what order they were run; the heading alone is too short to quote. The items'
    subtitles are left out, with an ellipsis."""
    chunk = chunks.get(m.chunk_id)
    if not m.named or len(m.sentence) >= 40 or chunk is None:
        return None
    lines = [line.strip() for line in chunk.text.split("\n") if line.strip()]
    if m.sentence.strip() not in lines:
        return None
    at = lines.index(m.sentence.strip())
    head, items = [lines[at]], []
    for line in lines[at + 1 : at + 13]:
        if _DATED_ITEM.search(line) and len(line) < 60:
            items.append(line)
        elif line[-1] in ".!?:" or len(line) >= 80:
            break  # prose: the list is over
        elif not items:
            head.append(line)  # the heading's next line (« DÉJÀ MENÉS »)
    if len(items) < 2:
        return None
    return replace(m, sentence=" … ".join([" ".join(head), *items]))  # what is left out, marked as left out


def _read_on(m: Mention, chunks: dict[str, Chunk], most: int = 240) -> Mention | None:
    """A sentence the layout cut before a line that starts with a capital or a quote mark, read to its end:
    « Terres Vives est mené dans le cadre du projet / « Habiter demain, construire ensemble » porté par /
    La Région Exemple ..., lauréat de l'appel à projets national « Territoires d'avenir ». »"""
    chunk = chunks.get(m.chunk_id)
    sentence = m.sentence.rstrip()
    if chunk is None or len(sentence) < 40 or sentence[-1] in '.!?…:;»)"':
        return None
    at = chunk.text.find(sentence)
    rest = chunk.text[at + len(sentence) :] if at >= 0 else ""
    if not rest.startswith("\n"):
        return None
    end = first_sentence_end(rest, most)
    if end is None:
        return None
    return replace(m, sentence=" ".join(f"{sentence} {rest[:end]}".split()))


def _with_lead_in(m: Mention, chunks: dict[str, Chunk]) -> Mention:
    """A sentence after a line that ends with a colon, quoted with that line, which says what it is one of:
    « 6 sessions ont été organisées en 2031 : En juillet, les premiers enseignements ont été présentés ... »."""
    chunk = chunks.get(m.chunk_id)
    at = chunk.text.find(m.sentence) if chunk else -1
    if chunk is None or at <= 0 or chunk.text[at - 1] != "\n":
        return m
    before = chunk.text[:at].rstrip("\n").rsplit("\n", 1)[-1].strip()
    if not before.endswith(":") or len(before) > 80 or first_sentence_end(before) is not None:
        return m
    return replace(m, sentence=f"{before} {m.sentence}")


def _disagreements(p: Programme, b: _Builder) -> None:
    for first, second in p.disagreements()[:1]:
        na, nb = b.cite(first.chunk_id, first.quote), b.cite(second.chunk_id, second.quote)
        ca, cb = b.chunks.get(first.chunk_id), b.chunks.get(second.chunk_id)
        if na and nb and ca and cb:
            b.lines.append(
                b.t("disagree", name=p.name, a=ca.title, ya=first.start, na=na, b=cb.title, yb=second.start, nb=nb)
            )


def _comparison(shape: Shape, question: str, b: _Builder, not_topic: set[str]) -> CatalogueAnswer | None:
    names = " / ".join(p.name for p in shape.programmes)
    b.lines.append(b.t("comparison", names=names))
    terms = set(analyze(question)) - not_topic
    for p in shape.programmes:
        own = terms - set(analyze(" ".join(p.variants)))
        mentions = [m for m in p.mentions if _in_range(m.year, shape) and len(m.sentence) >= 40] or p.mentions
        best = sorted(mentions, key=lambda m: -_score(m, own))[:2]
        parts = []
        for m in best:
            n = b.cite(m.chunk_id, m.sentence)
            if n is not None:
                parts.append(f"{_quote(m.sentence)} [{n}]")
        years = ", ".join(str(y) for y in p.years)
        b.lines.append(f"- {p.name} ({years}) : " + " ".join(parts))
        _disagreements(p, b)
    return b.done()


def _programme_list(
    shape: Shape, catalogue: Catalogue, b: _Builder, retrieved: list[Passage]
) -> CatalogueAnswer | None:
    scope = ""
    if shape.year_min and shape.year_max and shape.year_min != shape.year_max:
        scope += b.t("between", a=shape.year_min, b=shape.year_max)
    elif shape.year_min and shape.year_max:
        scope += f" ({shape.year_min})"
    elif shape.year_min:
        scope += b.t("since", y=shape.year_min)
    elif shape.year_max:
        scope += b.t("until", y=shape.year_max + 1)
    if shape.partner:
        scope += b.t("with", p=shape.partner)
    if shape.topic:
        scope += b.t("about", t=shape.topic_label or " ".join(shape.topic))
    b.lines.append(b.t("programmes", scope=scope))
    items = []
    for p in catalogue.programmes:
        support = _programme_support(p, shape, b.chunks)
        if support:
            items.append((p, *support))
    for p, chunk_id, note, quote in sorted(items, key=lambda item: (item[0].start or 0, item[0].name)):
        n = b.cite(chunk_id, quote)
        if n is not None:
            b.lines.append(f"- {p.name} ({note}) : {_quote(quote, 200, shape.partner_words)} [{n}]")
    if b.cited:
        _also_found(shape, b, retrieved, [p for p, *_ in items])
    return b.done()


def _also_found(
    shape: Shape, b: _Builder, retrieved: list[Passage], listed: list[Programme], most: int = 2, among: int = 6
) -> None:
    """Sentences of the best passages found that name the list's partner or topic and that the list lacks.

    The catalogue lists what its rules tie to a programme by name; a passage may say more without naming one
    ("retenus dans le cadre du programme européen Exemplum+ pour aller à la rencontre, en 2031-2032, ...") or
    say it in another publication than the one an item cites.
    """
    if not shape.partner_words and not shape.topic:
        return
    topic = set(shape.topic)
    cited = {c.source for c in b.cited}
    found = []
    for passage in retrieved[:among]:
        for sentence in sentences_in(strip_urls(passage.text)):
            if len(sentence) < 40 or any(sentence in q for q in b.quotes):
                continue
            if passage.source in cited and any(_names(p, sentence) for p in listed):
                continue  # a listed programme, in a publication the list cites already
            if shape.partner_words and not _has_words(sentence, shape.partner_words):
                continue
            if topic and not topic & set(analyze(sentence)):
                continue
            if not _in_range(passage.year, shape):
                continue
            found.append((passage, sentence))
            break  # one sentence a passage
        if len(found) == most:
            break
    lines = []
    for passage, sentence in found:
        n = b.cite(passage.chunk_id, sentence)
        if n is not None:
            lines.append(f"- ({passage.year or '?'}) {_quote(sentence, 220, shape.partner_words)} [{n}]")
    if lines:
        b.lines += [b.t("also"), *lines]


def _programme_support(p: Programme, shape: Shape, chunks: dict[str, Chunk]) -> tuple[str, str, str] | None:
    """The passage that puts a programme on the list, and a note for the reader; None when it does not belong."""
    named = [m for m in p.mentions if m.named]
    first = min(named or p.mentions, key=lambda m: (m.others, -_score(m, set())))
    chunk_id, quote = first.chunk_id, first.sentence
    if shape.partner_words:
        facts = [f for f in [*p.funders, *p.partners, *p.places] if _has_words(f.value, shape.partner_words)]
        if facts:
            # The quote that names the programme and dates the partnership says most ("lancée en 2016 avec ...").
            options = [(q, c) for f in facts for q, c in zip(f.quotes, f.chunks)]
            quote, chunk_id = max(
                options,
                key=lambda o: (_names(p, o[0]), _together(p, shape.partner_words, o[0]), bool(_DATED.search(o[0]))),
            )
        else:
            # The partner may be named near the programme, in the same passage, without a rule catching it.
            found = _near(p, shape.partner_words, chunks)
            if found is None:
                return None
            chunk_id, quote = found
    if shape.topic:
        own = set(analyze(" ".join(p.variants)))
        in_name = [
            t for t in shape.topic if any(_cognate(t, w) for w in own)
        ]  # "Terres Communes", "Sharing the commons"
        wanted = set(shape.topic) - set(in_name)
        hits = [
            m for m in p.mentions if m.named and m.others < 2 and wanted & set(analyze(f"{m.sentence} {m.following}"))
        ]
        # One sentence in passing is not what a programme is about, unless little is said of it at all.
        if not in_name and (not wanted or len(hits) < min(2, sum(m.named for m in p.mentions))):
            return None
        if hits and not shape.partner_words:
            said = hits[0].sentence if wanted & set(analyze(hits[0].sentence)) else hits[0].following
            chunk_id, quote = hits[0].chunk_id, said or hits[0].sentence
        elif in_name and not shape.partner_words:
            # Its name has the topic (« Terres Communes »): a sentence that speaks of the topic beyond the name
            # says why it is on the list; one of its own passages counts too (a sentence under its heading
            # does not repeat the name), one that names it first.
            about = [m for m in p.mentions if m.others == 0 and _beyond_name(p, m.sentence, in_name)]
            if about:
                best = min(about, key=lambda m: not m.named)
                chunk_id, quote = best.chunk_id, best.sentence
    start = p.start
    if shape.all_years:
        if not set(shape.all_years) <= set(p.years):
            return None
    elif shape.year_min is not None or shape.year_max is not None:
        if shape.launched:
            # "lancés depuis 2031": the start the publications state, else the first year they name it.
            if start is None or not _in_range(start, shape):
                return None
            dated = next((d for d in p.dates if d.start == start), None)
            if dated and not shape.partner_words:
                chunk_id, quote = dated.chunk_id, dated.quote
        else:
            # "les programmes de 2031": named in a publication of those years.
            in_range = [m for m in named if _in_range(m.year, shape)]
            if not in_range:
                return None
            if not shape.partner_words and not shape.topic:
                best = min(in_range, key=lambda m: m.others)
                chunk_id, quote = best.chunk_id, best.sentence
    years = "–".join(str(y) for y in (p.years[0], p.years[-1]) if y) if p.years else ""
    if p.years and p.years[0] == p.years[-1]:
        years = str(p.years[0])
    note = f"{start}" if p.dates else years
    if p.dates and years and str(start) != years:
        note = f"{start}; {years}"
    return chunk_id, note, quote


def _fact_list(
    p: Programme, shape: Shape, b: _Builder, retrieved: list[Passage], publishers: Sequence[str] = ()
) -> CatalogueAnswer | None:
    target = shape.target
    facts: list[Fact] = list({"partners": p.partners, "funders": p.funders, "places": p.places}[target])
    if target == "partners":
        facts += [f for f in p.funders if all(not same_body(f.value, g.value) for g in facts)]
    facts += [
        f
        for f in _retrieved_facts(p, target, retrieved[:5], publishers)
        if all(not same_body(f.value, g.value) for g in facts)
    ]
    places = [pl.value for pl in p.places]
    if shape.authorities_only:
        facts = [f for f in facts if _authority(f.value, places)]
    if len(facts) < 2 and target in ("partners", "places"):
        # Asked directly, the passages about the programme say more than the catalogue's strict rules keep.
        more = _context_facts(p, target, publishers)
        if shape.authorities_only:
            more = [f for f in more if _authority(f.value, places)]
        facts += [f for f in more if all(not same_body(f.value, g.value) for g in facts)]
    if shape.year_min is not None or shape.year_max is not None:
        # "selon la brochure de 2031": what the publications of those years say.
        facts = [f for f in facts if any(_in_range(getattr(b.chunks.get(c), "year", None), shape) for c in f.chunks)]
    if not facts:
        return None
    b.lines.append(b.t(target, name=p.name))
    years_of: dict[str, set[int]] = {}
    for fact in facts:
        years_of[fact.value] = {y for c in fact.chunks if (y := getattr(b.chunks.get(c), "year", None))}
        cites = list(zip(fact.chunks, fact.quotes))
        if shape.by_year:
            # Written another way elsewhere ("la métropole de Valcourt"): the words say it too.
            for m in p.mentions:
                if (
                    m.named
                    and m.year not in years_of[fact.value]
                    and _has_words(f"{m.sentence} {m.following}", _distinctive(fact.value))
                ):
                    years_of[fact.value].add(m.year or 0)
                    cites.append((m.chunk_id, m.sentence))
        marks = []
        for chunk_id, quote in cites[: 3 if shape.by_year else 1]:
            n = b.cite(chunk_id, quote)
            if n is not None:
                marks.append(f"[{n}]")
        if marks:
            when = f" ({', '.join(map(str, sorted(years_of[fact.value])))})" if shape.by_year else ""
            b.lines.append(f"- {fact.value}{when} {' '.join(marks)}")
    if shape.by_year:
        _differences(years_of, p, b)
    return b.done()


def _differences(years_of: dict[str, set[int]], p: Programme, b: _Builder) -> None:
    """Which publication names which partner: the ones only some publications name."""
    all_years = sorted(y for y in p.years)
    if len(all_years) < 2:
        return
    only = {y: [v for v, ys in years_of.items() if ys == {y}] for y in all_years}
    parts = [f"{y} : {', '.join(vs)}" for y, vs in only.items() if vs]
    b.lines.append(b.t("only_one", parts=" ; ".join(parts)) if parts else b.t("same"))


def _retrieved_facts(p: Programme, target: str, passages: list[Passage], publishers: Sequence[str] = ()) -> list[Fact]:
    """Bodies and places in the retrieved passages' sentences that name the programme (or go on about it); the
    publisher is none of them."""
    out: dict[str, Fact] = {}
    own = {name_key(v) for v in p.variants}

    def known(value: str) -> bool:
        return (
            name_key(value) in own
            or is_publisher(value, publishers)
            or any(same_body(value, f.value) for f in out.values())
        )

    for passage in passages:
        lines = sentences_in(passage.text)
        for i, sentence in enumerate(lines):
            if not _names(p, sentence):
                continue
            window = " ".join(lines[i : i + 2])
            cue = _FUNDING_WORDS if target == "funders" else _PARTNER_WORDS
            if not cue.search(window):
                continue
            values = enumerated(window) if target == "places" else [*organisations(window), *enumerated(window)]
            for value in values:
                if known(value):
                    continue
                quote = sentence if value in sentence or i + 1 >= len(lines) else lines[i + 1]
                out[value] = Fact(value, [passage.chunk_id], [passage.source], [quote])
        if target == "funders" or not any(_names(p, s) for s in lines):
            continue
        # A passage about the programme: its lines that say "en partenariat avec X" (the page's sub-headings
        # "Exploration en partenariat avec l'Agence Exemple") name partners even where the name is lines away.
        for sentence in lines:
            if not _WITH_PARTNER.search(sentence):
                continue
            for value in organisations(sentence) if target == "partners" else enumerated(sentence):
                if known(value):
                    continue
                out[value] = Fact(value, [passage.chunk_id], [passage.source], [sentence])
    return list(out.values())


_WITH_PARTNER = re.compile(r"\ben partenariat avec\b|\bin partnership with\b", re.I)


_FUNDING_WORDS = re.compile(r"financ|soutien|soutenu|mécén|subvention|grâce à", re.I)


def _context_facts(p: Programme, target: str, publishers: Sequence[str] = ()) -> list[Fact]:
    """Organisations and listed names in the sentences around the programme's mentions, with a partner cue (the
    publisher aside)."""
    out: dict[str, Fact] = {}
    own = {name_key(v) for v in p.variants}
    for m in p.mentions:
        if m.named or m.others >= 2 or not _PARTNER_WORDS.search(m.sentence):
            continue
        values = enumerated(m.sentence) if target == "places" else [*organisations(m.sentence), *enumerated(m.sentence)]
        for value in values:
            if name_key(value) in own or is_publisher(value, publishers):
                continue
            if any(same_body(value, f.value) for f in out.values()):
                continue
            out[value] = Fact(value, [m.chunk_id], [m.source], [m.sentence])
    return list(out.values())


_PARTNER_WORDS = re.compile(
    r"partenari|partenaire|avec |aux côtés|associ|participé|participant|collectivités|territoires|villes|"
    r"agences?|exploration|mené|test|expériment",
    re.I,
)


def _topic_fact_list(shape: Shape, catalogue: Catalogue, b: _Builder) -> CatalogueAnswer | None:
    topic = set(shape.topic)
    programmes = [
        p
        for p in catalogue.programmes
        if any(
            topic & set(analyze(f"{m.sentence} {m.following}"))
            for m in p.mentions
            if m.others < 2 and (_in_range(m.year, shape) or m.year is None)
        )
    ]
    lines = []
    for p in programmes:
        facts = {"partners": [*p.partners, *p.funders], "places": p.places}.get(shape.target, p.partners)
        if shape.authorities_only:
            facts = [f for f in facts if is_local_authority(f.value)] or facts
        for fact in facts:
            n = b.cite(fact.chunks[0], fact.quotes[0])
            if n is not None:
                lines.append(f"- {fact.value} ({p.name}) [{n}]")
    if not lines:
        return None
    header = b.t("partners" if shape.target != "places" else "places", name=" / ".join(p.name for p in programmes))
    b.lines = [header, *lines]
    return b.done()


_AUTHORITY = re.compile(
    r"\b(?:Ville|Villes|Région|Département|Métropole|Eurométropole|Communauté|Commune|Agglomération|Conseil|"
    r"Parc|PNR|Collectivité|Intercommunalité|Pays)\b"
)


def _authority(name: str, places: list[str]) -> bool:
    """A local government, or a place the programme works in named as a partner ("les villes de Valcourt, Montclair")."""
    return is_local_authority(name) or any(same_body(name, place) for place in places)


def is_local_authority(name: str) -> bool:
    """`Ville de Valcourt`, `Montclair Métropole`, `PNR`: a local or regional government (or its park)."""
    return bool(_AUTHORITY.search(name))


_MARKER = re.compile(r"\s*\[\d+\]")


def _quote(sentence: str, limit: int = 260, around: list[str] | None = None) -> str:
    """The sentence in guillemets, cut to `limit` characters around the first of `around`'s words if given."""
    # Markers written in the corpus ("[7]") would read as this answer's citations: they are left out.
    text = " ".join(_MARKER.sub("", sentence).split())
    if len(text) > limit:
        start = 0
        if around:
            folded = fold(text)
            hits = [folded.find(w) for w in around if folded.find(w) >= 0]
            if hits:
                start = max(0, min(hits) - limit // 2)
                start = text.rfind(" ", 0, start) + 1 if start else 0
        cut = text[start : start + limit].rsplit(" ", 1)[0]
        text = ("… " if start else "") + cut + " …"
    return f"« {text} »"


# « C'est quoi X ? », « Qu'est-ce que X ? », « What is X? », « Présente X »: a question asking what something is.
_DEFINITION = re.compile(
    r"\bc ?(?:est|koi|quoi)\b.*\b(?:quoi|koi)\b|\bc koi\b|\bqu est ce qu|\bkesako\b|\bwhat (?:is|are|was)\b"
    r"|\bwhat s\b|\bpresente[rz]?\b|\bdefini|\bdefine\b"
)
# After a programme's name, the verbs of a sentence that says what it is.
_DEFINES = r"(?:est|etait|sont|vise|visait|designe|consiste|a pour|is|was|aims)"


def defining_mention(question: str, catalogue: Catalogue) -> Mention | None:
    """For a question asking what one programme is, the catalogue's sentence that says it (« X est un programme… »),
    from the earliest publication that has one; None for any other question."""
    if not _DEFINITION.search(plain(question)):
        return None
    named = catalogue.named_in(question)
    if len(named) != 1:
        return None
    p = named[0]
    names = "|".join(re.escape(plain(v)) for v in sorted(p.variants, key=len, reverse=True) if len(plain(v)) >= 3)
    if not names:
        return None
    defines = re.compile(rf"(?:^| )(?:{names}) (?:\w+ ){{0,3}}?{_DEFINES} ")
    found = [m for m in p.mentions if m.named and defines.search(plain(m.sentence))]
    return min(found, key=lambda m: (m.others, m.year or 9999), default=None)
