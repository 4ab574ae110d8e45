"""Diagnostics: the one way every stage reports a problem.

Owns the ``Diagnostic`` value, its ordering and its text form. It never prints and never
decides an exit code (that is the CLI's job); stages return lists of diagnostics instead of
raising, so that a run can collect every problem before failing.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, located at ``path:line`` (line is 1-based; 0 means the whole file)."""

    path: str
    line: int
    severity: str
    message: str
    code: str

    def format(self) -> str:
        return (f"{_one_line(self.path)}:{self.line}: {self.severity}: {_one_line(self.message)} "
                f"[{self.code}]")

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


def _one_line(text: str) -> str:
    """Messages quote content, and content can hold control characters (a link written
    ``java&#10;script:`` decodes to a newline); escape them so that a diagnostic is always
    exactly one line and hidden characters become visible."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def error(path: str, line: int, code: str, message: str) -> Diagnostic:
    return Diagnostic(path, line, ERROR, message, code)


def warning(path: str, line: int, code: str, message: str) -> Diagnostic:
    return Diagnostic(path, line, WARNING, message, code)


def sort_diagnostics(diagnostics) -> list[Diagnostic]:
    """Sorted by path, line, then code and message: a stable order for people and tests."""
    return sorted(set(diagnostics), key=lambda d: (d.path, d.line, d.code, d.message, d.severity))


def has_errors(diagnostics) -> bool:
    return any(d.severity == ERROR for d in diagnostics)


def summarize(diagnostics) -> str:
    errors = sum(1 for d in diagnostics if d.severity == ERROR)
    warnings = sum(1 for d in diagnostics if d.severity == WARNING)

    def plural(n, word):
        return f"{n} {word}" + ("" if n == 1 else "s")

    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
