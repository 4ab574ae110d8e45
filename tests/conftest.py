"""Shared fixtures: sample sites copied into a temporary folder, a fixed build date, and a
runner for the real ``ldn-site`` command line.

Sample sites live under ``tests/sites/``. ``minimal/`` is a complete, valid site without
templates; every other sample site (``invalid/<defect>/``, ``yaml11-literals/``, ...) is an
*overlay*: only the files that differ from ``minimal``. ``make_site(name)`` copies ``minimal``
into ``tmp_path``, lays the overlay over it, removes the files an overlay lists in its
``_remove.txt``, and copies the repository's own ``templates/`` in, so every test runs on real
files and the real templates and never touches the repository.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ldn_site.cli import main as cli_main

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SITES = TESTS / "sites"
MINIMAL = SITES / "minimal"
TEMPLATES = REPO / "templates"
GOLDEN = TESTS / "golden"

# 2026-02-01T00:00:00Z: after the minimal site's review date (2026-01-15) and well inside its
# review_max_age_days, so that no test depends on the machine's clock or environment.
FIXED_EPOCH = "1769904000"

REMOVE_LIST = "_remove.txt"
# Leftovers a developer's local build may have put beside a sample site; never copied.
_IGNORE = shutil.ignore_patterns(".ldn-site-cache", "_site", ".*.staging-*", ".*.replaced-*",
                                 "__pycache__")


@pytest.fixture(autouse=True)
def fixed_build_date(monkeypatch):
    """Every test sees the same SOURCE_DATE_EPOCH, whatever the caller's environment holds."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)


def copy_site(name: str, dest: Path, templates: bool = True) -> Path:
    """Copy ``minimal`` to ``dest``, overlay ``tests/sites/<name>`` (unless it is minimal
    itself) and add the repository's templates."""
    shutil.copytree(MINIMAL, dest, ignore=_IGNORE)
    if name != "minimal":
        overlay = SITES / name
        assert overlay.is_dir(), f"no sample site {overlay}"
        for src in sorted(overlay.rglob("*")):
            rel = src.relative_to(overlay)
            if src.is_dir() or rel.as_posix() == REMOVE_LIST:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
        remove = overlay / REMOVE_LIST
        if remove.is_file():
            for line in remove.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    (dest / line.strip()).unlink()
    if templates:
        shutil.copytree(TEMPLATES, dest / "templates", ignore=_IGNORE)
    return dest


@pytest.fixture
def make_site(tmp_path):
    """``make_site(name)`` -> path of a fresh copy of sample site ``name`` (see module doc).
    Each call makes a new copy, so one test can build several sites side by side."""
    counter = {"n": 0}

    def make(name: str = "minimal", templates: bool = True) -> Path:
        counter["n"] += 1
        dest = tmp_path / f"site{counter['n']}-{name.replace('/', '-')}"
        return copy_site(name, dest, templates=templates)

    return make


def run_cli(*args: str):
    """Run the real click command in-process; returns click's Result (output, exit_code)."""
    return CliRunner().invoke(cli_main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def cli():
    return run_cli


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, by relative POSIX path, with its bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath) / name
            out[full.relative_to(folder).as_posix()] = full.read_bytes()
    return out


def stat_tree(folder: Path) -> dict[str, tuple[int, int, int]]:
    """(size, mtime in ns, inode) of every file and folder below ``folder``, and of the folder
    itself: enough to notice a file that was rewritten, even with the same bytes."""
    out = {".": _stat(folder)}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            out[full.relative_to(folder).as_posix()] = _stat(full)
    return out


def _stat(path: Path) -> tuple[int, int, int]:
    st = path.lstat()
    return (st.st_size if path.is_file() else 0, st.st_mtime_ns, st.st_ino)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: needs Debian's Chromium (skipped on the macOS and Windows runners)")
    config.addinivalue_line(
        "markers", "repository_content: checks the repository's own claims/ and sources/ "
        "(fails while that content is incomplete; deselect with -m 'not repository_content')")


def pytest_terminal_summary(terminalreporter):
    """One line per category of the hostile-input suites (tests/hostile.py keeps the tally)."""
    from hostile import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("hostile input, by category")
        for line in lines:
            terminalreporter.write_line(line)
