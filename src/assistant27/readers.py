"""Files -> publications: text per page or section, with metadata from the catalogue, the file, or its name."""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import logging
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant27.errors import ReadError
from assistant27.language import detect_language, years_in
from assistant27.schema import Publication, Section

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from pypdf import PdfReader

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".html", ".htm", ".docx")
CATALOGUE_NAME = "catalogue.csv"
DEFAULT_KIND = "publication"

NO_TEXT_LAYER_WARNING = "no text layer: a scan without OCR? Run OCR (e.g. ocrmypdf) and ingest again."
EMPTY_FILE_WARNING = (
    "empty file (0 bytes or only blanks): nothing to index. Replace it with the real document, or remove it."
)
NO_HTML_TEXT_WARNING = (
    "no main text found in the HTML page (only menus, scripts or nothing): "
    "save the article itself, or convert it to .txt/.md, and ingest again."
)

_MIN_BARE_HTML_WORDS = 25
_PDF_DATE = re.compile(r"^\s*(?:D:)?((?:19|20)\d{2})")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_JUNK_TITLE = re.compile(
    r"^(untitled|sans titre|document\d*|word document|titre|title|diapositive \d+|slide \d+)$"
    r"|^microsoft (word|powerpoint) - "
    r"|\.(docx?|pdf|indd|pptx?|odt|rtf|qxp)$",
    re.IGNORECASE,
)
# python-docx's built-in template carries this creation date: files saved by it are not from 2013.
_PYTHON_DOCX_TEMPLATE_CREATED = datetime(2013, 12, 23, 23, 15, tzinfo=UTC)


@dataclass(frozen=True)
class CatalogueEntry:
    """One row of catalogue.csv; empty strings and None mean 'not given', so other sources fill in."""

    title: str
    kind: str
    year: int | None
    language: str


@dataclass
class _Content:
    """What one format reader gets out of a file: text, the file's own metadata, warnings."""

    sections: list[Section] = field(default_factory=list)
    title: str = ""
    year: int | None = None
    warnings: list[str] = field(default_factory=list)
    repairs: dict[str, int] = field(default_factory=dict)


# --- catalogue ---------------------------------------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _catalogue_key(raw: str) -> str:
    key = _nfc(raw.strip().replace("\\", "/"))
    while key.startswith("./"):
        key = key[2:]
    return key


def _decode_catalogue(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning(
            "%s: not UTF-8, read as cp1252 (Windows). Save it as UTF-8 to be sure of accents.",
            path,
        )
        return data.decode("cp1252", errors="replace")


def load_catalogue(path: Path) -> dict[str, CatalogueEntry]:
    """Rows of catalogue.csv keyed by file path relative to the corpus folder; missing file -> {}.

    Columns: file,title,kind,year,language (publisher and others are ignored). Rows without a file
    name or with a year that is not a 4-digit number are skipped with a logged warning. A `;`
    delimiter (Excel in French) and a cp1252 encoding are accepted.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning(
            "%s: cannot be read (%s); publications get metadata from their files.",
            path,
            exc.strerror,
        )
        return {}
    text = _decode_catalogue(data, path)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    if "file" not in fieldnames:
        log.warning(
            "%s: no 'file' column (header is %r); the catalogue is ignored. "
            "Its first line must be: file,title,kind,year,language,publisher",
            path,
            first_line,
        )
        return {}
    reader.fieldnames = fieldnames
    entries: dict[str, CatalogueEntry] = {}
    for row in reader:
        line = reader.line_num

        def value(column: str, row: dict[str, str] = row) -> str:
            raw = row.get(column)
            return raw.strip() if isinstance(raw, str) else ""

        key = _catalogue_key(value("file"))
        if not any(value(c) for c in fieldnames):
            continue  # blank line
        if not key:
            log.warning("%s line %d: no file name; row skipped.", path, line)
            continue
        year_text = value("year")
        year: int | None = None
        if year_text:
            if not re.fullmatch(r"\d{4}(\.0)?", year_text):
                log.warning(
                    "%s line %d: year %r is not a 4-digit year; row skipped.",
                    path,
                    line,
                    year_text,
                )
                continue
            year = int(year_text[:4])
        if key in entries:
            log.warning(
                "%s line %d: %s is listed twice; the first row is kept.",
                path,
                line,
                key,
            )
            continue
        entries[key] = CatalogueEntry(
            title=value("title"),
            kind=value("kind"),
            year=year,
            language=value("language").lower(),
        )
    return entries


def _catalogue_entry(source: str, catalogue: dict[str, CatalogueEntry]) -> CatalogueEntry | None:
    """The row for this file: by relative path first, then by bare file name."""
    key = _nfc(source)
    if key in catalogue:
        return catalogue[key]
    return catalogue.get(key.rsplit("/", 1)[-1])


# --- finding files -----------------------------------------------------------------------------


def find_publications(corpus_dir: Path, refused: list[tuple[Path, str]] | None = None) -> list[Path]:
    """Supported files under corpus_dir, recursively, sorted by relative path.

    Skips catalogue.csv, hidden files and folders, Office lock files (~$...), symlinked folders
    (not followed) and symlinked files that point outside corpus_dir or nowhere; those links are
    added to `refused` as (path, reason) so ingestion can report them. A missing folder gives [].
    """
    if not corpus_dir.is_dir():
        return []
    root = corpus_dir.resolve()
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(corpus_dir, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        folder = Path(dirpath)
        for name in filenames:
            if name.startswith((".", "~$")) or name == CATALOGUE_NAME:
                continue
            if not name.lower().endswith(SUPPORTED_SUFFIXES):
                continue
            path = folder / name
            if path.is_symlink():
                reason = _refused_link(path, root)
                if reason:
                    log.info("%s: %s", path, reason)
                    if refused is not None:
                        refused.append((path, reason))
                    continue
            found.append((path.relative_to(corpus_dir).as_posix(), path))
    return [path for _, path in sorted(found)]


def _refused_link(path: Path, root: Path) -> str:
    """Why a symlinked file is not read ("" when it points to a file inside the corpus)."""
    target = Path(os.path.realpath(path))
    if not target.exists():
        return f"a symbolic link to {target}, which does not exist (a broken link). Fix or remove the link, then ingest again."
    if not target.is_relative_to(root):
        return (
            f"a symbolic link to {target}, outside the corpus folder {root}/: not followed, so that ingestion "
            "reads only the corpus. Copy the file into the corpus folder instead, then ingest again."
        )
    if not target.is_file():
        return f"a symbolic link to {target}, which is not a regular file. Remove the link, then ingest again."
    return ""


# --- reading -----------------------------------------------------------------------------------


def _source(path: Path, corpus_dir: Path) -> str:
    for p, root in ((path, corpus_dir), (path.absolute(), corpus_dir.absolute())):
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name


def read_publication(path: Path, corpus_dir: Path, catalogue: dict[str, CatalogueEntry]) -> Publication:
    """Read one file into a Publication. Raises ReadError, naming the file and what to do."""
    source = _source(path, corpus_dir)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise ReadError(
            f"{source}: unsupported file type {suffix or '(no extension)'!r}. "
            f"Convert it to one of {', '.join(SUPPORTED_SUFFIXES)} and ingest again."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(
            f"{source}: cannot be read ({exc.strerror or exc}). "
            "Check that it exists and is readable, then ingest again."
        ) from exc
    content = _Content(warnings=[EMPTY_FILE_WARNING]) if not data.strip() else reader(data, source)
    for section in content.sections:
        section.text = _normalise(section.text)
        section.heading = _normalise(section.heading).strip()

    entry = _catalogue_entry(source, catalogue)
    name_title, name_year = _metadata_from_name(path)
    title = (entry.title if entry else "") or content.title or name_title
    year = entry.year if entry and entry.year is not None else content.year
    if year is None:
        year = name_year
    kind = (entry.kind if entry else "") or DEFAULT_KIND
    language = (entry.language if entry else "") or detect_language(s.text for s in content.sections)
    return Publication(
        source=source,
        title=_nfc(title),
        kind=kind,
        year=year,
        language=language,
        sections=content.sections,
        content_hash=hashlib.sha256(data).hexdigest(),
        warnings=content.warnings,
        repairs=content.repairs,
    )


def _normalise(text: str) -> str:
    """Unix newlines, no NUL characters, composed accents (NFC)."""
    return _nfc(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))


def _metadata_from_name(path: Path) -> tuple[str, int | None]:
    """`rapport-activite-2031.txt` -> ("Rapport activite 2031", 2031)."""
    words = " ".join(re.split(r"[-_.\s]+", path.stem)).strip()
    title = words[:1].upper() + words[1:] if words else path.name
    years = years_in(path.stem)
    return title, years[0] if years else None


def _clean_title(raw: object) -> str:
    """A metadata title, or "" when it is a tool's placeholder (Untitled, Microsoft Word - x.docx)."""
    if not isinstance(raw, str):
        return ""
    title = " ".join(raw.replace("\x00", "").split())
    return "" if not title or _JUNK_TITLE.search(title) else title


def _year_from(raw: object) -> int | None:
    if isinstance(raw, datetime):
        return raw.year if 1900 <= raw.year <= 2099 else None
    if isinstance(raw, str):
        match = _PDF_DATE.match(raw)
        return int(match.group(1)) if match else None
    return None


# PDF

_RUNNING_LINE_DEPTH = 3  # how many non-empty lines at each end of a page may be a header or footer
_RUNNING_LINE_MIN_PAGES = 4
_DIGIT_RUN = re.compile(r"\d+")
_ROMAN_NUMERAL = re.compile(r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")


def _running_line_key(line: str) -> str:
    """A line as compared across pages: case and spaces folded, each number (or a bare roman one) as '#'."""
    key = " ".join(_DIGIT_RUN.sub("#", line).split()).casefold()
    return "#" if _ROMAN_NUMERAL.fullmatch(key) else key


def remove_running_lines(pages: list[str]) -> tuple[list[str], int]:
    """Drop the running headers and footers of a PDF's pages; return the pages and how many lines went.

    A running header or footer (« Manuel de … 7 / 97 ») is printed on every page: left in, it sits in
    the chunks and pollutes BM25, embeddings and quoted answers. It is found as a line, numbers
    ignored, among the first or last three non-empty lines of at least half the pages that have
    text (rounded down, so headers alternating between odd and even pages count; never fewer than
    3 pages, and only from 4 such pages on), and on fewer pages inside the text than at its edges
    (a table's « Oui » cells are content). On each page only the occurrence nearest each edge is
    removed, so the same words in the body stay; a page that would be left empty is kept whole,
    rather than look like a scan without text.
    """
    split = [text.split("\n") for text in pages]
    edges: list[tuple[list[int], list[int]]] = []  # per page: line indexes of its top and bottom lines
    for lines in split:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        depth = min(_RUNNING_LINE_DEPTH, max(1, len(filled) // 3))  # a short page is mostly body
        edges.append((filled[:depth], filled[::-1][:depth]))
    with_text = sum(1 for top, _ in edges if top)
    if with_text < _RUNNING_LINE_MIN_PAGES:
        return pages, 0
    at_edge: collections.Counter[str] = collections.Counter()  # key -> pages where it is a top or bottom line
    in_body: collections.Counter[str] = collections.Counter()  # key -> pages where it is between them
    for lines, (top, bottom) in zip(split, edges, strict=True):
        outer = set(top + bottom)
        at_edge.update({_running_line_key(lines[i]) for i in outer})
        in_body.update({_running_line_key(line) for i, line in enumerate(lines) if line.strip() and i not in outer})
    least = max(3, with_text // 2)
    running = {key for key, count in at_edge.items() if count >= least and in_body[key] < count}
    if not running:
        return pages, 0
    cleaned: list[str] = []
    removed = 0
    for text, lines, (top, bottom) in zip(pages, split, edges, strict=True):
        drop: set[int] = set()
        for edge in (top, bottom):  # outermost first
            seen: set[str] = set()
            for i in edge:
                key = _running_line_key(lines[i])
                if key in running and key not in seen:
                    seen.add(key)
                    drop.add(i)
        kept = [line for i, line in enumerate(lines) if i not in drop]
        if not drop or not any(line.strip() for line in kept):
            cleaned.append(text)
            continue
        cleaned.append("\n".join(kept).strip("\n"))
        removed += len(drop)
    return cleaned, removed


def _read_pdf(data: bytes, source: str) -> _Content:
    if b"%PDF-" not in data[:1024]:
        raise ReadError(
            f"{source}: not a PDF (no %PDF header; it may be another kind of file renamed .pdf). "
            "Open it to check, save it as PDF or give it its real extension, and ingest again."
        )
    with _PypdfWarnings() as problems:
        content = _read_pdf_pages(data, source, problems)
    content.warnings.extend(problems.summary(len(content.sections)))
    return content


def _read_pdf_pages(data: bytes, source: str, problems: _PypdfWarnings) -> _Content:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    encrypted_message = f"{source}: the PDF is encrypted. Remove the password (e.g. qpdf --decrypt) and ingest again."
    crypto_message = (
        f"{source}: the PDF is encrypted with AES, which needs the 'cryptography' package: "
        "pip install cryptography (or remove the encryption, e.g. qpdf --decrypt), then ingest again."
    )
    damaged_message = (
        f"{source}: the PDF cannot be read ({{reason}}). It may be truncated or damaged: "
        "download or export it again (or repair it with qpdf), then ingest again."
    )
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError(encrypted_message)
        pages = list(reader.pages)
        metadata = reader.metadata
    except ReadError:
        raise
    except DependencyError as exc:
        raise ReadError(crypto_message) from exc
    except FileNotDecryptedError as exc:
        raise ReadError(encrypted_message) from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise ReadError(damaged_message.format(reason=_reason(exc))) from exc

    content = _Content()
    labels = _page_labels(reader)
    for number, page in enumerate(pages, start=1):
        problems.page = number
        try:
            text = page.extract_text() or ""
        except DependencyError as exc:
            raise ReadError(crypto_message) from exc
        except Exception as exc:  # one bad page should not lose the others
            content.warnings.append(f"page {number}: text could not be extracted ({_reason(exc)})")
            text = ""
        label = labels[number - 1] if number <= len(labels) else ""
        content.sections.append(
            Section(text=text if text.strip() else "", page=number, page_label="" if label == str(number) else label)
        )
    problems.page = None
    texts, removed = remove_running_lines([s.text for s in content.sections])
    if removed:
        content.repairs["running_header_footer"] = removed
        for section, text in zip(content.sections, texts, strict=True):
            section.text = text
    if not any(s.text for s in content.sections):
        content.warnings.append(NO_TEXT_LAYER_WARNING)
    if metadata is not None:
        try:
            content.title = _clean_title(metadata.get("/Title"))
            content.year = _year_from(metadata.get("/CreationDate"))
        except Exception as exc:  # broken metadata is not worth losing the text
            content.warnings.append(f"PDF metadata unreadable ({_reason(exc)})")
    return content


def _page_labels(reader: PdfReader) -> list[str]:
    """The page numbers printed on the pages (the PDF's /PageLabels: « iv », « A-3 »); [] when it has none or they
    cannot be read (a citation then gives the page's position alone)."""
    try:
        if "/PageLabels" not in reader.root_object:
            return []
        return [str(label).strip() for label in reader.page_labels]
    except Exception:  # a broken /PageLabels tree is not worth losing the text
        return []


class _PypdfWarnings(logging.Handler):
    """pypdf's warnings while one PDF is read, counted per page instead of printed: a PDF with fonts pypdf cannot
    map writes a line per font and page (hundreds a file), which buried the ingestion report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.page: int | None = None  # the page being extracted; None while the file's structure is read
        self.messages: dict[int | None, list[str]] = {}
        self._logger = logging.getLogger("pypdf")
        self._propagate = True

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.setdefault(self.page, []).append(record.getMessage())

    def __enter__(self) -> _PypdfWarnings:
        self._propagate = self._logger.propagate
        self._logger.addHandler(self)
        self._logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.propagate = self._propagate

    def summary(self, pages: int) -> list[str]:
        """One warning for the pages with problems, one for the rest of the file; none when pypdf said nothing."""
        lines = []
        on_pages = sorted(p for p in self.messages if p is not None)
        if on_pages:
            shown = ", ".join(map(str, on_pages[:10])) + (", ..." if len(on_pages) > 10 else "")
            lines.append(
                f"{len(on_pages)} of {pages} pages had font or encoding problems (pages {shown}; pypdf: "
                f"« {_first_line(self.messages[on_pages[0]][0])} »): their text may miss or garble characters. "
                "Check a cited quote against the PDF, or export it again with its fonts embedded."
            )
        if None in self.messages:
            lines.append(
                f"pypdf worked around {len(self.messages[None])} problem(s) in the file's structure "
                f"(« {_first_line(self.messages[None][0])} »)."
            )
        return lines


def _first_line(message: str, most: int = 80) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= most else line[: most - 1] + "…"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# plain text


def _decode_text(data: bytes) -> tuple[str, str | None]:
    """Text and, when it was not UTF-8, the encoding used."""
    for bom, encoding in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                break
            return text, None if encoding == "utf-8-sig" else encoding.upper()
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    if data.count(b"\x00") > len(data) // 4 and len(data) % 2 == 0:  # UTF-16 without a BOM
        encoding = "utf-16-le" if data[1::2].count(b"\x00") > data[0::2].count(b"\x00") else "utf-16-be"
        try:
            return data.decode(encoding), encoding.upper()
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("cp1252"), "cp1252 (Windows-1252)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1 (ISO-8859-1)"


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    return controls > max(8, len(sample) // 20)


def _read_plain(data: bytes, source: str) -> tuple[str, list[str]]:
    text, encoding = _decode_text(data)
    if _looks_binary(text):
        raise ReadError(
            f"{source}: does not look like text (many control characters; a binary file renamed?). "
            "Check the file, convert it to UTF-8 text, and ingest again."
        )
    warnings = [f"not UTF-8: read as {encoding}; save it as UTF-8 to be sure of accents"] if encoding else []
    return text.lstrip("\ufeff"), warnings


def _read_txt(data: bytes, source: str) -> _Content:
    text, warnings = _read_plain(data, source)
    return _Content(sections=[Section(text=text.strip())], warnings=warnings)


# Markdown


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML-ish `---` front matter as flat key: value pairs, and the text after it."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            fields: dict[str, str] = {}
            for line in lines[1:end]:
                match = _FRONT_MATTER_FIELD.match(line)
                if match:
                    fields[match.group(1).lower()] = match.group(2).strip("'\"")
            return fields, "\n".join(lines[end + 1 :])
    return {}, text


def split_markdown(text: str) -> tuple[list[Section], list[str]]:
    """Sections by ATX (`#`) and setext (`===`, `---`) headings, ignoring code blocks; and the level-1 headings."""
    sections: list[Section] = []
    level_one: list[str] = []
    heading = ""
    body: list[str] = []
    fence: str | None = None

    def close() -> None:
        joined = "\n".join(body).strip()
        if joined:
            sections.append(Section(text=joined, heading=heading))
        body.clear()

    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        if fence is not None:
            body.append(line)
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            body.append(line)
            continue
        atx = _ATX_HEADING.match(line)
        setext = _SETEXT_UNDERLINE.match(line)
        if atx:
            close()
            heading = (atx.group(2) or "").strip()
            if len(atx.group(1)) == 1 and heading:
                level_one.append(heading)
        elif setext and body and body[-1].strip() and (len(body) == 1 or not body[-2].strip()):
            title_line = body.pop().strip()
            close()
            heading = title_line
            if setext.group(1).startswith("="):
                level_one.append(heading)
        else:
            body.append(line)
    close()
    return sections, level_one


def _read_md(data: bytes, source: str) -> _Content:
    text, warnings = _read_plain(data, source)
    fields, text = _front_matter(_normalise(text))
    sections, level_one = split_markdown(text)
    title = _clean_title(fields.get("title")) or (level_one[0] if len(level_one) == 1 else "")
    year = _year_from(fields.get("year") or fields.get("date") or "")
    return _Content(sections=sections, title=title, year=year, warnings=warnings)


# HTML


def _element_text(element: ET.Element) -> str:
    return " ".join(_raw_text(element).split())


def _raw_text(element: ET.Element) -> str:
    # A line break (<br>, trafilatura's <lb/>) separates words: « 29 décembre 2020<br>Autorisation » is two.
    inner = " " if element.tag == "lb" else element.text or ""
    return inner + "".join(_raw_text(child) + (child.tail or "") for child in element)


def _html_block_text(element: ET.Element) -> str:
    """Text of one block of trafilatura's XML: lists as `- item` lines, tables as `a | b` rows."""
    if element.tag == "list":
        return "\n".join(f"- {_element_text(item)}" for item in element.iter("item") if _element_text(item))
    if element.tag == "table":
        rows = (" | ".join(_element_text(cell) for cell in row.iter("cell")) for row in element.iter("row"))
        return "\n".join(row for row in rows if row.strip(" |"))
    if element.tag == "code":
        return "".join(element.itertext()).strip("\n")
    return _element_text(element)


def _read_html(data: bytes, source: str) -> _Content:
    import trafilatura

    try:
        xml = trafilatura.extract(
            data,
            output_format="xml",
            include_comments=False,
            include_tables=True,
            include_images=False,
            favor_recall=True,
            with_metadata=False,
        )
        metadata = trafilatura.extract_metadata(data, extensive=False)
    except Exception as exc:  # lxml and trafilatura raise various errors on odd input
        raise ReadError(
            f"{source}: the HTML page cannot be parsed ({_reason(exc)}). "
            "Save the page again from a browser, or convert it to .txt/.md, and ingest again."
        ) from exc
    content = _Content()
    if metadata is not None:
        content.title = _clean_title(metadata.title)
        content.year = _year_from(metadata.date)
    main = ET.fromstring(xml).find("main") if xml else None
    if main is not None:
        heading = ""
        body: list[str] = []
        for block in main:
            if block.tag == "head":
                if body:
                    content.sections.append(Section(text="\n\n".join(body), heading=heading))
                    body = []
                heading = _element_text(block)
                continue
            text = _html_block_text(block)
            if text:
                body.append(text)
        bare = " ".join((main.text or "").split())
        if len(main) == 0 and len(bare.split()) >= _MIN_BARE_HTML_WORDS:
            body.append(bare)  # text straight in <body>; a few words there are menu links
        if body:
            content.sections.append(Section(text="\n\n".join(body), heading=heading))
    if not content.sections:
        content.warnings.append(NO_HTML_TEXT_WARNING)
    return content


# DOCX


def _docx_table_text(table: Table) -> str:
    from docx.table import Table

    lines: list[str] = []
    for row in table.rows:
        cells: list[object] = []
        texts: list[str] = []
        for cell in row.cells:
            if any(cell is seen for seen in cells):  # a merged cell is returned once per grid column
                continue
            cells.append(cell)
            parts: list[str] = []
            for item in cell.iter_inner_content():
                part = _docx_table_text(item) if isinstance(item, Table) else item.text
                if part.strip():
                    parts.append(part.strip())
            texts.append(" ".join(parts))
        if any(texts):
            lines.append(" | ".join(texts))
    return "\n".join(lines)


def _docx_heading_style(paragraph: Paragraph) -> str:
    """Return "title", "heading" or ""; style names are stored in English even in a French Word."""
    style = paragraph.style
    name = ((style.name if style is not None else "") or "").lower()
    if name == "title" or name == "titre":
        return "title"
    if name.startswith(("heading", "titre")):
        return "heading"
    return ""


def _read_docx(data: bytes, source: str) -> _Content:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        properties = document.core_properties
        core_title = properties.title
        created = properties.created
    except Exception as exc:  # zipfile, lxml and python-docx errors on damaged files
        raise ReadError(
            f"{source}: not a readable DOCX ({_reason(exc)}). It may be damaged or an old .doc renamed: "
            "open it in Word or LibreOffice, save it as .docx, and ingest again."
        ) from exc
    content = _Content()
    heading = ""
    body: list[str] = []
    title_paragraph = ""
    for block in blocks:
        if isinstance(block, Table):
            text = _docx_table_text(block)
            if text:
                body.append(text)
            continue
        text = block.text.strip()
        if not text:
            continue
        style = _docx_heading_style(block)
        if style:
            if body:
                content.sections.append(Section(text="\n\n".join(body), heading=heading))
                body = []
            heading = text
            if style == "title" and not title_paragraph:
                title_paragraph = text
        else:
            body.append(text)
    if body:
        content.sections.append(Section(text="\n\n".join(body), heading=heading))
    content.title = _clean_title(core_title) or title_paragraph
    if created is not None and created.replace(tzinfo=created.tzinfo or UTC) != _PYTHON_DOCX_TEMPLATE_CREATED:
        content.year = _year_from(created)
    if not content.sections:
        content.warnings.append(
            "no text found in the DOCX (images only?): add the text, or export it to PDF and OCR it."
        )
    return content


_READERS: dict[str, Callable[[bytes, str], _Content]] = {
    ".pdf": _read_pdf,
    ".txt": _read_txt,
    ".md": _read_md,
    ".html": _read_html,
    ".htm": _read_html,
    ".docx": _read_docx,
}
