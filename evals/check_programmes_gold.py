"""Check the hand-made gold catalogue of programmes (evals/programmes_gold.json) against the corpus.

Usage: python3 evals/check_programmes_gold.py [evals/programmes_gold.json] [--corpus corpus] [--strict]

Standalone on purpose (standard library only, no project imports), so the gold list can be
validated independently of the extractor it is meant to measure. Checks:
  * the file is valid JSON with the expected fields and types;
  * every evidence quote (40-200 characters) is found in its publication after normalisation
    (NFKC, typographic quotes/dashes to ASCII, words cut by a hyphen at a line end re-joined,
    accents removed, casefold, every run of non-alphanumerics to one space: the same
    normalisation as evals/check_set.py);
  * every publication listed for a programme has an evidence quote, and at least one of the
    programme's variants occurs there (as whole words, after normalisation);
  * the years are exactly the catalogue.csv years of the listed publications;
  * the names in partners_checked are names of programmes of the list.
With --strict, also reports quotes not found verbatim (whitespace runs collapsed, words cut at a line end re-joined).
Exit status: 0 when everything is valid, 1 with the list of problems otherwise, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from pathlib import Path

KINDS = ("programme", "projet", "réseau")
IMPORTANCE = ("major", "minor")
EVIDENCE_MIN, EVIDENCE_MAX = 40, 200
LIST_FIELDS = ("variants", "publications", "years", "partners", "funders", "places")
OPTIONAL_FIELDS = ("note", "uncertain", "importance", "people")

# Typographic apostrophes, quotes and dashes mapped to ASCII before anything else
# (copied from evals/check_set.py).
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
# A word cut by a hyphen at a line end; both variants of evals/check_set.py are required to match.
_HYPHEN_ANY = re.compile(r"(\w)-[ \t]*\r?\n[ \t]*(\w)")
_HYPHEN_LETTERS = re.compile(r"([^\W\d_])-[ \t]*\r?\n[ \t]*([^\W\d_])")
_NON_ALNUM = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str, hyphen: re.Pattern[str] = _HYPHEN_ANY) -> str:
    """Normalise text as evals/check_set.py does, for substring comparisons."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    text = hyphen.sub(r"\1\2", text)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = text.casefold()
    return _NON_ALNUM.sub(" ", text).strip()


def load_corpus(corpus: Path) -> tuple[dict[str, tuple[str, str, str]], dict[str, int]]:
    """{file: (normalised, letters-only-join normalised, raw with whitespace collapsed)}, {file: year}."""
    texts = {}
    for path in sorted(corpus.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        joined = _HYPHEN_LETTERS.sub(r"\1\2", raw)  # "pro-\ngramme" -> "programme" for the strict check
        texts[path.name] = (normalise(raw), normalise(raw, _HYPHEN_LETTERS), _SPACES.sub(" ", joined))
    years: dict[str, int] = {}
    with (corpus / "catalogue.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            years[row["file"]] = int(row["year"])
    return texts, years


def found(needle: str, text: tuple[str, str, str], words: bool = False) -> bool:
    """Whether needle occurs in a normalised text (both hyphen-joining variants)."""
    a, b = normalise(needle), normalise(needle, _HYPHEN_LETTERS)
    if not a:
        return False
    if words:
        return f" {a} " in f" {text[0]} " and f" {b} " in f" {text[1]} "
    return a in text[0] and b in text[1]


def check_programme(p: object, i: int, texts, years, strict: bool) -> list[str]:
    if not isinstance(p, dict):
        return [f"programme #{i}: not an object"]
    name = p.get("name")
    where = f"programme #{i} {name!r}"
    problems = []
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: name must be a non-empty string")
    expected = {"name", "kind", "evidence", *LIST_FIELDS}
    missing = expected - set(p)
    if missing:
        return problems + [f"{where}: missing field(s) {', '.join(sorted(missing))}"]
    for key in set(p) - expected - set(OPTIONAL_FIELDS):
        problems.append(f"{where}: unexpected field {key!r}")
    if p["kind"] not in KINDS:
        problems.append(f"{where}: kind {p['kind']!r} not in {KINDS}")
    if "importance" in p and p["importance"] not in IMPORTANCE:
        problems.append(f"{where}: importance {p['importance']!r} not in {IMPORTANCE}")
    if "uncertain" in p and not isinstance(p["uncertain"], bool):
        problems.append(f"{where}: uncertain must be true or false")
    if p.get("uncertain") and not p.get("note"):
        problems.append(f"{where}: uncertain entries need a note")
    for field in LIST_FIELDS + (("people",) if "people" in p else ()):
        value = p[field]
        if not isinstance(value, list):
            problems.append(f"{where}: {field} must be a list")
            continue
        if field == "years":
            if not all(isinstance(y, int) and not isinstance(y, bool) for y in value):
                problems.append(f"{where}: years must be integers")
        elif not all(isinstance(s, str) and s.strip() for s in value):
            problems.append(f"{where}: {field} must hold non-empty strings")
        if len(value) != len(set(map(str, value))):
            problems.append(f"{where}: duplicates in {field}")
    if problems:
        return problems
    if not p["variants"]:
        problems.append(f"{where}: no variants")
    if normalise(name) not in {normalise(v) for v in p["variants"]}:
        problems.append(f"{where}: the name should be one of its variants (after normalisation)")
    if not p["publications"]:
        problems.append(f"{where}: no publications")
    for pub in p["publications"]:
        if pub not in texts:
            problems.append(f"{where}: publication {pub!r} is not a file of the corpus")
            continue
        if not any(found(v, texts[pub], words=True) for v in p["variants"]):
            problems.append(f"{where}: none of the variants occurs in {pub}")
    for variant in p["variants"]:
        if not any(found(variant, texts[pub], words=True) for pub in p["publications"] if pub in texts):
            problems.append(f"{where}: variant {variant!r} occurs in none of its publications")
    wanted_years = sorted({years[pub] for pub in p["publications"] if pub in years})
    if sorted(p["years"]) != wanted_years:
        problems.append(f"{where}: years {p['years']} but catalogue.csv gives {wanted_years}")
    if p["years"] != sorted(p["years"]):
        problems.append(f"{where}: years should be sorted")
    evidence = p["evidence"]
    if not isinstance(evidence, dict):
        return problems + [f"{where}: evidence must be an object {{file: quote}}"]
    if set(evidence) != set(p["publications"]):
        problems.append(
            f"{where}: evidence files {sorted(evidence)} differ from publications {sorted(p['publications'])}"
        )
    for pub, quote in evidence.items():
        if pub not in texts:
            problems.append(f"{where}: evidence for unknown file {pub!r}")
            continue
        if not isinstance(quote, str):
            problems.append(f"{where}: evidence for {pub} must be a string")
            continue
        if not EVIDENCE_MIN <= len(quote) <= EVIDENCE_MAX:
            problems.append(f"{where}: evidence for {pub} is {len(quote)} characters, must be {EVIDENCE_MIN}-{EVIDENCE_MAX}")
        if not found(quote, texts[pub]):
            problems.append(f"{where}: evidence not found in {pub}: {quote[:90]!r}")
        elif not any(found(v, (normalise(quote), normalise(quote, _HYPHEN_LETTERS), "")) for v in p["variants"]):
            problems.append(f"{where}: evidence for {pub} does not contain any variant")
        elif strict and _SPACES.sub(" ", quote) not in texts[pub][2]:
            problems.append(f"{where}: (strict) evidence not verbatim in {pub}: {quote[:90]!r}")
    return problems


def check(data: object, texts, years, strict: bool) -> list[str]:
    if not isinstance(data, dict):
        return ["top level must be a JSON object"]
    problems = []
    for key in ("description", "programmes", "partners_checked"):
        if key not in data:
            problems.append(f"missing top-level field {key!r}")
    if problems:
        return problems
    if not isinstance(data["description"], str) or not data["description"].strip():
        problems.append("description must be a non-empty string")
    programmes = data["programmes"]
    if not isinstance(programmes, list) or not programmes:
        return problems + ["programmes must be a non-empty list"]
    names = [p.get("name") for p in programmes if isinstance(p, dict)]
    for name in sorted({n for n in names if names.count(n) > 1}, key=str):
        problems.append(f"duplicate programme name {name!r}")
    for i, p in enumerate(programmes):
        problems.extend(check_programme(p, i, texts, years, strict))
    checked = data["partners_checked"]
    if not isinstance(checked, list) or len(checked) < 10:
        problems.append("partners_checked must list at least 10 programme names")
    else:
        for name in checked:
            if name not in names:
                problems.append(f"partners_checked: {name!r} is not a programme of the list")
    return problems


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="?", default=str(here / "programmes_gold.json"))
    parser.add_argument("--corpus", default=str(here.parent / "corpus"))
    parser.add_argument("--strict", action="store_true", help="also require verbatim quotes (whitespace collapsed)")
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    if not (corpus / "catalogue.csv").exists():
        print(f"no catalogue.csv in {corpus}", file=sys.stderr)
        return 2
    try:
        data = json.loads(Path(args.gold).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"cannot read {args.gold}: {error}", file=sys.stderr)
        return 1
    texts, years = load_corpus(corpus)
    problems = check(data, texts, years, args.strict)
    if problems:
        print(f"{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    programmes = data["programmes"]
    kinds = {k: sum(p["kind"] == k for p in programmes) for k in KINDS}
    print(f"OK: {len(programmes)} programmes ({', '.join(f'{v} {k}' for k, v in kinds.items())}), "
          f"{sum(len(p['evidence']) for p in programmes)} evidence quotes, "
          f"{len(data['partners_checked'])} with partners checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
