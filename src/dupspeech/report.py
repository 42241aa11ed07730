"""Turn a :class:`~dupspeech.models.Result` into the JSON contract (version 1). No printing here.

The contract, one object::

    {"version": 1,
     "files":    [{"file", "encoding", "status": "ok"|"skipped", "reason", "size"}],
     "speeches": [{"id", "file", "start_line", "end_line", "title", "marker", "chars",
                   "start_char", "end_char", "paragraphs": [{"kind", "start_line", "end_line",
                                                             "start_char", "end_char"}]}],
     "pairs":    [{"a", "b", "jaccard", "containment_a_in_b", "containment_b_in_a", "relation"}],
     "clusters": [{"id", "speeches": [...], "contained": [...]}],
     "copies":   [{"source": {...}, "target": {...}, "similarity", "direction", "evidence", "boilerplate"}],
     "dropped":  [{"file", "start_line", "end_line", "start_char", "end_char", "reason"}],
     "settings": {"stage.option": value}}

``file`` is relative to the corpus folder with ``/`` separators; lines are 1-based and inclusive; characters
are offsets into the file's decoded text. Floats are rounded to 4 decimals so output is byte-identical for the
same input and settings.
"""

from __future__ import annotations

import json

from .models import Copy, Location, Result, Span

try:  # a declared dependency; the standard library gives the same text, ten times slower
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

VERSION = 1


def _r(x: float) -> float:
    return round(float(x), 4)


def _span(span: Span) -> dict:
    return {"start_line": span.start_line, "end_line": span.end_line, "start_char": span.start, "end_char": span.end}


def _location(loc: Location) -> dict:
    return {
        "speech": loc.speech,
        "start_line": loc.start_line,
        "end_line": loc.end_line,
        "start_char": loc.start_char,
        "end_char": loc.end_char,
    }


def copy_to_dict(c: Copy) -> dict:
    return {
        "source": _location(c.source),
        "target": _location(c.target),
        "similarity": _r(c.similarity),
        "direction": c.direction,
        "evidence": c.evidence,
        "boilerplate": c.boilerplate,
    }


def result_to_dict(result: Result) -> dict:
    """The JSON contract as plain Python objects."""
    return {
        "version": VERSION,
        "files": [
            {"file": f.file, "encoding": f.encoding, "status": f.status, "reason": f.reason, "size": f.size}
            for f in result.files
        ],
        "speeches": [
            {
                "id": s.id,
                "file": s.file,
                "start_line": s.span.start_line,
                "end_line": s.span.end_line,
                "title": s.title,
                "marker": s.marker,
                "chars": s.chars,
                "start_char": s.span.start,
                "end_char": s.span.end,
                "paragraphs": [{"kind": p.kind, **_span(p.span)} for p in s.paragraphs],
            }
            for s in result.speeches
        ],
        "pairs": [
            {
                "a": p.a,
                "b": p.b,
                "jaccard": _r(p.jaccard),
                "containment_a_in_b": _r(p.containment_a_in_b),
                "containment_b_in_a": _r(p.containment_b_in_a),
                "relation": p.relation,
            }
            for p in result.pairs
        ],
        "clusters": [{"id": c.id, "speeches": list(c.speeches), "contained": list(c.contained)} for c in result.clusters],
        "copies": [copy_to_dict(c) for c in result.copies],
        "dropped": [{"file": d.span.file, **_span(d.span), "reason": d.reason} for d in result.dropped],
        "settings": dict(result.settings),
    }


def result_to_json(result: Result, *, indent: int | None = 2) -> str:
    """The JSON contract as a string (UTF-8 text, Chinese kept readable, keys in a fixed order)."""
    # every float of the contract is rounded by _r (so between 1e-4 and 1 when not 0) except the settings'
    return dumps(result_to_dict(result), indent=indent, plain_floats=all(_plain(v) for _, v in result.settings))


def _plain(value) -> bool:
    """Whether every float in ``value`` is 0 or between 1e-4 and 1e15 in size, where Python and orjson write
    floats alike (Python writes ``1e-05`` and ``1e+16``, orjson ``0.00001`` and ``1e16``)."""
    if isinstance(value, float):
        return value == 0 or 1e-4 <= abs(value) < 1e15
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    return True


def dumps(obj, *, indent: int | None = 2, plain_floats: bool = False) -> str:
    """``json.dumps(obj, ensure_ascii=False, indent=indent) + "\\n"``, the same text to the byte.

    With ``indent=2`` the standard library runs its pure-Python encoder (its C encoder knows no indentation):
    0.44 s for the 13 MB report of a 10 MB corpus, a quarter of the run itself. orjson writes the same text in
    0.04 s. It is used when installed and when the caller knows that every float in ``obj`` is written alike by
    both (``plain_floats``: see :func:`_plain`, or ``obj`` holds no float); and only if it can encode ``obj`` at
    all (not a lone surrogate, an integer beyond 64 bits, a key that is not a string). The tests compare the two on
    every kind of value the reports hold.
    """
    if indent == 2 and plain_floats and _orjson is not None:
        try:
            return _orjson.dumps(obj, option=_orjson.OPT_INDENT_2).decode("utf-8") + "\n"
        except TypeError:  # orjson.JSONEncodeError
            pass
    return json.dumps(obj, ensure_ascii=False, indent=indent) + "\n"
