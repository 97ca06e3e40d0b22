"""The catalogue route: list, timeline and comparison questions about programmes, answered from the programme
catalogue built at ingestion (programmes.py: its model and extraction; programme_answers.py: the questions it
recognises and its answers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from assistant27.corpus import CorpusView
from assistant27.kinds import holds_kind
from assistant27.programme_answers import CatalogueAnswer, defining_mention, recognise
from assistant27.programme_answers import answer as catalogue_answer
from assistant27.routes import Asked, Token, Tools
from assistant27.routes.years import searched_years, year_parts
from assistant27.schema import Answer, Citation, Passage, Timings
from assistant27.year_comparison import OTHER_YEARS, YearPart, compared_years, side_by_side


class CatalogueRoute:
    name = "catalogue"

    def __init__(self, tools: Tools) -> None:
        self.tools = tools

    def plan(self, asked: Asked) -> CataloguePlan | None:
        shaped = _from_catalogue(asked)
        if shaped is None or not holds_kind(
            _unmarked(shaped.text, *shaped.quotes), asked.decision.support.kind, asked.query
        ):
            return None  # the catalogue holds no amount, person, date... of the kind asked: the general path answers
        return CataloguePlan(asked, self.tools, shaped, asked.passages)


def _from_catalogue(asked: Asked) -> CatalogueAnswer | None:
    """The catalogue's answer to the question (or to what was searched, for a follow-up), None when not its kind."""
    view = asked.view
    for text in dict.fromkeys((asked.question, asked.query)):
        shape = recognise(text, view.catalogue)
        if shape is not None and shape.partner and compared_years(text, view.years):
            return None  # "avec Valcourt en 2031 et en 2034 ?": what each year says, side by side
        if shape is not None:
            return catalogue_answer(shape, text, view.catalogue, view.by_id, asked.language, asked.passages)
    return None


def _unmarked(*texts: str) -> str:
    """Texts joined without their citation markers (« [1] » is no count)."""
    return re.sub(r"\[\d+\]", " ", " ".join(texts))


@dataclass
class CataloguePlan:
    asked: Asked
    tools: Tools
    shaped: CatalogueAnswer
    passages: list[Passage]

    def answer(self, timings: Timings) -> Iterator[Token | Answer]:
        asked, shaped = self.asked, self.shaped
        timings.first_token_s = asked.elapsed()
        yield Token(shaped.text)
        # A timeline that asks for years the catalogue says nothing of: those years' passages, answered.
        parts: list[YearPart] = []
        more = self._missing_years()
        yield from year_parts(asked, self.tools, more, timings, parts, [], [])
        timings.total_s = asked.elapsed()
        yield self._reply(timings, parts)

    def _missing_years(self) -> dict[int, list[Passage]]:
        """The years a timeline question asks for that the catalogue's timeline has nothing from, searched."""
        if self.shaped.kind != "timeline":
            return {}
        covered = {c.year for c in self.shaped.cited}
        asked = self.asked
        years = [y for y in compared_years(asked.query, asked.view.years, asked.filters) if y not in covered]
        return searched_years(asked, self.tools, years)

    def _reply(self, timings: Timings, parts: list[YearPart]) -> Answer:
        shaped = self.shaped
        retrieved = {p.chunk_id: p for p in self.passages}
        citations = [
            Citation(n, retrieved.get(chunk.id) or Passage.of(chunk), quote)
            for n, (chunk, quote) in enumerate(zip(shaped.cited, shaped.quotes), start=1)
        ]
        text = shaped.text
        answered = [p for p in parts if p.answered]
        if answered:
            more, more_citations = side_by_side(answered, self.asked.language, offset=len(citations))
            text = f"{text}\n{OTHER_YEARS[self.asked.language]}\n{more}"
            citations += more_citations
        return Answer(
            question=self.asked.question,
            answer=text,
            refused=False,
            citations=citations,
            passages=self.passages,
            timings=timings,
            generator="catalogue",
            generated=text,
        )


def with_definition(question: str, passages: list[Passage], reads: int, view: CorpusView) -> list[Passage]:
    """« C'est quoi X ? » about a programme the catalogue knows: the passage whose sentence says what X is comes
    first when retrieval left it out of what the answer reads (passages that only name X rank above it otherwise)."""
    mention = defining_mention(question, view.catalogue)
    if mention is None or any(p.chunk_id == mention.chunk_id for p in passages[:reads]):
        return passages
    chunk = view.by_id.get(mention.chunk_id)
    if chunk is None:
        return passages
    rest = [p for p in passages if p.chunk_id != chunk.id]
    return [replace(p, rank=n) for n, p in enumerate([Passage.of(chunk), *rest][: len(passages)], start=1)]
