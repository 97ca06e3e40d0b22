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
    page_label: str = ""  # the page number printed on a PDF page ("iv", "A-3"), where it is not `page`


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
    start: int  # character offsets in the cleaned text of its section, opened by its heading (chunking._with_heading)
    end: int
    title: str = ""
    kind: str = ""
    year: int | None = None
    language: str = ""
    page_label: str = ""  # see Section.page_label


def page_reference(page: int, label: str = "") -> str:
    """How a citation names a PDF page: its position in the file, and the number printed on it when that differs
    (« p. 12 (page imprimée iv) »), so a reader finds the page both in a viewer and on paper."""
    return f"p. {page}" + (f" (page imprimée {label})" if label and label != str(page) else "")


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
    page_label: str = ""  # see Section.page_label

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
            page_label=chunk.page_label,
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
            "page_label": self.page_label,
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
            "page_label": p.page_label,
        }


@dataclass
class ModelTimings:
    """What llama.cpp's server reports about one answer, summed over its requests (the refusal gate's one-token
    probes and the streamed answer): how much of the prompt was evaluated, how fast, and how fast it decoded."""

    prompt_tokens: int = 0  # the whole prompt, chat template included
    cached_tokens: int = 0  # of those, reused from the previous prompt (llama.cpp's prompt cache)
    prefill_tokens: int = 0  # evaluated (llama.cpp's prompt_n, summed)
    prefill_ms: float = 0.0
    prefill_tokens_per_s: float | None = None
    generated_tokens: int = 0  # decoded (predicted_n, summed)
    generation_ms: float = 0.0
    generation_tokens_per_s: float | None = None
    draft_tokens: int = 0  # speculative decoding, where enabled: tokens proposed, and accepted
    draft_accepted: int = 0

    def add(self, timings: dict[str, Any]) -> None:
        """Count one response's `timings` object (llama.cpp's field names) in."""
        self.prefill_tokens += int(timings.get("prompt_n") or 0)
        self.prefill_ms += float(timings.get("prompt_ms") or 0.0)
        self.generated_tokens += int(timings.get("predicted_n") or 0)
        self.generation_ms += float(timings.get("predicted_ms") or 0.0)
        self.draft_tokens += int(timings.get("draft_n") or 0)
        self.draft_accepted += int(timings.get("draft_n_accepted") or 0)
        self.prefill_tokens_per_s = _rate(self.prefill_tokens, self.prefill_ms)
        self.generation_tokens_per_s = _rate(self.generated_tokens, self.generation_ms)


def _rate(tokens: int, ms: float) -> float | None:
    return round(tokens * 1000.0 / ms, 2) if tokens and ms > 0 else None


@dataclass
class Timings:
    retrieval_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0
    model: ModelTimings | None = None  # the local model's own figures (llama.cpp's server), where it answered


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
    # The way of answering that answered (routes/: "catalogue", "years", "generation"); None when refused before any.
    route: str | None = None

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
            "route": self.route,
        }
