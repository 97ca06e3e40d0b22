"""assistant27's parts as llama-index parts, and llama-index's LLMs as assistant27 generators.

- `AssistantRetriever`: our hybrid French retriever as a llama-index `BaseRetriever` (nodes carry the
  passage's title, year, page, section, chunk id and source; scores kept).
- `GeneratorLLM`: any of our generators as a llama-index `CustomLLM` (complete, stream_complete).
- `LlamaIndexGenerator`: any llama-index LLM as our `Generator`; `load_llm` builds one named in settings
  (`ASSISTANT27_GENERATOR=llamaindex:llama_index.llms.ollama.Ollama`, kwargs in `ASSISTANT27_LLAMAINDEX_KWARGS`).

llama-index is imported here only, so a version change touches this file.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import LLM, CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import PrivateAttr

from assistant27.config import LLAMAINDEX_PREFIX
from assistant27.errors import ConfigError, GeneratorError
from assistant27.generators import GenerationRequest, Generator
from assistant27.retrieval import Retriever
from assistant27.schema import Passage
from assistant27.store import Filters

# What a node's metadata holds, and what of it a language model is shown with the text: the passage's place
# (title, year, page, section) helps it cite; ids and scores are noise in a prompt and in an embedding.
_HIDDEN_FROM_MODELS = ["chunk_id", "source", "kind", "rank", "score_dense", "score_bm25"]


def passage_node(passage: Passage) -> NodeWithScore:
    """A passage as a llama-index node: its text, our metadata, its fused score."""
    metadata: dict[str, Any] = {
        "title": passage.title,
        "year": passage.year,
        "page": passage.page,
        "section": passage.heading,
        "chunk_id": passage.chunk_id,
        "source": passage.source,
        "kind": passage.kind,
        "rank": passage.rank,
        **{f"score_{name}": float(value) for name, value in passage.scores.items()},
    }
    node = TextNode(
        id_=passage.chunk_id,
        text=passage.text,
        metadata=metadata,
        excluded_llm_metadata_keys=list(_HIDDEN_FROM_MODELS),
        excluded_embed_metadata_keys=list(_HIDDEN_FROM_MODELS),
    )
    return NodeWithScore(node=node, score=passage.score)


class AssistantRetriever(BaseRetriever):
    """Our retriever (dense e5 + French BM25, fused) for any llama-index query engine or pipeline."""

    def __init__(self, retriever: Retriever, top_k: int = 10, filters: Filters | None = None) -> None:
        super().__init__()
        self.retriever = retriever
        self.top_k = top_k
        self.filters = filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages, _ = self.retriever.retrieve(query_bundle.query_str, self.top_k, self.filters)
        return [passage_node(p) for p in passages]


# llama-index's citation prompts (CitationQueryEngine) number their sources "Source 1:", "Source 2:"... and end
# with "Query: <question>"; their own example comes first, with a "Source 1:" of its own.
_SOURCE = re.compile(r"^Source (\d+):[ \t]*\n", re.MULTILINE)
_QUESTION = re.compile(r"^(?:Query|Question)\s*:\s*(.+)$", re.MULTILINE)
_RULE = re.compile(r"\n-{3,}\s*$")


def request_from_prompt(prompt: str, max_tokens: int = 256) -> GenerationRequest:
    """A generation request from a plain prompt: the prompt as the user's message for a language model; for a
    generator that reads passages (the extractive one), the prompt's numbered sources and its last question."""
    questions = list(_QUESTION.finditer(prompt))
    question = questions[-1].group(1).strip() if questions else prompt.strip()
    before = prompt[: questions[-1].start()] if questions else prompt
    starts = list(_SOURCE.finditer(before))
    firsts = [i for i, m in enumerate(starts) if m.group(1) == "1"]
    passages = []
    if firsts:
        run = starts[firsts[-1] :]
        for m, following in zip(run, [*run[1:], None]):
            text = _RULE.sub("", before[m.end() : following.start() if following else len(before)]).strip()
            n = int(m.group(1))
            passages.append(_prompt_passage(n, text))
    elif questions:
        passages.append(_prompt_passage(1, before.strip()))
    return GenerationRequest(
        question=question,
        passages=passages,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens,
    )


def _prompt_passage(n: int, text: str) -> Passage:
    return Passage(
        rank=n, chunk_id=f"source-{n}", source="", title="", year=None, kind="", page=None, heading="", text=text,
        score=0.0,
    )  # fmt: skip


class GeneratorLLM(CustomLLM):
    """One of our generators as a llama-index LLM (a completion model: llama-index turns chats into prompts)."""

    max_tokens: int = 256
    _generator: Any = PrivateAttr()

    def __init__(self, generator: Generator, max_tokens: int = 256, **kwargs: Any) -> None:
        super().__init__(max_tokens=max_tokens, **kwargs)
        self._generator = generator

    @classmethod
    def class_name(cls) -> str:
        return "assistant27.GeneratorLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(num_output=self.max_tokens, model_name=self._generator.name, is_chat_model=False)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="".join(self._generator.generate(request_from_prompt(prompt, self.max_tokens))))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        def pieces() -> CompletionResponseGen:
            text = ""
            for piece in self._generator.generate(request_from_prompt(prompt, self.max_tokens)):
                text += piece
                yield CompletionResponse(text=text, delta=piece)

        return pieces()


class LlamaIndexGenerator:
    """Any llama-index LLM (Ollama, vLLM, Mistral, ... once its package is installed) as our generator, streamed."""

    name = "llamaindex"
    context_passages: int | None = None
    quotes_year_parts = False

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        messages = [ChatMessage(role=m["role"], content=m["content"]) for m in request.messages]
        try:
            for part in self.llm.stream_chat(messages):
                if part.delta:
                    yield part.delta
        except Exception as exc:  # each integration raises its own errors (HTTP, SDK, validation)
            raise GeneratorError(
                f"The llama-index LLM {type(self.llm).__name__} failed: {exc}. "
                "Check that its model or server is available, or set ASSISTANT27_GENERATOR=extractive."
            ) from exc


def load_llm(class_path: str, kwargs_json: str = "") -> LLM:
    """The llama-index LLM class named `module.Class`, built with the keyword arguments given as a JSON object."""
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name:
        raise ConfigError(
            f"{LLAMAINDEX_PREFIX}{class_path}: name the class with its module, "
            f"e.g. ASSISTANT27_GENERATOR={LLAMAINDEX_PREFIX}llama_index.llms.ollama.Ollama"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        package = module_name.replace("_", "-").replace(".", "-")
        raise ConfigError(
            f"The module {module_name} is not installed ({exc}). Install its package, e.g.: pip install {package}"
        ) from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, LLM)):
        raise ConfigError(f"{class_path} is not a llama-index LLM class. Name one, e.g. llama_index.llms.ollama.Ollama")
    try:
        kwargs = json.loads(kwargs_json or "{}")
    except ValueError as exc:
        raise ConfigError(
            f"ASSISTANT27_LLAMAINDEX_KWARGS is not JSON ({exc}). Write an object, e.g. " + _EXAMPLE
        ) from exc
    if not isinstance(kwargs, dict):
        raise ConfigError("ASSISTANT27_LLAMAINDEX_KWARGS must be a JSON object, e.g. " + _EXAMPLE)
    try:
        llm: LLM = cls(**kwargs)
    except (TypeError, ValueError) as exc:  # unknown or invalid arguments (pydantic's ValidationError included)
        raise ConfigError(
            f"{class_path} does not take these arguments: {exc}. Fix ASSISTANT27_LLAMAINDEX_KWARGS."
        ) from exc
    return llm


_EXAMPLE = """'{"model": "qwen2.5:1.5b", "request_timeout": 120}'"""
