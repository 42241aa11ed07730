"""Shingles: a speech's normalised text → a sorted array of unique 64-bit shingle hashes.

Tokens are characters (``mode="char"``) or jieba words (``mode="word"``). Each distinct token is hashed once
with xxhash (``xxh3_64`` with the configured seed); an n-gram's hash combines its tokens' hashes with
vectorised 64-bit mixing in numpy, so there is no Python work per shingle. :func:`shingle_hash` is the slow,
obviously-correct definition the fast path is tested against.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import xxhash

from . import _jit
from .config import ShingleConfig

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, an avalanching bijection on 64-bit values."""
    h = h ^ (h >> np.uint64(30))
    h = h * _M2
    h = h ^ (h >> np.uint64(27))
    h = h * _M3
    return h ^ (h >> np.uint64(31))


def token_hash(token: str, seed: int) -> int:
    """xxh3_64 of a token's UTF-8 bytes."""
    return xxhash.xxh3_64_intdigest(token.encode("utf-8"), seed)


@lru_cache(maxsize=4)
def _char_table(seed: int) -> np.ndarray:
    """xxh3_64 of every BMP character, computed once per seed."""
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(chr(cp).encode("utf-8", "surrogatepass"), seed) for cp in range(0x10000)),
        dtype=np.uint64,
        count=0x10000,
    )


def combine(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hashes of all n-grams of a token-hash sequence (one per window; fewer than n tokens → one shingle)."""
    t = np.asarray(token_hashes, dtype=np.uint64)
    if len(t) == 0:
        return np.zeros(0, dtype=np.uint64)
    n = min(n, len(t))
    windows = len(t) - n + 1
    with np.errstate(over="ignore"):
        acc = np.full(windows, np.uint64(n), dtype=np.uint64) * _M1
        for k in range(n):
            acc = _mix((acc ^ t[k : k + windows]) * _M1)
    return acc


def shingle_hash(tokens: list[str], seed: int) -> int:
    """Reference (slow) hash of one shingle: the definition :func:`combine` implements vectorised."""
    acc = (len(tokens) * 0x9E3779B97F4A7C15) & _MASK
    for tok in tokens:
        acc = ((acc ^ token_hash(tok, seed)) * 0x9E3779B97F4A7C15) & _MASK
        acc ^= acc >> 30
        acc = (acc * 0xBF58476D1CE4E5B9) & _MASK
        acc ^= acc >> 27
        acc = (acc * 0x94D049BB133111EB) & _MASK
        acc ^= acc >> 31
    return acc


def tokens(text: str, mode: str, tokenizer: str = "jieba") -> list[str]:
    """The tokens of a normalised text: characters, or words (the segmenter imported on first use)."""
    if mode == "char":
        return list(text)
    return _word_cut(text, tokenizer)


def resolve_tokenizer(tokenizer: str) -> str:
    """``"auto"`` becomes ``"rjieba"`` when it is installed (same tokens as jieba, about 20 times faster),
    else ``"jieba"``."""
    if tokenizer != "auto":
        return tokenizer
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return "jieba"
    return "rjieba"


def _word_cut(text: str, tokenizer: str) -> list[str]:
    if resolve_tokenizer(tokenizer) == "rjieba":
        from .errors import require

        rjieba = require("rjieba", extra="fast", purpose="tokenizer='rjieba'")
        words = rjieba.cut(text)
        # normalised text rarely has white space left: then no token is blank and none needs dropping
        return [w for w in words if w.strip()] if _SPACE.search(text) else words
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut(text, HMM=True) if w.strip()]


_SPACE = re.compile(r"\s")


def token_hashes(text: str, config: ShingleConfig, cache: dict[str, int] | None = None) -> np.ndarray:
    """The xxhash of each token of ``text``, in order.

    In word mode ``cache`` (word -> hash, for ``config.seed``) may be shared by the speeches of a run: each
    distinct word is hashed once, and the lookups run in C (``map``), not in a Python loop.
    """
    if config.mode == "char":
        cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        table = _char_table(config.seed)
        out = table[np.minimum(cps, 0xFFFF)]
        wide = np.flatnonzero(cps > 0xFFFF)
        for i in wide:  # characters beyond the BMP are rare; hash them one by one
            out[i] = token_hash(chr(int(cps[i])), config.seed)
        return out
    words = _word_cut(text, config.tokenizer)
    if cache is None:
        cache = {}
    for w in set(words).difference(cache):
        cache[w] = token_hash(w, config.seed)
    return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


def shingle_positions(text: str, config: ShingleConfig, cache: dict[str, int] | None = None) -> np.ndarray:
    """Hash of the shingle starting at each token position (not deduplicated), in order (``cache``: see
    :func:`token_hashes`)."""
    return combine(token_hashes(text, config, cache), config.ngram)


def shingles(text: str, config: ShingleConfig, cache: dict[str, int] | None = None) -> np.ndarray:
    """Sorted unique 64-bit shingle hashes of a normalised text (``cache``: see :func:`token_hashes`)."""
    return sorted_unique(shingle_positions(text, config, cache))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` for a 1-d array, by a sort and a mask: about four times faster than numpy 2's
    ``np.unique``, which hashes first and then sorts the result."""
    s = sort_values(values)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def union_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sorted_unique(np.concatenate([a, b]))`` of two ``int64`` arrays. When each is sorted and distinct already
    (as pair codes from the LSH are), by one compiled merge into one new array, without the sort's copy, buffer
    and mask: at 1 GB the candidates were 181 million codes, 1.45 GB an array."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if _jit.enabled() and _strictly_increasing(a) and _strictly_increasing(b):
        return merge_distinct(a, b)
    return sorted_unique(np.concatenate([a, b]))


@_jit.njit
def _strictly_increasing(values):  # pragma: no cover - compiled; tested through union_sorted
    for i in range(1, len(values)):
        if values[i] <= values[i - 1]:
            return False
    return True


@_jit.njit
def merge_distinct(a, b):  # pragma: no cover - compiled; tested through union_sorted and align.stock_flags
    """The sorted distinct values of two sorted, distinct arrays of one dtype (compiled only)."""
    out = np.empty(len(a) + len(b), a.dtype)
    i = j = k = 0
    while i < len(a) and j < len(b):
        x, y = a[i], b[j]
        out[k] = min(x, y)
        i += x <= y
        j += y <= x
        k += 1
    while i < len(a):
        out[k] = a[i]
        i += 1
        k += 1
    while j < len(b):
        out[k] = b[j]
        j += 1
        k += 1
    return out[:k]


# --- the compiled path: every speech of a run in one call -----------------------------------------------------


@_jit.njit
def mix64(h):  # pragma: no cover - compiled
    """:func:`_mix` on one value, for compiled kernels."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@_jit.njit
def combine_many(hashes, offsets, n):  # pragma: no cover - compiled; tested against combine()
    """:func:`combine` on each run ``hashes[offsets[s]:offsets[s + 1]]``, except that a run shorter than ``n``
    gives no n-gram (as ``align.seeds_of``): the n-gram hashes of all runs, flat, and their offsets."""
    m = len(offsets) - 1
    out_off = np.zeros(m + 1, np.int64)
    for s in range(m):
        length = offsets[s + 1] - offsets[s]
        out_off[s + 1] = out_off[s] + (length - n + 1 if length >= n else 0)
    out = np.empty(out_off[m], np.uint64)
    combine_into(hashes, offsets, n, out_off, out)
    return out, out_off


@_jit.njit
def combine_into(hashes, offsets, n, out_off, out):  # pragma: no cover - compiled; tested through combine_many
    """:func:`combine_many` written into ``out``, whose offsets ``out_off`` the caller computed."""
    m = len(offsets) - 1
    m1 = np.uint64(0x9E3779B97F4A7C15)
    for s in range(m):
        base = offsets[s]
        for w in range(out_off[s + 1] - out_off[s]):
            acc = np.uint64(n) * m1
            for k in range(n):
                acc = mix64((acc ^ hashes[base + w + k]) * m1)
            out[out_off[s] + w] = acc


SMALL_GROUP = 16
"""Longest run of values with the same 16 high bits that :func:`order_by_value` sorts by insertion."""


@_jit.njit
def order_by_value(values, order, ordered, scratch, counts):  # pragma: no cover - compiled; tested vs argsort
    """``order`` becomes ``np.argsort(values, kind="stable")`` (``int32``) and ``ordered`` the sorted ``uint64``
    values.

    Two passes of a radix sort on the values' 16 high bits, then each run of equal high bits (usually one value:
    hashes spread over 65,536 keys) put in order by insertion, or by a stable sort when it is long. ``scratch``
    (``int32``) is as long as ``values``, ``counts`` is ``int64[2, 256]``.
    """
    m = len(values)
    counts[:] = 0
    for q in range(m):
        top = values[q] >> np.uint64(48)
        counts[0, top & np.uint64(255)] += 1
        counts[1, top >> np.uint64(8)] += 1
    t0 = 0
    t1 = 0
    for d in range(256):
        c0, c1 = counts[0, d], counts[1, d]
        counts[0, d], counts[1, d] = t0, t1
        t0 += c0
        t1 += c1
    for q in range(m):
        d = (values[q] >> np.uint64(48)) & np.uint64(255)
        scratch[counts[0, d]] = q
        counts[0, d] += 1
    for q in range(m):
        i = scratch[q]
        d = values[i] >> np.uint64(56)
        order[counts[1, d]] = i
        counts[1, d] += 1
    for q in range(m):
        ordered[q] = values[order[q]]
    x = 0
    while x < m:
        ex = x + 1
        while ex < m and (ordered[ex] >> np.uint64(48)) == (ordered[x] >> np.uint64(48)):
            ex += 1
        if ex - x > SMALL_GROUP:
            by = np.argsort(ordered[x:ex], kind="mergesort")
            ordered[x:ex] = ordered[x:ex][by]
            order[x:ex] = order[x:ex][by]
        else:
            for q in range(x + 1, ex):
                v, item = ordered[q], order[q]
                w = q - 1
                while w >= x and ordered[w] > v:
                    ordered[w + 1], order[w + 1] = ordered[w], order[w]
                    w -= 1
                ordered[w + 1], order[w + 1] = v, item
        x = ex


@_jit.njit
def sorted_unique_many(values, offsets):  # pragma: no cover - compiled; tested against sorted_unique()
    """:func:`sorted_unique` of each run ``values[offsets[s]:offsets[s + 1]]``: flat, and their offsets."""
    out = np.empty(len(values), values.dtype)
    counts = sorted_unique_into(values, offsets, out, offsets[:-1])
    bounds = compact_runs(out, offsets[:-1], counts)
    return out[: bounds[-1]].copy(), bounds


@_jit.njit
def sorted_unique_into(values, offsets, out, starts):  # pragma: no cover - compiled; tested through sorted_unique_many
    """The distinct values of each run ``values[offsets[s]:offsets[s + 1]]``, sorted, written from ``out[starts[s]]``
    on (room for the whole run must be there); returns how many each run has. Each run is sorted by
    :func:`order_by_value` (two radix passes on the 16 high bits, then insertion): 0.040 -> 0.021 s for the
    10 MB corpus's speeches against a radix sort on all eight bytes (measured)."""
    m = len(offsets) - 1
    counts = np.zeros(m, np.int64)
    longest = 0
    for s in range(m):
        longest = max(longest, offsets[s + 1] - offsets[s])
    order = np.empty(longest, np.int32)  # for one run at a time
    ordered = np.empty(longest, np.uint64)
    scratch = np.empty(longest, np.int32)
    radix = np.zeros((2, 256), np.int64)
    for s in range(m):
        n = offsets[s + 1] - offsets[s]
        order_by_value(values[offsets[s] : offsets[s + 1]], order[:n], ordered[:n], scratch[:n], radix)
        w = starts[s]
        for i in range(n):
            if i == 0 or ordered[i] != ordered[i - 1]:
                out[w] = ordered[i]
                w += 1
        counts[s] = w - starts[s]
    return counts


@_jit.njit
def compact_runs(values, starts, counts):  # pragma: no cover - compiled; tested through sorted_unique_many
    """Move the runs ``values[starts[s]:starts[s] + counts[s]]`` (``starts`` ascending, runs apart) to the front
    of ``values``, end to end and in order, in place; returns their offsets there."""
    bounds = np.zeros(len(counts) + 1, np.int64)
    w = 0
    for s in range(len(counts)):
        src = starts[s]
        for i in range(counts[s]):  # w <= src: moving forward never overwrites what is still to move
            values[w + i] = values[src + i]
        w += counts[s]
        bounds[s + 1] = w
    return bounds


RADIX_MIN = 1 << 14
"""Arrays of 64-bit integers at least this long are sorted by :func:`radix_sort` when the kernels run."""


def sort_values(values: np.ndarray) -> np.ndarray:
    """``np.sort(values)``: by a compiled radix sort for a long array of 64-bit integers when the kernels run
    (about 2.5 times faster than numpy's sort on a million hashes), else by numpy."""
    values = np.asarray(values)
    if len(values) < RADIX_MIN or values.dtype not in (np.uint64, np.int64) or not _jit.enabled():
        return np.sort(values)
    if values.dtype == np.uint64:
        out = values.copy()
        radix_sort(out, np.empty_like(out))
        return out
    # signed: flipping the sign bit makes the unsigned order the signed order
    flipped = values.view(np.uint64) ^ np.uint64(1 << 63)
    radix_sort(flipped, np.empty_like(flipped))
    flipped ^= np.uint64(1 << 63)
    return flipped.view(np.int64)


@_jit.njit
def sort_prefix(values, n):  # pragma: no cover - compiled; tested against np.sort
    """Sort ``values[:n]`` in place: by insertion for a few values (numba's ``sort`` costs about 250 ns a call
    whatever the length, which dominated kernels that sort hundreds of thousands of tiny groups)."""
    if n > SMALL_SORT:
        values[:n].sort()
        return
    for v in range(1, n):
        x = values[v]
        w = v - 1
        while w >= 0 and values[w] > x:
            values[w + 1] = values[w]
            w -= 1
        values[w + 1] = x


SMALL_SORT = 32
"""Longest array :func:`sort_prefix` sorts by insertion."""


@_jit.njit
def radix_sort(values, buffer):  # pragma: no cover - compiled; tested against np.sort
    """Sort ``uint64`` values in place (``buffer``: scratch of the same length): :func:`radix_sort_rows` on all
    eight bytes, with no rows to move."""
    if len(values) < 2:
        return
    no_rows = np.empty((len(values), 0), np.uint32)
    radix_sort_rows(values, buffer, no_rows, no_rows, 0, np.zeros((8, 256), np.int64))


@_jit.njit
def radix_sort_rows(keys, buffer, rows, spare, first, counts):  # pragma: no cover - compiled; tested vs np.sort and through banding
    """Sort ``uint64`` ``keys`` in place on their bytes ``first`` to 7 (least significant first, stable; all bytes
    counted in one pass, and a byte that is the same in every key moves nothing), moving row ``i`` of ``rows``
    (``uint32[n, r]``, ``r`` may be 0) with key ``i``. ``buffer`` is scratch as long as ``keys``, ``counts`` is
    ``int64[8, 256]``. Returns the array that holds the moved rows: ``rows`` or ``spare`` (the same shape),
    whichever the passes ended in."""
    n = len(keys)
    if n < 2:
        return rows
    counts[:] = 0
    for i in range(n):
        v = keys[i]
        for b in range(first, 8):
            counts[b, (v >> np.uint64(8 * b)) & np.uint64(255)] += 1
    src, dst, rsrc, rdst = keys, buffer, rows, spare
    width = rows.shape[1]
    moved = 0
    for b in range(first, 8):
        sh = np.uint64(8 * b)
        if counts[b, (src[0] >> sh) & np.uint64(255)] == n:
            continue  # every key has the same byte here: nothing would move
        total = 0
        for d in range(256):
            c = counts[b, d]
            counts[b, d] = total
            total += c
        for i in range(n):
            d = (src[i] >> sh) & np.uint64(255)
            at = counts[b, d]
            dst[at] = src[i]
            for c in range(width):
                rdst[at, c] = rsrc[i, c]
            counts[b, d] = at + 1
        src, dst, rsrc, rdst = dst, src, rdst, rsrc
        moved += 1
    if moved % 2:
        keys[:] = src
    return rsrc
