"""Run a stage's chunks in worker processes that share the stage's inputs copy-on-write.

On platforms with ``fork`` the workers inherit the inputs (shingle sets, seeds, texts) without pickling
them; only the chunk descriptions go out and the chunk results come back, in order, so the output is the same
as a sequential run. Where ``fork`` is not available the chunks run in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_STATE: Any = None
_FUNC: Callable | None = None


def available_jobs(jobs: int) -> int:
    """``jobs`` checked and resolved: 0 means one per core."""
    from .errors import ConfigError

    if not isinstance(jobs, int) or jobs < 0:
        raise ConfigError(f"jobs must be a whole number >= 0 (0 = one per core), got {jobs!r}")
    return jobs or (os.cpu_count() or 1)


def _run_chunk(chunk):
    assert _FUNC is not None
    return _FUNC(_STATE, chunk)


def chunked(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` cut into about ``parts`` contiguous chunks (several per worker, for balance)."""
    if not items:
        return []
    size = max(1, -(-len(items) // parts))
    return [items[i : i + size] for i in range(0, len(items), size)]


def fork_map(func: Callable[[Any, T], R], chunks: Sequence[T], *, state: Any, jobs: int) -> list[R]:
    """``[func(state, chunk) for chunk in chunks]``, computed by ``jobs`` forked workers.

    Args:
        func: A module-level function of ``(state, chunk)``.
        chunks: The work, cut in chunks.
        state: Inputs every chunk reads; inherited by the workers, not pickled.
        jobs: Worker processes; 1 runs in this process.
    """
    if jobs <= 1 or len(chunks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [func(state, c) for c in chunks]
    global _STATE, _FUNC
    _STATE, _FUNC = state, func
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(chunks))) as pool:
            return pool.map(_run_chunk, chunks, chunksize=1)
    finally:
        _STATE, _FUNC = None, None
