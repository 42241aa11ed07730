"""Provenance: which passages of one speech were copied from another, and which copy is earlier.

How a pair of speeches is aligned:

1. **Seeds**: every normalised character ``k``-gram (whitespace, punctuation and line breaks are gone, so
   re-wrapping does not matter; placeholders and numbers are one symbol, so ``XX`` matches ``13``) that occurs
   in both speeches. Seeds repeated more than ``max_occurrences`` times in one speech are not used.
2. **Chains**: seeds are chained in order when they follow each other in both texts within ``gap``
   characters, on nearly the same diagonal. An edit shorter than ``gap`` (another place name, a year, a
   sentence added or dropped) does not break a passage; reordered paragraphs give separate passages.
3. **Passages**: chains at least ``min_chars`` long whose characters are mostly covered by seeds
   (``min_similarity``). The similarity reported is the share of both sides covered by exact seeds.
4. **Boilerplate**: a seed found in ``boilerplate_units`` or more unrelated texts (a family counts once) is
   stock language; a short passage made mostly of stock language (``同志们：``, ``谢谢大家``, slogans) is
   marked ``boilerplate`` rather than reported as copying — like passim's boilerplate or TextPAIR's banality
   filter.

Which speech pairs are aligned: every verified pair from clustering, and every pair whose passage windows
(``window`` characters every ``stride``) collide in a MinHash LSH index — so a speech that borrows three
paragraphs from an otherwise different speech is found without comparing all pairs.

Direction: a speech's date comes from its title or a date line under the title (``2024年1月``), else from the
page's update/publish time line, else from dates the caller passes. The earlier copy is the source only when
both dates are known and one is strictly earlier; otherwise the direction is ``"undetermined"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import _jit
from .config import AlignConfig, MinHashConfig, ShingleConfig
from .cluster import Ragged, flatten, local_pairs, pair_arrays
from .index import code_pairs, frequent, grouped_codes, grouped_window_codes
from .minhash import window_signatures
from .shingle import (combine, compact_runs, merge_distinct, order_by_value, sorted_unique, sorted_unique_many,
                      token_hashes)


@dataclass(frozen=True, slots=True)
class Passage:
    """An aligned passage in normalised coordinates: ``a[a0:a1]`` matches ``b[b0:b1]``."""

    a0: int
    a1: int
    b0: int
    b1: int
    similarity: float
    stock: float  # 1.0 when the passage is a run of stock language, else 0.0


def seeds_of(text: str, config: AlignConfig, *, seed: int = 0) -> np.ndarray:
    """Hash of the ``k``-gram starting at each position of a normalised text (empty when shorter than k)."""
    if len(text) < config.k:
        return np.zeros(0, dtype=np.uint64)
    return combine(token_hashes(text, ShingleConfig(mode="char", ngram=config.k, seed=seed)), config.k)


@dataclass(frozen=True, slots=True)
class SeedIndex:
    """One speech's seeds, sorted once so that every pair it takes part in is aligned without re-sorting."""

    hashes: np.ndarray  # seed hash at each position
    order: np.ndarray  # positions sorted by hash
    sorted: np.ndarray  # hashes[order]
    repeats: np.ndarray  # how often the seed at each position occurs in the speech
    distinct: np.ndarray  # the distinct seeds, sorted
    rare: np.ndarray  # the distinct seeds that are not stock language, sorted

    @classmethod
    def build(cls, hashes: np.ndarray, stock: np.ndarray | None = None) -> SeedIndex:
        order = np.argsort(hashes, kind="stable")
        sorted_hashes = hashes[order]
        left = np.searchsorted(sorted_hashes, hashes, "left")
        right = np.searchsorted(sorted_hashes, hashes, "right")
        distinct = np.unique(hashes)
        rare = np.unique(hashes[~stock]) if stock is not None and len(stock) == len(hashes) else distinct
        return cls(hashes, order, sorted_hashes, right - left, distinct, rare)


def worth_aligning(a: SeedIndex, b: SeedIndex, config: AlignConfig) -> bool:
    """Whether two speeches can share a passage worth reporting, judged from their distinct seeds.

    A reportable passage of ``min_chars`` shares at least a few seeds that are not stock language, or it is
    long enough (``boilerplate_chars``) to count as copying even when made of stock language. Most candidate
    pairs from the window index share only stock language; this check skips them before alignment.
    """
    from .cluster import overlap

    need = max(1, (config.min_chars - config.k + 1) // 2)
    if overlap(a.rare, b.rare) >= need:
        return True
    return overlap(a.distinct, b.distinct) >= config.boilerplate_chars - config.k + 1


def _seed_pairs(a: SeedIndex | np.ndarray, b: SeedIndex | np.ndarray, max_occ: int) -> tuple[np.ndarray, np.ndarray]:
    """All ``(i, j)`` with ``a[i] == b[j]`` that have a neighbour ``(i±1, j±1)`` on their diagonal, sorted by
    ``(i, j)``; seeds repeated more than ``max_occ`` times in either speech are left out.

    A lone matching k-gram is chance; a run of two (``k + 1`` characters) is where alignment starts.
    """
    a = a if isinstance(a, SeedIndex) else SeedIndex.build(np.asarray(a, dtype=np.uint64))
    b = b if isinstance(b, SeedIndex) else SeedIndex.build(np.asarray(b, dtype=np.uint64))
    empty = np.zeros(0, dtype=np.int64)
    if len(a.hashes) == 0 or len(b.hashes) == 0:
        return empty, empty
    # look up A's hashes in sorted order: sorted needles make searchsorted cache-friendly
    left = np.searchsorted(b.sorted, a.sorted, "left")
    right = np.searchsorted(b.sorted, a.sorted, "right")
    count = right - left
    ka = np.flatnonzero((count > 0) & (count <= max_occ) & (a.repeats[a.order] <= max_occ))
    if len(ka) == 0:
        return empty, empty
    c = count[ka]
    i = np.repeat(a.order[ka], c).astype(np.int64)
    offsets = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
    j = b.order[np.repeat(left[ka], c) + offsets].astype(np.int64)
    key = i * (len(b.hashes) + 1) + j
    ordered = np.argsort(key, kind="stable")
    i, j, key = i[ordered], j[ordered], key[ordered]
    step = len(b.hashes) + 2
    pos_next = np.minimum(np.searchsorted(key, key + step), len(key) - 1)
    pos_prev = np.minimum(np.searchsorted(key, key - step), len(key) - 1)
    keep = (key[pos_next] == key + step) | (key[pos_prev] == key - step)
    return i[keep], j[keep]


def align(
    seeds_a: SeedIndex | np.ndarray,
    seeds_b: SeedIndex | np.ndarray,
    config: AlignConfig,
    *,
    stock_a: np.ndarray | None = None,
) -> list[Passage]:
    """Aligned passages between two speeches given their per-position seed hashes (see :func:`seeds_of`).

    Matching seeds are first collapsed into runs along diagonals (vectorised); runs are then chained in order
    of their start in A.

    Args:
        seeds_a: Seed hash at each normalised position of speech A (or its :class:`SeedIndex`).
        seeds_b: The same for speech B.
        config: Alignment options.
        stock_a: Optional flag per position of A: the seed there is stock language.

    Returns:
        Passages sorted by their start in A; overlapping duplicates are removed.
    """
    k, gap, indel = config.k, config.gap, config.indel
    ha = seeds_a.hashes if isinstance(seeds_a, SeedIndex) else seeds_a
    hb = seeds_b.hashes if isinstance(seeds_b, SeedIndex) else seeds_b
    if len(ha) and len(ha) == len(hb) and np.array_equal(ha, hb):
        # the same text: one passage end to end (less any stock language at its ends)
        whole = np.arange(len(ha))
        found = [
            p for lo, hi, is_stock in _stock_segments(whole, stock_a, config)
            if (p := _passage(whole[lo:hi], whole[lo:hi], 1.0 if is_stock else 0.0, config)) is not None
        ]
        return found
    I, J = _seed_pairs(seeds_a, seeds_b, config.max_occurrences)
    if len(I) == 0:
        return []
    # runs of consecutive seeds on one diagonal
    D = J - I
    by_diag = np.lexsort((I, D))
    Is, Ds = I[by_diag], D[by_diag]
    brk = np.ones(len(Is), dtype=bool)
    brk[1:] = (Ds[1:] != Ds[:-1]) | (Is[1:] != Is[:-1] + 1)
    starts = np.flatnonzero(brk)
    lengths = np.diff(np.append(starts, len(Is)))
    r_i0, r_d = Is[starts], Ds[starts]
    by_start = np.lexsort((r_i0 + r_d, r_i0))
    # a chain: [a_last, b_last, runs as (i0, j0, length)]
    chains: list[list] = []
    active: list[int] = []
    for i0, d, n in zip(r_i0[by_start].tolist(), r_d[by_start].tolist(), lengths[by_start].tolist()):
        j0 = i0 + d
        active = [c for c in active if chains[c][0] >= i0 - indel - 1]
        best, best_key = None, None
        for cand in active:
            ch = chains[cand]
            di, dj = i0 - ch[0], j0 - ch[1]
            if 0 < di and 0 < dj and (
                (di <= gap + 1 and dj <= gap + 1) or (min(di, dj) <= gap + 1 and max(di, dj) <= indel + 1)
            ):
                key = (abs(di - dj), -len(ch[2]))
                if best_key is None or key < best_key:
                    best, best_key = cand, key
        if best is None:
            chains.append([i0 + n - 1, j0 + n - 1, [(i0, j0, n)]])
            active.append(len(chains) - 1)
        else:
            ch = chains[best]
            ch[0], ch[1] = i0 + n - 1, j0 + n - 1
            ch[2].append((i0, j0, n))
    found = []
    for _, _, runs in chains:
        if len(runs) == 1 and runs[0][2] + k - 1 < config.min_chars:
            continue
        ii = np.concatenate([np.arange(i0, i0 + n) for i0, _, n in runs])
        jj = np.concatenate([np.arange(j0, j0 + n) for _, j0, n in runs])
        for lo, hi, is_stock in _stock_segments(ii, stock_a, config):
            p = _passage(ii[lo:hi], jj[lo:hi], 1.0 if is_stock else 0.0, config)
            if p is not None:
                found.append(p)
    return _drop_overlaps(found)


def _stock_segments(ii: np.ndarray, stock: np.ndarray | None, config: AlignConfig) -> list[tuple[int, int, bool]]:
    """Split off a run of stock-language seeds at either end of a chain, ``min_chars`` to ``boilerplate_chars`` long.

    A copied paragraph followed by a stock closing becomes two passages: the copy, and the boilerplate.
    """
    n = len(ii)
    if stock is None or n == 0:
        return [(0, n, False)]
    flags = stock[ii]
    if not (flags[0] or flags[-1]):
        return [(0, n, False)]  # stock language is split off the ends only
    flags = flags.tolist()
    ii = ii.tolist()
    segments: list[tuple[int, int, bool]] = []
    start = 0
    pos = 0
    while pos < n:
        if not flags[pos]:
            pos += 1
            continue
        run_end = pos
        while run_end + 1 < n and flags[run_end + 1]:
            run_end += 1
        at_end = pos == 0 or run_end == n - 1  # stock language inside a copied passage is part of the copy
        length = ii[run_end] + config.k - ii[pos]
        short = length <= config.boilerplate_chars  # a long passage recurring widely is copying, not stock
        if at_end and short and (length >= config.min_chars or (pos == 0 and run_end == n - 1)):
            if pos > start:
                segments.append((start, pos, False))
            segments.append((pos, run_end + 1, True))
            start = run_end + 1
        pos = run_end + 1
    if start < n:
        segments.append((start, n, False))
    return segments


def _passage(ii: np.ndarray, jj: np.ndarray, stock: float, config: AlignConfig) -> Passage | None:
    """The passage a run of chained seeds spans, if long and dense enough."""
    k = config.k
    a0, a1, b0, b1 = int(ii[0]), int(ii[-1]) + k, int(jj[0]), int(jj[-1]) + k
    len_a, len_b = a1 - a0, b1 - b0
    if min(len_a, len_b) < config.min_chars:
        return None
    cov_a = k + int(np.minimum(np.diff(ii), k).sum())
    cov_b = k + int(np.minimum(np.diff(jj), k).sum())
    sim = (cov_a + cov_b) / (len_a + len_b)
    if sim < config.min_similarity:
        return None
    return Passage(a0, a1, b0, b1, sim, stock)


def _drop_overlaps(passages: list[Passage]) -> list[Passage]:
    """Keep each stretch of text aligned once: the longest of passages that overlap by half on either side."""
    kept: list[Passage] = []
    for p in sorted(passages, key=lambda p: (-(p.a1 - p.a0), p.a0, p.b0)):
        clash = False
        for q in kept:
            oa = min(p.a1, q.a1) - max(p.a0, q.a0)
            ob = min(p.b1, q.b1) - max(p.b0, q.b0)
            if oa > (p.a1 - p.a0) / 2 or ob > (p.b1 - p.b0) / 2:
                clash = True
                break
        if not clash:
            kept.append(p)
    kept.sort(key=lambda p: (p.a0, p.b0))
    return kept


def stock_flags(seeds: Sequence[np.ndarray], units: Sequence[int], config: AlignConfig, *,
                distinct: Sequence[np.ndarray] | None = None, threads: int = 1) -> list[np.ndarray]:
    """For each speech, a flag per position: the seed there recurs in ``boilerplate_units`` or more units.

    Args:
        seeds: Per-position seed hashes of each speech.
        units: The unit of each speech: its family id, or a unique id when it has no family, so a recycled
            speech counts once however many copies it has.
        config: Alignment options.
        distinct: The sorted distinct seeds of each speech, when they are at hand (in char mode they are the
            shingle sets, and a speech without seeds has a shingle set of one value, which is left out here):
            then they need no sorting. A :class:`~dupspeech.cluster.Ragged` is read in place.
        threads: Threads that flag a part of the positions each (:func:`stock_positions_many`).
    """
    if not len(seeds):
        return []
    if _jit.enabled():
        common = frequent(_units_distinct(seeds, units, distinct), config.boilerplate_units, overwrite=True)
        return stock_positions_many(common, seeds, threads=threads)
    empty = np.zeros(0, dtype=np.uint64)
    per_unit: dict[int, list[np.ndarray]] = {}
    for k, u in enumerate(units):
        per_unit.setdefault(u, []).append(seeds[k] if distinct is None else distinct[k] if len(seeds[k]) else empty)
    uniq = [parts[0] if distinct is not None and len(parts) == 1 else sorted_unique(np.concatenate(parts))
            for parts in per_unit.values()]
    common = frequent(np.concatenate(uniq), config.boilerplate_units, overwrite=True)
    return stock_positions_many(common, seeds, threads=threads)


def _units_distinct(seeds: Sequence[np.ndarray], units: Sequence[int],
                    distinct: Sequence[np.ndarray] | None) -> np.ndarray:
    """The distinct seeds of every unit, end to end (units in order of their ids), by compiled kernels: each
    speech's distinct seeds (given, or from one :func:`sorted_unique_many` call), then each unit's as the merge
    of its speeches'. A :class:`~dupspeech.cluster.Ragged` is read in place: at 1 GB copying the family members'
    sets end to end and sorting them again took 6 s of the 16 s of stock language (measured)."""
    n = len(seeds)
    lengths = np.fromiter((len(s) for s in seeds), dtype=np.int64, count=n)
    if distinct is None:
        values, bounds = sorted_unique_many(*(
            (seeds.values, seeds.bounds) if isinstance(seeds, Ragged) else flatten(list(seeds))))
    elif isinstance(distinct, Ragged):
        values, bounds = distinct.values, distinct.bounds
    else:
        values, bounds = flatten(list(distinct))
    starts = bounds[:-1]
    ends = np.where(lengths > 0, bounds[1:], starts)  # a speech without seeds has none to count
    unit_ids = np.asarray(units, dtype=np.int64)
    order = np.argsort(unit_ids, kind="stable")
    firsts = np.flatnonzero(np.r_[True, unit_ids[order][1:] != unit_ids[order][:-1]])
    out = np.empty(int((ends - starts).sum()), dtype=np.uint64)
    return out[: _merge_units(values, starts, ends, order, np.r_[firsts, n], out)]


@_jit.njit
def _merge_units(values, starts, ends, order, unit_off, out):  # pragma: no cover - compiled; tested via stock_flags
    """For each unit ``u``: the union of the sorted distinct runs ``values[starts[x]:ends[x]]`` of its speeches
    ``order[unit_off[u]:unit_off[u + 1]]``, sorted, written end to end into ``out``; returns how many were
    written. Members are merged one at a time into the union so far (family members share most seeds)."""
    n = 0
    for u in range(len(unit_off) - 1):
        first = order[unit_off[u]]
        size = ends[first] - starts[first]
        out[n : n + size] = values[starts[first] : ends[first]]
        for q in range(unit_off[u] + 1, unit_off[u + 1]):
            y = order[q]
            union = merge_distinct(out[n : n + size], values[starts[y] : ends[y]])
            size = len(union)
            out[n : n + size] = union
        n += size
    return n


def stock_positions_many(common: np.ndarray, seeds: Sequence[np.ndarray], *, threads: int = 1) -> list[np.ndarray]:
    """:func:`stock_positions` for each speech's seeds: a hash set of ``common`` built once and probed by a
    compiled kernel when numba is enabled (:mod:`dupspeech._jit`); for seeds end to end (a
    :class:`~dupspeech.cluster.Ragged`), ``threads`` threads probe a part of the positions each."""
    if _jit.enabled() and len(common):
        table, mask = _hash_set(common)
        if isinstance(seeds, Ragged):  # one array of flags for all the seeds, the speeches' flags views of it
            flags = np.empty(len(seeds.values), dtype=np.bool_)
            _jit.in_threads(lambda lo, hi: _members(table, mask, seeds.values[lo:hi], flags[lo:hi]), len(flags),
                            threads)
            return Ragged(flags, seeds.bounds)
        return [_members(table, mask, np.asarray(s, dtype=np.uint64), np.empty(len(s), dtype=np.bool_))
                for s in seeds]
    return [stock_positions(common, s) for s in seeds]


def stock_positions(common: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Per position of ``seeds``, whether its seed is in ``common`` (sorted stock-language seeds)."""
    if len(common) == 0:
        return np.zeros(len(seeds), dtype=bool)
    pos = np.minimum(np.searchsorted(common, seeds), len(common) - 1)
    return common[pos] == seeds


def _hash_set(values: np.ndarray) -> tuple[np.ndarray, int]:
    """An open-addressing table of distinct ``uint64`` values (load at most 1/2; slot 0 value marks empty, so a
    zero value is kept in a slot of its own at the end) for :func:`_members`."""
    size = 1 << max(4, int(2 * len(values) - 1).bit_length())
    table = np.zeros(size + 1, dtype=np.uint64)
    _fill(table, size - 1, np.asarray(values, dtype=np.uint64))
    return table, size - 1


@_jit.njit
def _fill(table, mask, values):  # pragma: no cover - compiled; tested through stock_flags
    for v in values:
        if v == 0:
            table[mask + 1] = 1  # zero is present
            continue
        h = np.int64(v & np.uint64(mask))
        while table[h] != 0 and table[h] != v:
            h = (h + 1) & mask
        table[h] = v


@_jit.njit
def _members(table, mask, seeds, out):  # pragma: no cover - compiled; tested through stock_flags
    """Per position, whether ``seeds[i]`` is in the table, written to ``out`` (returned): the compiled twin of
    :func:`stock_positions`."""
    for i in range(len(seeds)):
        v = seeds[i]
        if v == 0:
            out[i] = table[mask + 1] == 1
            continue
        h = np.int64(v & np.uint64(mask))
        found = False
        while table[h] != 0:
            if table[h] == v:
                found = True
                break
            h = (h + 1) & mask
        out[i] = found
    return out


def window_signatures_of(seeds: np.ndarray, config: AlignConfig, *, seed: int) -> np.ndarray:
    """The passage-window signatures of one speech (``uint32[n_windows, num_perm]``, empty without seeds)."""
    return window_signatures(seeds, config.window, config.stride, MinHashConfig(num_perm=config.num_perm, seed=seed))


MAX_BUCKET_SPEECHES = 50
"""Window buckets spanning more speeches than this are stock language, not copying."""


def pairs_from_windows(
    window_sigs: Sequence[np.ndarray], config: AlignConfig, *, max_speeches: int = MAX_BUCKET_SPEECHES
) -> set[tuple[int, int]]:
    """Speech pairs whose windows (``window_sigs[i]`` for speech ``i``) share an LSH bucket."""
    matrix, groups = stack_windows(list(window_sigs))
    return pairs_from_window_matrix(matrix, groups, config, max_speeches=max_speeches)


def stack_windows(window_sigs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The window signatures of all speeches as one matrix, and the speech of each row.

    Empties ``window_sigs`` (its items become ``None``) as it copies them, so that when the list holds the only
    references, the memory peak is the matrix plus one speech's windows, not twice the windows.
    """
    widths = {w.shape[1] for w in window_sigs if w is not None and len(w)}
    total = sum(len(w) for w in window_sigs if w is not None)
    matrix = np.empty((total, widths.pop() if widths else 0), dtype=np.uint32)
    groups = np.empty(total, dtype=np.int64)
    row = 0
    for s in range(len(window_sigs)):
        w = window_sigs[s]
        window_sigs[s] = None  # type: ignore[call-overload]
        if w is not None and len(w):
            matrix[row : row + len(w)] = w
            groups[row : row + len(w)] = s
            row += len(w)
    return matrix, groups


def pairs_from_window_matrix(
    matrix: np.ndarray, groups: np.ndarray, config: AlignConfig, *, max_speeches: int = MAX_BUCKET_SPEECHES
) -> set[tuple[int, int]]:
    """:func:`pairs_from_windows` from :func:`stack_windows`'s matrix and groups."""
    span = int(groups.max()) + 1 if len(groups) else 1
    return set(code_pairs(window_codes(matrix, groups, config, span=span, max_speeches=max_speeches), span))


def window_codes(
    matrix: np.ndarray, groups: np.ndarray, config: AlignConfig, *, span: int,
    max_speeches: int = MAX_BUCKET_SPEECHES, threads: int = 1,
) -> np.ndarray:
    """:func:`pairs_from_window_matrix` as sorted codes ``i * span + j`` (``span`` above every speech)."""
    if not len(groups) or groups.min() == groups.max():
        return np.zeros(0, dtype=np.int64)
    return grouped_codes(matrix, groups, threshold=config.window_threshold, max_groups=max_speeches, span=span,
                         min_hits=config.window_min_hits, threads=threads, crowd=config.window_crowd)


def window_codes_of_seeds(
    seeds: Ragged, config: AlignConfig, *, seed: int, span: int, max_speeches: int = MAX_BUCKET_SPEECHES,
    threads: int = 1,
) -> np.ndarray:
    """:func:`window_codes` of the window signatures of every speech's seeds (``seeds``, speech ``s`` in
    ``span``), computed band by band from the seeds instead of stored (compiled kernels only; the same codes)."""
    return grouped_window_codes(seeds.values, seeds.bounds, config.window, config.stride,
                                MinHashConfig(num_perm=config.num_perm, seed=seed),
                                threshold=config.window_threshold, span=span, max_groups=max_speeches,
                                min_hits=config.window_min_hits, threads=threads, crowd=config.window_crowd)


# --- dates and direction -------------------------------------------------------------------------------------

_DATE = re.compile(
    r"(?P<y>(?:19|20)[0-9]{2})\s*(?:年|[-/.])\s*(?:(?P<m>[0-9]{1,2})\s*(?:月|[-/.])\s*(?:(?P<d>[0-9]{1,2})\s*日?)?)?"
)


@dataclass(frozen=True, slots=True, order=True)
class Dated:
    """A possibly partial date (year, or year and month) with where it was read."""

    earliest: tuple[int, int, int]
    latest: tuple[int, int, int]
    text: str
    where: str

    def before(self, other: Dated) -> bool:
        return self.latest < other.earliest


def parse_date(text: str, where: str) -> Dated | None:
    """The first date in ``text`` (``2024年1月``, ``2023-06-15``, ``2020年1月24日``), or ``None``."""
    m = _DATE.search(text.translate(_FULLWIDTH_DIGITS))
    if not m:
        return None
    y = int(m.group("y"))
    mo = int(m.group("m")) if m.group("m") else None
    d = int(m.group("d")) if m.group("d") else None
    if mo is not None and not 1 <= mo <= 12:
        mo, d = None, None
    if d is not None and not 1 <= d <= 31:
        d = None
    if mo is None:
        return Dated((y, 1, 1), (y, 12, 31), f"{y}", where)
    if d is None:
        return Dated((y, mo, 1), (y, mo, 31), f"{y}-{mo:02d}", where)
    return Dated((y, mo, d), (y, mo, d), f"{y}-{mo:02d}-{d:02d}", where)


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def caller_dates(
    dates: Mapping[str, str] | None, order: Iterable[str] | None
) -> tuple[dict[str, Dated], dict[str, int]]:
    """Dates and ranks the caller gave, keyed by file name or speech id."""
    parsed: dict[str, Dated] = {}
    for key, value in (dates or {}).items():
        text = str(value).strip()
        d = parse_date(text + "年" if re.fullmatch(r"[0-9]{4}", text) else text, "given by the caller")
        if d is None:
            from .errors import ConfigError

            raise ConfigError(f"date for {key!r} is {value!r}; write it as 2024, 2024-01 or 2024-01-24")
        parsed[key] = d
    ranks = {key: rank for rank, key in enumerate(order or ())}
    return parsed, ranks


def direction(
    a: str, b: str, date_a: Dated | None, date_b: Dated | None, rank_a: int | None, rank_b: int | None
) -> tuple[bool, str] | None:
    """``(a_is_earlier, evidence)`` when the evidence decides, else ``None``."""
    if date_a is not None and date_b is not None:
        if date_a.before(date_b):
            return True, f"date: {date_a.text} ({date_a.where}) < {date_b.text} ({date_b.where})"
        if date_b.before(date_a):
            return False, f"date: {date_b.text} ({date_b.where}) < {date_a.text} ({date_a.where})"
    if rank_a is not None and rank_b is not None and rank_a != rank_b:
        first = rank_a < rank_b
        return first, f"order given by the caller: {a if first else b} first"
    return None


# --- the compiled path: every candidate pair of a chunk in one call -------------------------------------------


def align_pairs(
    seeds: Sequence[np.ndarray],
    stock: Sequence[np.ndarray],
    pairs: Sequence[tuple[int, int]],
    config: AlignConfig,
    *,
    threads: int = 1,
) -> list[list[Passage]]:
    """Passages of each pair ``(i, j)`` of speeches (``seeds[i]`` against ``seeds[j]``, stock flags of ``i``).

    The same as :func:`worth_aligning` then :func:`align` on each pair (``[]`` for a pair not worth aligning),
    computed by one compiled kernel over all pairs when numba is enabled (:mod:`dupspeech._jit`), cut into
    ``threads`` parts that run at once, else pair by pair with numpy. The tests check they give the same.
    """
    if not pairs:
        return []
    if not _jit.enabled():
        built: dict[int, SeedIndex] = {}

        def index_of(x: int) -> SeedIndex:
            if x not in built:
                built[x] = SeedIndex.build(seeds[x], stock[x])
            return built[x]

        out: list[list[Passage]] = []
        for i, j in pairs:
            a, b = index_of(i), index_of(j)
            out.append(align(a, b, config, stock_a=stock[i]) if worth_aligning(a, b, config) else [])
        return out
    found: list[list[Passage]] = [[] for _ in pairs]
    rows = aligned_arrays(seeds, stock, *pair_arrays(pairs), config, threads=threads)
    for t, x0, x1, y0, y1, sim, st in zip(*(column.tolist() for column in rows)):
        found[t].append(Passage(x0, x1, y0, y1, sim, 1.0 if st else 0.0))
    return found


PassageArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Passages as arrays, one row each: ``(pair, a0, a1, b0, b1, similarity, stock)``, ``stock`` a bool."""


def aligned_arrays(
    seeds: Sequence[np.ndarray],
    stock: Sequence[np.ndarray],
    pa: np.ndarray,
    pb: np.ndarray,
    config: AlignConfig,
    *,
    threads: int = 1,
) -> PassageArrays:
    """:func:`align_pairs` of the pairs ``(pa[t], pb[t])`` given as arrays (millions of candidates at scale), by
    the compiled kernel only, as arrays (:data:`PassageArrays`): the passages of pair ``t`` are the rows with
    ``pair == t``, which come together, pairs in order of ``t``; pairs without passages have no row.

    Pairs sorted by their first speech are fastest (each part of the threads then keeps its runs of pairs).
    """
    if not len(pa):
        return _no_passages()
    if isinstance(seeds, Ragged) and isinstance(stock, Ragged):  # already end to end: no copy
        flat, offsets, flags = seeds.values, seeds.bounds, stock.values
    else:
        used, pa, pb = local_pairs(pa, pb)  # the pairs in the numbering of the speeches used
        flat, offsets = flatten([seeds[x] for x in used.tolist()])
        flags, _ = flatten([stock[x] for x in used.tolist()], dtype=np.bool_)
    c = config
    order, usable, distinct, d_off, d_pos, d_rare = sort_within(flat, offsets, flags, c.max_occurrences,
                                                                 threads=threads)
    need = max(1, (c.min_chars - c.k + 1) // 2)
    # for the kernel's filter and lookup table; written straight into uint16 (a shift to a uint64 temporary first
    # took 8 bytes per distinct seed at the run's peak: 250 MiB at 100 MB)
    key = np.empty(len(distinct), dtype=np.uint16)
    np.right_shift(distinct, np.uint64(48), out=key, casting="unsafe")

    def part(lo: int, hi: int):
        return _align_kernel(
            flat, offsets, order, usable, distinct, key, d_off, d_pos, d_rare, flags, pa[lo:hi], pb[lo:hi], c.k, c.gap,
            c.indel, c.min_chars, float(c.min_similarity), c.max_occurrences, c.boilerplate_chars, need,
        )

    parts = _jit.in_threads(part, len(pa), threads)
    for lo, found in zip(_jit.cuts(len(pa), threads), parts):
        found[0][:] += lo  # each part numbers its pairs from 0
    return tuple(np.concatenate([found[k] for found in parts]) for k in range(7))  # type: ignore[return-value]


def _no_passages() -> PassageArrays:
    ints = np.zeros(0, np.int64)
    return ints, ints, ints, ints, ints, np.zeros(0, np.float64), np.zeros(0, np.bool_)


def sort_within(flat: np.ndarray, offsets: np.ndarray, flags: np.ndarray, max_occ: int, *,
                threads: int = 1) -> tuple[np.ndarray, ...]:
    """:func:`_sort_within` of every speech, ``threads`` threads taking a part of the speeches each and writing
    their part of the same arrays (parts made apart and joined after took twice the memory: the 100 MB run's
    peak with two threads was 255 MiB higher)."""
    n = len(flat)
    order, usable = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.bool_)
    distinct, d_pos, d_rare = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.int32), np.empty(n, dtype=np.bool_)
    d_off = np.zeros(len(offsets), dtype=np.int64)

    def part(lo: int, hi: int) -> int:
        return _sort_within(flat, offsets, flags, max_occ, lo, hi, order, usable, distinct, d_off, d_pos, d_rare)

    ends = np.array(_jit.in_threads(part, len(offsets) - 1, threads), dtype=np.int64)
    # each part wrote its distinct seeds from its first seed on: they move down to follow the part before
    cuts = _jit.cuts(len(offsets) - 1, threads) + [len(offsets) - 1]
    firsts = offsets[cuts[:-1]].astype(np.int64)
    for values in (distinct, d_pos, d_rare):
        bounds = compact_runs(values, firsts, ends - firsts)
    for k in range(1, len(ends)):
        d_off[cuts[k] + 1 : cuts[k + 1] + 1] -= firsts[k] - bounds[k]
    nd = bounds[-1]
    # views, not copies: the pages past nd were never written, so they take no memory (and copying them would
    # touch fresh pages: at 100 MB that took longer than the sort)
    return order, usable, distinct[:nd], d_off, d_pos[:nd], d_rare[:nd]


@_jit.njit
def _sort_within(flat, offsets, flags, max_occ, s_lo, s_hi, order, usable, distinct, d_off, d_pos,
                 d_rare):  # pragma: no cover - compiled (numpy path: SeedIndex.build)
    """For speeches ``s_lo`` to ``s_hi`` (excluded), written into the arrays given: their positions sorted by
    seed hash (``order``, ``int32``, local to the speech), whether the seed at each position occurs at most
    ``max_occ`` times in the speech (``usable``), their distinct seeds with where each one's positions start in
    the sorted order (``d_pos``) and whether it is not stock language at one of them at least (``d_rare``):
    flattened from index ``offsets[s_lo]`` on, speech ``s``'s at ``distinct[d_off[s]:d_off[s + 1]]`` (this call
    writes ``d_off[s_lo + 1:s_hi + 1]``). Returns the index past the last distinct seed written."""
    nd = offsets[s_lo]
    longest = 0
    for s in range(s_lo, s_hi):
        longest = max(longest, offsets[s + 1] - offsets[s])
    item_buffer = np.empty(longest, dtype=np.int32)  # scratch for one speech at a time
    values = np.empty(longest, dtype=np.uint64)
    items = np.empty(longest, dtype=np.int32)
    counts = np.zeros((2, 256), dtype=np.int64)
    for s in range(s_lo, s_hi):
        lo, hi = offsets[s], offsets[s + 1]
        m = hi - lo
        # positions sorted by seed, equal seeds in position order (a stable sort, as SeedIndex.build's)
        srt = values[:m]
        o = items[:m]
        order_by_value(flat[lo:hi], o, srt, item_buffer[:m], counts)
        order[lo:hi] = o
        x = 0
        while x < hi - lo:
            ex = x + 1
            while ex < hi - lo and srt[ex] == srt[x]:
                ex += 1
            is_rare = False
            for q in range(x, ex):
                usable[lo + o[q]] = ex - x <= max_occ
                if not flags[lo + o[q]]:
                    is_rare = True
            distinct[nd] = srt[x]
            d_pos[nd] = x
            d_rare[nd] = is_rare
            nd += 1
            x = ex
        d_off[s + 1] = nd
    return nd


@_jit.njit
def _grow(arr, size):  # pragma: no cover - compiled
    if size <= len(arr):
        return arr
    bigger = np.empty(max(size, 2 * len(arr)), dtype=arr.dtype)
    bigger[: len(arr)] = arr
    return bigger


@_jit.njit
def _align_kernel(flat, offsets, order, usable, distinct, key, d_off, d_pos, d_rare, flags, pa, pb, k, gap, indel,
                  min_chars, min_sim, max_occ, boiler_chars, need):  # pragma: no cover - compiled; tested against align() pair by pair
    """Passages of every pair ``(pa[t], pb[t])``: ``(pair, a0, a1, b0, b1, similarity, stock)`` as arrays."""
    cap = 1024
    o_pair = np.empty(cap, np.int64)
    o_a0 = np.empty(cap, np.int64)
    o_a1 = np.empty(cap, np.int64)
    o_b0 = np.empty(cap, np.int64)
    o_b1 = np.empty(cap, np.int64)
    o_sim = np.empty(cap, np.float64)
    o_st = np.empty(cap, np.bool_)
    n_out = 0
    m_x = np.empty(1024, np.int64)
    m_y = np.empty(1024, np.int64)
    # a filter before the lookup: the first speech's distinct seeds, by the 16 high bits of their hashes (``key``),
    # are marked in a map of 65,536 bytes (1: present; 2: present and not stock language), set once per run of
    # pairs with that first speech and cleared through its keys. The second speech's seeds found there (its hits)
    # are at least as many as the seeds the two share (and likewise for those not stock language), so a pair the
    # counts show cannot pass the checks after the lookup is skipped there: most window candidates, which share
    # only stock language
    marks = np.zeros(65536, np.uint8)
    cur = -1
    widest = 1
    for sp in range(len(d_off) - 1):
        widest = max(widest, d_off[sp + 1] - d_off[sp])
    hit_q = np.empty(widest, np.int64)  # the second speech's distinct seeds that the filter finds in the map
    table = np.zeros(65536, np.int32)  # 1 + where the first speech's distinct seeds with each 16-bit key start
    table_of = -1
    # scratch for one pair at a time, made once and grown when a pair needs more (made for every pair, these
    # arrays cost about 7 % of the kernel's time at 100 MB): its passages, runs, chains and a chain's seed pairs
    p_a0, p_a1, p_b0, p_b1 = np.empty(8, np.int64), np.empty(8, np.int64), np.empty(8, np.int64), np.empty(8, np.int64)
    p_sim, p_st = np.empty(8, np.float64), np.empty(8, np.bool_)
    r_i0, r_d, r_n = np.empty(16, np.int64), np.empty(16, np.int64), np.empty(16, np.int64)
    ch_a, ch_b, ch_n = np.empty(16, np.int64), np.empty(16, np.int64), np.empty(16, np.int64)
    run_chain, active, runs_of = np.empty(16, np.int64), np.empty(16, np.int64), np.empty(16, np.int64)
    first, fill = np.empty(17, np.int64), np.empty(16, np.int64)
    ii_buf, jj_buf = np.empty(16, np.int64), np.empty(16, np.int64)
    for t in range(len(pa)):
        sa, sb = pa[t], pb[t]
        if sa != cur:
            if cur >= 0:
                for q in range(d_off[cur], d_off[cur + 1]):
                    marks[key[q]] = 0
            cur = sa
            for q in range(d_off[sa], d_off[sa + 1]):
                marks[key[q]] |= np.uint8(1 + 2 * d_rare[q])
        hits = 0
        rare_hits = 0
        for q in range(d_off[sb], d_off[sb + 1]):
            v = np.int64(marks[key[q]])
            hit_q[hits] = q  # kept only when it is a hit (no branch)
            hits += v & 1
            rare_hits += (v >> 1) & np.int64(d_rare[q])
        if hits < need or (hits < boiler_chars - k + 1 and rare_hits < need):
            continue  # the checks after the lookup would skip it too
        la, lb = offsets[sa], offsets[sb]
        na, nb = offsets[sa + 1] - la, offsets[sb + 1] - lb
        if na == 0 or nb == 0:
            continue
        ha = flat[la : la + na]
        hb = flat[lb : lb + nb]
        oa = order[la : la + na]
        ob = order[lb : lb + nb]
        fa = flags[la : la + na]
        # the seeds both speeches have: each hit is looked up among the first speech's distinct seeds, from where
        # those with its 16 high bits start (``table``, written once per run of pairs with that first speech and
        # only when one of them gets here; a hit's key is one of that speech's, so entries left from other speeches
        # are never read); hits whose full hash is not there are the filter's false positives
        xs, xe = d_off[sa], d_off[sa + 1]
        if table_of != sa:
            for q in range(xe - 1, xs - 1, -1):  # the seeds are sorted, so the first of each key is written last
                table[key[q]] = q - xs + 1
            table_of = sa
        m_x = _grow(m_x, hits + 1)
        m_y = _grow(m_y, len(m_x))
        shared = 0
        not_stock = 0
        for z in range(hits):
            y = hit_q[z]
            u = distinct[y]
            x = xs + max(np.int64(table[key[y]]), 1) - 1  # within the first speech, whatever the map said
            while x < xe and distinct[x] < u:
                x += 1
            if x < xe and distinct[x] == u:
                m_x[shared] = x
                m_y[shared] = y
                shared += 1
                not_stock += d_rare[x] and d_rare[y]
        # worth_aligning: enough shared seeds that are not stock language, or a long stretch of any
        if shared < need or (shared < boiler_chars - k + 1 and not_stock < need):
            continue
        # the same text: one passage end to end (less any stock language at its ends)
        same = na == nb
        if same:
            for q in range(na):
                if ha[q] != hb[q]:
                    same = False
                    break
        n_p = 0
        if same:
            ii = np.arange(na)
            seg_lo, seg_hi, seg_st = _stock_segments_kernel(ii, fa, k, min_chars, boiler_chars)
            for g in range(len(seg_lo)):
                ok, x0, x1, y0, y1, s = _passage_kernel(ii[seg_lo[g] : seg_hi[g]], ii[seg_lo[g] : seg_hi[g]],
                                                       k, min_chars, min_sim)
                if ok:
                    p_a0, p_a1, p_b0, p_b1 = _grow(p_a0, n_p + 1), _grow(p_a1, n_p + 1), _grow(p_b0, n_p + 1), \
                        _grow(p_b1, n_p + 1)
                    p_sim, p_st = _grow(p_sim, n_p + 1), _grow(p_st, n_p + 1)
                    p_a0[n_p], p_a1[n_p], p_b0[n_p], p_b1[n_p], p_sim[n_p], p_st[n_p] = x0, x1, y0, y1, s, seg_st[g]
                    n_p += 1
            keep = np.arange(n_p)
        else:
            # runs of seeds on one diagonal, straight from the matches: a seed pair (i, j) with a neighbour
            # (i +- 1, j +- 1) is what align() keeps, so a run is a maximal diagonal stretch of two or more
            # matching positions, each seed occurring at most max_occ times in either speech
            ua = usable[la : la + na]
            ub = usable[lb : lb + nb]
            nr = 0
            # the positions of each shared seed are a stretch of the speech's sorted order (from d_pos), taken
            # in order of the seeds' hashes
            xe, ye = d_off[sa + 1], d_off[sb + 1]
            for m in range(shared):
                x, y = m_x[m], m_y[m]
                a_lo = np.int64(d_pos[x])
                a_hi = np.int64(d_pos[x + 1]) if x + 1 < xe else na
                b_lo = np.int64(d_pos[y])
                b_hi = np.int64(d_pos[y + 1]) if y + 1 < ye else nb
                if a_hi - a_lo > max_occ or b_hi - b_lo > max_occ:
                    continue
                for q in range(a_lo, a_hi):
                    i = np.int64(oa[q])
                    for r in range(b_lo, b_hi):
                        j = np.int64(ob[r])
                        if i > 0 and j > 0 and ha[i - 1] == hb[j - 1] and ua[i - 1] and ub[j - 1]:
                            continue  # not the start of its run
                        n = 1
                        while i + n < na and j + n < nb and ha[i + n] == hb[j + n] and ua[i + n] and ub[j + n]:
                            n += 1
                        if n >= 2:
                            if nr == len(r_i0):
                                r_i0, r_d, r_n = _grow(r_i0, nr + 1), _grow(r_d, nr + 1), _grow(r_n, nr + 1)
                            r_i0[nr], r_d[nr], r_n[nr] = i, j - i, n
                            nr += 1
            if nr == 0:
                continue
            by_start = np.argsort(r_i0[:nr] * (nb + 1) + (r_i0[:nr] + r_d[:nr]))
            # chain runs in order of their start in A (see align())
            if len(ch_a) < nr:
                ch_a, ch_b, ch_n = np.empty(2 * nr, np.int64), np.empty(2 * nr, np.int64), np.empty(2 * nr, np.int64)
                run_chain, active = np.empty(2 * nr, np.int64), np.empty(2 * nr, np.int64)
                runs_of, fill = np.empty(2 * nr, np.int64), np.empty(2 * nr, np.int64)
                first = np.empty(2 * nr + 1, np.int64)
            ch_n[:nr] = 0
            n_active = 0
            n_ch = 0
            for q in range(nr):
                r = by_start[q]
                i0 = r_i0[r]
                j0 = i0 + r_d[r]
                n = r_n[r]
                w = 0
                for z in range(n_active):
                    if ch_a[active[z]] >= i0 - indel - 1:
                        active[w] = active[z]
                        w += 1
                n_active = w
                best = -1
                best_d = 0
                best_len = 0
                for z in range(n_active):
                    c = active[z]
                    di = i0 - ch_a[c]
                    dj = j0 - ch_b[c]
                    if 0 < di and 0 < dj and ((di <= gap + 1 and dj <= gap + 1)
                                              or (min(di, dj) <= gap + 1 and max(di, dj) <= indel + 1)):
                        dd = abs(di - dj)
                        if best < 0 or dd < best_d or (dd == best_d and ch_n[c] > best_len):
                            best, best_d, best_len = c, dd, ch_n[c]
                if best < 0:
                    best = n_ch
                    n_ch += 1
                    active[n_active] = best
                    n_active += 1
                ch_a[best] = i0 + n - 1
                ch_b[best] = j0 + n - 1
                ch_n[best] += 1
                run_chain[q] = best
            # the runs of each chain, in the order they were chained
            first[0] = 0
            for c in range(n_ch):
                first[c + 1] = first[c] + ch_n[c]
                fill[c] = first[c]
            for q in range(nr):
                c = run_chain[q]
                runs_of[fill[c]] = by_start[q]
                fill[c] += 1
            for c in range(n_ch):
                lo, hi = first[c], first[c + 1]
                if hi - lo == 1 and r_n[runs_of[lo]] + k - 1 < min_chars:
                    continue
                total = 0
                for q in range(lo, hi):
                    total += r_n[runs_of[q]]
                if len(ii_buf) < total:
                    ii_buf, jj_buf = np.empty(2 * total, np.int64), np.empty(2 * total, np.int64)
                ii, jj = ii_buf[:total], jj_buf[:total]
                w = 0
                for q in range(lo, hi):
                    r = runs_of[q]
                    for z in range(r_n[r]):
                        ii[w] = r_i0[r] + z
                        jj[w] = r_i0[r] + r_d[r] + z
                        w += 1
                seg_lo, seg_hi, seg_st = _stock_segments_kernel(ii, fa, k, min_chars, boiler_chars)
                for g in range(len(seg_lo)):
                    ok, x0, x1, y0, y1, s = _passage_kernel(ii[seg_lo[g] : seg_hi[g]], jj[seg_lo[g] : seg_hi[g]],
                                                           k, min_chars, min_sim)
                    if ok:
                        p_a0, p_a1, p_b0, p_b1 = _grow(p_a0, n_p + 1), _grow(p_a1, n_p + 1), \
                            _grow(p_b0, n_p + 1), _grow(p_b1, n_p + 1)
                        p_sim, p_st = _grow(p_sim, n_p + 1), _grow(p_st, n_p + 1)
                        p_a0[n_p], p_a1[n_p], p_b0[n_p], p_b1[n_p] = x0, x1, y0, y1
                        p_sim[n_p], p_st[n_p] = s, seg_st[g]
                        n_p += 1
            keep = _drop_overlaps_kernel(p_a0[:n_p], p_a1[:n_p], p_b0[:n_p], p_b1[:n_p]) if n_p > 1 else \
                np.arange(n_p)
        size = n_out + len(keep)
        o_pair, o_a0, o_a1, o_b0, o_b1 = _grow(o_pair, size), _grow(o_a0, size), _grow(o_a1, size), \
            _grow(o_b0, size), _grow(o_b1, size)
        o_sim, o_st = _grow(o_sim, size), _grow(o_st, size)
        for q in keep:
            o_pair[n_out], o_a0[n_out], o_a1[n_out], o_b0[n_out], o_b1[n_out] = t, p_a0[q], p_a1[q], p_b0[q], p_b1[q]
            o_sim[n_out], o_st[n_out] = p_sim[q], p_st[q]
            n_out += 1
    return (o_pair[:n_out], o_a0[:n_out], o_a1[:n_out], o_b0[:n_out], o_b1[:n_out], o_sim[:n_out],
            o_st[:n_out])


@_jit.njit
def _stock_segments_kernel(ii, stock, k, min_chars, boiler_chars):  # pragma: no cover - compiled
    """:func:`_stock_segments` as arrays ``(lo, hi, is_stock)``."""
    n = len(ii)
    lo = np.empty(n + 2, np.int64)
    hi = np.empty(n + 2, np.int64)
    st = np.empty(n + 2, np.bool_)
    if n == 0 or not (stock[ii[0]] or stock[ii[n - 1]]):
        lo[0], hi[0], st[0] = 0, n, False
        return lo[:1], hi[:1], st[:1]
    g = 0
    start = 0
    pos = 0
    while pos < n:
        if not stock[ii[pos]]:
            pos += 1
            continue
        run_end = pos
        while run_end + 1 < n and stock[ii[run_end + 1]]:
            run_end += 1
        at_end = pos == 0 or run_end == n - 1
        length = ii[run_end] + k - ii[pos]
        if at_end and length <= boiler_chars and (length >= min_chars or (pos == 0 and run_end == n - 1)):
            if pos > start:
                lo[g], hi[g], st[g] = start, pos, False
                g += 1
            lo[g], hi[g], st[g] = pos, run_end + 1, True
            g += 1
            start = run_end + 1
        pos = run_end + 1
    if start < n:
        lo[g], hi[g], st[g] = start, n, False
        g += 1
    return lo[:g], hi[:g], st[:g]


@_jit.njit
def _passage_kernel(ii, jj, k, min_chars, min_sim):  # pragma: no cover - compiled
    """:func:`_passage`: ``(ok, a0, a1, b0, b1, similarity)``."""
    a0, a1, b0, b1 = ii[0], ii[len(ii) - 1] + k, jj[0], jj[len(jj) - 1] + k
    len_a, len_b = a1 - a0, b1 - b0
    if min(len_a, len_b) < min_chars:
        return False, a0, a1, b0, b1, 0.0
    cov_a = k
    cov_b = k
    for q in range(1, len(ii)):
        cov_a += min(ii[q] - ii[q - 1], k)
        cov_b += min(jj[q] - jj[q - 1], k)
    sim = (cov_a + cov_b) / (len_a + len_b)
    if sim < min_sim:
        return False, a0, a1, b0, b1, sim
    return True, a0, a1, b0, b1, sim


@_jit.njit
def _drop_overlaps_kernel(a0, a1, b0, b1):  # pragma: no cover - compiled
    """:func:`_drop_overlaps`: indices of the passages kept, sorted by ``(a0, b0)``."""
    n = len(a0)
    # stable sorts from the last key to the first give Python's sort by (-(a1 - a0), a0, b0)
    idx = np.argsort(b0, kind="mergesort")
    idx = idx[np.argsort(a0[idx], kind="mergesort")]
    idx = idx[np.argsort(-(a1[idx] - a0[idx]), kind="mergesort")]
    kept = np.empty(n, np.int64)
    n_kept = 0
    for p in idx:
        clash = False
        for z in range(n_kept):
            q = kept[z]
            oa = min(a1[p], a1[q]) - max(a0[p], a0[q])
            ob = min(b1[p], b1[q]) - max(b0[p], b0[q])
            if oa > (a1[p] - a0[p]) / 2 or ob > (b1[p] - b0[p]) / 2:
                clash = True
                break
        if not clash:
            kept[n_kept] = p
            n_kept += 1
    kept = kept[:n_kept]
    kept = kept[np.argsort(b0[kept], kind="mergesort")]
    return kept[np.argsort(a0[kept], kind="mergesort")]
