"""Clean a corpus: keep one speech per family, optionally drop copied paragraphs, say why for every removal.

:func:`dedup` takes a :class:`~dupspeech.models.Result` of :func:`dupspeech.cluster` (which holds the pages'
texts) and writes a cleaned copy of the corpus into a new folder:

* **families**: one member of each family is kept, chosen by ``keep``:

  - ``"earliest"``: the member with the earliest date, read as alignment reads dates (the speech's title or date
    line, else the page's update time, else ``dates`` given by the caller); members whose dates do not order
    them, or a family without dates, fall back to the first path;
  - ``"longest"``: the member with the most characters (ties: first path);
  - ``"first"``: the member whose file comes first in corpus order (then the first speech in the page).

  The other members' lines are cut out of their pages.
* **copied paragraphs** (``drop_copied=True``): among the speeches that remain, a paragraph whose text lies
  mostly (``copied_share``) inside passages copied from another remaining speech is cut from the one that comes
  later in the keep rule's order, so every passage survives once. Boilerplate is never cut, nor a paragraph
  shorter than the shortest passage alignment reports (``align.min_chars``: salutations, ``谢谢大家！``). A
  speech that loses every paragraph long enough to count is cut whole.

Every input file is accounted for in the manifest: ``kept`` (copied unchanged, byte for byte), ``rewritten``
(lines cut; written in its original encoding when that can encode it, else UTF-8), ``removed`` (every speech in
it was cut; not written) or ``skipped`` (not read, with the reader's reason). The manifest lists every removal
with its lines, characters, reason and the speech kept instead. It is written as ``manifest.json`` and
``removals.csv`` (UTF-8 with BOM) in the output folder.

Safety: the input folder is never written to. The output folder must not be inside the input folder (or contain
it), and must be empty or new unless ``force=True`` (which overwrites files of the same name, and leaves other
files in place).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Literal

from . import align as align_stage
from .errors import ConfigError
from .models import Copy, Document, Result, Speech
from .report import dumps
from .tables import write_csv

KeepRule = Literal["earliest", "longest", "first"]
KEEP_RULES: tuple[str, ...] = ("earliest", "longest", "first")
FileStatus = Literal["kept", "rewritten", "removed", "skipped"]

MANIFEST = "manifest.json"
REMOVALS = "removals.csv"
_RESERVED = {MANIFEST, REMOVALS}


@dataclass(frozen=True, slots=True)
class Removal:
    """One stretch of text cut from the corpus.

    Attributes:
        file: The page it was cut from.
        speech: The speech it belongs to.
        what: ``"speech"`` (the whole speech) or ``"paragraph"``.
        start_line, end_line: 1-based inclusive lines of the speech or paragraph.
        start_char, end_char: Character offsets into the page's decoded text.
        reason: Why, in words (``"duplicate in family 3"``, ``"copied from a.txt#2 L5-7 (similarity 0.97)"``).
        kept: The speech that keeps this text.
        rule: What decided which copy is kept (``"earliest: 2020-01 (title) before 2023 (title)"``).
    """

    file: str
    speech: str
    what: Literal["speech", "paragraph"]
    start_line: int
    end_line: int
    start_char: int
    end_char: int
    reason: str
    kept: str
    rule: str


@dataclass(frozen=True, slots=True)
class FamilyChoice:
    """Which member of a family was kept, and what decided it."""

    cluster: int
    kept: str
    removed: tuple[str, ...]
    rule: str


@dataclass(frozen=True, slots=True)
class FileAction:
    """What happened to one input file.

    Attributes:
        file: Path relative to the corpus root (as in ``Result.files``).
        status: ``"kept"``, ``"rewritten"``, ``"removed"`` or ``"skipped"``.
        reason: Why, in words.
        written: Path of the output file relative to the output folder, or ``None`` when nothing was written.
        encoding: The encoding the file was read in (``None`` when skipped).
        written_encoding: The encoding the output was written in (``None`` when nothing was written).
        speeches_kept, speeches_removed, paragraphs_removed: Counts for this page.
    """

    file: str
    status: FileStatus
    reason: str
    written: str | None
    encoding: str | None
    written_encoding: str | None = None
    speeches_kept: int = 0
    speeches_removed: int = 0
    paragraphs_removed: int = 0


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything :func:`dedup` did: one action per input file, the family choices and every removal."""

    out_dir: str
    input_dir: str | None
    keep: str
    drop_copied: bool
    files: tuple[FileAction, ...]
    families: tuple[FamilyChoice, ...]
    removals: tuple[Removal, ...]

    def to_dict(self) -> dict:
        """The manifest as plain Python objects (what ``manifest.json`` holds)."""
        return {
            "version": 1,
            "out_dir": self.out_dir,
            "input_dir": self.input_dir,
            "keep": self.keep,
            "drop_copied": self.drop_copied,
            "files": [asdict(f) for f in self.files],
            "families": [{**asdict(c), "removed": list(c.removed)} for c in self.families],
            "removals": [asdict(r) for r in self.removals],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The manifest as JSON text (Chinese kept readable)."""
        return dumps(self.to_dict(), indent=indent, plain_floats=True)  # a manifest holds no float

    def count(self, status: str) -> int:
        """Number of input files with ``status``."""
        return sum(1 for f in self.files if f.status == status)


def dedup(
    result: Result,
    out_dir: str | os.PathLike[str],
    *,
    keep: KeepRule = "earliest",
    drop_copied: bool = False,
    copied_share: float = 0.5,
    force: bool = False,
    dates: Mapping[str, str] | None = None,
) -> Manifest:
    """Write a cleaned copy of the corpus into ``out_dir``: one speech per family, every removal explained.

    Args:
        result: A result of :func:`dupspeech.cluster` run on the corpus (it holds the pages' texts).
        out_dir: The output folder; created if missing. Must not overlap the input folder.
        keep: Which member of a family stays: ``"earliest"``, ``"longest"`` or ``"first"`` (path order).
        drop_copied: Also cut paragraphs copied from another remaining speech (needs ``provenance=True``).
        copied_share: Share of a paragraph's characters that must lie in copied passages for it to be cut.
        force: Write into a non-empty ``out_dir`` (files of the same name are overwritten).
        dates: Dates of files or speeches for ``keep="earliest"`` (``{"a.txt": "2021-03"}``), as for
            :func:`dupspeech.cluster`.

    Returns:
        The :class:`Manifest`, also written to ``out_dir/manifest.json`` and ``out_dir/removals.csv``.

    Raises:
        ConfigError: a bad option, a result without documents, an ``out_dir`` inside (or around) the input
            folder, or a non-empty ``out_dir`` without ``force``.

    Example:
        >>> import dupspeech, tempfile
        >>> body = "今天我们召开全镇防汛工作会议，安排部署今年汛期的各项准备工作，请各村认真抓好落实。"
        >>> r = dupspeech.cluster({"a.txt": "甲镇的讲话\\n" + body, "b.txt": "乙镇的讲话\\n" + body}, min_shingles=5)
        >>> m = dedup(r, tempfile.mkdtemp(), keep="first")
        >>> [(f.file, f.status) for f in m.files]
        [('a.txt', 'kept'), ('b.txt', 'removed')]
    """
    if keep not in KEEP_RULES:
        raise ConfigError(f"keep must be one of {', '.join(KEEP_RULES)}; got {keep!r}")
    if not 0.0 < copied_share <= 1.0:
        raise ConfigError(f"copied_share must be in (0, 1], got {copied_share}")
    if result.speeches and not result.documents:
        raise ConfigError("this result holds no documents; run dupspeech.cluster(...) on the corpus and dedup that")
    root = input_root(result)
    out = check_out_dir(out_dir, root, force=force)
    protected = {os.path.realpath(d.path) for d in result.documents if d.path}

    docs = {d.name: d for d in result.documents}
    by_id = {s.id: s for s in result.speeches}
    order, when = _order(result, keep, dates)
    removals: list[Removal] = []
    families: list[FamilyChoice] = []
    gone: set[str] = set()
    for c in result.clusters:
        kept, rule = _choose(c.speeches, order, when, keep, by_id)
        others = tuple(s for s in c.speeches if s != kept)
        families.append(FamilyChoice(c.id, kept, others, rule))
        for sid in others:
            s = by_id[sid]
            why = "truncated copy" if sid in c.contained else "duplicate"
            removals.append(_removal(s, "speech", s.span.start, s.span.end, s.span.start_line, s.span.end_line,
                                     f"{why} in family {c.id}", kept, rule))
            gone.add(sid)
    if drop_copied:
        removals.extend(_copied_paragraphs(result, docs, gone, order, keep, copied_share))
    removals = _resolve_keepers(removals)

    speeches_of: dict[str, list[Speech]] = {}
    for s in result.speeches:
        speeches_of.setdefault(s.file, []).append(s)
    removals_of: dict[str, list[Removal]] = {}
    for r in removals:
        removals_of.setdefault(r.file, []).append(r)
    actions = [
        _write_file(f, docs.get(f.file), speeches_of.get(f.file, []), removals_of.get(f.file, []), out, protected)
        for f in result.files
    ]
    removals.sort(key=lambda r: (r.file, r.start_char, r.what != "speech"))
    manifest = Manifest(
        out_dir=str(out),
        input_dir=root,
        keep=keep,
        drop_copied=drop_copied,
        files=tuple(actions),
        families=tuple(families),
        removals=tuple(removals),
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    columns = tuple(Removal.__dataclass_fields__)
    write_csv([asdict(r) for r in manifest.removals], columns, out / REMOVALS)
    return manifest


def input_root(result: Result) -> str | None:
    """The corpus folder the result was read from (``None`` for texts given from Python)."""
    for d in result.documents:
        if d.path:
            parts = Path(d.path).parts
            depth = len(PurePosixPath(d.name).parts)
            return str(Path(*parts[: len(parts) - depth])) if len(parts) > depth else os.path.dirname(d.path)
    return None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_out_dir(out_dir: str | os.PathLike[str], input_dir: str | os.PathLike[str] | None, *,
                  force: bool = False) -> Path:
    """Refuse an output folder that overlaps ``input_dir``, is a file, or is not empty (unless ``force``).

    :func:`dedup` calls this; call it yourself to fail fast before a long clustering run.

    Raises:
        ConfigError: saying which folder to give instead.
    """
    out = Path(out_dir).absolute()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"the output folder {out} is a file; give a folder for the cleaned corpus")
    if input_dir is not None:
        real_out = os.path.realpath(out)
        real_root = os.path.realpath(input_dir)
        if _inside(real_out, real_root):
            raise ConfigError(
                f"the output folder {out} is inside the input folder {input_dir}; dedup never writes into its "
                "input, give a folder elsewhere (e.g. next to it)"
            )
        if _inside(real_root, real_out):
            raise ConfigError(
                f"the output folder {out} contains the input folder {input_dir}; give a separate, empty folder"
            )
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ConfigError(f"the output folder {out} is not empty; give a new or empty folder, or use --force")
    return out


def _dates(result: Result, given: Mapping[str, str] | None) -> list[align_stage.Dated | None]:
    from .api import _speech_dates

    parsed, _ = align_stage.caller_dates(given, None)
    by_name = {d.name: d for d in result.documents}
    return _speech_dates(list(result.speeches), by_name, list(result.dropped), parsed)


def _order(result: Result, keep: str, given: Mapping[str, str] | None) -> tuple[dict[str, tuple], dict]:
    """A sort key per speech (smaller is preferred: kept, and keeps shared passages), and its date if any."""
    if keep == "first":
        return {s.id: (k,) for k, s in enumerate(result.speeches)}, {}
    if keep == "longest":
        return {s.id: (-s.chars, k) for k, s in enumerate(result.speeches)}, {}
    keys: dict[str, tuple] = {}
    dates: dict[str, align_stage.Dated] = {}
    for k, (s, d) in enumerate(zip(result.speeches, _dates(result, given))):
        # dated before undated; a.before(b) implies a sorts first, so this agrees with alignment's direction
        keys[s.id] = (0, d.earliest, d.latest, k) if d is not None else (1, (0, 0, 0), (0, 0, 0), k)
        if d is not None:
            dates[s.id] = d
    return keys, dates


def _choose(members: tuple[str, ...], order: dict[str, tuple], dates: dict, keep: str,
            by_id: dict[str, Speech]) -> tuple[str, str]:
    """The member to keep and the words saying what decided it."""
    ranked = sorted(members, key=order.__getitem__)
    best = ranked[0]
    if keep == "first":
        return best, "first: first in corpus (path) order"
    if keep == "longest":
        chars = by_id[best].chars
        tie = sum(1 for m in members if by_id[m].chars == chars) > 1
        return best, f"longest: {chars} chars" + (" (tie: first path)" if tie else "")
    dated = [m for m in ranked if m in dates]
    if not dated:
        return best, "earliest: no member has a date; first path"
    first = dates[best]
    undated = len(members) - len(dated)
    note = f"; {undated} member{'s' if undated > 1 else ''} without a date" if undated else ""
    if all(first.before(dates[m]) for m in dated[1:]):
        others = ", ".join(sorted({f"{dates[m].text} ({dates[m].where})" for m in dated[1:]}))
        versus = f" before {others}" if others else ""
        return best, f"earliest: {first.text} ({first.where}){versus}{note}"
    return best, f"earliest: dates do not order the members ({first.text} is not strictly earlier); first path{note}"


def _removal(s: Speech, what: str, start: int, end: int, l0: int, l1: int, reason: str, kept: str, rule: str) -> Removal:
    return Removal(s.file, s.id, what, l0, l1, start, end, reason, kept, rule)  # type: ignore[arg-type]


def _copied_paragraphs(result: Result, docs: dict[str, Document], gone: set[str], order: dict[str, tuple],
                       keep: str, share: float) -> list[Removal]:
    """Paragraphs of remaining speeches that lie mostly in passages copied from a preferred remaining speech."""
    # each copy between two remaining speeches: the side later in the keep order loses its part
    covered: dict[str, list[tuple[int, int, Copy, bool]]] = {}
    for c in result.copies:
        a, b = c.source.speech, c.target.speech
        if c.boilerplate or a == b or a in gone or b in gone:
            continue
        target_is_later = order[a] < order[b]
        loc = c.target if target_is_later else c.source
        covered.setdefault(loc.speech, []).append((loc.start_char, loc.end_char, c, target_is_later))
    rule = f"{keep}: {_PASSAGE_RULE[keep]}"
    # a paragraph shorter than the shortest passage alignment reports (a salutation, 谢谢大家！) is not cut alone
    shortest = int(dict(result.settings).get("align.min_chars", 30))  # type: ignore[call-overload]
    out: list[Removal] = []
    for s in result.speeches:
        ranges = covered.get(s.id)
        if not ranges:
            continue
        text = docs[s.file].text
        merged = _merge((r0, r1) for r0, r1, _, _ in ranges)
        body = [p for p in s.paragraphs if p.kind != "title" and _solid(text[p.span.start : p.span.end]) >= shortest]
        cut = []
        for p in body:
            p0, p1 = p.span.start, p.span.end
            total = _solid(text[p0:p1])
            inside = sum(_solid(text[max(r0, p0) : min(r1, p1)]) for r0, r1 in merged if r0 < p1 and r1 > p0)
            if inside < share * total:
                continue
            _, _, c, target_is_later = max(ranges, key=lambda r: min(r[1], p1) - max(r[0], p0))
            other = c.source if target_is_later else c.target
            verb = "copied from" if c.direction == "source_earlier" and target_is_later else "also in"
            reason = (f"{verb} {other.speech} L{other.start_line}-{other.end_line} "
                      f"(similarity {c.similarity:.2f}; {inside} of {total} chars covered)")
            cut.append(_removal(s, "paragraph", p0, p1, p.span.start_line, p.span.end_line, reason, other.speech,
                                rule))
        if cut and len(cut) == len(body):
            out.append(_removal(s, "speech", s.span.start, s.span.end, s.span.start_line, s.span.end_line,
                                "every paragraph is copied from speeches kept elsewhere", cut[0].kept, rule))
        else:
            out.extend(cut)
    return out


_PASSAGE_RULE = {
    "earliest": "a shared passage stays in the earlier speech (dated before undated, then path order)",
    "longest": "a shared passage stays in the longer speech",
    "first": "a shared passage stays in the speech first in path order",
}


def _solid(text: str) -> int:
    """Number of non-space characters."""
    return len(text) - sum(1 for ch in text if ch.isspace())


def _merge(ranges) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _resolve_keepers(removals: list[Removal]) -> list[Removal]:
    """Point ``kept`` at a speech that survives: a keeper cut whole passes on to the speech it was cut for."""
    instead = {r.speech: r.kept for r in removals if r.what == "speech"}
    out = []
    for r in removals:
        kept, seen = r.kept, {r.speech}
        while kept in instead and kept not in seen:
            seen.add(kept)
            kept = instead[kept]
        out.append(r if kept == r.kept else replace(r, kept=kept))
    return out


def _cut_range(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole lines when only blanks stand between it and the line ends."""
    ls = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    if text[ls:start].strip() == "":
        start = ls
    le = end
    while le < len(text) and text[le] not in "\r\n":
        le += 1
    if text[end:le].strip() == "":
        end = le
        if text.startswith("\r\n", end):
            end += 2
        elif end < len(text):
            end += 1
    return start, end


def _rewrite(text: str, cuts: list[tuple[int, int]]) -> str:
    spans = sorted(_cut_range(text, a, b) for a, b in cuts)
    parts, pos = [], 0
    for a, b in spans:
        if a > pos:
            parts.append(text[pos:a])
        pos = max(pos, b)
    parts.append(text[pos:])
    return "".join(parts)


def _safe_target(out: Path, name: str, protected: set[str]) -> Path | str:
    """The output path of ``name``, or why it cannot be written."""
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or name in _RESERVED:
        return f"name {name!r} is not a safe relative path in the output folder"
    target = out.joinpath(*rel.parts)
    if os.path.realpath(target) in protected:
        return f"{target} is an input file; dedup never writes into its input"
    return target


def _write_file(record, doc: Document | None, own: list[Speech], cut: list[Removal], out: Path,
                protected: set[str]) -> FileAction:
    """Write one page (the speeches and removals given are this page's) and say what happened to it."""
    if doc is None:
        return FileAction(record.file, "skipped", f"not read: {record.reason}", None, record.encoding)
    whole = {r.speech for r in cut if r.what == "speech"}
    paragraphs = sum(1 for r in cut if r.what == "paragraph" and r.speech not in whole)
    counts = {"speeches_kept": len(own) - len(whole), "speeches_removed": len(whole), "paragraphs_removed": paragraphs}
    if own and len(whole) == len(own):
        return FileAction(record.file, "removed",
                          f"every speech in the page ({len(own)}) was cut as a copy of a speech kept elsewhere",
                          None, doc.encoding, None, **counts)
    target = _safe_target(out, record.file, protected)
    if isinstance(target, str):
        return FileAction(record.file, "skipped", target, None, doc.encoding, None, **counts)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not cut:
        reason = "no speech found in the page" if not own else "no duplicate speech or copied paragraph"
        if doc.path and os.path.isfile(doc.path):
            shutil.copyfile(doc.path, target)
            written_encoding = doc.encoding
        else:
            written_encoding = _write_text(target, doc.text, doc.encoding)
        return FileAction(record.file, "kept", reason, record.file, doc.encoding, written_encoding, **counts)
    text = _rewrite(doc.text, [(r.start_char, r.end_char) for r in cut if r.what == "speech" or r.speech not in whole])
    written_encoding = _write_text(target, text, doc.encoding)
    what = [f"{len(whole)} of {len(own)} speeches"] if whole else []
    if paragraphs:
        what.append(f"{paragraphs} copied paragraphs")
    return FileAction(record.file, "rewritten", "cut " + " and ".join(what), record.file, doc.encoding,
                      written_encoding, **counts)


def _write_text(target: Path, text: str, encoding: str) -> str:
    """Write ``text`` in ``encoding`` when it can encode it (keeps the corpus as it was), else in UTF-8."""
    if encoding not in ("str", "utf-8"):
        try:
            target.write_bytes(text.encode(encoding))
            return encoding
        except (UnicodeEncodeError, LookupError):
            pass
    target.write_bytes(text.encode("utf-8"))
    return "utf-8"
