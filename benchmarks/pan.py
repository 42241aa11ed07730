"""PAN text-alignment measures at character level (Potthast, Stein, Barrón-Cedeño, Rosso 2010).

*An Evaluation Framework for Plagiarism Detection*, COLING 2010; the measures of the PAN plagiarism
detection and text alignment tasks (PAN 2010–2015), macro-averaged as PAN reports them.

Inputs
------
A **case** (a copied passage of the ground truth) and a **detection** (what a system reports) are both a
pair ``(source_range, target_range)``; a range is ``(document, start, end)`` with character offsets into
the document's text, ``end`` exclusive, ``start < end``. Lists or tuples are accepted (so JSON loads), and
so is the flat form ``(src_doc, src_start, src_end, tgt_doc, tgt_start, tgt_end)``.

Definitions
-----------
A case ``s`` is the set of characters it covers, ``s = s_src ∪ s_tgt`` (characters are (document,
offset) references; the source and the target side are counted separately, so ``|s| = |s_src| +
|s_tgt|``); the same for a detection ``r``.

* ``r`` **detects** ``s`` iff ``r_tgt`` and ``s_tgt`` lie in the same document and overlap, and ``r_src``
  and ``s_src`` lie in the same document and overlap.
* ``s ⊓ r = s ∩ r`` if ``r`` detects ``s``, else ``∅``.

With ``S`` the cases and ``R`` the detections::

    rec(S, R)  = 1/|S| · Σ_{s∈S} |⋃_{r∈R} (s ⊓ r)| / |s|
    prec(S, R) = 1/|R| · Σ_{r∈R} |⋃_{s∈S} (s ⊓ r)| / |r|
    gran(S, R) = 1/|S_R| · Σ_{s∈S_R} |R_s|
                 where S_R = {s ∈ S : some r ∈ R detects s},  R_s = {r ∈ R : r detects s}
    plagdet(S, R) = F1 / log2(1 + gran(S, R)),   F1 = 2 · prec · rec / (prec + rec)

Recall and precision are macro-averaged: every case (every detection) weighs the same whatever its
length. Granularity is 1 at best and counts how many detections one case is split into.

Conventions of the PAN reference implementation: with no cases and no detections, ``prec = rec = 1``;
with only one of them empty, ``prec = rec = 0``; ``gran = 1`` when no case is detected; ``plagdet = 0``
when ``prec + rec = 0``.

Direction
---------
PAN knows which side is the source. A duplicate finder often does not: with ``symmetric=True`` a
detection also detects a case when its sides are swapped (its source overlapping the case's target and
vice versa), and characters are then compared side to side in that orientation. The default is PAN's
directed comparison.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

Range = tuple[str, int, int]
"""``(document, start, end)``: characters ``start … end-1`` of ``document``."""
Pair = tuple[Range, Range]
"""``(source_range, target_range)``: a case or a detection."""

__all__ = [
    "Pair",
    "Range",
    "Scores",
    "cases_from_truth",
    "evaluate",
    "granularity",
    "plagdet_score",
    "plagdet_scores",
    "precision",
    "recall",
]


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    granularity: float
    plagdet: float


def _range(r: Sequence) -> Range:
    if len(r) != 3:
        raise ValueError(f"a range is (document, start, end), got {r!r}")
    doc, start, end = r
    start, end = int(start), int(end)
    if not 0 <= start < end:
        raise ValueError(f"a range must have 0 <= start < end, got {r!r}")
    return (str(doc), start, end)


def _pairs(items: Iterable[Sequence]) -> list[Pair]:
    out = []
    for item in items:
        if len(item) == 6:  # flat (src_doc, src_start, src_end, tgt_doc, tgt_start, tgt_end)
            item = (item[:3], item[3:])
        if len(item) != 2:
            raise ValueError(f"a case or detection is (source_range, target_range), got {item!r}")
        out.append((_range(item[0]), _range(item[1])))
    return out


def _overlap(a: Range, b: Range) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def _orient(s: Pair, r: Pair, symmetric: bool) -> Pair | None:
    """``r`` as it detects ``s`` (swapped when only the swapped orientation does), or ``None``."""
    if _overlap(s[0], r[0]) and _overlap(s[1], r[1]):
        return r
    if symmetric and _overlap(s[0], r[1]) and _overlap(s[1], r[0]):
        return (r[1], r[0])
    return None


def _covered(span: Range, others: list[Range]) -> int:
    """Number of characters of ``span`` inside the union of ``others`` (all in the same document)."""
    cuts = sorted((max(span[1], o[1]), min(span[2], o[2])) for o in others)
    total, reach = 0, span[1]
    for a, b in cuts:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


def _by_documents(detections: list[Pair]) -> dict[tuple[str, str], list[Pair]]:
    """Detections by their (source, target) documents: only those of a case's documents can detect it, and a
    large family has tens of thousands of cases (every two copies), each looked up instead of compared with
    every detection."""
    by: dict[tuple[str, str], list[Pair]] = {}
    for r in detections:
        by.setdefault((r[0][0], r[1][0]), []).append(r)
    return by


def _detecting(s: Pair, by_documents: dict[tuple[str, str], list[Pair]], symmetric: bool) -> list[Pair]:
    near = by_documents.get((s[0][0], s[1][0]), [])
    if symmetric and s[0][0] != s[1][0]:
        near = near + by_documents.get((s[1][0], s[0][0]), [])
    out = []
    for r in near:
        oriented = _orient(s, r, symmetric)
        if oriented is not None:
            out.append(oriented)
    return out


def _macro_recall(cases: list[Pair], detections: list[Pair], symmetric: bool) -> float:
    if not cases and not detections:
        return 1.0
    if not cases or not detections:
        return 0.0
    total = 0.0
    by_documents = _by_documents(detections)
    for s in cases:
        found = _detecting(s, by_documents, symmetric)
        if found:
            chars = _covered(s[0], [r[0] for r in found]) + _covered(s[1], [r[1] for r in found])
            total += chars / ((s[0][2] - s[0][1]) + (s[1][2] - s[1][1]))
    return total / len(cases)


def recall(cases: Iterable[Sequence], detections: Iterable[Sequence], *, symmetric: bool = False) -> float:
    """Macro-averaged recall: the mean over cases of the share of the case's characters detected."""
    return _macro_recall(_pairs(cases), _pairs(detections), symmetric)


def precision(cases: Iterable[Sequence], detections: Iterable[Sequence], *, symmetric: bool = False) -> float:
    """Macro-averaged precision: the mean over detections of the share of their characters in a case they detect."""
    return _macro_recall(_pairs(detections), _pairs(cases), symmetric)


def granularity(cases: Iterable[Sequence], detections: Iterable[Sequence], *, symmetric: bool = False) -> float:
    """Mean number of detections per detected case (1 when no case is detected)."""
    dets = _by_documents(_pairs(detections))
    counts = [len(_detecting(s, dets, symmetric)) for s in _pairs(cases)]
    detected = [n for n in counts if n > 0]
    return sum(detected) / len(detected) if detected else 1.0


def plagdet_score(precision: float, recall: float, granularity: float) -> float:
    """``F1 / log2(1 + granularity)``; 0 when precision and recall are both 0."""
    if precision + recall <= 0 or precision < 0 or recall < 0 or granularity < 1:
        return 0.0
    f1 = 2 * precision * recall / (precision + recall)
    return f1 / math.log2(1 + granularity)


def evaluate(cases: Iterable[Sequence], detections: Iterable[Sequence], *, symmetric: bool = False) -> Scores:
    """Precision, recall, granularity and plagdet of ``detections`` against ``cases``."""
    s, r = _pairs(cases), _pairs(detections)
    prec = _macro_recall(r, s, symmetric)
    rec = _macro_recall(s, r, symmetric)
    by_documents = _by_documents(r)
    counts = [len(_detecting(c, by_documents, symmetric)) for c in s]
    detected = [n for n in counts if n > 0]
    gran = sum(detected) / len(detected) if detected else 1.0
    return Scores(prec, rec, gran, plagdet_score(prec, rec, gran))


def plagdet_scores(cases: Iterable[Sequence], detections: Iterable[Sequence], *, symmetric: bool = True) -> dict:
    """:func:`evaluate` as a dict (``precision``, ``recall``, ``granularity``, ``plagdet``, ``cases``,
    ``detections``), for reports.

    Symmetric by default: in a corpus from :mod:`benchmarks.generate` the ``source`` of a copy is merely the
    older of two speeches in the generator's order, which no text evidence can recover (two copies of one
    template, a year shifted backwards...), so a detection is not penalised for the direction it reports.
    Pass ``symmetric=False`` for PAN's directed measure.
    """
    s, r = _pairs(cases), _pairs(detections)
    scores = evaluate(s, r, symmetric=symmetric)
    return {"precision": scores.precision, "recall": scores.recall, "granularity": scores.granularity,
            "plagdet": scores.plagdet, "cases": len(s), "detections": len(r)}


def cases_from_truth(truth: dict | str | Path, *, kinds: Iterable[str] | None = None) -> list[Pair]:
    """The copies of a ``truth.json`` written by :mod:`benchmarks.generate`, as cases.

    Args:
        truth: The parsed truth, or the path of ``truth.json`` (or of the folder holding it).
        kinds: Keep only copies of these kinds (``"family"``, ``"borrowed"``); all by default.
    """
    if not isinstance(truth, dict):
        path = Path(truth)
        if path.is_dir():
            path = path / "truth.json"
        truth = json.loads(path.read_text(encoding="utf-8"))
    wanted = None if kinds is None else set(kinds)
    out = []
    for c in truth["copies"]:
        if wanted is not None and c.get("kind") not in wanted:
            continue
        src, dst = c["source"], c["target"]
        out.append(((src["file"], src["start_char"], src["end_char"]),
                    (dst["file"], dst["start_char"], dst["end_char"])))
    return out
