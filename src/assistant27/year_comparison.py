"""Questions that name several years: which years to compare, and one answer per year side by side.

"Qui soutenait l'association en 2031, et qui en 2034 ?" needs a passage of the 2031 brochure and one of
the 2034 report; top-k retrieval over the whole corpus often brings only one of them. The assistant
retrieves within each publication year, answers each year from its own passages, and lays the parts
side by side, each with its citations (a year whose publications do not answer says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant27.language import YEARS, year_spans, years_in
from assistant27.schema import Citation, Passage
from assistant27.store import Filters

MAX_YEARS = 5

# "de 2031 à 2035", "from 2031 to 2035", "2031-2035": every publication year in between is compared; "depuis 2031",
# "since 2031": every one from then on. "entre 2031 et 2035" compares the two years it names.
_RANGE_OPENERS, _RANGE_CLOSERS = {"de", "du", "from", "-"}, {"a", "au", "to", "until", "jusqu'en", "-"}
_SINCE_OPENERS = {"depuis", "since"}

# Before the years a catalogue timeline lacked, answered from their passages.
OTHER_YEARS = {
    "fr": "Les autres années demandées, d'après les passages retrouvés :",
    "en": "The other years asked for, from the passages found:",
}

_LABELS = {
    "fr": {"none": "les publications de {year} ne le disent pas."},
    "en": {"none": "the publications of {year} do not say."},
}


def compared_years(question: str, available: Iterable[int], filters: Filters | None = None) -> list[int]:
    """The publication years a question asks to compare (two or more), or [] for any other question."""
    years_there = sorted(set(available))
    asked = set(years_in(question))
    for span in year_spans(question):
        ranged = span.opener in _RANGE_OPENERS and span.closer in _RANGE_CLOSERS
        if ranged or (span.opener in _SINCE_OPENERS and span.high is None):
            low, high = span.low or 0, span.high or 9999
            asked |= {y for y in years_there if low <= y <= high}
    if filters is not None:
        asked = {
            y
            for y in asked
            if (filters.year_min is None or y >= filters.year_min)
            and (filters.year_max is None or y <= filters.year_max)
        }
    chosen = [y for y in years_there if y in asked]
    return chosen[-MAX_YEARS:] if len(chosen) >= 2 else []


def year_query(question: str) -> str:
    """The question without its years: within one year's publications they only add noise."""
    return re.sub(r"\s+", " ", YEARS.sub(" ", question)).strip()


def within(filters: Filters | None, year: int) -> Filters:
    """The user's filters narrowed to one publication year."""
    base = filters or Filters()
    return Filters(year_min=year, year_max=year, kinds=base.kinds, sources=base.sources)


def interleave(ranked: list[list[Passage]], limit: int) -> list[Passage]:
    """Each year's passages taken in turn (best of each year first), ranked again from 1."""
    out: list[Passage] = []
    seen: set[str] = set()
    for position in range(max((len(r) for r in ranked), default=0)):
        for passages in ranked:
            if position < len(passages) and passages[position].chunk_id not in seen:
                seen.add(passages[position].chunk_id)
                out.append(passages[position])
    out = out[:limit]
    for rank, p in enumerate(out, start=1):
        p.rank = rank
    return out


@dataclass
class YearPart:
    """One year's answer: its text with [n] markers numbered within the part, and their citations."""

    year: int
    text: str = ""
    citations: list[Citation] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.text)


_MARKER = re.compile(r"\[(\d+)\]")


def _renumbered(text: str, renumber: dict[int, int]) -> str:
    """The text's [n] markers numbered as in the whole answer (a marker to no citation is dropped)."""
    return _MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]" if int(m.group(1)) in renumber else "", text)


def side_by_side(parts: list[YearPart], language: str, offset: int = 0) -> tuple[str, list[Citation]]:
    """One line per year, citations numbered across the whole answer (after `offset` earlier ones)."""
    start = offset
    labels = _LABELS.get(language, _LABELS["fr"])
    lines: list[str] = []
    citations: list[Citation] = []
    for part in parts:
        if not part.answered:
            lines.append(f"- {part.year} : {labels['none'].format(year=part.year)}")
            continue
        offset = start + len(citations)
        renumber = {c.n: offset + i for i, c in enumerate(part.citations, start=1)}
        text = _renumbered(part.text, renumber)
        titles = list(dict.fromkeys(c.passage.title for c in part.citations if c.passage.title))
        head = f"{part.year} ({', '.join(titles)})" if titles else str(part.year)
        lines.append(f"- {head} : {' '.join(text.split())}")
        citations.extend(Citation(renumber[c.n], c.passage, c.quote) for c in part.citations)
    return "\n".join(lines), citations
