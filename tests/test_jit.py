"""When the compiled kernels run: DUPSPEECH_JIT, and by default only for a big corpus."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_the_kernel_cache_is_keyed_by_every_source_file(tmp_path, monkeypatch):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not source")
    monkeypatch.setattr(_jit, "_PACKAGE_DIR", str(tmp_path))
    first = _jit.source_hash()
    (tmp_path / "notes.txt").write_text("changed, but not source")
    assert _jit.source_hash() == first
    (tmp_path / "b.py").write_text("x = 2\n")  # a change in any module, not only the kernel's own
    assert _jit.source_hash() != first


def test_cache_folder_follows_numba_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert _jit.cache_dir().startswith(str(tmp_path / "dupspeech-kernels"))


def test_old_kernel_caches_are_pruned(tmp_path):
    import os
    import time

    for k in range(7):
        (tmp_path / f"v{k}").mkdir()
        os.utime(tmp_path / f"v{k}", (time.time() - 100 + k, time.time() - 100 + k))
    _jit._prune(str(tmp_path), keep=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v3", "v4", "v5", "v6"]


@needs_numba
def test_compiled_kernels_are_cached_in_the_package_folder(monkeypatch):
    import numpy as np

    from dupspeech.cluster import overlaps

    monkeypatch.setenv("DUPSPEECH_JIT", "1")
    flat = np.array([1, 2, 3, 2, 3, 4], dtype=np.uint64)
    assert overlaps(flat, np.array([0, 3, 6]), np.array([0]), np.array([1])).tolist() == [2]
    import os

    assert any(name.startswith("cluster._overlaps_kernel") for name in os.listdir(_jit.cache_dir()))


@pytest.mark.parametrize("n, threads", [(0, 2), (1, 4), (7, 2), (10, 3), (10, 1)])
def test_in_threads_covers_every_item_once_in_order(n, threads):
    parts = _jit.in_threads(lambda lo, hi: list(range(lo, hi)), n, threads)
    assert [x for p in parts for x in p] == list(range(n))
    assert len(parts) == max(1, min(n, threads))


@needs_numba
@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet="政府工作报告我们要坚持１2３。，\n𠀀 abc年", max_size=260), min_size=1, max_size=6),
       st.integers(1, 3), st.sampled_from([True, False]), st.sampled_from(["char", "word"]),
       st.sampled_from([1, 37, 1 << 21]))
def test_bulk_preparation_equals_speech_by_speech(bodies, threads, fold, mode, batch_chars):
    """The compiled whole-run preparation gives every speech's text, shingle set, seeds and window
    signatures exactly as the speech-by-speech path: speeches shorter than k, empty ones, characters beyond the
    BMP, numbers folded or not, char or word mode, any number of threads (forked workers too, in word mode)."""
    from dupspeech import align as align_stage
    from dupspeech import api

    pages = {f"p{k}.txt": "【篇1】在会议上的讲话\n" + body + "\n【篇2】总结\n" + body[::-1] for k, body in enumerate(bodies)}
    _, docs, speeches, _ = api.read_and_split(pages)
    by_name = {d.name: d for d in docs}
    cfg = api.settings(fold_numbers=fold, shingle=mode)  # word mode: sets from words, seeds from characters
    expected = api._prepare_chunk((speeches, by_name, cfg), range(len(speeches)))
    with pytest.MonkeyPatch.context() as mp:  # batches of one speech, of a few, or all speeches in one
        mp.setattr(api, "BATCH_CHARS", batch_chars)
        text, maps, sets, seeds, (matrix, groups) = api._prepare_bulk(speeches, by_name, cfg, threads=threads)
    assert [text[a:b] for a, b in zip(maps.bounds[:-1], maps.bounds[1:])] == [e[0].text for e in expected]
    starts, ends = maps.expand()
    assert np.array_equal(starts, np.concatenate([np.zeros(0, np.int64), *(e[0].starts for e in expected)]))
    assert np.array_equal(ends, np.concatenate([np.zeros(0, np.int64), *(e[0].ends for e in expected)]))
    for got, theirs in ((sets, [e[1] for e in expected]), (seeds, [e[2] for e in expected])):
        assert len(got) == len(theirs)
        assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(got, theirs))
    want_matrix, want_groups = align_stage.stack_windows([e[3] for e in expected])
    assert matrix.dtype == want_matrix.dtype and len(matrix) == len(want_matrix)
    assert not len(matrix) or np.array_equal(matrix, want_matrix)  # no windows: (0, 64) here, (0, 0) there
    assert np.array_equal(groups, want_groups)
