"""Packaging: the wheel builds without a setuptools warning, and installed on its own into a
fresh virtual environment (not editable: no path back to this checkout) its ``ldn-site``
builds a sample site. pip may take the dependencies from its cache or the package registry,
as ``make site`` does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import copy_site
from helpers_contrib import REPO, cli_env

# Python's warning classes, as setuptools prints them ("BuildBackendWarning: ...",
# "SetuptoolsDeprecationWarning: ..."); not distutils' lower-case "warning: build_py: ...".
WARNING = re.compile(r"\b[A-Z]\w*Warning\b")


def _run(*args, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=600, check=False, **kw)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_builds_cleanly_and_its_ldn_site_builds_a_site(tmp_path):
    dist = tmp_path / "dist"
    built = _run(sys.executable, "-m", "pip", "wheel", REPO, "--no-deps", "-w", dist, "-v",
                 env=dict(os.environ, PIP_NO_INPUT="1"))
    log = built.stdout + built.stderr
    assert not WARNING.findall(log), [line for line in log.splitlines() if WARNING.search(line)]
    [wheel] = dist.glob("ldn_site-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ldn_site/styles/american-medical-association.csl" in names  # citations need it
    assert "ldn_site/cli.py" in names

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", wheel)
    where = _run(python, "-c", "import ldn_site; print(ldn_site.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv)  # the installed copy, not ours

    site = copy_site("minimal", tmp_path / "site")
    result = _run(venv / "bin" / "ldn-site", "build", "-o", tmp_path / "out", cwd=site,
                  env=cli_env())
    assert result.stdout.startswith("built ")
    page = tmp_path / "out" / "claims" / "drug-reduces-pain.html"
    assert "The drug reduces pain" in page.read_text(encoding="utf-8")
    assert (tmp_path / "out" / "pagefind").is_dir()  # Pagefind came with the wheel's deps
