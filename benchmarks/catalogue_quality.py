"""Precision and recall of the programme catalogue against hand-checked lists.

Usage:
  python benchmarks/catalogue_quality.py [--gold evals/programmes_gold.json] [--out benchmarks/results]
  python benchmarks/catalogue_quality.py --leave-one-out [--corpus corpus]
         [--gold-by-publication evals/programmes_gold_by_publication.json] [--out benchmarks/results]

Default mode: reads the chunks of the current index (run `make index` first), builds the catalogue as `ingest`
does, and scores it against evals/programmes_gold.json. Writes results/catalogue-DATE.{json,md}.

--leave-one-out: the rules were written while reading every publication of the corpus, so the default figure is
in-sample. This mode reads, cleans and cuts each file of --corpus as `ingest` does (no index needed), builds the
catalogue from ONE publication's chunks at a time (as if it were a new publication dropped into an empty corpus;
the rules are the code as it is), and scores it against that publication's hand-checked list in
evals/programmes_gold_by_publication.json. One row per publication, their micro-average (counts summed over the
publications), the in-sample row (the catalogue built from all publications together, scored against the union
of the per-publication lists in the same way) and the gap (in-sample recall minus left-out recall).
Writes results/catalogue-loo-DATE.{json,md}.

Scores:
- names: an extracted programme is right when one of its variants matches a gold entry's name or variant (same
  name without article, accents or case); gold entries marked `uncertain` are left out of recall for the
  strict figure; names the gold list `excluded` count as wrong;
- publications: (programme, file) pairs, over the programmes found;
- partners, funders, places: over the gold programmes in `partners_checked` (every entry of a per-publication
  list) that were found; a value is right when its distinctive words match a gold value's
  (`Région Bourgogne` = `Bourgogne`); partners are scored with the funders included (a funder is a partner);
- dates: (programme, start year) pairs over the gold programmes found, where the gold list states starts (the
  per-publication lists do): the catalogue's stated starts against the years the publication states.
Writes a dated JSON and Markdown table, and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from assistant27.chunking import chunk_publication
from assistant27.config import Settings
from assistant27.errors import ReadError
from assistant27.indexing import clean_publication
from assistant27.programmes import Catalogue, Programme, build_catalogue, catalogue_publishers, name_key, same_body
from assistant27.readers import SUPPORTED_SUFFIXES, find_publications, load_catalogue, read_publication
from assistant27.schema import Chunk

FACTS = ("partners", "funders", "places")
RECALLS = ("names_all", "names_major", "partners", "funders", "places", "dates")


def same_value(a: str, b: str) -> bool:
    """`Région Bourgogne` and `Bourgogne` name one partner (the catalogue's own rule)."""
    return same_body(a, b)


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def _pairs(tp: int, fp: int, fn: int) -> dict:
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "tp": tp, "fp": fp, "fn": fn}


def score(programmes: list[Programme], gold: dict) -> dict:
    """Names, publications, partners, funders, places (and dates where the gold list states starts) of a catalogue."""
    entries = gold["programmes"]
    gold_keys = [{name_key(v) for v in [g["name"], *g.get("variants", [])]} for g in entries]
    excluded = {name_key(e["name"]) for e in gold.get("excluded", [])}

    def match(p: Programme) -> int | None:
        keys = {name_key(v) for v in [p.name, *p.variants]}
        return next((i for i, g in enumerate(gold_keys) if keys & g), None)

    matched: dict[int, Programme] = {}
    wrong = []
    for p in programmes:
        i = match(p)
        if i is None:
            wrong.append({"name": p.name, "excluded_by_gold": name_key(p.name) in excluded})
        else:
            matched.setdefault(i, p)
    right = len(programmes) - len(wrong)
    certain = [i for i, g in enumerate(entries) if not g.get("uncertain")]
    major = [i for i, g in enumerate(entries) if g.get("importance") == "major"]
    # Raw counts, so that several publications can be summed (a micro-average) rather than their ratios averaged.
    counts = {
        "right": right,
        "extracted": len(programmes),
        "found": len(matched),
        "gold": len(entries),
        "found_certain": sum(i in matched for i in certain),
        "certain": len(certain),
        "found_major": sum(i in matched for i in major),
        "major": len(major),
    }
    out: dict = {
        "extracted": len(programmes),
        "gold": len(entries),
        "names": {**_name_ratios(counts), "n": counts},
        "wrong_names": wrong,
        "missed_major": [entries[i]["name"] for i in major if i not in matched],
    }
    # Publications of the programmes found.
    tp = fp = fn = 0
    for i, p in matched.items():
        gold_sources = set(entries[i].get("publications", []))
        tp += len(set(p.sources) & gold_sources)
        fp += len(set(p.sources) - gold_sources)
        fn += len(gold_sources - set(p.sources))
    out["publications"] = _pairs(tp, fp, fn)
    checked = {name_key(n) for n in gold.get("partners_checked", [])}
    for kind in FACTS:
        tp = fp = fn = 0
        for i, p in matched.items():
            if name_key(entries[i]["name"]) not in checked:
                continue
            got = [f.value for f in getattr(p, kind)]
            want = entries[i].get(kind, [])
            if kind == "partners":  # funders are partners too in the gold list's reading
                want = [*want, *entries[i].get("funders", [])]
                got = [*got, *[f.value for f in p.funders]]
            tp += sum(any(same_value(g, w) for w in want) for g in got)
            fp += sum(not any(same_value(g, w) for w in want) for g in got)
            fn += sum(not any(same_value(g, w) for g in got) for w in want)
        out[kind] = _pairs(tp, fp, fn)
    if any("starts" in g for g in entries):
        tp = fp = fn = 0
        for i, p in matched.items():
            got = {d.start for d in p.dates}
            want = set(entries[i].get("starts", []))
            tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        out["dates"] = _pairs(tp, fp, fn)
    return out


def _name_ratios(n: Mapping[str, int]) -> dict:
    return {
        "precision": _ratio(n["right"], n["extracted"]),
        "recall_all": _ratio(n["found"], n["gold"]),
        "recall_certain": _ratio(n["found_certain"], n["certain"]),
        "recall_major": _ratio(n["found_major"], n["major"]),
        "counts": f"{n['right']}/{n['extracted']} right; found {n['found']}/{n['gold']} gold "
        f"({n['found_major']}/{n['major']} major)",
    }


def micro_average(results: Iterable[dict]) -> dict:
    """Counts summed over several scores (publications), ratios recomputed from the sums."""
    results = list(results)
    names = {k: sum(r["names"]["n"][k] for r in results) for k in results[0]["names"]["n"]}
    out: dict = {"names": {**_name_ratios(names), "n": names}}
    for kind in ("publications", *FACTS, "dates"):
        if all(kind in r for r in results):
            out[kind] = _pairs(*(sum(r[kind][k] for r in results) for k in ("tp", "fp", "fn")))
    return out


def recalls(result: dict) -> dict[str, float | None]:
    """The recall figures compared between in-sample and left-out."""
    return {
        "names_all": result["names"]["recall_all"],
        "names_major": result["names"]["recall_major"],
        **{kind: result[kind]["recall"] for kind in (*FACTS, "dates") if kind in result},
    }


# --- the leave-one-out split -----------------------------------------------------------------------------


def publication_chunks(corpus_dir: Path, settings: Settings) -> tuple[dict[str, list[Chunk]], list[str]]:
    """Each publication's chunks, read, cleaned and cut as `ingest` does; and the files that could not be read.

    Reads the files directly, so it needs no index and works on any corpus folder.
    """
    entries = load_catalogue(corpus_dir / "catalogue.csv")
    chunks: dict[str, list[Chunk]] = {}
    skipped = []
    for path in find_publications(corpus_dir):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            pub = read_publication(path, corpus_dir, entries)
        except ReadError as exc:  # one unreadable file costs that file only
            skipped.append(str(exc))
            continue
        clean_publication(pub)
        chunks[pub.source] = chunk_publication(
            pub, max_words=settings.chunk_words, overlap_words=settings.chunk_overlap_words
        )
    return chunks, skipped


def build(chunks: Sequence[Chunk], catalogue_csv: Path) -> Catalogue:
    """The catalogue of these chunks, with the corpus's publishers (as `ingest` does)."""
    return build_catalogue(chunks, catalogue_publishers(catalogue_csv))


def catalogues_by_publication(chunks: Mapping[str, Sequence[Chunk]], catalogue_csv: Path) -> dict[str, Catalogue]:
    """One catalogue per publication, each built from that publication's chunks alone."""
    return {source: build(own, catalogue_csv) for source, own in chunks.items()}


def as_read_in(programmes: Iterable[Programme], source: str) -> list[Programme]:
    """What a catalogue holds from one publication: the programmes it names, with the facts and dates read there.

    Scores the in-sample catalogue against one publication's list with the same denominators as its left-out row.
    """
    out = []
    for p in programmes:
        mentions = [m for m in p.mentions if m.source == source]
        if not any(m.named for m in mentions):
            continue
        out.append(
            replace(
                p,
                mentions=mentions,
                **{kind: [f for f in getattr(p, kind) if source in f.sources] for kind in FACTS},
                dates=[d for d in p.dates if d.source == source],
            )
        )
    return out


def publication_gold(by_publication: dict, source: str) -> dict:
    """One publication's hand-checked list in the shape `score` reads: every entry's facts and starts checked."""
    listed = by_publication["publications"][source]
    programmes = [{**p, "publications": [source]} for p in listed["programmes"]]
    return {
        "programmes": programmes,
        "partners_checked": [p["name"] for p in programmes],
        "excluded": listed.get("excluded", []),
    }


def union_gold(by_publication: dict, sources: Iterable[str]) -> dict:
    """The per-publication lists of `sources` merged by programme name: what the whole corpus says of each."""
    merged: dict[str, dict] = {}
    for source in sources:
        for p in by_publication["publications"][source]["programmes"]:
            entry = merged.setdefault(
                name_key(p["name"]),
                {
                    "name": p["name"],
                    "kind": p["kind"],
                    "variants": [],
                    "publications": [],
                    "starts": [],
                    "importance": "minor",
                    "uncertain": True,
                    **{kind: [] for kind in FACTS},
                },
            )
            entry["publications"].append(source)
            for field in ("variants", *FACTS):
                known = {name_key(v) for v in entry[field]}
                entry[field] += [v for v in p.get(field, []) if name_key(v) not in known]
            entry["starts"] = sorted({*entry["starts"], *p.get("starts", [])})
            if p.get("importance") == "major":
                entry["importance"] = "major"
            entry["uncertain"] = entry["uncertain"] and bool(p.get("uncertain"))
    names = {key for e in merged.values() for key in {name_key(v) for v in [e["name"], *e["variants"]]}}
    excluded = {}
    for source in sources:
        for e in by_publication["publications"][source].get("excluded", []):
            if name_key(e["name"]) not in names:  # a name one publication's programme bears is no false positive
                excluded.setdefault(name_key(e["name"]), e)
    programmes = list(merged.values())
    return {
        "programmes": programmes,
        "partners_checked": [p["name"] for p in programmes],
        "excluded": list(excluded.values()),
    }


def leave_one_out(corpus_dir: Path, by_publication: dict, settings: Settings) -> dict:
    """Each publication scored on the catalogue built from it alone; their micro-average; the in-sample figure."""
    chunks, skipped = publication_chunks(corpus_dir, settings)
    if not chunks:
        raise SystemExit(f"Error: no readable publication in {corpus_dir}/. Give the corpus folder with --corpus.")
    listed = by_publication["publications"]
    scored = [s for s in chunks if s in listed]
    unlisted = sorted(set(chunks) - set(listed))
    if not scored:
        raise SystemExit(
            f"Error: none of the publications of {corpus_dir}/ has a hand-checked list in the per-publication gold "
            "file. Add one per publication (see its description), or give the right file with --gold-by-publication."
        )
    rows = {}
    for source, catalogue in catalogues_by_publication(
        {s: chunks[s] for s in scored}, corpus_dir / "catalogue.csv"
    ).items():
        row = score(catalogue.programmes, publication_gold(by_publication, source))
        row["chunks"] = len(chunks[source])
        rows[source] = row
    left_out = micro_average(rows.values())
    started = time.perf_counter()
    together = build([c for s in scored for c in chunks[s]], corpus_dir / "catalogue.csv")
    build_s = round(time.perf_counter() - started, 2)
    in_sample = score(together.programmes, union_gold(by_publication, scored))
    read_in = {s: score(as_read_in(together.programmes, s), publication_gold(by_publication, s)) for s in scored}
    in_sample_by_publication = micro_average(read_in.values())
    return {
        "publications": rows,
        "left_out": left_out,
        "in_sample": in_sample,
        "recall_gap": _gap(in_sample, left_out),
        "in_sample_by_publication": {"publications": read_in, "micro_average": in_sample_by_publication},
        "recall_gap_by_publication": _gap(in_sample_by_publication, left_out),
        "chunks": sum(len(chunks[s]) for s in scored),
        "build_s": build_s,
        "not_scored": unlisted,
        "skipped": skipped,
    }


def _gap(in_sample: dict, left_out: dict) -> dict[str, float | None]:
    """In-sample recall minus left-out recall, figure by figure."""
    a, b = recalls(in_sample), recalls(left_out)
    return {k: round(a[k] - b[k], 3) if a.get(k) is not None and b.get(k) is not None else None for k in RECALLS}


# --- reports -----------------------------------------------------------------------------------------------


def markdown(result: dict) -> str:
    n = result["names"]
    lines = [
        f"# Programme catalogue vs hand-checked list ({result['date']})",
        "",
        f"Command: `{result['command']}`; {result['chunks']} chunks; built in {result['build_s']} s.",
        "",
        "| what | precision | recall |",
        "|---|---|---|",
        f"| programme names | {n['precision']} | {n['recall_all']} all, {n['recall_certain']} certain, {n['recall_major']} major |",
    ]
    for kind in ("publications", *FACTS):
        r = result[kind]
        lines.append(
            f"| {kind} | {r['precision']} ({r['tp']}/{r['tp'] + r['fp']}) | {r['recall']} ({r['tp']}/{r['tp'] + r['fn']}) |"
        )
    lines += [
        "",
        f"Names: {n['counts']}.",
        "",
        "Wrong names: " + (", ".join(w["name"] for w in result["wrong_names"]) or "none") + ".",
        "",
        "Major programmes missed: " + (", ".join(result["missed_major"]) or "none") + ".",
    ]
    return "\n".join(lines) + "\n"


def _num(x: float | None) -> str:
    return "–" if x is None else str(x)


def _cell(r: dict | None) -> tuple[str, str]:
    """(precision, recall) cells with their counts: `0.875 (7/8)`; `– (0/0)` where there is nothing to count."""
    if r is None:
        return "", ""
    return (
        f"{_num(r['precision'])} ({r['tp']}/{r['tp'] + r['fp']})",
        f"{_num(r['recall'])} ({r['tp']}/{r['tp'] + r['fn']})",
    )


def _row(label: str, r: dict) -> str:
    n = r["names"]["n"]
    cells = [
        label,
        f"{_num(r['names']['precision'])} ({n['right']}/{n['extracted']})",
        f"{_num(r['names']['recall_all'])} ({n['found']}/{n['gold']})",
        f"{_num(r['names']['recall_major'])} ({n['found_major']}/{n['major']})",
    ]
    for kind in (*FACTS, "dates"):
        cells += _cell(r.get(kind))
    return "| " + " | ".join(cells) + " |"


def loo_markdown(result: dict) -> str:
    lines = [
        f"# Programme catalogue on publications its rules were not written from ({result['date']})",
        "",
        f"Command: `{result['command']}`; {result['chunks']} chunks. Each row: the catalogue built from that "
        "publication alone, scored against its list in evals/programmes_gold_by_publication.json. In-sample: built "
        f"from all of them together ({result['build_s']} s), scored against the union of the lists.",
        "",
        "| catalogue | names P | names R all | names R major | partners P | partners R | funders P | funders R "
        "| places P | places R | dates P | dates R |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row(source, r) for source, r in result["publications"].items()]
    lines += [_row("**left out, micro-average**", result["left_out"]), _row("**in-sample**", result["in_sample"])]
    lines += [
        "",
        "Recall gap, in-sample minus left-out: " + _gap_text(result["recall_gap"]) + ".",
        "",
        "The in-sample row counts a programme once (the union of the lists: "
        f"{result['in_sample']['names']['n']['gold']} entries), the left-out rows once per publication that names it "
        f"({result['left_out']['names']['n']['gold']}). The same in-sample catalogue read one publication at a time "
        "(its programmes named there, with the facts and dates read there), against the same lists as the "
        "left-out rows:",
        "",
        "| in-sample catalogue, read in | names P | names R all | names R major | partners P | partners R "
        "| funders P | funders R | places P | places R | dates P | dates R |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_publication = result["in_sample_by_publication"]
    lines += [_row(source, r) for source, r in by_publication["publications"].items()]
    lines += [
        _row("**micro-average**", by_publication["micro_average"]),
        "",
        "Recall gap, in-sample read per publication minus left-out: "
        + _gap_text(result["recall_gap_by_publication"])
        + ".",
        "",
        "Target (later issue): names and partners precision ≥ 0.85 left out, recall within 0.10 of in-sample: "
        + _target(result)
        + ".",
        "",
    ]
    for source, r in result["publications"].items():
        wrong = ", ".join(w["name"] + (" (excluded)" if w["excluded_by_gold"] else "") for w in r["wrong_names"])
        lines.append(
            f"- {source}: wrong names: {wrong or 'none'}; major missed: {', '.join(r['missed_major']) or 'none'}."
        )
    if result["not_scored"]:
        lines += ["", "Not scored (no hand-checked list): " + ", ".join(result["not_scored"]) + "."]
    if result["skipped"]:
        lines += ["", "Skipped (unreadable): " + "; ".join(result["skipped"])]
    return "\n".join(lines) + "\n"


def _gap_text(gap: Mapping[str, float | None]) -> str:
    return ", ".join(f"{k} {g:+.3f}" for k, g in gap.items() if g is not None)


def _target(result: dict) -> str:
    left = result["left_out"]
    misses = []
    for kind, p in (("names", left["names"]["precision"]), ("partners", left["partners"]["precision"])):
        if p is None or p < 0.85:
            misses.append(f"{kind} precision {_num(p)}")
    for against, gap in (("union", result["recall_gap"]), ("per publication", result["recall_gap_by_publication"])):
        misses += [f"{k} recall gap {g:+.3f} ({against})" for k, g in gap.items() if g is not None and g > 0.10]
    return "met" if not misses else "not met (" + "; ".join(misses) + ")"


def _write(result: dict, stem: Path, text: str) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    stem.with_suffix(".md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, default=Path("evals/programmes_gold.json"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--leave-one-out", action="store_true", help="score each publication's own catalogue")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="corpus folder (--leave-one-out)")
    parser.add_argument("--gold-by-publication", type=Path, default=Path("evals/programmes_gold_by_publication.json"))
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    today = dt.date.today().isoformat()
    if args.leave_one_out:
        try:
            by_publication = json.loads(args.gold_by_publication.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(
                f"Error: cannot read {args.gold_by_publication} ({exc}). Give the per-publication gold file "
                "with --gold-by-publication."
            ) from exc
        result = leave_one_out(args.corpus, by_publication, settings)
        command = "python benchmarks/catalogue_quality.py --leave-one-out"
        if args.corpus != Path("corpus"):
            command += f" --corpus {args.corpus}"
        result = {"date": today, "command": command, **result}
        _write(result, args.out / f"catalogue-loo-{today}", loo_markdown(result))
        return 0
    from assistant27.store import ChunkStore  # the index's store, only in this mode (chromadb is slow to import)

    chunks = ChunkStore.open(settings.index_dir, settings.chroma_url).all_chunks()
    started = time.perf_counter()
    catalogue = build(chunks, settings.catalogue_path)
    build_s = round(time.perf_counter() - started, 2)
    result = score(catalogue.programmes, json.loads(args.gold.read_text(encoding="utf-8")))
    result.update(date=today, command="python benchmarks/catalogue_quality.py", chunks=len(chunks), build_s=build_s)
    _write(result, args.out / f"catalogue-{today}", markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
