"""Publications -> chunks: French sentence boundaries, about 150-300 tokens, a little overlap, stable ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from assistant27.language import SENTENCE_END, sentence_ends
from assistant27.schema import Chunk, Publication

_WORD = re.compile(r"\S+")
_HEADING_MD = re.compile(r"^#+\s*\S")


@dataclass
class Sentence:
    start: int
    end: int
    words: int
    paragraph_start: bool  # first sentence of a paragraph (after a blank line)
    heading: str  # non-empty when this "sentence" is a heading line


def _is_heading_block(paragraph: str) -> bool:
    """A short paragraph of its own without closing punctuation: `#DESIGN`, `Quel est le point de départ ?`."""
    s = paragraph.strip()
    if not s:
        return False
    if _HEADING_MD.match(s) and "\n" not in s:
        return True
    lines = [line for line in s.split("\n") if line.strip()]
    if len(lines) > 3 or len(s.split()) > 16 or s[-1] in ".,;:!" or s[0].islower() or SENTENCE_END.search(s):
        return False
    return any(c.isalpha() for c in s) and not s.startswith("http")


def split_sentences(text: str) -> list[Sentence]:
    """Split text into sentences and heading lines, with character offsets into `text`."""
    sentences: list[Sentence] = []
    for para in re.finditer(r"(?:[^\n]|\n(?!\s*\n))+", text):
        p_start, p_text = para.start(), para.group(0)
        if not p_text.strip():
            continue
        first = True
        if _is_heading_block(p_text):
            lead = len(p_text) - len(p_text.lstrip())
            words = p_text.split()
            title = " ".join(words).lstrip("#*").strip()
            sentences.append(Sentence(p_start + lead, p_start + len(p_text.rstrip()), len(words), True, title[:120]))
            continue
        body_start = p_start
        body = p_text
        pos = 0
        for end in sentence_ends(body):
            _add_sentence(sentences, text, body_start + pos, body_start + end, first)
            first = first and not text[body_start + pos : body_start + end].strip()
            pos = end
        _add_sentence(sentences, text, body_start + pos, body_start + len(body), first)
    return sentences


def _add_sentence(out: list[Sentence], text: str, start: int, end: int, first: bool) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    start += len(piece) - len(piece.lstrip())
    out.append(Sentence(start, start + len(stripped), len(stripped.split()), first, ""))


def _split_long(s: Sentence, text: str, max_words: int) -> list[Sentence]:
    """Cut a sentence longer than a chunk (URL lists, tables) at word boundaries."""
    words = list(_WORD.finditer(text, s.start, s.end))
    if len(words) <= max_words:
        return [s]
    parts = []
    for i in range(0, len(words), max_words):
        group = words[i : i + max_words]
        parts.append(Sentence(group[0].start(), group[-1].end(), len(group), s.paragraph_start and i == 0, ""))
    return parts


_STRUCTURAL_START = re.compile(r"^[A-ZÀ-ÖØ-Þ\-–—•*#«]")


def reflow(segment: str) -> str:
    """Join lines wrapped by the layout; keep a line break where a new item or heading starts.

    A line that starts with a capital or a bullet after a short line (or after closing punctuation)
    is a new list item or heading line (`À consulter` / `- Le blog de ...`); otherwise it continues.
    """
    lines = [" ".join(line.split()) for line in segment.split("\n")]
    lines = [line for line in lines if line]
    out = lines[:1]
    for line in lines[1:]:
        previous = out[-1]
        structural = _STRUCTURAL_START.match(line) and (len(previous) < 55 or previous[-1] in ".!?:»)")
        out.append(("\n" if structural else " ") + line)
    return "".join(out)


def _nest(current: str, new: str) -> str:
    """A question heading (`Quel est le point de départ ?`) belongs to the programme heading above it."""
    if new.endswith("?") and current:
        parent = current.split(" — ")[0]
        return f"{parent} — {new}"
    return new


def chunk_id(source: str, page: int | None, text: str, occurrence: int) -> str:
    """Stable id: the same text at the same place of the same file always gets the same id."""
    key = f"{source}\x00{page or 0}\x00{occurrence}\x00{text}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:24]


def chunk_publication(pub: Publication, *, max_words: int = 170, overlap_words: int = 30) -> list[Chunk]:
    """Cut each section of a (cleaned) publication into chunks of whole sentences."""
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for section in pub.sections:
        text = _with_heading(section.text, section.heading)
        found = _chunk_section(pub, text, section.page, section.heading, seen, max_words, overlap_words)
        for chunk in found:
            chunk.page_label = section.page_label
        chunks.extend(found)
    return chunks


def _with_heading(text: str, heading: str) -> str:
    """A section's text opened by its heading, as the page shows it. The readers of structured files (HTML, DOCX,
    Markdown) keep headings apart from the text; a heading often says what the text under it is about (a person's
    name over their role, « Quatre cas de cessions » over the cases), so search and answers must read it."""
    if not heading or " ".join(text.split()).startswith(" ".join(heading.split())):
        return text
    return f"{heading}\n\n{text}"


def _chunk_section(
    pub: Publication,
    text: str,
    page: int | None,
    heading: str,
    seen: dict[str, int],
    max_words: int,
    overlap_words: int,
) -> list[Chunk]:
    units: list[Sentence] = []
    for s in split_sentences(text):
        units.extend(_split_long(s, text, max_words))
    out: list[Chunk] = []
    current: list[Sentence] = []
    last_end = -1  # end offset of the last emitted chunk: units beyond it are new text
    min_words = max_words // 2

    def has_new() -> bool:
        return bool(current) and current[-1].end > last_end

    def flush() -> None:
        nonlocal current, last_end
        start, end = current[0].start, current[-1].end
        # Whitespace is normalised within a unit; headings and paragraphs keep a line break, so a
        # reader (and the extractive generator) still sees the structure.
        chunk_text = "".join(
            ("\n" if i and (u.heading or u.paragraph_start or current[i - 1].heading) else " " if i else "")
            + reflow(text[u.start : u.end])
            for i, u in enumerate(current)
        )
        key = f"{page}:{chunk_text}"
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        out.append(
            Chunk(
                id=chunk_id(pub.source, page, chunk_text, occurrence),
                source=pub.source,
                text=chunk_text,
                page=page,
                heading=heading,
                start=start,
                end=end,
                title=pub.title,
                kind=pub.kind,
                year=pub.year,
                language=pub.language,
            )
        )
        last_end = end
        # Overlap: carry the last whole sentences (up to overlap_words) into the next chunk.
        carried: list[Sentence] = []
        n = 0
        for u in reversed(current):
            if u.heading or n + u.words > overlap_words:
                break
            carried.insert(0, u)
            n += u.words
        current = carried

    for u in units:
        size = sum(x.words for x in current)
        if u.heading:
            # A heading opens a new chunk: close a substantial one, drop a bare overlap.
            if has_new() and size >= min_words // 2:
                flush()
            if not has_new():
                current = []
            if u.heading != " ".join(heading.split())[:120]:  # the section's own heading opens its text
                heading = _nest(heading, u.heading)
        elif has_new() and (size + u.words > max_words or (u.paragraph_start and size >= min_words)):
            flush()
        current.append(u)
    if has_new():
        flush()
    return out
