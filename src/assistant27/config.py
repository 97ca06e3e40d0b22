"""One frozen settings object: defaults, then ASSISTANT27_* environment variables, then flags."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

GENERATORS = ("local", "openai", "extractive")
LLAMAINDEX_PREFIX = "llamaindex:"  # then a llama-index LLM class: llamaindex:llama_index.llms.ollama.Ollama


def _names_a_class(generator: str) -> bool:
    return generator.startswith(LLAMAINDEX_PREFIX) and "." in generator[len(LLAMAINDEX_PREFIX) :]


# Environment variable -> (settings field, help). `assistant27 --help` prints this table.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "ASSISTANT27_CORPUS_DIR": ("corpus_dir", "publications to ingest (default: corpus)"),
    "ASSISTANT27_INDEX_DIR": ("index_dir", "vector store and BM25 index (default: index)"),
    "ASSISTANT27_DATA_DIR": ("data_dir", "conversations and feedback (default: data)"),
    "ASSISTANT27_MODELS_DIR": ("models_dir", "model cache (default: ~/.cache/assistant27)"),
    "ASSISTANT27_GENERATOR": ("generator", "extractive, local, openai or llamaindex:MODULE.CLASS, any llama-index LLM (default: extractive, the best measured on the held-out sets)"),
    "ASSISTANT27_LLAMAINDEX_KWARGS": ("llamaindex_kwargs", 'that llama-index LLM\'s arguments, a JSON object, e.g. {"model": "qwen2.5:1.5b"}'),
    "ASSISTANT27_OPENAI_BASE_URL": ("openai_base_url", "OpenAI-compatible server, e.g. http://localhost:8000/v1"),
    "ASSISTANT27_OPENAI_MODEL": ("openai_model", "model name on that server"),
    "ASSISTANT27_OPENAI_API_KEY": ("openai_api_key", "API key for that server (never logged)"),
    "ASSISTANT27_CHROMA_URL": ("chroma_url", "Chroma server URL (server mode; default: local folder)"),
    "ASSISTANT27_EMBEDDER": ("embedder", "e5 (default) or hashing (tests only)"),
    "ASSISTANT27_PEERS_DIR": ("peers_dir", "indexes of the peer pipelines of `eval --peer` (default: INDEX_DIR/peers)"),
    "ASSISTANT27_WEB_TOKEN": ("web_token", "shared access token of the web app; required off loopback (never logged)"),
}


def default_models_dir() -> Path:
    """Where converted and joined model files live, outside git."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "assistant27"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, in one place."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    data_dir: Path = Path("data")
    models_dir: Path = field(default_factory=default_models_dir)
    generator: str = ""  # empty: extractive (assistant.make_generator says why)
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: str = field(default="", repr=False)
    llamaindex_kwargs: str = field(default="", repr=False)  # JSON; it may hold an API key
    chroma_url: str = ""
    web_token: str = field(default="", repr=False)
    embedder: str = "e5"
    peers_dir: str = ""  # empty: index_dir/peers (see `peers_path`)
    # Retrieval
    top_k: int = 10  # passages returned by ask/search (the JSON contract promises at least 10)
    candidates: int = 40  # per retriever, before fusion
    rrf_k: int = 60
    fusion: str = "convex"  # or "rrf"; see benchmarks/retrieval_variants.py for the measurements
    bm25_weight: float = 0.7
    bm25_weight_english: float = 0.4  # English questions lean on the (multilingual) dense side
    coverage_weight: float = 0.5  # bonus: the share of the question's terms a passage holds
    bm25_k1: float = 0.9  # measured in benchmarks/README.md (dev / held-out halves)
    bm25_b: float = 0.2
    # Answering
    # Passages given to a language model: 4 x 500 characters (a prompt of about 700-800 tokens): fewer or shorter
    # passages left the answer's words out of the prompt more often (evals/HISTORY.md, "prompt budget").
    context_passages: int = 4
    context_chars: int = 500  # characters kept per passage in the prompt
    max_answer_tokens: int = 256
    # The local model refuses when the probability that it starts its refusal sentence is at least this
    # (generators.RefusalGate); below, it must answer. Calibration: evals/HISTORY.md, 2026-11-23.
    refuse_at: float = 0.5
    # Refusal before generation (see answering.assess; calibrated on evals/, see README)
    min_coverage: float = 0.5
    min_dense: float = 0.86
    # Chunking (in words; about 1.4 tokens per French word for e5/XLM-R)
    chunk_words: int = 170
    chunk_overlap_words: int = 30
    # Web app memory: sessions whose Gradio state is kept (the least recently used beyond it are dropped; a
    # dropped tab finds its conversation again on reload), and conversations whose Markdown export is kept
    web_sessions: int = 500
    memory_trim_s: float = 60.0  # at most this often, the app hands freed memory back to the system (0: never)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then environment variables, then explicit overrides (flags) that are not None."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        path_fields = {f.name for f in dataclasses.fields(cls) if f.type in ("Path", Path)}
        for var, (name, _help) in ENVIRONMENT.items():
            raw = env.get(var)
            if raw:
                values[name] = Path(raw).expanduser() if name in path_fields else raw
        for name, value in overrides.items():
            if value is not None:
                values[name] = Path(str(value)).expanduser() if name in path_fields else value
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.generator and settings.generator not in GENERATORS and not _names_a_class(settings.generator):
            from assistant27.errors import ConfigError

            raise ConfigError(
                f"Unknown generator {settings.generator!r}. "
                f"Set ASSISTANT27_GENERATOR to one of: {', '.join(GENERATORS)}, "
                f"or {LLAMAINDEX_PREFIX}MODULE.CLASS (a llama-index LLM)."
            )
        return settings

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def peers_path(self) -> Path:
        """Where `eval --peer` caches each peer pipeline's index, by the corpus's content."""
        return Path(self.peers_dir).expanduser() if self.peers_dir else self.index_dir / "peers"

    @property
    def catalogue_path(self) -> Path:
        return self.corpus_dir / "catalogue.csv"
