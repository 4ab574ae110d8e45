"""Caches that cannot be stale. Every cached value is keyed by the code stamp (the whole
package, the templates and static files, the library and Python versions) and by everything
else it is made from, so a change to any input misses it. Proof, for every kind of input:
build warm, change the input, build warm again, and compare byte for byte with a build that
uses no cache at all. Also: a damaged store only misses, and nothing is ever unpickled."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXED_EPOCH, REPO, read_tree
from ldn_site import caching, pipeline

CLAIM = "claims/drug-reduces-pain.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def build(site: Path, out: Path, **kw) -> dict[str, bytes]:
    result = pipeline.build_site(str(site), output=str(out), search=False, **kw)
    assert result.written, [d.format() for d in result.diagnostics]
    return read_tree(out)


def assert_fresh(site: Path, warm: dict[str, bytes], tmp_path: Path, name: str) -> None:
    fresh = build(site, tmp_path / f"fresh-{name}", use_cache=False)
    differing = sorted(set(warm) ^ set(fresh)) + sorted(k for k in warm if k in fresh
                                                         and warm[k] != fresh[k])
    assert differing == [], f"{name}: the warm build differs from a build without caches"


EDITS = {
    "claim": (CLAIM, "title: The drug reduces pain", "title: The drug eases *some* pain"),
    "source": ("sources/trial2020.yaml", "n: 40", "n: 41"),
    "bibtex": ("sources/references.bib", "title = {", "title = {Revised: "),
    "template": ("templates/claim.html", "{% block content %}",
                 "{% block content %}<p>edited</p>"),
    "static": ("templates/static/style.css", "}", "} .edited{color:red}"),
    "site.yaml": ("site.yaml", "title: Minimal test site", "title: Renamed test site"),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_a_warm_build_after_any_input_change_equals_a_build_without_caches(make_site, tmp_path,
                                                                          kind):
    site = make_site("minimal")
    out = tmp_path / "out"
    before = build(site, out)
    assert (site / caching.CACHE_DIR / caching.STORE_FILE).stat().st_size > 0
    rel, old, new = EDITS[kind]
    edit(site / rel, old, new)
    warm = build(site, out)
    assert warm != before, f"the {kind} edit should change the site"
    assert_fresh(site, warm, tmp_path, kind)


def test_a_new_source_date_epoch_is_a_new_site(make_site, tmp_path, monkeypatch):
    site = make_site("minimal")
    out = tmp_path / "out"
    before = build(site, out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(FIXED_EPOCH) + 400 * 86400))
    warm = build(site, out)
    assert warm != before, "a review is now due, and the data files carry the new date"
    assert_fresh(site, warm, tmp_path, "epoch")


def test_a_change_to_the_generator_is_a_change_to_every_cache_key(make_site, tmp_path):
    """The package is copied and run from the copy in a subprocess, then one of its modules
    is edited: the next warm build must not reuse anything made by the old code."""
    site = make_site("minimal")
    code = tmp_path / "code"
    shutil.copytree(REPO / "ldn_site", code / "ldn_site",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "out"

    def run(*extra: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(code), SOURCE_DATE_EPOCH=FIXED_EPOCH)
        # cwd: ``-m`` puts the working directory first on the path, and the repository's own
        # ldn_site must not shadow the copy.
        proc = subprocess.run([sys.executable, "-m", "ldn_site", "build", "--root", str(site),
                               "--no-search", *extra], env=env, capture_output=True, text=True,
                              cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    run("-o", str(out))
    before = read_tree(out)
    guides = code / "ldn_site" / "views" / "guides.py"
    edit(guides, '"Medical disclaimer"', '"Medical disclaimer (edited code)"')
    run("-o", str(out))
    warm = read_tree(out)
    assert warm != before and b"edited code" in warm["disclaimer.html"]
    run("--no-cache", "-o", str(tmp_path / "fresh"))
    assert warm == read_tree(tmp_path / "fresh")


def test_the_store_misses_for_another_stamp_and_survives_damage(tmp_path):
    store = caching.Store(str(tmp_path), "stamp-1")
    store.put("markdown", "*a*", "<p><em>a</em></p>")
    store.close()
    assert caching.Store(str(tmp_path), "stamp-1").get("markdown", "*a*") == \
        "<p><em>a</em></p>"
    assert caching.Store(str(tmp_path), "stamp-2").get("markdown", "*a*") is None
    assert caching.Store(str(tmp_path), "stamp-1").get("forest", "*a*") is None
    path = tmp_path / caching.CACHE_DIR / caching.STORE_FILE
    for damage in (b"", b"not a database at all" * 100):
        path.write_bytes(damage)
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        broken = caching.Store(str(tmp_path), "stamp-1")
        assert broken.get("markdown", "*a*") is None
        broken.put("markdown", "*b*", "x")
        broken.close()  # writing into a damaged store fails quietly


def test_entries_of_other_code_are_dropped_when_a_build_saves(tmp_path):
    old = caching.Store(str(tmp_path), "old-code")
    old.put("markdown", "*a*", "<p><em>a</em></p>")
    old.close()
    new = caching.Store(str(tmp_path), "new-code")
    new.put("markdown", "*b*", "<p><em>b</em></p>")
    new.close()
    conn = sqlite3.connect(tmp_path / caching.CACHE_DIR / caching.STORE_FILE)
    assert conn.execute("SELECT DISTINCT stamp FROM entries").fetchall() == [("new-code",)]
    conn.close()


def test_an_entry_that_is_not_json_is_a_miss(tmp_path):
    store = caching.Store(str(tmp_path), "s")
    store.put("n", "k", "v")
    store.close()
    conn = sqlite3.connect(tmp_path / caching.CACHE_DIR / caching.STORE_FILE)
    with conn:
        conn.execute("UPDATE entries SET value = 'cos\\nsystem\\n(S''echo''\\ntR.'")
    conn.close()
    assert caching.Store(str(tmp_path), "s").get("n", "k") is None


def test_a_build_with_a_damaged_store_gives_the_right_site(make_site, tmp_path):
    site = make_site("minimal")
    expected = build(site, tmp_path / "a", use_cache=False)
    store = site / caching.CACHE_DIR / caching.STORE_FILE
    store.parent.mkdir()
    store.write_bytes(b"garbage" * 1000)
    assert build(site, tmp_path / "b") == expected


def test_nothing_in_the_package_unpickles():
    """The cache folder sits in the repository, where a pull request could put a file:
    loading a pickle from it would run whatever code the file holds."""
    offenders = [str(p.relative_to(REPO)) for p in sorted((REPO / "ldn_site").rglob("*.py"))
                 if any(word in p.read_text("utf-8") for word in
                        ("import pickle", "from pickle", "marshal.load", "shelve"))]
    assert offenders == []


def test_the_code_stamp_covers_templates_and_every_package_file(tmp_path):
    stamp = caching.code_stamp({"base.html": "a"})
    assert caching.code_stamp({"base.html": "b"}) != stamp
    assert caching.code_stamp({"base.html": "a", "static/x.css": ""}) != stamp
    assert caching.code_stamp({"base.html": "a"}) == stamp


def test_an_unchanged_build_reports_the_same_warnings_again(make_site, tmp_path):
    site = make_site("invalid/warnings-only")
    first = pipeline.build_site(str(site), output=str(tmp_path / "out"), search=False)
    again = pipeline.build_site(str(site), output=str(tmp_path / "out"), search=False)
    assert first.written and first.diagnostics and not first.unchanged
    assert again.unchanged and again.diagnostics == first.diagnostics
