"""Compiled kernels: numba when it is installed and the work is big enough, else the pure-numpy code paths.

Every compiled kernel in dupspeech has a pure-numpy (or pure-Python) counterpart that gives the same result,
and the tests check the two against each other, so which one runs changes the speed, never the output.

Compiling the kernels takes about 20 seconds the first time after an install; they are then cached on disk
(:func:`cache_dir`: ``~/.cache/dupspeech-kernels/<hash of the package sources>``, under ``NUMBA_CACHE_DIR``
when that is set) and load in a fraction of a second. So by default they run only for a corpus of at least :data:`MIN_CHARS` characters, where they
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

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

try:  # numba is a declared dependency, but a platform without its wheels still gets a working dupspeech
    import numba as _numba
except Exception:  # pragma: no cover - depends on the environment
    _numba = None

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def source_hash() -> str:
    """A hash of every source file of the package: the compiled-kernel cache is keyed by it.

    numba's own cache is keyed by each function's file and line and that file's modification time, so a kernel
    that calls a kernel of another module, or a cache written by a process still running older code, can serve
    stale machine code. A cache folder per version of the whole package cannot.
    """
    digest = hashlib.sha1(_numba.__version__.encode() if _numba is not None else b"")
    for name in sorted(os.listdir(_PACKAGE_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(_PACKAGE_DIR, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()[:16]


def cache_dir() -> str:
    """Where the compiled kernels are cached: ``$NUMBA_CACHE_DIR`` or ``~/.cache`` (``$XDG_CACHE_HOME``), then
    ``dupspeech-kernels/<source hash>``."""
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dupspeech-kernels", _SOURCE_HASH)


def _register_locator() -> None:
    """Put dupspeech's kernels in :func:`cache_dir`, stamped with :func:`source_hash` (numba's other functions
    keep numba's own cache). If numba's caching internals change, numba's default cache is used instead."""
    try:
        from numba.core import caching
    except Exception:  # pragma: no cover - depends on the numba version
        return
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    base = getattr(caching, "_CacheLocator", None)
    if impl is None or base is None or not isinstance(getattr(impl, "_locator_classes", None), list):
        return  # pragma: no cover - depends on the numba version

    class _PackageLocator(base):
        def __init__(self, py_func, py_file):
            self._lineno = py_func.__code__.co_firstlineno
            self._path = cache_dir()

        def get_cache_path(self):
            return self._path

        def get_source_stamp(self):
            return _SOURCE_HASH

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            if os.path.dirname(os.path.abspath(py_file)) != _PACKAGE_DIR:
                return None
            locator = cls(py_func, py_file)
            try:
                locator.ensure_cache_path()
            except OSError:
                return None  # not writable: numba's own locators decide (or no cache)
            return locator

    if not any(getattr(k, "__name__", "") == "_PackageLocator" for k in impl._locator_classes):
        impl._locator_classes.insert(0, _PackageLocator)
    _prune(os.path.dirname(cache_dir()), keep=4)


def _prune(folder: str, *, keep: int) -> None:
    """Remove the kernel caches of all but the ``keep`` most recently used package versions (each edit of a
    source file in a development install makes a new one)."""
    import shutil

    try:
        others = [e for e in os.scandir(folder) if e.is_dir() and e.name != _SOURCE_HASH]
        others.sort(key=lambda e: e.stat().st_mtime, reverse=True)
        for entry in others[keep:]:
            shutil.rmtree(entry.path, ignore_errors=True)
    except OSError:
        pass  # no cache folder yet, or not ours to clean


_SOURCE_HASH = source_hash()
if _numba is not None:
    _register_locator()


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


def cuts(n: int, parts: int) -> list[int]:
    """Start of each of ``parts`` (at most ``n``) contiguous, nearly equal parts of ``range(n)``."""
    parts = max(1, min(parts, n))
    return [k * n // parts for k in range(parts)]


def in_threads(func: Callable[[int, int], Any], n: int, threads: int) -> list[Any]:
    """``[func(lo, hi) for each part]`` over the parts of :func:`cuts`, run in ``threads`` threads at once: for
    compiled kernels, which release the GIL, so the threads share their inputs instead of copying them."""
    starts = cuts(n, threads)
    bounds = list(zip(starts, starts[1:] + [n]))
    if len(bounds) <= 1:
        return [func(lo, hi) for lo, hi in bounds]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(bounds)) as pool:
        return list(pool.map(lambda b: func(*b), bounds))


def njit(func: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True, nogil=True)`` when numba is available; else ``func`` unchanged (not called then:
    callers check :func:`enabled` and take their numpy path)."""
    if _numba is None:  # pragma: no cover - depends on the environment
        return func
    return _numba.njit(cache=True, nogil=True)(func)
