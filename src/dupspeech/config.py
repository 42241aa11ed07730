"""Frozen, validated options for each pipeline stage.

Each stage takes only its own options, so it can run in a worker process unchanged. Defaults were chosen by
measurement on labelled generated corpora (see ``docs/defaults.md`` and ``benchmarks/``), not by taste.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from .errors import ConfigError

ShingleMode = Literal["char", "word"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentConfig:
    """How pages are split into speeches and paragraphs.

    Attributes:
        max_title_chars: Longest line (in characters) that may be taken for a bare title.
        max_preamble_chars: Text before the first speech marker shorter than this is page preamble
            (a site's introduction), not a speech.
        extra_chrome: Additional regular expressions; a line that matches one is site chrome.
    """

    max_title_chars: int = 48
    max_preamble_chars: int = 200
    extra_chrome: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_title_chars < 4:
            raise ConfigError(f"max_title_chars must be >= 4, got {self.max_title_chars} (titles run 8-40 chars)")
        if self.max_preamble_chars < 0:
            raise ConfigError(f"max_preamble_chars must be >= 0, got {self.max_preamble_chars}")
        import re

        for pattern in self.extra_chrome:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"extra_chrome pattern {pattern!r} is not a valid regular expression: {exc}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShingleConfig:
    """How a speech becomes a set of shingles.

    Attributes:
        mode: ``"char"`` for character n-grams, ``"word"`` for jieba word n-grams.
        ngram: Shingle length in characters (char mode) or words (word mode).
        fold_numbers: Match every number as the placeholder symbol, so ``2024年`` matches ``XX年``.
        seed: Seed of the shingle hash (xxhash), so hashes are reproducible and can be varied.
        tokenizer: Word segmenter for word mode: ``"jieba"``, ``"rjieba"`` (the same tokens, measured on 2,732
            speeches, about 20 times faster; ``pip install 'dupspeech[fast]'``), or ``"auto"``, the default:
            rjieba when installed, else jieba (:func:`dupspeech.settings` records which one ran).
    """

    mode: ShingleMode = "char"
    ngram: int = 5
    fold_numbers: bool = True
    seed: int = 0
    tokenizer: str = "auto"

    def __post_init__(self) -> None:
        if self.mode not in ("char", "word"):
            raise ConfigError(f"shingle mode must be 'char' or 'word', got {self.mode!r}")
        if not isinstance(self.ngram, int) or self.ngram < 1:
            hint = "char mode works best around 5" if self.mode == "char" else "word mode works best around 3"
            raise ConfigError(f"ngram must be an integer >= 1, got {self.ngram!r} ({hint})")
        if self.ngram > 64:
            raise ConfigError(f"ngram must be <= 64, got {self.ngram}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"shingle seed must be in [0, 2**32), got {self.seed}")
        if self.tokenizer not in ("jieba", "rjieba", "auto"):
            raise ConfigError(f"tokenizer must be 'jieba', 'rjieba' or 'auto', got {self.tokenizer!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MinHashConfig:
    """MinHash signatures (datasketch's ``affine32`` scheme, so signatures interoperate with datasketch).

    Attributes:
        num_perm: Number of permutations (signature length).
        seed: Seed of the permutations, as datasketch's ``MinHash(seed=...)``.
    """

    num_perm: int = 128
    seed: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.num_perm, int) or not 16 <= self.num_perm <= 4096:
            raise ConfigError(f"num_perm must be an integer in [16, 4096], got {self.num_perm!r} (128 is usual)")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"minhash seed must be in [0, 2**32), got {self.seed}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    """Candidate search, verification and family building.

    Attributes:
        threshold: Exact Jaccard similarity at or above which two speeches are near-duplicates (an edge of a
            family).
        containment: Share of the smaller speech's shingles found in the larger at or above which the pair
            is a containment pair (a truncated or abridged copy).
        candidate_threshold: Jaccard threshold of the LSH index; lower than ``threshold`` so that truncated
            copies (low Jaccard, high containment) are found as candidates.
        min_shingles: Speeches with fewer shingles take no part in pairs (too short to judge).
        bucket_neighbours: In an LSH bucket of more speeches than this (plus one), each speech becomes a
            candidate with the next ``bucket_neighbours`` speeches of the bucket (in corpus order) instead of
            all of them. Stock language puts hundreds or thousands of unrelated speeches in one bucket on a
            large corpus, and all their pairs grow with the square of the corpus; neighbours grow with it.
            A family recycled more often than this still joins: its copies fill their buckets and each is
            verified against its neighbours. None pairs every speech of a bucket (as datasketch's
            ``MinHashLSH`` does); measured in benchmarks/README.md.
    """

    threshold: float = 0.6
    containment: float = 0.8
    candidate_threshold: float = 0.25
    min_shingles: int = 30
    bucket_neighbours: int | None = 50

    def __post_init__(self) -> None:
        for name in ("threshold", "containment", "candidate_threshold"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
                raise ConfigError(f"{name} must be a number in (0, 1], got {value!r}")
        if self.candidate_threshold > self.threshold:
            raise ConfigError(
                f"candidate_threshold ({self.candidate_threshold}) must not exceed threshold ({self.threshold}):"
                " candidates are verified against threshold afterwards"
            )
        if self.min_shingles < 1:
            raise ConfigError(f"min_shingles must be >= 1, got {self.min_shingles}")
        if self.bucket_neighbours is not None and (
                not isinstance(self.bucket_neighbours, int) or self.bucket_neighbours < 1):
            raise ConfigError(f"bucket_neighbours must be a whole number >= 1, or None for every pair of a bucket"
                              f" ('all' on the command line), got {self.bucket_neighbours!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlignConfig:
    """Passage alignment (provenance) between speeches.

    Attributes:
        k: Length, in normalised characters, of the exact seeds that alignment chains together.
        gap: Largest gap (normalised characters) bridged inside one passage, in either text; edits shorter
            than this (a place name, a year, a sentence) do not split a passage.
        indel: Largest stretch (normalised characters) present in one text only (a sentence added or dropped)
            bridged inside one passage, when the other text skips at most ``gap``.
        min_chars: Shortest passage reported, in normalised characters.
        min_similarity: Lowest share of a passage's characters covered by exact seeds.
        window: Passage windows (seed positions, about as many normalised characters) indexed with MinHash LSH
            to find speech pairs that share a passage.
        stride: Step between windows; ``window`` must be a multiple of it.
        window_threshold: Jaccard threshold of the window LSH index.
        window_min_hits: Two speeches become a window candidate pair when their windows meet in at least this
            many LSH buckets, counted over all bands and windows. 1 (the default) keeps every meeting; 2 drops
            three quarters of the window pairs of a large corpus (mostly shared stock sentences) and a third of
            the alignment time, but also most copied passages shorter than about 70 characters, such as a
            quoted sentence (measured in docs/defaults.md).
        window_crowd: A window bucket of more speeches than this is crowded (a sentence of common language):
            two speeches that meet only in crowded buckets need one meeting more than ``window_min_hits``.
            None counts every bucket alike. 10 (the default) drops two thirds of the window pairs of a 1 GB
            corpus and half of its alignment time; the copies lost were not in the truth of the 100 MB corpus
            (measured in docs/defaults.md).
        num_perm: MinHash permutations for windows.
        boilerplate_units: A seed recurring in at least this many unrelated texts (families count once) is
            stock language.
        boilerplate_chars: Passages up to this long made mostly of stock language are boilerplate.
        max_occurrences: Seeds repeated more often than this inside one speech are not used.
    """

    k: int = 5
    gap: int = 40
    indel: int = 100
    min_chars: int = 30
    min_similarity: float = 0.5
    window: int = 80
    stride: int = 20
    window_threshold: float = 0.5
    window_min_hits: int = 1
    window_crowd: int | None = 10
    num_perm: int = 64
    boilerplate_units: int = 3
    boilerplate_chars: int = 120
    max_occurrences: int = 8

    def __post_init__(self) -> None:
        if not 3 <= self.k <= 32:
            raise ConfigError(f"align k must be in [3, 32], got {self.k} (5 works well for Chinese)")
        if self.gap < 0:
            raise ConfigError(f"align gap must be >= 0, got {self.gap}")
        if self.indel < self.gap:
            raise ConfigError(f"align indel ({self.indel}) must be >= gap ({self.gap})")
        if self.min_chars < self.k:
            raise ConfigError(f"align min_chars ({self.min_chars}) must be >= k ({self.k})")
        if not 0.0 < self.min_similarity <= 1.0:
            raise ConfigError(f"align min_similarity must be in (0, 1], got {self.min_similarity}")
        if self.window <= self.k or not 0 < self.stride <= self.window or self.window % self.stride:
            raise ConfigError(
                f"align window ({self.window}) must exceed k ({self.k}) and be a multiple of stride"
                f" ({self.stride})"
            )
        if not 0.0 < self.window_threshold <= 1.0:
            raise ConfigError(f"align window_threshold must be in (0, 1], got {self.window_threshold}")
        if not isinstance(self.window_min_hits, int) or self.window_min_hits < 1:
            raise ConfigError(f"align window_min_hits must be an integer >= 1, got {self.window_min_hits!r}"
                              " (1, the default, keeps every window meeting)")
        if self.window_crowd is not None and (not isinstance(self.window_crowd, int) or self.window_crowd < 2):
            raise ConfigError(f"align window_crowd must be an integer >= 2 or None, got {self.window_crowd!r}"
                              " (None counts every window bucket alike)")
        if not 16 <= self.num_perm <= 1024:
            raise ConfigError(f"align num_perm must be in [16, 1024], got {self.num_perm}")
        if self.boilerplate_units < 2:
            raise ConfigError(f"boilerplate_units must be >= 2, got {self.boilerplate_units}")
        if self.max_occurrences < 1:
            raise ConfigError(f"max_occurrences must be >= 1, got {self.max_occurrences}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """All the options of one run, one frozen config per stage."""

    segment: SegmentConfig = field(default_factory=SegmentConfig)
    shingle: ShingleConfig = field(default_factory=ShingleConfig)
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    align: AlignConfig = field(default_factory=AlignConfig)

    def as_items(self) -> tuple[tuple[str, object], ...]:
        """Flat ``(stage.option, value)`` pairs, for the report."""
        items: list[tuple[str, object]] = []
        for stage in ("segment", "shingle", "minhash", "cluster", "align"):
            cfg = getattr(self, stage)
            for f in fields(cfg):
                value = getattr(cfg, f.name)
                items.append((f"{stage}.{f.name}", list(value) if isinstance(value, tuple) else value))
        return tuple(items)
