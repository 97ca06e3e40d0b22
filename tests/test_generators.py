"""One contract for every generator: streams text for a request, answers from the passages given."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant27.answering import build_messages
from assistant27.config import Settings
from assistant27.errors import GeneratorError
from assistant27.generators import (
    ExtractiveGenerator,
    GenerationRequest,
    Generator,
    LlamaServerGenerator,
    OpenAICompatibleGenerator,
    RefusalGate,
    ScriptedGenerator,
)
from assistant27.models import gguf_path, local_model_available
from assistant27.refusal import MODEL_REFUSAL
from assistant27.schema import Passage

QUESTION = "Quelles collectivités ont participé à Nouveaux Accords ?"  # what the generators are given
# Through `ask`, a list question is answered from the programme catalogue; this one goes to the generator.
ASK_QUESTION = "Qui a participé à Nouveaux Accords ?"
PASSAGES = [
    Passage(
        1,
        "a",
        "r.txt",
        "Rapport 2022",
        2022,
        "rapport",
        None,
        "",
        "Nouveaux Accords est mené avec l’ANCT, Aix-Marseille Provence Métropole, la Ville de "
        "Vitry-le-François et la Communauté urbaine de Dunkerque. Le programme a duré un an.",
        1.0,
    ),
    Passage(
        2,
        "b",
        "r.txt",
        "Rapport 2022",
        2022,
        "rapport",
        None,
        "",
        "La Transfo accompagne les Régions qui créent un laboratoire d'innovation publique.",
        0.5,
    ),
]


def request() -> GenerationRequest:
    """The question with its passages, the prompt, and the refusal as `ask` gives them (the local model's gate)."""
    messages = build_messages(QUESTION, PASSAGES, [], "fr", Settings().context_chars)
    return GenerationRequest(
        QUESTION, PASSAGES, messages, "fr", 80, refusal=MODEL_REFUSAL["fr"], refuse_at=Settings().refuse_at
    )


class FakeOpenAIServer(BaseHTTPRequestHandler):
    """A scripted OpenAI-compatible server on loopback, streaming chat completions as SSE."""

    reply = "La Communauté urbaine de Dunkerque a participé [1]."

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert body["stream"] is True and body["messages"][-1]["role"] == "user"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in self.reply.split(" "):
            chunk = {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def openai_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAIServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


class FakeLlamaServer(BaseHTTPRequestHandler):
    """A scripted llama.cpp server on loopback: words are tokens; the first two steps' probabilities are set by the
    test, and greedy decoding writes `reply` (the forced or chosen first words, then the rest of `reply`)."""

    url = ""
    reply = "La Communauté urbaine de Dunkerque [1]."
    first: dict[str, float] = {"La": 0.9, "Les": 0.1}
    second: dict[str, float] = {"Communauté": 0.6, "publications": 0.4}
    vocabulary: list[str] = []
    prompt_length = 0
    slot = 0  # the tokens of the last prompt, held for the next one
    requests: list[tuple[str, dict]] = []  # type: ignore[type-arg]

    @classmethod
    def ids(cls, text: str) -> list[int]:
        for word in text.split():
            if word not in cls.vocabulary:
                cls.vocabulary.append(word)
        return [cls.vocabulary.index(word) for word in text.split()]

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append((self.path, body))
        cls = type(self)
        if self.path == "/apply-template":
            return self._send({"prompt": " ".join(m["content"] for m in body["messages"]) + " ASSISTANT"})
        if self.path == "/tokenize":
            tokens = cls.ids(body["content"])
            if body.get("parse_special"):
                cls.prompt_length = len(tokens)
            return self._send({"tokens": tokens})
        if self.path == "/detokenize":
            return self._send({"content": " ".join(cls.vocabulary[t] for t in body["tokens"])})
        assert self.path == "/completion" and body["temperature"] == 0.0 and body["cache_prompt"] is True
        step = len(body["prompt"]) - cls.prompt_length
        # As llama.cpp's server: the tokens it evaluated are those past what its one slot holds from before.
        cached = min(cls.slot, len(body["prompt"]) - 1)
        cls.slot = len(body["prompt"])
        timings = {
            "cache_n": cached,
            "prompt_n": len(body["prompt"]) - cached,
            "prompt_ms": 10.0 * (len(body["prompt"]) - cached),
        }
        if not body.get("stream"):
            probabilities = dict([cls.first, cls.second][step])
            for banned, _ in body.get("logit_bias", []):
                probabilities.pop(cls.vocabulary[banned], None)
            chosen = max(probabilities, key=lambda w: probabilities[w])
            top = [{"id": cls.ids(w)[0], "logprob": math.log(p)} for w, p in probabilities.items()]
            return self._send(
                {
                    "content": chosen,
                    "completion_probabilities": [{"id": cls.ids(chosen)[0], "top_logprobs": top}],
                    "timings": {**timings, "predicted_n": 1, "predicted_ms": 50.0},
                }
            )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        words = self.reply.split(" ")[step:]
        if step == 0:  # greedy decoding starts as the probabilities say, then writes the reply
            words[0] = max(cls.first, key=lambda w: cls.first[w])
        for i, word in enumerate(words):
            part: dict[str, object] = {
                "content": ("" if i == 0 and step == 0 else " ") + word,
                "stop": i == len(words) - 1,
            }
            if part["stop"]:
                part["timings"] = {**timings, "predicted_n": len(words), "predicted_ms": 50.0 * len(words)}
            self.wfile.write(f"data: {json.dumps(part)}\n\n".encode())

    def _send(self, payload: dict) -> None:  # type: ignore[type-arg]
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def llama_server() -> Iterator[type[FakeLlamaServer]]:
    """A fresh scripted llama.cpp server class (its script and the requests it got), serving on loopback."""
    script = type("Script", (FakeLlamaServer,), {"vocabulary": [], "requests": [], "slot": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), script)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield script
    server.shutdown()


def _local() -> Generator:
    models_dir = Settings.from_env().models_dir
    if not local_model_available(models_dir):
        pytest.fail(f"The local model is not in {models_dir}. Run: make models")
    return LlamaServerGenerator(gguf_path(models_dir))


def _llamaindex() -> Generator:
    """A llama-index LLM as our generator: llama-index's MockLLM, which streams the prompt back (passages included)."""
    from llama_index.core.llms import MockLLM

    from assistant27.llamaindex_parts import LlamaIndexGenerator

    return LlamaIndexGenerator(MockLLM())


@pytest.mark.parametrize(
    "kind",
    ["extractive", "scripted", "openai", "llama-server", "llamaindex", pytest.param("local", marks=pytest.mark.slow)],
)
def test_generator_contract(kind: str, openai_server: str, llama_server: type[FakeLlamaServer]) -> None:
    generator: Generator = {
        "extractive": lambda: ExtractiveGenerator(),
        "scripted": lambda: ScriptedGenerator(["La Communauté urbaine de Dunkerque [1]."]),
        "openai": lambda: OpenAICompatibleGenerator(openai_server, "scripted-model"),
        "llama-server": lambda: LlamaServerGenerator(url=llama_server.url),
        "llamaindex": _llamaindex,
        "local": _local,
    }[kind]()
    pieces = list(generator.generate(request()))
    assert len(pieces) >= 2, "generators stream their answer in pieces"
    text = "".join(pieces)
    assert "Dunkerque" in text
    assert isinstance(generator.name, str) and generator.name


def test_openai_generator_needs_its_settings_and_reports_a_dead_server() -> None:
    with pytest.raises(GeneratorError, match="ASSISTANT27_OPENAI_BASE_URL"):
        OpenAICompatibleGenerator("", "")
    dead = OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "m", timeout=2)
    with pytest.raises(GeneratorError, match="127.0.0.1:9"):
        list(dead.generate(request()))


def test_missing_local_model_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="make run"):
        LlamaServerGenerator(tmp_path / "none.gguf")


def test_a_full_answer_through_an_openai_compatible_server(settings: Settings, openai_server: str) -> None:
    """The whole ask path (retrieval, prompt, streamed generation, citation checks) over HTTP on loopback."""
    from conftest import CountingEmbedder

    from assistant27.assistant import Assistant
    from assistant27.indexing import ingest
    from assistant27.store import ChunkStore

    store = ChunkStore.open(settings.index_dir, create=True)
    embedder = CountingEmbedder()
    ingest(settings, lambda: embedder, store, echo=lambda _line: None, show_progress=False)
    generator = OpenAICompatibleGenerator(openai_server, "scripted-model")
    answer = Assistant(settings.replace(min_dense=0.2), store, embedder, generator).ask(ASK_QUESTION)
    assert answer.generator == "openai" and not answer.refused
    assert "Dunkerque" in answer.answer and answer.timings.first_token_s is not None
    assert answer.citations and "Dunkerque" in answer.citations[0].passage.text


def test_refusal_gate_lets_an_answer_start_like_the_refusal() -> None:
    """Token 1 starts both the refusal (then 2) and answers: a likely first token alone does not refuse."""
    gate = RefusalGate({1: 2}, refuse_at=0.5)
    assert gate.first_token({0: 0.3, 1: 0.6, 2: 0.05, 3: 0.05}, chosen=1) == 1 and gate.forced
    assert gate.probability is not None and abs(gate.probability - 0.6) < 1e-9
    assert gate.second_token(1, {0: 0.5, 1: 0.1, 2: 0.3, 3: 0.1}) == 2  # 0.6 x 0.3 = 0.18: 2 is ruled out
    assert not gate.refused and abs(gate.probability - 0.18) < 1e-9


def test_refusal_gate_forces_the_refusal_start_and_stops_a_confident_refusal() -> None:
    gate = RefusalGate({1: 2, 3: 2}, refuse_at=0.5)
    assert gate.first_token({0: 0.3, 1: 0.25, 3: 0.45}, chosen=0) == 3  # 0.7 >= 0.5: the likeliest start
    assert gate.second_token(3, {2: 0.8}) is None and gate.refused and abs(gate.probability - 0.56) < 1e-9


def test_refusal_gate_leaves_other_answers_alone() -> None:
    """Below the threshold at the first token nothing is forced; a token missing from the map counts as 0."""
    gate = RefusalGate({1: 2, 3: 2}, refuse_at=0.5)
    assert gate.first_token({0: 0.5, 1: 0.2, 2: 0.05}, chosen=0) == 0
    assert not gate.forced and abs(gate.probability - 0.2) < 1e-9 and not gate.refused


def test_the_local_generator_refuses_confidently_without_generating(llama_server: type[FakeLlamaServer]) -> None:
    llama_server.first, llama_server.second = {"Les": 0.8, "La": 0.2}, {"publications": 0.9, "collectivités": 0.1}
    req = request()
    assert list(LlamaServerGenerator(url=llama_server.url).generate(req)) == [req.refusal]
    assert req.refusal_probability is not None and abs(req.refusal_probability - 0.72) < 1e-6
    assert not any(body.get("stream") for _, body in llama_server.requests)


def test_the_local_generator_rules_out_the_refusal_below_the_threshold(llama_server: type[FakeLlamaServer]) -> None:
    """« Les » then « publications » is the model's greedy choice, but 0.6 x 0.6 < 0.5: the refusal's second token
    is banned for that one step, and the answer goes on from the two tokens chosen."""
    llama_server.reply = "Les collectivités de Dunkerque [1]."
    llama_server.first, llama_server.second = {"Les": 0.6, "La": 0.4}, {"publications": 0.6, "collectivités": 0.4}
    req = request()
    text = "".join(LlamaServerGenerator(url=llama_server.url).generate(req))
    assert text == "Les collectivités de Dunkerque [1]."
    assert req.refusal_probability is not None and abs(req.refusal_probability - 0.36) < 1e-6
    banned = [body["logit_bias"] for _, body in llama_server.requests if body.get("logit_bias")]
    assert banned == [[[llama_server.ids("publications")[0], False]]]
    stream = [body for _, body in llama_server.requests if body.get("stream")]
    assert len(stream) == 1 and len(stream[0]["prompt"]) == llama_server.prompt_length + 2


def test_the_local_generator_reports_the_servers_own_timings(llama_server: type[FakeLlamaServer]) -> None:
    """Prompt tokens, what the prompt cache reused, prefill and decoding speed: summed over the gate's probes and
    the stream, from llama.cpp's `timings`; a second question reuses the slot's common prefix."""
    generator = LlamaServerGenerator(url=llama_server.url)
    first = request()
    "".join(generator.generate(first))
    stats = first.model_timings
    assert stats is not None and stats.prompt_tokens == llama_server.prompt_length
    # The prompt, then its last token again for the stream (the cache holds all but the last token).
    assert stats.cached_tokens == 0 and stats.prefill_tokens == stats.prompt_tokens + 1
    assert stats.prefill_tokens_per_s == 100.0 and stats.generation_tokens_per_s == 20.0
    second = request()
    "".join(generator.generate(second))
    assert second.model_timings is not None and second.model_timings.cached_tokens > 0


def test_the_local_generator_reports_a_dead_server() -> None:
    with pytest.raises(GeneratorError, match="ASSISTANT27_GENERATOR=extractive"):
        list(LlamaServerGenerator(url="http://127.0.0.1:9", timeout=2).generate(request()))


@pytest.mark.slow
@pytest.mark.parametrize("refuse_at", [0.0, 1.0])
def test_local_model_measures_its_refusal(refuse_at: float) -> None:
    """refuse_at 0 always refuses (with the refusal sentence), 1 never does; both measure the probability."""
    req = request()
    req.refusal, req.refuse_at = MODEL_REFUSAL["fr"], refuse_at
    text = "".join(_local().generate(req))
    assert req.refusal_probability is not None and 0.0 <= req.refusal_probability <= 1.0
    assert (text == req.refusal) == (refuse_at == 0.0)


def test_the_local_models_figures_reach_ask_json_and_the_evaluation(
    settings: Settings, llama_server: type[FakeLlamaServer]
) -> None:
    """The server's timings go into the answer's `timings.model` (ask --json) and the evaluation's summary."""
    from conftest import CountingEmbedder

    from assistant27.assistant import Assistant
    from assistant27.evaluation import summarise
    from assistant27.indexing import ingest
    from assistant27.store import ChunkStore

    store = ChunkStore.open(settings.index_dir, create=True)
    embedder = CountingEmbedder()
    ingest(settings, lambda: embedder, store, echo=lambda _line: None, show_progress=False)
    generator = LlamaServerGenerator(url=llama_server.url)
    answer = Assistant(settings.replace(min_dense=0.2), store, embedder, generator).ask(ASK_QUESTION).to_json()
    model = answer["timings"]["model"]
    assert model["prompt_tokens"] == llama_server.prompt_length and model["prefill_tokens_per_s"] == 100.0
    summary = summarise([], [answer])
    assert summary["prefill_tokens_per_s"] == {"p50": 100.0, "p95": 100.0, "n": 1}
    assert summary["prompt_tokens"]["p50"] == llama_server.prompt_length
