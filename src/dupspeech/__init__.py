"""dupspeech: find recycled Chinese speeches, cluster them, and show which paragraphs were copied from which.

    >>> import dupspeech
    >>> result = dupspeech.cluster("corpus/")            # doctest: +SKIP
    >>> for family in result.clusters: ...               # doctest: +SKIP
"""

from .api import cluster, compare, settings, split
from .dedup import Manifest, dedup
from .config import AlignConfig, ClusterConfig, MinHashConfig, SegmentConfig, Settings, ShingleConfig
from .errors import ConfigError, CorpusError, DecodeFailure, DupspeechError, OptionalDependencyError
from .ingest import iter_corpus, read_corpus
from .models import (
    Cluster,
    Copy,
    Document,
    Dropped,
    FileRecord,
    Location,
    Pair,
    Paragraph,
    Result,
    Span,
    Speech,
)
from .segment import split_page
from .store import AddReport, Index

__version__ = "0.1.0"

__all__ = [
    "AddReport",
    "AlignConfig",
    "Cluster",
    "ClusterConfig",
    "ConfigError",
    "Copy",
    "CorpusError",
    "DecodeFailure",
    "Document",
    "Dropped",
    "DupspeechError",
    "FileRecord",
    "Index",
    "Location",
    "Manifest",
    "MinHashConfig",
    "OptionalDependencyError",
    "Pair",
    "Paragraph",
    "Result",
    "SegmentConfig",
    "Settings",
    "ShingleConfig",
    "Span",
    "Speech",
    "__version__",
    "cluster",
    "compare",
    "dedup",
    "iter_corpus",
    "read_corpus",
    "settings",
    "split",
    "split_page",
]
