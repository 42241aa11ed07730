"""PAN character-level measures on small hand-computed cases."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.pan import (  # noqa: E402
    cases_from_truth,
    evaluate,
    granularity,
    plagdet_score,
    plagdet_scores,
    precision,
    recall,
)

# One case: characters 0-100 of src.txt copied to 200-300 of dst.txt (|s| = 100 + 100 = 200).
CASE = (("src.txt", 0, 100), ("dst.txt", 200, 300))


def approx(x: float) -> object:
    return pytest.approx(x, abs=1e-12)


def test_perfect_detection():
    scores = evaluate([CASE], [CASE])
    assert (scores.precision, scores.recall, scores.granularity, scores.plagdet) == (1, 1, 1, 1)


def test_half_detected():
    # The first half of both sides: 50 + 50 of 200 characters found, nothing reported outside the case.
    det = (("src.txt", 0, 50), ("dst.txt", 200, 250))
    scores = evaluate([CASE], [det])
    assert scores.recall == approx(0.5)
    assert scores.precision == approx(1.0)
    assert scores.granularity == 1
    assert scores.plagdet == approx(2 / 3)  # F1(1, 0.5) = 2/3, log2(1 + 1) = 1


def test_one_side_half_detected():
    det = (("src.txt", 0, 100), ("dst.txt", 200, 250))
    assert recall([CASE], [det]) == approx(150 / 200)
    assert precision([CASE], [det]) == approx(1.0)


def test_split_detection_has_granularity_two():
    first = (("src.txt", 0, 50), ("dst.txt", 200, 250))
    second = (("src.txt", 50, 100), ("dst.txt", 250, 300))
    scores = evaluate([CASE], [first, second])
    assert scores.recall == approx(1.0)
    assert scores.precision == approx(1.0)
    assert scores.granularity == 2
    assert scores.plagdet == approx(1 / math.log2(3))  # 0.6309...


def test_no_detection():
    scores = evaluate([CASE], [])
    assert scores.recall == 0
    assert scores.precision == 0
    assert scores.granularity == 1
    assert scores.plagdet == 0


def test_empty_truth_and_no_detection_is_perfect():
    assert evaluate([], []) == evaluate([CASE], [CASE])


def test_detection_too_long_halves_precision():
    det = (("src.txt", 0, 200), ("dst.txt", 200, 400))  # 400 characters, 200 of them in the case
    scores = evaluate([CASE], [det])
    assert scores.recall == approx(1.0)
    assert scores.precision == approx(0.5)
    assert scores.plagdet == approx(2 / 3)


def test_false_positive_is_macro_averaged():
    spurious = (("other.txt", 0, 10), ("dst.txt", 500, 510))
    scores = evaluate([CASE], [CASE, spurious])
    assert scores.precision == approx(0.5)  # (1 + 0) / 2 detections, whatever their lengths
    assert scores.recall == approx(1.0)
    assert scores.granularity == 1


def test_recall_is_macro_averaged_over_cases():
    short = (("a.txt", 0, 10), ("b.txt", 0, 10))
    scores = evaluate([CASE, short], [short])
    assert scores.recall == approx(0.5)  # (0 + 1) / 2 cases, not 20 / 220 characters
    assert scores.precision == approx(1.0)


def test_detection_must_overlap_both_sides():
    wrong_source = (("elsewhere.txt", 0, 100), ("dst.txt", 200, 300))
    wrong_target = (("src.txt", 0, 100), ("dst.txt", 300, 400))  # touching is not overlapping
    assert recall([CASE], [wrong_source]) == 0
    assert recall([CASE], [wrong_target]) == 0
    assert granularity([CASE], [wrong_source, wrong_target]) == 1


def test_overlapping_detections_are_not_counted_twice():
    a = (("src.txt", 0, 80), ("dst.txt", 200, 280))
    b = (("src.txt", 40, 100), ("dst.txt", 240, 300))
    assert recall([CASE], [a, b]) == approx(1.0)
    assert granularity([CASE], [a, b]) == 2


def test_symmetric_ignores_direction():
    swapped = (CASE[1], CASE[0])
    assert recall([CASE], [swapped]) == 0
    assert evaluate([CASE], [swapped], symmetric=True).plagdet == approx(1.0)


def test_same_document_case():
    case = (("page.txt", 0, 30), ("page.txt", 100, 130))
    det = (("page.txt", 0, 15), ("page.txt", 100, 130))
    assert recall([case], [det]) == approx(45 / 60)


def test_plagdet_formula():
    assert plagdet_score(0, 0, 1) == 0
    assert plagdet_score(1, 1, 1) == 1
    assert plagdet_score(0.5, 1, 1) == approx(2 / 3)
    assert plagdet_score(0.75, 0.25, 2) == pytest.approx(0.375 / math.log2(3))


def test_bad_ranges_are_rejected():
    with pytest.raises(ValueError):
        evaluate([(("a", 5, 5), ("b", 0, 1))], [])
    with pytest.raises(ValueError):
        evaluate([(("a", 0, 1),)], [])


def test_cases_from_truth_accepts_json_shapes():
    truth = {"copies": [
        {"source": {"speech": "p.txt#1", "file": "p.txt", "start_char": 3, "end_char": 9},
         "target": {"speech": "q.txt#2", "file": "q.txt", "start_char": 40, "end_char": 47}, "kind": "family"},
        {"source": {"speech": "p.txt#1", "file": "p.txt", "start_char": 12, "end_char": 20},
         "target": {"speech": "r.txt#1", "file": "r.txt", "start_char": 0, "end_char": 8}, "kind": "borrowed"},
    ]}
    cases = cases_from_truth(truth)
    assert cases == [(("p.txt", 3, 9), ("q.txt", 40, 47)), (("p.txt", 12, 20), ("r.txt", 0, 8))]
    assert cases_from_truth(truth, kinds=["borrowed"]) == cases[1:]
    as_lists = [[list(s), list(t)] for s, t in cases]  # what json.load gives for stored detections
    assert evaluate(cases, as_lists).plagdet == 1


def test_flat_six_tuples_and_report_dict():
    flat_case = ("src.txt", 0, 100, "dst.txt", 200, 300)
    flat_half = ("src.txt", 0, 50, "dst.txt", 200, 250)
    assert evaluate([flat_case], [flat_half]) == evaluate([CASE], [(("src.txt", 0, 50), ("dst.txt", 200, 250))])
    report = plagdet_scores([flat_case], [("dst.txt", 200, 300, "src.txt", 0, 100)])  # symmetric by default
    assert report == {"precision": 1.0, "recall": 1.0, "granularity": 1.0, "plagdet": 1.0, "cases": 1,
                      "detections": 1}
    assert plagdet_scores([flat_case], [("dst.txt", 200, 300, "src.txt", 0, 100)], symmetric=False)["plagdet"] == 0
