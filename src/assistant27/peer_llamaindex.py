"""The plain llama-index pipeline, as its documentation builds it, as a peer that our evaluation scores beside us.

SimpleDirectoryReader over the corpus folder, SentenceSplitter with its defaults (1,024 tokens), a
VectorStoreIndex embedded with our own e5 weights, BM25Retriever, and QueryFusionRetriever (reciprocal
rerank, one query: no language model rewrites it) of the two. Its index is cached under a folder named by
the corpus's content, so a second run reads it back instead of embedding again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document, NodeWithScore

from assistant27.embedding import Embedder
from assistant27.evaluation import HELD_OUT, TUNING, EvidenceMatcher, comparison_metrics, score_item
from assistant27.generators import GenerationRequest, Generator
from assistant27.language import detect_language
from assistant27.readers import SUPPORTED_SUFFIXES
from assistant27.schema import Passage

NAME = "llamaindex"
OURS = "assistant27"  # our column beside the peer's
TOP_K = 10  # passages per question, as many as `ask` returns
CITATION = re.compile(r"\[(\d+)\]")


class AssistantEmbedding(BaseEmbedding):
    """Our embedder as a llama-index embedding model: e5 adds its own `query: ` / `passage: ` prefixes."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.name, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._embedder.embed_query(query)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._embedder.embed_passages(texts)]


class PdfPages(BaseReader):
    """One document per PDF page read by pypdf, with its `page_label`: what llama-index-readers-file's PDFReader
    does. That package is not installed because it requires pandas < 3, which the web app's gradio rules out."""

    def load_data(self, file: Path, extra_info: dict[str, Any] | None = None, **_: Any) -> list[Document]:
        from pypdf import PdfReader

        reader = PdfReader(str(file))
        return [
            Document(text=page.extract_text() or "", metadata={**(extra_info or {}), "page_label": str(n)})
            for n, page in enumerate(reader.pages, start=1)
        ]


class DocxText(BaseReader):
    """A DOCX file's paragraphs as one document (readers-file's DocxReader does the same with docx2txt)."""

    def load_data(self, file: Path, extra_info: dict[str, Any] | None = None, **_: Any) -> list[Document]:
        import docx

        text = "\n".join(p.text for p in docx.Document(str(file)).paragraphs)
        return [Document(text=text, metadata=dict(extra_info or {}))]


def corpus_key(corpus_dir: Path, embedder_name: str) -> str:
    """The cache key: every publication's path and bytes, the embedder and the llama-index versions."""
    digest = hashlib.sha256()
    for package in ("llama-index-core", "llama-index-retrievers-bm25"):
        digest.update(f"{package}={version(package)}\n".encode())
    digest.update(f"embedder={embedder_name}\n".encode())
    for path in sorted(_publications(corpus_dir)):
        digest.update(f"{path.relative_to(corpus_dir).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _publications(corpus_dir: Path) -> list[Path]:
    return [p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]


class LlamaIndexPeer:
    """The documented llama-index hybrid pipeline over a corpus folder: `retrieve` and `answer` like `ask --json`."""

    name = NAME

    def __init__(self, corpus_dir: Path, cache_dir: Path, embedder: Embedder, top_k: int = TOP_K) -> None:
        self.corpus_dir = corpus_dir
        self.cache_dir = cache_dir
        self.embedder = embedder
        self.top_k = top_k
        self.embed_model = AssistantEmbedding(embedder)
        self.built = False  # whether this run embedded the corpus (False: read from the cache)
        self.key = ""
        self._retriever: Any = None
        self._chunks = 0

    def describe(self) -> dict[str, Any]:
        """What the summary records of the peer: its pipeline, its index and where it is cached."""
        return {
            "name": NAME,
            "pipeline": "SimpleDirectoryReader -> SentenceSplitter(chunk_size=1024) -> VectorStoreIndex (our e5) + "
            "BM25Retriever (French stemmer and stop words) -> QueryFusionRetriever(reciprocal_rerank, num_queries=1)",
            "llama_index_core": version("llama-index-core"),
            "embedder": self.embedder.name,
            "chunks": self._chunks,
            "cache": str(self.cache_dir / self.key) if self.key else "",
            "built_now": self.built,
        }

    def load(self, progress: Callable[[str], None] = lambda _line: None) -> None:
        """Read the cached index of this corpus, or build and cache it (the only step that embeds)."""
        from llama_index.core import StorageContext, load_index_from_storage

        self.key = corpus_key(self.corpus_dir, self.embedder.name)
        folder = self.cache_dir / self.key
        if (folder / "docstore.json").is_file():
            storage = StorageContext.from_defaults(persist_dir=str(folder))
            index = load_index_from_storage(storage, embed_model=self.embed_model)
            progress(f"peer {NAME}: index of {self.corpus_dir} read from {folder}")
        else:
            progress(f"peer {NAME}: reading and embedding {self.corpus_dir} (cached in {folder})")
            index = self._build()
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            # Persisted beside its final place and renamed: a run killed half-way leaves no half index behind.
            partial = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=f".{self.key}-"))
            index.storage_context.persist(persist_dir=str(partial))
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
            self.built = True
        self._retriever = self._fusion(index)

    def _build(self) -> Any:
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        if not _publications(self.corpus_dir):
            raise FileNotFoundError(
                f"No publication in {self.corpus_dir} for the {NAME} peer: give a corpus folder with "
                f"{', '.join(SUPPORTED_SUFFIXES)} files."
            )
        documents = SimpleDirectoryReader(
            str(self.corpus_dir),
            recursive=True,
            required_exts=list(SUPPORTED_SUFFIXES),
            file_extractor={".pdf": PdfPages(), ".docx": DocxText()},
            filename_as_id=True,
        ).load_data()
        return VectorStoreIndex.from_documents(
            documents, transformations=[SentenceSplitter()], embed_model=self.embed_model
        )

    def _fusion(self, index: Any) -> Any:
        import Stemmer
        from llama_index.core.llms import MockLLM
        from llama_index.core.retrievers import QueryFusionRetriever
        from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes = list(index.docstore.docs.values())
        self._chunks = len(nodes)
        k = min(self.top_k, len(nodes))
        # French stemming and stop words: what the BM25Retriever documentation says to set for another language.
        bm25 = BM25Retriever.from_defaults(
            nodes=nodes, similarity_top_k=k, stemmer=Stemmer.Stemmer("french"), language="fr"
        )
        return QueryFusionRetriever(
            [index.as_retriever(similarity_top_k=k), bm25],
            similarity_top_k=k,
            num_queries=1,  # the question alone: no language model writes other queries
            mode=FUSION_MODES.RECIPROCAL_RANK,
            use_async=False,
            llm=MockLLM(),  # never called with one query; without it llama-index would look for OpenAI
        )

    def retrieve(self, question: str) -> list[Passage]:
        """The ranked passages for a question."""
        if self._retriever is None:
            self.load()
        return [_passage(rank, hit) for rank, hit in enumerate(self._retriever.retrieve(question), start=1)]

    def ask(self, question: str, generator: Generator | None = None) -> dict[str, Any]:
        """The peer's result in the shape of `ask --json`: its passages and, given a generator, the answer that
        generator writes from them, citing the passages it marks. Nothing is checked and nothing refused: the
        plain pipeline has no refusal."""
        started = time.perf_counter()
        passages = self.retrieve(question)
        retrieval_s = time.perf_counter() - started
        answer = ""
        if generator is not None:
            context = passages[: generator.context_passages or 4]
            request = GenerationRequest(question=question, passages=context, language=detect_language(question))
            answer = "".join(generator.generate(request)).strip()
        shown = [p.to_json() for p in passages]
        cited = sorted({int(n) for n in CITATION.findall(answer) if 1 <= int(n) <= len(shown)})
        return {
            "question": question,
            "answer": answer,
            "refused": False,
            "citations": [{"n": n, **shown[n - 1]} for n in cited],
            "passages": shown,
            "timings": {
                "retrieval_s": round(retrieval_s, 4),
                "first_token_s": None,
                "total_s": round(time.perf_counter() - started, 4),
            },
            "generator": getattr(generator, "name", ""),
        }


def _passage(rank: int, hit: NodeWithScore) -> Passage:
    meta = hit.node.metadata
    page = str(meta.get("page_label") or "")
    source = str(meta.get("file_name", ""))
    return Passage(
        rank=rank,
        chunk_id=hit.node.node_id,
        source=source,
        title=source,
        year=None,
        kind="",
        page=int(page) if page.isdigit() else None,
        heading="",
        text=hit.node.get_content(),
        score=float(hit.score or 0.0),
    )


def compare_with_peer(
    peer: LlamaIndexPeer,
    generator: Generator | None,
    items: list[dict[str, Any]],
    results: list[dict[str, Any]],
    out_dir: Path,
    matcher: EvidenceMatcher,
    *,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Run the peer on the items our run answered (`results`, in the same order), write its answers to
    out_dir/peer_results.jsonl, and return the summary's `peer` section: both pipelines' metrics side by side, on
    the whole run and on each part. `generator` None: the peer is scored on retrieval alone."""
    from tqdm import tqdm

    peer.load(progress=lambda line: print(line, file=sys.stderr))
    peer_results = []
    with (out_dir / "peer_results.jsonl").open("w", encoding="utf-8") as f:
        for item in tqdm(items, desc=f"peer {peer.name}", unit="q", file=sys.stderr, disable=not show_progress):
            result = peer.ask(item["question"], generator)
            peer_results.append(result)
            verdict = score_item(item, result, matcher)
            row = {**item, "result": result, "verdict": {**asdict(verdict), "rank": verdict.rank}}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    answered = generator is not None

    def columns(idx: list[int]) -> dict[str, Any]:
        mine = [items[i] for i in idx]
        return {
            OURS: comparison_metrics(mine, [results[i] for i in idx], matcher, answered),
            peer.name: comparison_metrics(mine, [peer_results[i] for i in idx], matcher, answered),
        }

    parts = {
        part: columns([i for i, item in enumerate(items) if item.get("part") == part])
        for part in (TUNING, HELD_OUT)
        if any(item.get("part") == part for item in items)
    }
    return {
        **peer.describe(),
        "generator": getattr(generator, "name", None),
        "results": "peer_results.jsonl",
        "columns": columns(list(range(len(items)))),
        "by_part": parts,
    }
