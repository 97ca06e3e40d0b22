"""One contract for every generator: streams text for a request, answers from the passages given."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from assistant27.answering import MODEL_REFUSAL, build_messages
from assistant27.config import Settings
from assistant27.errors import GeneratorError
from assistant27.generators import (
    ExtractiveGenerator,
    GenerationRequest,
    Generator,
    LlamaCppGenerator,
    OpenAICompatibleGenerator,
    RefusalGate,
    ScriptedGenerator,
)
from assistant27.models import gguf_path, local_model_available
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


def _local() -> Generator:
    models_dir = Settings.from_env().models_dir
    if not local_model_available(models_dir):
        pytest.fail(f"The local model is not in {models_dir}. Run: make models")
    return LlamaCppGenerator(gguf_path(models_dir))


@pytest.mark.parametrize("kind", ["extractive", "scripted", "openai", pytest.param("local", marks=pytest.mark.slow)])
def test_generator_contract(kind: str, openai_server: str) -> None:
    generator: Generator = {
        "extractive": lambda: ExtractiveGenerator(),
        "scripted": lambda: ScriptedGenerator(["La Communauté urbaine de Dunkerque [1]."]),
        "openai": lambda: OpenAICompatibleGenerator(openai_server, "scripted-model"),
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
        LlamaCppGenerator(tmp_path / "none.gguf")


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


PROMPT = np.array([7, 8, 9])  # the prompt's tokens; the gate reads the chosen token at the end of input_ids


def _logits(*probabilities: float) -> np.ndarray:
    return np.log(np.array(probabilities, dtype=np.float32))


def test_refusal_gate_lets_an_answer_start_like_the_refusal() -> None:
    """Token 1 starts both the refusal (then 2) and answers: a likely first token alone does not refuse."""
    gate = RefusalGate({1: 2}, refuse_at=0.5, eos=4)
    first = gate(PROMPT, _logits(0.3, 0.6, 0.05, 0.05, 1e-9))
    assert gate.probability is not None and abs(gate.probability - 0.6) < 1e-6 and not gate.decided
    assert np.isinf(first[[0, 2, 3, 4]]).all() and first[1] == np.log(np.float32(0.6))  # the refusal is started
    second_logits = _logits(0.5, 0.1, 0.3, 0.1, 1e-9)  # P(2 | 1) = 0.3: 0.6 x 0.3 = 0.18
    second = gate(np.append(PROMPT, 1), second_logits.copy())
    assert gate.decided and not gate.refused and abs(gate.probability - 0.18) < 1e-6
    assert second[2] == -np.inf and np.array_equal(np.delete(second, 2), np.delete(second_logits, 2))
    assert np.array_equal(gate(np.append(PROMPT, [1, 0]), second_logits.copy()), second_logits)


def test_refusal_gate_stops_a_confident_refusal() -> None:
    gate = RefusalGate({1: 2}, refuse_at=0.5, eos=4)
    gate(PROMPT, _logits(0.2, 0.7, 0.05, 0.05, 1e-9))
    second = gate(np.append(PROMPT, 1), _logits(0.05, 0.05, 0.8, 0.1, 1e-9))  # 0.7 x 0.8 = 0.56
    assert gate.refused and abs(gate.probability - 0.56) < 1e-6
    assert int(np.argmax(second)) == 4 and np.isinf(second[:4]).all()


def test_refusal_gate_leaves_other_answers_alone() -> None:
    """Below the threshold at the first token nothing is forced; a model that starts elsewhere is not refusing."""
    gate = RefusalGate({1: 2, 3: 2}, refuse_at=0.5, eos=4)  # two spellings of the first token
    logits = _logits(0.5, 0.2, 0.05, 0.25, 1e-9)
    assert np.array_equal(gate(PROMPT, logits.copy()), logits)
    assert abs(gate.probability - 0.45) < 1e-6
    assert np.array_equal(gate(np.append(PROMPT, 0), logits.copy()), logits)
    assert gate.decided and not gate.refused and abs(gate.probability - 0.45) < 1e-6


def test_refusal_gate_rules_out_the_second_token_below_the_threshold() -> None:
    """A first token chosen below the threshold goes on as an answer: the refusal's second token is forbidden."""
    gate = RefusalGate({1: 2}, refuse_at=0.5, eos=4)
    gate(PROMPT, _logits(0.3, 0.4, 0.1, 0.2, 1e-9))
    second = gate(np.append(PROMPT, 1), _logits(0.01, 0.01, 0.97, 0.01, 1e-9))  # 0.4 x 0.97 < 0.5
    assert not gate.refused and second[2] == -np.inf and int(np.argmax(second)) != 2


@pytest.mark.slow
@pytest.mark.parametrize("refuse_at", [0.0, 1.0])
def test_local_model_measures_its_refusal(refuse_at: float) -> None:
    """refuse_at 0 always refuses (with the refusal sentence), 1 never does; both measure the probability."""
    req = request()
    req.refusal, req.refuse_at = MODEL_REFUSAL["fr"], refuse_at
    text = "".join(_local().generate(req))
    assert req.refusal_probability is not None and 0.0 <= req.refusal_probability <= 1.0
    assert (text == req.refusal) == (refuse_at == 0.0)
