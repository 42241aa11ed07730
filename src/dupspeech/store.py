"""A persistent, incremental index of speeches: add pages once, query new pages against it, cluster it all.

Two stores behind one :class:`Index`:

* **SQLite** (a path such as ``speeches.db``, the default): one file, no server. Every :meth:`Index.add` and
  :meth:`Index.remove` is one transaction, so a crash or Ctrl-C in the middle leaves the index as it was.
* **Redis** (``redis://host:port/db``, optionally ``?name=NAME`` to keep several indexes in one database): the
  LSH bands live in datasketch's own Redis storage for ``MinHashLSH``, everything else in Redis hashes, so
  several machines can share one index. Needs ``pip install 'dupspeech[index-redis]'``.

What is stored per file: its name, a sha256 of its decoded text and encoding (so adding the same folder again
adds only what is new or changed), the decoded text, and the dropped lines; per speech: spans, title, marker,
paragraphs, the shingle set, the alignment seeds and the MinHash signature; and two LSH band tables, one of
speech signatures (the bands datasketch's ``MinHashLSH`` picks for ``candidate_threshold``) and one of passage
windows (for ``window_threshold``), which is what :meth:`Index.query` looks up.

The settings that shape what is stored (segmentation, shingles, MinHash, candidate threshold, alignment seeds
and windows) are fixed when the index is created; opening it with other values of those is refused with a
:class:`~dupspeech.ConfigError`. The others (``threshold``, ``containment``, ``min_shingles``, the alignment
gaps) may change from one query or clustering to the next.

Example:
    >>> import dupspeech, tempfile, os
    >>> body = ("各乡镇要压实属地责任，对辖区内的企业逐一开展安全检查，"
    ...         "建立隐患台账，明确整改时限和责任人，确保整改到位。")
    >>> with dupspeech.Index(os.path.join(tempfile.mkdtemp(), "s.db")) as index:
    ...     print(index.add({"a.txt": "在全县会议上的讲话\\n" + body}))
    ...     hit = index.query({"new.txt": "在全市会议上的讲话\\n" + body})
    added 1, replaced 0, unchanged 0, skipped 0 (1 speeches)
    >>> [(p.a, p.b, p.relation) for p in hit.pairs]
    [('query/new.txt#1', 'a.txt#1', 'near_duplicate')]
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlparse

import numpy as np

from . import _jit
from . import align as align_stage
from . import api
from .cluster import families as _families, verify_many as _verify_many
from .config import AlignConfig, ClusterConfig, MinHashConfig, SegmentConfig, Settings, ShingleConfig
from .errors import ConfigError, CorpusError, require
from .index import UNCROWDED, enough, lsh_params
from .ingest import iter_corpus
from .minhash import signature
from .models import Cluster, Document, Dropped, FileRecord, Pair, Paragraph, Result, Span, Speech
from .segment import split_page
from .shingle import sorted_unique

__all__ = ["AddReport", "Index"]

SCHEMA_VERSION = 1
MAX_BUCKET_SPEECHES: int = inspect.signature(align_stage.pairs_from_windows).parameters["max_speeches"].default
"""A window bucket holding more speeches than this is stock language: the local run's own limit (50)."""

# settings that decide what is stored; the rest may change between queries
_BUILD_KEYS = ("cluster.candidate_threshold", "align.k", "align.window", "align.stride", "align.window_threshold",
               "align.num_perm")
_BUILD_PREFIXES = ("segment.", "shingle.", "minhash.")


@dataclass(frozen=True, slots=True)
class AddReport:
    """What one :meth:`Index.add` did, file by file counted once.

    Attributes:
        added: Files new to the index.
        replaced: Files already indexed under the same name whose content changed (the old version is gone).
        unchanged: Files whose content hash is already indexed under that name (nothing done).
        skipped: Files that could not be read (recorded with their reason, as ``cluster`` reports them).
        speeches: Speeches added.
    """

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0
    speeches: int = 0

    def __str__(self) -> str:
        return (f"added {self.added}, replaced {self.replaced}, unchanged {self.unchanged}, skipped {self.skipped}"
                f" ({self.speeches} speeches)")


@dataclass(frozen=True, slots=True)
class _Stored:
    """Speeches loaded from a store, in corpus order, with the files they belong to."""

    files: list[FileRecord]
    docs: list[Document]
    dropped: list[Dropped]
    speeches: list[Speech]
    sets: list[np.ndarray]
    seeds: list[np.ndarray]
    uids: list[int]


# --- settings -----------------------------------------------------------------------------------------------


def _is_build_key(key: str) -> bool:
    return key.startswith(_BUILD_PREFIXES) or key in _BUILD_KEYS


def _settings_from_items(items: Mapping[str, object]) -> Settings:
    parts: dict[str, dict[str, object]] = {}
    for key, value in items.items():
        stage, _, name = key.partition(".")
        parts.setdefault(stage, {})[name] = tuple(value) if isinstance(value, list) else value
    try:
        return Settings(
            segment=SegmentConfig(**parts.get("segment", {})),  # type: ignore[arg-type]
            shingle=ShingleConfig(**parts.get("shingle", {})),  # type: ignore[arg-type]
            minhash=MinHashConfig(**parts.get("minhash", {})),  # type: ignore[arg-type]
            cluster=ClusterConfig(**parts.get("cluster", {})),  # type: ignore[arg-type]
            align=AlignConfig(**parts.get("align", {})),  # type: ignore[arg-type]
        )
    except TypeError as exc:
        raise ConfigError(f"the index was written by another version of dupspeech ({exc}); rebuild it") from None


def _options_of(cfg: Settings) -> dict[str, object]:
    """The keyword options of :func:`dupspeech.settings` that give ``cfg``."""
    return {
        "threshold": cfg.cluster.threshold,
        "containment": cfg.cluster.containment,
        "candidate_threshold": cfg.cluster.candidate_threshold,
        "shingle": cfg.shingle.mode,
        "ngram": cfg.shingle.ngram,
        "tokenizer": cfg.shingle.tokenizer,
        "num_perm": cfg.minhash.num_perm,
        "seed": cfg.minhash.seed,
        "fold_numbers": cfg.shingle.fold_numbers,
        "min_shingles": cfg.cluster.min_shingles,
        "bucket_neighbours": cfg.cluster.bucket_neighbours,
        "align": cfg.align,
    }


def _merge_settings(stored: Settings, options: dict[str, object], where: str) -> Settings:
    """``stored`` with ``options`` applied; refused when an option would change what the index holds."""
    base = _options_of(stored)
    if "shingle" in options and "ngram" not in options:
        base.pop("ngram")
    if "threshold" in options and "candidate_threshold" not in options:
        base.pop("candidate_threshold")
    built = dict(api.settings(**{**base, **options}).as_items())  # type: ignore[arg-type]
    # options that dupspeech.settings cannot set (segmentation, the shingle hash seed, ...) keep the stored value
    old = dict(stored.as_items())
    reproduced = dict(api.settings(**_options_of(stored)).as_items())  # type: ignore[arg-type]
    cfg = _settings_from_items({k: old[k] if k in old and reproduced.get(k) != old[k] else v for k, v in built.items()})
    new = dict(cfg.as_items())
    diffs = [f"{k}={old.get(k)!r} (asked {new[k]!r})" for k in new if _is_build_key(k) and old.get(k) != new[k]]
    if diffs:
        raise ConfigError(
            f"the index {where} was built with other settings: {', '.join(diffs)}. Open it without these options"
            " (its own settings are used), or build a new index for the new settings with another --index"
        )
    return cfg


# --- the index ----------------------------------------------------------------------------------------------


class Index:
    """A persistent index of speeches, on SQLite (a path) or Redis (``redis://host:port/db``).

    Args:
        location: A file path for SQLite (created if missing), or ``redis://host:port/db[?name=NAME]``.
        create: Create the index when it does not exist yet; ``False`` raises :class:`CorpusError` instead.
        **options: Keyword options of :func:`dupspeech.settings`. For a new index they fix its settings; for an
            existing one they override its stored settings, and must not change what it stores.

    Raises:
        ConfigError: options that differ from the stored settings in what the index stores, or a bad location.
        CorpusError: ``create=False`` and there is no index at ``location``.
        OptionalDependencyError: a Redis URL without the ``redis`` package.
    """

    def __init__(self, location: str | os.PathLike[str], *, create: bool = True, **options) -> None:
        self.location = os.fspath(location)
        if self.location.startswith(("redis://", "rediss://", "unix://")):
            self._store: _SQLiteStore | _RedisStore = _RedisStore(self.location, create=create)
        else:
            self._store = _SQLiteStore(self.location, create=create)
        stored = self._store.get_settings()
        if stored is None:
            if not create:
                self._store.close()
                raise CorpusError(f"no index at {self.location}; build one with: dupspeech index add DIR "
                                  f"--index {self.location}")
            self.settings = api.settings(**options)
            self._store.set_settings(dict(self.settings.as_items()))
        else:
            stored_cfg = _settings_from_items(stored)
            self.settings = _merge_settings(stored_cfg, options, self.location) if options else stored_cfg
        self._store.bind(self.settings)

    def __repr__(self) -> str:
        return f"Index({self.location!r})"

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection to the store."""
        self._store.close()

    # --- writing ---

    def add(self, source: api.Source, *, progress: api.Progress | None = None) -> AddReport:
        """Add the pages of ``source`` (a folder, a file, or ``(name, text)`` pairs) in one transaction.

        Files are known by their name (the path relative to the folder given, as ``cluster`` names them). A file
        whose content is already indexed under its name is left alone; a changed file replaces the old one.

        Raises:
            CorpusError: ``source`` does not exist.
        """
        cfg = self.settings
        counts = dict(added=0, replaced=0, unchanged=0, skipped=0, speeches=0)
        chars = 0  # read so far: once a corpus's worth, the compiled kernels take over (same output)
        with self._store.transaction() as tx, api.fewer_collections():
            for n, (record, doc) in enumerate(iter_corpus(source), 1):
                sha = _content_hash(doc) if doc is not None else None
                known = tx.file_state(record.file)
                if doc is not None and known is not None and known == sha:
                    counts["unchanged"] += 1
                    continue
                if known is not None:
                    tx.delete_file(record.file)
                if doc is None:
                    counts["skipped"] += 1
                    tx.put_file(record, None, None, [])
                    continue
                counts["replaced" if known is not None else "added"] += 1
                speeches, dropped = split_page(doc, cfg.segment)
                chars += len(doc.text)
                with _jit.for_corpus(chars):
                    prepared = api._prepare_chunk(([*speeches], {doc.name: doc}, cfg), range(len(speeches)))
                    handle = tx.put_file(record, sha, doc, dropped)
                    for speech, (_, shingle_set, seeds, windows) in zip(speeches, prepared):
                        sig = signature(shingle_set, cfg.minhash) if len(shingle_set) else None
                        tx.put_speech(handle, speech, shingle_set, seeds, sig, windows)
                counts["speeches"] += len(speeches)
                if progress:
                    progress("index", n, 0)
        return AddReport(**counts)

    def remove(self, files: Iterable[str]) -> list[str]:
        """Take files out of the index (by name as indexed, or by the path they were read from), in one transaction.

        Returns:
            The names of the files removed.

        Raises:
            CorpusError: a file is not in the index (nothing is removed then).
        """
        wanted = [os.fspath(files)] if isinstance(files, (str, os.PathLike)) else [os.fspath(f) for f in files]
        known = {r.file: path for r, path in self._store.records()}
        by_path = {os.path.abspath(p): name for name, p in known.items() if p}
        names, missing = [], []
        for item in wanted:
            name = item if item in known else by_path.get(os.path.abspath(item))
            if name is None:
                missing.append(item)
            elif name not in names:
                names.append(name)
        if missing:
            raise CorpusError(f"not in the index {self.location}: {', '.join(missing)} (see: dupspeech index list)")
        with self._store.transaction() as tx:
            for name in names:
                tx.delete_file(name)
        return names

    # --- reading ---

    def files(self) -> list[FileRecord]:
        """A record of every indexed file (read or skipped), in corpus order."""
        return sorted((r for r, _ in self._store.records()), key=lambda r: r.file)

    def cluster(
        self,
        *,
        provenance: bool = True,
        dates: Mapping[str, str] | None = None,
        order: Iterable[str] | None = None,
        progress: api.Progress | None = None,
        timings: dict | None = None,
        jobs: int = 1,
    ) -> Result:
        """Cluster everything indexed, from the stored texts, shingles and seeds (no file is read).

        The result is the one :func:`dupspeech.cluster` gives for the same files and settings.
        """
        from . import parallel

        cfg = self.settings
        given_dates, ranks = align_stage.caller_dates(dates, order)
        with api.fewer_collections():
            with api._stage(timings, "load"):
                data = self._store.load()
        if not data.docs:
            raise CorpusError(f"the index {self.location} holds no readable page; add some with: dupspeech index "
                              f"add DIR --index {self.location}")
        with api.fewer_collections(), _jit.for_corpus(sum(len(d.text) for d in data.docs)):  # kernels for a big corpus
            prepared = _prepared(data, cfg)
            return api._match(data.files, data.docs, data.speeches, data.dropped, cfg, provenance=provenance,
                              given_dates=given_dates, ranks=ranks, progress=progress, timings=timings,
                              jobs=parallel.available_jobs(jobs), prepared=prepared)

    def query(
        self,
        source: api.Source,
        *,
        provenance: bool = True,
        dates: Mapping[str, str] | None = None,
        order: Iterable[str] | None = None,
    ) -> Result:
        """Which indexed speeches each speech of ``source`` recycles, and which passages it copied from where.

        The speeches of ``source`` get ids ``query/<name>#k``. Candidates are the indexed speeches that share an
        LSH band with a query speech's signature (all of them: ``bucket_neighbours`` bounds the pairs of a whole
        corpus's clustering, and a query's are bounded by its own speeches), or a bucket with one of its passage
        windows (buckets of more than 50 speeches are stock language); they are verified on the exact shingle
        sets and aligned exactly as :func:`dupspeech.cluster` does. The result holds the query's files and
        speeches, the indexed speeches found, the pairs (query speech first), the families among them, and the
        copies.

        Boilerplate is judged among the query and the indexed speeches found, not the whole index, so a short
        stock passage may be reported as a copy where clustering the whole index would call it boilerplate.
        """
        cfg = self.settings
        given_dates, ranks = align_stage.caller_dates(dates, order)
        files, docs, speeches, dropped = _read_query(source, cfg.segment)
        by_name = {d.name: d for d in docs}
        mine = api._prepare_chunk((speeches, by_name, cfg), range(len(speeches)))
        nq = len(speeches)
        found: dict[int, set[int]] = {}  # indexed uid -> query speeches that found it
        windowed: set[tuple[int, int]] = set()
        min_sh = cfg.cluster.min_shingles
        crowd = cfg.align.window_crowd
        for q, (_, shingle_set, _, windows) in enumerate(mine):
            if len(shingle_set) >= min_sh:
                for uid in self._store.lookup_speech(signature(shingle_set, cfg.minhash)):
                    found.setdefault(uid, set()).add(q)
            if len(windows):
                # indexed speech -> buckets it shares with this query speech, packed as index.meetings packs them
                hits: dict[int, int] = {}
                for members in self._store.lookup_windows(windows):
                    if 0 < len(members) < MAX_BUCKET_SPEECHES:  # counting the query speech: at most the limit
                        met = 1 if crowd is not None and len(members) + 1 > crowd else 1 + UNCROWDED
                        for uid in members:
                            hits[uid] = hits.get(uid, 0) + met
                if hits:  # as a local run: one chance meeting is not a candidate, nor one only in common language
                    uids = np.fromiter(hits, dtype=np.int64, count=len(hits))
                    kept = enough(np.fromiter(hits.values(), dtype=np.int64, count=len(hits)),
                                  cfg.align.window_min_hits)
                    for uid in uids[kept].tolist():
                        found.setdefault(uid, set()).add(q)
                        windowed.add((q, uid))
        data = self._store.load(sorted(found))
        local = {uid: nq + k for k, uid in enumerate(data.uids)}
        cands = sorted((q, local[uid]) for uid, qs in found.items() if uid in local for q in qs)
        window_pairs = {(q, local[uid]) for q, uid in windowed if uid in local}
        all_speeches = speeches + data.speeches
        sets = [m[1] for m in mine] + data.sets
        seeds = [m[2] for m in mine] + data.seeds
        texts = [m[0] for m in mine] + [t for t, *_ in _prepared(data, cfg, windows=False)]
        all_by_name = {**by_name, **{d.name: d for d in data.docs}}
        verified = _verify_many(list(cands), sets, cfg.cluster)
        fams = _families(len(all_speeches), verified, [len(s) for s in sets])
        copies: tuple = ()
        if provenance:
            unit = list(range(len(all_speeches)))
            for members, _ in fams:
                for m in members:
                    unit[m] = members[0]
            copies = api.find_copies(all_speeches, texts, seeds, all_by_name, dropped + data.dropped, unit,
                                     window_pairs | {(v.i, v.j) for v in verified}, cfg,
                                     given_dates=given_dates, ranks=ranks)
        ids = [s.id for s in all_speeches]
        position = {sid: x for x, sid in enumerate(ids)}
        used = set(range(nq)) | {x for v in verified for x in (v.i, v.j)}
        used |= {position[loc.speech] for c in copies for loc in (c.source, c.target)}
        kept_files = {all_speeches[x].file for x in used if x >= nq}
        return Result(
            files=tuple(files) + tuple(r for r in data.files if r.file in kept_files),
            speeches=tuple(s for x, s in enumerate(all_speeches) if x in used),
            pairs=tuple(Pair(ids[v.i], ids[v.j], v.jaccard, v.containment_i_in_j, v.containment_j_in_i,
                             v.relation) for v in verified),  # type: ignore[arg-type]
            clusters=tuple(Cluster(k, tuple(ids[m] for m in members), tuple(ids[m] for m in contained))
                           for k, (members, contained) in enumerate(fams)),
            copies=copies,
            dropped=tuple(dropped) + tuple(d for d in data.dropped if d.span.file in kept_files),
            settings=cfg.as_items(),
            documents=tuple(docs) + tuple(d for d in data.docs if d.name in kept_files),
        )


def _read_query(source: api.Source, segment: SegmentConfig) -> tuple[list, list, list, list]:
    """Read and split the query pages, named ``query/<name>`` so their ids cannot clash with indexed ones."""
    files: list[FileRecord] = []
    docs: list[Document] = []
    speeches: list[Speech] = []
    dropped: list[Dropped] = []
    for record, doc in iter_corpus(source):
        files.append(replace(record, file="query/" + record.file))
        if doc is not None:
            doc = Document("query/" + doc.name, doc.text, doc.encoding, doc.path)
            docs.append(doc)
            found, drops = split_page(doc, segment)
            speeches.extend(found)
            dropped.extend(drops)
    if not docs:
        reasons = "; ".join(f"{f.file}: {f.reason}" for f in files[:5]) or "no .txt or .md page"
        raise CorpusError(f"nothing to query: no page could be read ({reasons})")
    return files, docs, speeches, dropped


def _content_hash(doc: Document) -> str:
    h = hashlib.sha256(doc.encoding.encode("ascii", "replace") + b"\0")
    h.update(doc.text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _prepared(data: _Stored, cfg: Settings, *, windows: bool = True) -> list[tuple]:
    """What :func:`api._prepare_chunk` computes, from stored shingles and seeds (texts re-derived, cheap)."""
    by_name = {d.name: d for d in data.docs}
    out = []
    texts = api.speech_texts(data.speeches, by_name, fold_numbers=cfg.shingle.fold_numbers)
    for text, shingle_set, seeds in zip(texts, data.sets, data.seeds):
        wins = align_stage.window_signatures_of(seeds, cfg.align, seed=cfg.minhash.seed) if windows else None
        out.append((text, shingle_set, seeds, wins))
    return out


# --- rows shared by both stores -----------------------------------------------------------------------------


def _speech_row(s: Speech) -> list:
    paragraphs = [[p.kind, p.span.start, p.span.end, p.span.start_line, p.span.end_line] for p in s.paragraphs]
    return [s.index, s.span.start, s.span.end, s.span.start_line, s.span.end_line, s.title, s.marker, s.chars,
            json.dumps(paragraphs, ensure_ascii=False)]


def _speech_from_row(file: str, row) -> Speech:
    k, start, end, start_line, end_line, title, marker, chars, paragraphs = row
    return Speech(
        f"{file}#{k}", Span(file, start, end, start_line, end_line), title, marker,
        tuple(Paragraph(Span(file, a, b, la, lb), kind) for kind, a, b, la, lb in json.loads(paragraphs)), chars,
    )


def _dropped_json(dropped: list[Dropped]) -> str:
    return json.dumps([[d.span.start, d.span.end, d.span.start_line, d.span.end_line, d.reason, d.detail]
                       for d in dropped], ensure_ascii=False)


def _dropped_from_json(file: str, text: str) -> list[Dropped]:
    return [Dropped(Span(file, a, b, la, lb), reason, detail) for a, b, la, lb, reason, detail in json.loads(text)]


def _u64(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8").astype(np.uint64)


def _shingle_blob(shingle_set: np.ndarray, seeds: np.ndarray) -> bytes | None:
    """The shingle set to store, or ``None`` when it is the set of the seeds (char 5-grams, the default)."""
    distinct = sorted_unique(seeds)
    if len(shingle_set) == len(distinct) and np.array_equal(shingle_set, distinct):
        return None
    return shingle_set.astype("<u8").tobytes()


def _shingles_of(blob: bytes | None, seeds: np.ndarray) -> np.ndarray:
    return np.unique(seeds) if blob is None else _u64(blob)


def _band_rows(sigs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``(band, key)`` of some signatures (a speech's passage windows, or its one signature) in
    the LSH bands for ``threshold``: bands (``int64``) and keys (``void``: the little-endian ``uint32`` bytes
    the tables store), by band."""
    n, num_perm = sigs.shape
    b, r = lsh_params(threshold, num_perm)
    rows = np.empty((b, n, r + 1), dtype=">u4")  # the band first, big-endian, so the distinct rows come by band
    rows[:, :, 0] = np.arange(b, dtype=np.uint32)[:, None]
    rows[:, :, 1:] = sigs[:, : b * r].reshape(n, b, r).transpose(1, 0, 2)
    flat = np.ascontiguousarray(rows.reshape(b * n, r + 1))
    distinct = np.unique(flat.view(np.dtype((np.void, 4 * (r + 1)))).ravel())
    table = distinct.view(">u4").reshape(-1, r + 1)
    keys = np.ascontiguousarray(table[:, 1:].astype("<u4")).view(np.dtype((np.void, 4 * r))).ravel()
    return table[:, 0].astype(np.int64), keys


def _band_keys_of(sigs: np.ndarray, threshold: float) -> list[tuple[int, bytes]]:
    """:func:`_band_rows` as ``(band, key)`` tuples, for SQL parameters."""
    bands, keys = _band_rows(np.asarray(sigs, dtype=np.uint32), threshold)
    return list(zip(bands.tolist(), keys.tolist()))


def _assemble(files: list[tuple[FileRecord, str | None, str | None, str]], rows: list[tuple[str, int, list, bytes,
              bytes]]) -> _Stored:
    """A :class:`_Stored` from file rows ``(record, path, text, dropped_json)`` and speech rows
    ``(file, uid, speech_row, shingles, seeds)``, put in corpus order."""
    files = sorted(files, key=lambda f: f[0].file)
    docs = [Document(r.file, text, r.encoding or "utf-8", path) for r, path, text, _ in files if text is not None]
    dropped = [d for r, _, text, dj in files if text is not None for d in _dropped_from_json(r.file, dj)]
    rows = sorted(rows, key=lambda x: (x[0], x[2][0]))
    seeds = [_u64(se) for *_, se in rows]
    return _Stored(
        files=[r for r, *_ in files],
        docs=docs,
        dropped=dropped,
        speeches=[_speech_from_row(f, row) for f, _, row, _, _ in rows],
        sets=[_shingles_of(sh, se) for (*_, sh, _), se in zip(rows, seeds)],
        seeds=seeds,
        uids=[uid for _, uid, *_ in rows],
    )


# --- SQLite -------------------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, sha256 TEXT, encoding TEXT, status TEXT NOT NULL,
    reason TEXT, size INTEGER NOT NULL, path TEXT, text TEXT, dropped TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS speeches (
    id INTEGER PRIMARY KEY, file INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE, k INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    title TEXT NOT NULL, marker TEXT, chars INTEGER NOT NULL, paragraphs TEXT NOT NULL,
    n_shingles INTEGER NOT NULL, shingles BLOB, seeds BLOB NOT NULL, signature BLOB);
CREATE INDEX IF NOT EXISTS speeches_file ON speeches(file);
CREATE TABLE IF NOT EXISTS bands (
    band INTEGER NOT NULL, key BLOB NOT NULL, speech INTEGER NOT NULL, PRIMARY KEY (band, key, speech)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS windows (
    band INTEGER NOT NULL, key BLOB NOT NULL, speech INTEGER NOT NULL, PRIMARY KEY (band, key, speech)) WITHOUT ROWID;
"""

_SPEECH_COLUMNS = 'k, start, "end", start_line, end_line, title, marker, chars, paragraphs'


class _SQLiteStore:
    """The embedded store: one SQLite file, one transaction per add or remove."""

    def __init__(self, path: str, *, create: bool) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        # band rows held back (see _flush): per table, (bands, keys, speech) of each speech, and how many rows
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray, int]]] = {"bands": [], "windows": []}
        self._held = 0
        if not create and not os.path.exists(path):
            return
        try:
            # transactions are begun explicitly; a writer waits up to a minute for another one to finish
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=60)
            self.conn.execute("PRAGMA foreign_keys = ON")
            if create:
                self.conn.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{path} is not a dupspeech index ({exc}); give another --index path") from None
        except sqlite3.Error as exc:  # pragma: no cover - disk full, permissions
            raise CorpusError(f"cannot open the index {path}: {exc}") from None

    @contextmanager
    def _tx(self):
        assert self.conn is not None
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise CorpusError(f"cannot write the index {self.path} ({exc}): another process is writing it;"
                              " try again when it is done") from None
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get_settings(self) -> dict | None:
        if self.conn is None:
            return None
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path} is not a dupspeech index ({exc}); give another --index path") from None
        return json.loads(row[0]) if row else None

    def set_settings(self, items: dict) -> None:
        assert self.conn is not None
        with self._tx():
            self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                  [("settings", json.dumps(items)), ("schema", str(SCHEMA_VERSION))])
        self.settings = _settings_from_items(items)

    def bind(self, cfg: Settings) -> None:
        self.settings = cfg

    @contextmanager
    def transaction(self):
        self._pending, self._held = {"bands": [], "windows": []}, 0
        try:
            with self._tx():
                yield self
                self._flush()
        finally:
            self._pending, self._held = {"bands": [], "windows": []}, 0

    # inside a transaction

    FLUSH_ROWS = 1 << 18
    """Band rows held back before they are written, sorted: rows inserted in key order go into SQLite's
    b-trees several times faster than rows in the order speeches come."""

    def _flush(self) -> None:
        conn = self.conn
        assert conn is not None
        for table, parts in self._pending.items():
            if parts:
                bands = np.concatenate([b for b, _, _ in parts])
                keys = np.concatenate([k for _, k, _ in parts])
                uids = np.concatenate([np.full(len(b), uid, dtype=np.int64) for b, _, uid in parts])
                order = np.lexsort((uids, keys, bands))  # the tables' primary key order: band, key, speech
                conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)",
                                 zip(bands[order].tolist(), keys[order].tolist(), uids[order].tolist()))
                parts.clear()
        self._held = 0

    def file_state(self, name: str) -> str | None:
        row = self.conn.execute("SELECT sha256 FROM files WHERE name = ?", (name,)).fetchone()  # type: ignore[union-attr]
        return None if row is None else (row[0] or "")

    def delete_file(self, name: str) -> None:
        conn, cfg = self.conn, self.settings
        assert conn is not None
        self._flush()
        # band rows are found again from the stored signatures and seeds: no second index on speech needed
        rows = conn.execute("SELECT s.id, s.signature, s.seeds FROM speeches s JOIN files f ON s.file = f.id"
                            " WHERE f.name = ?", (name,)).fetchall()
        for uid, sig, seeds in rows:
            if sig is not None:
                conn.executemany("DELETE FROM bands WHERE band = ? AND key = ? AND speech = ?",
                                 [(band, key, uid) for band, key in _band_keys_of(
                                     np.frombuffer(sig, dtype="<u4")[None, :], cfg.cluster.candidate_threshold)])
            windows = align_stage.window_signatures_of(_u64(seeds), cfg.align, seed=cfg.minhash.seed)
            if len(windows):
                conn.executemany("DELETE FROM windows WHERE band = ? AND key = ? AND speech = ?",
                                 [(band, key, uid) for band, key in _band_keys_of(windows, cfg.align.window_threshold)])
        conn.execute("DELETE FROM files WHERE name = ?", (name,))

    def put_file(self, record: FileRecord, sha: str | None, doc: Document | None, dropped: list[Dropped]) -> int:
        cur = self.conn.execute(  # type: ignore[union-attr]
            "INSERT INTO files (name, sha256, encoding, status, reason, size, path, text, dropped)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.file, sha, record.encoding, record.status, record.reason, record.size,
             doc.path if doc else None, doc.text if doc else None, _dropped_json(dropped)),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def put_speech(self, fid: int, speech: Speech, shingle_set: np.ndarray, seeds: np.ndarray,
                   sig: np.ndarray | None, windows: np.ndarray) -> None:
        conn, cfg = self.conn, self.settings
        assert conn is not None
        cur = conn.execute(
            f"INSERT INTO speeches (file, {_SPEECH_COLUMNS}, n_shingles, shingles, seeds, signature)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fid, *_speech_row(speech), len(shingle_set), _shingle_blob(shingle_set, seeds),
             seeds.astype("<u8").tobytes(), None if sig is None else sig.astype("<u4").tobytes()),
        )
        uid = int(cur.lastrowid)  # type: ignore[arg-type]
        if sig is not None:
            self._hold("bands", uid, sig[None, :], cfg.cluster.candidate_threshold)
        if len(windows):
            self._hold("windows", uid, windows, cfg.align.window_threshold)
        if self._held >= self.FLUSH_ROWS:
            self._flush()

    def _hold(self, table: str, uid: int, sigs: np.ndarray, threshold: float) -> None:
        """Keep the band rows of a speech's signatures for :meth:`_flush`."""
        bands, keys = _band_rows(np.asarray(sigs, dtype=np.uint32), threshold)
        self._pending[table].append((bands, keys, uid))
        self._held += len(bands)

    # reading

    def records(self) -> list[tuple[FileRecord, str | None]]:
        if self.conn is None:
            return []
        rows = self.conn.execute("SELECT name, encoding, status, reason, size, path FROM files").fetchall()
        return [(FileRecord(n, e, st, r, sz), p) for n, e, st, r, sz, p in rows]

    def lookup_speech(self, sig: np.ndarray) -> set[int]:
        out: set[int] = set()
        for band, key in _band_keys_of(sig[None, :], self.settings.cluster.candidate_threshold):
            out.update(u for (u,) in self.conn.execute(  # type: ignore[union-attr]
                "SELECT speech FROM bands WHERE band = ? AND key = ?", (band, key)))
        return out

    def lookup_windows(self, windows: np.ndarray) -> list[set[int]]:
        out = []
        for band, key in _band_keys_of(windows, self.settings.align.window_threshold):
            members = {u for (u,) in self.conn.execute(  # type: ignore[union-attr]
                "SELECT speech FROM windows WHERE band = ? AND key = ?", (band, key))}
            if members:
                out.append(members)
        return out

    def load(self, uids: list[int] | None = None) -> _Stored:
        conn = self.conn
        assert conn is not None
        cols = f"f.name, s.id, {', '.join('s.' + c for c in _SPEECH_COLUMNS.split(', '))}, s.shingles, s.seeds"
        if uids is None:
            rows = conn.execute(f"SELECT {cols} FROM speeches s JOIN files f ON s.file = f.id").fetchall()
            file_rows = conn.execute(
                "SELECT name, encoding, status, reason, size, path, text, dropped FROM files").fetchall()
        else:
            rows = []
            for start in range(0, len(uids), 500):
                part = uids[start : start + 500]
                rows += conn.execute(f"SELECT {cols} FROM speeches s JOIN files f ON s.file = f.id"
                                     f" WHERE s.id IN ({', '.join('?' * len(part))})", part).fetchall()
            names = sorted({r[0] for r in rows})
            file_rows = []
            for start in range(0, len(names), 500):
                part = names[start : start + 500]
                file_rows += conn.execute(
                    "SELECT name, encoding, status, reason, size, path, text, dropped FROM files"
                    f" WHERE name IN ({', '.join('?' * len(part))})", part).fetchall()
        return _assemble(
            [(FileRecord(n, e, st, r, sz), p, t, d) for n, e, st, r, sz, p, t, d in file_rows],
            [(row[0], row[1], list(row[2:11]), row[11], row[12]) for row in rows],
        )


# --- Redis --------------------------------------------------------------------------------------------------


class _RedisStore:
    """The shared store: LSH bands in datasketch's Redis storage for ``MinHashLSH``, the rest in Redis hashes.

    An add or remove writes the LSH bands first and then every record in one ``MULTI``/``EXEC``, so an
    interrupted add leaves at most band entries of speeches that do not exist, which queries ignore.
    """

    def __init__(self, url: str, *, create: bool) -> None:
        redis = require("redis", extra="index-redis", purpose="an index on Redis")
        parsed = urlparse(url)
        try:
            db = int(parsed.path.strip("/") or 0)
        except ValueError:
            raise ConfigError(f"{url}: the database must be a number, as in redis://host:6379/0") from None
        self.name = parse_qs(parsed.query).get("name", ["dupspeech"])[0]
        self.params = {"host": parsed.hostname or "localhost", "port": parsed.port or 6379, "db": db}
        if parsed.password:
            self.params["password"] = parsed.password
        self.url = url
        self.r = redis.Redis(**self.params)
        try:
            self.r.ping()
        except redis.exceptions.RedisError as exc:
            raise CorpusError(f"cannot reach Redis at {self.params['host']}:{self.params['port']} ({exc});"
                              " is redis-server running?") from None
        self.key = lambda *parts: ":".join((self.name, *map(str, parts)))
        self.lsh = self.win = None

    def close(self) -> None:
        self.r.close()

    def get_settings(self) -> dict | None:
        raw = self.r.hget(self.key("meta"), "settings")
        if raw is None:
            return None
        self.bind(_settings_from_items(json.loads(raw)))
        return json.loads(raw)

    def set_settings(self, items: dict) -> None:
        self.r.hset(self.key("meta"), mapping={"settings": json.dumps(items), "schema": SCHEMA_VERSION})
        self.bind(_settings_from_items(items))

    def bind(self, cfg: Settings) -> None:
        from datasketch import MinHashLSH

        self.settings = cfg

        def lsh(suffix: str, threshold: float, num_perm: int) -> MinHashLSH:
            config = {"type": "redis", "basename": self.key(suffix).encode(), "redis": dict(self.params)}
            return MinHashLSH(threshold=threshold, num_perm=num_perm, storage_config=config)

        self.lsh = lsh("lsh", cfg.cluster.candidate_threshold, cfg.minhash.num_perm)
        self.win = lsh("win", cfg.align.window_threshold, cfg.align.num_perm)

    def _sketch(self, sig: np.ndarray, seed: int):
        from datasketch import LeanMinHash

        return LeanMinHash(seed=seed, hashvalues=sig, scheme="affine32")

    @contextmanager
    def transaction(self):
        tx = _RedisTransaction(self)
        yield tx
        tx.commit()

    def records(self) -> list[tuple[FileRecord, str | None]]:
        out = []
        for raw in self.r.hvals(self.key("files")):
            f = json.loads(raw)
            out.append((FileRecord(f["name"], f["encoding"], f["status"], f["reason"], f["size"]), f["path"]))
        return out

    def lookup_speech(self, sig: np.ndarray) -> set[int]:
        return set(self.lsh.query(self._sketch(sig, self.settings.minhash.seed)))  # type: ignore[union-attr]

    def lookup_windows(self, windows: np.ndarray) -> list[set[int]]:
        win = self.win
        assert win is not None
        # the band keys exactly as MinHashLSH computes them for an insert or a query (hashvalues as datasketch
        # holds them, byte-swapped); one pipelined read per band
        values = self._sketch(windows[0], self.settings.minhash.seed).hashvalues.dtype
        rows = windows.astype(values)
        out = []
        for (start, end), table in zip(win.hashranges, win.hashtables):
            keys = sorted({win._H(row[start:end]) for row in rows})
            for members in table.getmany(*keys):
                uids = {pickle.loads(m)[0] for m in members}
                if uids:
                    out.append(uids)
        return out

    def _file(self, name: str) -> dict | None:
        raw = self.r.hget(self.key("files"), name)
        return None if raw is None else json.loads(raw)

    def load(self, uids: list[int] | None = None) -> _Stored:
        records = [json.loads(raw) for raw in self.r.hvals(self.key("files"))]
        if uids is not None:
            wanted = set(uids)
            records = [f for f in records if wanted & set(f["speeches"])]
        names = [f["name"] for f in records]
        texts = self.r.hmget(self.key("text"), names) if names else []
        dropped = self.r.hmget(self.key("dropped"), names) if names else []
        pipe = self.r.pipeline(transaction=False)
        todo = [(f["name"], uid) for f in records for uid in f["speeches"] if uids is None or uid in wanted]
        for _, uid in todo:
            pipe.hmget(self.key("speech", uid), ["row", "shingles", "seeds"])
        rows = [(name, uid, json.loads(row), sh or None, se) for (name, uid), (row, sh, se) in zip(todo, pipe.execute())
                if row is not None]
        return _assemble(
            [(FileRecord(f["name"], f["encoding"], f["status"], f["reason"], f["size"]), f["path"],
              None if t is None else t.decode("utf-8", "surrogatepass"), (d or b"[]").decode("utf-8"))
             for f, t, d in zip(records, texts, dropped)],
            rows,
        )


class _RedisTransaction:
    """Writes of one add or remove, applied at the end: LSH bands first, then the records in one MULTI/EXEC."""

    def __init__(self, store: _RedisStore) -> None:
        self.store = store
        self.pipe = store.r.pipeline(transaction=True)
        self.inserts: list[tuple[int, np.ndarray | None, np.ndarray]] = []
        self.removals: list[tuple[int, int]] = []  # (uid, windows)
        self.files: dict[str, dict] = {}

    def file_state(self, name: str) -> str | None:
        f = self.files.get(name) or self.store._file(name)
        return None if f is None else (f["sha256"] or "")

    def delete_file(self, name: str) -> None:
        f = self.files.pop(name, None) or self.store._file(name)
        if f is None:
            return
        key = self.store.key
        for uid, n_windows in zip(f["speeches"], f["windows"]):
            self.removals.append((uid, n_windows))
            self.pipe.delete(key("speech", uid))
        self.pipe.hdel(key("files"), name)
        self.pipe.hdel(key("text"), name)
        self.pipe.hdel(key("dropped"), name)

    def put_file(self, record: FileRecord, sha: str | None, doc: Document | None, dropped: list[Dropped]) -> str:
        key = self.store.key
        self.files[record.file] = {
            "name": record.file, "sha256": sha, "encoding": record.encoding, "status": record.status,
            "reason": record.reason, "size": record.size, "path": doc.path if doc else None, "speeches": [],
            "windows": [],
        }
        if doc is not None:
            self.pipe.hset(key("text"), record.file, doc.text.encode("utf-8", "surrogatepass"))
            self.pipe.hset(key("dropped"), record.file, _dropped_json(dropped))
        return record.file

    def put_speech(self, name: str, speech: Speech, shingle_set: np.ndarray, seeds: np.ndarray,
                   sig: np.ndarray | None, windows: np.ndarray) -> None:
        uid = int(self.store.r.hincrby(self.store.key("meta"), "next_uid", 1))
        self.files[name]["speeches"].append(uid)
        self.files[name]["windows"].append(len(windows))
        self.pipe.hset(self.store.key("speech", uid), mapping={
            "row": json.dumps(_speech_row(speech), ensure_ascii=False),
            "shingles": _shingle_blob(shingle_set, seeds) or b"",
            "seeds": seeds.astype("<u8").tobytes(),
        })
        self.inserts.append((uid, sig, windows))

    def commit(self) -> None:
        store = self.store
        lsh, win, seed = store.lsh, store.win, store.settings.minhash.seed
        assert lsh is not None and win is not None
        if self.removals:
            with lsh.deletion_session() as s_lsh, win.deletion_session() as s_win:
                for uid, n_windows in self.removals:
                    if uid in lsh:
                        s_lsh.remove(uid)
                    for w in range(n_windows):
                        if (uid, w) in win:
                            s_win.remove((uid, w))
        if self.inserts:
            with lsh.insertion_session() as s_lsh, win.insertion_session() as s_win:
                for uid, sig, windows in self.inserts:
                    if sig is not None:
                        s_lsh.insert(uid, store._sketch(sig, seed), check_duplication=False)
                    for w, row in enumerate(windows):
                        s_win.insert((uid, w), store._sketch(row, seed), check_duplication=False)
        for name, f in self.files.items():
            self.pipe.hset(store.key("files"), name, json.dumps(f, ensure_ascii=False))
        self.pipe.execute()
