"""Exceptions raised by dupspeech.

The tree::

    DupspeechError                 base of everything dupspeech raises on purpose
    ├── ConfigError (ValueError)   an option out of range or of the wrong kind; the message says the fix
    ├── CorpusError                the corpus as a whole cannot be read (missing folder, nothing readable)
    └── OptionalDependencyError (ImportError)
                                   an optional extra (pandas, ...) is not installed; the message says
                                   what to ``pip install``

A single unreadable *file* is not an error: it is skipped and recorded in ``Result.files`` with a reason.
"""

from __future__ import annotations


class DupspeechError(Exception):
    """Base class of the errors dupspeech raises on purpose."""


class ConfigError(DupspeechError, ValueError):
    """An option is out of range or of the wrong kind."""


class CorpusError(DupspeechError):
    """The corpus cannot be read at all."""


class OptionalDependencyError(DupspeechError, ImportError):
    """An optional dependency is missing."""


def require(module: str, *, extra: str, purpose: str):
    """Import ``module`` lazily or raise an error that says how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            f"{purpose} needs the optional package {module!r}: pip install 'dupspeech[{extra}]'"
        ) from exc
