"""Diagnostics: the one way every stage reports a problem.

Owns the ``Diagnostic`` value, its ordering and its text form (``path:line:col: severity:
message [code]``, the form compilers use and editors jump to), and the "did you mean" hint
that messages about a mistyped name carry. It never prints and never
decides an exit code (that is the CLI's job); stages return lists of diagnostics instead of
raising, so that a run can collect every problem before failing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, located at ``path:line:col`` (1-based; a line of 0 means the whole file or
    folder, and is then left out of the location, a column of 0 that the place has no column,
    such as a BibTeX entry or a template line)."""

    path: str
    line: int
    severity: str
    message: str
    code: str
    col: int = 0

    @property
    def location(self) -> str:
        # "path:0" would send an editor to a line that does not exist.
        if self.line <= 0:
            return _one_line(self.path)
        where = f"{_one_line(self.path)}:{self.line}"
        return f"{where}:{self.col}" if self.col > 0 else where

    def format(self) -> str:
        return f"{self.location}: {self.severity}: {_one_line(self.message)} [{self.code}]"

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.col,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Diagnostic:
        """The diagnostic ``as_dict`` gave (kept with the record of a published site)."""
        return cls(data["path"], data["line"], data["severity"], data["message"], data["code"],
                   data.get("column", 0))


def _one_line(text: str) -> str:
    """Messages quote content, and content can hold control characters (a link written
    ``java&#10;script:`` decodes to a newline); escape them so that a diagnostic is always
    exactly one line and hidden characters become visible."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def error(path: str, line: int, code: str, message: str, col: int = 0) -> Diagnostic:
    return Diagnostic(path, line, ERROR, message, code, col)


def warning(path: str, line: int, code: str, message: str, col: int = 0) -> Diagnostic:
    return Diagnostic(path, line, WARNING, message, code, col)


def closest(value: str, candidates) -> str | None:
    """The one candidate close to a mistyped ``value`` (``difflib``'s ratio of at least 0.8),
    or None when none is close enough to be worth suggesting."""
    close = difflib.get_close_matches(str(value), sorted(candidates), n=1, cutoff=0.8)
    return close[0] if close else None


def did_you_mean(value: str, candidates) -> str:
    """A hint for a message naming the candidate ``closest`` to ``value``, or nothing."""
    close = closest(value, candidates)
    return f" (did you mean '{close}'?)" if close else ""


def sort_diagnostics(diagnostics) -> list[Diagnostic]:
    """Sorted by path, line, column, then code and message: a stable order for people and
    tests."""
    return sorted(set(diagnostics),
                  key=lambda d: (d.path, d.line, d.col, d.code, d.message, d.severity))


def has_errors(diagnostics) -> bool:
    return any(d.severity == ERROR for d in diagnostics)


def summarize(diagnostics) -> str:
    errors = sum(1 for d in diagnostics if d.severity == ERROR)
    warnings = sum(1 for d in diagnostics if d.severity == WARNING)

    def plural(n, word):
        return f"{n} {word}" + ("" if n == 1 else "s")

    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
