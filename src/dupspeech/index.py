"""Candidate search: MinHash signatures in datasketch's ``MinHashLSH``, behind a small interface.

Keys are integers (positions of the speeches in the run), so the storage can change (Redis, SQLite) without
touching the stages around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHashLSH


class CandidateIndex:
    """An LSH index of MinHash signatures that returns candidate pairs above a Jaccard threshold.

    Args:
        threshold: Jaccard threshold the LSH bands are tuned for (datasketch picks bands and rows).
        num_perm: Signature length.
        seed: MinHash seed the signatures were made with (recorded on the stored sketches).
        storage_config: datasketch storage configuration (``{"type": "dict"}`` by default, or Redis).
    """

    def __init__(self, *, threshold: float, num_perm: int, seed: int, storage_config: dict | None = None) -> None:
        self.seed = seed
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, storage_config=storage_config)

    def _sketch(self, sig: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=self.seed, hashvalues=sig, scheme="affine32")

    def add_many(self, items: Iterable[tuple[int, np.ndarray]]) -> None:
        """Insert ``(key, signature)`` pairs."""
        with self.lsh.insertion_session() as session:
            for key, sig in items:
                session.insert(key, self._sketch(sig), check_duplication=False)

    def query(self, sig: np.ndarray) -> list[int]:
        """Keys whose signatures share at least one LSH band with ``sig``, sorted."""
        return sorted(self.lsh.query(self._sketch(sig)))


def candidate_pairs(
    sigs: np.ndarray, keys: list[int], *, threshold: float, seed: int
) -> Iterator[tuple[int, int]]:
    """All pairs ``(i, j)``, ``i < j``, of keys whose signatures collide in the LSH index, in sorted order.

    Args:
        sigs: ``uint32[n, num_perm]`` signatures; row ``r`` belongs to ``keys[r]``.
        keys: The key of each row.
        threshold: Jaccard threshold the index is tuned for.
        seed: MinHash seed of the signatures.
    """
    if len(keys) < 2:
        return iter(())
    index = CandidateIndex(threshold=threshold, num_perm=sigs.shape[1], seed=seed)
    index.add_many(zip(keys, sigs))
    pairs: set[tuple[int, int]] = set()
    for key, sig in zip(keys, sigs):
        for other in index.query(sig):
            if other > key:
                pairs.add((key, other))
    return iter(sorted(pairs))


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows ``(b, r)`` that datasketch's ``MinHashLSH`` picks for this threshold (equal weights)."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def _band_keys(sigs: np.ndarray, band: int, r: int) -> np.ndarray:
    block = np.ascontiguousarray(sigs[:, band * r : (band + 1) * r])
    return block.view(np.dtype((np.void, block.dtype.itemsize * r))).ravel()


def grouped_pairs(
    sigs: np.ndarray, groups: np.ndarray, *, threshold: float, max_groups: int | None = None
) -> set[tuple[int, int]]:
    """Pairs of distinct groups ``(g, h)``, ``g < h``, that have rows in a common LSH bucket.

    Vectorised: per band, rows are bucketed by sorting their band keys; each bucket's distinct groups are
    found with one ``np.unique`` over ``(bucket, group)``, and pairs are emitted bucket size by bucket size.

    Args:
        sigs: ``uint32[n, num_perm]`` signatures.
        groups: Group of each row (e.g. the speech a passage window belongs to), non-negative integers.
        threshold: Jaccard threshold the bands are tuned for.
        max_groups: Buckets spanning more groups than this are skipped (stock language).
    """
    n, num_perm = sigs.shape
    if n < 2:
        return set()
    b, r = lsh_params(threshold, num_perm)
    groups = np.asarray(groups, dtype=np.int64)
    span = int(groups.max()) + 1
    found: list[np.ndarray] = []
    for band in range(b):
        _, bucket = np.unique(_band_keys(sigs, band, r), return_inverse=True)
        found.append(bucket_pairs(bucket, groups, span, max_groups=max_groups))
    uniq = np.unique(np.concatenate(found))
    return set(zip((uniq // span).tolist(), (uniq % span).tolist()))


def bucket_pairs(bucket: np.ndarray, groups: np.ndarray, span: int, *, max_groups: int | None = None) -> np.ndarray:
    """Pairs of distinct groups that share a bucket, encoded ``g * span + h`` with ``g < h`` (may repeat).

    Args:
        bucket: Bucket id of each row.
        groups: Group of each row, in ``[0, span)``.
        span: One more than the largest group.
        max_groups: Buckets spanning more groups than this give no pairs (stock language).
    """
    # distinct (bucket, group) memberships, sorted by bucket then group
    member = np.unique(bucket.astype(np.int64) * span + groups)
    mb, mg = member // span, member % span
    starts = np.flatnonzero(np.r_[True, mb[1:] != mb[:-1]])
    sizes = np.diff(np.r_[starts, len(member)])
    ok = sizes >= 2
    if max_groups is not None:
        ok &= sizes <= max_groups
    found = [np.zeros(0, dtype=np.int64)]
    for m in np.unique(sizes[ok]).tolist():
        sel = starts[ok & (sizes == m)]
        block = mg[sel[:, None] + np.arange(m)]  # one row per bucket, its m groups ascending
        x, y = np.triu_indices(m, 1)
        found.append(block[:, x].ravel() * span + block[:, y].ravel())
    return np.concatenate(found)
