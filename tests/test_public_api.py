from __future__ import annotations

import dataclasses
import inspect
import json

import pytest

import dupspeech
from dupspeech import models


def test_all_is_sorted_and_complete():
    assert dupspeech.__all__ == sorted(dupspeech.__all__)
    for name in dupspeech.__all__:
        assert hasattr(dupspeech, name), name
    public = {n for n, v in vars(dupspeech).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public <= set(dupspeech.__all__)


def test_results_are_frozen_slotted_dataclasses():
    for name in ("FileRecord", "Document", "Span", "Paragraph", "Dropped", "Speech", "Pair", "Cluster", "Location",
                 "Copy", "Result"):
        cls = getattr(models, name)
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen, name
        assert "__slots__" in vars(cls), name


def test_cluster_options_are_keyword_only():
    sig = inspect.signature(dupspeech.settings)
    assert all(p.kind is p.KEYWORD_ONLY for p in sig.parameters.values())


STRANGE_VALUES = ["", "引号\"反斜杠\\斜杠/", "\x00\x01\x1f\x7f\t\n\r\b\f", "\u2028\u2029\ufeff", "😀𠀀", "\ud800 lone",
                  0, -3, 2**63, 2**64, True, False, None, 0.0, -0.0, 0.0001, 0.1234, 1.0, 0.30000000000000004, 1e-05,
                  1e15, 1e16, -2.5e-7, 1.5e300, [], {}, [[]], {"a": []}, {"b": {"c": [1, "x", None]}}]


@pytest.mark.parametrize("value", STRANGE_VALUES, ids=repr)
def test_report_json_is_the_standard_librarys_text(value):
    """report.dumps writes with orjson when it may, and the text is json.dumps's to the byte: for every kind of
    value, inside an object and a list, whether or not the caller vouches for the floats."""
    from dupspeech import report

    for obj in ({"k": value, "l": [value, value]}, [value], value):
        want = json.dumps(obj, ensure_ascii=False, indent=2) + "\n"
        assert report.dumps(obj, plain_floats=report._plain(obj)) == want
        assert report.dumps(obj, indent=None) == json.dumps(obj, ensure_ascii=False) + "\n"


def test_result_json_with_orjson_and_with_the_standard_library_alike(monkeypatch):
    """A whole report, its settings holding a float orjson would write otherwise (1e-05), and the same report
    written by the standard library alone."""
    from dupspeech import report

    r = dupspeech.cluster({"a.txt": "【篇1】在“全县”会议上的讲话\\\n" + "各乡镇要压实属地责任，建立隐患台账。" * 6,
                           "b.txt": "【篇1】在全市会议上的讲话😀\n" + "各乡镇要压实属地责任，建立隐患台账。" * 6},
                          min_shingles=5)
    assert r.copies and report._plain(dict(r.settings))
    fast = r.to_json()
    monkeypatch.setattr(report, "_orjson", None)
    assert fast == r.to_json() == json.dumps(report.result_to_dict(r), ensure_ascii=False, indent=2) + "\n"
    tiny = dupspeech.cluster({"a.txt": "【篇1】讲话\n各乡镇要压实属地责任，建立隐患台账。"}, min_shingles=5, containment=1e-05)
    assert not report._plain(dict(tiny.settings))
    slow = tiny.to_json()
    monkeypatch.undo()
    assert tiny.to_json() == slow and '"cluster.containment": 1e-05' in slow
