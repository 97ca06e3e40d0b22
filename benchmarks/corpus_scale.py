"""A corpus N times larger than corpus/, for scaling measurements: each copy's text is altered so its chunks differ.

Copy 0 of every file is the original. Copy k >= 1, deterministically (seeded by file name and k):
- shuffles the sentences inside each paragraph (paragraphs are blocks separated by blank lines);
- replaces about 15% of the words of 6 letters or more by another word of the corpus vocabulary;
- shifts every year by -(k mod 12) and adds k to every other number.
So chunk ids, BM25 term statistics and dense vectors differ from copy to copy, while the text keeps the
corpus's language, vocabulary and chunk sizes. Each copy gets its own file name and catalogue row.

Usage: .venv/bin/python benchmarks/corpus_scale.py FACTOR OUT_DIR [--source corpus]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«\"(])")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LONG_WORD = re.compile(r"\b[^\W\d_]{6,}\b")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")
_NUMBER = re.compile(r"(?<!\d)\d{1,4}(?!\d)")
WORD_SWAP_RATE = 0.15


@dataclass
class ScaledCorpus:
    files: int
    characters: int
    catalogue_rows: int


def _seed(name: str, k: int) -> int:
    return zlib.crc32(f"{name}#{k}".encode())


def alter(text: str, k: int, rng: random.Random, vocabulary: list[str]) -> str:
    """Copy k of `text` (k = 0: unchanged)."""
    if k == 0:
        return text
    paragraphs = []
    for block in _PARAGRAPH.split(text):
        sentences = _SENTENCE_END.split(block)
        rng.shuffle(sentences)
        paragraphs.append(" ".join(s.strip() for s in sentences if s.strip()))
    out = "\n\n".join(p for p in paragraphs if p)

    def word(match: re.Match[str]) -> str:
        return rng.choice(vocabulary) if rng.random() < WORD_SWAP_RATE else match.group(0)

    def number(match: re.Match[str]) -> str:
        value = match.group(0)
        if _YEAR.fullmatch(value):
            return str(int(value) - k % 12)
        return str(int(value) + k)

    out = _LONG_WORD.sub(word, out)
    return _NUMBER.sub(number, out)


def build(source: Path, out: Path, factor: int) -> ScaledCorpus:
    """Write `factor` copies of every publication of `source` (plain text files) and a catalogue into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with (source / "catalogue.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = {r["file"]: r for r in reader}
    files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".md"))
    texts = {p.name: p.read_text(encoding="utf-8") for p in files}
    vocabulary = sorted({w for t in texts.values() for w in _LONG_WORD.findall(t)})
    catalogue: list[dict[str, str]] = []
    characters = 0
    for name, text in texts.items():
        stem, suffix = Path(name).stem, Path(name).suffix
        for k in range(factor):
            target = name if k == 0 else f"{stem}--copie-{k:03d}{suffix}"
            altered = alter(text, k, random.Random(_seed(name, k)), vocabulary)
            (out / target).write_text(altered, encoding="utf-8")
            characters += len(altered)
            row = dict(rows.get(name) or {"file": name})
            row["file"] = target
            if k and row.get("title"):
                row["title"] = f"{row['title']} (copie {k})"
            if k and (row.get("year") or "").isdigit():
                row["year"] = str(int(row["year"]) - k % 12)
            catalogue.append(row)
    with (out / "catalogue.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields or ["file"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(catalogue)
    return ScaledCorpus(files=len(catalogue), characters=characters, catalogue_rows=len(catalogue))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("factor", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1] / "corpus")
    args = parser.parse_args()
    print(build(args.source, args.out, args.factor))


if __name__ == "__main__":
    main()
