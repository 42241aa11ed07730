"""MinHash signatures computed for many sets at once with numpy.

The signatures are exactly those of datasketch's ``MinHash(num_perm, seed, scheme="affine32")`` fed the low
32 bits of each shingle hash: the input is pre-mixed with the 32-bit MurmurHash3 finaliser, then permuted as
``a * h + b mod 2**32``. So they can be put in datasketch's ``MinHashLSH`` as they are, and estimate Jaccard
similarity as datasketch does.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _jit
from .config import MinHashConfig

_EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK = 4096


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` permutation parameters datasketch draws for ``MinHash(num_perm, seed, scheme='affine32')``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser of ``uint32`` values (an array, or one value when compiled)."""
    h = h ^ (h >> np.uint32(16))
    h = np.uint32(h * np.uint32(0x85EBCA6B))  # the casts keep compiled scalars at 32 bits
    h = h ^ (h >> np.uint32(13))
    h = np.uint32(h * np.uint32(0xC2B2AE35))
    return h ^ (h >> np.uint32(16))


_fmix32_one = _jit.njit(_fmix32)
"""The same for kernels that read 64-bit hashes and mix each low half as they go."""


def _low32(hashes: np.ndarray) -> np.ndarray:
    """The 32-bit values datasketch's ``affine32`` scheme permutes: the low half of each hash, pre-mixed."""
    return _fmix32((np.asarray(hashes, dtype=np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32))


def signature(hashes: np.ndarray, config: MinHashConfig) -> np.ndarray:
    """MinHash signature (``uint32[num_perm]``) of one set of 64-bit shingle hashes."""
    a, b = permutations(config.num_perm, config.seed)
    if _jit.enabled():
        return _sign_runs_kernel(np.asarray(hashes, dtype=np.uint64), np.array([0, len(hashes)], dtype=np.int64),
                                 np.zeros(1, dtype=np.int64), a, b)[0]
    h32 = _low32(hashes)
    sig = np.full(config.num_perm, _EMPTY, dtype=np.uint32)
    for start in range(0, len(h32), _CHUNK):
        block = h32[start : start + _CHUNK, None]
        np.minimum(sig, (block * a + b).min(axis=0), out=sig)
    return sig


def signatures(sets: list[np.ndarray], config: MinHashConfig) -> np.ndarray:
    """Signatures of many sets, one row each (``uint32[len(sets), num_perm]``)."""
    if _jit.enabled() and len(sets):
        a, b = permutations(config.num_perm, config.seed)
        offsets = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in sets], out=offsets[1:])
        return _sign_runs_kernel(np.concatenate([np.asarray(x, dtype=np.uint64) for x in sets]), offsets,
                                 np.arange(len(sets), dtype=np.int64), a, b)
    out = np.empty((len(sets), config.num_perm), dtype=np.uint32)
    for i, s in enumerate(sets):
        out[i] = signature(s, config)
    return out


def signatures_of_runs(values: np.ndarray, bounds: np.ndarray, which: np.ndarray, config: MinHashConfig) -> np.ndarray:
    """:func:`signatures` of the sets ``values[bounds[k]:bounds[k + 1]]`` for ``k`` in ``which``, from the
    64-bit hashes where they are (compiled kernels only): no copy of the sets."""
    a, b = permutations(config.num_perm, config.seed)
    return _sign_runs_kernel(values, np.asarray(bounds, dtype=np.int64), np.asarray(which, dtype=np.int64), a, b)


@_jit.njit
def _sign_runs_kernel(values, bounds, which, a, b):  # pragma: no cover - compiled; tested against the numpy path
    """Signatures of the sets ``values[bounds[k]:bounds[k + 1]]`` for ``k`` in ``which``, one row each: each 64-bit
    hash's low half is mixed as it is read (as :func:`_low32`), and the inner loop over permutations is what LLVM
    vectorises (uint32 multiply, add and minimum across lanes). Mixing as it reads is faster than mixing all
    first: 0.031-0.036 against 0.039-0.045 s for the 10 MB corpus's shingle sets."""
    num_perm = len(a)
    out = np.full((len(which), num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for t in range(len(which)):
        row = out[t]
        for i in range(bounds[which[t]], bounds[which[t] + 1]):
            h = _fmix32_one(np.uint32(values[i] & np.uint64(0xFFFFFFFF)))
            for p in range(num_perm):
                v = np.uint32(a[p] * h + b[p])
                if v < row[p]:
                    row[p] = v
    return out


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature positions, as datasketch's ``MinHash.jaccard``."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def window_signatures(hashes: np.ndarray, window: int, stride: int, config: MinHashConfig) -> np.ndarray:
    """Signatures of the windows ``hashes[w * stride : w * stride + window]`` of a sequence, all at once.

    The MinHash of a window is the minimum of its positions' permuted hashes, so windows are computed as
    sliding minima over blocks of ``stride`` positions (``window`` must be a multiple of ``stride``). The last
    window reaches the end of the sequence; a sequence shorter than ``window`` is one window.

    Returns:
        ``uint32[n_windows, num_perm]``.
    """
    if window % stride:
        raise ValueError(f"window ({window}) must be a multiple of stride ({stride})")
    n = len(hashes)
    if n == 0:
        return np.zeros((0, config.num_perm), dtype=np.uint32)
    a, b = permutations(config.num_perm, config.seed)
    q = window // stride
    rows = window_rows(np.array([n]), window, stride)
    n_windows = int(rows[1])
    if _jit.enabled():
        out = np.empty((n_windows, config.num_perm), dtype=np.uint32)
        window_values(hashes, np.array([0, n], dtype=np.int64), rows, stride, q, a, b, out)
        return out
    h32 = _low32(hashes)
    block_starts = np.arange(0, n, stride)
    blocks = np.empty((len(block_starts), config.num_perm), dtype=np.uint32)
    for lo in range(0, len(block_starts), _CHUNK // max(1, stride)):
        hi = min(len(block_starts), lo + _CHUNK // max(1, stride))
        start, end = int(block_starts[lo]), (int(block_starts[hi]) if hi < len(block_starts) else n)
        permuted = h32[start:end, None] * a + b
        blocks[lo:hi] = np.minimum.reduceat(permuted, block_starts[lo:hi] - start, axis=0)
    padded = np.full((n_windows + q - 1, config.num_perm), _EMPTY, dtype=np.uint32)
    padded[: min(len(blocks), len(padded))] = blocks[: len(padded)]
    out = padded[:n_windows].copy()
    for t in range(1, q):
        np.minimum(out, padded[t : t + n_windows], out=out)
    return out


def window_signatures_many(hashes: np.ndarray, offsets: np.ndarray, window: int, stride: int,
                           config: MinHashConfig, *, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`window_signatures` of each run ``hashes[offsets[s]:offsets[s + 1]]`` (compiled kernels only): the
    windows of all runs as one matrix (``out``, when given, must have exactly their number of rows), and the
    offsets of each run's rows."""
    a, b = permutations(config.num_perm, config.seed)
    offsets = np.asarray(offsets, dtype=np.int64)
    rows = window_rows(np.diff(offsets), window, stride)
    if out is None:
        out = np.empty((rows[-1], config.num_perm), dtype=np.uint32)
    elif out.shape != (rows[-1], config.num_perm):
        raise ValueError(f"out has shape {out.shape}, the windows need {(int(rows[-1]), config.num_perm)}")
    window_values(hashes, offsets, rows, stride, window // stride, a, b, out)
    return out, rows


def window_values(hashes, offsets: np.ndarray, rows: np.ndarray, stride: int, q: int, a: np.ndarray, b: np.ndarray,
                   out: np.ndarray) -> None:
    """:func:`window_band_values` with its scratch: the permutations ``a``, ``b`` (all of them, or the columns of
    some bands) of the windows of the runs ``hashes[offsets[s]:offsets[s + 1]]``, into rows ``rows[s]`` on of
    ``out``."""
    longest = int(((np.diff(offsets) + stride - 1) // stride).max(initial=0))
    window_band_values(np.asarray(hashes, dtype=np.uint64), offsets, rows, stride, q, a, b,
                       np.empty((longest, len(a)), dtype=np.uint32), out)


def window_rows(lengths: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Offsets of each run's window rows (``int64[len(lengths) + 1]``), for runs of ``lengths`` positions: a
    run shorter than ``window`` has one window (none when empty)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    counts = np.where(lengths <= window, np.minimum(lengths, 1), -(-(lengths - window) // stride) + 1)
    rows = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(counts, out=rows[1:])
    return rows


@_jit.njit
def window_band_values(seeds, offsets, rows, stride, q, a, b, blocks, vals):  # pragma: no cover - compiled
    """The window signatures :func:`window_signatures_many` gives for the runs ``seeds[offsets[s]:offsets[s + 1]]``
    (64-bit seeds; the low half pre-mixed, as :func:`_low32`) for the permutations ``a``, ``b`` only (a slice
    of all), written to ``vals`` (``uint32[n_rows, len(a)]``); ``blocks`` is scratch of at least
    ``(longest run / stride, len(a))``. The same minima per block of ``stride`` positions, then over ``q``
    blocks per window, as the numpy path of :func:`window_signatures`."""
    width = len(a)
    for s in range(len(offsets) - 1):
        row0 = rows[s]
        n_windows = rows[s + 1] - row0
        if n_windows == 0:
            continue
        lo, hi = offsets[s], offsets[s + 1]
        n_blocks = (hi - lo + stride - 1) // stride
        for blk in range(n_blocks):
            row = blocks[blk]
            row[:] = np.uint32(0xFFFFFFFF)
            for i in range(lo + blk * stride, min(lo + (blk + 1) * stride, hi)):
                h = _fmix32_one(np.uint32(seeds[i] & np.uint64(0xFFFFFFFF)))
                for c in range(width):  # vectorised, as in _sign_runs_kernel
                    v = np.uint32(a[c] * h + b[c])
                    if v < row[c]:
                        row[c] = v
        for w in range(n_windows):
            out = vals[row0 + w]
            out[:] = np.uint32(0xFFFFFFFF)
            for t in range(min(q, n_blocks - w)):
                row = blocks[w + t]
                for c in range(width):
                    if row[c] < out[c]:
                        out[c] = row[c]
