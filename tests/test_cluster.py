"""Verification and families: near-duplicate edges only; containment attaches but never bridges."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dupspeech import _jit
from dupspeech.cluster import Ragged, Verified, families, overlap, verify_many, verify_pair
from dupspeech.config import ClusterConfig

CFG = ClusterConfig(threshold=0.6, containment=0.8, min_shingles=1)


def arr(values) -> np.ndarray:
    return np.array(sorted(set(values)), dtype=np.uint64)


@given(st.sets(st.integers(0, 200)), st.sets(st.integers(0, 200)))
def test_overlap_equals_set_intersection(a, b):
    assert overlap(arr(a), arr(b)) == len(a & b)


def test_verify_computes_exact_jaccard_and_containment():
    a, b = arr(range(100)), arr(range(50, 150))
    assert verify_pair(0, 1, a, b, CFG) is None  # J = 1/3, containment 0.5
    v = verify_pair(0, 1, arr(range(100)), arr(range(10, 100)), CFG)
    assert v.relation == "near_duplicate" and v.jaccard == 0.9 and v.containment_j_in_i == 1.0
    v = verify_pair(0, 1, arr(range(100)), arr(range(40)), CFG)
    assert v.relation == "containment" and v.containment_j_in_i == 1.0 and v.jaccard == 0.4


def test_min_shingles():
    assert verify_pair(0, 1, arr(range(5)), arr(range(5)), ClusterConfig(min_shingles=10)) is None


def _v(i, j, rel, cij=0.0, cji=0.0):
    return Verified(i, j, 0.9 if rel == "near_duplicate" else 0.3, cij, cji, rel)


def test_near_duplicates_make_families():
    fams = families(5, [_v(0, 1, "near_duplicate"), _v(1, 2, "near_duplicate"), _v(3, 4, "near_duplicate")], [10] * 5)
    assert fams == [([0, 1, 2], []), ([3, 4], [])]


def test_truncated_copy_joins_its_container():
    fams = families(3, [_v(0, 1, "near_duplicate"), _v(1, 2, "containment", 0.4, 0.95)], [100, 100, 40])
    assert fams == [([0, 1, 2], [2])]


def test_short_text_in_two_unrelated_speeches_bridges_nothing():
    # speech 2 (a shared opening) lies inside 0 and inside 1, which are not near-duplicates
    fams = families(3, [_v(0, 2, "containment", 0.1, 0.9), _v(1, 2, "containment", 0.1, 0.9)], [100, 100, 10])
    assert fams == []
    # nor between two real families
    edges = [_v(0, 1, "near_duplicate"), _v(2, 3, "near_duplicate"), _v(0, 4, "containment", 0.1, 0.9),
             _v(2, 4, "containment", 0.1, 0.9)]
    assert families(5, edges, [100] * 4 + [10]) == [([0, 1], []), ([2, 3], [])]


def test_two_truncated_copies_of_one_speech_join_it_together():
    edges = [_v(0, 1, "near_duplicate"), _v(2, 3, "near_duplicate"), _v(0, 2, "containment", 0.1, 0.9)]
    assert families(4, edges, [100, 100, 30, 30]) == [([0, 1, 2, 3], [2, 3])]


def test_a_family_contained_in_two_families_joins_neither():
    edges = [_v(0, 1, "near_duplicate"), _v(2, 3, "near_duplicate"), _v(4, 5, "near_duplicate"),
             _v(0, 4, "containment", 0.1, 0.9), _v(2, 5, "containment", 0.1, 0.9)]
    assert families(6, edges, [100, 100, 100, 100, 30, 30]) == [([0, 1], []), ([2, 3], []), ([4, 5], [])]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.booleans()), max_size=25), st.randoms())
def test_families_do_not_depend_on_edge_order(raw, rnd):
    edges = []
    for i, j, near in raw:
        if i == j:
            continue
        i, j = min(i, j), max(i, j)
        edges.append(_v(i, j, "near_duplicate") if near else _v(i, j, "containment", 0.1, 0.9))
    shuffled = list(edges)
    rnd.shuffle(shuffled)
    sizes = [100 - k for k in range(10)]
    assert families(10, edges, sizes) == families(10, shuffled, sizes)
    # every near-duplicate edge lies inside one family
    where = {m: k for k, (members, _) in enumerate(families(10, edges, sizes)) for m in members}
    for e in edges:
        if e.relation == "near_duplicate":
            assert where[e.i] == where[e.j]


def test_all_pairs_oracle_on_random_sets():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 1000, 400)
    sets = [arr(base[k * 20 : k * 20 + 200]) for k in range(8)]
    for i, j in itertools.combinations(range(8), 2):
        v = verify_pair(i, j, sets[i], sets[j], CFG)
        a, b = set(sets[i].tolist()), set(sets[j].tolist())
        jac = len(a & b) / len(a | b)
        if v is not None:
            assert v.jaccard == jac
        else:
            assert jac < 0.6 and max(len(a & b) / len(a), len(a & b) / len(b)) < 0.8


@pytest.mark.parametrize("jit", ["1", "0"])
def test_verify_many_equals_verify_pair(jit, monkeypatch):
    monkeypatch.setenv("DUPSPEECH_JIT", jit)
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**63, 400, dtype=np.uint64)
    sets = [np.unique(base[rng.integers(0, 400, rng.integers(0, 500))]) for _ in range(25)]
    sets.append(np.zeros(0, dtype=np.uint64))
    cfg = ClusterConfig(threshold=0.5, containment=0.7, min_shingles=10)
    pairs = [(i, j) for i in range(len(sets)) for j in range(len(sets)) if i != j]
    expected = [v for i, j in pairs if (v := verify_pair(i, j, sets[i], sets[j], cfg)) is not None]
    assert verify_many(pairs, sets, cfg) == expected
    assert verify_many(pairs, sets, cfg, threads=3) == expected
    assert verify_many(pairs, Ragged.of(sets), cfg, threads=2) == expected  # end to end: read where they are
    assert {v.relation for v in expected} == {"near_duplicate", "containment"}  # both kinds are exercised


@pytest.mark.parametrize("jit", ["1", "0"])
@settings(max_examples=60, deadline=None)
@given(st.integers(30, 300), st.integers(30, 300), st.floats(0.0, 1.0), st.sampled_from([0.5, 0.6, 0.9]),
       st.sampled_from([0.7, 0.8, 1.0]), st.integers(0, 2**32 - 1))
def test_verdicts_at_the_thresholds_are_exact(jit, len_a, len_b, share, threshold, containment, seed):
    """Pairs whose intersection falls right around what either threshold needs: the compiled merge, which stops
    a pair once it cannot pass, must give the same verdicts (and values) as the exact Python verdict."""
    rng = np.random.default_rng(seed)
    common = int(round(share * min(len_a, len_b)))
    pool = rng.choice(2**62, len_a + len_b, replace=False).astype(np.uint64)
    a = np.sort(pool[:len_a])
    b = np.sort(np.concatenate([a[rng.choice(len_a, common, replace=False)], pool[len_a : len_a + len_b - common]]))
    sets = [a, b, a[: len(a) // 2 + 1]]
    cfg = ClusterConfig(threshold=threshold, containment=containment, candidate_threshold=min(0.25, threshold),
                        min_shingles=10)
    pairs = [(0, 1), (1, 0), (0, 2), (2, 1)]
    expected = [v for i, j in pairs if (v := verify_pair(i, j, sets[i], sets[j], cfg)) is not None]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        assert verify_many(pairs, sets, cfg) == expected


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 14), st.sampled_from([64, 40, 12]), st.integers(0, 2**32 - 1))
def test_the_bucket_bound_never_hides_an_intersection_that_reaches_need(bits, value_bits, seed):
    """``overlaps`` with ``need``: a pair whose bucket bound is below need[t] gets the bound, else the merge; either
    way the value is exact when the intersection reaches need[t] and below need[t] otherwise. Values spread over
    all 64 bits, or only the low 40 or 12 (few buckets used, loose bounds), any number of buckets."""
    from dupspeech.cluster import bucket_counts, flatten, overlaps

    rng = np.random.default_rng(seed)
    pool = np.unique(rng.integers(0, 2**value_bits, 3000, dtype=np.uint64))
    sets = [np.sort(rng.choice(pool, rng.integers(1, 600), replace=False)) for _ in range(12)]
    sets += [np.sort(np.concatenate([sets[0][: len(sets[0]) // 2], sets[1]])) if len(sets[1]) else sets[1]]
    sets = [np.unique(s) for s in sets]
    flat, offsets = flatten(sets)
    counts = bucket_counts(flat, offsets, bits)
    assert np.array_equal(counts, np.array([np.bincount((s >> np.uint64(64 - bits)).astype(np.int64),
                                                        minlength=1 << bits) for s in sets]))
    pa, pb = np.array([(i, j) for i in range(len(sets)) for j in range(len(sets))]).T
    exact = np.array([len(np.intersect1d(sets[i], sets[j])) for i, j in zip(pa, pb)])
    need = np.clip(exact + rng.integers(-3, 4, len(exact)), 0, None)  # right around each true size
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "1")
        got = overlaps(flat, offsets, pa, pb, need=need, bucket_bits=bits)
        assert np.array_equal(overlaps(flat, offsets, pa, pb), exact)
    reach = exact >= need
    assert np.array_equal(got[reach], exact[reach]) and (got[~reach] < need[~reach]).all()
