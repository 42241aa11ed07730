from __future__ import annotations

import dataclasses
import inspect

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
