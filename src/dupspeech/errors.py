"""Exceptions raised by dupspeech.

The tree::

    DupspeechError                 base of everything dupspeech raises on purpose
    ├── ConfigError (ValueError)   an option out of range or of the wrong kind; the message says the fix
    ├── CorpusError                the corpus as a whole cannot be read (missing folder, nothing readable)
    ├── DecodeFailure (ValueError) bytes that cannot be decoded (``ingest.decode_bytes``); files that
    │                              fail are skipped with the reason, this is raised only when asked directly
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


class DecodeFailure(DupspeechError, ValueError):
    """Bytes that :func:`dupspeech.ingest.decode_bytes` cannot turn into text.

    Not raised by :func:`~dupspeech.ingest.iter_corpus`, which records the reason on a skipped
    :class:`~dupspeech.models.FileRecord` instead.

    Attributes:
        reason: Why, in words a user can act on (``"binary file (contains NUL bytes)"``).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
