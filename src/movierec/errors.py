"""Exceptions movierec raises; each message names the file, field or value and what to do."""

from __future__ import annotations


class MovieRecError(Exception):
    """Base class of every error movierec raises on purpose."""


class DataFormatError(MovieRecError, ValueError):
    """A data file is missing, truncated, mis-shaped or holds an invalid value."""


class ModelFormatError(DataFormatError):
    """A saved model folder (or its index) has a missing, truncated or inconsistent file."""


class OverwriteRefusedError(MovieRecError, FileExistsError):
    """A writer was pointed at a file or folder it did not create; it replaces only its own."""


class DataSourceError(MovieRecError, RuntimeError):
    """No source (path, cache, download, mirror) could provide the requested data set."""


class FoldsUnavailableError(MovieRecError, LookupError):
    """Canonical folds (ml-100k u1..u5, ua/ub) were asked for but the files are not present."""


class UnknownIdError(MovieRecError, KeyError):
    """A raw user or movie id is not known to the model."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly instead
        return str(self.args[0]) if self.args else ""


class ConfigError(MovieRecError, ValueError):
    """An option is unknown or has an invalid value."""


class NotFittedError(MovieRecError, RuntimeError):
    """A model was used before `fit` (or `load`)."""


class UnsupportedModelError(MovieRecError, TypeError):
    """The model lacks the part an analysis needs (e.g. learned movie biases)."""
