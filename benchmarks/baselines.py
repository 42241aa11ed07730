"""Baselines that dupspeech's candidate search is measured against (see ``bench.py``).

Both take the same speech texts dupspeech matches (:func:`speech_texts`: ``read_and_split`` +
``speech_text``, so the comparison is on the same input) and time only their own work, stage by stage. They
return candidate pairs of speech positions ``(i, j)``, ``i < j``, so their recall can be compared with
dupspeech's verified pairs. Neither verifies candidates nor aligns passages: they do less than dupspeech.

* :func:`datasketch_jieba` — baseline (a), the pipeline as datasketch's documentation shows it: a Python
  ``set`` of shingles per speech (jieba words, or character n-grams), ``MinHash(num_perm)`` fed one
  ``m.update(s.encode("utf8"))`` per shingle, ``MinHashLSH.insert`` for every speech, then ``query`` for every
  speech.
* :func:`rensa_pipeline` — baseline (b), rensa's Rust MinHash (``RMinHash``) and its LSH (``RMinHashLSH``),
  with rensa's bulk calls (``RMinHash.from_token_sets``, ``insert_pairs``, ``query_all``), the fastest way it
  offers to go from token lists to candidates. rensa needs ``num_perm`` divisible by the number of bands,
  so it gets ``b * r`` permutations with datasketch's ``(b, r)`` for the threshold (42 × 3 = 126 for 0.25 and
  128 permutations): both baselines and dupspeech then band signatures the same way.

    >>> texts = ["各乡镇要压实属地责任，对辖区内的企业逐一开展安全检查。" * 3] * 2 + ["完全不同的一段话，讲的是别的事情。" * 3]
    >>> datasketch_jieba(texts, threshold=0.25, num_perm=64).pairs
    [(0, 1)]

Word mode imports jieba (or rjieba with ``tokenizer="rjieba"``) on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BaselineRun", "datasketch_jieba", "lsh_bands", "rensa_available", "rensa_pipeline", "speech_texts",
           "tokenize"]

_SEP = "\x1f"  # joins the words of a word n-gram, so ("ab", "c") and ("a", "bc") stay different shingles


@dataclass
class BaselineRun:
    """What a baseline found and how long each of its stages took.

    Attributes:
        pairs: Candidate pairs ``(i, j)``, ``i < j``, of positions in the input texts, sorted.
        seconds: Seconds per stage: ``shingle`` (tokens and shingle strings), ``minhash`` (signatures), ``lsh``
            (insert and query).
        shingles: Distinct shingles over all speeches (sum of the per-speech set sizes).
    """

    pairs: list[tuple[int, int]]
    seconds: dict[str, float] = field(default_factory=dict)
    shingles: int = 0

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def speech_texts(source) -> tuple[list[str], list[str]]:
    """The speech ids and normalised texts dupspeech matches, for the same input to every baseline.

    Args:
        source: Whatever ``dupspeech.cluster`` takes (a folder, a file, ``(name, text)`` pairs).

    Returns:
        ``(ids, texts)``, in the order dupspeech numbers the speeches.
    """
    from dupspeech.api import read_and_split, speech_text

    _, docs, speeches, _ = read_and_split(source)
    by_name = {d.name: d for d in docs}
    return [s.id for s in speeches], [speech_text(by_name[s.file], s).text for s in speeches]


def tokenize(tokenizer: str = "jieba") -> Callable[[str], list[str]]:
    """A word tokenizer: ``jieba.lcut`` (HMM on, as dupspeech) or ``rjieba.cut``; spaces dropped.

    Raises:
        ImportError: the tokenizer is not installed (with the pip command to install it).
    """
    if tokenizer == "jieba":
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        cut = jieba.lcut
    elif tokenizer == "rjieba":
        try:
            import rjieba
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise ImportError("rjieba is not installed: pip install rjieba") from exc
        cut = rjieba.cut
    else:
        raise ValueError(f"tokenizer must be 'jieba' or 'rjieba', got {tokenizer!r}")
    return lambda text: [w for w in cut(text) if w.strip()]


def _cutter(mode: str, tokenizer: str) -> Callable[[str], list[str]] | None:
    """The word tokenizer for ``mode``, loaded before timing starts (its dictionary load is a fixed cost)."""
    if mode == "char":
        return None
    if mode != "word":
        raise ValueError(f"mode must be 'char' or 'word', got {mode!r}")
    return tokenize(tokenizer)


def _shingle_lists(texts: Sequence[str], ngram: int, cut: Callable[[str], list[str]] | None) -> list[set[str]]:
    """Each text's set of shingle strings: character n-grams, or word n-grams joined with ``\\x1f``."""
    out: list[set[str]] = []
    if cut is None:
        for t in texts:
            n = min(ngram, len(t)) or 1
            out.append({t[i : i + n] for i in range(len(t) - n + 1)} if t else set())
        return out
    for t in texts:
        words = cut(t)
        n = min(ngram, len(words)) or 1
        out.append({_SEP.join(words[i : i + n]) for i in range(len(words) - n + 1)} if words else set())
    return out


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows ``(b, r)`` datasketch's ``MinHashLSH`` picks for ``threshold`` (equal FP/FN weights)."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def _pairs_from_queries(results: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    found = set()
    for i, others in enumerate(results):
        for j in others:
            if j != i:
                found.add((i, j) if i < j else (j, i))
    return sorted(found)


def datasketch_jieba(
    texts: Sequence[str],
    *,
    threshold: float = 0.25,
    num_perm: int = 128,
    mode: str = "word",
    ngram: int | None = None,
    seed: int = 1,
    tokenizer: str = "jieba",
) -> BaselineRun:
    """Baseline (a): jieba (or character n-grams) + datasketch, written as datasketch's docs show it.

    Args:
        texts: Speech texts.
        threshold: Jaccard threshold of ``MinHashLSH`` (dupspeech's candidate threshold is 0.25).
        num_perm: Permutations of ``MinHash`` and ``MinHashLSH``.
        mode: ``"word"`` (jieba words) or ``"char"`` (characters).
        ngram: Shingle length in tokens; dupspeech's defaults (5 characters, 3 words) when ``None``.
        seed: ``MinHash`` seed.
        tokenizer: ``"jieba"`` or ``"rjieba"`` for word mode.
    """
    from datasketch import MinHash, MinHashLSH

    ngram = ngram or (5 if mode == "char" else 3)
    cut = _cutter(mode, tokenizer)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    sets = _shingle_lists(texts, ngram, cut)
    t1 = time.perf_counter()
    sketches = []
    for shingles in sets:
        m = MinHash(num_perm=num_perm, seed=seed)
        for s in shingles:
            m.update(s.encode("utf8"))
        sketches.append(m)
    t2 = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for key, m in enumerate(sketches):
        lsh.insert(key, m)
    pairs = _pairs_from_queries([lsh.query(m) for m in sketches])
    t3 = time.perf_counter()
    seconds.update(shingle=t1 - t0, minhash=t2 - t1, lsh=t3 - t2)
    return BaselineRun(pairs, seconds, sum(len(s) for s in sets))


def rensa_available() -> bool:
    """Whether rensa can be imported here."""
    try:
        import rensa  # noqa: F401
    except ImportError:
        return False
    return True


def rensa_pipeline(
    texts: Sequence[str],
    *,
    threshold: float = 0.25,
    num_perm: int = 128,
    mode: str = "char",
    ngram: int | None = None,
    seed: int = 1,
    tokenizer: str = "jieba",
) -> BaselineRun:
    """Baseline (b): rensa's ``RMinHash`` signatures and ``RMinHashLSH`` candidates, nothing else.

    Shingle strings are made in Python as for baseline (a); rensa hashes them itself. The LSH gets
    datasketch's bands and rows for ``threshold`` (see the module docstring), so it uses ``b * r``
    permutations.

    Raises:
        ImportError: rensa is not installed (``pip install rensa``).
    """
    try:
        from rensa import RMinHash, RMinHashLSH
    except ImportError as exc:
        raise ImportError("rensa is not installed: pip install rensa") from exc
    ngram = ngram or (5 if mode == "char" else 3)
    bands, rows = lsh_bands(threshold, num_perm)
    perms = bands * rows
    cut = _cutter(mode, tokenizer)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    sets = _shingle_lists(texts, ngram, cut)
    t1 = time.perf_counter()
    sketches = RMinHash.from_token_sets(sets, perms, seed)
    t2 = time.perf_counter()
    lsh = RMinHashLSH(threshold=threshold, num_perm=perms, num_bands=bands)
    lsh.insert_pairs(list(enumerate(sketches)))
    pairs = _pairs_from_queries(lsh.query_all(sketches))
    t3 = time.perf_counter()
    seconds.update(shingle=t1 - t0, minhash=t2 - t1, lsh=t3 - t2)
    return BaselineRun(pairs, seconds, sum(len(s) for s in sets))


if __name__ == "__main__":  # pragma: no cover - a quick manual check on one folder
    import sys

    ids, texts = speech_texts(Path(sys.argv[1]))
    for name, fn in (("datasketch", datasketch_jieba), ("rensa", rensa_pipeline)):
        run = fn(texts, mode="char")
        print(name, len(run.pairs), {k: round(v, 3) for k, v in run.seconds.items()})
