"""Compiled kernels: numba when it is installed and not switched off, else the pure-numpy code paths.

Every compiled kernel in dupspeech has a pure-numpy (or pure-Python) counterpart that gives the same result,
and the tests check the two against each other. Which one runs:

* numba installed (a dependency of dupspeech; wheels exist for the usual platforms): the compiled kernel;
  kernels are cached on disk (``cache=True``), so only the first run after an install pays the compile;
* ``DUPSPEECH_JIT=0`` in the environment, or numba missing or broken: the numpy path.

    >>> from dupspeech import _jit
    >>> isinstance(_jit.enabled(), bool)
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

try:  # numba is a declared dependency, but a platform without its wheels still gets a working dupspeech
    import numba as _numba
except Exception:  # pragma: no cover - depends on the environment
    _numba = None


def available() -> bool:
    """Whether numba can be imported at all (whatever ``DUPSPEECH_JIT`` says)."""
    return _numba is not None


def enabled() -> bool:
    """Whether the compiled kernels run: numba is available and ``DUPSPEECH_JIT`` is not ``0``."""
    return _numba is not None and os.environ.get("DUPSPEECH_JIT", "1").strip() not in ("0", "false", "no", "off")


def njit(func: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True, nogil=True)`` when numba is available; else ``func`` unchanged (never called on
    the hot path then: callers check :func:`enabled` and take their numpy path)."""
    if _numba is None:  # pragma: no cover - depends on the environment
        return func
    return _numba.njit(cache=True, nogil=True)(func)
