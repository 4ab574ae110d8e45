"""The three sites whose every page the output checks (Nu checker, social cards) go over: the
repository's own, the minimal sample site and the browser fixture (a fictional review that
exercises every feature), so every page type. Each is copied with the repository's templates
and built with the real pipeline, without the search index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ldn_site import pipeline
from ldn_site.diagnostics import has_errors

REPO = Path(__file__).resolve().parent.parent
SITES = {"real": REPO, "minimal": REPO / "tests" / "sites" / "minimal",
         "fixture": REPO / "tests" / "browser" / "site"}
NOT_VALID = "the repository's content does not validate (see `ldn-site check`)"


def build_site(name: str, tmp: Path) -> Path | None:
    """Site ``name`` built into tmp/out; None for the repository's own site while its content
    does not validate."""
    root = tmp / "src"
    shutil.copytree(SITES[name], root, ignore=shutil.ignore_patterns(
        ".ldn-site-cache", "_site", ".git", ".venv", ".ci", "node_modules", "tests"))
    if not (root / "templates").is_dir():
        shutil.copytree(REPO / "templates", root / "templates")
    with pytest.MonkeyPatch.context() as mp:
        if name == "real":  # the repository's reviews are dated by the real calendar
            mp.delenv("SOURCE_DATE_EPOCH", raising=False)
            if has_errors(pipeline.check_site(str(root)).diagnostics):
                return None
        result = pipeline.build_site(str(root), output=str(tmp / "out"), use_cache=False,
                                     search=False)
    assert result.written, [d.format() for d in result.diagnostics]
    return tmp / "out"
