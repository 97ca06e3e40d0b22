"""The facade every front end calls, and the one place that chooses backends from settings."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from assistant27.answering import ValidatedAnswer, request_for, retrieval_query, validate_citations
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
from assistant27.kinds import holds_kind
from assistant27.language import detect_language
from assistant27.programme_answers import CatalogueAnswer, defining_mention, recognise
from assistant27.programme_answers import answer as catalogue_answer
from assistant27.programmes import Catalogue
from assistant27.prompt_echo import strip_prompt_echo
from assistant27.refusal import (
    UNVERIFIED,
    Decision,
    after_answer,
    assess,
    best_support,
    decide,
    is_refusal,
    refusal_text,
    without_refusals,
)
from assistant27.retrieval import Retriever
from assistant27.schema import Answer, Chunk, Citation, Passage, Timings
from assistant27.store import ChunkStore, Filters
from assistant27.year_comparison import (
    OTHER_YEARS,
    YearPart,
    compared_years,
    interleave,
    side_by_side,
    within,
    year_query,
)

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


class Assistant:
    """Retrieval, generation and citation checks behind `ask` and `search`."""

    def __init__(self, settings: Settings, store: ChunkStore, embedder: Embedder, generator: Generator) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.generator = generator
        # What answers each year of a question that names several years (see `quotes_year_parts`).
        self.part_generator: Generator = (
            ExtractiveGenerator() if getattr(generator, "quotes_year_parts", False) else generator
        )
        # The extractive generator weighs each sentence's meaning with the embedder the passages were found with.
        for extractive in {id(g): g for g in (generator, self.part_generator)}.values():
            if isinstance(extractive, ExtractiveGenerator) and extractive.similarity is None:
                extractive.similarity = similarity_to(embedder)
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

    @property
    def catalogue(self) -> Catalogue:
        """The programme catalogue of the corpus as committed now."""
        return self.corpus.current().catalogue

    @property
    def chunks_by_id(self) -> dict[str, Chunk]:
        """Every chunk of the corpus as committed now, by id: what catalogue answers cite."""
        return self.corpus.current().by_id

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
        """Yield the passages at once, then generated tokens, then the final checked Answer."""
        s = self.settings
        history = history or []
        question = _check_question(question)
        started = time.perf_counter()
        query = retrieval_query(question, history)
        view = self.corpus.current()  # one generation of the corpus for the whole answer
        passages, _ = self.retriever.retrieve(query, max(10, s.top_k), filters, view=view)
        language = detect_language(question)
        # A generator may read more passages than the prompt budget allows (the extractive one costs nothing).
        reads = getattr(self.generator, "context_passages", s.context_passages)
        passages = _with_definition(question, passages, reads, view)
        context = passages[:reads]
        decision = decide(
            query, passages, context, min_coverage=s.min_coverage, min_dense=s.min_dense, language=language
        )
        if decision.missing:  # "avec la Ville d'Exempleville": a name no passage holds; no route can answer
            retrieval_s = time.perf_counter() - started
            yield PassagesFound(passages, retrieval_s, query)
            timings = Timings(retrieval_s=round(retrieval_s, 4), total_s=round(retrieval_s, 4))
            yield self._refusal(question, passages, timings, language, decision)
            return
        shaped = self._from_catalogue(question, query, language, passages, view)
        if shaped is not None and not holds_kind(_unmarked(shaped.text, *shaped.quotes), decision.support.kind, query):
            shaped = None  # the catalogue holds no amount, person, date... of the kind asked: the general path answers
        # "en 2031, et en 2034 ?": each year's publications searched on their own, answered side by side.
        years = [] if shaped is not None else compared_years(query, view.years, filters)
        if years and not assess(query, passages, min_coverage=s.min_coverage, min_dense=s.min_dense).answerable:
            years = []  # the question as a whole fails the usual evidence check: refused below, as any other
        by_year = {
            y: self.retriever.retrieve(year_query(query), max(10, s.top_k), within(filters, y), view=view)[0]
            for y in years
        }
        if by_year:
            passages = interleave(list(by_year.values()), max(10, s.top_k))
        retrieval_s = time.perf_counter() - started
        yield PassagesFound(passages, retrieval_s, query)
        timings = Timings(retrieval_s=round(retrieval_s, 4))
        if by_year:
            yield from self._side_by_side(question, history, language, by_year, passages, started, timings)
            return
        if shaped is not None:
            timings.first_token_s = round(time.perf_counter() - started, 4)
            yield Token(shaped.text)
            # A timeline that asks for years the catalogue says nothing of: those years' passages, answered.
            parts: list[YearPart] = []
            more = self._missing_years(shaped, query, filters, view)
            yield from self._year_parts(question, history, language, more, started, timings, parts, [], [])
            timings.total_s = round(time.perf_counter() - started, 4)
            yield self._catalogue_reply(question, shaped, passages, timings, parts, language)
            return
        if not decision.answerable:
            timings.total_s = round(time.perf_counter() - started, 4)
            yield self._refusal(question, passages, timings, language, decision)
            return
        request = request_for(question, context, history, language, s.context_chars, s.max_answer_tokens, s.refuse_at)
        pieces = []
        for piece in self.generator.generate(request):
            if timings.first_token_s is None:
                timings.first_token_s = round(time.perf_counter() - started, 4)
            pieces.append(piece)
            yield Token(piece)
        timings.model = request.model_timings
        raw = "".join(pieces).strip()
        said = strip_prompt_echo(raw, _sources(question, context))  # nothing of the prompt reaches the user
        checked = None
        if not said or is_refusal(said):
            after = Decision(UNVERIFIED, 0.0, "the generator found no answer in the passages", decision.support)
        else:
            checked = self._validated(without_refusals(said), context, language)
            after = after_answer(query, checked.text, decision)
        timings.total_s = round(time.perf_counter() - started, 4)
        if checked is None or not after.answerable:
            refusal = self._refusal(question, passages, timings, language, after)
            refusal.generated = raw
            refusal.refusal_probability = request.refusal_probability
            yield refusal
            return
        yield Answer(
            question=question,
            answer=checked.text,
            refused=False,
            citations=checked.citations,
            passages=passages,
            timings=timings,
            generator=self.generator.name,
            flagged=checked.flagged,
            generated=raw,
            refusal_probability=request.refusal_probability,
            confidence=decision.confidence,
            claims=checked.claims,
        )

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

    def _year_parts(
        self,
        question: str,
        history: list[dict[str, str]],
        language: str,
        by_year: dict[int, list[Passage]],
        started: float,
        timings: Timings,
        parts: list[YearPart],
        generated: list[str],
        flagged: list[str],
    ) -> Iterator[Token]:
        """Answer from each year's passages with `part_generator`, one part per year (streamed), into `parts`."""
        s = self.settings
        query = year_query(question)
        for year, found in by_year.items():
            part = YearPart(year)
            parts.append(part)
            # A year answers when its own passages share the question's words or meaning (its best passage
            # may score lower than the corpus's best: the question as a whole passed the check already).
            evidence = assess(query, found, min_coverage=s.min_coverage, min_dense=s.min_dense)
            if not found or not (evidence.answerable or evidence.coverage >= s.min_coverage):
                continue
            context = found[: getattr(self.part_generator, "context_passages", s.context_passages)]
            request = request_for(
                question, context, history, language, s.context_chars, s.max_answer_tokens, s.refuse_at
            )
            pieces: list[str] = []
            for piece in self.part_generator.generate(request):
                if timings.first_token_s is None:
                    timings.first_token_s = round(time.perf_counter() - started, 4)
                if not pieces:  # each year's words streamed under its year
                    yield Token(f"\n{year} : ")
                pieces.append(piece)
                yield Token(piece)
            raw = "".join(pieces).strip()
            generated.append(f"{year} : {raw}")
            said = strip_prompt_echo(raw, _sources(question, context))
            if not said or is_refusal(said):
                continue
            checked = self._validated(without_refusals(said), context, language)
            part.text, part.citations = checked.text, checked.citations
            flagged.extend(checked.flagged)

    def _side_by_side(
        self,
        question: str,
        history: list[dict[str, str]],
        language: str,
        by_year: dict[int, list[Passage]],
        passages: list[Passage],
        started: float,
        timings: Timings,
    ) -> Iterator[Event]:
        """Each year answered from its own passages, side by side; refuse when no year answers."""
        parts: list[YearPart] = []
        generated: list[str] = []
        flagged: list[str] = []
        yield from self._year_parts(question, history, language, by_year, started, timings, parts, generated, flagged)
        timings.total_s = round(time.perf_counter() - started, 4)
        if not any(p.answered for p in parts):
            none = Decision(UNVERIFIED, 0.0, "no year's passages answer", best_support(question, []))
            refusal = self._refusal(question, passages, timings, language, none)
            refusal.generated = "\n".join(generated)
            yield refusal
            return
        text, citations = side_by_side(parts, language)
        yield Answer(
            question=question,
            answer=text,
            refused=False,
            citations=citations,
            passages=passages,
            timings=timings,
            generator=self.part_generator.name,
            flagged=flagged,
            generated="\n".join(generated),
        )

    def _missing_years(
        self, shaped: CatalogueAnswer, query: str, filters: Filters | None, view: CorpusView
    ) -> dict[int, list[Passage]]:
        """The years a timeline question asks for that the catalogue's timeline has nothing from, searched."""
        if shaped.kind != "timeline":
            return {}
        covered = {c.year for c in shaped.cited}
        years = [y for y in compared_years(query, view.years, filters) if y not in covered]
        k = max(10, self.settings.top_k)
        return {y: self.retriever.retrieve(year_query(query), k, within(filters, y), view=view)[0] for y in years}

    def _from_catalogue(
        self, question: str, query: str, language: str, passages: list[Passage], view: CorpusView
    ) -> CatalogueAnswer | None:
        """List, timeline and comparison questions about programmes, answered from the catalogue (None otherwise)."""
        catalogue = view.catalogue
        for text in dict.fromkeys((question, query)):
            shape = recognise(text, catalogue)
            if shape is not None and shape.partner and compared_years(text, view.years):
                return None  # "avec Valcourt en 2031 et en 2034 ?": what each year says, side by side
            if shape is not None:
                return catalogue_answer(shape, text, catalogue, view.by_id, language, passages)
        return None

    def _catalogue_reply(
        self,
        question: str,
        shaped: CatalogueAnswer,
        passages: list[Passage],
        timings: Timings,
        parts: list[YearPart],
        language: str,
    ) -> Answer:
        retrieved = {p.chunk_id: p for p in passages}
        citations = [
            Citation(n, retrieved.get(chunk.id) or Passage.of(chunk), quote)
            for n, (chunk, quote) in enumerate(zip(shaped.cited, shaped.quotes), start=1)
        ]
        text = shaped.text
        answered = [p for p in parts if p.answered]
        if answered:
            more, more_citations = side_by_side(answered, language, offset=len(citations))
            text = f"{text}\n{OTHER_YEARS[language]}\n{more}"
            citations += more_citations
        return Answer(
            question=question,
            answer=text,
            refused=False,
            citations=citations,
            passages=passages,
            timings=timings,
            generator="catalogue",
            generated=text,
        )

    def _refusal(
        self, question: str, passages: list[Passage], timings: Timings, language: str, decision: Decision
    ) -> Answer:
        kind = decision.refusal or UNVERIFIED
        return Answer(
            question=question,
            answer=refusal_text(kind, language, decision.missing),
            refused=True,
            citations=[],
            passages=passages,
            timings=timings,
            generator=self.generator.name,
            refusal=kind,
            confidence=0.0,
        )


def _sources(question: str, context: list[Passage]) -> list[str]:
    """What a generated answer may repeat word for word: the question and the passages (titles included)."""
    return [question, *(f"{p.title} {p.text}" for p in context)]


def _unmarked(*texts: str) -> str:
    """Texts joined without their citation markers (« [1] » is no count)."""
    return re.sub(r"\[\d+\]", " ", " ".join(texts))


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


def _with_definition(question: str, passages: list[Passage], reads: int, view: CorpusView) -> list[Passage]:
    """« C'est quoi X ? » about a programme the catalogue knows: the passage whose sentence says what X is comes
    first when retrieval left it out of what the answer reads (passages that only name X rank above it otherwise)."""
    mention = defining_mention(question, view.catalogue)
    if mention is None or any(p.chunk_id == mention.chunk_id for p in passages[:reads]):
        return passages
    chunk = view.by_id.get(mention.chunk_id)
    if chunk is None:
        return passages
    rest = [p for p in passages if p.chunk_id != chunk.id]
    return [replace(p, rank=n) for n, p in enumerate([Passage.of(chunk), *rest][: len(passages)], start=1)]
