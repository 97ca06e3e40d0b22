"""Check an evaluation set (JSON Lines) against the contract in EVAL_FORMAT.md.

Usage: python3 evals/check_set.py evals/publications.jsonl [--corpus corpus]

Besides the fields of EVAL_FORMAT.md, an item may carry an optional `tags` list (see TAGS below);
the summary counts the items per tag.

Standalone on purpose (standard library only, pypdf for PDFs; no project imports), so the set can be
validated before, and independently of, the system it is meant to measure.
Exit status: 0 when every item is valid, 1 with the list of problems otherwise, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
import unicodedata
import zipfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

TYPES = ("factual", "list", "definition", "synthesis", "english", "cross-doc", "unanswerable")
FIELDS = ("id", "question", "type", "answer", "must_include", "source", "evidence", "year")
OPTIONAL_FIELDS = ("tags",)
# Optional `tags`: a list of strings drawn from TAGS. An item tagged with any of PROGRAMME_TAGS carries
# every tag of REQUIRED_TAGS and exactly one tag of KIND_TAGS (what kind of programme question it is).
# `hard`: an unanswerable question asking a fact of a kind the publications hold but do not state;
# `lookalike`: an answerable question phrased like those, so that refusing everything scores badly.
TAGS = ("programmes", "list", "timeline", "comparison", "hard", "lookalike")
REQUIRED_TAGS = ("programmes",)
KIND_TAGS = ("list", "timeline", "comparison")
PROGRAMME_TAGS = REQUIRED_TAGS + KIND_TAGS
EVIDENCE_MIN, EVIDENCE_MAX = 40, 200

# Typographic apostrophes, quotes and dashes mapped to ASCII before anything else.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00ad": "",
    }
)
# A word cut by a hyphen at a line end. Two variants are checked: the contract says "word",
# and a runner may or may not treat digits as word characters ("(2012-\n2014)").
_HYPHEN_ANY = re.compile(r"(\w)-[ \t]*\r?\n[ \t]*(\w)")
_HYPHEN_LETTERS = re.compile(r"([^\W\d_])-[ \t]*\r?\n[ \t]*([^\W\d_])")
_NON_ALNUM = re.compile(r"[\W_]+")

# Markers of informal French (SMS spelling); only used to count informal questions.
_SMS = re.compile(
    r"\b(c|koi|kwa|ki|kel|kelle|kels|cb|cmb|pk|pq|stp|svp|ya|jsp|qd|bcp|tt|dadhesions|"
    r"cest|jusqua|kesk|keske|sa fait)\b"
)
_ENGLISH = re.compile(r"\b(what|which|who|when|where|how|why|did|does|is|are|the)\b", re.I)


def normalise(text: str, hyphen: re.Pattern[str] = _HYPHEN_ANY) -> str:
    """Normalise text as EVAL_FORMAT.md defines it, for substring comparisons."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    text = hyphen.sub(r"\1\2", text)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = text.casefold()
    return _NON_ALNUM.sub(" ", text).strip()


class _HTMLText(HTMLParser):
    """All text of an HTML page (menus included), a line per block; scripts and styles left out."""

    _SKIP = {"script", "style", "template", "noscript"}
    _BLOCKS = {"p", "div", "li", "tr", "td", "th", "br", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
               "header", "footer", "nav", "main", "aside", "dt", "dd", "blockquote", "pre", "figcaption", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def read_text(path: Path) -> str:
    """The text of one corpus file, read independently of the system under test.

    .txt and .md as they are; .html/.htm through the standard library's parser; .docx from its XML;
    .pdf through pypdf (the one non-standard import, needed only for PDFs: run with the project's
    .venv/bin/python), pages joined with newlines.
    """
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md", ".markdown"):
        return path.read_text(encoding="utf-8")
    if suffix in (".html", ".htm"):
        parser = _HTMLText()
        parser.feed(path.read_bytes().decode("utf-8", errors="replace"))
        return "".join(parser.parts)
    if suffix == ".docx":
        with zipfile.ZipFile(path) as archive:
            xml = archive.read("word/document.xml").decode("utf-8")
        xml = re.sub(r"</w:p>", "\n", xml)
        return html.unescape(re.sub(r"<[^>]+>", "", xml))
    if suffix == ".pdf":
        try:
            from pypdf import PdfReader
        except ImportError as error:  # the checker stays standard-library-only for text corpora
            raise SystemExit(f"Error: {path.name} is a PDF; run with .venv/bin/python (pypdf): {error}") from error
        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    raise SystemExit(f"Error: {path.name}: no reader for {suffix!r} files (txt, md, html, htm, docx, pdf)")


CORPUS_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf")


def load_corpus(corpus: Path) -> tuple[dict[str, tuple[str, str]], dict[str, int]]:
    """Return {file name: (normalised text, letters-only variant)} and {file name: catalogue year}."""
    texts = {
        path.name: (normalise(raw), normalise(raw, _HYPHEN_LETTERS))
        for path in sorted(corpus.iterdir())
        if path.is_file() and path.suffix.lower() in CORPUS_SUFFIXES
        for raw in [read_text(path)]
    }
    years: dict[str, int] = {}
    catalogue = corpus / "catalogue.csv"
    if catalogue.exists():
        with catalogue.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    years[row["file"]] = int(row["year"])
                except (KeyError, ValueError):
                    continue
    return texts, years


def is_informal(item: dict) -> bool:
    """Heuristic: a French question typed casually (lower-case start or SMS spelling)."""
    question = str(item.get("question", "")).strip()
    if item.get("type") == "english" or not question:
        return False
    first = next((c for c in question if c.isalpha()), "")
    return first.islower() or bool(_SMS.search(normalise(question)))


def is_english(item: dict) -> bool:
    """Heuristic for English questions that are not typed `english` (e.g. unanswerable ones)."""
    question = str(item.get("question", ""))
    return item.get("type") == "english" or (question.isascii() and len(_ENGLISH.findall(question)) >= 2)


def check_evidence(
    where: str, source: object, evidence: object, year: object, texts: dict[str, tuple[str, str]], years: dict[str, int]
) -> list[str]:
    """Problems with one (source, evidence, year) triple."""
    problems = []
    if not isinstance(source, str) or source not in texts:
        return [f"{where}: source {source!r} is not a file of the corpus"]
    if not isinstance(evidence, str):
        return [f"{where}: evidence must be a string, got {type(evidence).__name__}"]
    if not EVIDENCE_MIN <= len(evidence) <= EVIDENCE_MAX:
        problems.append(f"{where}: evidence is {len(evidence)} characters, must be {EVIDENCE_MIN} to {EVIDENCE_MAX}")
    any_join, letters_join = texts[source]
    if normalise(evidence) not in any_join or normalise(evidence, _HYPHEN_LETTERS) not in letters_join:
        problems.append(f"{where}: evidence not found in {source}: {evidence[:80]!r}")
    if isinstance(year, bool) or not isinstance(year, int):
        problems.append(f"{where}: year must be an integer, got {year!r}")
    elif source in years and years[source] != year:
        problems.append(f"{where}: year {year} but catalogue.csv says {years[source]} for {source}")
    return problems


def check_tags(where: str, tags: object) -> list[str]:
    """Problems with the optional `tags` field."""
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag.strip() for tag in tags):
        return [f"{where}: tags must be a list of non-empty strings"]
    problems = [f"{where}: tag {tag!r} is not one of {', '.join(TAGS)}" for tag in tags if tag not in TAGS]
    if len(set(tags)) != len(tags):
        problems.append(f"{where}: tags must not repeat")
    if not any(tag in PROGRAMME_TAGS for tag in tags):
        return problems
    problems += [f"{where}: tags must include {tag!r}" for tag in REQUIRED_TAGS if tag not in tags]
    kinds = [tag for tag in dict.fromkeys(tags) if tag in KIND_TAGS]
    if len(kinds) != 1:
        problems.append(f"{where}: tags must include exactly one of {', '.join(KIND_TAGS)}, got {len(kinds)}")
    return problems


def check_item(item: dict, texts: dict[str, tuple[str, str]], years: dict[str, int]) -> list[str]:
    """Problems with one item (fields, types, evidence, must_include)."""
    where = f"item {item.get('id', '?')}"
    missing = [field for field in FIELDS if field not in item]
    if missing:
        return [f"{where}: missing field(s) {', '.join(missing)}"]
    problems = [f"{where}: unexpected field {key!r}" for key in item if key not in FIELDS + OPTIONAL_FIELDS]
    if "tags" in item:
        problems += check_tags(where, item["tags"])
        tags = item["tags"] if isinstance(item["tags"], list) else []
        if "hard" in tags and item.get("type") != "unanswerable":
            problems.append(f"{where}: tag 'hard' is for unanswerable items")
        if "lookalike" in tags and item.get("type") == "unanswerable":
            problems.append(f"{where}: tag 'lookalike' is for answerable items")
    for field in ("id", "question", "answer"):
        if not isinstance(item[field], str) or not item[field].strip():
            problems.append(f"{where}: {field} must be a non-empty string")
    kind = item["type"]
    if kind not in TYPES:
        return problems + [f"{where}: type {kind!r} is not one of {', '.join(TYPES)}"]

    groups = item["must_include"]
    if not isinstance(groups, list):
        return problems + [f"{where}: must_include must be a list of lists of strings"]

    if kind == "unanswerable":
        if groups:
            problems.append(f"{where}: unanswerable item must have must_include []")
        for field in ("source", "evidence", "year"):
            if item[field] is not None:
                problems.append(f"{where}: unanswerable item must have {field} null")
        return problems

    if not groups:
        problems.append(f"{where}: answerable item needs at least one must_include group")
    answer = normalise(str(item["answer"]))
    for number, group in enumerate(groups, 1):
        if (
            not isinstance(group, list)
            or not group
            or not all(isinstance(alt, str) and normalise(alt) for alt in group)
        ):
            problems.append(f"{where}: must_include group {number} must be a non-empty list of strings")
            continue
        if not any(normalise(alt) in answer for alt in group):
            problems.append(f"{where}: no alternative of must_include group {group} is in the answer")

    if kind == "cross-doc":
        source, evidence, year = item["source"], item["evidence"], item["year"]
        if not all(isinstance(value, list) for value in (source, evidence, year)):
            return problems + [f"{where}: cross-doc source, evidence and year must be lists"]
        if not len(source) == len(evidence) == len(year) or len(source) < 2:
            problems.append(f"{where}: cross-doc needs 2+ sources with as many evidences and years")
        if len(set(map(str, source))) != len(source):
            problems.append(f"{where}: cross-doc sources must be distinct publications")
        for number, triple in enumerate(zip(source, evidence, year, strict=False), 1):
            problems += check_evidence(f"{where} (evidence {number})", *triple, texts, years)
    else:
        problems += check_evidence(where, item["source"], item["evidence"], item["year"], texts, years)
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check the set, print the problems and the counts; return the exit status."""
    parser = argparse.ArgumentParser(description="Check an evaluation set against EVAL_FORMAT.md.")
    parser.add_argument("set", type=Path, help="the JSON Lines file to check")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="corpus folder")
    args = parser.parse_args(argv)
    if not args.set.is_file():
        print(f"Error: no file {args.set}. Give the path of a .jsonl set.", file=sys.stderr)
        return 2
    if not args.corpus.is_dir():
        print(f"Error: no corpus folder {args.corpus}. Pass --corpus PATH.", file=sys.stderr)
        return 2
    texts, years = load_corpus(args.corpus)

    problems: list[str] = []
    items: list[dict] = []
    for number, line in enumerate(args.set.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"line {number}: not valid JSON ({error})")
            continue
        if not isinstance(item, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        items.append(item)
        problems += check_item(item, texts, years)

    ids = Counter(str(item.get("id")) for item in items)
    problems += [f"id {key} is used {count} times" for key, count in ids.items() if count > 1]
    questions = Counter(str(item.get("question", "")).strip().casefold() for item in items)
    problems += [f"question repeated {count} times: {q!r}" for q, count in questions.items() if count > 1]

    per_type = Counter(item.get("type") for item in items)
    per_publication: Counter[str] = Counter()
    for item in items:
        sources = item.get("source")
        for source in sources if isinstance(sources, list) else [sources]:
            if source is not None:
                per_publication[str(source)] += 1

    print(f"{args.set}: {len(items)} items")
    print("per type:")
    for kind in TYPES:
        print(f"  {kind:<13} {per_type.get(kind, 0)}")
    print("per publication (a cross-doc item counts for each of its sources):")
    for name in sorted(texts):
        print(f"  {name:<38} {per_publication.get(name, 0)}")
    print(f"informal French questions (heuristic): {sum(map(is_informal, items))}")
    print(
        f"english questions: {per_type.get('english', 0)} typed english, "
        f"{sum(map(is_english, items))} in English in all (heuristic)"
    )
    print(f"cross-doc: {per_type.get('cross-doc', 0)}")
    print(f"unanswerable: {per_type.get('unanswerable', 0)}")
    per_tag = Counter(
        tag for item in items if isinstance(item.get("tags"), list) for tag in set(map(str, item["tags"]))
    )
    print(f"tagged: {sum(1 for item in items if 'tags' in item)} item(s); per tag:")
    for tag in TAGS + tuple(sorted(set(per_tag) - set(TAGS))):
        print(f"  {tag:<13} {per_tag.get(tag, 0)}")

    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("OK: every item is valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
