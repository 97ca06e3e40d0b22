"""The error tree of assistant27; every message says what happened and what to do next.

Assistant27Error
├── ConfigError            a setting is wrong
├── IndexMissingError      no index yet, or it is unreadable
├── IndexBusyError         another ingestion holds the index
├── CorpusEmptyError       nothing to ingest
├── ModelMissingError      a model file is not installed
├── ReadError              one publication cannot be read (ingestion skips it)
├── QuestionError          an empty or unusable question
└── GeneratorError         the generator failed (server down, model crash)
"""

from __future__ import annotations


class Assistant27Error(Exception):
    """Base of every error we raise on purpose; its message is shown to the user as is."""


class ConfigError(Assistant27Error):
    """A setting is wrong."""


class IndexMissingError(Assistant27Error):
    """No index yet, or it cannot be read."""


class IndexBusyError(Assistant27Error):
    """Another ingestion is writing the same index."""


class CorpusEmptyError(Assistant27Error):
    """The corpus folder has no publication to ingest."""


class ModelMissingError(Assistant27Error):
    """A model file is not installed."""


class ReadError(Assistant27Error):
    """One publication cannot be read; ingestion reports it and goes on."""


class QuestionError(Assistant27Error):
    """The question is empty or unusable."""


class GeneratorError(Assistant27Error):
    """The text generator failed."""
