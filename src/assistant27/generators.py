"""Text generators behind one small interface: local GGUF model, OpenAI-compatible server, extractive, scripted."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant27.analysis import analyze, strip_urls
from assistant27.chunking import passage_sentences, reflow
from assistant27.embedding import Similarity
from assistant27.errors import GeneratorError, ModelMissingError
from assistant27.kinds import asked_kind, holds_kind
from assistant27.schema import Passage


@dataclass
class GenerationRequest:
    """Everything a generator may use: chat messages for a language model, or the raw parts."""

    question: str
    passages: list[Passage]  # the context, numbered [1].. in this order
    messages: list[dict[str, str]] = field(default_factory=list)
    language: str = "fr"
    max_tokens: int = 256
    # The sentence the prompt tells a model to write when the passages do not answer. A generator that can read
    # the model's probabilities (the local one) measures how likely the model is to start it and refuses when that
    # probability is at least `refuse_at`; below it, the refusal is ruled out and the model answers. 1.0 never
    # refuses this way (the probability is still measured), None leaves the model free.
    refusal: str = ""
    refuse_at: float | None = None
    refusal_probability: float | None = None  # set by the generator that measured it


class Generator(Protocol):
    """Streams the answer's text, piece by piece."""

    name: str

    def generate(self, request: GenerationRequest) -> Iterator[str]: ...


class LlamaCppGenerator:
    """Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M) run in-process by llama-cpp-python."""

    name = "local"
    # A question naming several years has one part a year: with this model, one generation a year is minutes
    # on two cores (latency p95 252 s on the programme items), and its parts were worse than quotes
    # (comparisons 4/13 against 8/13; evals/reports/2026-11-23-programmes-local). The parts are quoted instead.
    quotes_year_parts = True

    def __init__(self, model_path: Path, n_ctx: int = 2048, n_threads: int | None = None) -> None:
        if not model_path.exists():
            raise ModelMissingError(f"The local model {model_path} is not installed. Run: make run")
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llm = None

    @property
    def llm(self):  # type: ignore[no-untyped-def]
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ModelMissingError(
                    "llama-cpp-python is not installed. Run: make run (it compiles once, about 10 minutes)"
                ) from exc
            import os

            self._llm = Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or os.cpu_count() or 2,
                verbose=False,
            )
        return self._llm

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        gate = None
        try:
            from llama_cpp import LogitsProcessorList

            if request.refusal and request.refuse_at is not None:
                gate = RefusalGate(self._refusal_starts(request.refusal), request.refuse_at, int(self.llm.token_eos()))
            stream = self.llm.create_chat_completion(
                messages=request.messages,
                max_tokens=request.max_tokens,
                temperature=0.0,  # greedy: the same question gets the same answer, and evaluations repeat
                repeat_penalty=1.1,
                stream=True,
                logits_processor=LogitsProcessorList([gate]) if gate else None,
            )
            held: list[str] = []  # the first token stays here until the gate has decided at the second
            for part in stream:
                delta = part["choices"][0].get("delta", {})
                text = delta.get("content")
                if not text:
                    continue
                if gate is not None and not gate.decided:
                    held.append(text)
                    continue
                if gate is not None and gate.refused:
                    continue  # only the end token was allowed
                if held:
                    yield "".join(held)
                    held = []
                yield text
        except ModelMissingError:
            raise
        except Exception as exc:  # llama.cpp errors are plain RuntimeError/ValueError
            raise GeneratorError(f"The local model failed: {exc}. Try ASSISTANT27_GENERATOR=extractive.") from exc
        if gate is not None:
            request.refusal_probability = gate.probability
            if gate.refused:
                yield request.refusal
                return
        if held:
            yield "".join(held)

    def _refusal_starts(self, text: str) -> dict[int, int]:
        """The first token of `text` as an answer's start (with or without a leading space) -> its second token."""
        starts = {}
        for variant in (text, " " + text):
            tokens = self.llm.tokenize(variant.encode("utf-8"), add_bos=False, special=False)
            if len(tokens) >= 2:
                starts[tokens[0]] = tokens[1]
        return starts


class RefusalGate:
    """A llama.cpp logits processor for the first two generated tokens: how likely is the model to start its refusal?

    The refusal sentence starts with words an answer may start with too ("Les publications ne répondent pas ..."
    and "Les collectivités ..." share "Les"), so the measure is over its first two tokens: P(first) at step 1,
    times P(second | first) at step 2, the second token being the one that follows the first the model chose.
    At step 1, a first-token probability at or above `refuse_at` makes the model start the refusal (only its
    first tokens are allowed); below, nothing changes, since the product cannot reach the threshold. At step 2,
    when the model started the refusal, a product at or above `refuse_at` stops the model (only the end token
    is allowed: the caller drops the first token and writes the refusal); below, the refusal's second token is
    ruled out, so "Les ..." goes on as an answer. Later steps pass through unchanged.
    """

    def __init__(self, starts: Mapping[int, int], refuse_at: float, eos: int) -> None:
        self.starts = dict(starts)  # first token -> the second token of the refusal after it
        self.first = sorted(starts)
        self.refuse_at = refuse_at
        self.eos = eos
        self.probability: float | None = None  # P(first tokens), times P(second | first) once measured
        self.refused = False
        self.decided = False  # True from step 2 on: the text generated so far stays
        self._prompt_length: int | None = None

    def __call__(self, input_ids: Any, logits: np.ndarray) -> np.ndarray:
        if self.decided:
            return logits
        shifted = np.exp(logits.astype(np.float64) - float(np.max(logits)))
        if self._prompt_length is None:  # step 1
            self._prompt_length = len(input_ids)
            self.probability = float(shifted[self.first].sum() / shifted.sum())
            if self.probability < self.refuse_at:
                return logits
            out = np.full_like(logits, -np.inf)
            out[self.first] = logits[self.first]
            return out
        self.decided = True
        chosen = int(input_ids[-1])
        if len(input_ids) != self._prompt_length + 1 or chosen not in self.starts:
            return logits  # the model started something else: not its refusal
        second = self.starts[chosen]
        self.probability = (self.probability or 0.0) * float(shifted[second] / shifted.sum())
        out = logits.copy()
        if self.probability >= self.refuse_at:
            self.refused = True
            out[:] = -np.inf
            out[self.eos] = 0.0
        else:
            out[second] = -np.inf
        return out


class OpenAICompatibleGenerator:
    """Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp's server, a hosted API), streamed."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 120.0) -> None:
        if not base_url or not model:
            raise GeneratorError(
                "The openai generator needs ASSISTANT27_OPENAI_BASE_URL and ASSISTANT27_OPENAI_MODEL "
                "(e.g. http://localhost:8000/v1 and the served model's name)."
            )
        self.base_url = base_url
        self.model = model
        self._api_key = api_key or "not-needed"
        self.timeout = timeout

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key, timeout=self.timeout, max_retries=1)
        try:
            stream = client.chat.completions.create(
                model=self.model,
                messages=request.messages,  # type: ignore[arg-type]
                max_tokens=request.max_tokens,
                temperature=0.1,
                stream=True,
            )
            for chunk in stream:
                choices = getattr(chunk, "choices", None)
                if choices and choices[0].delta and choices[0].delta.content:
                    yield choices[0].delta.content
        except openai.OpenAIError as exc:
            raise GeneratorError(
                f"The OpenAI-compatible server at {self.base_url} failed: {exc}. "
                "Check that it runs, or set ASSISTANT27_GENERATOR=extractive."
            ) from exc


# How much a sentence's meaning weighs against its words: the order adds DENSE_WEIGHT x (its similarity - the best
# sentence's). 12 on the full set's recorded passages (benchmarks/extractive_dense.py): 103 -> 107 of 167 answers
# (0.5-8: +0-2; 12-24: +4; 64: +2; 200: +0).
DENSE_WEIGHT = 12.0
# How much holding a thing of the kind asked (a person, an amount, a date...) weighs, on the words' scale.
KIND_WEIGHT = 0.0


class ExtractiveGenerator:
    """No language model: the sentences of the top passages that best match the question, cited. Instant."""

    name = "extractive"

    def __init__(
        self,
        max_sentences: int = 3,
        from_passages: int = 4,
        similarity: Similarity | None = None,
        dense_weight: float = DENSE_WEIGHT,
        kind_weight: float = KIND_WEIGHT,
    ) -> None:
        self.max_sentences = max_sentences
        self.from_passages = from_passages
        self.context_passages = from_passages  # no prompt to pay for: it reads more passages than a model
        # The question's meaning against each candidate sentence (the embedder's; see `Assistant`): what the
        # question's words cannot tell, an English question against French sentences above all.
        self.similarity = similarity
        self.dense_weight = dense_weight
        self.kind_weight = kind_weight

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        terms = set(analyze(request.question))
        years = {p.year for p in request.passages[: self.from_passages]}
        if len(years) == 1:  # one year's passages (a year of a comparison): its year tells no sentence apart
            terms.discard(str(years.pop()))
        candidates: list[tuple[float, int, int, int, str]] = []
        for n, passage in enumerate(request.passages[: self.from_passages], start=1):
            lines = passage_sentences(reflow(strip_urls(passage.text)))
            line_score: dict[int, float] = {}
            for position, last, sentence in _with_wrapped(lines):
                words = analyze(sentence)
                overlap = shared_terms(terms, words)
                # Favour sentences that share the question's words, in passages ranked high.
                score = overlap / (1 + 0.03 * len(words)) + 0.5 / n
                fragment = len(words) < 4 or (len(words) < 8 and sentence[-1] not in _END)
                if position != last and position in line_score:
                    # An unfinished line read to its sentence's end wins over the line alone.
                    score = max(score, line_score[position] + 1e-6)
                if fragment and not (overlap and _FIGURE.search(sentence)):
                    continue  # short heading lines and fragments make poor answers; a table's line is kept
                if position == last:
                    line_score[position] = score
                candidates.append((score, n, position, last, sentence.strip()))
        # The order: the words' score, less how far each sentence's meaning is from the closest one's.
        order = [c[0] for c in candidates]
        if self.similarity is not None and candidates and self.dense_weight:
            sims = self.similarity(request.question, [c[4] for c in candidates])
            order = [o + self.dense_weight * (float(sim) - float(np.max(sims))) for o, sim in zip(order, sims)]
        kind = asked_kind(request.question)
        if kind is not None and self.kind_weight:
            # « Who », « how much », « when »: a sentence that names someone, states an amount, a date... answers;
            # one that only repeats the question's words does not.
            order = [o + self.kind_weight * holds_kind(c[4], kind, request.question) for o, c in zip(order, candidates)]
        best: list[tuple[float, int, int, int, str]] = []
        for _, c in sorted(zip(order, candidates), key=lambda oc: -oc[0]):
            # Overlapping chunks repeat sentences, and a wrapped sentence is also a candidate line by line:
            # each text once, at its best, and no line twice.
            if any(c[4] == b[4] or (c[1] == b[1] and c[2] <= b[3] and b[2] <= c[3]) for b in best):
                continue
            best.append(c)
            if len(best) == self.max_sentences:
                break
        best = [b for b in best if b[0] > 0.3 / self.from_passages] or best[:1]
        best.sort(key=lambda c: (c[1], c[2]))  # passage order, then reading order
        for i, (_score, n, _pos, _last, sentence) in enumerate(best):
            yield ("" if i == 0 else " ") + f"{sentence} [{n}]"


_END = '.!?…»)"'


def _with_wrapped(lines: list[str], most: int = 4) -> Iterator[tuple[int, int, str]]:
    """Each line (first and last position, text), and each run of unfinished lines joined up to the line that
    ends the sentence: a narrow column wraps a sentence into lines that start with a capital, which `reflow`
    keeps apart as list items (« 12-14.10 Participation au Forum / européen de la Fondation / Exemple à
    Valcourt. »)."""
    for i, line in enumerate(lines):
        yield i, i, line
        run = [line]
        for j in range(i + 1, min(i + most, len(lines))):
            if run[-1][-1] in _END or len(lines[j - 1]) < 20:
                break  # a sentence's end, or a short line (a heading, a link's label) that wraps nothing
            run.append(lines[j])
            if lines[j][-1] in _END:
                yield i, j, " ".join(run)
                break


# A figure in a table's line ("Agence Exemple 70 000 €", "6 sessions ont été organisées en 2031 :").
_FIGURE = re.compile(r"\d")


def shared_terms(terms: set[str], words: list[str]) -> int:
    """How many of the question's stems a sentence has; stems of 5+ letters also match on their first 5
    (`soutenait`/`soutenue`: `souten`/`soutenu`; `financièrement`/`financements`)."""
    found = terms & set(words)
    prefixes = {w[:5] for w in words if len(w) >= 5}
    return len(found) + sum(1 for t in terms - found if len(t) >= 5 and t[:5] in prefixes)


class ScriptedGenerator:
    """A fake for tests: replies with queued texts, in order, streamed word by word."""

    name = "scripted"

    def __init__(self, replies: list[str] | None = None) -> None:
        self.replies = list(replies or [])
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else "Je ne sais pas."
        for i, word in enumerate(reply.split(" ")):
            yield ("" if i == 0 else " ") + word
