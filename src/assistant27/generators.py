"""Text generators behind one small interface: local GGUF model, OpenAI-compatible server, extractive, scripted."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant27.analysis import analyze, strip_urls
from assistant27.chunking import reflow
from assistant27.embedding import Similarity
from assistant27.errors import GeneratorError, ModelMissingError
from assistant27.kinds import asked_kind, holds_kind
from assistant27.language import sentences_in
from assistant27.schema import ModelTimings, Passage


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
    model_timings: ModelTimings | None = None  # set by a generator whose server reports them (the local one)


class Generator(Protocol):
    """Streams the answer's text, piece by piece."""

    name: str

    def generate(self, request: GenerationRequest) -> Iterator[str]: ...


class LlamaServerGenerator:
    """Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M) run by llama.cpp's server, streamed over loopback HTTP.

    The server runs in-process from xllamacpp's prebuilt wheel (nothing to compile), on a free loopback port,
    started at the first generation or by `start()`; `url` points at a llama.cpp server started elsewhere
    (`llama-server -m MODEL`) instead. It speaks llama.cpp's own endpoints, not only the OpenAI ones, because
    the refusal gate needs the first tokens' probabilities and the prompt as tokens (see `_gated_prefix`).
    """

    name = "local"
    # A question naming several years has one part a year: with this model, one generation a year is minutes
    # on two cores (latency p95 252 s on the programme items), and its parts were worse than quotes
    # (comparisons 4/13 against 8/13; evals/reports/2026-11-23-programmes-local). The parts are quoted instead.
    quotes_year_parts = True
    top_probabilities = 20  # a refusal start outside the 20 likeliest first tokens weighs under 1/21 each

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        url: str = "",
        n_ctx: int = 2048,
        n_threads: int | None = None,
        timeout: float = 600.0,
        lookup_tokens: int = 0,
    ) -> None:
        if not url and (model_path is None or not model_path.exists()):
            raise ModelMissingError(f"The local model {model_path} is not installed. Run: make run")
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.timeout = timeout
        # Prompt-lookup decoding: up to this many tokens drafted from the prompt's own n-grams, checked in one batch
        # (0: off). Measured in benchmarks/first_token.py; see benchmarks/README.md for whether it pays.
        self.lookup_tokens = lookup_tokens
        self._url = url.rstrip("/")
        self._server: Any = None  # the in-process xllamacpp.Server, once started

    @property
    def started(self) -> bool:
        return bool(self._url)

    def start(self) -> str:
        """Load the model into an in-process llama.cpp server (once) and return its URL."""
        if self._url:
            return self._url
        try:
            import xllamacpp
        except ImportError as exc:
            raise ModelMissingError(
                "xllamacpp (llama.cpp's prebuilt runtime) is not installed. Run: make run "
                "(or: .venv/bin/pip install 'assistant27[local]')"
            ) from exc
        import os

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.n_ctx
        params.n_parallel = 1  # one answer at a time: two cores are not enough for two
        threads = self.n_threads or os.cpu_count() or 2
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port, read back from listening_address
        params.ui = False
        params.verbosity = -1  # llama.cpp's own log lines would flood the terminal
        if self.lookup_tokens:
            spec = params.speculative
            spec.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
            spec.ngram_simple.size_n = 3  # a quote's next words follow its last three
            spec.ngram_simple.size_m = self.lookup_tokens
            spec.draft.n_max = self.lookup_tokens
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # a bad or truncated GGUF is a plain RuntimeError
            raise ModelMissingError(
                f"llama.cpp could not load {self.model_path}: {exc}. Delete it and run: make models"
            ) from exc
        self._url = str(self._server.listening_address).rstrip("/")
        return self._url

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        import httpx

        url = self.start()
        try:
            with httpx.Client(base_url=url, timeout=self.timeout) as client:
                prompt = self._prompt_tokens(client, request.messages)
                request.model_timings = ModelTimings(prompt_tokens=len(prompt))
                prefix: list[int] = []
                if request.refusal and request.refuse_at is not None:
                    gated = self._gated_prefix(client, prompt, request)
                    if gated is None:
                        yield request.refusal
                        return
                    prefix = gated
                if prefix:
                    yield self._post(client, "/detokenize", {"tokens": prefix})["content"]
                body = {
                    **self._sampling(request),
                    "prompt": prompt + prefix,
                    "n_predict": request.max_tokens - len(prefix),
                    "stream": True,
                }
                with client.stream("POST", "/completion", json=body) as response:
                    response.raise_for_status()
                    for line in response.iter_lines():
                        if not line.startswith("data: "):
                            continue
                        part = json.loads(line[len("data: ") :])
                        if part.get("content"):
                            yield part["content"]
                        if part.get("stop"):
                            self._count(request, part)
                            break
        except httpx.HTTPError as exc:
            raise GeneratorError(
                f"The local model's llama.cpp server at {url} failed: {exc}. Try ASSISTANT27_GENERATOR=extractive."
            ) from exc

    def _gated_prefix(self, client: Any, prompt: list[int], request: GenerationRequest) -> list[int] | None:
        """The first tokens the answer must start with as `RefusalGate` rules ([] when nothing is forced), or None
        when the model refuses. Greedy decoding repeats what it chose unforced, so only forced tokens are sent."""
        gate = RefusalGate(self._refusal_starts(client, request.refusal), float(request.refuse_at or 0.0))
        probabilities, greedy = self._next_token(client, prompt, request)
        first = gate.first_token(probabilities, greedy)
        request.refusal_probability = gate.probability
        if first not in gate.starts:
            return []
        probabilities, greedy = self._next_token(client, prompt + [first], request)
        ruled_out = gate.second_token(first, probabilities)
        request.refusal_probability = gate.probability
        if ruled_out is None:
            return None
        if greedy != ruled_out:
            return [first] if gate.forced else []
        _, other = self._next_token(client, prompt + [first], request, ban=ruled_out)
        return [first, other]

    def _next_token(
        self, client: Any, tokens: list[int], request: GenerationRequest, ban: int | None = None
    ) -> tuple[dict[int, float], int]:
        """The likeliest next tokens' probabilities (before sampling), and the token greedy decoding picks."""
        body = {
            **self._sampling(request),
            "prompt": tokens,
            "n_predict": 1,
            "n_probs": self.top_probabilities,
            "logit_bias": [[ban, False]] if ban is not None else [],
        }
        response = self._post(client, "/completion", body)
        self._count(request, response)
        step = response["completion_probabilities"][0]
        probs = {int(t["id"]): math.exp(float(t["logprob"])) for t in step["top_logprobs"]}
        return probs, int(step["id"])

    def _prompt_tokens(self, client: Any, messages: list[dict[str, str]]) -> list[int]:
        prompt = self._post(client, "/apply-template", {"messages": messages})["prompt"]
        return [int(t) for t in self._post(client, "/tokenize", {"content": prompt, "parse_special": True})["tokens"]]

    def _refusal_starts(self, client: Any, text: str) -> dict[int, int]:
        """The first token of `text` as an answer's start (with or without a leading space) -> its second token."""
        starts = {}
        for variant in (text, " " + text):
            tokens = self._post(client, "/tokenize", {"content": variant, "add_special": False})["tokens"]
            if len(tokens) >= 2:
                starts[int(tokens[0])] = int(tokens[1])
        return starts

    @staticmethod
    def _count(request: GenerationRequest, response: Mapping[str, Any]) -> None:
        """Add a /completion response's `timings` to the request's figures. The first response that evaluates the
        prompt says how much of it the server reused from the previous one (its prompt cache)."""
        stats, timings = request.model_timings, response.get("timings")
        if stats is None or not isinstance(timings, dict):
            return
        if not stats.prefill_tokens and not stats.generated_tokens:
            cached = timings.get("cache_n")
            if cached is None:  # servers before cache_n: what was not evaluated was reused
                cached = stats.prompt_tokens - int(timings.get("prompt_n") or 0)
            stats.cached_tokens = max(0, int(cached))
        stats.add(timings)

    @staticmethod
    def _sampling(request: GenerationRequest) -> dict[str, Any]:
        # Greedy: the same question gets the same answer, and evaluations repeat. The cached prompt makes the
        # gate's one-token probes and the answer's stream share one prefill.
        return {"temperature": 0.0, "repeat_penalty": 1.1, "cache_prompt": True}

    @staticmethod
    def _post(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


class RefusalGate:
    """How likely is the model to start its refusal? The decision over the first two generated tokens.

    The refusal sentence starts with words an answer may start with too ("Les publications ne répondent pas ..."
    and "Les collectivités ..." share "Les"), so the measure is over its first two tokens: P(first) at step 1,
    times P(second | first) at step 2, the second token being the one that follows the first the model chose.
    At step 1, a first-token probability at or above `refuse_at` makes the model start the refusal (the likeliest
    of its first tokens); below, the model's own choice stands, since the product cannot reach the threshold.
    At step 2, when the model started the refusal, a product at or above `refuse_at` refuses (the caller writes
    the refusal); below, the refusal's second token is ruled out at this step, so "Les ..." goes on as an answer.
    Probabilities are the model's before sampling; a token missing from the map counts as 0.
    """

    def __init__(self, starts: Mapping[int, int], refuse_at: float) -> None:
        self.starts = dict(starts)  # first token -> the second token of the refusal after it
        self.refuse_at = refuse_at
        self.probability: float | None = None  # P(first tokens), times P(second | first) once measured
        self.forced = False  # step 1 made the model start its refusal
        self.refused = False

    def first_token(self, probabilities: Mapping[int, float], chosen: int) -> int:
        """Step 1: the token the answer starts with, given the model's probabilities and its own choice."""
        self.probability = sum(probabilities.get(t, 0.0) for t in self.starts)
        self.forced = self.probability >= self.refuse_at
        return max(self.starts, key=lambda t: probabilities.get(t, 0.0)) if self.forced else chosen

    def second_token(self, first: int, probabilities: Mapping[int, float]) -> int | None:
        """Step 2, after a first token that starts the refusal: None to refuse, else the token ruled out."""
        second = self.starts[first]
        self.probability = (self.probability or 0.0) * probabilities.get(second, 0.0)
        self.refused = self.probability >= self.refuse_at
        return None if self.refused else second


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
# Characters of an enumeration read after the sentence that opens it (benchmarks/extractive_replay.py, evals/HISTORY.md
# 2026-12-07). Adding the next line when it, not the chosen sentence, holds the kind asked (`kind_next`) answered a
# few more items but let the check after answering pass answers to unanswerable questions: off.
READ_ON = 400
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
        read_on: int = READ_ON,
        read_on_trigger: str = "announce",
        kind_next: bool = False,
    ) -> None:
        self.max_sentences = max_sentences
        self.from_passages = from_passages
        self.context_passages = from_passages  # no prompt to pay for: it reads more passages than a model
        # The question's meaning against each candidate sentence (the embedder's; see `Assistant`): what the
        # question's words cannot tell, an English question against French sentences above all.
        self.similarity = similarity
        self.dense_weight = dense_weight
        self.kind_weight = kind_weight
        self.read_on = read_on
        self.read_on_trigger = read_on_trigger  # "colon": only a colon or a list item opens; "always": any sentence
        self.kind_next = kind_next

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        terms = set(analyze(request.question))
        years = {p.year for p in request.passages[: self.from_passages]}
        if len(years) == 1:  # one year's passages (a year of a comparison): its year tells no sentence apart
            terms.discard(str(years.pop()))
        candidates: list[tuple[float, int, int, int, str]] = []
        passage_lines: dict[int, list[str]] = {}
        for n, passage in enumerate(request.passages[: self.from_passages], start=1):
            lines = sentences_in(reflow(strip_urls(passage.text)))
            passage_lines[n] = lines
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
        taken = {(b[1], i) for b in best for i in range(b[2], b[3] + 1)}
        for i, (_score, n, _pos, last, sentence) in enumerate(best):
            text = sentence
            budget = self._read_on(sentence, passage_lines[n][last + 1 :], kind, request.question)
            for j in range(last + 1, len(passage_lines[n])):
                if (n, j) in taken or len(text) - len(sentence) >= budget:
                    break
                taken.add((n, j))
                text += " " + passage_lines[n][j]
            yield ("" if i == 0 else " ") + f"{text} [{n}]"

    def _read_on(self, sentence: str, following: list[str], kind: str | None, question: str) -> int:
        """How many characters of the lines after a chosen sentence complete it: the enumeration it opens (it ends
        with a colon, a list item follows, or it announces a number of things: « quatre axes », « 3 livrables »),
        or the next line when that one, not the sentence, holds the kind of thing asked (a name, a date...)."""
        if not self.read_on or not following:
            return 0
        trigger = self.read_on_trigger
        if trigger == "always" or sentence.rstrip().endswith(":") or _BULLET.match(following[0]):
            return self.read_on
        # « trois villes la soutiennent : Valcourt, Exempleville, Montagne. » holds its whole enumeration.
        complete = ":" in sentence and sentence.rstrip()[-1] in ".!…"
        if trigger == "announce" and _ANNOUNCED.search(sentence) and not complete:
            return self.read_on
        if (
            self.kind_next
            and kind is not None
            and not holds_kind(sentence, kind, question)
            and holds_kind(following[0], kind, question)
        ):
            return 1  # the next line, whatever its length
        return 0


_END = '.!?…»)"'
_BULLET = re.compile(r"^\s*(?:[-–•*▪◦·]|\d{1,2}[.)]\s)")
_ANNOUNCED = re.compile(
    r"(?<![\d.,])(?:[2-9]|1\d)\s+[a-zà-ÿ]{3,}s\b|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|two|three|four|five)"
    r"\s+(?:[a-zà-ÿ'’-]+\s+){0,2}?[a-zà-ÿ]{3,}[sx]\b",
    re.IGNORECASE,
)


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
