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
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

PLACEHOLDER = "\ue000"
"""The symbol that stands for every template placeholder (and, with ``fold_numbers``, every number)."""

_DROP, _KEEP = 0, 1
_PLACEHOLDER_RUNS = re.compile(r"(?<![a-z])[x×*]{1,6}(?![a-z])|某某+")
_NUMBER_RUNS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text with a map back to the original.

    Attributes:
        text: The normalised text.
        starts: ``starts[i]`` is the offset in the original text of the first character behind ``text[i]``.
        ends: ``ends[i]`` is the offset just past the last original character behind ``text[i]``.
    """

    text: str
    starts: np.ndarray
    ends: np.ndarray

    def original_range(self, i: int, j: int) -> tuple[int, int]:
        """Original ``[start, end)`` covered by normalised ``text[i:j]`` (``i < j``)."""
        return int(self.starts[i]), int(self.ends[j - 1])

    def __len__(self) -> int:
        return len(self.text)


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
        empty = np.zeros(0, dtype=np.int64)
        return Normalized("", empty, empty)
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = _bmp_table()
    mapped = np.where(cps < 0x10000, table[np.minimum(cps, 0xFFFF)], cps)
    keep = np.flatnonzero(mapped)
    out_cps = mapped[keep]
    starts = keep.astype(np.int64)
    ends = starts + 1
    folded = out_cps.astype(np.uint32).tobytes().decode("utf-32-le")
    pattern = _PLACEHOLDER_RUNS if not fold_numbers else re.compile(
        _PLACEHOLDER_RUNS.pattern + "|" + _NUMBER_RUNS.pattern
    )
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


def concat(parts: list[Normalized], *, separator: str = "") -> Normalized:
    """Join normalised parts (e.g. the paragraphs of a speech) into one, keeping their offset maps."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Normalized("", empty, empty)
    if separator:
        raise ValueError("separators would have no original offset; join without one")
    return Normalized(
        "".join(p.text for p in parts),
        np.concatenate([p.starts for p in parts]),
        np.concatenate([p.ends for p in parts]),
    )
