"""``.ci/run``, the CI entry point: run for real on a copy of the repository's script, with
``make`` and ``ldn-site`` replaced by stand-ins that only say how they were called (the real
ones are what the rest of the suite tests; here it is the script's own decisions)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from helpers_contrib import REPO

STAND_IN = "#!/bin/sh\necho \"{name} $*\"\n"


def _stand_in(path: Path, name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STAND_IN.format(name=name), encoding="utf-8")
    path.chmod(0o755)


def _run_ci(clone: Path, bin_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(["bash", str(clone / ".ci" / "run")], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_ci_says_in_one_line_when_it_skips_the_quote_check(tmp_path):
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", clone / ".ci" / "run")
    _stand_in(tmp_path / "bin" / "make", "make")
    _stand_in(clone / ".venv" / "bin" / "ldn-site", "ldn-site")

    # No ../shared/seed-articles beside the clone: the check is skipped, and CI says so.
    result = _run_ci(clone, tmp_path / "bin")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "make test",
        "skipped the quote check: ../shared/seed-articles (the articles' full texts) is absent"]

    # With the full texts there, the quote check runs against them.
    (tmp_path / "shared" / "seed-articles").mkdir(parents=True)
    result = _run_ci(clone, tmp_path / "bin")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "make test", "ldn-site check --texts ../shared/seed-articles"]
