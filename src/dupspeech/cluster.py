"""Verify candidate pairs on the exact shingle sets, and build families without chaining.

A family is a connected component of *near-duplicate* edges (exact Jaccard >= ``threshold``). A speech that is
mostly contained in another (a truncated or abridged copy) is reported as a containment pair; it joins its
container's family only when it has no near-duplicate of its own and all its containers are in that one family,
so a short text contained in two unrelated speeches (a shared opening, say) can never bridge them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import _jit
from .config import ClusterConfig
from .shingle import sorted_unique


@dataclass(frozen=True, slots=True)
class Verified:
    """A candidate pair after verification (indices into the run's speeches)."""

    i: int
    j: int
    jaccard: float
    containment_i_in_j: float
    containment_j_in_i: float
    relation: str  # "near_duplicate" | "containment"


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the intersection of two sorted arrays of unique values."""
    if len(a) == 0 or len(b) == 0:
        return 0
    if len(a) > len(b):
        a, b = b, a
    pos = np.searchsorted(b, a)
    pos[pos == len(b)] = 0
    return int(np.count_nonzero(b[pos] == a))


@dataclass(frozen=True, slots=True)
class Ragged(Sequence):
    """Arrays end to end in one array, the ``k``-th ``values[bounds[k]:bounds[k + 1]]`` (a view).

    One allocation for many arrays instead of one each: cheap to write, read and free (a large block goes back to
    the system at once, many small ones fragment the heap), and compiled kernels take ``values`` and ``bounds``
    as they are, with no copy (see :func:`flatten`).
    """

    values: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, arrays: Sequence[np.ndarray], dtype=np.uint64) -> Ragged:
        """``arrays`` end to end; a :class:`Ragged` of that ``dtype`` already is, and comes back as it is."""
        if isinstance(arrays, Ragged) and arrays.values.dtype == dtype:
            return arrays
        return cls(*flatten(list(arrays), dtype=dtype))

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __getitem__(self, k):  # type: ignore[override]
        if not isinstance(k, (int, np.integer)):
            raise TypeError(f"Ragged takes one whole-number index, got {type(k).__name__}")
        if not -len(self) <= k < len(self):
            raise IndexError(f"index {k} out of range for {len(self)} arrays")
        k = int(k) % len(self)
        return self.values[self.bounds[k] : self.bounds[k + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        values, bounds = self.values, self.bounds.tolist()
        return (values[a:b] for a, b in zip(bounds, bounds[1:]))


def flatten(arrays: list[np.ndarray], dtype=np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """``arrays`` as one array and offsets: ``arrays[k] == flat[offsets[k]:offsets[k + 1]]``."""
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)
    return flat, offsets


def pair_arrays(pairs: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` as two ``int64`` arrays, ``pa[t], pb[t] == pairs[t]``."""
    pa = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs))
    pb = np.fromiter((j for _, j in pairs), dtype=np.int64, count=len(pairs))
    return pa, pb


def local_pairs(pa: np.ndarray, pb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The items the pairs ``(pa[t], pb[t])`` use, sorted, and the pairs numbered by their place among them:
    so only those items need be gathered (see :func:`flatten`)."""
    used = sorted_unique(np.concatenate([pa, pb]).astype(np.int64))
    return used, np.searchsorted(used, pa).astype(np.int64), np.searchsorted(used, pb).astype(np.int64)


def overlaps(flat: np.ndarray, offsets: np.ndarray, pa: np.ndarray, pb: np.ndarray, *, threads: int = 1,
             need: np.ndarray | None = None, bucket_bits: int | None = None,
             counts: np.ndarray | None = None) -> np.ndarray:
    """:func:`overlap` of the sets ``pa[t]`` and ``pb[t]`` of a flattened collection (see :func:`flatten`), for
    every ``t``; one compiled loop when numba is enabled (:mod:`dupspeech._jit`), cut into ``threads`` parts that
    run at once (the kernel releases the GIL).

    With ``need``, the compiled loop may give, for a pair whose intersection cannot reach ``need[t]``, some number
    below ``need[t]`` instead of the exact size (exact whenever the size is ``need[t]`` or more). It knows so
    without a merge when a bound says so: the values (uniform hashes) are counted in ``2 ** bucket_bits`` buckets
    by their high bits, and no intersection is larger than the sum over buckets of the smaller count
    (:func:`bucket_counts`; by default about as many buckets as the typical set has values). Otherwise the merge
    of the two sorted sets stops as soon as the rest cannot make up ``need[t]``. ``counts``: those bucket counts
    (:func:`set_bucket_counts`) when the caller keeps them for several calls on the same sets: they are one pass
    over every set, on one core, whatever the number of pairs.
    """
    if _jit.enabled():
        pa, pb = np.asarray(pa, np.int64), np.asarray(pb, np.int64)
        bound = np.zeros(len(pa), np.int64) if need is None else np.asarray(need, np.int64)
        if need is None or not len(pa):
            counts = np.zeros((0, 0), np.uint16)
        elif counts is None:
            counts = set_bucket_counts(flat, offsets, bucket_bits)
        parts = _jit.in_threads(
            lambda lo, hi: _overlaps_kernel(flat, offsets, pa[lo:hi], pb[lo:hi], bound[lo:hi], counts), len(pa), threads)
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return np.fromiter(
        (overlap(flat[offsets[a] : offsets[a + 1]], flat[offsets[b] : offsets[b + 1]]) for a, b in zip(pa, pb)),
        dtype=np.int64, count=len(pa),
    )


def set_bucket_counts(flat: np.ndarray, offsets: np.ndarray, bits: int | None = None) -> np.ndarray:
    """:func:`bucket_counts` for :func:`overlaps`'s bound, by default in about as many buckets as the typical set
    has values."""
    if bits is None:
        typical = int(np.median(np.diff(offsets))) if len(offsets) > 1 else 0
        bits = min(max(typical.bit_length(), 4), 14)
    return bucket_counts(flat, offsets, bits)


def bucket_counts(flat: np.ndarray, offsets: np.ndarray, bits: int) -> np.ndarray:
    """For each set of a flattened collection of ``uint64`` sets, how many of its values fall in each of
    ``2 ** bits`` buckets by their ``bits`` high bits: one row per set (``uint16``, or ``uint32`` when a set is
    too large for it)."""
    sizes = np.diff(offsets)
    dtype = np.uint16 if not len(sizes) or sizes.max() < 2**16 else np.uint32
    out = np.zeros((len(sizes), 1 << bits), dtype=dtype)
    _bucket_counts_kernel(flat, offsets, np.uint64(64 - bits), out)
    return out


@_jit.njit
def _bucket_counts_kernel(flat, offsets, shift, out):  # pragma: no cover - compiled; tested through overlaps
    for s in range(len(offsets) - 1):
        for q in range(offsets[s], offsets[s + 1]):
            out[s, flat[q] >> shift] += 1


@_jit.njit
def _overlaps_kernel(flat, offsets, pa, pb, need, counts):  # pragma: no cover - compiled; tested against overlap()
    out = np.empty(len(pa), np.int64)
    buckets = counts.shape[1]
    for t in range(len(pa)):
        if need[t] > 0 and buckets:
            # the bucket bound: each bucket holds at most the smaller count of common values
            ca = counts[pa[t]]
            cb = counts[pb[t]]
            most = 0
            for k in range(buckets):
                most += min(ca[k], cb[k])
            if most < need[t]:
                out[t] = most
                continue
        a0, a1, b0, b1 = offsets[pa[t]], offsets[pa[t] + 1], offsets[pb[t]], offsets[pb[t] + 1]
        common = 0
        # blocks of merge steps without branches; between blocks, stop once the rest cannot make up need[t]
        while a0 < a1 and b0 < b1:
            if common + min(a1 - a0, b1 - b0) < need[t]:
                break
            stop = min(a1 - a0, b1 - b0, 64)
            for _ in range(stop):
                u = flat[a0]
                v = flat[b0]
                common += u == v
                a0 += u <= v
                b0 += v <= u
        out[t] = common
    return out


def verify_many(pairs: list[tuple[int, int]], sets: list[np.ndarray], config: ClusterConfig, *,
                threads: int = 1) -> list[Verified]:
    """:func:`verify_pair` for every pair of ``sets`` in ``pairs``; the pairs that pass, in order."""
    if not pairs:
        return []
    return verify_arrays(*pair_arrays(pairs), sets, config, threads=threads)


def verify_arrays(pa: np.ndarray, pb: np.ndarray, sets: Sequence[np.ndarray], config: ClusterConfig, *,
                  threads: int = 1, counts: np.ndarray | None = None) -> list[Verified]:
    """:func:`verify_many` for the pairs ``(pa[t], pb[t])`` given as arrays (millions of candidates at scale):
    the intersections come from :func:`overlaps`, the verdicts are computed on whole arrays. ``counts``:
    :func:`set_bucket_counts` of ``sets`` (a :class:`Ragged`) for several calls, else made for this one."""
    sizes = np.diff(sets.bounds) if isinstance(sets, Ragged) else \
        np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    big = np.minimum(sizes[pa], sizes[pb]) >= config.min_shingles
    pa, pb = pa[big], pb[big]
    if len(pa) == 0:
        return []
    if isinstance(sets, Ragged):  # already end to end: no copy
        flat, offsets, la, lb = sets.values, sets.bounds, pa, pb
    else:
        used, la, lb = local_pairs(pa, pb)
        flat, offsets = flatten([sets[x] for x in used.tolist()])
        counts = None  # numbered as the sets used, not as the sets
    len_a, len_b = sizes[pa], sizes[pb]
    # an intersection below both of these cannot pass (one less than each bound, against rounding), so the
    # merge of a pair may stop as soon as it cannot reach them
    need = np.minimum(np.floor(config.threshold * (len_a + len_b) / (1 + config.threshold)),
                      np.floor(config.containment * np.minimum(len_a, len_b))).astype(np.int64) - 1
    inter = overlaps(flat, offsets, la, lb, threads=threads, need=np.maximum(need, 0), counts=counts)
    union = len_a + len_b - inter
    # float64 divisions of integers, as verify_pair's Python divisions: the same values bit for bit
    jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    c_ab, c_ba = inter / len_a, inter / len_b
    near = jac >= config.threshold
    keep = np.flatnonzero(near | (np.maximum(c_ab, c_ba) >= config.containment))
    return [
        Verified(i, j, jc, ab, ba, "near_duplicate" if nd else "containment")
        for i, j, jc, ab, ba, nd in zip(pa[keep].tolist(), pb[keep].tolist(), jac[keep].tolist(),
                                        c_ab[keep].tolist(), c_ba[keep].tolist(), near[keep].tolist())
    ]


def verify_pair(i: int, j: int, a: np.ndarray, b: np.ndarray, config: ClusterConfig) -> Verified | None:
    """Exact Jaccard and containments of shingle sets ``a`` and ``b``; ``None`` below both thresholds."""
    if min(len(a), len(b)) < config.min_shingles:
        return None
    return _judge(i, j, len(a), len(b), overlap(a, b), config)


def _judge(i: int, j: int, len_a: int, len_b: int, inter: int, config: ClusterConfig) -> Verified | None:
    """The verdict on a pair from its set sizes and intersection."""
    union = len_a + len_b - inter
    jac = inter / union if union else 0.0
    c_ab = inter / len_a
    c_ba = inter / len_b
    if jac >= config.threshold:
        relation = "near_duplicate"
    elif max(c_ab, c_ba) >= config.containment:
        relation = "containment"
    else:
        return None
    return Verified(i, j, jac, c_ab, c_ba, relation)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller index stays root, so results do not depend on edge order
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def families(n: int, verified: list[Verified], sizes: list[int]) -> list[tuple[list[int], list[int]]]:
    """Families of two or more speeches as ``(members, contained_members)``, ordered by first member.

    Near-duplicate edges make components. A component whose members are contained (truncated copies) in
    speeches of exactly one other component joins it; contained in two or more, it joins none, so a shared
    opening or closing can never bridge two families.

    Args:
        n: Number of speeches.
        verified: Verified pairs.
        sizes: Shingle count of each speech (containers are placed before what they contain).
    """
    uf = _UnionFind(n)
    for v in verified:
        if v.relation == "near_duplicate":
            uf.union(v.i, v.j)
    containers: dict[int, set[int]] = {}
    for v in verified:
        if v.relation != "containment":
            continue
        small, big = (v.i, v.j) if v.containment_i_in_j >= v.containment_j_in_i else (v.j, v.i)
        if uf.find(small) != uf.find(big):
            containers.setdefault(uf.find(small), set()).add(big)
    biggest: dict[int, int] = {}
    for x in range(n):
        r = uf.find(x)
        biggest[r] = max(biggest.get(r, 0), sizes[x])
    attached: dict[int, int] = {}  # component root -> root of the component it joined

    def resolve(root: int) -> int:
        while root in attached:
            root = attached[root]
        return root

    # largest first, so a container is placed before what it contains
    for root in sorted(containers, key=lambda r: (-biggest[r], r)):
        targets = {resolve(uf.find(big)) for big in containers[root]} - {root}
        if len(targets) == 1:
            attached[root] = next(iter(targets))
    groups: dict[int, list[int]] = {}
    contained: set[int] = set()
    for x in range(n):
        own = uf.find(x)
        top = resolve(own)
        if top != own:
            contained.add(x)
        groups.setdefault(top, []).append(x)
    out = []
    for members in groups.values():
        if len(members) >= 2:
            members.sort()
            out.append((members, sorted(m for m in members if m in contained)))
    out.sort(key=lambda g: g[0][0])
    return out
