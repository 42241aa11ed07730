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
    return json.dumps(result_to_dict(result), ensure_ascii=False, indent=indent) + "\n"
