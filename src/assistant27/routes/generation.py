"""The general route: the generator answers from the passages read, its citations checked, or the answer refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from assistant27.answering import in_question_language
from assistant27.refusal import UNVERIFIED, Decision, after_answer, refused
from assistant27.routes import Asked, Token, Tools, checked, generation_request, streamed
from assistant27.schema import Answer, Passage, Timings


class GenerationRoute:
    """Plans for every question: the last route, the one that answers what no other recognises."""

    name = "generation"

    def __init__(self, tools: Tools) -> None:
        self.tools = tools

    def plan(self, asked: Asked) -> GenerationPlan:
        return GenerationPlan(asked, self.tools, asked.passages)


@dataclass
class GenerationPlan:
    asked: Asked
    tools: Tools
    passages: list[Passage]

    def answer(self, timings: Timings) -> Iterator[Token | Answer]:
        asked, generator = self.asked, self.tools.generator
        decision = asked.decision
        if not decision.answerable:
            timings.total_s = asked.elapsed()
            yield refused(asked.question, self.passages, timings, asked.language, decision, generator.name)
            return
        request = generation_request(asked, self.tools, asked.context)
        pieces = []
        for piece in streamed(generator, request, asked, timings):
            pieces.append(piece)
            yield Token(piece)
        timings.model = request.model_timings
        raw = "".join(pieces).strip()
        answer = checked(raw, asked, self.tools, asked.context)
        if answer is None:
            after = Decision(UNVERIFIED, 0.0, "the generator found no answer in the passages", decision.support)
        else:
            cited = [c.passage for c in answer.citations]
            after = after_answer(asked.query, answer.text, decision, cited, asked.view.publishers)
        timings.total_s = asked.elapsed()
        if answer is None or not after.answerable:
            refusal = refused(asked.question, self.passages, timings, asked.language, after, generator.name)
            refusal.generated = raw
            refusal.refusal_probability = request.refusal_probability
            yield refusal
            return
        yield Answer(
            question=asked.question,
            answer=in_question_language(answer.text, asked.language),
            refused=False,
            citations=answer.citations,
            passages=self.passages,
            timings=timings,
            generator=generator.name,
            flagged=answer.flagged,
            generated=raw,
            refusal_probability=request.refusal_probability,
            confidence=decision.confidence,
            claims=answer.claims,
        )
