"""The ``dupspeech`` command: parses options, calls the library, renders, maps errors to exit codes.

Exit codes: 0 success (skipped files included), 1 the corpus cannot be read at all, 2 bad usage.

Human output goes to stdout; ``--json`` puts only JSON there (notes go to stderr) and ``--quiet`` prints nothing
on stdout, so both pipe cleanly. Progress bars are drawn on stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import api
from . import html as html_report
from . import tables
from .config import AlignConfig
from .errors import ConfigError, CorpusError, DupspeechError
from .models import Result

dedup_stage = importlib.import_module(f"{__package__}.dedup")  # the package re-exports dedup(), the function

_STAGES = {
    "read": "reading pages",
    "shingle": "shingling",
    "minhash": "signatures",
    "verify": "verifying pairs",
    "align": "aligning passages",
}

OUT_FILES = ("result.json", "speeches.csv", "clusters.csv", "pairs.csv", "copies.csv", "report.html")
"""What ``cluster --out DIR`` writes."""


class _UsageError(click.UsageError):
    exit_code = 2


@contextmanager
def _progress_bar(enabled: bool):
    """A rich progress bar on stderr, shown only on a terminal and when asked."""
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield update


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ConfigError as exc:
        raise _UsageError(str(exc)) from exc
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from exc
    except DupspeechError as exc:  # pragma: no cover - any other deliberate error
        raise click.ClickException(str(exc)) from exc


def _tuning_options(fn):
    """The options that tune matching, shared by ``cluster``, ``compare`` and ``dedup``."""
    options = [
        click.option("--threshold", type=float, default=api._CLUSTER.threshold, show_default=True,
                     help="Exact Jaccard similarity at which two speeches are the same speech."),
        click.option("--containment", type=float, default=api._CLUSTER.containment, show_default=True,
                     help="Share of a speech found in another at which it is a truncated copy."),
        click.option("--shingle", type=click.Choice(["char", "word"]), default="char", show_default=True,
                     help="Character n-grams or jieba word n-grams."),
        click.option("--ngram", type=int, default=None, help="Shingle length [default: 5 for char, 3 for word]."),
        click.option("--tokenizer", type=click.Choice(["auto", "jieba", "rjieba"]), default="auto", show_default=True,
                     help="Word segmenter in word mode; auto is rjieba when installed (the same tokens), else jieba."),
        click.option("--num-perm", type=int, default=api._MINHASH.num_perm, show_default=True,
                     help="MinHash permutations."),
        click.option("--seed", type=int, default=api._MINHASH.seed, show_default=True,
                     help="MinHash seed; the same input and seed give byte-identical output."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _window_options(fn):
    fn = click.option("--window-crowd", type=_NumberOr("off"), default=api._ALIGN.window_crowd, show_default=True,
                      help="A passage-window bucket of more speeches than this is common language: two speeches "
                           "that meet only in such buckets need one meeting more; 'off' counts every bucket alike "
                           "(docs/defaults.md).")(fn)
    return click.option("--window-min-hits", type=int, default=api._ALIGN.window_min_hits, show_default=True,
                        metavar="N",
                        help="Buckets the passage windows of two speeches must share to be compared for copied "
                             "passages; 2 is faster on a large corpus but misses most copied passages shorter than "
                             "about 70 characters (docs/defaults.md).")(fn)


class _NumberOr(click.ParamType):
    """A whole number, or one word that stands for None in the library (``all`` for ``--bucket-neighbours``,
    ``off`` for ``--window-crowd``)."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.name = f"N|{word}"

    def convert(self, value, param, ctx):
        if value == self.word:
            return None
        if value is None or isinstance(value, int):  # the default, or a value given from Python
            return value
        try:
            return int(value)
        except ValueError:
            self.fail(f"{value!r} is neither a whole number nor {self.word!r}", param, ctx)


def _neighbours_option(fn):
    return click.option("--bucket-neighbours", type=_NumberOr("all"), default=api._CLUSTER.bucket_neighbours,
                        show_default=True,
                        help="In a speech LSH bucket of more speeches (stock language on a large corpus), pair each "
                             "speech with this many next ones only, so candidates grow with the corpus, not its "
                             "square; 'all' pairs them all (benchmarks/README.md).")(fn)


def _align_option(ctx: click.Context) -> dict:
    """``align=`` for the library when ``--window-min-hits`` or ``--window-crowd`` was typed (an index keeps its
    own settings otherwise); an invalid value is the library's ConfigError, a usage error."""
    given = _given(ctx, ("window_min_hits", "window_crowd"))
    return {"align": _run(AlignConfig, **given)} if given else {}


def _jobs_option(fn):
    return click.option("-j", "--jobs", type=int, default=1, show_default=True,
                        help="Cores to use: threads or worker processes (0 = one per core); the output does not depend "
                             "on it.")(fn)


def _index_option(fn, *, help: str | None = None):
    return click.option("--index", "index_location", default=None, metavar="PATH|URL",
                        help=help or "The index: an SQLite file (speeches.db) or redis://host:port/db.")(fn)


def _scale_options(fn):
    """``cluster``'s options for an index instead of a corpus, and for the Dask engine."""
    fn = click.option("--spill-dir", default=None, metavar="DIR", type=click.Path(file_okay=False, path_type=str),
                      help="With --engine dask: where the workers write the partitions so that each holds at most "
                           "two at a time; with --scheduler, a folder this machine and every worker share "
                           "[default: a temporary folder for a local cluster; none with --scheduler].")(fn)
    fn = click.option("--workers", type=int, default=2, show_default=True,
                      help="Worker processes of the local Dask cluster (--engine dask without --scheduler).")(fn)
    fn = click.option("--scheduler", default=None, metavar="ADDRESS",
                      help="A running Dask scheduler (tcp://host:8786) for --engine dask.")(fn)
    fn = click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                      help="Run here (local) or on Dask workers (dask); the result is the same.")(fn)
    return _index_option(fn, help="Cluster everything in this index (SQLite file or redis://host:port/db) "
                                  "instead of reading CORPUS.")


_TUNING = ("threshold", "containment", "shingle", "ngram", "tokenizer", "num_perm", "seed", "bucket_neighbours")


def _given(ctx: click.Context, names: tuple[str, ...] = _TUNING) -> dict:
    """The options the user typed (not their defaults): an index keeps its own settings otherwise."""
    return {n: ctx.params[n] for n in names
            if n in ctx.params and ctx.get_parameter_source(n) not in (ParameterSource.DEFAULT, None)}


def _cluster_runner(ctx: click.Context, corpus, index_location, engine, scheduler, workers, spill_dir):
    """What ``cluster`` runs: the local pipeline on CORPUS, the Dask engine on CORPUS, or an index."""
    if (corpus is None) == (index_location is None):
        raise _UsageError("give CORPUS (a folder or file) or --index PATH|URL, not both"
                          if corpus else "give CORPUS (a folder or file) or --index PATH|URL")
    if engine != "dask" and (scheduler or spill_dir or ctx.get_parameter_source("workers").name != "DEFAULT"):
        raise _UsageError("--scheduler, --workers and --spill-dir are options of --engine dask")
    if index_location is not None:
        if engine == "dask":
            raise _UsageError("--engine dask runs on a corpus; an index is clustered locally (drop --engine)")
        given = {**_given(ctx), **_align_option(ctx)}

        def from_index(location, *, progress, provenance, jobs, **_):
            from .store import Index

            with Index(location, create=False, **given) as index:
                return index.cluster(progress=progress, provenance=provenance, jobs=jobs)

        return from_index, index_location
    if engine == "dask":
        def on_dask(source, *, progress, jobs, **options):
            from . import engine_dask

            return engine_dask.cluster(source, scheduler=scheduler, n_workers=workers, spill_dir=spill_dir, **options)

        return on_dask, corpus
    return api.cluster, corpus


def _progress_option(fn):
    return click.option("--progress/--no-progress", default=None,
                        help="Progress bars on stderr [default: on when stderr is a terminal].")(fn)


def _show_progress(progress: bool | None, quiet: bool) -> bool:
    if quiet:
        return False
    return sys.stderr.isatty() if progress is None else progress


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dupspeech")
def main() -> None:
    """Find recycled Chinese speeches: split scraped pages into speeches, cluster the recycled ones."""


@main.command("cluster")
@click.argument("corpus", type=click.Path(exists=True, path_type=str), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result (contract version 1) on stdout.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Write result.json, speeches/clusters/pairs/copies.csv (UTF-8 with BOM) and report.html here.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on stdout (except --json) and no progress bars.")
@_tuning_options
@click.option("--provenance/--no-provenance", default=True, show_default=True,
              help="Align passages to show which paragraphs were copied from which.")
@_window_options
@_neighbours_option
@_jobs_option
@_scale_options
@_progress_option
@click.pass_context
def cluster_cmd(ctx, corpus, as_json, out_dir, quiet, threshold, containment, shingle, ngram, tokenizer, num_perm,
                seed, provenance, window_min_hits, window_crowd, bucket_neighbours, jobs, index_location, engine,
                scheduler, workers, spill_dir, progress) -> None:
    """Cluster the recycled speeches of the pages in CORPUS (a folder, read recursively, or a file).

    With --index instead of CORPUS, cluster everything in that index without reading the pages again.
    """
    runner, source = _cluster_runner(ctx, corpus, index_location, engine, scheduler, workers, spill_dir)
    with _progress_bar(_show_progress(progress, quiet) and engine == "local") as update:
        result = _run(
            runner,
            source,
            progress=update,
            provenance=provenance,
            threshold=threshold,
            containment=containment,
            shingle=shingle,
            ngram=ngram,
            tokenizer=tokenizer,
            num_perm=num_perm,
            seed=seed,
            bucket_neighbours=bucket_neighbours,
            jobs=jobs,
            **_align_option(ctx),
        )
    written = _write_out(result, out_dir) if out_dir else []
    if as_json:
        click.echo(result.to_json(), nl=False)
    elif not quiet:
        render_summary(result, Console())
    if written and not quiet:
        Console(stderr=as_json).print(f"wrote {len(written)} files to {escape(out_dir)}: "
                                      + ", ".join(p.name for p in written))


def _write_out(result: Result, out_dir: str) -> list[Path]:
    """Write everything ``--out`` promises; the library does the work."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _UsageError(f"cannot create --out folder {out_dir}: {exc.strerror or exc}") from exc
    json_path = out / "result.json"
    json_path.write_text(result.to_json(), encoding="utf-8")
    return [json_path, *tables.write_tables(result, out), html_report.write_report(result, out / "report.html")]


@main.command("split")
@click.argument("corpus", type=click.Path(exists=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result (no pairs) on stdout.")
@click.option("--excerpt", type=int, default=40, show_default=True,
              help="Characters shown of the text of each stretch of dropped lines.")
def split_cmd(corpus, as_json, excerpt) -> None:
    """Show how the pages in CORPUS were split into speeches, and which lines were dropped.

    One table per page, in line order: each speech (lines, marker, title) and each stretch of lines that is not
    speech text (web snippet, site chrome, preamble, footer), with the start of its text.
    """
    result = _run(api.split, corpus)
    if as_json:
        click.echo(result.to_json(), nl=False)
        return
    render_split(result, Console(), excerpt=excerpt)


def render_split(result: Result, console: Console, *, excerpt: int = 40) -> None:
    """Per page, the speeches and dropped lines in line order."""
    docs = {d.name: d for d in result.documents}
    for f in result.files:
        if f.status != "ok":
            continue
        speeches = [s for s in result.speeches if s.file == f.file]
        dropped = [d for d in result.dropped if d.span.file == f.file]
        doc = docs.get(f.file)
        rows = sorted([(s.span.start, "speech", s) for s in speeches] + [(d.span.start, "dropped", d) for d in dropped],
                      key=lambda r: (r[0], r[1]))
        table = Table(title=Text(f"{f.file} ({f.encoding}): {len(speeches)} speeches, {len(dropped)} dropped"),
                      title_justify="left")
        for col in ("lines", "speech / dropped", "marker", "title / text", "chars"):
            table.add_column(col, overflow="fold")
        for _, kind, item in rows:
            span = item.span
            lines = f"{span.start_line}-{span.end_line}"
            if kind == "speech":
                table.add_row(lines, Text(item.id), Text(item.marker or ""), Text(item.title or "(no title)"),
                              str(item.chars))
            else:
                shown = _excerpt(doc.text[span.start:span.end], excerpt) if doc is not None else ""
                table.add_row(lines, Text(f"dropped: {item.reason}", style="yellow"), "", Text(shown, style="dim"),
                              "")
        console.print(table)
    _render_files(result, console)


def _excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def _side_arg(value: str) -> str:
    """A file, or a speech ``file#k`` of an existing file; anything else is a usage error (not a text)."""
    path, _, k = value.rpartition("#")
    if os.path.isfile(value) or (path and k.isdigit() and os.path.isfile(path)):
        return value
    raise _UsageError(f"{value!r} is not a file or a speech 'file#k' of an existing file")


@main.command("compare")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result of the comparison on stdout.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Write the two texts side by side, copied passages highlighted, to this HTML file.")
@click.option("--full", is_flag=True, help="Show whole passages instead of their first 160 characters.")
@_tuning_options
def compare_cmd(a, b, as_json, html_path, full, threshold, containment, shingle, ngram, tokenizer, num_perm,
                seed) -> None:
    """Show the copied passages between A and B: two files, or two speeches written FILE#K (k-th speech).

    Every speech of A is aligned with every speech of B, so even one shared paragraph shows.
    """
    result = _run(api.compare, _side_arg(a), _side_arg(b), threshold=threshold, containment=containment,
                  shingle=shingle, ngram=ngram, tokenizer=tokenizer, num_perm=num_perm, seed=seed)
    if html_path:
        html_report.write_report(result, html_path)
    if as_json:
        click.echo(result.to_json(), nl=False)
    else:
        render_comparison(result, Console(), limit=None if full else 160)
    if html_path:
        Console(stderr=as_json).print(f"wrote {escape(html_path)}")


def render_comparison(result: Result, console: Console, *, limit: int | None = 160) -> None:
    """Each pair of speeches that share passages: the passages side by side, with lines and similarity."""
    docs = {d.name: d for d in result.documents}
    views = [v for v in html_report.pair_views(result) if v.copies]
    if not views:
        console.print(f"no copied passages between these {len(result.speeches)} speeches")
        return
    for v in views:
        left, right = result.speech(v.left), result.speech(v.right)
        table = Table(title=Text(f"{left.id} ↔ {right.id}"), title_justify="left", show_lines=True, expand=True)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column(Text(f"{left.id}  {left.title}"), ratio=1, overflow="fold")
        table.add_column(Text(f"{right.id}  {right.title}"), ratio=1, overflow="fold")
        table.add_column("similarity", no_wrap=True)
        for n in v.copies:
            c = result.copies[n]
            cells = []
            for loc in (c.source, c.target) if c.source.speech == left.id else (c.target, c.source):
                doc = docs.get(loc.speech.rsplit("#", 1)[0])
                text = doc.text[loc.start_char:loc.end_char] if doc is not None else ""
                shown = text if limit is None else _excerpt(text, limit)
                cells.append(Text(f"L{loc.start_line}-{loc.end_line} ({loc.end_char - loc.start_char} chars)\n",
                                  style="bold") + Text(shown, style="dim" if c.boilerplate else ""))
            note = "boilerplate" if c.boilerplate else ""
            table.add_row(str(n), *cells, f"{c.similarity:.2f}\n{note}")
        console.print(table)
        pair = v.verified
        facts = [f"{len(v.copies)} passage{'' if len(v.copies) == 1 else 's'}"]
        if pair is not None:
            facts.append(f"{pair.relation}, Jaccard {pair.jaccard:.2f}")
        evidence = next((result.copies[n].evidence for n in v.copies if result.copies[n].direction == "source_earlier"),
                        "")
        facts.append(f"left is earlier ({evidence})" if evidence else "which is earlier is undetermined")
        console.print(Text("  " + "; ".join(facts)))


@main.command("dedup")
@click.argument("corpus", type=click.Path(exists=True, path_type=str))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str), required=True,
              help="Folder for the cleaned corpus, manifest.json and removals.csv (new or empty, outside CORPUS).")
@click.option("--keep", type=click.Choice(list(dedup_stage.KEEP_RULES)), default="earliest", show_default=True,
              help="Which speech of a family stays: earliest date (else first path), longest, or first path.")
@click.option("--drop-copied", is_flag=True,
              help="Also cut paragraphs copied from another remaining speech (each passage is kept once).")
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder (same-named files are replaced).")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on stdout (except --json) and no progress bars.")
@_tuning_options
@_window_options
@_neighbours_option
@_jobs_option
@_progress_option
@click.pass_context
def dedup_cmd(ctx, corpus, out_dir, keep, drop_copied, force, as_json, quiet, threshold, containment, shingle, ngram,
              tokenizer, num_perm, seed, window_min_hits, window_crowd, bucket_neighbours, jobs, progress) -> None:
    """Write a cleaned copy of CORPUS to --out: one speech per family, every removal listed with its reason.

    CORPUS itself is never modified. Every input file appears in manifest.json as kept (copied unchanged),
    rewritten (lines cut), removed (every speech in it was a copy) or skipped (not read, with the reason).
    """
    root = corpus if os.path.isdir(corpus) else os.path.dirname(os.path.abspath(corpus))
    _run(dedup_stage.check_out_dir, out_dir, root, force=force)  # fail before the long part
    with _progress_bar(_show_progress(progress, quiet)) as update:
        result = _run(api.cluster, corpus, progress=update, threshold=threshold, containment=containment,
                      shingle=shingle, ngram=ngram, tokenizer=tokenizer, num_perm=num_perm, seed=seed, jobs=jobs,
                      bucket_neighbours=bucket_neighbours, **_align_option(ctx))
    manifest = _run(dedup_stage.dedup, result, out_dir, keep=keep, drop_copied=drop_copied, force=force)
    if as_json:
        click.echo(manifest.to_json(), nl=False)
    elif not quiet:
        render_manifest(manifest, Console())


def render_manifest(manifest: dedup_stage.Manifest, console: Console) -> None:
    """The human summary of a dedup run."""
    counts = {s: manifest.count(s) for s in ("kept", "rewritten", "removed", "skipped")}
    console.print(
        f"[bold]{len(manifest.files)}[/] files: {counts['kept']} kept, {counts['rewritten']} rewritten, "
        f"{counts['removed']} removed, {counts['skipped']} skipped"
    )
    speeches = sum(1 for r in manifest.removals if r.what == "speech")
    paragraphs = sum(1 for r in manifest.removals if r.what == "paragraph")
    console.print(f"{len(manifest.families)} families, one speech kept in each (rule: {manifest.keep}); "
                  f"cut {speeches} speeches and {paragraphs} copied paragraphs")
    table = Table(title="families", title_justify="left")
    for col in ("family", "kept", "removed", "decided by"):
        table.add_column(col, overflow="fold")
    for c in manifest.families[:20]:
        table.add_row(str(c.cluster), Text(c.kept), Text("\n".join(c.removed)), Text(c.rule))
    if manifest.families:
        console.print(table)
    if len(manifest.families) > 20:
        console.print(f"... and {len(manifest.families) - 20} more families (see manifest.json)")
    for f in manifest.files:
        if f.status in ("removed", "skipped"):
            console.print(Text(f"  {f.status} {f.file}: {f.reason}", style="yellow"))
    console.print(Text(f"cleaned corpus and manifest in {manifest.out_dir}"))


def _render_files(result: Result, console: Console) -> None:
    ok = [f for f in result.files if f.status == "ok"]
    skipped = [f for f in result.files if f.status != "ok"]
    console.print(f"[bold]{len(result.files)}[/] files: {len(ok)} read, {len(skipped)} skipped")
    for f in skipped:
        console.print(Text(f"  skipped {f.file}: {f.reason}", style="yellow"))


def render_summary(result: Result, console: Console) -> None:
    """The human summary of a clustering run."""
    _render_files(result, console)
    n_near = sum(1 for p in result.pairs if p.relation == "near_duplicate")
    n_cont = len(result.pairs) - n_near
    in_families = sum(len(c.speeches) for c in result.clusters)
    console.print(
        f"[bold]{len(result.speeches)}[/] speeches; [bold]{len(result.clusters)}[/] recycled families holding "
        f"{in_families} speeches; {n_near} near-duplicate pairs, {n_cont} containment pairs"
    )
    titles = {s.id: s for s in result.speeches}
    for c in sorted(result.clusters, key=lambda c: (-len(c.speeches), c.id))[:20]:
        table = Table(title=f"family {c.id} ({len(c.speeches)} speeches)", title_justify="left", show_header=True)
        for col in ("speech", "lines", "title", "chars", "note"):
            table.add_column(col, overflow="fold")
        for sid in c.speeches:
            s = titles[sid]
            note = "truncated copy" if sid in c.contained else ""
            table.add_row(Text(sid), f"{s.span.start_line}-{s.span.end_line}", Text(s.title), str(s.chars), note)
        console.print(table)
        members = set(c.speeches)
        inside = [x for x in result.copies if not x.boilerplate and x.source.speech in members and x.target.speech in members]
        for line in _copy_lines(inside, limit=5):
            console.print(Text(f"  copied: {line}"))
    if len(result.clusters) > 20:
        console.print(f"... and {len(result.clusters) - 20} more families (use --json or --out for all)")
    family_of = {sid: c.id for c in result.clusters for sid in c.speeches}
    borrowed = [
        x for x in result.copies
        if not x.boilerplate and (family_of.get(x.source.speech, -1) != family_of.get(x.target.speech, -2))
    ]
    if borrowed:
        console.print(f"[bold]{len(borrowed)}[/] passages borrowed between speeches of different families:")
        for line in _copy_lines(borrowed, limit=15):
            console.print(Text(f"  {line}"))
    n_boiler = sum(1 for x in result.copies if x.boilerplate)
    if n_boiler:
        console.print(f"{n_boiler} shared passages are stock language (boilerplate), not counted as copying")


def _copy_lines(copies, *, limit: int) -> list[str]:
    """The longest copied passages, a line each: ``source lines → target lines (similarity, direction)``."""
    ranked = sorted(copies, key=lambda x: (-(x.source.end_char - x.source.start_char), x.source.speech, x.source.start_char))
    out = []
    for x in ranked[:limit]:
        arrow = "→" if x.direction == "source_earlier" else "↔"
        why = f"; {x.evidence}" if x.evidence else ""
        out.append(
            f"{x.source.speech} L{x.source.start_line}-{x.source.end_line} {arrow} "
            f"{x.target.speech} L{x.target.start_line}-{x.target.end_line} "
            f"({x.source.end_char - x.source.start_char} chars, similarity {x.similarity:.2f}{why})"
        )
    if len(ranked) > limit:
        out.append(f"... and {len(ranked) - limit} more (use --json or --out for all)")
    return out


# --- the persistent index --------------------------------------------------------------------------------------


@main.group("index")
def index_group() -> None:
    """Build and keep a persistent index of speeches (an SQLite file, or Redis to share it).

    Pages are added once; adding a folder again adds only new or changed files. Then `dupspeech query` checks
    new pages against it and `dupspeech cluster --index` clusters all of it without reading the pages again.
    """


@index_group.command("add")
@click.argument("corpus", type=click.Path(exists=True, path_type=str))
@_index_option
@_tuning_options
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on stdout and no progress bars.")
@_progress_option
@click.pass_context
def index_add_cmd(ctx, corpus, index_location, threshold, containment, shingle, ngram, tokenizer, num_perm, seed,
                  quiet, progress) -> None:
    """Add the pages in CORPUS to the index (created if missing), in one transaction.

    Files already indexed with the same content are left alone; a changed file replaces its old version. Tuning
    options fix the settings of a new index; an existing index refuses settings that change what it stores.
    """
    if index_location is None:
        raise _UsageError("--index PATH|URL is required: the index to add to (e.g. --index speeches.db)")
    from .store import Index

    index = _run(Index, index_location, **_given(ctx))
    with index, _progress_bar(_show_progress(progress, quiet)) as update:
        report = _run(index.add, corpus, progress=update)
    if not quiet:
        click.echo(f"{report} -> {index_location}")


@index_group.command("remove")
@click.argument("files", nargs=-1, required=True)
@_index_option
def index_remove_cmd(files, index_location) -> None:
    """Take FILES out of the index (names as indexed, e.g. site/page.txt, or the paths they were read from)."""
    if index_location is None:
        raise _UsageError("--index PATH|URL is required: the index to remove from")
    from .store import Index

    with _run(Index, index_location, create=False) as index:
        removed = _run(index.remove, files)
    click.echo(f"removed {len(removed)} file{'' if len(removed) == 1 else 's'} from {index_location}")


@index_group.command("list")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the files as JSON (the JSON contract's files).")
def index_list_cmd(index_location, as_json) -> None:
    """List the files in the index, with their status (read or skipped, and why)."""
    if index_location is None:
        raise _UsageError("--index PATH|URL is required: the index to list")
    from .store import Index

    with _run(Index, index_location, create=False) as index:
        result = Result(files=tuple(index.files()), speeches=(), pairs=(), clusters=())
    if as_json:
        click.echo(result.to_json(), nl=False)
        return
    table = Table(title=Text(f"{index_location}: {len(result.files)} files"), title_justify="left")
    for col in ("file", "status", "encoding", "bytes", "reason"):
        table.add_column(col, overflow="fold")
    for f in result.files:
        table.add_row(Text(f.file), f.status, f.encoding or "", str(f.size), Text(f.reason or ""))
    Console().print(table)


@main.command("query")
@click.argument("file", type=click.Path(exists=True, path_type=str))
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (the same contract as cluster).")
@click.option("--threshold", type=float, default=api._CLUSTER.threshold, show_default=True,
              help="Exact Jaccard similarity at which two speeches are the same speech.")
@click.option("--containment", type=float, default=api._CLUSTER.containment, show_default=True,
              help="Share of a speech found in another at which it is a truncated copy.")
@click.option("--provenance/--no-provenance", default=True, show_default=True,
              help="Align passages to show which paragraphs were copied from where.")
@click.pass_context
def query_cmd(ctx, file, index_location, as_json, threshold, containment, provenance) -> None:
    """Which indexed speeches each speech in FILE (a page or a folder) recycles, and what it copied from where.

    The speeches of FILE are named query/<name>#k; nothing is added to the index.
    """
    if index_location is None:
        raise _UsageError("--index PATH|URL is required: the index to query (build it with dupspeech index add)")
    from .store import Index

    with _run(Index, index_location, create=False, **_given(ctx, ("threshold", "containment"))) as index:
        result = _run(index.query, file, provenance=provenance)
    if as_json:
        click.echo(result.to_json(), nl=False)
    else:
        render_query(result, Console())


def render_query(result: Result, console: Console) -> None:
    """Per speech of the query: the indexed speeches it recycles, and the passages it shares with them."""
    speeches = {s.id: s for s in result.speeches}
    for s in (s for s in result.speeches if s.id.startswith("query/")):
        pairs = [p for p in result.pairs if p.a == s.id]
        copies = [c for c in result.copies if s.id in (c.source.speech, c.target.speech) and not c.boilerplate]
        head = f"{s.id} L{s.span.start_line}-{s.span.end_line} {s.title or '(no title)'}: "
        if not pairs and not copies:
            console.print(Text(head + "nothing recycled from the index"))
            continue
        console.print(Text(head + f"recycles {len(pairs)} indexed speech{'' if len(pairs) == 1 else 'es'}, "
                           f"{len(copies)} shared passage{'' if len(copies) == 1 else 's'}", style="bold"))
        for p in pairs:
            other = speeches[p.b]
            what = "the same speech" if p.relation == "near_duplicate" else "a truncated copy (containment)"
            console.print(Text(f"  {p.b} L{other.span.start_line}-{other.span.end_line} {other.title}: {what}, "
                               f"Jaccard {p.jaccard:.2f}"))
        for line in _copy_lines(copies, limit=10):
            console.print(Text(f"  copied: {line}"))
