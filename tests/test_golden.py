"""Golden output: the minimal site, built with a fixed SOURCE_DATE_EPOCH, must match
tests/golden/minimal/ byte for byte, file for file.

When a change to the templates or the generator alters the output on purpose, regenerate the
golden files and review the diff before committing it:

    LDN_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py

The search index (Pagefind) is left out (``search=False``): it is a third-party tool's binary
output that changes with every Pagefind release; test_determinism.py covers its stability.
"""

from __future__ import annotations

import difflib
import os
import shutil

from conftest import GOLDEN, read_tree
from ldn_site import pipeline

GOLDEN_MINIMAL = GOLDEN / "minimal"
UPDATE = os.environ.get("LDN_UPDATE_GOLDEN") == "1"


def test_minimal_site_matches_golden_output(make_site, tmp_path):
    site = make_site("minimal")
    out = tmp_path / "out"
    result = pipeline.build_site(str(site), output=str(out), search=False)
    assert result.written, [d.format() for d in result.diagnostics]
    built = read_tree(out)

    if UPDATE:
        shutil.rmtree(GOLDEN_MINIMAL, ignore_errors=True)
        for rel, data in built.items():
            target = GOLDEN_MINIMAL / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    expected = read_tree(GOLDEN_MINIMAL)
    assert expected, f"no golden files in {GOLDEN_MINIMAL}; run with LDN_UPDATE_GOLDEN=1"
    hint = "if the change is intended, regenerate with LDN_UPDATE_GOLDEN=1 and review the diff"
    assert sorted(built) == sorted(expected), f"the set of output files changed; {hint}"
    for rel in sorted(expected):
        if built[rel] != expected[rel]:
            diff = "".join(list(difflib.unified_diff(
                expected[rel].decode("utf-8", "replace").splitlines(keepends=True),
                built[rel].decode("utf-8", "replace").splitlines(keepends=True),
                f"golden/{rel}", f"built/{rel}"))[:60])
            raise AssertionError(f"{rel} differs from the golden file; {hint}\n{diff}")


def test_golden_output_names_no_local_path(make_site):
    """The build's folders must never leak into the output (they differ on every machine)."""
    site = str(make_site("minimal"))
    for rel, data in read_tree(GOLDEN_MINIMAL).items():
        assert b"/tmp" not in data and site.encode() not in data, rel
