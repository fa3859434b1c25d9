"""Strict text records for the skeleton text formats (NTU ``.skeleton``, PKU-MMD ``.txt``).

One grammar for numbers, shared by every text reader:

- a number is a plain ASCII decimal: optional sign, digits with an optional fraction, an
  optional exponent (``-0.25``, ``3``, ``.5``, ``1e-3``). ``nan``, ``inf``, ``1_0``, hex and
  non-ASCII digits are refused, and so is any value that overflows to infinity (``1e999``);
- fields on a line are separated by spaces or tabs; a line ends in LF or CRLF, and any other
  control or non-ASCII character inside a line is an error.

:class:`LineReader` walks a file line by line and knows how many characters are left, so a
reader can check a count it has just read (frames, bodies) against what the rest of the file
could possibly hold before it builds anything from that count.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import DataFormatError

FLOAT = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_FLOAT_RE = re.compile(FLOAT)
_SEP = re.compile(r"[ \t]+")


def fields(line: str) -> list[str]:
    """The fields of a line: split on spaces and tabs only (not on other whitespace)."""
    s = line.strip(" \t")
    return _SEP.split(s) if s else []


def line_pattern(*pieces: str) -> re.Pattern:
    """A full-line pattern: one regex per field (``FLOAT``, ``"[0-9]+"``, ``"[012]"``, ...),
    separated by spaces or tabs; use it with ``fullmatch``."""
    return re.compile(r"[ \t]*" + r"[ \t]+".join(f"(?:{p})" for p in pieces) + r"[ \t]*")


def is_number(tok: str) -> bool:
    return _FLOAT_RE.fullmatch(tok) is not None


def to_floats(path, where: str, text: str, count: int) -> np.ndarray:
    """Already validated numbers -> float64 array; values that overflow are an error."""
    vals = np.array(text.split(), dtype=np.float64)
    if vals.size != count:  # cannot happen after a full-line match; kept as a guard
        raise DataFormatError.at(path, where, f"{count} numbers", got=vals.size)
    if not np.isfinite(vals).all():
        k = int(np.flatnonzero(~np.isfinite(vals))[0])
        raise DataFormatError.at(path, where, "finite numbers (this one overflows)",
                                 got=text.split()[k])
    return vals


def explain_line(path, where: str, line: str, names: tuple[str, ...], int_fields=(),
                 allowed: dict | None = None, described: str | None = None) -> DataFormatError:
    """The error for a line that failed its full-line pattern: wrong field count, a field that
    is not a plain number, or a value outside its allowed set. ``described`` replaces the list
    of field names in the count message."""
    tok = fields(line)
    if len(tok) != len(names):
        return DataFormatError.at(path, where, f"{len(names)} fields ({described or ' '.join(names)})",
                                  got=f"{len(tok)} fields: {line}")
    for k, t in enumerate(tok):
        if k in int_fields:
            if not t.isascii() or not t.isdigit():
                return DataFormatError.at(path, f"{where}, field {k + 1} ({names[k]})",
                                          "an integer >= 0", got=t)
        elif not is_number(t):
            return DataFormatError.at(path, f"{where}, field {k + 1} ({names[k]})",
                                      "a plain decimal number", got=t)
        if allowed and k in allowed and int(t) not in allowed[k]:
            return DataFormatError.at(path, f"{where}, field {k + 1} ({names[k]})",
                                      f"one of {sorted(allowed[k])}", got=t)
    return DataFormatError.at(path, where, "spaces or tabs between fields and no other characters",
                              got=line)


def read_text(path) -> str:
    """A whole UTF-8 text file (an optional byte-order mark is dropped); bad bytes are a
    ``DataFormatError`` naming their offset. I/O errors (a missing file) stay ``OSError``."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataFormatError.at(path, f"byte {e.start}", "a UTF-8 text file",
                                 got="undecodable bytes") from None


class LineReader:
    """Line-by-line access to a text file with its line number and the characters left."""

    def __init__(self, path):
        self.path = path
        self.text = read_text(path)
        self.pos = 0
        self.lineno = 0      # 1-based number of the last line returned

    def remaining(self) -> int:
        """Characters not read yet (an upper bound for what the rest of the file can hold)."""
        return len(self.text) - self.pos

    def next(self, what: str, expected: str) -> str:
        """The next line without its line end; the end of the file is a truncation error."""
        if self.pos >= len(self.text):
            raise DataFormatError.at(self.path, f"line {self.lineno + 1} ({what})", expected,
                                     got="end of file (truncated file?)")
        end = self.text.find("\n", self.pos)
        if end < 0:
            end = len(self.text)
        line = self.text[self.pos:end]
        self.pos = end + 1
        self.lineno += 1
        return line[:-1] if line.endswith("\r") else line

    def at_end(self) -> bool:
        """True when only blank lines are left."""
        return not self.text[self.pos:].strip(" \t\r\n")

    def count(self, what: str, maximum: int, min_chars_each: int = 0, reserved: int = 0) -> int:
        """The next line as one non-negative integer <= ``maximum`` whose items, at
        ``min_chars_each`` characters each, fit in what is left of the file after
        ``reserved`` characters that later records need anyway."""
        line = self.next(what, "one integer")
        tok = fields(line)
        where = f"line {self.lineno} ({what})"
        if len(tok) != 1 or not re.fullmatch(r"\+?[0-9]+", tok[0]):
            raise DataFormatError.at(self.path, where, "one integer >= 0", got=line)
        v = int(tok[0])
        if v > maximum:
            raise DataFormatError.at(self.path, where, f"an integer <= {maximum}", got=v)
        room = self.remaining() - reserved
        if min_chars_each and v * min_chars_each > room:
            raise DataFormatError.at(
                self.path, where, f"a count the rest of the file can hold ({v} items need at "
                f"least {v * min_chars_each} characters, {max(room, 0)} are left; truncated file?)",
                got=v)
        return v
