"""Candidate search: MinHash signatures in datasketch's ``MinHashLSH``, behind a small interface.

Keys are integers (positions of the speeches in the run), so the storage can change (Redis, SQLite) without
touching the stages around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
