"""A :class:`~dupspeech.models.Result` as flat tables: rows of plain dicts, CSV files, pandas DataFrames.

Four tables, each with fixed columns (:data:`COLUMNS`), one row per object of the result:

* ``speeches``: one row per speech, with its family (``cluster``, empty when it is in none);
* ``clusters``: one row per family, with its size, member ids, distinct titles and files;
* ``pairs``: one row per verified pair, with its family;
* ``copies``: one row per copied passage, numbered as in the HTML report (``n``), with its text.

CSV files are written in UTF-8 with a byte-order mark (``utf-8-sig``) so Excel opens Chinese text correctly;
lists inside a cell are joined with ``"; "``. pandas is imported only by :func:`to_pandas`.

    >>> import dupspeech
    >>> body = "今天我们召开全镇防汛工作会议，安排部署今年汛期的各项准备工作，请各村认真抓好落实。"
    >>> r = dupspeech.cluster({"a.txt": "甲镇的讲话\\n" + body, "b.txt": "乙镇的讲话\\n" + body}, min_shingles=5)
    >>> [(row["id"], row["size"], row["speeches"]) for row in rows(r)["clusters"]]
    [(0, 2, 'a.txt#1; b.txt#1')]
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from .errors import require
from .models import Copy, Document, Result

COLUMNS: dict[str, tuple[str, ...]] = {
    "speeches": (
        "id", "file", "index", "start_line", "end_line", "start_char", "end_char", "title", "marker", "chars",
        "paragraphs", "cluster", "contained",
    ),
    "clusters": ("id", "size", "speeches", "contained", "titles", "files", "chars"),
    "pairs": ("a", "b", "cluster", "jaccard", "containment_a_in_b", "containment_b_in_a", "relation"),
    "copies": (
        "n", "source", "source_file", "source_start_line", "source_end_line", "source_start_char",
        "source_end_char", "target", "target_file", "target_start_line", "target_end_line", "target_start_char",
        "target_end_char", "chars", "similarity", "direction", "evidence", "boilerplate", "source_text",
        "target_text",
    ),
}
"""The columns of each table, in order."""

TEXT_LIMIT = 32_000
"""Longest passage text put in a cell (Excel shows at most 32,767 characters per cell)."""


def _r(x: float) -> float:
    return round(float(x), 4)


def _file_of(speech_id: str) -> str:
    return speech_id.rsplit("#", 1)[0]


def _excerpt(docs: dict[str, Document], file: str, start: int, end: int) -> str:
    doc = docs.get(file)
    if doc is None:
        return ""
    text = doc.text[start:end]
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def speech_rows(result: Result) -> list[dict]:
    """One row per speech."""
    family = {sid: c for c in result.clusters for sid in c.speeches}
    out = []
    for s in result.speeches:
        c = family.get(s.id)
        out.append({
            "id": s.id,
            "file": s.file,
            "index": s.index,
            "start_line": s.span.start_line,
            "end_line": s.span.end_line,
            "start_char": s.span.start,
            "end_char": s.span.end,
            "title": s.title,
            "marker": s.marker or "",
            "chars": s.chars,
            "paragraphs": len(s.paragraphs),
            "cluster": "" if c is None else c.id,
            "contained": c is not None and s.id in c.contained,
        })
    return out


def cluster_rows(result: Result) -> list[dict]:
    """One row per family."""
    by_id = {s.id: s for s in result.speeches}
    out = []
    for c in result.clusters:
        members = [by_id[sid] for sid in c.speeches if sid in by_id]
        out.append({
            "id": c.id,
            "size": len(c.speeches),
            "speeches": "; ".join(c.speeches),
            "contained": "; ".join(c.contained),
            "titles": "; ".join(dict.fromkeys(s.title for s in members if s.title)),
            "files": "; ".join(dict.fromkeys(s.file for s in members)),
            "chars": sum(s.chars for s in members),
        })
    return out


def pair_rows(result: Result) -> list[dict]:
    """One row per verified pair."""
    family = {sid: c.id for c in result.clusters for sid in c.speeches}
    return [
        {
            "a": p.a,
            "b": p.b,
            "cluster": family[p.a] if family.get(p.a, -1) == family.get(p.b, -2) else "",
            "jaccard": _r(p.jaccard),
            "containment_a_in_b": _r(p.containment_a_in_b),
            "containment_b_in_a": _r(p.containment_b_in_a),
            "relation": p.relation,
        }
        for p in result.pairs
    ]


def copy_rows(result: Result) -> list[dict]:
    """One row per copied passage; ``n`` is its position in ``result.copies`` (the report's ``s-n``/``t-n``).

    ``source_text``/``target_text`` are the passages as written (empty when the result holds no documents).
    """
    docs = {d.name: d for d in result.documents}
    return [_copy_row(n, c, docs) for n, c in enumerate(result.copies)]


def _copy_row(n: int, c: Copy, docs: dict[str, Document]) -> dict:
    row: dict = {"n": n}
    for side, loc in (("source", c.source), ("target", c.target)):
        row[side] = loc.speech
        row[f"{side}_file"] = _file_of(loc.speech)
        row[f"{side}_start_line"] = loc.start_line
        row[f"{side}_end_line"] = loc.end_line
        row[f"{side}_start_char"] = loc.start_char
        row[f"{side}_end_char"] = loc.end_char
    row["chars"] = c.source.end_char - c.source.start_char
    row["similarity"] = _r(c.similarity)
    row["direction"] = c.direction
    row["evidence"] = c.evidence
    row["boilerplate"] = c.boilerplate
    for side, loc in (("source", c.source), ("target", c.target)):
        row[f"{side}_text"] = _excerpt(docs, _file_of(loc.speech), loc.start_char, loc.end_char)
    return row


def rows(result: Result) -> dict[str, list[dict]]:
    """All four tables as lists of plain dicts (keys in :data:`COLUMNS` order)."""
    return {
        "speeches": speech_rows(result),
        "clusters": cluster_rows(result),
        "pairs": pair_rows(result),
        "copies": copy_rows(result),
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell: booleans as ``true``/``false``; corpus text that Excel would run as a formula gets a ``'``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # CSV injection: a scraped page may start a line with =cmd|...
    return value


def write_csv(table: list[dict], columns: tuple[str, ...], path: str | os.PathLike[str]) -> Path:
    """Write rows to ``path`` as CSV in UTF-8 with a BOM (Excel-friendly).

    Booleans are written ``true``/``false``; a text cell starting with ``= + - @`` (or a tab or carriage
    return) is prefixed with ``'`` so that Excel shows it as text instead of running it as a formula.
    """
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="raise")
        writer.writeheader()
        for row in table:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return path


def write_tables(result: Result, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``speeches.csv``, ``clusters.csv``, ``pairs.csv`` and ``copies.csv`` into ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [write_csv(table, COLUMNS[name], out / f"{name}.csv") for name, table in rows(result).items()]


def to_pandas(result: Result) -> dict:
    """The four tables as pandas DataFrames: ``{"speeches": df, "clusters": df, "pairs": df, "copies": df}``.

    Raises:
        OptionalDependencyError: pandas is not installed (``pip install 'dupspeech[pandas]'``).
    """
    pd = require("pandas", extra="pandas", purpose="Result.to_pandas()")
    frames = {}
    for name, table in rows(result).items():
        frame = pd.DataFrame(table, columns=list(COLUMNS[name]))
        if name in ("speeches", "pairs"):
            # "" marks "in no family" in CSV; a nullable integer column says the same in pandas
            frame["cluster"] = pd.array([None if v == "" else v for v in frame["cluster"]], dtype="Int64")
        frames[name] = frame
    return frames
