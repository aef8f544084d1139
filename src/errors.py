"""Error types that the entry points turn into one clear line and a non-zero exit."""

from __future__ import annotations


class ProfilingError(Exception):
    """Base of the errors a user can fix (bad data, bad config); shown without a traceback."""


class ConfigError(ProfilingError):
    """The composed config asks for something that does not exist or does not fit."""


class IncompatibleModel(ProfilingError):
    """The model has no variant for the task's kind of features; the job is skipped, not failed."""
