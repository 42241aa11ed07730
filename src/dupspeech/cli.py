"""The ``dupspeech`` command: parses options, calls the library, renders, maps errors to exit codes.

Exit codes: 0 success (skipped files included), 1 the corpus cannot be read at all, 2 bad usage.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import api
from .errors import ConfigError, CorpusError, DupspeechError
from .models import Result

_STAGES = {
    "read": "reading pages",
    "shingle": "shingling",
    "minhash": "signatures",
    "verify": "verifying pairs",
    "align": "aligning passages",
}


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dupspeech")
def main() -> None:
    """Find recycled Chinese speeches: split scraped pages into speeches, cluster the recycled ones."""


@main.command("cluster")
@click.argument("corpus", type=click.Path(exists=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result (contract version 1) on stdout.")
@click.option("--threshold", type=float, default=api._CLUSTER.threshold, show_default=True,
              help="Exact Jaccard similarity at which two speeches are the same speech.")
@click.option("--containment", type=float, default=api._CLUSTER.containment, show_default=True,
              help="Share of a speech found in another at which it is a truncated copy.")
@click.option("--shingle", type=click.Choice(["char", "word"]), default="char", show_default=True,
              help="Character n-grams or jieba word n-grams.")
@click.option("--ngram", type=int, default=None, help="Shingle length [default: 5 for char, 3 for word].")
@click.option("--num-perm", type=int, default=api._MINHASH.num_perm, show_default=True,
              help="MinHash permutations.")
@click.option("--seed", type=int, default=api._MINHASH.seed, show_default=True,
              help="MinHash seed; the same input and seed give byte-identical output.")
@click.option("--provenance/--no-provenance", default=True, show_default=True,
              help="Align passages to show which paragraphs were copied from which.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bars on stderr [default: on when stderr is a terminal].")
def cluster_cmd(corpus, as_json, threshold, containment, shingle, ngram, num_perm, seed, provenance, progress) -> None:
    """Cluster the recycled speeches of the pages in CORPUS (a folder, read recursively, or a file)."""
    show = sys.stderr.isatty() if progress is None else progress
    with _progress_bar(show) as update:
        result = _run(
            api.cluster,
            corpus,
            progress=update,
            provenance=provenance,
            threshold=threshold,
            containment=containment,
            shingle=shingle,
            ngram=ngram,
            num_perm=num_perm,
            seed=seed,
        )
    if as_json:
        click.echo(result.to_json(), nl=False)
    else:
        render_summary(result, Console())


@main.command("split")
@click.argument("corpus", type=click.Path(exists=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result (no pairs) on stdout.")
def split_cmd(corpus, as_json) -> None:
    """Show how the pages in CORPUS were split into speeches, and which lines were dropped."""
    result = _run(api.split, corpus)
    if as_json:
        click.echo(result.to_json(), nl=False)
        return
    console = Console()
    table = Table(title="speeches", show_lines=False)
    for col in ("speech", "lines", "marker", "title", "chars"):
        table.add_column(col)
    for s in result.speeches:
        table.add_row(s.id, f"{s.span.start_line}-{s.span.end_line}", s.marker or "", s.title, str(s.chars))
    console.print(table)
    if result.dropped:
        drops = Table(title="not speech text")
        for col in ("file", "lines", "reason"):
            drops.add_column(col)
        for d in result.dropped:
            drops.add_row(d.span.file, f"{d.span.start_line}-{d.span.end_line}", d.reason)
        console.print(drops)
    _render_files(result, console)


def _render_files(result: Result, console: Console) -> None:
    ok = [f for f in result.files if f.status == "ok"]
    skipped = [f for f in result.files if f.status != "ok"]
    console.print(f"[bold]{len(result.files)}[/] files: {len(ok)} read, {len(skipped)} skipped")
    for f in skipped:
        console.print(f"  [yellow]skipped[/] {f.file}: {f.reason}")


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
            table.add_row(sid, f"{s.span.start_line}-{s.span.end_line}", s.title, str(s.chars), note)
        console.print(table)
        members = set(c.speeches)
        inside = [x for x in result.copies if not x.boilerplate and x.source.speech in members and x.target.speech in members]
        for line in _copy_lines(inside, limit=5):
            console.print(f"  copied: {line}")
    if len(result.clusters) > 20:
        console.print(f"... and {len(result.clusters) - 20} more families (use --json for all)")
    family_of = {sid: c.id for c in result.clusters for sid in c.speeches}
    borrowed = [
        x for x in result.copies
        if not x.boilerplate and (family_of.get(x.source.speech, -1) != family_of.get(x.target.speech, -2))
    ]
    if borrowed:
        console.print(f"[bold]{len(borrowed)}[/] passages borrowed between speeches of different families:")
        for line in _copy_lines(borrowed, limit=15):
            console.print(f"  {line}")
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
        out.append(f"... and {len(ranked) - limit} more (use --json for all)")
    return out
