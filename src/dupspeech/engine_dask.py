"""The same pipeline as :func:`dupspeech.cluster`, run on a Dask cluster (``dask.distributed``).

How the work is spread (``P`` partitions of consecutive pages, ``R`` reducers):

1. **Read** on the driver (every file accounted for, as locally), then the pages are scattered to the workers
   in ``P`` partitions balanced by size.
2. **Split, shingle, sign** on the workers, per partition: speeches, normalised texts, shingle sets, alignment
   seeds, MinHash signatures and passage-window signatures stay on the worker that made them.
3. **Band grouping as a shuffle**: every partition cuts its LSH band keys (speech signatures with the bands
   datasketch picks for ``candidate_threshold``, windows for ``window_threshold``) into ``R`` pieces by key;
   reducer ``r`` gathers piece ``r`` of every partition and groups the rows by key, so two speeches collide
   exactly when they would in one local ``MinHashLSH``. Window buckets spanning more than 50 speeches are stock
   language, as locally.
4. **Verify** on the workers, one task per pair of partitions, on the exact shingle sets.
5. **Families** on the driver (a union-find over the verified pairs: small).
6. **Stock language** as a second shuffle: ``(seed, family)`` memberships, counted per seed by reducers.
7. **Align** on the workers, one task per pair of partitions, with the stock flags.

The result is identical to :func:`dupspeech.cluster` for the same input and options: the same functions
decide every pair, and everything is put back in the local order on the driver.

Example:
    >>> from dupspeech.engine_dask import cluster
    >>> result = cluster("corpus/", n_workers=2)                        # doctest: +SKIP
    >>> result = cluster("corpus/", scheduler="tcp://10.0.0.5:8786")    # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import logging
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from . import align as align_stage
from . import api
from .cluster import families as families_of
from .config import ClusterConfig, Settings
from .errors import ConfigError, require
from .index import bucket_pairs, lsh_params
from .minhash import signatures
from .models import Cluster, Copy, Document, Dropped, Pair, Result, Speech
from .normalize import Normalized
from .segment import split_page

__all__ = ["cluster"]

MAX_BUCKET_SPEECHES: int = inspect.signature(align_stage.pairs_from_windows).parameters["max_speeches"].default
"""Window buckets spanning more speeches than this are stock language: the local run's own limit."""


@dataclass
class _Part:
    """What one partition's worker holds: its pages, speeches and everything derived from them."""

    docs: list[Document]
    speeches: list[Speech] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    texts: list[Normalized] = field(default_factory=list)
    sets: list[np.ndarray] = field(default_factory=list)
    seeds: list[np.ndarray] = field(default_factory=list)
    eligible: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sigs: np.ndarray | None = None
    windows: list[np.ndarray] = field(default_factory=list)


# --- worker tasks (module-level, so workers import them by name) --------------------------------------------


def _prepare(docs: list[Document], cfg: Settings) -> _Part:
    """Split the pages of one partition and compute shingles, seeds, signatures and window signatures."""
    part = _Part(docs)
    for doc in docs:
        found, drops = split_page(doc, cfg.segment)
        part.speeches.extend(found)
        part.dropped.extend(drops)
    by_name = {d.name: d for d in docs}
    for text, shingle_set, seeds, windows in api._prepare_chunk((part.speeches, by_name, cfg),
                                                                range(len(part.speeches))):
        part.texts.append(text)
        part.sets.append(shingle_set)
        part.seeds.append(seeds)
        part.windows.append(windows)
    part.eligible = np.array([k for k, s in enumerate(part.sets) if len(s) >= cfg.cluster.min_shingles],
                             dtype=np.int64)
    part.sigs = signatures([part.sets[k] for k in part.eligible], cfg.minhash)
    return part


def _without_windows(part: _Part) -> _Part:
    """The partition without its window signatures, which only the band shuffle needs."""
    return replace(part, windows=[])


def _summary(part: _Part) -> tuple[list[Speech], list[Dropped], list[int], int]:
    """What the driver needs of a partition: speeches, dropped lines, shingle counts, eligible speeches."""
    return part.speeches, part.dropped, [len(s) for s in part.sets], len(part.eligible)


def _keyed(sigs: np.ndarray, threshold: float, n_reducers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Band keys of some signatures, one per (signature, band): ``(key, row, reducer)``.

    A key is a row ``[band, value, ...]`` of ``uint32``: the band number is part of it, so keys of different
    bands never meet. The reducer of a key is its first MinHash value (uniform already) mixed with its band.
    """
    n, num_perm = sigs.shape
    b, r = lsh_params(threshold, num_perm)
    block = np.empty((n, b, r + 1), dtype=np.uint32)
    block[:, :, 0] = np.arange(b, dtype=np.uint32)
    block[:, :, 1:] = sigs[:, : b * r].reshape(n, b, r)
    block = block.reshape(n * b, r + 1)
    keys = block
    mixed = (block[:, 1].astype(np.uint64) * np.uint64(0x9E3779B1) + block[:, 0].astype(np.uint64)) >> np.uint64(7)
    return keys, np.repeat(np.arange(n, dtype=np.int64), b), (mixed % np.uint64(n_reducers)).astype(np.int64)


def _emit(part: _Part, offset: int, cfg: Settings, n_reducers: int) -> list[tuple]:
    """The map side of the band shuffle: this partition's band keys, cut in ``n_reducers`` pieces by key."""
    sigs = part.sigs if part.sigs is not None else np.zeros((0, cfg.minhash.num_perm), dtype=np.uint32)
    sig_keys, sig_rows, sig_dest = _keyed(sigs, cfg.cluster.candidate_threshold, n_reducers)
    sig_gids = offset + part.eligible[sig_rows]
    wins = [w for w in part.windows if len(w)]
    all_wins = np.concatenate(wins) if wins else np.zeros((0, cfg.align.num_perm), dtype=np.uint32)
    owner = np.repeat(np.arange(len(part.windows), dtype=np.int64), [len(w) for w in part.windows])
    win_keys, win_rows, win_dest = _keyed(all_wins, cfg.align.window_threshold, n_reducers)
    win_gids = offset + owner[win_rows]
    pieces = []
    for r in range(n_reducers):
        s, w = sig_dest == r, win_dest == r
        pieces.append((sig_keys[s], sig_gids[s], win_keys[w], win_gids[w]))
    return pieces


def _bucket_pairs(keys: np.ndarray, gids: np.ndarray, max_groups: int | None) -> np.ndarray:
    """Pairs ``(g, h)``, ``g < h``, of groups that share a key, as ``int64[n, 2]`` (see ``index.grouped_pairs``)."""
    if len(keys) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    span = int(gids.max()) + 1
    # the uint32 columns packed two by two into uint64 (exact), rows sorted by band, then values
    cols = keys.astype(np.uint64)
    if cols.shape[1] % 2:
        cols = np.concatenate([cols, np.zeros((len(cols), 1), dtype=np.uint64)], axis=1)
    packed = (cols[:, 0::2] << np.uint64(32)) | cols[:, 1::2]
    order = np.lexsort(packed.T[::-1])
    ordered = packed[order]
    bucket = np.empty(len(keys), dtype=np.int64)
    bucket[order] = np.cumsum(np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]) - 1
    pairs = _distinct(bucket_pairs(bucket, gids, span, max_groups=max_groups))
    return np.stack([pairs // span, pairs % span], axis=1)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (a plain sort: faster here than ``np.unique``'s hashing)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _reduce(*pieces: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The reduce side of the band shuffle: group one reducer's rows from every partition by key."""
    sig_keys = np.concatenate([p[0] for p in pieces])
    sig_gids = np.concatenate([p[1] for p in pieces])
    win_keys = np.concatenate([p[2] for p in pieces])
    win_gids = np.concatenate([p[3] for p in pieces])
    return _bucket_pairs(sig_keys, sig_gids, None), _bucket_pairs(win_keys, win_gids, MAX_BUCKET_SPEECHES)


def _verify(part_a: _Part, part_b: _Part, off_a: int, off_b: int, pairs: list[tuple[int, int]],
            config: ClusterConfig) -> list:
    from .cluster import verify_pair

    out = []
    for i, j in pairs:
        v = verify_pair(i, j, part_a.sets[i - off_a], part_b.sets[j - off_b], config)
        if v is not None:
            out.append(v)
    return out


def _unit_seeds(part: _Part, units: list[int], n_reducers: int) -> list[np.ndarray]:
    """The map side of the stock-language shuffle: distinct ``(seed, unit)`` rows, cut by seed."""
    by_unit: dict[int, list[np.ndarray]] = {}
    for seeds, unit in zip(part.seeds, units):
        by_unit.setdefault(unit, []).append(seeds)
    rows = [np.zeros((0, 2), dtype=np.uint64)]
    for unit, seeds in sorted(by_unit.items()):
        uniq = np.unique(np.concatenate(seeds))
        rows.append(np.stack([uniq, np.full(len(uniq), unit, dtype=np.uint64)], axis=1))
    table = np.concatenate(rows)
    dest = (table[:, 0] % np.uint64(n_reducers)).astype(np.int64)
    return [table[dest == r] for r in range(n_reducers)]


def _stock_reduce(min_units: int, *pieces: np.ndarray) -> np.ndarray:
    """Seeds found in at least ``min_units`` units, sorted."""
    table = np.concatenate(pieces)
    if len(table) == 0:
        return np.zeros(0, dtype=np.uint64)
    table = table[np.lexsort((table[:, 1], table[:, 0]))]
    table = table[np.r_[True, np.any(table[1:] != table[:-1], axis=1)]]  # distinct (seed, unit)
    starts = np.flatnonzero(np.r_[True, table[1:, 0] != table[:-1, 0]])
    counts = np.diff(np.r_[starts, len(table)])
    return table[starts[counts >= min_units], 0]


def _align(part_a: _Part, part_b: _Part, off_a: int, off_b: int, same: bool, pairs: list[tuple[int, int]],
           common: np.ndarray, given_dates: dict, ranks: dict, cfg: Settings) -> list[tuple[int, int, Copy]]:
    """Copies for the pairs between two partitions, with the same code as a local run."""
    parts = [(part_a, off_a)] if same else [(part_a, off_a), (part_b, off_b)]
    speeches = [s for p, _ in parts for s in p.speeches]
    texts = [t for p, _ in parts for t in p.texts]
    seeds = [s for p, _ in parts for s in p.seeds]
    docs = {d.name: d for p, _ in parts for d in p.docs}
    dropped = [d for p, _ in parts for d in p.dropped]
    stock = [align_stage.stock_positions(common, s) for s in seeds]
    dates = api._speech_dates(speeches, docs, dropped, given_dates)
    state = (speeches, texts, seeds, stock, docs, dates, ranks, cfg.align)
    n_a = len(part_a.speeches)

    def local(x: int) -> int:
        return x - off_a if off_a <= x < off_a + n_a else n_a + x - off_b

    # one call for the whole block (each speech's seeds are indexed once); a copy names its two speeches, and
    # the copies of one pair come out together and in order, so they are put back in global pair order later
    gid = {s.id: (off_a + k if k < n_a else off_b + k - n_a) for k, s in enumerate(speeches)}
    out = []
    for c in api._align_chunk(state, [(local(i), local(j)) for i, j in pairs]):
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
    past 60 % of it Dask spills partitions to disk, and a worker past 95 % is restarted. Spilling does not
    bound the memory the tasks themselves use: with 320 MiB per worker a 8 MB corpus got a worker restarted
    and the run failed (see docs/scale.md).
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
        partitions: Partitions of the pages (default: two per worker, and more for a large corpus so that none
            holds more than ``partition_chars`` characters).
        partition_chars: Largest partition, in characters, when ``partitions`` is not given; a task holds one
            or two partitions, so this bounds a task's memory.
        memory_limit: Memory budget of each worker of the local cluster (ignored with ``scheduler``, where the
            workers' own ``--memory-limit`` applies); Dask spills to disk past 60 % of it.
        provenance, dates, order, timings: As for :func:`dupspeech.cluster` (``timings`` has the stages start,
            read, prepare, shuffle, verify, families, stock and align).
        connect_timeout: Seconds to wait for ``scheduler`` to answer.
        **options: The tuning options of :func:`dupspeech.settings`.

    Returns:
        The same :class:`Result` as :func:`dupspeech.cluster` gives for the same input and options.

    Raises:
        CorpusError: the corpus cannot be read at all.
        ConfigError: an option is out of range.
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
    with api._stage(timings, "start"):
        if scheduler:
            try:
                client = distributed.Client(scheduler, timeout=connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); give its address as"
                                  " tcp://host:8786 and check that it is running") from None
            cluster_obj = None
        else:
            cluster_obj = local_cluster(n_workers, memory_limit=memory_limit)
            client = distributed.Client(cluster_obj)
        client.run(_warm)  # import dupspeech (numpy, datasketch, ...) on every worker once, up front
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
        if partitions is None:
            total = sum(len(d.text) for d in docs)
            partitions = max(2 * workers, -(-total // max(1, partition_chars)))
        return _run(client, files, docs, cfg, partitions, workers, provenance=provenance,
                    given_dates=given_dates, ranks=ranks, timings=timings)
    finally:
        client.close()
        if cluster_obj is not None:
            cluster_obj.close()


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


def _run(client, files, docs, cfg: Settings, n_parts: int, workers: int, *, provenance: bool, given_dates: dict,
         ranks: dict, timings: dict | None) -> Result:
    def stage(name: str):
        return api._stage(timings, name)

    chunks = _chunks(docs, n_parts)
    n_reducers = max(1, min(2 * workers, len(chunks)))
    with stage("prepare"):
        scattered = client.scatter(chunks)
        parts = [client.submit(_prepare, c, cfg) for c in scattered]
        summaries = client.gather([client.submit(_summary, p) for p in parts])
    speeches = [s for summ in summaries for s in summ[0]]
    dropped = [d for summ in summaries for d in summ[1]]
    sizes = [n for summ in summaries for n in summ[2]]
    eligible = sum(summ[3] for summ in summaries)
    offsets = np.r_[0, np.cumsum([len(summ[0]) for summ in summaries])].astype(int).tolist()
    owner = np.repeat(np.arange(len(parts)), [len(summ[0]) for summ in summaries])

    with stage("shuffle"):
        emitted = [client.submit(_emit, p, offsets[k], cfg, n_reducers) for k, p in enumerate(parts)]
        parts = [client.submit(_without_windows, p) for p in parts]  # the windows are freed once emitted
        pieces = [[client.submit(operator.getitem, e, r) for e in emitted] for r in range(n_reducers)]
        reduced = client.gather([client.submit(_reduce, *pieces[r]) for r in range(n_reducers)])
        del emitted, pieces
    lsh = {(int(i), int(j)) for sig_pairs, _ in reduced for i, j in sig_pairs}
    window_pairs = {(int(i), int(j)) for _, win_pairs in reduced for i, j in win_pairs}

    def blocks(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[tuple[int, int]]]:
        out: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for i, j in sorted(pairs):
            out.setdefault((int(owner[i]), int(owner[j])), []).append((i, j))
        return out

    verified = []
    if eligible >= 2:  # as find_pairs: fewer than two speeches long enough, no pairs at all
        with stage("verify"):
            futures = [client.submit(_verify, parts[p], parts[q], offsets[p], offsets[q], pairs, cfg.cluster)
                       for (p, q), pairs in blocks(lsh | window_pairs).items()]
            verified = sorted((v for block in client.gather(futures) for v in block), key=lambda v: (v.i, v.j))
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
            mapped = [client.submit(_unit_seeds, p, unit[offsets[k] : offsets[k + 1]], n_reducers)
                      for k, p in enumerate(parts)]
            stock_pieces = [[client.submit(operator.getitem, m, r) for m in mapped] for r in range(n_reducers)]
            common = client.gather([client.submit(_stock_reduce, cfg.align.boilerplate_units, *stock_pieces[r])
                                    for r in range(n_reducers)])
            common_all = np.unique(np.concatenate(common)) if common else np.zeros(0, dtype=np.uint64)
            [common_future] = client.scatter([common_all], broadcast=True)
        with stage("align"):
            futures = [client.submit(_align, parts[p], parts[q], offsets[p], offsets[q], p == q, pairs,
                                     common_future, given_dates, ranks, cfg)
                       for (p, q), pairs in blocks(window_pairs | {(v.i, v.j) for v in verified}).items()]
            done = sorted((item for block in client.gather(futures) for item in block), key=lambda t: (t[0], t[1]))
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
