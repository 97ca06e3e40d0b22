"""Precision and recall of the programme catalogue against the hand-checked list in evals/programmes_gold.json.

Usage: python benchmarks/catalogue_quality.py [--gold evals/programmes_gold.json] [--out benchmarks/results]

Reads the chunks of the current index (run `make index` first), builds the catalogue as `ingest` does, and
scores it:
- names: an extracted programme is right when one of its variants matches a gold entry's variant (same
  name without article, accents or case); gold entries marked `uncertain` are left out of recall for the
  strict figure; names the gold list `excluded` count as wrong;
- publications: (programme, file) pairs, over the programmes found;
- partners, funders, places: over the gold programmes in `partners_checked` that were found; a value is
  right when its distinctive words match a gold value's (`Région Bourgogne` = `Bourgogne`).
Writes a dated JSON and Markdown table, and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from assistant27.config import Settings
from assistant27.programmes import Programme, build_catalogue, name_key, same_body
from assistant27.store import ChunkStore


def same_value(a: str, b: str) -> bool:
    """`Région Bourgogne` and `Bourgogne` name one partner (the catalogue's own rule)."""
    return same_body(a, b)


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def score(programmes: list[Programme], gold: dict) -> dict:
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
    out: dict = {
        "extracted": len(programmes),
        "gold": len(entries),
        "names": {
            "precision": _ratio(right, len(programmes)),
            "recall_all": _ratio(len(matched), len(entries)),
            "recall_certain": _ratio(sum(i in matched for i in certain), len(certain)),
            "recall_major": _ratio(sum(i in matched for i in major), len(major)),
            "counts": f"{right}/{len(programmes)} right; found {len(matched)}/{len(entries)} gold "
            f"({sum(i in matched for i in major)}/{len(major)} major)",
        },
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
    out["publications"] = {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "tp": tp, "fp": fp, "fn": fn}
    checked = {name_key(n) for n in gold.get("partners_checked", [])}
    for kind in ("partners", "funders", "places"):
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
        out[kind] = {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "tp": tp, "fp": fp, "fn": fn}
    return out


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
    for kind in ("publications", "partners", "funders", "places"):
        r = result[kind]
        lines.append(f"| {kind} | {r['precision']} ({r['tp']}/{r['tp'] + r['fp']}) | {r['recall']} ({r['tp']}/{r['tp'] + r['fn']}) |")
    lines += [
        "",
        f"Names: {n['counts']}.",
        "",
        "Wrong names: " + (", ".join(w["name"] for w in result["wrong_names"]) or "none") + ".",
        "",
        "Major programmes missed: " + (", ".join(result["missed_major"]) or "none") + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import time

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, default=Path("evals/programmes_gold.json"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    chunks = ChunkStore.open(settings.index_dir, settings.chroma_url).all_chunks()
    started = time.perf_counter()
    catalogue = build_catalogue(chunks)
    build_s = round(time.perf_counter() - started, 2)
    result = score(catalogue.programmes, json.loads(args.gold.read_text(encoding="utf-8")))
    result.update(
        date=dt.date.today().isoformat(),
        command="python benchmarks/catalogue_quality.py",
        chunks=len(chunks),
        build_s=build_s,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"catalogue-{result['date']}"
    stem.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
