"""Normalisation for matching only; reported text always stays as written.

What is folded:

* compatibility forms (NFKC): full-width letters, digits and punctuation, ideographic space;
* case (``XX`` and ``xx`` match);
* white space and punctuation are dropped, so a paragraph wrapped differently or punctuated with ``，`` in one
  copy and ``,`` in another matches;
* template placeholders (``XX``, ``xx``, ``×××``, ``X同志``'s ``X``, ``某某``) become one symbol,
  :data:`PLACEHOLDER`; with ``fold_numbers`` every number does too, so ``2024年`` matches ``XX年``.

Every normalised character keeps the offset of the original character it came from, so a match found on the
normalised text maps back to ``document.text[start:end]``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from . import _jit

PLACEHOLDER = "\ue000"
"""The symbol that stands for every template placeholder (and, with ``fold_numbers``, every number)."""

_DROP, _KEEP = 0, 1
_PLACEHOLDER_RUNS = re.compile(r"(?<![a-z])[x×*]{1,6}(?![a-z])|某某+")
_NUMBER_RUNS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_RUNS = {False: _PLACEHOLDER_RUNS, True: re.compile(_PLACEHOLDER_RUNS.pattern + "|" + _NUMBER_RUNS.pattern)}
# The same runs as ``_RUNS``, written so that every match starts with one character of a set: Python's regex
# engine then skips ahead to the next character of that set in a tight loop instead of trying the three
# alternatives at every position (7x faster on speech text). The alternative is picked by a look-behind at
# that first character, and ``(?<![a-z].)`` is ``(?<![a-z])`` moved past it. Tested equal to ``_RUNS``.
_FAST_RUNS = {
    False: re.compile(r"[x×*某](?:(?<=[x×*])(?<![a-z].)[x×*]{0,5}(?![a-z])|(?<=某)某+)"),
    True: re.compile(
        r"[x×*某0-9](?:(?<=[x×*])(?<![a-z].)[x×*]{0,5}(?![a-z])|(?<=某)某+|(?<=[0-9])[0-9]*(?:\.[0-9]+)?)"
    ),
}
# Stands between the spans of :func:`normalize_spans` during its one regular-expression pass. It is never in
# folded text (the table drops it and maps nothing onto it), no run consumes it, and the look-arounds of the
# placeholder runs see it as they see the start or end of a string: so runs stay inside their span.
_SEP = 0x0A
_OFFSET32_LIMIT = 2**31


def _offset_dtype(end: int) -> type:
    """int32 offset maps (half the memory of int64) when every offset is below ``end`` and fits, else int64."""
    return np.int32 if end < _OFFSET32_LIMIT else np.int64


def _empty() -> Normalized:
    empty = np.zeros(0, dtype=np.int32)
    return Normalized("", empty, empty)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text with a map back to the original.

    Attributes:
        text: The normalised text.
        starts: ``starts[i]`` is the offset in the original text of the first character behind ``text[i]``.
        ends: ``ends[i]`` is the offset just past the last original character behind ``text[i]``.

    ``starts`` and ``ends`` are int32 arrays (int64 only for a text of 2**31 characters or more).
    """

    text: str
    starts: np.ndarray
    ends: np.ndarray

    def original_range(self, i: int, j: int) -> tuple[int, int]:
        """Original ``[start, end)`` covered by normalised ``text[i:j]`` (``i < j``)."""
        return int(self.starts[i]), int(self.ends[j - 1])

    def __len__(self) -> int:
        return len(self.text)


@dataclass(frozen=True, slots=True)
class OffsetMaps:
    """The offset maps of many normalised texts (their :attr:`Normalized.starts` and :attr:`Normalized.ends`)
    without the texts, kept compact: a normalised character's original start is the previous one's plus one
    except where characters were dropped or folded between them, so only those breaks are stored, with the
    characters that stand for more than one original character (a folded number or placeholder). In speech text
    about one character in nine starts a break: about one byte a character instead of the maps' eight (30 MiB
    for a 100 MB corpus). Build with :meth:`of`; :meth:`original` looks up many ranges at once.

    Attributes:
        bounds: Text ``k`` is positions ``bounds[k]:bounds[k + 1]`` of all the texts joined (``int64``).
        at: The positions (joined) where a run of consecutive original offsets starts, ascending (0 first).
        base: The original start of the character at each of them.
        wide_at: The positions (joined) whose character stands for more than one original character, ascending.
        wide_end: The original end of each of those.
    """

    bounds: np.ndarray
    at: np.ndarray
    base: np.ndarray
    wide_at: np.ndarray
    wide_end: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[Normalized], *, chunk: int = 1 << 18) -> OffsetMaps:
        """The maps of ``texts``, read about ``chunk`` characters at a time (the temporaries stay near 3 MiB)."""
        bounds = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), out=bounds[1:])
        parts = _MapParts()
        lo = 0
        while lo < len(texts):
            hi = max(lo + 1, int(np.searchsorted(bounds, bounds[lo] + chunk, side="right")) - 1)  # <= len(texts)
            if bounds[hi] > bounds[lo]:
                parts.add(np.concatenate([texts[k].starts for k in range(lo, hi)]),
                          np.concatenate([texts[k].ends for k in range(lo, hi)]), int(bounds[lo]))
            lo = hi
        return parts.maps(bounds)

    def expand(self) -> tuple[np.ndarray, np.ndarray]:
        """The full maps of all the texts end to end: the :attr:`Normalized.starts` and :attr:`Normalized.ends`
        of each, joined (``int64``)."""
        total = int(self.bounds[-1])
        runs = np.diff(np.r_[self.at.astype(np.int64), total])
        starts = np.arange(total, dtype=np.int64) + np.repeat(self.base.astype(np.int64) - self.at, runs)
        ends = starts + 1
        ends[self.wide_at.astype(np.int64)] = self.wide_end
        return starts, ends

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def original(self, which: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Original ``[start, end)`` of normalised ``[i[t], j[t])`` of text ``which[t]`` (``i < j``), for every
        ``t``: what ``texts[which[t]].original_range(i[t], j[t])`` gives, as two ``int64`` arrays."""
        first = self.bounds[np.asarray(which, dtype=np.int64)]
        start = self._start(first + np.asarray(i, dtype=np.int64))
        last = first + np.asarray(j, dtype=np.int64) - 1
        end = self._start(last) + 1
        q = np.searchsorted(self.wide_at, last.astype(self.wide_at.dtype))
        wide = q < len(self.wide_at)
        wide[wide] = self.wide_at[q[wide]] == last[wide]
        end[wide] = self.wide_end[q[wide]]
        return start, end

    def _start(self, pos: np.ndarray) -> np.ndarray:
        p = np.searchsorted(self.at, pos.astype(self.at.dtype), side="right") - 1
        return self.base[p].astype(np.int64) + (pos - self.at[p])


class _MapParts:
    """Builds :class:`OffsetMaps` from the offset maps of the texts end to end, added a part at a time. A run of
    consecutive original offsets goes on across parts (and texts), so the result does not depend on where the
    parts were cut."""

    def __init__(self) -> None:
        self.at: list[np.ndarray] = []
        self.base: list[np.ndarray] = []
        self.wide_at: list[np.ndarray] = []
        self.wide_end: list[np.ndarray] = []
        self.top = 0  # the largest original end
        self.last: int | None = None  # the original start of the last character added

    def add(self, starts: np.ndarray, ends: np.ndarray, first: int) -> None:
        """The maps of the characters at joined positions ``first``, ``first + 1``, ... (the next ones)."""
        if not len(starts):
            return
        new = np.empty(len(starts), dtype=bool)
        new[0] = self.last is None or int(starts[0]) != self.last + 1
        np.not_equal(np.diff(starts), 1, out=new[1:])
        breaks = np.flatnonzero(new)
        self.at.append(breaks + first)
        self.base.append(starts[breaks])
        wide = np.flatnonzero(ends - starts != 1)
        self.wide_at.append(wide + first)
        self.wide_end.append(ends[wide])
        self.top = max(self.top, int(ends.max()))
        self.last = int(starts[-1])

    def maps(self, bounds: np.ndarray) -> OffsetMaps:
        where, offset = _offset_dtype(int(bounds[-1]) + 1), _offset_dtype(self.top + 1)

        def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

        return OffsetMaps(bounds, joined(self.at, where), joined(self.base, offset), joined(self.wide_at, where),
                          joined(self.wide_end, offset))


@lru_cache(maxsize=1)
def _bmp_table() -> np.ndarray:
    """For each BMP code point: the code point it matches as, or 0 when dropped."""
    table = np.zeros(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat[0] in "ZPC" or ch.isspace():
            continue
        if cat[0] == "S" and ch not in "×*＊":
            continue
        folded = unicodedata.normalize("NFKC", ch).lower()
        if len(folded) == 1:
            fcat = unicodedata.category(folded)
            if fcat[0] in "ZPC" or folded.isspace():
                continue
            table[cp] = ord(folded)
        else:
            table[cp] = ord(ch.lower()) if len(ch.lower()) == 1 else cp
    table[ord("＊")] = ord("*")
    return table


def normalize(text: str, *, fold_numbers: bool = True, base: int = 0) -> Normalized:
    """Normalise ``text`` for matching, keeping a map back to original offsets.

    Args:
        text: Original text.
        fold_numbers: Match every number as :data:`PLACEHOLDER`.
        base: Added to every offset, so offsets point into a larger document when ``text`` is a slice of it.

    Example:
        >>> n = normalize("２０２４年，ＸＸ同志：\\n好！")
        >>> n.text == PLACEHOLDER + "年" + PLACEHOLDER + "同志好"
        True
    """
    if not text:
        return _empty()
    # "surrogatepass": a lone surrogate (texts given from Python may hold one) is dropped like other controls
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table = _bmp_table()
    mapped = np.where(cps < 0x10000, table[np.minimum(cps, 0xFFFF)], cps)
    keep = np.flatnonzero(mapped)
    out_cps = mapped[keep]
    starts = keep.astype(_offset_dtype(base + len(text)))
    ends = starts + 1
    folded = out_cps.astype(np.uint32).tobytes().decode("utf-32-le")
    pattern = _RUNS[bool(fold_numbers)]
    runs = [(m.start(), m.end()) for m in pattern.finditer(folded)]
    if runs:
        keep_mask = np.ones(len(folded), dtype=bool)
        chars = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).copy()
        for a, b in runs:
            chars[a] = ord(PLACEHOLDER)
            ends[a] = ends[b - 1]
            keep_mask[a + 1 : b] = False
        chars, starts, ends = chars[keep_mask], starts[keep_mask], ends[keep_mask]
        folded = chars.tobytes().decode("utf-32-le")
    if base:
        starts = starts + base
        ends = ends + base
    return Normalized(folded, starts, ends)


def normalize_spans(text: str, spans, *, fold_numbers: bool = True) -> Normalized:
    """Normalise several spans of one text in one go, e.g. the paragraphs of a speech in its page.

    The same result as ``concat([normalize(text[a:b], fold_numbers=fold_numbers, base=a) for a, b in spans])``
    (each span on its own: a placeholder or number never runs from one span into the next), at a fraction of
    the cost: one table lookup over all the spans' characters, one regular-expression pass, no per-character
    or per-run Python work.

    Args:
        text: The whole original text (a page).
        spans: ``(start, end)`` offsets into ``text``, ``0 <= start <= end <= len(text)``, in the order their
            normalised texts are to be joined.
        fold_numbers: Match every number as :data:`PLACEHOLDER`.

    Example:
        >>> page = "２０２４年\\nXX同志：好！"
        >>> n = normalize_spans(page, [(0, 5), (6, 13)])
        >>> n.text == PLACEHOLDER + "年" + PLACEHOLDER + "同志好", n.original_range(2, 4)
        (True, (6, 9))
    """
    return normalize_many([(text, spans)], fold_numbers=fold_numbers)[0]


BATCH_CHARS = 1 << 18
"""Characters of text :func:`normalize_many` takes at once. Its temporaries are about 30 bytes per character:
8 MiB, freed before the next batch. Batches of 2 M characters were no faster and added 24 MiB to the peak of a
10 MB corpus, measured."""


def normalize_many(items: Sequence[tuple[str, Any]], *, fold_numbers: bool = True) -> list[Normalized]:
    """:func:`normalize_spans` of every ``(text, spans)`` item, the same results, for many items at once: the
    speeches of a corpus, each a few spans (paragraphs) of its page.

    Items are taken in batches of about :data:`BATCH_CHARS` characters of text; a batch is one table lookup,
    one regular-expression pass and one string for all its items, so the cost per item (about 80 microseconds
    through :func:`normalize_spans`, most of it fixed) goes. Items that share a text (the speeches of a page,
    the same ``str`` object) share its encoding. The results' texts are slices of their batch's string, and
    their offset maps views of its arrays.

    Raises:
        ValueError: a span is not within its text (``0 <= start <= end <= len(text)``).
    """
    out: list[Normalized] = []
    for lo, hi in _batches(items):
        folded, starts, ends, cut, need = _fold_batch(items[lo:hi], fold_numbers)
        for k in range(hi - lo):
            o0, o1 = int(cut[k]), int(cut[k + 1])
            if need[k] < 0:  # no spans
                out.append(_empty())
                continue
            item_dtype = _offset_dtype(int(need[k]) + 1)
            out.append(Normalized(folded[o0:o1], starts[o0:o1].astype(item_dtype, copy=False),
                                  ends[o0:o1].astype(item_dtype, copy=False)))
    return out


def normalize_joined(items: Sequence[tuple[str, Any]], *, fold_numbers: bool = True) -> tuple[str, OffsetMaps]:
    """The texts :func:`normalize_many` gives, end to end in one string, and their :class:`OffsetMaps` (text
    ``k`` is ``text[maps.bounds[k]:maps.bounds[k + 1]]``): the same as joining those texts and
    ``OffsetMaps.of(normalize_many(items))``, without an object, a string and two arrays per item that are
    joined again afterwards (the speeches of the 100 MB benchmark corpus: 0.93 -> 0.59 s with :func:`_runs_jit`,
    measured).

    Raises:
        ValueError: a span is not within its text (``0 <= start <= end <= len(text)``).
    """
    texts: list[str] = []
    bounds = np.zeros(len(items) + 1, dtype=np.int64)
    parts = _MapParts()
    done = 0  # characters joined so far
    for lo, hi in _batches(items):
        folded, starts, ends, cut, _ = _fold_batch(items[lo:hi], fold_numbers)
        texts.append(folded)
        bounds[lo + 1 : hi + 1] = cut[1:] + done
        parts.add(starts, ends, done)
        done += len(folded)
    return "".join(texts), parts.maps(bounds)


def _batches(items: Sequence[tuple[str, Any]]) -> Iterator[tuple[int, int]]:
    """``(lo, hi)``: runs of items whose distinct texts hold about :data:`BATCH_CHARS` characters (one item at
    least)."""
    lo = 0
    while lo < len(items):
        seen: set[int] = set()
        size, hi = 0, lo
        while hi < len(items) and (hi == lo or size < BATCH_CHARS):
            if id(items[hi][0]) not in seen:
                seen.add(id(items[hi][0]))
                size += len(items[hi][0])
            hi += 1
        yield lo, hi
        lo = hi


def _fold_batch(items: Sequence[tuple[str, Any]],
                fold_numbers: bool) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The normalised texts of a batch of items, end to end: ``(text, starts, ends, cut, need)``, item ``k``
    being positions ``cut[k]:cut[k + 1]``, its offsets into its own text; ``need[k]`` is the largest value its
    offset maps must hold (the dtype :func:`normalize_spans` would give them), ``-1`` for an item without spans."""
    # the distinct texts, joined: the spans move by the lengths of the texts before theirs
    page_of: dict[int, int] = {}
    pages: list[str] = []
    which = np.empty(len(items), dtype=np.int64)
    for k, (text, _) in enumerate(items):
        which[k] = page_of.setdefault(id(text), len(pages))
        if which[k] == len(pages):
            pages.append(text)
    per_item = [np.asarray(spans, dtype=np.int64).reshape(-1, 2) for _, spans in items]
    counts = np.fromiter((len(b) for b in per_item), dtype=np.int64, count=len(items))
    last = np.cumsum(counts)  # item k's spans are bounds[last[k] - counts[k]:last[k]]
    bounds = np.concatenate(per_item) if len(items) > 1 else per_item[0]
    lengths = np.fromiter((len(p) for p in pages), dtype=np.int64, count=len(pages))
    shift = np.zeros(len(pages) + 1, dtype=np.int64)
    np.cumsum(lengths, out=shift[1:])
    need = np.full(len(items), -1, dtype=np.int64)
    if not len(bounds):
        empty = np.zeros(0, dtype=np.int32)
        return "", empty, empty, np.zeros(len(items) + 1, dtype=np.int64), need
    span_page = np.repeat(which, counts)
    a, b = bounds[:, 0], bounds[:, 1]
    bad = (a < 0) | (b < a) | (b > lengths[span_page])
    if bad.any():
        k = int(np.searchsorted(last, np.flatnonzero(bad)[0], side="right"))
        text, spans = items[k]
        raise ValueError(f"spans must satisfy 0 <= start <= end <= len(text) = {len(text)}, got {spans!r}")
    # Slots: each span's characters, then one _SEP, so one regex pass over all spans keeps runs inside a span.
    # The code point appended gives the numpy path's separator slot at the very end something to read. The text
    # between the spans is encoded too, so a lone surrogate there must not fail: "surrogatepass".
    cps = np.frombuffer(("".join(pages) + "\0").encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    slots = int((b - a).sum()) + len(bounds)
    dtype = _offset_dtype(max(int(shift[-1]), slots) + 1)
    jit = _jit.enabled()
    chars, pos = (_fold_slots_jit if jit else _fold_slots)(cps, a + shift[span_page], b + shift[span_page],
                                                           _bmp_table(), dtype, slots)
    runs = _runs_jit(chars, fold_numbers) if jit else _runs(chars, fold_numbers)
    chars, starts, ends, marks = (_collapse_runs_jit if jit else _collapse_runs)(chars, pos, runs)
    folded = chars.tobytes().decode("utf-32-le")
    # item k is the output between the separators of the spans before it and of its own last span
    cut = np.zeros(len(items) + 1, dtype=np.int64)
    cut[1:] = np.r_[0, marks][last]
    shifts = np.repeat(shift[which], np.diff(cut)).astype(starts.dtype, copy=False)
    starts -= shifts  # offsets into each item's own text
    ends -= shifts
    # offset maps as normalize_spans types them: int32 unless an item's last span end or slots reach the limit
    filled = counts > 0
    if filled.any():
        first = (last - counts)[filled]  # strictly increasing: each reduction runs to the next
        need[filled] = np.maximum(np.maximum.reduceat(b, first), np.add.reduceat(b - a + 1, first))
    return folded, starts, ends, cut, need


# --- the steps of normalize_spans: numpy (and a regular expression), and the same as numba kernels ------------


def _fold_slots(cps, a, b, table, dtype, slots):
    """Folded code points of the spans (dropped ones left out), each span followed by ``_SEP``, and the offset
    in the text of each (``-1`` for a separator)."""
    widths = b - a + 1
    slot_end = np.cumsum(widths)
    local = np.arange(slots, dtype=dtype) - np.repeat((slot_end - widths - a).astype(dtype), widths)
    raw = cps[local]  # offset into the text of every slot
    if raw.max() < 0x10000:  # the usual case: no character beyond the BMP
        mapped = table[raw]
    else:
        mapped = np.where(raw < 0x10000, table[np.minimum(raw, 0xFFFF)], raw)
    mapped[slot_end - 1] = _SEP
    local[slot_end - 1] = -1
    keep = np.flatnonzero(mapped)
    return mapped[keep], local[keep]


def _runs(chars: np.ndarray, fold_numbers: bool) -> np.ndarray:
    """``[first, stop)`` of each placeholder run (and number, with ``fold_numbers``) in the code points
    ``chars``, one row each, in order: what ``_FAST_RUNS`` finds."""
    pattern = _FAST_RUNS[bool(fold_numbers)]
    runs = np.array([m.span() for m in pattern.finditer(chars.tobytes().decode("utf-32-le"))], dtype=np.int64)
    return runs.reshape(-1, 2)


def _runs_jit(chars: np.ndarray, fold_numbers: bool) -> np.ndarray:
    """:func:`_runs` by a compiled scan (the regular-expression pass and a Python tuple per run took a third of
    the normalisation's time)."""
    out = np.empty((len(chars), 2), dtype=np.int64)
    return out[: _runs_kernel(chars, bool(fold_numbers), out)].copy()


@_jit.njit
def _runs_kernel(chars, numbers, out):  # pragma: no cover - compiled; tested against _runs
    # the regular expression's matching, spelled out: at each position the first alternative that matches, the
    # scan going on after a match; x, × and * are "X"
    n = len(chars)
    r = 0
    p = 0
    while p < n:
        c = chars[p]
        e = -1
        if c == 0x78 or c == 0xD7 or c == 0x2A:
            # (?<![a-z])[x×*]{1,6}(?![a-z]), backtracking while a letter follows
            if p == 0 or not (0x61 <= chars[p - 1] <= 0x7A):
                e = p + 1
                while e < n and e - p < 6 and (chars[e] == 0x78 or chars[e] == 0xD7 or chars[e] == 0x2A):
                    e += 1
                while e > p and e < n and 0x61 <= chars[e] <= 0x7A:  # (x is a letter too)
                    e -= 1
        elif c == 0x67D0:  # 某某+
            e = p + 1
            while e < n and chars[e] == 0x67D0:
                e += 1
            if e - p < 2:
                e = -1
        elif numbers and 0x30 <= c <= 0x39:  # [0-9]+(?:\.[0-9]+)?
            e = p + 1
            while e < n and 0x30 <= chars[e] <= 0x39:
                e += 1
            if e + 1 < n and chars[e] == 0x2E and 0x30 <= chars[e + 1] <= 0x39:
                e += 2
                while e < n and 0x30 <= chars[e] <= 0x39:
                    e += 1
        if e > p:
            out[r, 0] = p
            out[r, 1] = e
            r += 1
            p = e
        else:
            p += 1
    return r


def _collapse_runs(chars, pos, runs):
    """Each run ``[first, stop)`` of ``chars`` becomes one :data:`PLACEHOLDER` covering the run's original
    characters; separators go. Returns code points, starts and ends, and for each separator how many
    characters come out before it."""
    starts, ends = pos, pos + 1
    drop = chars == _SEP
    seps = np.flatnonzero(drop)
    if len(runs):
        first, stop = runs[:, 0], runs[:, 1]
        chars = chars.copy()
        chars[first] = ord(PLACEHOLDER)
        ends[first] = ends[stop - 1]
        # a run keeps its first character only: mark the rest, [first + 1, stop), with a +1/-1 difference array
        inside = np.zeros(len(chars) + 1, dtype=np.int8)
        inside[first + 1] += 1
        inside[stop] -= 1
        drop |= np.cumsum(inside[:-1], dtype=np.int8) > 0
    kept = ~drop
    before = np.cumsum(kept) - kept  # characters kept before each slot
    return chars[kept], starts[kept], ends[kept], before[seps]


@_jit.njit
def _fold_slots_kernel(cps, a, b, table, chars, pos):  # pragma: no cover - compiled
    n = 0
    for k in range(len(a)):
        for p in range(a[k], b[k]):
            c = cps[p]
            m = table[c] if c < 0x10000 else c
            if m != 0:
                chars[n] = m
                pos[n] = p
                n += 1
        chars[n] = _SEP
        pos[n] = -1
        n += 1
    return n


def _fold_slots_jit(cps, a, b, table, dtype, slots):
    chars, pos = np.empty(slots, dtype=np.uint32), np.empty(slots, dtype=dtype)
    n = _fold_slots_kernel(cps, a, b, table, chars, pos)
    return chars[:n], pos[:n]


@_jit.njit
def _collapse_runs_kernel(chars, pos, runs, out, starts, ends, marks):  # pragma: no cover - compiled
    n = 0
    m = 0
    r = 0
    i = 0
    while i < len(chars):
        if r < len(runs) and runs[r, 0] == i:
            stop = runs[r, 1]
            out[n] = 0xE000  # PLACEHOLDER
            starts[n] = pos[i]
            ends[n] = pos[stop - 1] + 1
            n += 1
            r += 1
            i = stop
            continue
        if chars[i] != _SEP:
            out[n] = chars[i]
            starts[n] = pos[i]
            ends[n] = pos[i] + 1
            n += 1
        else:
            marks[m] = n
            m += 1
        i += 1
    return n, m


def _collapse_runs_jit(chars, pos, runs):
    out, starts, ends = np.empty_like(chars), np.empty_like(pos), np.empty_like(pos)
    marks = np.empty(len(chars), dtype=np.int64)
    n, m = _collapse_runs_kernel(chars, pos, runs, out, starts, ends, marks)
    return out[:n], starts[:n], ends[:n], marks[:m]


def concat(parts: list[Normalized], *, separator: str = "") -> Normalized:
    """Join normalised parts (e.g. the paragraphs of a speech) into one, keeping their offset maps."""
    if not parts:
        return _empty()
    if separator:
        raise ValueError("separators would have no original offset; join without one")
    return Normalized(
        "".join(p.text for p in parts),
        np.concatenate([p.starts for p in parts]),
        np.concatenate([p.ends for p in parts]),
    )
