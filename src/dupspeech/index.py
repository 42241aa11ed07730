"""Candidate search: MinHash signatures in datasketch's ``MinHashLSH``, behind a small interface.

Keys are integers (positions of the speeches in the run), so the storage can change (Redis, SQLite) without
touching the stages around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache, partial

import numpy as np

from . import _jit
from .config import MinHashConfig
from .minhash import permutations, window_rows, window_values
from .shingle import RADIX_MIN, mix64, radix_sort, radix_sort_rows, sort_prefix, sort_values, sorted_unique


class CandidateIndex:
    """An LSH index of MinHash signatures that returns candidate pairs above a Jaccard threshold.

    Args:
        threshold: Jaccard threshold the LSH bands are tuned for (datasketch picks bands and rows).
        num_perm: Signature length.
        seed: MinHash seed the signatures were made with (recorded on the stored sketches).
        storage_config: datasketch storage configuration (``{"type": "dict"}`` by default, or Redis).
    """

    def __init__(self, *, threshold: float, num_perm: int, seed: int, storage_config: dict | None = None) -> None:
        from datasketch import MinHashLSH  # imported when used: with scipy it takes 0.35 s, a third of start-up

        self.seed = seed
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, storage_config=storage_config)

    def _sketch(self, sig: np.ndarray):
        from datasketch import LeanMinHash

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
    """Bands and rows ``(b, r)`` that datasketch's ``MinHashLSH`` picks for this threshold (equal weights).

    datasketch's own ``_optimal_param`` integrates the false positive and false negative probabilities with
    scipy's ``quad``, and importing scipy.integrate takes a quarter of a second. The integrands are
    polynomials of degree ``b * r <= num_perm``, so Gauss-Legendre quadrature with more than ``num_perm / 2``
    nodes gives the same integrals (to rounding), and the same choice: a test compares the two over a grid of
    thresholds and signature lengths.
    """
    nodes, weights = np.polynomial.legendre.leggauss(max(64, num_perm // 2 + 8))
    best, opt = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, int(num_perm / b) + 1):
            fp = _integral(lambda s: 1 - (1 - s ** float(r)) ** float(b), 0.0, threshold, nodes, weights)
            fn = _integral(lambda s: (1 - s ** float(r)) ** float(b), threshold, 1.0, nodes, weights)
            error = fp * 0.5 + fn * 0.5
            if error < best:
                best, opt = error, (b, r)
    return opt


def _integral(func, lo: float, hi: float, nodes: np.ndarray, weights: np.ndarray) -> float:
    half = (hi - lo) / 2
    return float(half * np.dot(weights, func(half * nodes + (lo + hi) / 2)))


def _band_keys(sigs: np.ndarray, band: int, r: int) -> np.ndarray:
    block = np.ascontiguousarray(sigs[:, band * r : (band + 1) * r])
    return block.view(np.dtype((np.void, block.dtype.itemsize * r))).ravel()


def grouped_pairs(
    sigs: np.ndarray, groups: np.ndarray, *, threshold: float, max_groups: int | None = None, min_hits: int = 1,
    neighbours: int | None = None, crowd: int | None = None,
) -> set[tuple[int, int]]:
    """Pairs of distinct groups ``(g, h)``, ``g < h``, that have rows in a common LSH bucket.

    Vectorised: per band, rows are bucketed by sorting their band keys; each bucket's distinct groups are
    found with one ``np.unique`` over ``(bucket, group)``, and pairs are emitted bucket size by bucket size.
    With numba (:mod:`dupspeech._jit`), one compiled kernel does the same from a 64-bit hash of each band key;
    rows with equal hashes are compared value by value, so the buckets are exact either way.

    Args:
        sigs: ``uint32[n, num_perm]`` signatures.
        groups: Group of each row (e.g. the speech a passage window belongs to), non-negative integers.
        threshold: Jaccard threshold the bands are tuned for.
        max_groups: Buckets spanning more groups than this are skipped (stock language).
        min_hits: Pairs that meet in fewer buckets than this (counted over all bands) are dropped.
        neighbours: In a bucket of more groups than ``neighbours + 1``, each group is paired with the next
            ``neighbours`` groups of the bucket (in ascending order) only; None pairs them all.
        crowd: Buckets of more groups than this are crowded: pairs that meet only in crowded buckets need
            ``min_hits + 1`` meetings; None: every bucket counts alike.
    """
    if len(sigs) < 2:
        return set()
    span = int(np.max(groups)) + 1
    codes = grouped_codes(sigs, groups, threshold=threshold, max_groups=max_groups, span=span, min_hits=min_hits,
                          neighbours=neighbours, crowd=crowd)
    return set(code_pairs(codes, span))


def code_pairs(codes: np.ndarray, span: int) -> list[tuple[int, int]]:
    """The pairs ``(i, j)`` behind codes ``i * span + j``, in the codes' order."""
    return list(zip((codes // span).tolist(), (codes % span).tolist()))


def pair_codes(pairs: Iterable[tuple[int, int]], span: int) -> np.ndarray:
    """The codes ``i * span + j`` of pairs ``(i, j)`` (``int64``, in the pairs' order): :func:`code_pairs`
    reversed."""
    return np.fromiter((i * span + j for i, j in pairs), dtype=np.int64)


def grouped_codes(
    sigs: np.ndarray, groups: np.ndarray, *, threshold: float, span: int, max_groups: int | None = None,
    min_hits: int = 1, threads: int = 1, neighbours: int | None = None, crowd: int | None = None,
) -> np.ndarray:
    """:func:`grouped_pairs` as sorted codes ``g * span + h`` (``span`` above every group): an array, for
    millions of pairs. With the compiled kernel, ``threads`` threads band at once (each takes some bands).

    ``crowd``: a bucket of more groups than this is crowded, and a pair that meets only in crowded buckets needs
    ``min_hits + 1`` meetings (:func:`met_enough`); None: every bucket counts alike."""
    n, num_perm = sigs.shape
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    b, r = lsh_params(threshold, num_perm)
    groups = np.asarray(groups, dtype=np.int64)
    if _jit.enabled():
        sigs = np.ascontiguousarray(sigs, dtype=np.uint32)
        limit = max_groups if max_groups is not None else -1
        near = neighbours if neighbours is not None else -1
        crowded = crowd if crowd is not None else -1

        def bands(lo: int, hi: int) -> np.ndarray:
            return _grouped_pairs_kernel(sigs, groups, span, lo, hi, r, limit, np.uint64(_ALL_BITS), 0, near, crowded)

        codes = np.concatenate(_jit.in_threads(bands, b, threads))
    else:
        found: list[np.ndarray] = []
        for band in range(b):
            _, bucket = np.unique(_band_keys(sigs, band, r), return_inverse=True)
            found.append(bucket_pairs(bucket, groups, span, max_groups=max_groups, neighbours=neighbours,
                                      crowd=crowd))
        codes = np.concatenate(found)
    return _distinct_codes(codes, min_hits, crowd is not None)


def _distinct_codes(codes: np.ndarray, min_hits: int, flagged: bool = False) -> np.ndarray:
    """The distinct codes, sorted, of those that occur at least ``min_hits`` times; of ``flagged`` codes (see
    :func:`bucket_pairs`), the pairs :func:`met_enough` keeps."""
    if flagged:
        return met_enough(codes, min_hits)
    if min_hits <= 1:
        return sorted_unique(codes)  # numpy 2's np.unique hashes first: four times slower here
    distinct, hits = count_codes(codes)
    return distinct[hits >= min_hits]


UNCROWDED = 1 << 32
"""Meetings in buckets that are not crowded are counted from this bit of :func:`meetings`'s packed counts."""


def meetings(flagged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs ``g * span + h`` of flagged codes (``code * 2 + crowded``, as :func:`bucket_pairs`
    emits them with ``crowd``), sorted, and their meetings packed in one ``int64``: the buckets they meet in
    plus :data:`UNCROWDED` times those that are not crowded. Packed meetings add up (:func:`count_codes` with
    them as weights), as the Dask reducers' do."""
    s = sort_values(flagged)
    if not len(s):
        return s.astype(np.int64), np.zeros(0, dtype=np.int64)
    if _jit.enabled():  # one pass instead of numpy's five (0.016 against 0.045 s for 6.4 million codes)
        return _meetings_kernel(s)
    pairs = s >> 1
    starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
    hits = np.diff(np.r_[starts, len(s)])
    uncrowded = np.add.reduceat(((s & 1) == 0).astype(np.int64), starts)
    return pairs[starts], hits + uncrowded * UNCROWDED


@_jit.njit
def _meetings_kernel(s):  # pragma: no cover - compiled; tested against the numpy path
    """:func:`meetings` of sorted flagged codes ``s``, written over ``s`` (its pairs) as it goes."""
    packed = np.empty(len(s), np.int64)
    n = 0
    i = 0
    while i < len(s):
        pair = s[i] >> 1
        j = i
        uncrowded = 0
        while j < len(s) and (s[j] >> 1) == pair:
            uncrowded += 1 - (s[j] & 1)
            j += 1
        s[n] = pair
        packed[n] = (j - i) + uncrowded * UNCROWDED
        n += 1
        i = j
    return s[:n], packed[:n]


def enough(packed: np.ndarray, min_hits: int) -> np.ndarray:
    """Which of :func:`meetings`'s packed counts reach ``min_hits`` meetings, and one more when none of them is
    in a bucket that is not crowded: a sentence of common language puts many speeches in one bucket, and two of
    them meeting there once share nothing else (measured in docs/defaults.md)."""
    hits = packed & (UNCROWDED - 1)
    return (hits >= min_hits) & ((packed >= UNCROWDED) | (hits > min_hits))


def met_enough(flagged: np.ndarray, min_hits: int) -> np.ndarray:
    """The distinct pairs, sorted, of flagged codes (see :func:`meetings`) that meet :func:`enough` times."""
    pairs, packed = meetings(flagged)
    return pairs[enough(packed, min_hits)]


BANDS_AT_ONCE = 8
"""Bands whose window values :func:`grouped_window_codes` computes in one pass over the seeds: 32 permutations
(8 bands of 4 rows), 128 bytes a window while they are banded. Four bands at once (half that memory, below the
run's peak either way) took 0.21-0.28 s for the 10 MB corpus's windows against 0.18-0.20 s, and 3.0 against
2.8 s at 100 MB: each seed's hash costs the same whatever the number of permutations it is taken through.
Threads share them: each computes the values of a part of the speeches, then bands some of the bands. (Until
this, each thread took ``BANDS_AT_ONCE // threads`` bands and passed over all the seeds for them, so two
threads passed over the seeds twice as often as one, and gained about nothing on the values.)"""


def grouped_window_codes(
    seeds: np.ndarray, offsets: np.ndarray, window: int, stride: int, config: MinHashConfig, *, threshold: float,
    span: int, max_groups: int | None = None, min_hits: int = 1, threads: int = 1, crowd: int | None = None,
) -> np.ndarray:
    """:func:`grouped_codes` of the window signatures of the runs ``seeds[offsets[s]:offsets[s + 1]]`` (run ``s``
    is group ``s``), as :func:`~dupspeech.minhash.window_signatures_many` gives them, with the compiled kernels
    only: the signatures are not stored (``num_perm`` x 4 bytes per window, 13 bytes per character at the
    default window stride) but computed :data:`BANDS_AT_ONCE` bands at a time from the seeds, which the caller
    keeps anyway. ``threads`` threads compute the values of a part of the runs each, then band some of the bands
    each."""
    offsets = np.asarray(offsets, dtype=np.int64)
    rows = window_rows(np.diff(offsets), window, stride)
    n = int(rows[-1])
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    groups = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(rows))
    b, r = lsh_params(threshold, config.num_perm)
    a_perm, b_perm = permutations(config.num_perm, config.seed)
    limit = max_groups if max_groups is not None else -1
    crowded = crowd if crowd is not None else -1
    per = max(1, min(BANDS_AT_ONCE, b))
    wide = np.empty(n * per * r, dtype=np.uint32)  # flat, so that the matrices cut from it are C-contiguous
    # the runs in parts of about the same number of seeds, one per thread
    cut = np.searchsorted(offsets, np.linspace(0, offsets[-1], max(1, threads) + 1)).tolist()
    cut[0], cut[-1] = 0, len(offsets) - 1

    def values(part_lo: int, part_hi: int, *, c0: int, cols: np.ndarray) -> None:
        for k in range(part_lo, part_hi):  # columns c0.. of the windows of the runs of part k
            lo, hi = cut[k], cut[k + 1]
            window_values(seeds, offsets[lo : hi + 1], rows[lo : hi + 1], stride, window // stride,
                           a_perm[c0 : c0 + cols.shape[1]], b_perm[c0 : c0 + cols.shape[1]], cols)

    def bands(lo: int, hi: int, *, first: int, cols: np.ndarray) -> np.ndarray:  # bands first + lo.. of cols
        codes = _grouped_pairs_kernel(cols, groups, span, first + lo, first + hi, r, limit, np.uint64(_ALL_BITS), first,
                                      -1, crowded)
        return _some_codes(codes, min_hits, crowd is not None)

    found: list[np.ndarray] = []
    for first in range(0, b, per):
        last = min(first + per, b)
        cols = wide[: n * (last - first) * r].reshape((n, (last - first) * r))
        _jit.in_threads(partial(values, c0=first * r, cols=cols), len(cut) - 1, threads)
        found += _jit.in_threads(partial(bands, first=first, cols=cols), last - first, threads)
    del wide, cols  # before the codes are sorted, where the stage's memory peaks
    return _distinct_codes(np.concatenate(found), min_hits, crowd is not None)


def _some_codes(codes: np.ndarray, min_hits: int, flagged: bool) -> np.ndarray:
    """The codes of some bands, made distinct already (in the band's thread) when a pair's number of hits does
    not matter: overlapping windows of two speeches meet in many buckets and bands, so this keeps few of them
    (84 -> 10 MiB of codes for the 100 MB corpus's windows) and the final sort has that much less to sort and to
    hold. Flagged codes (see :func:`meetings`) keep one code per pair too: flagged crowded only when the pair met
    just once, in a crowded bucket, among these bands, so :func:`met_enough` with one hit keeps the same pairs."""
    if min_hits > 1:
        return codes
    if not flagged:
        return sorted_unique(codes)
    pairs, packed = meetings(codes)
    return pairs * 2 + ~enough(packed, 1)


def frequent(values: np.ndarray, at_least: int, *, overwrite: bool = False) -> np.ndarray:
    """The distinct ``uint64`` values that occur at least ``at_least`` times in ``values``, sorted: what
    ``count_codes`` gives filtered by count, in one compiled pass after the sort (no temporaries the size of
    ``values``) when the kernels run. ``overwrite=True`` lets it sort ``values`` in place instead of a copy."""
    values = np.asarray(values, dtype=np.uint64)
    if not _jit.enabled() or len(values) < RADIX_MIN:
        distinct, counts = count_codes(values)
        return distinct[counts >= at_least]
    if not overwrite:
        values = values.copy()
    radix_sort(values, np.empty_like(values))
    return _frequent_kernel(values, at_least)


@_jit.njit
def _frequent_kernel(ordered, at_least):  # pragma: no cover - compiled; tested against count_codes
    out = np.empty(len(ordered) // max(at_least, 1) + 1, np.uint64)
    n_out = 0
    s = 0
    while s < len(ordered):
        e = s + 1
        while e < len(ordered) and ordered[e] == ordered[s]:
            e += 1
        if e - s >= at_least:
            out[n_out] = ordered[s]
            n_out += 1
        s = e
    return out[:n_out].copy()


def count_codes(codes: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``codes``, sorted, and how often each occurs (or the sum of its ``weights``).

    Each code :func:`bucket_pairs` emits stands for one bucket in which the pair meets, so the counts are the
    number of buckets, over all bands, that the two groups share.
    """
    order = None if weights is None else np.argsort(codes, kind="stable")
    s = sort_values(codes) if order is None else codes[order]
    if not len(s):
        return s.astype(np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    if weights is None:
        return s[starts], np.diff(np.r_[starts, len(s)])
    assert order is not None
    return s[starts], np.add.reduceat(np.asarray(weights, dtype=np.int64)[order], starts)


def bucket_pairs(bucket: np.ndarray, groups: np.ndarray, span: int, *, max_groups: int | None = None,
                 neighbours: int | None = None, crowd: int | None = None) -> np.ndarray:
    """Pairs of distinct groups that share a bucket, encoded ``g * span + h`` with ``g < h`` (may repeat).

    Args:
        bucket: Bucket id of each row.
        groups: Group of each row, in ``[0, span)``.
        span: One more than the largest group.
        max_groups: Buckets spanning more groups than this give no pairs (stock language).
        neighbours: In a bucket, a group is paired with the next ``neighbours`` groups (in ascending order)
            only, so a bucket of ``m`` groups gives at most ``m * neighbours`` pairs; None: with all of them.
        crowd: Given, the codes are flagged, ``code * 2 + crowded`` (crowded: the bucket has more groups than
            ``crowd``), for :func:`meetings`.
    """
    # distinct (bucket, group) memberships, sorted by bucket then group
    member = sorted_unique(bucket.astype(np.int64) * span + groups)
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
        x, y = np.triu_indices(m, 1) if neighbours is None or m <= neighbours + 1 else _near_indices(m, neighbours)
        codes = block[:, x].ravel() * span + block[:, y].ravel()
        found.append(codes if crowd is None else codes * 2 + (m > crowd))
    return np.concatenate(found)


def _near_indices(m: int, neighbours: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions ``(x, y)``, ``x < y <= x + neighbours``, of ``m`` sorted groups."""
    steps = range(1, min(neighbours, m - 1) + 1)
    x = np.concatenate([np.arange(m - d) for d in steps])
    return x, x + np.concatenate([np.full(m - d, d) for d in steps])


_ALL_BITS = (1 << 64) - 1


@_jit.njit
def _grouped_pairs_kernel(sigs, groups, span, band_lo, band_hi, r, max_groups, key_mask, band0, neighbours,
                          crowd):  # pragma: no cover - tested vs numpy
    """:func:`grouped_pairs` as codes ``g * span + h`` (with repeats) from the bands ``band_lo`` to ``band_hi``
    (excluded) of ``r`` rows each, whose columns in ``sigs`` start with band ``band0``'s (0: all of them);
    ``max_groups < 0`` means no limit, ``neighbours < 0`` all pairs of a bucket; ``crowd >= 0`` flags the codes
    (``code * 2 + crowded``, see :func:`bucket_pairs`).

    ``key_mask`` keeps some bits of the band hashes: all of them, except in the test that forces collisions.
    Each band's values are copied row by row (``vals``) as they are hashed; :func:`_band_codes` does the rest.
    """
    n = sigs.shape[0]
    keys, scratch, counts, taken, members, owner, vals, spare, first, high, low = _band_buffers(n, r, key_mask, span)
    out = np.empty(1024, np.int64)
    n_out = 0
    for band in range(band_lo, band_hi):
        _hash_band(sigs, (band - band0) * r, band, r, vals, keys, high, groups)
        out, n_out = _band_codes(keys, scratch, counts, taken, members, owner, vals, spare, first, high, low,
                                 span, r, max_groups, neighbours, crowd, out, n_out)
    return out[:n_out]


@_jit.njit
def _hash_band(sigs, lo, band, r, vals, keys, high, groups):  # pragma: no cover - compiled; tested through both banding kernels
    """Band ``band`` of every row from the columns ``lo`` to ``lo + r`` of ``sigs``: its values copied to ``vals``,
    its hash's ``high`` bits with the row's group (``groups[row]``) in ``keys``."""
    for row in range(sigs.shape[0]):
        h = np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15)
        for c in range(lo, lo + r):
            vals[row, c - lo] = sigs[row, c]
            h = mix64((h ^ np.uint64(sigs[row, c])) * np.uint64(0x9E3779B97F4A7C15))
        keys[row] = (h & high) | np.uint64(groups[row])


@_jit.njit
def _band_buffers(n, r, key_mask, span):  # pragma: no cover - compiled
    """Scratch arrays for banding ``n`` rows of ``r`` values, and the bits of a key: the row's group (below
    ``span``) takes its low bits (``low``), the hash the others (``high``, at least the top four bytes, ``first``
    to 7)."""
    shift = 0
    while (1 << shift) < span:
        shift += 1
    low = np.uint64((1 << shift) - 1)
    first = max(4, (shift + 7) // 8)  # the keys' bytes first..7 are sorted: above the group's bits
    high = ~np.uint64((1 << (8 * first)) - 1) & key_mask
    # the band's values (``vals``, by row) move with the keys as they are sorted (into one of the two buffers)
    return (np.empty(n, np.uint64), np.empty(n, np.uint64), np.zeros((8, 256), np.int64), np.zeros(n, np.bool_),
            np.empty(n, np.int64), np.empty(n, np.int64), np.empty((n, r), np.uint32), np.empty((n, r), np.uint32),
            first, high, low)


@_jit.njit
def _band_codes(keys, scratch, counts, taken, members, owner, vals, spare, first, high, low, span, r, max_groups,
                neighbours, crowd, out, n_out):  # pragma: no cover - compiled; tested through both banding kernels
    """One band: ``keys[row]`` (its band hash's ``high`` bits and the row's group) and ``vals[row]`` (its band
    values) given, append to ``out`` the codes of the pairs of groups whose rows share the band values.

    The keys are sorted on their high bytes only, so rows of equal hashes come together; rows with equal sorted
    bits are then compared value by value. The band's values and groups move with the keys as they are sorted, so
    those comparisons and the groups read neighbouring rows instead of jumping about (for the values: 0.66 of
    1.57 s at 100 MB that way; for the groups, a look-up by row number after the sort, 2.62 -> 2.55 s).
    Returns ``out`` (grown when full) and its new length.
    """
    n = len(keys)
    ordered = radix_sort_rows(keys, scratch, vals, spare, first, counts)
    for u in range(n):
        owner[u] = np.int64(keys[u] & low)
    s = 0
    while s < n:
        e = s + 1
        while e < n and (keys[e] & high) == (keys[s] & high):
            e += 1
        if e - s < 2:
            s = e
            continue
        one_group = True  # most runs are overlapping windows of one speech: no pair, whatever the values
        for u in range(s + 1, e):
            if owner[u] != owner[s]:
                one_group = False
                break
        if one_group:
            s = e
            continue
        uniform = True  # one hash, normally one bucket: every row has the first row's band values
        for u in range(s + 1, e):
            for c in range(r):
                if ordered[u, c] != ordered[s, c]:
                    uniform = False
                    break
            if not uniform:
                break
        if uniform:
            members[: e - s] = owner[s:e]
            out, n_out = _emit_pairs(members, e - s, span, max_groups, neighbours, crowd, out, n_out)
            s = e
            continue
        # a hash collision: split the run into its buckets of equal band values
        for u in range(s, e):
            taken[u] = False
        for u in range(s, e):
            if taken[u]:
                continue
            m = 0
            for v in range(u, e):
                if taken[v]:
                    continue
                same = True
                for c in range(r):
                    if ordered[v, c] != ordered[u, c]:
                        same = False
                        break
                if same:
                    taken[v] = True
                    members[m] = owner[v]
                    m += 1
            out, n_out = _emit_pairs(members, m, span, max_groups, neighbours, crowd, out, n_out)
        s = e
    return out, n_out


@_jit.njit
def _emit_pairs(members, m, span, max_groups, neighbours, crowd, out, n_out):  # pragma: no cover - compiled; tested through grouped_codes
    """Append to ``out`` the codes ``g * span + h`` of the pairs of distinct groups among ``members[:m]`` (the
    groups of one bucket's rows, sorted and made distinct in place), unless there are more than ``max_groups``
    of them (``max_groups < 0``: no limit): every pair, or with ``neighbours >= 0`` those at most ``neighbours``
    apart in ascending order; with ``crowd >= 0`` flagged, ``code * 2 + crowded`` (:func:`bucket_pairs`). Returns
    ``out`` (grown when full) and its new length."""
    if m < 2:
        return out, n_out
    sort_prefix(members, m)
    d = 1
    for v in range(1, m):  # the distinct groups, in place
        if members[v] != members[d - 1]:
            members[d] = members[v]
            d += 1
    if d < 2 or (max_groups >= 0 and d > max_groups):
        return out, n_out
    near = d - 1 if neighbours < 0 else min(neighbours, d - 1)
    flag = -1 if crowd < 0 else np.int64(d > crowd)
    need = n_out + d * near - near * (near + 1) // 2
    if need > len(out):
        bigger = np.empty(max(need, 2 * len(out)), np.int64)
        bigger[:n_out] = out[:n_out]
        out = bigger
    for x in range(d):
        for y in range(x + 1, min(x + near + 1, d)):
            code = members[x] * span + members[y]
            out[n_out] = code if flag < 0 else code * 2 + flag
            n_out += 1
    return out, n_out
