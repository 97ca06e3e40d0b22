"""The plain data that flows between stages: publications, chunks, passages, citations, answers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# How an answer cites passages: « [1] », « [1, 2] »; group 1 holds the numbers.
CITATION_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")


@dataclass
class Section:
    """A stretch of one publication's text: a PDF page, or the whole text of a non-paginated file."""

    text: str
    page: int | None = None  # 1-based, PDFs only
    heading: str = ""  # the section heading, where the format has one (Markdown, HTML, DOCX)


@dataclass
class Publication:
    """One file of the corpus, read into text with its metadata."""

    source: str  # path relative to the corpus folder, with forward slashes
    title: str
    kind: str
    year: int | None
    language: str
    sections: list[Section]
    content_hash: str = ""
    warnings: list[str] = field(default_factory=list)
    repairs: dict[str, int] = field(default_factory=dict)  # what the reader mended, counted (e.g. running lines)


@dataclass
class Chunk:
    """A piece of one publication, as indexed."""

    id: str
    source: str
    text: str  # cleaned text, what is indexed and quoted
    page: int | None
    heading: str
    start: int  # character offsets in the cleaned text of its section
    end: int
    title: str = ""
    kind: str = ""
    year: int | None = None
    language: str = ""


@dataclass
class Passage:
    """A retrieved chunk with its rank and score."""

    rank: int
    chunk_id: str
    source: str
    title: str
    year: int | None
    kind: str
    page: int | None
    heading: str
    text: str
    score: float
    scores: dict[str, float] = field(default_factory=dict)  # per retriever, for debugging

    @classmethod
    def of(cls, chunk: Chunk, rank: int = 0, score: float = 0.0, scores: dict[str, float] | None = None) -> Passage:
        """A chunk as a passage; rank 0 when retrieval did not rank it (what a catalogue answer may cite)."""
        return cls(
            rank=rank,
            chunk_id=chunk.id,
            source=chunk.source,
            title=chunk.title,
            year=chunk.year,
            kind=chunk.kind,
            page=chunk.page,
            heading=chunk.heading,
            text=chunk.text,
            score=score,
            scores=scores or {},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "source": self.source,
            "title": self.title,
            "year": self.year,
            "page": self.page,
            "text": self.text,
            "score": round(self.score, 6),
            "section": self.heading,
            "chunk_id": self.chunk_id,
        }


@dataclass
class Citation:
    """A passage the answer relies on, numbered as in the answer's [n] markers."""

    n: int
    passage: Passage
    quote: str = ""  # the sentence of the passage that states the cited fact, where known

    def to_json(self) -> dict[str, Any]:
        p = self.passage
        return {
            "quote": self.quote,
            "n": self.n,
            "source": p.source,
            "title": p.title,
            "year": p.year,
            "page": p.page,
            "text": p.text,
            "section": p.heading,
            "rank": p.rank,
        }


@dataclass
class Timings:
    retrieval_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0


@dataclass
class Answer:
    """What `ask` returns: the answer, its citations, every retrieved passage, timings."""

    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    passages: list[Passage]
    timings: Timings
    generator: str = ""
    flagged: list[str] = field(default_factory=list)  # answer sentences no passage supports
    generated: str = ""  # the generator's text before citation checks (for reports and debugging)
    refusal_probability: float | None = None  # the local model's probability of starting its refusal
    refusal: str | None = None  # refused: "absent" (the publications do not speak of it) or "unverified"
    confidence: float | None = None  # 0..1, shown beside the answer (refusal.Decision.confidence)
    # Each sentence of a generated answer: {"claim", "citations" (its [n]), "quote" (verbatim, of the first
    # cited passage), "support" (share of the claim's words in the quote)}.
    claims: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The stable `ask --json` contract (fields may be added, never changed)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "passages": [p.to_json() for p in self.passages],
            "timings": asdict(self.timings),
            "generator": self.generator,
            "flagged": self.flagged,
            "generated": self.generated,
            "refusal_probability": self.refusal_probability,
            "refusal": self.refusal,
            "confidence": self.confidence,
            "claims": self.claims,
        }
