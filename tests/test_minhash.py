"""Signatures against datasketch's own MinHash (the oracle), and LSH compatibility."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from dupspeech.config import MinHashConfig
from dupspeech.errors import ConfigError
from dupspeech.index import candidate_pairs
from dupspeech.minhash import estimate_jaccard, signature, signatures


def _oracle(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda x: x)
    m.update_batch([int(h) & 0xFFFFFFFF for h in hashes])
    return m.hashvalues


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=300, unique=True),
    st.sampled_from([16, 64, 128, 256]),
    st.integers(0, 2**32 - 1),
)
def test_signature_equals_datasketch(hashes, num_perm, seed):
    arr = np.array(sorted(hashes), dtype=np.uint64)
    assert np.array_equal(signature(arr, MinHashConfig(num_perm=num_perm, seed=seed)), _oracle(arr, num_perm, seed))


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
