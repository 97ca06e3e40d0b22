"""Ways of answering: each route plans from the question, its passages and the corpus view, or declines; a plan
answers as a stream of events. The assistant runs the first route that plans, in the order of `Assistant.routes`.

A route reads what the assistant found (`Asked`) and uses the lower floors it is given (`Tools`: search within the
corpus view, citation checks, the generators); it never calls back into the assistant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from assistant27.answering import ValidatedAnswer, request_for
from assistant27.config import Settings
from assistant27.corpus import CorpusView
from assistant27.embedding import Similarity
from assistant27.generators import GenerationRequest, Generator
from assistant27.prompt_echo import strip_prompt_echo
from assistant27.refusal import Decision, is_refusal, without_refusals
from assistant27.schema import Answer, Passage, Timings
from assistant27.store import Filters


@dataclass
class PassagesFound:
    """Streamed first: the retrieved passages, before any generation."""

    passages: list[Passage]
    retrieval_s: float
    query: str = ""  # what was searched: the question, or a follow-up with the question it depends on


@dataclass
class Token:
    text: str


Event = PassagesFound | Token | Answer


@dataclass(frozen=True)
class Asked:
    """A question as the assistant hands it to the routes: checked, searched once, judged answerable or not."""

    question: str
    query: str  # what was searched (a follow-up carries the question it depends on)
    history: list[dict[str, str]]
    language: str
    filters: Filters | None
    view: CorpusView  # one generation of the corpus for the whole answer
    passages: list[Passage]  # retrieved, best first
    context: list[Passage]  # the first of them, as many as the generator reads
    decision: Decision  # the answerability decision on those passages (refusal.decide)
    started: float  # time.perf_counter() when the question arrived

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 4)


Search = Callable[[str, Filters | None, CorpusView], list[Passage]]  # ranked passages of a query, within filters
Validate = Callable[[str, list[Passage], str], ValidatedAnswer]  # generated text -> only its supported citations


@dataclass(frozen=True)
class Tools:
    """The lower floors a route may use."""

    settings: Settings
    search: Search
    validate: Validate
    similarity: Similarity | None  # the embedder's, for generators that weigh sentences by meaning
    generator: Generator  # the assistant's generator (refusals are labelled with its name)
    part_generator: Generator  # what answers each year of a question naming several years


class Plan(Protocol):
    """What a route will answer with: the passages shown first, then the answer's events."""

    passages: list[Passage]

    def answer(self, timings: Timings) -> Iterator[Token | Answer]: ...


class Route(Protocol):
    name: str

    def plan(self, asked: Asked) -> Plan | None:
        """A plan to answer `asked`, or None when the question is not of this route's kind."""
        ...


def generation_request(asked: Asked, tools: Tools, context: list[Passage]) -> GenerationRequest:
    """The request for a generator reading `context`, with what every generator may use."""
    s = tools.settings
    request = request_for(
        asked.question, context, asked.history, asked.language, s.context_chars, s.max_answer_tokens, s.refuse_at
    )
    request.similarity = tools.similarity
    request.query = asked.query
    return request


def reads(generator: Generator, settings: Settings) -> int:
    """How many passages a generator reads: what it declares, else the prompt's budget."""
    return generator.context_passages or settings.context_passages


def sources(question: str, context: list[Passage]) -> list[str]:
    """What a generated answer may repeat word for word: the question and the passages (titles included)."""
    return [question, *(f"{p.title} {p.text}" for p in context)]


def checked(raw: str, asked: Asked, tools: Tools, context: list[Passage]) -> ValidatedAnswer | None:
    """Generated text made an answer: without what repeats the prompt, without its refusal sentences, with only
    the citations its passages support; None when nothing is left or the text only refuses."""
    said = strip_prompt_echo(raw, sources(asked.question, context))  # nothing of the prompt reaches the user
    if not said or is_refusal(said):
        return None
    return tools.validate(without_refusals(said), context, asked.language)


def streamed(generator: Generator, request: GenerationRequest, asked: Asked, timings: Timings) -> Iterator[str]:
    """A generator's pieces, the first token's time noted."""
    for piece in generator.generate(request):
        if timings.first_token_s is None:
            timings.first_token_s = asked.elapsed()
        yield piece
