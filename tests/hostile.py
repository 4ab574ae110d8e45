"""Shared by the hostile-input suites (malformed input, XSS in Chromium, kill -9): the mark for
their slow parts, a tally of the cases of each category, printed at the end of the run as one summary line per category
(see ``pytest_terminal_summary`` in conftest), and a snapshot of a folder that never follows a
symbolic link or opens a pipe, so that a hostile site can be compared before and after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from pathlib import Path

import pytest

# The slow suites (XSS in Chromium, kill -9 rounds) run where CI is set: GitHub Actions sets
# it, and .ci/run sets it before `make test`.
ci_only = pytest.mark.skipif(not os.environ.get("CI"),
                             reason="slow: runs in CI (.ci/run sets CI); run with CI=1 to "
                                    "include it")

# (suite, category) -> [cases run, cases passed]
RESULTS: dict[tuple[str, str], list[int]] = {}
# (suite, category) -> figures measured by its cases, printed after the counts
NOTES: dict[tuple[str, str], list[str]] = {}


@contextlib.contextmanager
def tally(suite: str, category: str):
    """Counts one case of ``category``; it passed if the block raised nothing."""
    counts = RESULTS.setdefault((suite, category), [0, 0])
    counts[0] += 1
    yield
    counts[1] += 1


def note(suite: str, category: str, text: str, replace: bool = False) -> None:
    """A figure to print after the category's counts (``replace``: instead of the last)."""
    notes = NOTES.setdefault((suite, category), [])
    if replace and notes:
        notes.pop()
    notes.append(text)


def summary_lines() -> list[str]:
    lines = []
    for (suite, category), (run, passed) in sorted(RESULTS.items()):
        failed = f", {run - passed} FAILED" if passed < run else ""
        figures = "".join(f"; {text}" for text in NOTES.get((suite, category), []))
        lines.append(f"{suite}: {category}: {run} cases, {passed} passed{failed}{figures}")
    return lines


def snapshot(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Every entry below ``folder`` by relative path: a file's bytes, size, mtime and inode, a
    link's target, a folder, or the type of anything else. Links are never followed and only
    regular files are opened. Top-level names in ``skip`` are left out."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        rel_dir = Path(dirpath).relative_to(folder)
        if rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            st = full.lstat()
            rel = (rel_dir / name).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", full.read_bytes(), st.st_mtime_ns, st.st_ino)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("folder",)
            else:
                out[rel] = ("special", stat.S_IFMT(st.st_mode))
    return out


class Hang(BaseException):
    """Raised in a build that takes too long. Not an OSError (as TimeoutError is) nor an
    Exception, so that no ``except`` in the code under test swallows it and goes on to hang
    again."""


@contextlib.contextmanager
def time_limit(seconds: int, what: str):
    """Turns a hang (a build reading a pipe, say) into a failure instead of a stuck run."""
    def expire(signum, frame):
        raise Hang(f"{what} did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
