"""The same pipeline as :func:`dupspeech.cluster`, run on a Dask cluster (``dask.distributed``).

How the work is spread (``P`` partitions of consecutive pages, ``P`` reducers):

1. **Read** on the driver (every file accounted for, as locally); the pages go to the workers in ``P``
   partitions balanced by size, each of at most ``partition_chars`` characters.
2. **Split, shingle, sign** on the workers, per partition: speeches, normalised texts, shingle sets, alignment
   seeds, MinHash signatures and passage-window signatures. The same task cuts the LSH band keys (speech
   signatures with the bands datasketch picks for ``candidate_threshold``, windows for ``window_threshold``)
   into ``P`` pieces by key and drops the signatures: they serve only the band shuffle.
3. **Band grouping as a shuffle**: reducer ``r`` gathers piece ``r`` of every partition and groups the rows by
   key, so two speeches collide exactly when they would in one local ``MinHashLSH``. Window buckets spanning
   more than 50 speeches are stock language, as locally.
4. **Verify** on the workers, one task per pair of partitions, on the exact shingle sets.
5. **Families** on the driver (a union-find over the verified pairs: small).
6. **Stock language** as a second shuffle: ``(seed, family)`` memberships, counted per seed by reducers; then
   one task per partition flags the stock positions of its speeches.
7. **Align** on the workers, one task per pair of partitions, with the stock flags.

**Memory.** What a partition derives (texts with their offset maps, shingle sets, seeds, stock flags, shuffle
pieces) is written to a *spill folder* by the task that makes it, and the task returns only a small handle (a
path). Later tasks read the one or two partitions they need and drop them, so a worker holds at most two
partitions and one reducer's rows at a time, however large the corpus. The spill folder is a fresh temporary
folder when this module starts its own local cluster, or ``spill_dir`` (which the driver and every worker
must reach under the same path: a shared file system); it is removed at the end, also on error. With a remote
scheduler and no ``spill_dir`` the same objects stay in the workers' memory instead (Dask results): each
worker then holds its share of the corpus, but the machines need no shared disk.

The result is identical to :func:`dupspeech.cluster` for the same input and options: the same functions
decide every pair, and everything is put back in the local order on the driver.

Example:
    >>> from dupspeech.engine_dask import cluster
    >>> result = cluster("corpus/", n_workers=2)                        # doctest: +SKIP
    >>> result = cluster("corpus/", scheduler="tcp://10.0.0.5:8786", spill_dir="/shared/tmp")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import io
import logging
import operator
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import _jit, api
from . import align as align_stage
from .cluster import families as families_of
from .cluster import Ragged, verify_many
from .config import ClusterConfig, Settings
from .errors import ConfigError, require
from .index import bucket_pairs, code_pairs, count_codes, enough, lsh_params, meetings
from .minhash import signatures
from .models import Cluster, Copy, Document, Dropped, Pair, Result, Speech
from .normalize import Normalized, OffsetMaps
from .segment import split_page
from .shingle import sorted_unique

__all__ = ["cluster"]

MAX_BUCKET_SPEECHES: int = inspect.signature(align_stage.pairs_from_windows).parameters["max_speeches"].default
"""Window buckets spanning more speeches than this are stock language: the local run's own limit."""


# --- what a partition holds, and where ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Texts:
    """The normalised texts of a partition end to end (see :class:`~dupspeech.normalize.Normalized`).

    The offset maps are stored as ``int32`` when the pages are short enough (they always are in practice):
    they are half of a partition's memory otherwise.
    """

    text: str
    starts: np.ndarray
    ends: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[Normalized]) -> _Texts:
        bounds = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in texts], out=bounds[1:])
        top = max((int(t.ends.max()) for t in texts if len(t)), default=0)
        small = np.int32 if top < 2**31 else np.int64
        if not len(texts):
            return cls("", np.zeros(0, dtype=small), np.zeros(0, dtype=small), bounds)
        return cls("".join(t.text for t in texts), np.concatenate([t.starts for t in texts], dtype=small),
                   np.concatenate([t.ends for t in texts], dtype=small), bounds)

    @classmethod
    def joined(cls, text: str, maps: OffsetMaps) -> _Texts:
        """The texts end to end as :func:`~dupspeech.api.joined_speech_texts` gives them."""
        starts, ends = maps.expand()
        small = np.int32 if not len(ends) or int(ends.max()) < 2**31 else np.int64
        return cls(text, starts.astype(small), ends.astype(small), maps.bounds)

    def __getitem__(self, k: int) -> Normalized:
        a, b = int(self.bounds[k]), int(self.bounds[k + 1])
        return Normalized(self.text[a:b], self.starts[a:b], self.ends[a:b])


@dataclass(frozen=True, slots=True)
class _Core:
    """What alignment needs of a partition besides its seeds and stock flags.

    Each speech and page is pickled on its own and unpickled only when an alignment task reports a copy of
    it (:class:`_Lazy`, :class:`_Unpickled`): most aligned pairs share nothing but stock language, and
    rebuilding every speech's dataclasses (one per paragraph and span) for every block of pairs took longer than
    aligning them. The dates are worked out once, when the partition is made (a speech's date depends only on
    its own page).
    """

    speeches: tuple[bytes, ...]
    docs: dict[str, bytes]
    texts: _Texts
    dates: tuple  # of align.Dated | None, one per speech

    @classmethod
    def of(cls, docs: list[Document], speeches: list[Speech], dropped: list[Dropped], texts: _Texts,
           given_dates: dict) -> _Core:
        dates = api._speech_dates(speeches, {d.name: d for d in docs}, dropped, given_dates)
        return cls(tuple(_dumps(s) for s in speeches), {d.name: _dumps(d) for d in docs}, texts,
                   tuple(dates))


class _Unpickled(Mapping):
    """A mapping of pickled objects, each unpickled when first looked up."""

    def __init__(self, blobs: Mapping) -> None:
        self._blobs, self._done = blobs, {}

    def __getitem__(self, key):
        if key not in self._done:
            self._done[key] = pickle.loads(self._blobs[key])
        return self._done[key]

    def __iter__(self):
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)


class _Lazy(Sequence):
    """``[make(x) for x in keys]``, each item made when first read."""

    def __init__(self, keys: list, make) -> None:
        self._keys, self._make, self._done = keys, make, {}

    def __getitem__(self, n):
        if isinstance(n, slice):
            return [self[k] for k in range(*n.indices(len(self)))]
        if n not in self._done:
            self._done[n] = self._make(self._keys[n])
        return self._done[n]

    def __len__(self) -> int:
        return len(self._keys)

    def made(self) -> dict[int, object]:
        """The items made so far, by position."""
        return dict(self._done)


class _Pickler(pickle.Pickler):
    """Pickles the frozen, slotted dataclasses of :mod:`dupspeech.models` as their class and field values.

    Unpickled, they are rebuilt by :func:`_rebuild` without the dataclass ``__setstate__``, which looks the
    fields up again for every object: about twice as fast for a speech (a dataclass per paragraph and span).
    """

    def reducer_override(self, obj):
        cls = type(obj)
        if cls.__module__ == Speech.__module__ and dataclasses.is_dataclass(cls) and hasattr(cls, "__slots__"):
            return _rebuild, (cls, tuple(getattr(obj, name) for name in cls.__slots__))
        return NotImplemented


def _rebuild(cls, values: tuple):
    obj = object.__new__(cls)
    for name, value in zip(cls.__slots__, values):
        object.__setattr__(obj, name, value)
    return obj


def _dumps(obj) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class _Spilled:
    """A handle to what a task wrote in the spill folder: the file, and the member for an ``.npz`` file.

    Tasks return and take these few bytes instead of the data, so nothing of a partition stays in a worker's
    memory between tasks.
    """

    path: str
    member: str | None = None


def _put(obj, folder: str | None, name: str):
    """``obj`` written to ``folder/name`` as a handle, or ``obj`` itself without a spill folder."""
    if folder is None:
        return obj
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=5)
    return _Spilled(path)


def _put_pieces(pieces: list[tuple[np.ndarray, ...]], folder: str | None, name: str) -> list:
    """The pieces of a shuffle's map side, one per reducer, in one ``.npz`` file (handles to its members)."""
    if folder is None:
        return pieces
    path = os.path.join(folder, name)
    np.savez(path, **{f"{r}_{c}": a for r, piece in enumerate(pieces) for c, a in enumerate(piece)})
    return [_Spilled(path, str(r)) for r in range(len(pieces))]


def _get(ref):
    """What a handle points to (read from the spill folder), or ``ref`` itself when it is not a handle."""
    if not isinstance(ref, _Spilled):
        return ref
    if ref.member is None:
        with open(ref.path, "rb") as f:
            return pickle.load(f)
    with np.load(ref.path) as z:
        columns = sorted((int(k.split("_")[1]), k) for k in z.files if k.split("_")[0] == ref.member)
        return tuple(z[k] for _, k in columns)


# --- worker tasks (module-level, so workers import them by name) --------------------------------------------


def _task(fn):
    """A worker task that takes the corpus size first and runs with the compiled kernels on when a local run
    of that corpus would (:func:`dupspeech._jit.for_corpus`; the output is the same either way)."""

    @functools.wraps(fn)
    def run(chars: int, *args):
        with _jit.for_corpus(chars):
            return fn(*args)

    return run



@_task
def _prepare(pages, cfg: Settings, given_dates: dict, n_reducers: int, folder: str | None, k: int) -> tuple:
    """Split the pages of partition ``k``, derive what later stages need, and cut its band keys.

    Returns ``(core, sets, seeds, summary, piece_0, ..., piece_R-1)``: handles (or, without a spill folder,
    the data itself) and the small summary the driver needs: speeches, dropped lines, shingle counts and the
    number of speeches long enough to take part in pairs.
    """
    docs = _get(pages)
    speeches: list[Speech] = []
    dropped: list[Dropped] = []
    for doc in docs:
        found, drops = split_page(doc, cfg.segment)
        speeches.extend(found)
        dropped.extend(drops)
    by_name = {d.name: d for d in docs}
    sets, seeds, windows = [], [], []
    if _jit.enabled():  # the whole partition in a few compiled calls, as a local run prepares a corpus
        text, maps, sets, seeds, (matrix, groups) = api._prepare_bulk(speeches, by_name, cfg)
        texts = _Texts.joined(text, maps)
        del text, maps
        bounds = np.searchsorted(groups, np.arange(len(speeches) + 1))
        windows = [matrix[bounds[x] : bounds[x + 1]] for x in range(len(speeches))]
    else:
        normalized = []
        for normal, shingle_set, seed_hashes, wins in api._prepare_chunk((speeches, by_name, cfg),
                                                                         range(len(speeches))):
            normalized.append(normal)
            sets.append(shingle_set)
            seeds.append(seed_hashes)
            windows.append(wins)
        texts = _Texts.of(normalized)
        del normalized
    eligible = np.array([n for n, s in enumerate(sets) if len(s) >= cfg.cluster.min_shingles], dtype=np.int64)
    sigs = signatures([sets[n] for n in eligible], cfg.minhash)
    summary = (speeches, dropped, [len(s) for s in sets], len(eligible))
    # written (with a spill folder) and dropped before the band keys are cut, which need only the signatures
    core = _put(_Core.of(docs, speeches, dropped, texts, given_dates), folder, f"core-{k}.pkl")
    del texts
    sets_ref = _put(Ragged.of(sets), folder, f"sets-{k}.pkl")
    del sets
    seeds_ref = _put(Ragged.of(seeds), folder, f"seeds-{k}.pkl")
    del seeds
    pieces = _put_pieces(_emit(sigs, eligible, windows, cfg, n_reducers), folder, f"bands-{k}.npz")
    return (core, sets_ref, seeds_ref, summary, *pieces)


def _keyed(sigs: np.ndarray, threshold: float, n_reducers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Band keys of some signatures, one per (signature, band): ``(key, row, reducer)``.

    A key is a row ``[band, value, ...]`` of ``uint32``: the band number is part of it, so keys of different
    bands never meet. The reducer of a key is its first MinHash value (uniform already) mixed with its band.
    """
    n, num_perm = sigs.shape
    b, r = lsh_params(threshold, num_perm)
    keys = np.empty((n, b, r + 1), dtype=np.uint32)
    keys[:, :, 0] = np.arange(b, dtype=np.uint32)
    keys[:, :, 1:] = sigs[:, : b * r].reshape(n, b, r)
    keys = keys.reshape(n * b, r + 1)
    mixed = keys[:, 1].astype(np.uint64)  # (value * 0x9E3779B1 + band) >> 7, modulo 2**64, in place
    mixed *= np.uint64(0x9E3779B1)
    mixed += keys[:, 0]
    mixed >>= np.uint64(7)
    mixed %= np.uint64(n_reducers)
    return keys, np.repeat(np.arange(n, dtype=np.int64), b), mixed.astype(np.int32)


WINDOW_BATCH = 1 << 16
"""Window signatures keyed at a time by :func:`_emit`, so its temporaries stay small whatever the partition."""


def _emit(sigs: np.ndarray, eligible: np.ndarray, windows: list[np.ndarray], cfg: Settings,
          n_reducers: int) -> list[tuple[np.ndarray, ...]]:
    """The map side of the band shuffle: a partition's band keys, cut in ``n_reducers`` pieces by key.

    Rows name speeches by their position in the partition; the reducers add the partition's offset. Window
    signatures (most of the keys) are keyed a batch of speeches at a time.
    """
    sig_keys, sig_rows, sig_dest = _keyed(sigs, cfg.cluster.candidate_threshold, n_reducers)
    sig_ids = eligible[sig_rows]
    del sig_rows
    win = [[] for _ in range(n_reducers)]  # per reducer, (keys, speech) of each batch
    empty = _keyed(np.zeros((0, cfg.align.num_perm), dtype=np.uint32), cfg.align.window_threshold, 1)[0]
    start = 0
    while start < len(windows):
        stop, count = start, 0
        while stop < len(windows) and (stop == start or count + len(windows[stop]) <= WINDOW_BATCH):
            count += len(windows[stop])
            stop += 1
        batch = [w for w in windows[start:stop] if len(w)]
        if batch:
            owner = np.repeat(np.arange(start, stop, dtype=np.int64), [len(w) for w in windows[start:stop]])
            keys, rows, dest = _keyed(np.concatenate(batch), cfg.align.window_threshold, n_reducers)
            ids = owner[rows]
            for r in range(n_reducers):
                w = dest == r
                win[r].append((keys[w], ids[w]))
        start = stop
    pieces = []
    for r in range(n_reducers):
        s = sig_dest == r
        batches, win[r] = win[r], []
        pieces.append((sig_keys[s], sig_ids[s],
                       np.concatenate([k for k, _ in batches]) if batches else empty,
                       np.concatenate([g for _, g in batches]) if batches else np.zeros(0, dtype=np.int64)))
    return pieces


def _bucket_pairs(keys: np.ndarray, gids: np.ndarray, max_groups: int | None,
                  neighbours: int | None = None, crowd: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(g, h)``, ``g < h``, of groups that share a key, as ``int64[n, 2]`` (see ``index.grouped_pairs``),
    and the number of keys (buckets) each pair shares; with ``crowd``, those numbers packed with the buckets of
    at most ``crowd`` groups among them (``index.meetings``)."""
    if len(keys) < 2:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    span = int(gids.max()) + 1
    # the uint32 columns packed two by two into uint64 (exact), rows sorted by band, then values; built column
    # by column so that no wider copy of the whole key table is made
    n, width = keys.shape
    packed = np.zeros((n, (width + 1) // 2), dtype=np.uint64)
    for c in range(width):
        column = keys[:, c].astype(np.uint64)
        if c % 2 == 0:
            column <<= np.uint64(32)
        packed[:, c // 2] |= column
    del column
    order = np.lexsort(packed.T[::-1])
    first = np.zeros(n, dtype=bool)  # first row of its key, in sorted order
    first[0] = True
    for c in range(packed.shape[1]):
        ordered = packed[order, c]
        first[1:] |= ordered[1:] != ordered[:-1]
    del packed, ordered
    bucket = np.empty(n, dtype=np.int64)
    bucket[order] = np.cumsum(first) - 1
    del order, first
    codes = bucket_pairs(bucket, gids, span, max_groups=max_groups, neighbours=neighbours, crowd=crowd)
    pairs, hits = count_codes(codes) if crowd is None else meetings(codes)
    return np.stack([pairs // span, pairs % span], axis=1), hits


@_task
def _reduce(offsets: list[int], neighbours: int | None, crowd: int,
            *refs) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The reduce side of the band shuffle: one reducer's rows from every partition, grouped by key.

    ``refs[p]`` is partition ``p``'s piece for this reducer; ``offsets[p]`` its first speech's number. A key's rows
    all reach one reducer, so a bucket's neighbours (``ClusterConfig.bucket_neighbours``) are a local run's, and
    so is whether a window bucket is crowded (more speeches than ``crowd``).
    """
    pieces = [_get(ref) for ref in refs]
    sig_keys = np.concatenate([p[0] for p in pieces])
    sig_gids = np.concatenate([p[1] + offsets[k] for k, p in enumerate(pieces)])
    win_keys = np.concatenate([p[2] for p in pieces])
    win_gids = np.concatenate([p[3] + offsets[k] for k, p in enumerate(pieces)])
    del pieces
    sig_pairs = _bucket_pairs(sig_keys, sig_gids, None, neighbours)[0]
    del sig_keys, sig_gids
    return sig_pairs, _bucket_pairs(win_keys, win_gids, MAX_BUCKET_SPEECHES, crowd=crowd)


def _window_pairs(reduced: list[tuple[np.ndarray, np.ndarray]], span: int, min_hits: int) -> set[tuple[int, int]]:
    """The window pairs of all reducers that meet ``index.enough`` times in all (each bucket lives in one reducer,
    so the packed counts add up), as a local run's ``align.window_codes`` keeps them."""
    if not reduced:
        return set()
    codes = np.concatenate([pairs[:, 0] * span + pairs[:, 1] for pairs, _ in reduced])
    distinct, packed = count_codes(codes, np.concatenate([h for _, h in reduced]))
    return set(code_pairs(distinct[enough(packed, min_hits)], span))


@_task
def _verify(sets_a, sets_b, off_a: int, off_b: int, same: bool, pairs: list[tuple[int, int]],
            config: ClusterConfig) -> list:
    """Verify the candidate pairs between two partitions (or within one) on their exact shingle sets."""
    a = _get(sets_a)
    b = a if same else _get(sets_b)
    used = sorted({x for pair in pairs for x in pair})
    slot = {x: n for n, x in enumerate(used)}
    local = [a[x - off_a] if off_a <= x < off_a + len(a) else b[x - off_b] for x in used]
    # the local numbering keeps the order of the pairs, so the verdicts come back in the same order
    found = verify_many([(slot[i], slot[j]) for i, j in pairs], local, config)
    return [replace(v, i=used[v.i], j=used[v.j]) for v in found]


@_task
def _unit_seeds(seeds_ref, units: list[int], n_reducers: int, folder: str | None, k: int) -> list:
    """The map side of the stock-language shuffle: distinct ``(seed, unit)`` rows, cut by seed."""
    seeds = _get(seeds_ref)
    by_unit: dict[int, list[np.ndarray]] = {}
    for n, unit in enumerate(units):
        by_unit.setdefault(unit, []).append(seeds[n])
    rows = [np.zeros((0, 2), dtype=np.uint64)]
    for unit, found in sorted(by_unit.items()):
        uniq = sorted_unique(np.concatenate(found))
        rows.append(np.stack([uniq, np.full(len(uniq), unit, dtype=np.uint64)], axis=1))
    del seeds, by_unit
    table = np.concatenate(rows)
    del rows
    dest = (table[:, 0] % np.uint64(n_reducers)).astype(np.int64)
    return _put_pieces([(table[dest == r],) for r in range(n_reducers)], folder, f"stock-{k}.npz")


@_task
def _stock_reduce(min_units: int, *refs) -> np.ndarray:
    """Seeds found in at least ``min_units`` units, sorted."""
    table = np.concatenate([_get(ref)[0] for ref in refs])
    if len(table) == 0:
        return np.zeros(0, dtype=np.uint64)
    table = table[np.lexsort((table[:, 1], table[:, 0]))]
    table = table[np.r_[True, np.any(table[1:] != table[:-1], axis=1)]]  # distinct (seed, unit)
    starts = np.flatnonzero(np.r_[True, table[1:, 0] != table[:-1, 0]])
    counts = np.diff(np.r_[starts, len(table)])
    return table[starts[counts >= min_units], 0]


@_task
def _stock_flags(seeds_ref, common, folder: str | None, k: int):
    """Per position of every speech of partition ``k``: whether its seed is stock language (in ``common``)."""
    seeds, common = _get(seeds_ref), _get(common)
    flags = align_stage.stock_positions_many(common, seeds)  # a Ragged: one compiled call, flags without a copy
    return _put(Ragged.of(flags, np.bool_), folder, f"flags-{k}.pkl")


@_task
def _align(side_a: tuple, side_b: tuple, off_a: int, off_b: int, same: bool, pairs: list[tuple[int, int]],
           ranks: dict, cfg: Settings) -> list[tuple[int, int, Copy]]:
    """Copies for the pairs between two partitions (or within one), with the same code as a local run.

    A side is a partition's ``(core, seeds, stock flags)``. The speeches, normalised texts and pages are handed
    over as lazy views: only those of the pairs that yield a copy are ever unpickled.
    """
    parts = [(*(_get(ref) for ref in side_a), off_a)]
    if not same:
        parts.append((*(_get(ref) for ref in side_b), off_b))
    used = sorted({x for pair in pairs for x in pair})
    slot = {x: n for n, x in enumerate(used)}

    def locate(x: int) -> tuple:
        """``(core, seeds, stock flags)`` of speech ``x``'s partition, and ``x``'s position in it."""
        core, part_seeds, part_stock, off = parts[0] if off_a <= x < off_a + len(parts[0][0].speeches) else parts[-1]
        return core, part_seeds, part_stock, x - off

    where = [locate(x) for x in used]
    seeds = [w[1][w[3]] for w in where]
    stock = [w[2][w[3]] for w in where]
    dates = [w[0].dates[w[3]] for w in where]
    speeches = _Lazy(where, lambda w: pickle.loads(w[0].speeches[w[3]]))
    texts = _Lazy(where, lambda w: w[0].texts[w[3]])
    docs = _Unpickled({name: blob for p in parts for name, blob in p[0].docs.items()})
    state = (speeches, texts, docs, dates, ranks, cfg.align)
    # one call for the whole block (each speech's seeds are indexed once); a copy names its two speeches, and
    # the copies of one pair come out together and in order, so they are put back in global pair order later
    copies = api._copies(state, *api._align_chunk((seeds, stock, cfg.align), [(slot[i], slot[j]) for i, j in pairs]))
    gid = {speech.id: used[n] for n, speech in speeches.made().items()}  # a copy names speeches it has read
    out = []
    for c in copies:
        x, y = gid[c.source.speech], gid[c.target.speech]
        out.append((min(x, y), max(x, y), c))
    return out


def local_cluster(n_workers: int, *, memory_limit: str | int | None = "auto"):
    """A ``LocalCluster`` of ``n_workers`` processes with one thread each, tuned for this pipeline.

    Dask starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` so that freed memory goes back to the system
    at once. Any explicit trim threshold turns off glibc's adaptive mmap threshold, so each large temporary
    numpy array of shingling is mapped and unmapped again: the per-partition stage ran about twice as slow
    (0.90 s against 0.49 s on 2 MB). The workers started here leave the variable unset.

    ``memory_limit`` is each worker's budget (Dask's ``"auto"``: the machine's memory shared by the workers);
    past 60 % of it Dask spills the results it holds to disk, and a worker past 95 % is restarted. The engine
    keeps almost nothing in Dask's memory when it has a spill folder (see :func:`cluster`), so this matters
    only for the tasks' own working memory.
    """
    import dask
    import distributed

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR,
                                        memory_limit=memory_limit)


def _warm() -> None:
    from . import api  # noqa: F401


# --- the driver ---------------------------------------------------------------------------------------------


def cluster(
    source: api.Source,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    spill_dir: str | os.PathLike[str] | None = None,
    partitions: int | None = None,
    partition_chars: int = 1_000_000,
    memory_limit: str | int | None = "auto",
    provenance: bool = True,
    dates: Mapping[str, str] | None = None,
    order: Iterable[str] | None = None,
    timings: dict | None = None,
    connect_timeout: float = 10.0,
    **options,
) -> Result:
    """Find recycled speeches like :func:`dupspeech.cluster`, with the work spread over a Dask cluster.

    Args:
        source: As for :func:`dupspeech.cluster`; it is read on this machine (the driver).
        scheduler: Address of a running Dask scheduler (``tcp://host:8786``); its workers need dupspeech
            installed. Without it a local cluster of ``n_workers`` processes is started and stopped.
        n_workers: Worker processes of the local cluster (ignored with ``scheduler``).
        spill_dir: Folder where the workers write what they derive from each partition, so that a worker holds
            at most two partitions at a time whatever the corpus size. A fresh subfolder is made in it for the
            run and removed at the end, also on error. With ``scheduler`` it must be a folder that this machine
            and every worker can reach under the same path (a shared file system); without ``scheduler`` the
            default is a temporary folder. With ``scheduler`` and no ``spill_dir`` the partitions stay in the
            workers' memory (each worker then holds its share of the corpus).
        partitions: Partitions of the pages (default: two per worker, and more for a large corpus so that none
            holds more than ``partition_chars`` characters). Each shuffle has as many reducers.
        partition_chars: Largest partition, in characters, when ``partitions`` is not given; a task holds one
            or two partitions, so with a spill folder this bounds a worker's memory.
        memory_limit: Memory budget of each worker of the local cluster (ignored with ``scheduler``, where the
            workers' own ``--memory-limit`` applies).
        provenance, dates, order, timings: As for :func:`dupspeech.cluster` (``timings`` has the stages start,
            read, prepare, shuffle, verify, families, stock and align).
        connect_timeout: Seconds to wait for ``scheduler`` to answer.
        **options: The tuning options of :func:`dupspeech.settings`.

    Returns:
        The same :class:`Result` as :func:`dupspeech.cluster` gives for the same input and options.

    Raises:
        CorpusError: the corpus cannot be read at all.
        ConfigError: an option is out of range, the scheduler does not answer, or ``spill_dir`` cannot be
            written or is not visible on every worker.
        OptionalDependencyError: ``dask[distributed]`` is not installed.
    """
    distributed = require("distributed", extra="dask", purpose="the Dask engine")
    if not isinstance(n_workers, int) or n_workers < 1:
        raise ConfigError(f"n_workers must be a whole number >= 1, got {n_workers!r}")
    cfg = api.settings(**options)
    given_dates, ranks = align_stage.caller_dates(dates, order)
    with api._stage(timings, "read"):
        files, docs = [], []
        from .ingest import iter_corpus

        for record, doc in iter_corpus(source):
            files.append(record)
            if doc is not None:
                docs.append(doc)
    if not docs:
        raise api.unreadable(source, files)  # the same CorpusError as a local run
    folder = None
    try:
        if spill_dir is not None:
            folder = _spill_folder(spill_dir)
        elif scheduler is None:
            folder = tempfile.mkdtemp(prefix="dupspeech-spill-")
        with api._stage(timings, "start"):
            if scheduler:
                try:
                    client = distributed.Client(scheduler, timeout=connect_timeout)
                except (OSError, TimeoutError) as exc:
                    raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); give its address"
                                      " as tcp://host:8786 and check that it is running") from None
                cluster_obj = None
            else:
                cluster_obj = local_cluster(n_workers, memory_limit=memory_limit)
                client = distributed.Client(cluster_obj)
            try:
                client.run(_warm)  # import dupspeech (numpy, datasketch, ...) on every worker once, up front
            except BaseException:
                _close(client, cluster_obj)
                raise
        try:
            if spill_dir is not None:
                _check_visible(client, folder, spill_dir)
            workers = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
            if partitions is None:
                total = sum(len(d.text) for d in docs)
                partitions = max(2 * workers, -(-total // max(1, partition_chars)))
            return _run(client, files, docs, cfg, partitions, folder, provenance=provenance,
                        given_dates=given_dates, ranks=ranks, timings=timings)
        finally:
            _close(client, cluster_obj)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _close(client, cluster_obj) -> None:
    """Close the client, and the local cluster if this run started it (its workers stop: no task writes in the
    spill folder any more when it is removed)."""
    client.close()
    if cluster_obj is not None:
        cluster_obj.close()


def _spill_folder(spill_dir: str | os.PathLike[str]) -> str:
    """A fresh folder for one run inside ``spill_dir`` (created if missing)."""
    try:
        os.makedirs(spill_dir, exist_ok=True)
        return tempfile.mkdtemp(prefix="dupspeech-", dir=spill_dir)
    except OSError as exc:
        raise ConfigError(f"cannot write in the spill folder {os.fspath(spill_dir)} ({exc.strerror or exc}); give"
                          " spill_dir (--spill-dir) a folder you can write to") from None


def _check_visible(client, folder: str, spill_dir: str | os.PathLike[str]) -> None:
    """Refuse a spill folder that some worker cannot see: its tasks would fail on the first file."""
    blind = sorted(addr for addr, seen in client.run(os.path.isdir, folder).items() if not seen)
    if blind:
        raise ConfigError(f"the spill folder {os.fspath(spill_dir)} is not visible on the worker(s) "
                          f"{', '.join(blind)}; give spill_dir (--spill-dir) a folder on a file system that this"
                          " machine and every worker share under the same path, or leave it out to keep the"
                          " partitions in the workers' memory")


def _chunks(docs: list[Document], parts: int) -> list[list[Document]]:
    """Consecutive pages cut into about ``parts`` chunks of similar size (never an empty chunk)."""
    sizes = np.cumsum([len(d.text) + 1 for d in docs])
    total = int(sizes[-1])
    cuts = sorted({int(np.searchsorted(sizes, total * k / parts)) + 1 for k in range(1, parts)} | {len(docs)})
    out, start = [], 0
    for cut in cuts:
        cut = min(cut, len(docs))
        if cut > start:
            out.append(docs[start:cut])
            start = cut
    return out


def _submit(client, fn, *args):
    """``client.submit`` without hashing the arguments for a key (``pure=False``): no two tasks of a run are the
    same, and tokenizing the blocks' lists of pairs costs the driver about 2 ms per 1,000 pairs (3.6 s for the
    1.7 million pairs verified and aligned on a 64 MB corpus)."""
    return client.submit(fn, *args, pure=False)


def _fields(client, futures: list, n: int | None, folder: str | None) -> list:
    """What tasks returned, as handles on the driver with a spill folder (they are small), else as futures, so
    that the data stays on the workers: the ``n`` fields of each task's tuple, or (``n=None``) its one value."""
    if folder is not None:
        found = _collect(client, futures)
        return found if n is None else [list(t) for t in found]
    return futures if n is None else [[_submit(client, operator.getitem, f, i) for i in range(n)] for f in futures]


def _collect(client, futures: list) -> list:
    """The results of ``futures`` in their order, each released on its worker as soon as it has arrived."""
    from distributed import as_completed

    where = {f.key: k for k, f in enumerate(futures)}
    out: list = [None] * len(futures)
    pending = as_completed(futures)
    futures.clear()
    for future in pending:
        out[where[future.key]] = future.result()
        del future
    return out


def _remove(folder: str | None, prefix: str) -> None:
    """Delete a stage's files from the spill folder once no task needs them (disk, not memory)."""
    if folder is not None:
        for name in os.listdir(folder):
            if name.startswith(prefix):
                os.remove(os.path.join(folder, name))


def _run(client, files, docs, cfg: Settings, n_parts: int, folder: str | None, *, provenance: bool,
         given_dates: dict, ranks: dict, timings: dict | None) -> Result:
    def stage(name: str):
        return api._stage(timings, name)

    chunks = _chunks(docs, n_parts)
    n_parts = len(chunks)
    chars = sum(len(d.text) for d in docs)  # every task gets it: the compiled kernels run as in a local run
    # as many reducers as partitions: each gets about one partition's worth of rows, whatever the corpus size
    n_reducers = n_parts
    with stage("prepare"):
        if folder is None:
            pages = client.scatter(chunks)
        else:  # the driver writes the pages: no worker holds more than the partition it works on
            pages = [_put(c, folder, f"pages-{k}.pkl") for k, c in enumerate(chunks)]
        del chunks
        prepared = _fields(client, [_submit(client, _prepare, chars, pages[k], cfg, given_dates, n_reducers, folder, k)
                                    for k in range(n_parts)], 4 + n_reducers, folder)
        summaries = [f[3] for f in prepared]
        if folder is None:
            summaries = client.gather(summaries)
        for f in prepared:
            f[3] = None
        del pages
        _remove(folder, "pages-")
    core = [f[0] for f in prepared]
    sets = [f[1] for f in prepared]
    seeds = [f[2] for f in prepared]
    speeches = [s for summ in summaries for s in summ[0]]
    dropped = [d for summ in summaries for d in summ[1]]
    sizes = [n for summ in summaries for n in summ[2]]
    eligible = sum(summ[3] for summ in summaries)
    offsets = np.r_[0, np.cumsum([len(summ[0]) for summ in summaries])].astype(int).tolist()
    owner = np.repeat(np.arange(n_parts), [len(summ[0]) for summ in summaries])
    del summaries

    with stage("shuffle"):
        # without window_crowd no bucket that gives pairs is crowded
        crowd = cfg.align.window_crowd if cfg.align.window_crowd is not None else MAX_BUCKET_SPEECHES
        reduced = _collect(client, [_submit(client, _reduce, chars, offsets, cfg.cluster.bucket_neighbours, crowd,
                                            *(f[4 + r] for f in prepared))
                                    for r in range(n_reducers)])
        del prepared  # the band pieces are freed (or their files deleted) once reduced
        _remove(folder, "bands-")
    lsh = {(int(i), int(j)) for sig_pairs, _ in reduced for i, j in sig_pairs}
    window_pairs = _window_pairs([w for _, w in reduced], len(speeches), cfg.align.window_min_hits)
    del reduced

    def blocks(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[tuple[int, int]]]:
        out: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for i, j in sorted(pairs):
            out.setdefault((int(owner[i]), int(owner[j])), []).append((i, j))
        return dict(sorted(out.items()))

    verified = []
    if eligible >= 2:  # as find_pairs: fewer than two speeches long enough, no pairs at all
        with stage("verify"):
            futures = [_submit(client, _verify, chars, sets[p], sets[q], offsets[p], offsets[q], p == q, pairs,
                               cfg.cluster) for (p, q), pairs in blocks(lsh | window_pairs).items()]
            verified = sorted((v for block in _collect(client, futures) for v in block), key=lambda v: (v.i, v.j))
    del sets
    _remove(folder, "sets-")
    with stage("families"):
        fams = families_of(len(speeches), verified, sizes)
    ids = [s.id for s in speeches]
    copies: tuple[Copy, ...] = ()
    if provenance:
        unit = list(range(len(speeches)))
        for members, _ in fams:
            for m in members:
                unit[m] = members[0]
        with stage("stock"):
            mapped = _fields(client, [_submit(client, _unit_seeds, chars, seeds[k],
                                              unit[offsets[k] : offsets[k + 1]], n_reducers, folder, k)
                                      for k in range(n_parts)], n_reducers, folder)
            common = _collect(client, [_submit(client, _stock_reduce, chars, cfg.align.boilerplate_units,
                                               *(m[r] for m in mapped)) for r in range(n_reducers)])
            del mapped
            _remove(folder, "stock-")
            common_all = np.unique(np.concatenate(common)) if common else np.zeros(0, dtype=np.uint64)
            del common
            if folder is None:
                [common_ref] = client.scatter([common_all], broadcast=True)
            else:
                common_ref = _put(common_all, folder, "common.pkl")
            del common_all
            flags = _fields(client, [_submit(client, _stock_flags, chars, seeds[k], common_ref, folder, k)
                                     for k in range(n_parts)], None, folder)
            del common_ref
            _remove(folder, "common")
        with stage("align"):
            futures = [_submit(client, _align, chars, (core[p], seeds[p], flags[p]), (core[q], seeds[q], flags[q]),
                               offsets[p], offsets[q], p == q, pairs, ranks, cfg)
                       for (p, q), pairs in blocks(window_pairs | {(v.i, v.j) for v in verified}).items()]
            done = sorted((item for block in _collect(client, futures) for item in block), key=lambda t: (t[0], t[1]))
            copies = tuple(c for _, _, c in done)
    return Result(
        files=tuple(files),
        speeches=tuple(speeches),
        pairs=tuple(Pair(ids[v.i], ids[v.j], v.jaccard, v.containment_i_in_j, v.containment_j_in_i, v.relation)
                    for v in verified),
        clusters=tuple(Cluster(k, tuple(ids[m] for m in members), tuple(ids[m] for m in contained))
                       for k, (members, contained) in enumerate(fams)),
        copies=copies,
        dropped=tuple(dropped),
        settings=cfg.as_items(),
        documents=tuple(docs),
    )
