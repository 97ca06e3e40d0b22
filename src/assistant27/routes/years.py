"""The per-year route: a question naming several years (« en 2031, et en 2034 ? »), each year's publications
searched on their own and answered side by side (year_comparison.py holds the year logic)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from assistant27.refusal import UNVERIFIED, Decision, assess, best_support, refused
from assistant27.routes import Asked, Token, Tools, checked, generation_request, reads, streamed
from assistant27.schema import Answer, Passage, Timings
from assistant27.year_comparison import YearPart, compared_years, interleave, side_by_side, within, year_query


class YearsRoute:
    name = "years"

    def __init__(self, tools: Tools) -> None:
        self.tools = tools

    def plan(self, asked: Asked) -> YearsPlan | None:
        s = self.tools.settings
        years = compared_years(asked.query, asked.view.years, asked.filters)
        if (
            not years
            or not assess(asked.query, asked.passages, min_coverage=s.min_coverage, min_dense=s.min_dense).answerable
        ):
            return None  # a question that fails the usual evidence check as a whole is refused by the general route
        by_year = searched_years(asked, self.tools, years)
        return YearsPlan(asked, self.tools, by_year, interleave(list(by_year.values()), max(10, s.top_k)))


def searched_years(asked: Asked, tools: Tools, years: list[int]) -> dict[int, list[Passage]]:
    """Each year's passages, searched within that year with the question less its years."""
    return {y: tools.search(year_query(asked.query), within(asked.filters, y), asked.view) for y in years}


@dataclass
class YearsPlan:
    asked: Asked
    tools: Tools
    by_year: dict[int, list[Passage]]
    passages: list[Passage]

    def answer(self, timings: Timings) -> Iterator[Token | Answer]:
        """Each year answered from its own passages, side by side; refuse when no year answers."""
        asked = self.asked
        parts: list[YearPart] = []
        generated: list[str] = []
        flagged: list[str] = []
        yield from year_parts(asked, self.tools, self.by_year, timings, parts, generated, flagged)
        timings.total_s = asked.elapsed()
        if not any(p.answered for p in parts):
            none = Decision(UNVERIFIED, 0.0, "no year's passages answer", best_support(asked.question, []))
            refusal = refused(asked.question, self.passages, timings, asked.language, none, self.tools.generator.name)
            refusal.generated = "\n".join(generated)
            yield refusal
            return
        text, citations = side_by_side(parts, asked.language)
        yield Answer(
            question=asked.question,
            answer=text,
            refused=False,
            citations=citations,
            passages=self.passages,
            timings=timings,
            generator=self.tools.part_generator.name,
            flagged=flagged,
            generated="\n".join(generated),
        )


def year_parts(
    asked: Asked,
    tools: Tools,
    by_year: dict[int, list[Passage]],
    timings: Timings,
    parts: list[YearPart],
    generated: list[str],
    flagged: list[str],
) -> Iterator[Token]:
    """Answer from each year's passages with the part generator, one part per year (streamed), into `parts`."""
    s = tools.settings
    generator = tools.part_generator
    query = year_query(asked.question)
    for year, found in by_year.items():
        part = YearPart(year)
        parts.append(part)
        # A year answers when its own passages share the question's words or meaning (its best passage
        # may score lower than the corpus's best: the question as a whole passed the check already).
        evidence = assess(query, found, min_coverage=s.min_coverage, min_dense=s.min_dense)
        if not found or not (evidence.answerable or evidence.coverage >= s.min_coverage):
            continue
        context = found[: reads(generator, s)]
        request = generation_request(asked, tools, context)
        pieces: list[str] = []
        for piece in streamed(generator, request, asked, timings):
            if not pieces:  # each year's words streamed under its year
                yield Token(f"\n{year} : ")
            pieces.append(piece)
            yield Token(piece)
        raw = "".join(pieces).strip()
        generated.append(f"{year} : {raw}")
        answer = checked(raw, asked, tools, context)
        if answer is None:
            continue
        part.text, part.citations = answer.text, answer.citations
        flagged.extend(answer.flagged)
