"""The errors the data package raises, so callers can catch one family at a time.

Each message names the file or argument, what was expected and what was
found, and where it helps, the remedy.
"""

from __future__ import annotations

import pickle


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk in any of the places looked at."""


class CorruptFileError(ValueError):
    """A data file exists but cannot be read: truncated, wrong magic, wrong size."""


class DownloadError(OSError):
    """Every mirror of a file failed (network error, HTTP error or checksum mismatch)."""


class ChecksumError(DownloadError):
    """A downloaded file does not have the published checksum."""


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than dicts, lists, str, bytes, ints, arrays."""
