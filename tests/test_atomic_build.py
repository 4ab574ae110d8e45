"""A build that fails, is interrupted or is killed leaves the previously published site exactly
as it was: same files, same bytes, same modification times, and no staging folder beside it
(a killed build's leftovers are removed by the next build, as is the site a build replaces)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import read_tree, run_cli, stat_tree
from ldn_site import pipeline


def staging_leftovers(out) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def published(make_site, tmp_path):
    """A site built once into tmp_path/out; returns (site, out, bytes, stats)."""
    site = make_site("minimal")
    out = tmp_path / "out"
    result = run_cli("build", "--root", site, "--output", out)
    assert result.exit_code == 0, result.output
    return site, out, read_tree(out), stat_tree(out)


def test_a_failed_build_leaves_the_previous_site_untouched(published):
    site, out, before, stats = published
    claim = site / "claims" / "drug-reduces-pain.yaml"
    claim.write_text(claim.read_text("utf-8").replace("verdict: supported", "verdict: maybe"),
                     "utf-8")
    time.sleep(0.01)  # a rewrite would now show up as a new mtime
    result = run_cli("build", "--root", site, "--output", out)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "claims/drug-reduces-pain.yaml:4:10: error: 'verdict' must be one of supported, mixed, "
        "unsupported, refuted; got 'maybe' [invalid-value]",
        "1 error, 0 warnings"]
    assert result.stderr.splitlines() == [
        "build failed: nothing was written; the previous site is unchanged"]
    assert read_tree(out) == before
    assert stat_tree(out) == stats
    assert staging_leftovers(out) == []


def test_an_interrupted_build_leaves_the_previous_site_untouched(published, monkeypatch):
    site, out, before, stats = published
    claim = site / "claims" / "drug-reduces-pain.yaml"
    claim.write_text(claim.read_text("utf-8").replace("The drug reduces pain\n",
                                                      "The drug reduces pain a little\n"),
                     "utf-8")
    real = pipeline.render_page
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 4:  # three new pages are already in the staging folder
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "render_page", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.build_site(str(site), output=str(out), jobs=1)
    assert len(calls) == 4
    assert read_tree(out) == before
    assert stat_tree(out) == stats
    assert staging_leftovers(out) == []


KILLED_BUILD = textwrap.dedent("""
    import sys, time
    from ldn_site import pipeline
    site, out, marker = sys.argv[1:4]
    real = pipeline.render_page
    count = 0

    def slow(*args, **kwargs):
        global count
        count += 1
        if count == 4:  # three new pages are in the staging folder: tell the test, then hang
            open(marker, "w").close()
            time.sleep(120)
        return real(*args, **kwargs)

    pipeline.render_page = slow
    # Without the caches every page is rendered (none is reused from the published site).
    pipeline.build_site(site, output=out, jobs=1, use_cache=False)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no SIGKILL")
def test_a_killed_build_leaves_the_previous_site_untouched(published, tmp_path):
    site, out, before, stats = published
    marker = tmp_path / "rendering"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(site), str(out),
                             str(marker)], env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the build never reached the fourth page"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    assert read_tree(out) == before
    assert stat_tree(out) == stats
    # SIGKILL gives no chance to clean up: the half-written staging folder is still there...
    leftovers = staging_leftovers(out)
    assert len(leftovers) == 1 and ".staging-" in leftovers[0]
    # (three pages, and whichever data files a child process wrote meanwhile)
    staged = read_tree(out.parent / leftovers[0])
    assert len([name for name in staged if name.endswith(".html")]) == 3
    # ... and is never published; the next build removes it and publishes a whole site,
    # removing the site it replaced as well.
    result = run_cli("build", "--root", site, "--output", out)
    assert result.exit_code == 0, result.output
    assert staging_leftovers(out) == []
    assert read_tree(out) == before


def test_the_site_a_build_replaces_is_removed(published):
    site, out, before, _ = published
    for _ in range(3):
        result = run_cli("build", "--root", site, "--output", out)
        assert result.exit_code == 0, result.output
        assert read_tree(out) == before
        assert staging_leftovers(out) == []


@pytest.mark.parametrize("edit, expected", [
    # A syntax error is found before anything is rendered, at its template line.
    (("claim.html", "{% endblock %}", "{% if %}{% endblock %}"),
     "templates/claim.html:{line}: error: template syntax error: Expected an expression, got "
     "'end of statement block' [template-syntax]"),
    # A value the view-model does not have fails while rendering (StrictUndefined), located
    # at the template line and naming the page.
    (("claim.html", "</span> {{ claim.title }}</h1>", "</span> {{ claim.headline }}</h1>"),
     "templates/claim.html:7: error: the page claims/drug-reduces-pain.html could not be "
     "rendered: 'dict object' has no attribute 'headline' [template-error]"),
    (("claim.html", '{% extends "base.html" %}', '{% extends "basis.html" %}'),
     "templates/claim.html:1: error: the page claims/drug-reduces-pain.html could not be "
     "rendered: there is no template 'basis.html' [template-error]"),
    # One mistake in the layout fails every page alike: one error, counting the pages and
    # naming one, rather than one error per page.
    (("base.html", "{{ site.title }}", "{{ site.titel }}"),
     "templates/base.html:{line}: error: 17 pages (for example 404.html) could not be rendered: "
     "'dict object' has no attribute 'titel' [template-error]"),
])
def test_a_broken_template_is_a_diagnostic_and_leaves_the_site_untouched(published, edit,
                                                                         expected):
    site, out, before, stats = published
    name, old, new = edit
    template = site / "templates" / name
    text = template.read_text("utf-8")
    assert text.count(old) >= 1
    expected = expected.format(line=next(n for n, line in enumerate(text.splitlines(), 1)
                                         if old in line))
    template.write_text(text.replace(old, new, 1), "utf-8")
    result = run_cli("build", "--root", site, "--output", out)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [expected, "1 error, 0 warnings"]
    assert read_tree(out) == before
    assert stat_tree(out) == stats
    assert staging_leftovers(out) == []
