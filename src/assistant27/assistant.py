"""The facade every front end calls, and the one place that chooses backends from settings."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from assistant27.answering import ValidatedAnswer, retrieval_query, validate_citations
from assistant27.config import LLAMAINDEX_PREFIX, Settings
from assistant27.corpus import Corpus, CorpusView
from assistant27.embedding import E5Embedder, Embedder, HashingEmbedder, similarity_to
from assistant27.errors import QuestionError
from assistant27.generators import (
    ExtractiveGenerator,
    Generator,
    LlamaServerGenerator,
    OpenAICompatibleGenerator,
)
from assistant27.indexing import load_manifest
from assistant27.language import detect_language
from assistant27.programmes import Catalogue
from assistant27.refusal import decide, refused
from assistant27.retrieval import Retriever, with_parts
from assistant27.routes import Asked, Event, PassagesFound, Route, Token, Tools
from assistant27.routes import reads as generator_reads
from assistant27.routes.catalogue import CatalogueRoute, with_definition
from assistant27.routes.generation import GenerationRoute
from assistant27.routes.years import YearsRoute
from assistant27.schema import Answer, Chunk, Passage, Timings
from assistant27.store import ChunkStore, Filters

__all__ = ["Assistant", "Event", "PassagesFound", "Token", "make_embedder", "make_generator", "MAX_QUESTION_CHARS"]

MAX_QUESTION_CHARS = 2000


def make_embedder(settings: Settings) -> Embedder:
    """The embedder named by settings (e5 converted into the model cache at first use, or the hashing fake)."""
    if settings.embedder == "hashing":
        return HashingEmbedder()
    from assistant27.embedconvert import ensure_embedding_model

    return E5Embedder(ensure_embedding_model(settings.models_dir))


def make_generator(settings: Settings, name: str | None = None) -> Generator:
    """The generator named by `name` or settings, else the extractive one: on every held-out part of the evaluation
    suite it answers more questions right than the local model, with fewer false refusals, in an eighth of the time
    (README, "What it reaches now"); the local model is there for who asks for it (ASSISTANT27_GENERATOR=local)."""
    from assistant27.models import gguf_path

    name = name or settings.generator or "extractive"
    if name == "local":
        return LlamaServerGenerator(gguf_path(settings.models_dir))
    if name == "openai":
        return OpenAICompatibleGenerator(settings.openai_base_url, settings.openai_model, settings.openai_api_key)
    if name.startswith(LLAMAINDEX_PREFIX):  # llama-index is imported only when one of its LLMs is asked for
        from assistant27.llamaindex_parts import LlamaIndexGenerator, load_llm

        return LlamaIndexGenerator(load_llm(name[len(LLAMAINDEX_PREFIX) :], settings.llamaindex_kwargs))
    return ExtractiveGenerator()


class Assistant:
    """Retrieval, generation and citation checks behind `ask` and `search`."""

    def __init__(self, settings: Settings, store: ChunkStore, embedder: Embedder, generator: Generator) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.generator = generator
        self.corpus = Corpus.from_settings(store, settings)
        self.retriever = Retriever(
            store,
            embedder,
            corpus=self.corpus,
            candidates=settings.candidates,
            rrf_k=settings.rrf_k,
            fusion=settings.fusion,
            bm25_weight=settings.bm25_weight,
            bm25_weight_english=settings.bm25_weight_english,
            coverage_weight=settings.coverage_weight,
        )
        tools = Tools(
            settings,
            search=self._search,
            validate=self._validated,
            similarity=similarity_to(embedder),
            generator=generator,
            # A generator that quotes year parts (the local one: a generation a year is minutes) has them quoted.
            part_generator=ExtractiveGenerator() if generator.quotes_year_parts else generator,
        )
        # The first route that plans answers: the catalogue's own questions, then questions naming several years,
        # then everything else.
        self.routes: list[Route] = [CatalogueRoute(tools), YearsRoute(tools), GenerationRoute(tools)]

    @property
    def catalogue(self) -> Catalogue:
        """The programme catalogue of the corpus as committed now."""
        return self.corpus.current().catalogue

    @property
    def chunks_by_id(self) -> dict[str, Chunk]:
        """Every chunk of the corpus as committed now, by id: what catalogue answers cite."""
        return self.corpus.current().by_id

    def publications(self) -> dict[str, dict]:
        """The committed publications, per source: its content hash and its ingestion report (title, year, pages...)."""
        return load_manifest(self.settings.index_dir)

    @staticmethod
    def catalogue_of(settings: Settings) -> Catalogue:
        """The programme catalogue of the committed corpus, without loading any model (`assistant27 programmes`)."""
        return Corpus.from_settings(ChunkStore.open(settings.index_dir, settings.chroma_url), settings).current().catalogue

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, generator: Generator | str | None = None) -> Assistant:
        """Open the index and pick the backends that settings name. Raises IndexMissingError without an index."""
        settings = settings or Settings.from_env()
        store = ChunkStore.open(settings.index_dir, settings.chroma_url)
        gen = (
            generator
            if generator is not None and not isinstance(generator, str)
            else make_generator(settings, generator)
        )
        return cls(settings, store, make_embedder(settings), gen)

    def warm_up(self) -> None:
        """Load the models, BM25 and the catalogue now, so the first question does not wait for them."""
        self.embedder.embed_query("warm-up")
        view = self.corpus.current()
        _ = view.bm25, view.catalogue
        if isinstance(self.generator, LlamaServerGenerator):
            self.generator.start()

    def search(
        self, query: str, filters: Filters | None = None, top_k: int | None = None, mode: str = "fused"
    ) -> list[Passage]:
        """Ranked passages for a query; no generation."""
        query = _check_question(query)
        passages, _ = self.retriever.retrieve(query, top_k or self.settings.top_k, filters, mode)
        return passages

    def ask(self, question: str, history: list[dict[str, str]] | None = None, filters: Filters | None = None) -> Answer:
        """Answer with validated citations, or refuse; `history` is [{"role": "user"|"assistant", "content"}]."""
        answer = None
        for event in self.ask_stream(question, history, filters):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(
        self, question: str, history: list[dict[str, str]] | None = None, filters: Filters | None = None
    ) -> Iterator[Event]:
        """Yield the passages at once, then generated tokens, then the final checked Answer.

        Check the question, retrieve once, decide whether the passages can answer, then the first route that plans
        answers (each route checks its own answer: citations validated, refused when nothing holds)."""
        s = self.settings
        history = history or []
        question = _check_question(question)
        started = time.perf_counter()
        query = retrieval_query(question, history)
        view = self.corpus.current()  # one generation of the corpus for the whole answer
        passages, _ = self.retriever.retrieve(query, max(10, s.top_k), filters, view=view)
        language = detect_language(question)
        reads = generator_reads(self.generator, s)
        passages = with_parts(query, passages, reads, lambda part: self._search(part, filters, view))
        passages = with_definition(question, passages, reads, view)
        context = passages[:reads]
        decision = decide(
            query, passages, context, min_coverage=s.min_coverage, min_dense=s.min_dense, language=language
        )
        if decision.missing:  # "avec la Ville d'Exempleville": a name no passage holds; no route can answer
            retrieval_s = time.perf_counter() - started
            yield PassagesFound(passages, retrieval_s, query)
            timings = Timings(retrieval_s=round(retrieval_s, 4), total_s=round(retrieval_s, 4))
            yield refused(question, passages, timings, language, decision, self.generator.name)
            return
        asked = Asked(question, query, history, language, filters, view, passages, context, decision, started)
        route, plan = next((r, p) for r in self.routes if (p := r.plan(asked)) is not None)
        retrieval_s = time.perf_counter() - started
        yield PassagesFound(plan.passages, retrieval_s, query)
        for event in plan.answer(Timings(retrieval_s=round(retrieval_s, 4))):
            if isinstance(event, Answer):
                event.route = route.name
            yield event

    def _search(self, query: str, filters: Filters | None, view: CorpusView) -> list[Passage]:
        return self.retriever.retrieve(query, max(10, self.settings.top_k), filters, view=view)[0]

    def _validated(self, raw: str, context: list[Passage], language: str) -> ValidatedAnswer:
        """Generated text with only the citations its passages support (see `validate_citations`)."""
        vectors = self.store.embeddings_for([p.chunk_id for p in context])
        return validate_citations(
            raw,
            context,
            self.embedder.embed_queries,
            _stack([vectors.get(p.chunk_id) for p in context]),
            drop_unsupported=language == "fr",
        )


def _stack(vectors: list[np.ndarray | None]) -> np.ndarray | None:
    present = [v for v in vectors if v is not None]
    if not vectors or len(present) < len(vectors):
        return None
    return np.stack(present)


def _check_question(question: str) -> str:
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question or "").strip()
    if not cleaned:
        raise QuestionError(
            'The question is empty. Type a question, e.g. assistant27 ask "Quels programmes les publications présentent-elles ?"'
        )
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is too long ({len(cleaned)} characters, at most {MAX_QUESTION_CHARS}). Shorten it."
        )
    return cleaned
