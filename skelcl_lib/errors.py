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


class ConfigError(ValueError):
    """A config that breaks the schema. One :class:`ConfigProblem` per key; the message has one
    line per problem: ``SOURCE: KEY: expected ..., got ...`` (SOURCE: the YAML file or ``--set``)."""

    def __init__(self, problems: list["ConfigProblem"]):
        self.problems = list(problems)
        super().__init__("\n".join(p.message() for p in self.problems))


class ConfigProblem:
    """One bad key: where it came from, its dotted name, what was expected and what was found."""

    def __init__(self, source: str, key: str, expected: str, got=None, has_got: bool = True):
        self.source, self.key, self.expected, self.got, self.has_got = str(source), key, expected, got, has_got

    def message(self) -> str:
        text = f"{self.source}: {self.key}: expected {self.expected}"
        if self.has_got:
            got = repr(self.got)
            text += f", got {got[:77] + '...' if len(got) > 80 else got}"
        return text

    def __repr__(self) -> str:
        return f"ConfigProblem({self.message()!r})"
