"""The command line: assistant27 setup / ingest / ask / search."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from assistant27.config import ENVIRONMENT, Settings
from assistant27.errors import Assistant27Error, ConfigError
from assistant27.schema import page_reference
from assistant27.store import Filters

if TYPE_CHECKING:
    from assistant27.indexing import IngestReport

ENV_HELP = "\b\nEnvironment variables:\n" + "\n".join(f"  {k:<28} {h}" for k, (_f, h) in ENVIRONMENT.items())


class Context:
    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides

    def settings(self, **more: Any) -> Settings:
        return Settings.from_env(**{**self.overrides, **more})


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


@click.group(epilog=ENV_HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--corpus-dir", type=click.Path(path_type=Path), help="Overrides ASSISTANT27_CORPUS_DIR.")
@click.option("--index-dir", type=click.Path(path_type=Path), help="Overrides ASSISTANT27_INDEX_DIR.")
@click.option("--models-dir", type=click.Path(path_type=Path), help="Overrides ASSISTANT27_MODELS_DIR.")
@click.pass_context
def main(ctx: click.Context, corpus_dir: Path | None, index_dir: Path | None, models_dir: Path | None) -> None:
    """assistant27: answers questions about a corpus of publications, with cited sources."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    ctx.obj = Context({"corpus_dir": corpus_dir, "index_dir": index_dir, "models_dir": models_dir})


@main.command()
@click.option("--local/--no-local", default=True, help="Also join the local generator model (1.1 GB).")
@click.pass_obj
def setup(obj: Context, local: bool) -> None:
    """Prepare the model cache: convert the embedder, join the local generator model."""
    try:
        from assistant27.embedconvert import ensure_embedding_model
        from assistant27.models import ensure_local_model

        settings = obj.settings()
        path = ensure_embedding_model(settings.models_dir, progress=lambda m: click.echo(f"  {m}", err=True))
        click.echo(f"embedder ready: {path}")
        if local:
            click.echo(f"local generator ready: {ensure_local_model(settings.models_dir)}")
    except Assistant27Error as exc:
        _fail(exc)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Delete the index and build it again from scratch.")
@click.option("--if-needed", is_flag=True, help="Quiet when nothing changed (used by make run).")
@click.pass_obj
def ingest(obj: Context, paths: tuple[Path, ...], rebuild: bool, if_needed: bool) -> None:
    """Bring the index up to date with the corpus (or with PATHS): only changed files are embedded."""
    try:
        settings = obj.settings()
        lines: list[str] = []
        echo = lines.append if if_needed else click.echo
        report = _ingest(settings, list(paths) or None, rebuild=rebuild, echo=echo)
        if if_needed and (report.count("indexed") or report.count("deleted") or report.count("skipped")):
            for line in lines:
                click.echo(line)
        click.echo(report.summary())
        if report.count("skipped"):
            click.echo(
                f"{report.count('skipped')} file(s) skipped: each SKIPPED line above says why and what to do; "
                "everything else is indexed.",
                err=True,
            )
            sys.exit(1)
    except Assistant27Error as exc:
        _fail(exc)


def _ingest(settings: Settings, paths: list[Path] | None, *, rebuild: bool, echo: Callable[[str], None]) -> IngestReport:
    """Bring settings' index up to date with its corpus (or `paths`), the programme catalogue with it."""
    from assistant27.assistant import make_embedder
    from assistant27.corpus import Corpus
    from assistant27.indexing import clear_index, ingest_lock, load_manifest_embedder
    from assistant27.indexing import ingest as run_ingest
    from assistant27.store import ChunkStore

    # This machine's lock first (it guards the local folder), then the server's lease (other machines).
    with ingest_lock(settings.index_dir):
        built_with = load_manifest_embedder(settings.index_dir)
        if rebuild:
            clear_index(settings.index_dir)
        store = ChunkStore.open(settings.index_dir, settings.chroma_url, create=True)
        # Closed before the lock goes: a serving process reopens the folder as soon as it is free.
        with contextlib.closing(store), store.lease():
            if rebuild and settings.chroma_url:
                store.clear()
            committed = store.committed()
            built_with = (committed.embedder if committed else "") or built_with
            if not rebuild and built_with and built_with != settings.embedder:
                where = settings.chroma_url or f"{settings.index_dir}/"
                raise ConfigError(
                    f"The index in {where} was built with the {built_with!r} embedder, not "
                    f"{settings.embedder!r}. Run: assistant27 ingest --rebuild"
                )
            report = run_ingest(settings, lambda: make_embedder(settings), store, paths, echo=echo)
            view = Corpus.from_settings(store, settings).current()
            if view.catalogue_rebuilt:
                echo(view.catalogue.summary())
    return report


def corpus_settings(settings: Settings, corpus: Path) -> Settings:
    """Settings for evaluating another corpus: its own local index under index/corpora/, never the main one."""
    import hashlib

    digest = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:8]
    return settings.replace(corpus_dir=corpus, index_dir=settings.index_dir / "corpora" / f"{corpus.name}-{digest}", chroma_url="")


def _filters(year_min: int | None, year_max: int | None, kind: tuple[str, ...], source: tuple[str, ...]) -> Filters:
    return Filters(year_min=year_min, year_max=year_max, kinds=tuple(kind), sources=tuple(source))


filter_options = [
    click.option("--year-min", type=int, help="Only publications from this year on."),
    click.option("--year-max", type=int, help="Only publications up to this year."),
    click.option("--kind", multiple=True, help="Only this kind of publication (repeatable)."),
    click.option("--source", multiple=True, help="Only this file of the corpus (repeatable)."),
]


def with_filters(f):  # type: ignore[no-untyped-def]
    for option in reversed(filter_options):
        f = option(f)
    return f


def _where(p: Any) -> str:
    where = f"{p.title}" + (f", {p.year}" if p.year else "")
    if p.page:
        where += ", " + page_reference(p.page, p.page_label)
    elif p.heading:
        where += f", « {p.heading[:60]} »"
    return where


@main.command()
@click.argument("query")
@click.option("--top", default=10, show_default=True, help="Number of passages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--mode", type=click.Choice(["fused", "dense", "bm25"]), default="fused", help="Retrieval mode.")
@with_filters
@click.pass_obj
def search(
    obj: Context,
    query: str,
    top: int,
    as_json: bool,
    mode: str,
    year_min: int | None,
    year_max: int | None,
    kind: tuple[str, ...],
    source: tuple[str, ...],
) -> None:
    """Show the passages that match QUERY (no generation)."""
    from assistant27.assistant import Assistant, ExtractiveGenerator

    try:
        assistant = Assistant.from_settings(obj.settings(), generator=ExtractiveGenerator())
        passages = assistant.search(query, _filters(year_min, year_max, kind, source), top, mode)
    except Assistant27Error as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps([p.to_json() for p in passages], ensure_ascii=False, indent=1))
        return
    for p in passages:
        click.echo(click.style(f"[{p.rank}] {_where(p)}  ({p.source}, score {p.score:.4f})", bold=True))
        click.echo(f"    {p.text[:400]}{'…' if len(p.text) > 400 else ''}\n")


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object (stable format).")
@click.option(
    "--generator", type=click.Choice(["local", "openai", "extractive"]), help="Overrides ASSISTANT27_GENERATOR."
)
@with_filters
@click.pass_obj
def ask(
    obj: Context,
    question: str | None,
    as_json: bool,
    generator: str | None,
    year_min: int | None,
    year_max: int | None,
    kind: tuple[str, ...],
    source: tuple[str, ...],
) -> None:
    """Answer QUESTION with cited sources; without QUESTION, chat (follow-up questions keep the context)."""
    from assistant27.assistant import Assistant

    try:
        assistant = Assistant.from_settings(obj.settings(generator=generator))
        filters = _filters(year_min, year_max, kind, source)
        if question is not None:
            if as_json:
                answer = assistant.ask(question, [], filters)
                click.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
            else:
                _print_answer_stream(assistant, question, [], filters)
            return
        _chat(assistant, filters)
    except Assistant27Error as exc:
        _fail(exc)


def _print_answer_stream(assistant: Any, question: str, history: list[dict[str, str]], filters: Filters) -> Any:
    from assistant27.assistant import PassagesFound, Token
    from assistant27.schema import Answer

    final = None
    for event in assistant.ask_stream(question, history, filters):
        if isinstance(event, PassagesFound):
            click.echo(
                click.style(
                    f"({len(event.passages)} passages in {event.retrieval_s:.2f} s; writing with "
                    f"{assistant.generator.name}…)",
                    dim=True,
                ),
                err=True,
            )
        elif isinstance(event, Token):
            click.echo(click.style(event.text, dim=True), nl=False, err=True)
        elif isinstance(event, Answer):
            final = event
    assert final is not None
    click.echo("\r", err=True)
    click.echo(click.style(final.answer, bold=True))
    if final.refused:
        click.echo("Passages les plus proches :")
        for p in final.passages[:3]:
            click.echo(f"  - {_where(p)} : {p.text[:160]}…")
    for c in final.citations:
        quote = c.quote or c.passage.text[:220] + "…"
        click.echo(f"  [{c.n}] {_where(c.passage)} — « {quote} »")
    if final.flagged:
        click.echo(click.style(f"  (unsupported by the passages, left out: {' / '.join(final.flagged)})", dim=True))
    return final


def _chat(assistant: Any, filters: Filters) -> None:
    click.echo("assistant27 — chargement des modèles…", err=True)
    assistant.warm_up()
    from assistant27.programmes import catalogue_publishers, of_publisher

    about = f"les publications {of_publisher(catalogue_publishers(assistant.settings.catalogue_path))}".strip()
    click.echo(f"assistant27 — posez une question sur {about} (Ctrl-D pour quitter).")
    history: list[dict[str, str]] = []
    while True:
        try:
            question = click.prompt(click.style("\nVous", fg="cyan"), prompt_suffix=" > ")
        except (EOFError, click.Abort):
            click.echo()
            return
        if not question.strip():
            continue
        try:
            answer = _print_answer_stream(assistant, question, history, filters)
        except Assistant27Error as exc:
            click.echo(f"Error: {exc}", err=True)
            continue
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]


@main.command("eval")
@click.argument("set_path", required=False, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Folder for results (default: evals/runs/DATE)."
)
@click.option(
    "--generator", type=click.Choice(["local", "openai", "extractive"]), help="Overrides ASSISTANT27_GENERATOR."
)
@click.option("--retrieval-only", is_flag=True, help="Score retrieval only, without generating (seconds).")
@click.option(
    "--corpus",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Evaluate on this corpus folder: it is ingested into its own index (index/corpora/) first.",
)
@click.option(
    "--part",
    type=click.Choice(["tuning", "held-out"]),
    help="Only this part of the set's frozen split (evals/split.json).",
)
@click.option(
    "--suite",
    "suite_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Run every set of a suite file (evals/suite.json), each on its corpus, and report them side by side.",
)
@click.option(
    "--compare",
    "compare_dirs",
    nargs=2,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Compare two result folders item by item: OLD_DIR NEW_DIR.",
)
@click.option(
    "--rescore",
    "rescore_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Score a result folder again with today's scoring (answers kept): rewrites its summary and report.",
)
@click.option(
    "--peer",
    type=click.Choice(["llamaindex"]),
    help="Also run the plain llama-index pipeline on the same items and report it side by side (its index is "
    "cached in INDEX_DIR/peers/ by the corpus's content).",
)
@click.pass_obj
def evaluate(
    obj: Context,
    set_path: Path | None,
    out_dir: Path | None,
    generator: str | None,
    retrieval_only: bool,
    corpus: Path | None,
    part: str | None,
    suite_path: Path | None,
    compare_dirs: tuple[Path, Path] | None,
    rescore_dir: Path | None,
    peer: str | None,
) -> None:
    """Run an evaluation set (EVAL_FORMAT.md) through ask and score it: results.jsonl, summary.json, report.html."""
    import datetime as dt

    from assistant27.assistant import Assistant
    from assistant27.evalrunner import (
        compare,
        failure_lines,
        load_suite,
        metric_lines,
        rescore,
        run_eval,
        run_suite,
        suite_lines,
    )

    if compare_dirs:
        missing = [str(d) for d in compare_dirs if not (d / "results.jsonl").is_file()]
        if missing:
            raise click.UsageError(
                f"No results.jsonl in {', '.join(missing)}: compare two folders written by `assistant27 eval SET --out DIR`."
            )
        for line in compare(*compare_dirs):
            click.echo(line)
        return
    if rescore_dir:
        if not (rescore_dir / "results.jsonl").is_file():
            raise click.UsageError(
                f"No results.jsonl in {rescore_dir}: rescore a folder written by `assistant27 eval SET --out DIR`."
            )
        summary = rescore(rescore_dir)
        for line in metric_lines(summary) + failure_lines(summary):
            click.echo(line)
        click.echo(f"report: {rescore_dir / 'report.html'}")
        return
    out_dir = out_dir or Path("evals/runs") / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    settings = obj.settings(generator=generator)

    def assistant_for(folder: Path | None) -> Assistant:
        if folder is None:
            return Assistant.from_settings(settings)
        own = corpus_settings(settings, folder)
        click.echo(f"ingesting {folder} into {own.index_dir}", err=True)
        click.echo(_ingest(own, None, rebuild=False, echo=lambda line: click.echo(line, err=True)).summary(), err=True)
        return Assistant.from_settings(own)

    if suite_path is not None:
        if peer is not None:
            raise click.UsageError("--peer runs beside one set: give a SET (and --corpus if needed) instead of --suite.")
        if set_path is not None or corpus is not None:
            raise click.UsageError("--suite names its own sets and corpora: give no SET or --corpus with it.")
        try:
            suite_summary = run_suite(load_suite(suite_path), assistant_for, out_dir, part=part)
        except (Assistant27Error, OSError, ValueError) as exc:
            _fail(exc)
        for line in suite_lines(suite_summary):
            click.echo(line)
        click.echo(f"report: {out_dir / 'report.html'}")
        return
    if set_path is None:
        raise click.UsageError("Give an evaluation set, e.g. assistant27 eval evals/smoke.jsonl")
    try:
        assistant = assistant_for(corpus)
        summary = run_eval(
            assistant, set_path, out_dir, retrieval_only=retrieval_only, part=part, peer=_peer(peer, assistant)
        )
    except (Assistant27Error, OSError, ValueError) as exc:
        _fail(exc)
    for line in metric_lines(summary) + failure_lines(summary):
        click.echo(line)
    click.echo(f"report: {out_dir / 'report.html'}")


def _peer(name: str | None, assistant: Any) -> Any:
    """The peer pipeline `eval --peer` names, over the assistant's corpus and with its embedder; None without."""
    if name is None:
        return None
    from assistant27.peer_llamaindex import LlamaIndexPeer

    s = assistant.settings
    return LlamaIndexPeer(s.corpus_dir, s.peers_path / name, assistant.embedder)


@main.command()
@click.argument("name", required=False)
@click.option("--year", type=int, help="Only programmes named in a publication of this year.")
@click.option("--partner", default="", help="Only programmes with this partner, funder or place (e.g. a city's name).")
@click.option("--kind", type=click.Choice(["programme", "projet"]), help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="The catalogue (or one programme) as JSON.")
@click.pass_obj
def programmes(obj: Context, name: str | None, year: int | None, partner: str, kind: str | None, as_json: bool) -> None:
    """The programme catalogue built at ingestion; with NAME, that programme's timeline with its passages."""
    from assistant27.assistant import Assistant

    try:
        catalogue = Assistant.catalogue_of(obj.settings())
    except Assistant27Error as exc:
        _fail(exc)
    if name:
        found = catalogue.find(name) or next(iter(catalogue.named_in(name)), None)
        if found is None:
            known = ", ".join(p.name for p in catalogue.programmes)
            _fail(ConfigError(f"No programme called {name!r} in the catalogue. Known: {known}."))
        assert found is not None
        if as_json:
            click.echo(json.dumps(found.to_json(), ensure_ascii=False, indent=1))
            return
        click.echo(click.style(f"{found.name} ({found.kind}; {', '.join(map(str, found.years))})", bold=True))
        for label, facts in (("partners", found.partners), ("funders", found.funders), ("places", found.places)):
            if facts:
                click.echo(f"  {label}: {', '.join(f.value for f in facts)}")
        for d in found.dates:
            click.echo(f"  start {d.start}{'-' + str(d.end) if d.end else ''} according to {d.source}: « {d.phrase} »")
        for a, b in found.disagreements():
            click.echo(f"  publications disagree on the start: {a.source} says {a.start}, {b.source} says {b.start}")
        for year_, source, mentions in found.timeline():
            click.echo(click.style(f"{year_} — {source}", bold=True))
            for m in mentions:
                click.echo(f"  « {' '.join(m.sentence.split())} » [{m.chunk_id}]")
        return
    rows = catalogue.filter(year, partner, kind or "")
    if as_json:
        click.echo(json.dumps([p.to_json() for p in rows], ensure_ascii=False, indent=1))
        return
    for p in rows:
        partners = ", ".join(f.value for f in [*p.partners, *p.funders][:4])
        click.echo(f"{p.name:<40} {p.kind:<9} {p.start or '':<5} {'/'.join(map(str, p.years)):<25} {partners}")
    click.echo(f"{len(rows)} of {len(catalogue.programmes)} programmes and projects", err=True)


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Any other than 127.0.0.1/::1 requires ASSISTANT27_WEB_TOKEN.",
)
@click.option("--port", default=7860, show_default=True, help="Port to listen on.")
@click.option(
    "--generator", type=click.Choice(["local", "openai", "extractive"]), help="Overrides ASSISTANT27_GENERATOR."
)
@click.pass_obj
def serve(obj: Context, host: str, port: int, generator: str | None) -> None:
    """Start the web app (chat, search, publications) and print its local URL."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from assistant27.assistant import Assistant
    from assistant27.webapp import TOKEN_ENV, WebApp, is_loopback, tune_malloc

    settings = obj.settings(generator=generator)
    if settings.memory_trim_s > 0:  # before the models load: their threads' malloc arenas outlive a later limit
        tune_malloc()
    token = settings.web_token.strip() or None
    if token is None and not is_loopback(host):
        _fail(
            ConfigError(
                f"--host {host} makes the web app reachable from other machines, and {TOKEN_ENV} is not set. "
                f"Set {TOKEN_ENV} to a shared secret (users type it once), or serve on 127.0.0.1."
            )
        )
    if token is not None and len(token) < 12:
        _fail(ConfigError(f"{TOKEN_ENV} is too short ({len(token)} characters). Use at least 12 random characters."))
    try:
        assistant = Assistant.from_settings(settings)
        click.echo("assistant27 — chargement des modèles…", err=True)
        assistant.warm_up()
    except Assistant27Error as exc:
        _fail(exc)
    WebApp(assistant).launch(host, port, token=token)


@main.group()
def feedback() -> None:
    """Ratings given in the web app."""


@feedback.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="JSONL file to write (default: stdout).")
@click.option(
    "--rating", type=click.Choice(["all", "down", "up"]), default="all", show_default=True, help="Which ratings."
)
@click.pass_obj
def feedback_export(obj: Context, out: Path | None, rating: str) -> None:
    """Write the ratings as evaluation items (EVAL_FORMAT.md): a thumbs-down becomes a draft item to complete."""
    from assistant27.conversations import ConversationStore
    from assistant27.feedback import export_file, write_jsonl

    store = ConversationStore(obj.settings().data_dir)
    if out is None:
        write_jsonl(store.feedback(), sys.stdout, rating)
        return
    count = export_file(store.feedback(), out, rating)
    click.echo(f"{count} item{'s' if count != 1 else ''} written to {out}", err=True)


if __name__ == "__main__":
    main()
