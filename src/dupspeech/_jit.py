"""Compiled kernels: numba when it is installed and the work is big enough, else the pure-numpy code paths.

Every compiled kernel in dupspeech has a pure-numpy (or pure-Python) counterpart that gives the same result,
and the tests check the two against each other, so which one runs changes the speed, never the output.

Compiling the kernels takes about 20 seconds the first time after an install; they are then cached on disk
(numba's ``cache=True``: ``__pycache__`` beside the sources, or ``NUMBA_CACHE_DIR``) and load in a fraction
of a second. So by default they run only for a corpus of at least :data:`MIN_CHARS` characters, where they
pay off even on that first run; small jobs (a notebook cell, ``compare``) stay on numpy. ``DUPSPEECH_JIT``
in the environment overrides this:

* ``DUPSPEECH_JIT=1``: always the compiled kernels (numba must be installed);
* ``DUPSPEECH_JIT=0``: never;
* unset or ``auto``: the compiled kernels inside :func:`for_corpus` of a big enough corpus, which
  :func:`dupspeech.cluster` and :class:`dupspeech.Index` declare.

    >>> from dupspeech import _jit
    >>> with _jit.for_corpus(10):
    ...     _jit.enabled() in (False, _jit.forced())
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

try:  # numba is a declared dependency, but a platform without its wheels still gets a working dupspeech
    import numba as _numba
except Exception:  # pragma: no cover - depends on the environment
    _numba = None


def available() -> bool:
    """Whether numba can be imported at all (whatever ``DUPSPEECH_JIT`` says)."""
    return _numba is not None


MIN_CHARS = 1_000_000
"""Corpus size (decoded characters) from which the compiled kernels run when ``DUPSPEECH_JIT`` is unset."""

_big_corpus = False  # inside for_corpus() of a corpus of MIN_CHARS or more; inherited by forked workers


def _setting() -> str:
    value = os.environ.get("DUPSPEECH_JIT", "auto").strip().lower()
    if value in ("0", "false", "no", "off"):
        return "off"
    if value in ("1", "true", "yes", "on"):
        return "on"
    return "auto"


def forced() -> bool:
    """Whether ``DUPSPEECH_JIT=1`` asks for the compiled kernels whatever the corpus size."""
    return _numba is not None and _setting() == "on"


def enabled() -> bool:
    """Whether the compiled kernels run now (see the module docstring)."""
    if _numba is None:
        return False
    setting = _setting()
    return setting == "on" or (setting == "auto" and _big_corpus)


@contextmanager
def for_corpus(chars: int) -> Iterator[None]:
    """Within the block, run the compiled kernels if the corpus has at least :data:`MIN_CHARS` characters
    (and ``DUPSPEECH_JIT`` does not say otherwise)."""
    global _big_corpus
    before = _big_corpus
    _big_corpus = chars >= MIN_CHARS
    try:
        yield
    finally:
        _big_corpus = before


def njit(func: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True, nogil=True)`` when numba is available; else ``func`` unchanged (not called then:
    callers check :func:`enabled` and take their numpy path)."""
    if _numba is None:  # pragma: no cover - depends on the environment
        return func
    return _numba.njit(cache=True, nogil=True)(func)
