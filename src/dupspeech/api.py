"""The few functions users call; each runs the stages in order.

    >>> import dupspeech
    >>> result = dupspeech.cluster({"a.txt": "...", "b.txt": "..."}, threshold=0.8)
"""

from __future__ import annotations

import gc
import os
import time
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Union

import numpy as np

from . import _jit
from . import align as align_stage
from . import parallel
from . import cluster as cluster_stage
from .config import AlignConfig, ClusterConfig, MinHashConfig, SegmentConfig, Settings, ShingleConfig
from .errors import CorpusError
from .cluster import Ragged, pair_arrays
from .index import code_pairs, grouped_codes, pair_codes
from .ingest import iter_corpus
from .minhash import signatures, signatures_of_runs, window_rows, window_signatures_many
from .models import Cluster, Copy, Document, Dropped, FileRecord, Location, Pair, Result, Speech
from .normalize import Normalized, OffsetMaps, normalize_joined, normalize_many, normalize_spans
from .segment import split_page
from .shingle import (combine_into, compact_runs, resolve_tokenizer, shingles, sorted_unique, sorted_unique_into,
                      token_hashes, union_sorted)

_CLUSTER, _SHINGLE, _MINHASH, _ALIGN = ClusterConfig(), ShingleConfig(), MinHashConfig(), AlignConfig()

Source = Union[str, "os.PathLike[str]", Iterable[tuple[str, Union[str, bytes]]], dict]
Timings = dict
"""Seconds spent per stage, filled in when a dict is passed as ``timings=``."""


@contextmanager
def _stage(timings: dict | None, name: str):
    """Add the time spent inside the block to ``timings[name]``."""
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``, called as work advances (``total`` is 0 when unknown)."""


def settings(
    *,
    threshold: float = _CLUSTER.threshold,
    containment: float = _CLUSTER.containment,
    candidate_threshold: float | None = None,
    shingle: str = _SHINGLE.mode,
    ngram: int | None = None,
    num_perm: int = _MINHASH.num_perm,
    seed: int = _MINHASH.seed,
    fold_numbers: bool = _SHINGLE.fold_numbers,
    tokenizer: str = _SHINGLE.tokenizer,
    min_shingles: int = _CLUSTER.min_shingles,
    bucket_neighbours: int | None = _CLUSTER.bucket_neighbours,
    align: AlignConfig | None = None,
) -> Settings:
    """Build validated :class:`Settings` from the flat keyword options the API and CLI take.

    Args:
        threshold: Exact Jaccard at which two speeches are near-duplicates (0.6, see docs/defaults.md).
        containment: Share of the smaller speech inside the larger for a truncated copy (0.8).
        candidate_threshold: Jaccard the speech LSH index is tuned for (0.25, or ``threshold`` if lower).
        shingle: ``"char"`` (character n-grams) or ``"word"`` (word n-grams).
        ngram: Shingle length; 5 for char, 3 for word.
        num_perm: MinHash permutations (128).
        seed: MinHash seed (1); the same input and seed give byte-identical output.
        fold_numbers: Match every number as a placeholder (on).
        tokenizer: Word segmenter in word mode: ``"jieba"``, ``"rjieba"`` or ``"auto"`` (rjieba when installed:
            the same tokens, about 20 times faster).
        min_shingles: Speeches with fewer shingles take no part in pairs (30).
        bucket_neighbours: In a speech LSH bucket of more speeches, each is a candidate with this many next ones
            only (50); None: with all (see :class:`ClusterConfig`).
        align: Passage alignment options (:class:`AlignConfig`).
    """
    if ngram is None:
        ngram = 5 if shingle == "char" else 3
    if candidate_threshold is None:
        candidate_threshold = min(_CLUSTER.candidate_threshold, threshold)
    return Settings(
        segment=SegmentConfig(),
        # "auto" is resolved here, so the report names the segmenter that ran
        shingle=ShingleConfig(mode=shingle, ngram=ngram, fold_numbers=fold_numbers,  # type: ignore[arg-type]
                              tokenizer=resolve_tokenizer(tokenizer) if shingle == "word" else tokenizer),
        minhash=MinHashConfig(num_perm=num_perm, seed=seed),
        cluster=ClusterConfig(
            threshold=threshold,
            containment=containment,
            candidate_threshold=candidate_threshold,
            min_shingles=min_shingles,
            bucket_neighbours=bucket_neighbours,
        ),
        align=align or AlignConfig(),
    )


def speech_text(doc: Document, speech: Speech, *, fold_numbers: bool = True) -> Normalized:
    """The normalised text of a speech's headings and body (not its title), mapped to ``doc`` offsets."""
    return normalize_spans(doc.text, _body_spans(speech), fold_numbers=fold_numbers)


def speech_texts(speeches: Sequence[Speech], by_name: Mapping[str, Document], *,
                 fold_numbers: bool = True) -> list[Normalized]:
    """:func:`speech_text` of every speech (``by_name`` gives each speech's page), in batches of many speeches
    (:func:`~dupspeech.normalize.normalize_many`): about 3 times faster."""
    return normalize_many([(by_name[s.file].text, _body_spans(s)) for s in speeches], fold_numbers=fold_numbers)


def joined_speech_texts(speeches: Sequence[Speech], by_name: Mapping[str, Document], *,
                        fold_numbers: bool = True) -> tuple[str, OffsetMaps]:
    """:func:`speech_texts` end to end in one string, with their offset maps
    (:func:`~dupspeech.normalize.normalize_joined`): speech ``k``'s text is ``text[maps.bounds[k]:maps.bounds[k +
    1]]``."""
    return normalize_joined([(by_name[s.file].text, _body_spans(s)) for s in speeches], fold_numbers=fold_numbers)


def _body_spans(speech: Speech) -> list[tuple[int, int]]:
    return [(p.span.start, p.span.end) for p in speech.paragraphs if p.kind != "title"]


def read_and_split(
    source: Source,
    config: SegmentConfig | None = None,
    *,
    progress: Progress | None = None,
    timings: dict | None = None,
) -> tuple[list[FileRecord], list[Document], list[Speech], list[Dropped]]:
    """Read every file of ``source`` and split the pages into speeches.

    Raises:
        CorpusError: ``source`` does not exist, or no file in it could be read.
    """
    files: list[FileRecord] = []
    docs: list[Document] = []
    speeches: list[Speech] = []
    dropped: list[Dropped] = []
    pages = iter_corpus(source)
    while True:
        with _stage(timings, "read"):
            item = next(pages, None)
        if item is None:
            break
        record, doc = item
        files.append(record)
        if doc is not None:
            docs.append(doc)
            with _stage(timings, "segment"):
                found, drops = split_page(doc, config)
            speeches.extend(found)
            dropped.extend(drops)
        if progress:
            progress("read", len(files), 0)
    if not docs:
        raise unreadable(source, files)
    return files, docs, speeches, dropped


def unreadable(source: Source, files: list[FileRecord]) -> CorpusError:
    """The error for a corpus of which no file could be read, saying why for the first few."""
    where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the texts given"
    if not files:
        return CorpusError(f"no .txt or .md pages found in {where}; give a folder of scraped pages")
    reasons = "; ".join(f"{f.file}: {f.reason}" for f in files[:5])
    return CorpusError(f"none of the {len(files)} files in {where} could be read ({reasons})")


def cluster(
    source: Source,
    *,
    progress: Progress | None = None,
    provenance: bool = True,
    dates: Mapping[str, str] | None = None,
    order: Iterable[str] | None = None,
    timings: dict | None = None,
    jobs: int = 1,
    **options,
) -> Result:
    """Find recycled speeches in a corpus, and which passages were copied from which.

    Args:
        source: A folder (read recursively), a file, or an iterable of ``(name, text)`` pairs / a dict.
        progress: Optional callback ``progress(stage, done, total)``.
        provenance: Align passages between speeches (fills ``Result.copies``); ``False`` only clusters.
        dates: Dates of files or speeches (``{"a.txt": "2020-01-24", "b.txt#2": "2024-01"}``), used to say which
            copy is earlier; dates found in the texts are used otherwise.
        order: File names or speech ids from earliest to latest, when no dates decide.
        timings: A dict to fill with the seconds spent per stage (read, segment, shingle, windows, minhash,
            lsh, verify, families, align), to see where the time goes.
        jobs: Worker processes for the per-speech and per-pair stages (0 = one per core); the output is the
            same whatever the number.
        **options: Keyword-only tuning options of :func:`settings` (``threshold``, ``containment``,
            ``shingle``, ``ngram``, ``num_perm``, ``seed``, ...).

    Returns:
        A :class:`Result`: every file with its status, the speeches, verified pairs, families and copies.

    Raises:
        CorpusError: the corpus cannot be read at all.
        ConfigError: an option is out of range.

    Example:
        >>> body = "今天我们召开全县安全生产工作会议，主要任务是贯彻落实上级部署，研究安排下一阶段工作。"
        >>> r = cluster({"a.txt": "【篇1】甲的讲话\\n" + body, "b.txt": "【篇1】乙的讲话\\n" + body}, min_shingles=5)
        >>> [c.speeches for c in r.clusters]
        [('a.txt#1', 'b.txt#1')]
    """
    cfg = settings(**options)
    given_dates, ranks = align_stage.caller_dates(dates, order)
    with fewer_collections():
        files, docs, speeches, dropped = read_and_split(source, cfg.segment, progress=progress, timings=timings)
        with _jit.for_corpus(sum(len(d.text) for d in docs)):  # compiled kernels for a big corpus (see _jit)
            return _match(files, docs, speeches, dropped, cfg, provenance=provenance, given_dates=given_dates,
                          ranks=ranks, progress=progress, timings=timings, jobs=parallel.available_jobs(jobs))


def release_freed_memory() -> None:
    """Give the memory freed so far back to the system where the C library keeps it (glibc's ``malloc_trim``;
    nothing elsewhere). Arrays of a few MiB come from the heap, and glibc keeps what they free for later
    allocations, which the next stage's large arrays (mapped afresh) never reuse: so what one stage frees would
    still count in the peak of the next. Dask's workers do the same for their "unmanaged memory".

    Not where the environment asks glibc to keep freed memory (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``
    or their ``GLIBC_TUNABLES``, as docs/scale.md shows for one large run): that choice is the user's."""
    trim = _malloc_trim()
    if trim is not None and not _keeps_freed_memory(os.environ):
        trim(0)


def _keeps_freed_memory(env: Mapping[str, str]) -> bool:
    tunables = env.get("GLIBC_TUNABLES", "")
    return any(name in env for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")) or any(
        name in tunables for name in ("glibc.malloc.trim_threshold", "glibc.malloc.top_pad"))


@lru_cache(maxsize=1)
def _malloc_trim():
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


GC_THRESHOLD = (50_000, 20, 100)
"""Garbage-collector thresholds during a run (Python's defaults are 700, 10, 10)."""


@contextmanager
def fewer_collections():
    """Within the block, Python's cyclic garbage collector runs less often (:data:`GC_THRESHOLD`, or the
    caller's own thresholds where higher), and as before afterwards.

    A run creates hundreds of thousands of objects that live until its end (pages, speeches, paragraphs,
    copies) and form no cycles; with the default thresholds the collector keeps traversing them: 2.3 s of
    7.2 s of reading and splitting a 100 MB corpus, measured. Collection still happens, only less often.
    """
    before = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(before, GC_THRESHOLD)))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _match(
    files: list[FileRecord],
    docs: list[Document],
    speeches: list[Speech],
    dropped: list[Dropped],
    cfg: Settings,
    *,
    provenance: bool = True,
    given_dates: dict | None = None,
    ranks: dict[str, int] | None = None,
    progress: Progress | None = None,
    align_pairs: Iterable[tuple[int, int]] = (),
    timings: dict | None = None,
    jobs: int = 1,
    prepared: list[tuple[Normalized, np.ndarray, np.ndarray, np.ndarray]] | None = None,
) -> Result:
    """Shingle, index, verify, build families and align passages for speeches already split.

    ``prepared`` gives, per speech, what :func:`_prepare_chunk` would compute (an :class:`~dupspeech.Index`
    passes what it stored), so nothing is shingled again.
    """
    by_name = {d.name: d for d in docs}
    texts: Sequence[Normalized] | OffsetMaps = []
    sets: list[np.ndarray] = []
    seeds: list[np.ndarray] = []
    window_sigs: list[np.ndarray] = []
    bulk = prepared is None and _jit.enabled()
    with _stage(timings, "shingle"):
        if bulk:
            _, maps, sets, seeds, _ = _prepare_bulk(speeches, by_name, cfg, threads=jobs, windows=False)
            # of the texts, only their offset maps are kept (compact), for the passages' offsets at the end
            texts = maps if provenance else []
            del maps
            release_freed_memory()
        else:
            chunks = parallel.chunked(range(len(speeches)), 4 * jobs)
            parts = [prepared] if prepared is not None else parallel.fork_map(
                _prepare_chunk, chunks, state=(speeches, by_name, cfg), jobs=jobs)
            for part in parts:
                for text, shingle_set, seed_hashes, windows in part:
                    texts.append(text)
                    sets.append(shingle_set)
                    seeds.append(seed_hashes)
                    window_sigs.append(windows)
            del parts  # the lists above are now the only references, so what they drop is freed
    if progress:
        progress("shingle", len(speeches), len(speeches))
    # passage windows find pairs that share long passages (truncated copies, borrowed paragraphs), whatever
    # their Jaccard similarity; they are verified like the LSH candidates, and aligned for provenance
    with _stage(timings, "windows"):
        if bulk:  # computed from the seeds band by band, not stored
            window_codes = align_stage.window_codes_of_seeds(seeds, cfg.align, seed=cfg.minhash.seed,  # type: ignore[arg-type]
                                                             span=len(speeches), threads=jobs)
        else:
            matrix, groups = align_stage.stack_windows(window_sigs)  # empties window_sigs as it copies
            window_codes = align_stage.window_codes(matrix, groups, cfg.align, span=len(speeches), threads=jobs)
            del matrix, groups
    if progress:
        progress("windows", len(speeches), len(speeches))
    verified = find_pairs(sets, cfg, extra=window_codes, progress=progress, timings=timings, jobs=jobs)
    with _stage(timings, "families"):
        fams = cluster_stage.families(len(speeches), verified, [len(s) for s in sets])
    unit = list(range(len(speeches)))  # a family counts once when stock language is counted
    for members, _ in fams:
        for m in members:
            unit[m] = members[0]
    stock = None
    if provenance:
        with _stage(timings, "align"):
            # in char mode with k-grams the shingle sets are the distinct seeds (a speech too short for a seed
            # has none), so stock language is counted from them before they go
            stock = align_stage.stock_flags(seeds, unit, cfg.align, distinct=sets if sets_are_seeds(cfg) else None,
                                            threads=jobs)
    del sets  # alignment works on the seeds
    release_freed_memory()
    ids = [s.id for s in speeches]
    pairs = tuple(
        Pair(ids[v.i], ids[v.j], v.jaccard, v.containment_i_in_j, v.containment_j_in_i, v.relation)  # type: ignore[arg-type]
        for v in verified
    )
    clusters = tuple(
        Cluster(k, tuple(ids[m] for m in members), tuple(ids[m] for m in contained))
        for k, (members, contained) in enumerate(fams)
    )
    copies: tuple[Copy, ...] = ()
    if provenance:
        with _stage(timings, "align"):
            copies = find_copies(
                speeches, texts, seeds, by_name, dropped, unit,
                _pair_codes(window_codes, verified, align_pairs, len(speeches)), cfg,
                given_dates=given_dates, ranks=ranks, progress=progress, jobs=jobs, stock=stock,
            )
    return Result(
        files=tuple(files),
        speeches=tuple(speeches),
        pairs=pairs,
        clusters=clusters,
        copies=copies,
        dropped=tuple(dropped),
        settings=cfg.as_items(),
        documents=tuple(docs),
    )


def _pair_codes(window_codes: np.ndarray, verified: list[cluster_stage.Verified],
                extra: Iterable[tuple[int, int]], n: int) -> np.ndarray:
    """The distinct codes ``i * n + j`` of the window pairs, the verified pairs and ``extra`` pairs."""
    return sorted_unique(np.concatenate([window_codes.astype(np.int64), pair_codes(((v.i, v.j) for v in verified), n),
                                         pair_codes(extra, n)]))


def sets_are_seeds(cfg: Settings) -> bool:
    """Whether the shingle sets are the distinct alignment seeds (char mode with ``ngram == align.k``, the
    default): the same character k-grams, hashed the same way, so they are computed once."""
    return cfg.shingle.mode == "char" and cfg.shingle.ngram == cfg.align.k


def _prepare_chunk(state, chunk) -> list[tuple[Normalized, np.ndarray, np.ndarray, np.ndarray]]:
    """Normalised text, shingle set, alignment seeds and passage-window signatures of some speeches."""
    speeches, by_name, cfg = state
    out = []
    texts = speech_texts([speeches[k] for k in chunk], by_name, fold_numbers=cfg.shingle.fold_numbers)
    for text in texts:
        seed_hashes = align_stage.seeds_of(text.text, cfg.align, seed=cfg.shingle.seed)
        windows = align_stage.window_signatures_of(seed_hashes, cfg.align, seed=cfg.minhash.seed)
        if sets_are_seeds(cfg) and len(seed_hashes):
            shingle_set = sorted_unique(seed_hashes)
        else:
            shingle_set = shingles(text.text, cfg.shingle)
        out.append((text, shingle_set, seed_hashes, windows))
    return out


BATCH_CHARS = 1 << 21
"""Characters per batch of :func:`_prepare_bulk`: its temporaries (about 12 bytes per character) stay near
25 MiB per thread."""


def _prepare_bulk(
    speeches: list[Speech], by_name: dict[str, Document], cfg: Settings, *, threads: int = 1, windows: bool = True,
) -> tuple[str, OffsetMaps, Sequence[np.ndarray], Ragged, tuple[np.ndarray, np.ndarray] | None]:
    """What :func:`_prepare_chunk` gives for every speech, from compiled kernels over the characters of
    batches of speeches (about :data:`BATCH_CHARS` characters each, so the temporary arrays stay small whatever
    the corpus); ``threads`` threads take a part of the batches each.

    In char mode with ``ngram == align.k`` the shingle sets are the distinct seeds. Otherwise (word mode) they
    are made speech by speech, in ``threads`` forked workers that inherit the normalised texts, with one word
    hash cache per worker.

    Returns:
        The normalised texts end to end in one string and their offset maps (:func:`joined_speech_texts`: no
        object per speech), shingle sets (views of a few large arrays per batch, not one allocation per speech)
        and seeds of the speeches (a :class:`~dupspeech.cluster.Ragged`: all of them in one array, which stock
        language and alignment take without a copy), and the window signatures of all speeches as
        :func:`~dupspeech.align.stack_windows` gives them: one matrix, written in place, and the speech of each
        row; ``None`` with ``windows=False``, for :func:`~dupspeech.align.window_codes_of_seeds`, which computes
        them from the seeds band by band instead of keeping 13 bytes per character until then.
    """
    fold = cfg.shingle.fold_numbers
    acfg = cfg.align
    text, maps = joined_speech_texts(speeches, by_name, fold_numbers=fold)
    offsets = maps.bounds
    lengths = np.diff(offsets)
    n_texts = len(speeches)
    # batches: contiguous runs of speeches of about BATCH_CHARS characters (at least one speech each)
    cut = np.searchsorted(offsets, np.arange(0, offsets[-1], BATCH_CHARS), side="right") - 1
    batches = np.unique(np.r_[0, cut, n_texts]).astype(np.int64)
    char_cfg = ShingleConfig(mode="char", seed=cfg.shingle.seed)
    # rows of each speech's windows, known from its length: the threads write their rows of one matrix
    n_seeds = np.maximum(lengths - acfg.k + 1, 0)
    rows = window_rows(n_seeds, acfg.window, acfg.stride)
    # every speech's seeds in one array (the batches write their parts): alignment then takes it as it is
    seed_off = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(n_seeds, out=seed_off[1:])
    all_seeds = np.empty(seed_off[-1], dtype=np.uint64)
    matrix = np.empty((rows[-1], acfg.num_perm), dtype=np.uint32) if windows else None
    wcfg = MinHashConfig(num_perm=acfg.num_perm, seed=cfg.minhash.seed)

    from_seeds = sets_are_seeds(cfg)
    words: list[np.ndarray] = []
    if not from_seeds:
        chunks = parallel.chunked(range(n_texts), 4 * threads)
        for found in parallel.fork_map(_shingle_chunk, chunks, state=(text, offsets, cfg.shingle), jobs=threads):
            words.extend(found)
    # the shingle sets (the distinct seeds) in one array too: each speech's written at the start of its room
    # (its seeds, or one shingle for a speech shorter than k), then moved end to end
    room = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.maximum(n_seeds, 1), out=room[1:])
    all_sets = np.empty(room[-1] if from_seeds else 0, dtype=np.uint64)
    set_sizes = np.zeros(n_texts, dtype=np.int64)

    def batch(lo: int, hi: int) -> None:
        chars = token_hashes(text[offsets[lo] : offsets[hi]], char_cfg)
        seeds, s_off = all_seeds[seed_off[lo] : seed_off[hi]], seed_off[lo : hi + 1] - seed_off[lo]
        combine_into(chars, offsets[lo : hi + 1] - offsets[lo], acfg.k, s_off, seeds)
        del chars
        if from_seeds:
            set_sizes[lo:hi] = sorted_unique_into(seeds, s_off, all_sets, room[lo:hi])
        if matrix is not None:
            window_signatures_many(seeds, s_off, acfg.window, acfg.stride, wcfg, out=matrix[rows[lo] : rows[hi]])

    def part(first: int, stop: int) -> None:  # batches first..stop-1
        for b in range(first, stop):
            batch(int(batches[b]), int(batches[b + 1]))

    _jit.in_threads(part, len(batches) - 1, threads)
    sets: Sequence[np.ndarray] = words
    if from_seeds:
        for x in np.flatnonzero(n_seeds == 0).tolist():  # shorter than k: one shingle of what there is
            one = shingles(text[offsets[x] : offsets[x + 1]], cfg.shingle)[:1]  # (fewer than k characters: one)
            all_sets[room[x] : room[x] + len(one)] = one
            set_sizes[x] = len(one)
        bounds = compact_runs(all_sets, room[:-1], set_sizes)
        sets = Ragged(all_sets[: bounds[-1]], bounds)
    stacked = None if matrix is None else (matrix, np.repeat(np.arange(n_texts, dtype=np.int64), np.diff(rows)))
    return text, maps, sets, Ragged(all_seeds, seed_off), stacked


def _shingle_chunk(state, chunk) -> list[np.ndarray]:
    """Shingle sets of some normalised texts (end to end in one string, with their bounds), with one word hash
    cache for the chunk."""
    text, bounds, config = state
    cache: dict[str, int] = {}
    return [shingles(text[bounds[k] : bounds[k + 1]], config, cache) for k in chunk]


def _speech_dates(
    speeches: list[Speech], by_name: dict[str, Document], dropped: list[Dropped], given: dict[str, "align_stage.Dated"]
) -> list["align_stage.Dated | None"]:
    """The date of each speech: given by the caller, else in its title or date line, else the page's."""
    page_dates: dict[str, align_stage.Dated] = {}
    for d in dropped:
        if d.reason == "chrome" and d.span.file not in page_dates:
            line = by_name[d.span.file].text[d.span.start : d.span.end]
            if any(w in line for w in ("更新时间", "发布时间", "发表时间", "上传时间")):
                found = align_stage.parse_date(line, "page update time")
                if found:
                    page_dates[d.span.file] = found
    out: list[align_stage.Dated | None] = []
    for s in speeches:
        date = given.get(s.id) or given.get(s.file)
        if date is None:
            doc = by_name[s.file]
            for p in s.paragraphs[:4]:
                if p.kind == "title" or (p.kind == "heading" and p.span.end - p.span.start <= 12):
                    date = align_stage.parse_date(doc.text[p.span.start : p.span.end], p.kind if p.kind == "title" else "date line")
                    if date:
                        break
        out.append(date or page_dates.get(s.file))
    return out


def find_copies(
    speeches: list[Speech],
    texts: Sequence[Normalized] | OffsetMaps,
    seeds: list[np.ndarray],
    by_name: dict[str, Document],
    dropped: list[Dropped],
    unit: list[int],
    cands: set[tuple[int, int]] | np.ndarray,
    cfg: Settings,
    *,
    given_dates: dict | None = None,
    ranks: dict[str, int] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    stock: list[np.ndarray] | None = None,
) -> tuple[Copy, ...]:
    """Copied passages between the speech pairs ``cands`` (``i < j``), with direction and boilerplate flags.

    ``cands`` is a set of pairs, or an array of distinct codes ``i * len(speeches) + j`` (millions of them at
    scale, so no Python tuples). ``stock`` gives :func:`~dupspeech.align.stock_flags` when already computed.
    ``texts`` gives the speeches' normalised texts, or only their :class:`~dupspeech.normalize.OffsetMaps`: the
    passages' original offsets are all that is read from them.
    """
    acfg = cfg.align
    if stock is None:
        stock = align_stage.stock_flags(seeds, unit, acfg, threads=jobs)
    dates = _speech_dates(speeches, by_name, dropped, given_dates or {})
    state = (speeches, texts, by_name, dates, ranks or {}, acfg)
    n = len(speeches)
    if _jit.enabled():
        # the compiled kernel releases the GIL: threads share the seeds, where forked workers would copy them
        codes = np.sort(cands.astype(np.int64) if isinstance(cands, np.ndarray) else pair_codes(cands, n))
        found = [_passages(seeds, stock, codes // n, codes % n, acfg, threads=jobs)]
        if progress:
            progress("align", len(codes), len(codes))
    else:
        ordered = sorted(code_pairs(cands, n)) if isinstance(cands, np.ndarray) else sorted(cands)
        chunks = parallel.chunked(ordered, 8 * jobs) if jobs > 1 else [ordered]
        found = []
        for done, part in enumerate(parallel.fork_map(_align_chunk, chunks, state=(seeds, stock, acfg), jobs=jobs)):
            found.append(part)
            if progress:
                progress("align", min(len(ordered), (done + 1) * len(chunks[0])), len(ordered))
    return tuple(_copies(state, *(np.concatenate(column) for column in zip(*found)))) if found else ()


def _align_chunk(state, pairs: list[tuple[int, int]]) -> tuple[np.ndarray, ...]:
    """:func:`_passages` of some candidate pairs (see :func:`find_copies`)."""
    seeds, stock, acfg = state
    return _passages(seeds, stock, *pair_arrays(pairs), acfg)


def _passages(seeds: list[np.ndarray], stock: list[np.ndarray], pa: np.ndarray, pb: np.ndarray, acfg: AlignConfig,
              *, threads: int = 1) -> tuple[np.ndarray, ...]:
    """The passages aligned between the speeches of each pair ``(pa[t], pb[t])``, as :func:`_copies` takes them:
    one row per passage, the passages of a pair together, pairs in order of ``t``."""
    if _jit.enabled():
        t, *rows = align_stage.aligned_arrays(seeds, stock, pa, pb, acfg, threads=threads)
        return (pa[t], pb[t], *rows)
    pairs = list(zip(pa.tolist(), pb.tolist()))
    rows = [(i, j, p.a0, p.a1, p.b0, p.b1, p.similarity, p.stock >= 0.5)
            for (i, j), passages in zip(pairs, align_stage.align_pairs(seeds, stock, pairs, acfg)) for p in passages]
    types = (np.int64,) * 6 + (np.float64, np.bool_)
    return tuple(np.array(column, dtype=dtype) for column, dtype in zip(zip(*rows) if rows else [()] * 8, types))


def _copies(state, pi: np.ndarray, pj: np.ndarray, a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray,
            similarity: np.ndarray, is_stock: np.ndarray) -> list[Copy]:
    """The copies of aligned passages, one row each: between speeches ``pi`` and ``pj``, at normalised offsets
    ``[a0, a1)`` of ``pi`` and ``[b0, b1)`` of ``pj``; the passages of a pair come together.

    A pair whose passages are all boilerplate (stock language, short) gives no copy: the two speeches share only
    stock language. Offsets and line numbers are looked up for all passages at once.
    """
    speeches, texts, by_name, dates, ranks, acfg = state
    if not len(pi):
        return []
    boiler = is_stock & (np.minimum(a1 - a0, b1 - b0) <= acfg.boilerplate_chars)
    firsts = np.flatnonzero(np.r_[True, (pi[1:] != pi[:-1]) | (pj[1:] != pj[:-1])])
    only_boiler = np.logical_and.reduceat(boiler, firsts)
    keep = ~np.repeat(only_boiler, np.diff(np.r_[firsts, len(pi)]))
    pi, pj, boiler, similarity = pi[keep], pj[keep], boiler[keep], similarity[keep]
    # both sides in one lookup
    where = _locations(speeches, texts, by_name, np.r_[pi, pj], np.r_[a0[keep], b0[keep]], np.r_[a1[keep], b1[keep]])
    where_a, where_b = where[: len(pi)], where[len(pi) :]
    copies: list[Copy] = []
    last = None
    for i, j, loc_a, loc_b, sim, is_boiler in zip(pi.tolist(), pj.tolist(), where_a, where_b, similarity.tolist(),
                                                   boiler.tolist()):
        if (i, j) != last:
            last = (i, j)
            a, b = speeches[i], speeches[j]
            decided = align_stage.direction(a.id, b.id, dates[i], dates[j], ranks.get(a.id, ranks.get(a.file)),
                                            ranks.get(b.id, ranks.get(b.file)))
            a_first = True if decided is None else decided[0]
            how = "undetermined" if decided is None else "source_earlier"
            evidence = "" if decided is None else decided[1]
        copies.append(Copy(loc_a if a_first else loc_b, loc_b if a_first else loc_a, sim, how,  # type: ignore[arg-type]
                           evidence, is_boiler))
    return copies


def _locations(speeches: list[Speech], texts: Sequence[Normalized] | OffsetMaps, by_name: dict[str, Document],
               who: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> list[Location]:
    """The :class:`Location` of normalised ``[x0[t], x1[t])`` of speech ``who[t]``, for every ``t``: original
    offsets from the speeches' offset maps, and line numbers from their pages' line starts, each in one go."""
    used, local = np.unique(who, return_inverse=True)
    maps = texts if isinstance(texts, OffsetMaps) else OffsetMaps.of(texts)
    starts, ends = maps.original(who, x0, x1)
    # every page's line starts in one array, each page's shifted by the lengths of the pages before it (an offset
    # is below its page's length, so below every later page's line starts)
    names = sorted({speeches[k].file for k in used.tolist()})
    page = {name: p for p, name in enumerate(names)}
    docs = [by_name[name] for name in names]
    shift = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d.text) for d in docs], out=shift[1:])
    counts = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d.line_starts) for d in docs], out=counts[1:])
    line_starts = np.concatenate([np.asarray(d.line_starts, dtype=np.int64) + shift[p] for p, d in enumerate(docs)])
    p_of = np.array([page[speeches[k].file] for k in used.tolist()], dtype=np.int64)[local]

    def line_of(offsets: np.ndarray) -> np.ndarray:  # Document.line_of
        return np.searchsorted(line_starts, offsets + shift[p_of], side="right") - counts[p_of]

    ids = [speeches[k].id for k in used.tolist()]
    return [Location(ids[u], l0, l1, s, e) for u, l0, l1, s, e in zip(
        local.tolist(), line_of(starts).tolist(), line_of(ends - 1).tolist(), starts.tolist(), ends.tolist())]


def find_pairs(
    sets: Sequence[np.ndarray],
    cfg: Settings,
    *,
    extra: set[tuple[int, int]] | np.ndarray = frozenset(),  # type: ignore[assignment]
    progress: Progress | None = None,
    timings: dict | None = None,
    jobs: int = 1,
) -> list[cluster_stage.Verified]:
    """Candidate pairs from the LSH index (plus ``extra``: pairs, or codes ``i * len(sets) + j``), verified on
    the exact shingle sets, in order."""
    keys = [k for k, s in enumerate(sets) if len(s) >= cfg.cluster.min_shingles]
    if len(keys) < 2:
        return []
    n = len(sets)
    with _stage(timings, "minhash"):
        if isinstance(sets, Ragged) and _jit.enabled():  # where they are, with no copy
            sigs = signatures_of_runs(sets.values, sets.bounds, np.asarray(keys, dtype=np.int64), cfg.minhash)
        else:
            sigs = signatures([sets[k] for k in keys], cfg.minhash)
    if progress:
        progress("minhash", len(keys), len(keys))
    out: list[cluster_stage.Verified] = []
    with _stage(timings, "lsh"):
        # the pairs datasketch's MinHashLSH returns (tested against it), about 6 times faster
        lsh = grouped_codes(sigs, np.asarray(keys), threshold=cfg.cluster.candidate_threshold, span=n, threads=jobs,
                            neighbours=cfg.cluster.bucket_neighbours)
    if not isinstance(extra, np.ndarray):
        extra = pair_codes(extra, n)
    # candidates as sorted codes i * n + j: millions of them at scale, so no Python tuples (nor the LSH's codes
    # kept beside them while they are verified)
    codes = union_sorted(lsh, extra)
    del lsh
    with _stage(timings, "verify"):
        if _jit.enabled():  # one compiled loop in threads (it releases the GIL), no copies of the sets
            # the sets' bucket counts once for all the parts, not once a part: one pass over every set on one
            # core, which with two threads was half the 1 GB verification (25.9 -> 12.5 s)
            counts = cluster_stage.set_bucket_counts(sets.values, sets.bounds) \
                if isinstance(sets, Ragged) and len(codes) > VERIFY_AT_ONCE else None
            for lo in range(0, len(codes), VERIFY_AT_ONCE):  # in order, so the pairs that pass stay in order
                part = codes[lo : lo + VERIFY_AT_ONCE]
                out += cluster_stage.verify_arrays(part // n, part % n, sets, cfg.cluster, threads=jobs, counts=counts)
            del counts
        else:
            cands = code_pairs(codes, n)
            chunks = parallel.chunked(cands, 4 * jobs) if jobs > 1 else [cands]
            for part in parallel.fork_map(_verify_chunk, chunks, state=(sets, cfg.cluster), jobs=jobs):
                out.extend(part)
    if progress:
        progress("verify", len(codes), len(codes))
    return out


VERIFY_AT_ONCE = 1 << 22
"""Candidate pairs verified at once: verification makes about 15 arrays of 8 bytes per pair it is given, which
for the 181 million candidates of the 1 GB benchmark corpus outgrew 24 GiB (before ``bucket_neighbours``, when
every two speeches of an LSH bucket were a candidate: the LSH gives 35 million since, the windows 34 million);
4 million pairs take about 0.5 GiB."""


def _verify_chunk(state, pairs) -> list[cluster_stage.Verified]:
    sets, config = state
    return cluster_stage.verify_many(pairs, sets, config)


def split(source: Source, *, segment: SegmentConfig | None = None) -> Result:
    """Only read and split: the speeches and dropped lines of every page, no matching."""
    files, docs, speeches, dropped = read_and_split(source, segment)
    return Result(files=tuple(files), speeches=tuple(speeches), pairs=(), clusters=(), dropped=tuple(dropped),
                  documents=tuple(docs))


def _side(value: Union[str, "os.PathLike[str]"], default_name: str) -> tuple[list[FileRecord], list[Document], int | None]:
    """One side of :func:`compare`: a file, a speech ``file#k``, or a text."""
    text_or_path = os.fspath(value)
    path, _, k = text_or_path.rpartition("#")
    if path and k.isdigit() and os.path.isfile(path):
        records, docs = _read_one(path)
        return records, docs, int(k)
    if "\n" not in text_or_path and len(text_or_path) < 4096 and os.path.isfile(text_or_path):
        records, docs = _read_one(text_or_path)
        return records, docs, None
    doc = Document(default_name, text_or_path, encoding="str")
    return [FileRecord(default_name, "str", "ok", None, len(text_or_path.encode("utf-8")))], [doc], None


def _read_one(path: str) -> tuple[list[FileRecord], list[Document]]:
    records: list[FileRecord] = []
    docs: list[Document] = []
    for record, doc in iter_corpus(path):
        records.append(record)
        if doc is not None:
            docs.append(doc)
    if not docs:
        raise CorpusError(f"{path} could not be read: {records[0].reason if records else 'no text'}")
    return records, docs


def compare(
    a: Union[str, "os.PathLike[str]"],
    b: Union[str, "os.PathLike[str]"],
    *,
    dates: Mapping[str, str] | None = None,
    **options,
) -> Result:
    """Compare two files, two speeches (``"page.txt#2"``) or two texts: the copied passages between them.

    Every speech of ``a`` is aligned with every speech of ``b`` (no candidate search), so even a single shared
    paragraph shows. The result holds both sides' speeches, the verified pairs between them, and the copies
    between a speech of ``a`` and one of ``b``.

    Example:
        >>> para = "各乡镇要压实属地责任，对辖区内的企业逐一开展安全检查，建立隐患台账，明确整改时限和责任人，确保整改到位。"
        >>> r = compare("在全县会议上的讲话\\n" + para, "在全市会议上的讲话\\n今天开会。" + para)
        >>> [(c.source.speech, c.target.speech, c.similarity) for c in r.copies]
        [('a#1', 'b#1', 1.0)]
    """
    cfg = settings(**options)
    given_dates, ranks = align_stage.caller_dates(dates, None)
    rec_a, docs_a, k_a = _side(a, "a")
    rec_b, docs_b, k_b = _side(b, "b")
    if docs_a[0].name == docs_b[0].name:
        if k_a is None and k_b is None:
            docs_b = [Document(docs_b[0].name + " (b)", docs_b[0].text, docs_b[0].encoding, docs_b[0].path)]
    speeches_a, dropped = _speeches_of(docs_a, k_a, cfg)
    speeches_b, dropped_b = _speeches_of(docs_b, k_b, cfg)
    same_doc = docs_a[0].name == docs_b[0].name
    docs = docs_a if same_doc else docs_a + docs_b
    speeches = speeches_a + [s for s in speeches_b if s not in speeches_a]
    n_a = len(speeches_a)
    index = {s.id: n for n, s in enumerate(speeches)}
    cross = [(min(index[x.id], index[y.id]), max(index[x.id], index[y.id]))
             for x in speeches_a for y in speeches_b if x.id != y.id]
    result = _match(rec_a + ([] if same_doc else rec_b), docs, speeches, dropped + ([] if same_doc else dropped_b), cfg,
                    given_dates=given_dates, ranks=ranks, align_pairs=cross)
    side_a = {s.id for s in speeches[:n_a]}
    side_b = {s.id for s in speeches_b}

    def across(x: str, y: str) -> bool:
        return (x in side_a and y in side_b) or (x in side_b and y in side_a)

    return Result(
        files=result.files,
        speeches=result.speeches,
        pairs=tuple(p for p in result.pairs if across(p.a, p.b)),
        clusters=result.clusters,
        copies=tuple(c for c in result.copies if across(c.source.speech, c.target.speech)),
        dropped=result.dropped,
        settings=result.settings,
        documents=result.documents,
    )


def _speeches_of(docs: list[Document], k: int | None, cfg: Settings) -> tuple[list[Speech], list[Dropped]]:
    speeches, dropped = split_page(docs[0], cfg.segment)
    if k is not None:
        chosen = [s for s in speeches if s.index == k]
        if not chosen:
            raise CorpusError(f"{docs[0].name} has {len(speeches)} speeches; there is no #{k}")
        speeches = chosen
    return speeches, dropped
