"""The vectorised shingle hashes against the slow, obviously-correct definition."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dupspeech import _jit
from dupspeech.config import ShingleConfig
from dupspeech.errors import ConfigError
from dupspeech.shingle import shingle_hash, shingles, tokens

_text = st.text(alphabet="今年面对突如其来的疫情防控全区各级部门做了大量工作\ue000abc😀", max_size=120)


@settings(max_examples=100, deadline=None)
@given(_text, st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_char_shingles_match_the_slow_definition(text, n, seed):
    cfg = ShingleConfig(mode="char", ngram=n, seed=seed)
    toks = list(text)
    if not toks:
        expected = set()
    elif len(toks) < n:
        expected = {shingle_hash(toks, seed)}
    else:
        expected = {shingle_hash(toks[i : i + n], seed) for i in range(len(toks) - n + 1)}
    assert shingles(text, cfg).tolist() == sorted(expected)


@settings(max_examples=30, deadline=None)
@given(_text, st.integers(1, 4))
def test_word_shingles_match_the_slow_definition(text, n):
    cfg = ShingleConfig(mode="word", ngram=n)
    toks = tokens(text, "word")
    expected = {shingle_hash(toks[i : i + n], 0) for i in range(max(1, len(toks) - n + 1))} if toks else set()
    assert shingles(text, cfg).tolist() == sorted(expected)


def test_exact_jaccard_equals_python_sets_of_strings():
    a = "各级各部门要进一步压紧压实属地部门企业单位个人等各方面的防控责任"
    b = "各级各部门要进一步压实属地部门单位个人等各方面的防控责任建立体系"
    n = 5
    sa = {a[i : i + n] for i in range(len(a) - n + 1)}
    sb = {b[i : i + n] for i in range(len(b) - n + 1)}
    ha, hb = shingles(a, ShingleConfig(ngram=n)), shingles(b, ShingleConfig(ngram=n))
    inter = len(np.intersect1d(ha, hb))
    assert len(ha) == len(sa) and len(hb) == len(sb)
    assert inter == len(sa & sb)


def test_seed_changes_hashes_and_order_matters():
    assert shingles("安全生产工作", ShingleConfig(seed=1)).tolist() != shingles("安全生产工作", ShingleConfig(seed=2)).tolist()
    assert shingles("甲乙丙丁戊", ShingleConfig()).tolist() != shingles("戊丁丙乙甲", ShingleConfig()).tolist()


@pytest.mark.parametrize("bad", [{"ngram": 0}, {"ngram": -1}, {"mode": "bytes"}, {"ngram": 100}, {"seed": -1}])
def test_config_errors_say_what_to_do(bad):
    with pytest.raises(ConfigError):
        ShingleConfig(**bad)
    try:
        ShingleConfig(ngram=0)
    except ConfigError as exc:
        assert "works best around 5" in str(exc)


def test_rjieba_gives_jieba_tokens():
    pytest.importorskip("rjieba")
    text = "今年面对突如其来的新冠肺炎疫情防控全区各级各部门做了大量的工作保持了零确诊零疑似的成效"
    assert tokens(text, "word", "rjieba") == tokens(text, "word", "jieba")
    a = shingles(text, ShingleConfig(mode="word", ngram=3, tokenizer="rjieba"))
    assert a.tolist() == shingles(text, ShingleConfig(mode="word", ngram=3)).tolist()


def test_tokenizer_validation():
    with pytest.raises(ConfigError, match="tokenizer"):
        ShingleConfig(tokenizer="pkuseg")


def test_auto_tokenizer_is_resolved_and_recorded(monkeypatch):
    import dupspeech

    expected = "rjieba" if importlib.util.find_spec("rjieba") else "jieba"
    assert dupspeech.settings(shingle="word").shingle.tokenizer == expected
    assert dupspeech.settings(shingle="word", tokenizer="jieba").shingle.tokenizer == "jieba"
    monkeypatch.setitem(sys.modules, "rjieba", None)  # as if it were not installed
    assert dupspeech.settings(shingle="word").shingle.tokenizer == "jieba"
    text = "【篇1】标题\n" + "今天我们召开全县安全生产工作会议，研究安排下一阶段工作。" * 3
    result = dupspeech.cluster({"a.txt": text, "b.txt": text}, shingle="word", min_shingles=5)
    assert dict(result.settings)["shingle.tokenizer"] == "jieba"


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-2**63, 2**63 - 1) | st.integers(0, 9), max_size=40),
       st.lists(st.integers(-2**63, 2**63 - 1) | st.integers(0, 9), max_size=40), st.booleans(), st.booleans())
def test_union_sorted_is_np_union1d(jit, a, b, a_distinct, b_distinct):
    """The union of two code arrays, sorted and distinct: by a merge when both are sorted and distinct already
    (the LSH's codes), else by a sort; drawn both ways, with small values so that they share some."""
    from dupspeech.shingle import union_sorted

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        x = np.unique(np.array(a, dtype=np.int64)) if a_distinct else np.array(a, dtype=np.int64)
        y = np.unique(np.array(b, dtype=np.int64)) if b_distinct else np.array(b, dtype=np.int64)
        got = union_sorted(x, y)
    assert got.dtype == np.int64 and np.array_equal(got, np.union1d(x, y))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 5), max_size=60))
def test_sorted_unique_is_np_unique(values):
    from dupspeech.shingle import sorted_unique

    arr = np.array(values, dtype=np.uint64)
    assert np.array_equal(sorted_unique(arr), np.unique(arr))
    assert sorted_unique(arr).dtype == np.uint64


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300), st.sampled_from([np.uint64, np.int64]),
       st.sampled_from([0, 2**8 - 1, 2**40 - 1, 2**64 - 1]))
def test_radix_sort_sorts_as_numpy_does(raw, dtype, mask):
    """64-bit values, signed or not, with bytes that are the same in every value (skipped passes), whatever
    the parity of the passes that move values."""
    from dupspeech import shingle

    values = (np.array(raw, dtype=np.uint64) & np.uint64(mask)).view(dtype)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(shingle, "RADIX_MIN", 0)
        mp.setenv("DUPSPEECH_JIT", "1")
        got = shingle.sort_values(values)
        unique = shingle.sorted_unique(values)
    assert got.dtype == values.dtype and np.array_equal(got, np.sort(values))
    assert np.array_equal(unique, np.unique(values))


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300), st.integers(0, 7), st.sampled_from([3, 2**16 - 1, 2**64 - 1]))
def test_radix_sort_rows_is_a_stable_sort_on_the_high_bytes_moving_the_rows(raw, first, mask):
    from dupspeech.shingle import radix_sort_rows

    keys = np.array(raw, dtype=np.uint64) & np.uint64(mask)  # small masks: many equal bytes, and bytes never used
    rows = np.arange(3 * len(keys), dtype=np.uint32).reshape(-1, 3)
    sorted_keys = keys.copy()
    moved = radix_sort_rows(sorted_keys, np.empty_like(keys), rows.copy(), np.empty_like(rows), first,
                            np.zeros((8, 256), np.int64))
    order = np.argsort(keys >> np.uint64(8 * first), kind="stable")
    assert np.array_equal(sorted_keys, keys[order]) and np.array_equal(moved, rows[order])


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300), st.sampled_from([0, 3, 2**40 - 1, 2**64 - 1]),
       st.integers(0, 3))
def test_order_by_value_is_a_stable_argsort(raw, low_mask, top_values):
    """The kernel sorts by the 16 high bits, then each run of equal high bits by insertion or, when long, by a
    stable sort: draw values whose high bits take few values (long runs), and repeated values."""
    from dupspeech.shingle import order_by_value

    seeds = np.array(raw, dtype=np.uint64)
    if top_values:
        seeds = (seeds & np.uint64(low_mask)) | ((seeds % np.uint64(top_values)) << np.uint64(48))
    m = len(seeds)
    order, ordered = np.empty(m, np.int32), np.empty(m, np.uint64)
    order_by_value(seeds, order, ordered, np.empty(m, np.int32), np.zeros((2, 256), np.int64))
    assert np.array_equal(order, np.argsort(seeds, kind="stable"))
    assert np.array_equal(ordered, np.sort(seeds))


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=60), max_size=6), st.sampled_from([0, 3, 2**64 - 1]))
def test_sorted_unique_many_is_unique_per_run(runs, top_values):
    from dupspeech.shingle import sorted_unique_many

    arrays = [np.array(r, dtype=np.uint64) for r in runs]
    if top_values:  # high bits of few values: long runs for the insertion step, and repeats
        arrays = [(a & np.uint64(7)) | ((a % np.uint64(top_values)) << np.uint64(48)) for a in arrays]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays) if arrays else np.zeros(0, np.uint64)
    out, out_off = sorted_unique_many(flat, offsets)
    assert [out[out_off[k] : out_off[k + 1]].tolist() for k in range(len(arrays))] == [np.unique(a).tolist() for a in arrays]


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=80), st.integers(0, 80), st.sampled_from([7, 2**63 - 1]))
def test_sort_prefix_sorts_the_prefix_only(raw, n, mask):
    """Insertion for up to SMALL_SORT values, numba's sort above; what lies past ``n`` is left as it was."""
    from dupspeech.shingle import SMALL_SORT, sort_prefix

    values = np.array(raw, dtype=np.int64) & np.int64(mask)  # a small mask: many equal values
    n = min(n, len(values))
    got = values.copy()
    sort_prefix(got, n)
    assert np.array_equal(got[:n], np.sort(values[:n])) and np.array_equal(got[n:], values[n:])
    assert SMALL_SORT < 80  # both branches are drawn


@pytest.mark.parametrize("jit", ["1", "0"])
@pytest.mark.parametrize("n,at_least", [(0, 3), (50, 1), (20_000, 2), (40_000, 3), (40_000, 50)])
def test_frequent_values_are_count_codes_filtered(jit, n, at_least, monkeypatch):
    """``index.frequent`` (a radix sort and one compiled pass from RADIX_MIN values on) gives the values that
    ``count_codes`` counts at least ``at_least`` times; with ``overwrite`` it may sort the input in place."""
    from dupspeech.index import count_codes, frequent

    monkeypatch.setenv("DUPSPEECH_JIT", jit)
    rng = np.random.default_rng(n + at_least)
    values = rng.integers(0, max(n // 3, 1), n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    distinct, counts = count_codes(values)
    kept = values.copy()
    assert np.array_equal(frequent(values, at_least), distinct[counts >= at_least])
    assert np.array_equal(values, kept)  # not touched without overwrite
    assert np.array_equal(frequent(values, at_least, overwrite=True), distinct[counts >= at_least])
    assert at_least > 1 or n == 0 or len(distinct) == len(frequent(kept, 1))
