"""The one error type for malformed input."""

from __future__ import annotations

import os


class DataFormatError(ValueError):
    """Malformed input: the message names the file, the line or field, and what was expected.

    Build it with :meth:`at` so every message has the same shape::

        raise DataFormatError.at(path, "line 3 (numBodies)", "an integer >= 0", got="abc")
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None,
                 where: str | None = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.where = where

    @classmethod
    def at(cls, path, where: str, expected: str, got=None) -> "DataFormatError":
        msg = f"{path}: {where}: expected {expected}"
        if got is not None:
            text = repr(got)
            if len(text) > 80:
                text = text[:77] + "..."
            msg += f", got {text}"
        return cls(msg, path=path, where=where)
