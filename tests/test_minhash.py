"""Signatures against datasketch's own MinHash (the oracle), and LSH compatibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from dupspeech import _jit
from dupspeech.config import MinHashConfig
from dupspeech.errors import ConfigError
from dupspeech.index import candidate_pairs
from dupspeech.minhash import estimate_jaccard, signature, signatures


def _oracle(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda x: x)
    m.update_batch([int(h) & 0xFFFFFFFF for h in hashes])
    return m.hashvalues


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=40, deadline=None)
@given(
    hashes=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=300, unique=True),
    num_perm=st.sampled_from([16, 64, 128, 256]),
    seed=st.integers(0, 2**32 - 1),
)
def test_signature_equals_datasketch(jit, hashes, num_perm, seed):
    arr = np.array(sorted(hashes), dtype=np.uint64)
    cfg = MinHashConfig(num_perm=num_perm, seed=seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)  # the compiled kernel and the numpy path, each against datasketch
        assert np.array_equal(signature(arr, cfg), _oracle(arr, num_perm, seed))
        many = signatures([arr, arr[: len(arr) // 2], np.zeros(0, dtype=np.uint64)], cfg)
    assert np.array_equal(many[0], _oracle(arr, num_perm, seed))
    assert np.array_equal(many[1], signature(arr[: len(arr) // 2], cfg))
    assert (many[2] == 0xFFFFFFFF).all()


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed: only the numpy path runs")
@settings(max_examples=30, deadline=None)
@given(runs=st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=40, unique=True), min_size=1, max_size=8),
       data=st.data())
def test_signatures_of_runs_read_in_place_equal_signatures(runs, data):
    """Signatures of some runs of one array (any of them, in any order, repeated), mixing each hash's low half as
    they read it, equal the signatures of those sets given one by one (numpy path)."""
    from dupspeech.cluster import Ragged
    from dupspeech.minhash import signatures_of_runs

    sets = Ragged.of([np.array(r, dtype=np.uint64) for r in runs])
    which = data.draw(st.lists(st.integers(0, len(runs) - 1), max_size=10))
    cfg = MinHashConfig(num_perm=64, seed=9)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "0")
        expected = signatures([sets[k] for k in which], cfg) if which else np.zeros((0, 64), np.uint32)
    got = signatures_of_runs(sets.values, sets.bounds, np.array(which, dtype=np.int64), cfg)
    assert got.dtype == np.uint32 and np.array_equal(got, expected)


def test_large_set_crosses_chunks():
    rng = np.random.default_rng(0)
    arr = np.unique(rng.integers(0, 2**63, 10_000, dtype=np.uint64))
    assert np.array_equal(signature(arr, MinHashConfig()), _oracle(arr, 128, 1))


def test_estimate_tracks_exact_jaccard_like_datasketch():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**63, 4000, dtype=np.uint64)
    a, b = np.unique(base[:3000]), np.unique(base[1000:])
    exact = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
    cfg = MinHashConfig(num_perm=256)
    est = estimate_jaccard(signature(a, cfg), signature(b, cfg))
    oracle = MinHash(num_perm=256, seed=1, hashfunc=lambda x: x)
    other = MinHash(num_perm=256, seed=1, hashfunc=lambda x: x)
    oracle.update_batch([int(x) & 0xFFFFFFFF for x in a])
    other.update_batch([int(x) & 0xFFFFFFFF for x in b])
    assert est == pytest.approx(oracle.jaccard(other))
    assert abs(est - exact) < 0.1


def test_empty_set_signature_is_all_max():
    assert (signature(np.zeros(0, dtype=np.uint64), MinHashConfig()) == 0xFFFFFFFF).all()


def test_signatures_go_into_datasketch_lsh_and_candidates_agree():
    rng = np.random.default_rng(2)
    base = rng.integers(0, 2**63, 2000, dtype=np.uint64)
    sets = [np.unique(base[:1000]), np.unique(base[50:1050]), np.unique(rng.integers(0, 2**63, 1000, dtype=np.uint64))]
    cfg = MinHashConfig()
    sigs = signatures(sets, cfg)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for k, s in enumerate(sets):
        m = MinHash(num_perm=128, seed=1, hashfunc=lambda x: x)
        m.update_batch([int(x) & 0xFFFFFFFF for x in s])
        lsh.insert(k, m)
    m0 = MinHash(num_perm=128, seed=1, hashfunc=lambda x: x, hashvalues=sigs[0], scheme="affine32")
    assert sorted(lsh.query(m0)) == [0, 1]
    assert list(candidate_pairs(sigs, [0, 1, 2], threshold=0.5, seed=1)) == [(0, 1)]


@pytest.mark.parametrize("bad", [{"num_perm": 1}, {"num_perm": 10_000}, {"seed": -5}])
def test_config_errors(bad):
    with pytest.raises(ConfigError):
        MinHashConfig(**bad)


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=400),
       shape=st.sampled_from([(20, 5), (40, 10), (8, 8), (60, 20)]))
def test_window_signatures_equal_per_window_signatures(jit, values, shape):
    from dupspeech.minhash import window_signatures

    window, stride = shape
    arr = np.array(values, dtype=np.uint64)
    cfg = MinHashConfig(num_perm=32, seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        got = window_signatures(arr, window, stride, cfg)
    n = len(arr)
    n_windows = 1 if n <= window else -(-(n - window) // stride) + 1
    expected = [signature(np.unique(arr[w * stride : w * stride + window]), cfg) for w in range(n_windows)]
    assert got.shape == (n_windows, 32)
    assert np.array_equal(got, np.array(expected))
    assert n_windows == 1 or (n_windows - 1) * stride + window >= n  # the last window reaches the end


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), threshold=st.sampled_from([0.3, 0.5, 0.8]))
def test_numpy_banding_finds_exactly_what_datasketch_lsh_finds(jit, seed, threshold):
    from dupspeech.index import grouped_pairs

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**63, 300, dtype=np.uint64)
    sets = [np.unique(np.concatenate([base[rng.integers(0, 300, 200)], rng.integers(0, 2**63, 50, dtype=np.uint64)]))
            for _ in range(12)]
    cfg = MinHashConfig(num_perm=64)
    sigs = signatures(sets, cfg)
    lsh = MinHashLSH(threshold=threshold, num_perm=64)
    for k, sig in enumerate(sigs):
        lsh.insert(k, MinHash(num_perm=64, seed=1, hashvalues=sig, scheme="affine32", permutations=(np.ones(64, np.uint32), np.zeros(64, np.uint32))))
    expected = set()
    for k, sig in enumerate(sigs):
        m = MinHash(num_perm=64, seed=1, hashvalues=sig, scheme="affine32", permutations=(np.ones(64, np.uint32), np.zeros(64, np.uint32)))
        expected |= {(min(k, o), max(k, o)) for o in lsh.query(m) if o != k}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)  # the compiled kernel and the numpy path, each against datasketch
        assert grouped_pairs(sigs, np.arange(12), threshold=threshold) == expected


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed: only the numpy path runs")
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([None, 2, 3]), st.sampled_from([0, 3, 2**64 - 1]),
       st.sampled_from([None, 2]))
def test_banding_kernel_is_exact_even_when_band_hashes_collide(seed, max_groups, key_mask, crowd):
    """Rows of one speech and of others, many sharing band values; the kernel keeps only ``key_mask`` bits of
    its band hashes, so with a small mask unequal band keys collide and must be told apart value by value. With
    ``crowd``, the codes flag the buckets of more groups than that, as the numpy path's do."""
    from dupspeech.index import _grouped_pairs_kernel, grouped_pairs, lsh_params, met_enough

    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 3, (40, 32)).astype(np.uint32)  # few values: many buckets of several rows
    groups = rng.integers(0, 9, 40)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "0")
        expected = grouped_pairs(sigs, groups, threshold=0.5, max_groups=max_groups, crowd=crowd)
    b, r = lsh_params(0.5, 32)
    limit = -1 if max_groups is None else max_groups
    flag = -1 if crowd is None else crowd
    codes = _grouped_pairs_kernel(sigs, groups.astype(np.int64), 9, 0, b, r, limit, np.uint64(key_mask), 0, -1, flag)
    if crowd is None:
        assert {(int(c) // 9, int(c) % 9) for c in codes} == expected
    else:
        assert {(int(c) // 9, int(c) % 9) for c in met_enough(codes, 1)} == expected
    # bands taken in parts (as threads take them) give the same codes
    parts = [_grouped_pairs_kernel(sigs, groups.astype(np.int64), 9, lo, hi, r, limit, np.uint64(key_mask), 0, -1,
                                   flag)
             for lo, hi in ((0, 1), (1, b // 2), (b // 2, b))]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.sort(codes))


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed: only the numpy path runs")
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), lengths=st.lists(st.integers(0, 90), min_size=1, max_size=12),
       shape=st.sampled_from([(20, 5), (40, 10), (8, 8)]), threshold=st.sampled_from([0.3, 0.5, 0.8]),
       max_groups=st.sampled_from([None, 2]), min_hits=st.integers(1, 3), per=st.integers(1, 5),
       threads=st.integers(1, 3), crowd=st.sampled_from([None, 2, 3]))
def test_window_codes_from_seeds_equal_the_codes_of_the_stored_signatures(
        seed, lengths, shape, threshold, max_groups, min_hits, per, threads, crowd):
    """The window LSH computed band by band from the seeds (a few bands' columns at a time, ``per``) gives the
    codes of :func:`grouped_codes` on the stacked window signatures (the numpy path): runs empty, shorter than a
    window or of several, seeds drawn from few values so that windows of different runs share buckets."""
    from dupspeech import index
    from dupspeech.minhash import window_signatures

    window, stride = shape
    rng = np.random.default_rng(seed)
    runs = [rng.integers(0, 12, n).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) for n in lengths]
    offsets = np.zeros(len(runs) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in runs], out=offsets[1:])
    cfg = MinHashConfig(num_perm=32, seed=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "0")
        sigs = [window_signatures(x, window, stride, cfg) if len(x) else np.zeros((0, 32), np.uint32) for x in runs]
        groups = np.concatenate([np.full(len(w), k) for k, w in enumerate(sigs)]).astype(np.int64)
        expected = index.grouped_codes(np.concatenate(sigs), groups, threshold=threshold, span=len(runs),
                                       max_groups=max_groups, min_hits=min_hits, crowd=crowd)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index, "BANDS_AT_ONCE", per)
        got = index.grouped_window_codes(np.concatenate(runs), offsets, window, stride, cfg, threshold=threshold,
                                         span=len(runs), max_groups=max_groups, min_hits=min_hits, threads=threads,
                                         crowd=crowd)
    assert got.dtype == np.int64 and np.array_equal(got, expected)


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), max_groups=st.sampled_from([None, 3]), min_hits=st.integers(1, 4))
def test_min_hits_counts_the_buckets_two_groups_share_over_all_bands(jit, seed, max_groups, min_hits):
    """``min_hits`` keeps the pairs whose rows meet in at least that many (band, bucket)s: checked against a
    plain dictionary of buckets per band."""
    from dupspeech.index import grouped_pairs, lsh_params

    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 3, (30, 32)).astype(np.uint32)
    groups = rng.integers(0, 8, 30)
    b, r = lsh_params(0.5, 32)
    hits: dict[tuple[int, int], int] = {}
    for band in range(b):
        buckets: dict[tuple[int, ...], set[int]] = {}
        for row, g in zip(sigs, groups):
            buckets.setdefault(tuple(row[band * r : (band + 1) * r].tolist()), set()).add(int(g))
        for members in buckets.values():
            if 2 <= len(members) and (max_groups is None or len(members) <= max_groups):
                for pair in itertools.combinations(sorted(members), 2):
                    hits[pair] = hits.get(pair, 0) + 1
    expected = {pair for pair, n in hits.items() if n >= min_hits}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        assert grouped_pairs(sigs, groups, threshold=0.5, max_groups=max_groups, min_hits=min_hits) == expected


def _buckets(sigs: np.ndarray, groups: np.ndarray, max_groups: int | None) -> list[set[int]]:
    """The groups of each LSH bucket of every band (threshold 0.5), buckets of more than ``max_groups`` left out:
    a plain dictionary per band, for the banding kernels to be checked against."""
    from dupspeech.index import lsh_params

    b, r = lsh_params(0.5, sigs.shape[1])
    found = []
    for band in range(b):
        buckets: dict[tuple[int, ...], set[int]] = {}
        for row, g in zip(sigs, groups):
            buckets.setdefault(tuple(row[band * r : (band + 1) * r].tolist()), set()).add(int(g))
        found += [m for m in buckets.values() if max_groups is None or len(m) <= max_groups]
    return found


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), neighbours=st.sampled_from([None, 1, 2, 4]), max_groups=st.sampled_from([None, 6]),
       threads=st.integers(1, 3))
def test_bucket_neighbours_pair_each_group_with_the_next_ones_of_its_bucket(jit, seed, neighbours, max_groups,
                                                                            threads):
    """With ``neighbours`` a bucket's distinct groups, ascending, give the pairs at most ``neighbours`` apart (all
    of them in a bucket of ``neighbours + 1`` or fewer): checked against a plain dictionary of buckets per band,
    with few values so that buckets hold many groups, and rows of one group in one bucket."""
    from dupspeech.index import grouped_codes

    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2, (40, 32)).astype(np.uint32)
    groups = rng.integers(0, 15, 40)
    expected = set()
    for members in _buckets(sigs, groups, max_groups):
        ordered = sorted(members)
        for x, g in enumerate(ordered):
            expected |= {(g, h) for h in ordered[x + 1 : x + 1 + (neighbours or len(ordered))]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        codes = grouped_codes(sigs, groups, threshold=0.5, span=15, max_groups=max_groups, neighbours=neighbours,
                              threads=threads)
    assert {(int(c) // 15, int(c) % 15) for c in codes} == expected


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), crowd=st.sampled_from([2, 3, 5]), min_hits=st.integers(1, 3),
       max_groups=st.sampled_from([None, 6]), threads=st.integers(1, 3))
def test_pairs_met_only_in_crowded_buckets_need_one_meeting_more(jit, seed, crowd, min_hits, max_groups, threads):
    """With ``crowd`` a pair is kept when it meets in ``min_hits`` buckets and in one more when all of them hold
    more than ``crowd`` groups: checked against a plain dictionary of buckets per band, counting each bucket
    once per pair whatever its rows."""
    from dupspeech.index import grouped_codes

    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2, (40, 32)).astype(np.uint32)
    groups = rng.integers(0, 15, 40)
    hits: dict[tuple[int, int], list[bool]] = {}  # pair -> per bucket met: whether it is crowded
    for members in _buckets(sigs, groups, max_groups):
        for g, h in itertools.combinations(sorted(members), 2):
            hits.setdefault((g, h), []).append(len(members) > crowd)
    expected = {p for p, met in hits.items() if len(met) >= min_hits + all(met)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        codes = grouped_codes(sigs, groups, threshold=0.5, span=15, max_groups=max_groups, min_hits=min_hits,
                              crowd=crowd, threads=threads)
    assert {(int(c) // 15, int(c) % 15) for c in codes} == expected


@pytest.mark.parametrize("jit", ["1", "0"])
def test_threads_settle_their_meetings_so_that_they_add_up(jit, monkeypatch):
    """Each thread of the window LSH keeps one code per pair (:func:`_some_codes`); what it keeps must add up over
    the threads as every meeting would: a pair met once in a crowded bucket by each of two threads is kept, by one
    thread only is not; twice in crowded buckets by one thread, or once in a bucket that is not, is kept. The
    compiled count of meetings and numpy's agree, on these and on many random codes."""
    from dupspeech.index import _some_codes, meetings, met_enough

    monkeypatch.setenv("DUPSPEECH_JIT", jit)
    codes = np.random.default_rng(3).integers(0, 400, 50_000)  # long enough for the radix sort
    pairs, packed = meetings(codes)
    expected = {p: (int(np.sum(codes >> 1 == p)), int(np.sum(codes == 2 * p))) for p in np.unique(codes >> 1)}
    assert {p: (c & 0xFFFFFFFF, c >> 32) for p, c in zip(pairs.tolist(), packed.tolist())} == expected

    def met(pair: int, crowded: bool) -> int:
        return pair * 2 + crowded

    first = np.array([met(1, True), met(2, True), met(3, True), met(3, True), met(4, False), met(5, True)])
    second = np.array([met(1, True), met(6, False)])
    kept = met_enough(np.concatenate([_some_codes(first, 1, True), _some_codes(second, 1, True)]), 1)
    assert kept.tolist() == [1, 3, 4, 6]
    assert met_enough(np.concatenate([first, second]), 1).tolist() == [1, 3, 4, 6]  # every meeting, unsettled
    more = np.array([met(7, False), met(7, True), met(8, True), met(8, True), met(8, True), met(9, True), met(9, True)])
    assert met_enough(more, 2).tolist() == [7, 8]  # two meetings, or three when all are crowded


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
def test_lsh_params_are_the_bands_datasketch_picks(num_perm):
    """Our quadrature picks datasketch's bands and rows (checked on 594 pairs of threshold and length when it
    was written; here every 0.05)."""
    from datasketch.lsh import _optimal_param

    from dupspeech.index import lsh_params

    for k in range(1, 20):
        assert lsh_params(k / 20, num_perm) == _optimal_param(k / 20, num_perm, 0.5, 0.5), (k / 20, num_perm)


def test_a_run_does_not_import_datasketch_or_scipy_integrate():
    """datasketch's LSH module and the scipy.integrate it imports are a third of a second of start-up: only the
    code paths that use datasketch's own index (the Redis store, the baselines) import them."""
    import subprocess
    import sys

    code = ("import sys, dupspeech; dupspeech.cluster({'a.txt': '【篇1】讲话\\n同志们，今天开会。'});"
            "print(sorted(m for m in ('datasketch', 'scipy.integrate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
