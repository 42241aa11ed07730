"""When the compiled kernels run: DUPSPEECH_JIT, and by default only for a big corpus."""

from __future__ import annotations

import pytest

import dupspeech
from dupspeech import _jit

needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba is not installed")


@needs_numba
@pytest.mark.parametrize("value", ["", "auto"])
def test_auto_runs_kernels_only_inside_a_big_corpus(monkeypatch, value):
    monkeypatch.setenv("DUPSPEECH_JIT", value)
    assert not _jit.enabled()
    with _jit.for_corpus(_jit.MIN_CHARS - 1):
        assert not _jit.enabled()
    with _jit.for_corpus(_jit.MIN_CHARS):
        assert _jit.enabled()
        with _jit.for_corpus(10):  # nested: the inner corpus decides, and the outer is restored after
            assert not _jit.enabled()
        assert _jit.enabled()
    assert not _jit.enabled()


@pytest.mark.parametrize("value, expected", [("1", True), ("on", True), ("0", False), ("off", False)])
def test_the_environment_overrides(monkeypatch, value, expected):
    monkeypatch.setenv("DUPSPEECH_JIT", value)
    with _jit.for_corpus(0):
        assert _jit.enabled() is (expected and _jit.available())
    with _jit.for_corpus(10**9):
        assert _jit.enabled() is (expected and _jit.available())


def test_cluster_declares_its_corpus_size(monkeypatch):
    seen = []
    real = _jit.for_corpus

    def spy(chars):
        seen.append(chars)
        return real(chars)

    monkeypatch.setattr(_jit, "for_corpus", spy)
    text = "【篇1】标题\n" + "今天我们召开全县安全生产工作会议，研究安排下一阶段工作。"
    dupspeech.cluster({"a.txt": text, "b.txt": text}, min_shingles=5)
    assert seen == [2 * len(text)]
