"""Every page carries the medical disclaimer, and a template that would drop it fails the build
without writing anything. Pages are parsed; the disclaimer must be a real element, visible, not
text inside a comment or an attribute."""

from __future__ import annotations

import pytest

from conftest import read_tree, run_cli, stat_tree
from html_dom import parse_html
from ldn_site import pipeline

DISCLAIMER = "Not medical advice. Information only."  # tests/sites/minimal/site.yaml
HIDING = {"template", "noscript", "script", "style", "head", "title", "textarea"}


def built_pages(out) -> dict[str, str]:
    return {rel: data.decode("utf-8") for rel, data in read_tree(out).items()
            if rel.endswith(".html")}


def build(site, out) -> pipeline.BuildResult:
    return pipeline.build_site(str(site), output=str(out), search=False)


def assert_carries_disclaimer(rel: str, html: str, text: str = DISCLAIMER) -> None:
    doc = parse_html(html)
    asides = doc.find_all("aside", cls="disclaimer")
    assert len(asides) == 1, f"{rel}: {len(asides)} disclaimer elements"
    aside = asides[0]
    assert aside.normalized_text() == text, rel
    body = doc.find("body")
    assert body is not None and body in aside.ancestors(), f"{rel}: disclaimer outside <body>"
    for el in [aside, *aside.ancestors()]:
        assert el.tag not in HIDING, f"{rel}: disclaimer inside <{el.tag}>"
        assert "hidden" not in el.attrs and el.attrs.get("aria-hidden") != "true", \
            f"{rel}: disclaimer hidden by <{el.tag}>"


def test_every_page_of_the_minimal_site_carries_the_disclaimer(make_site, tmp_path):
    result = build(make_site("minimal"), tmp_path / "out")
    assert result.written
    pages = built_pages(tmp_path / "out")
    assert len(pages) == result.pages >= 10
    assert {"index.html", "404.html", "disclaimer.html", "claims/drug-reduces-pain.html",
            "sources/trial2020.html", "sources/article-a.html"} <= set(pages)
    for rel, html in sorted(pages.items()):
        assert_carries_disclaimer(rel, html)


def test_the_configured_disclaimer_text_is_what_pages_show(make_site, tmp_path):
    """Control: the assertion follows site.yaml, so a page with another text would fail."""
    site = make_site("minimal")
    config = site / "site.yaml"
    config.write_text(config.read_text("utf-8").replace(
        DISCLAIMER, '"**Information only**; not a substitute for your doctor."'), "utf-8")
    assert build(site, tmp_path / "out").written
    for rel, html in sorted(built_pages(tmp_path / "out").items()):
        assert_carries_disclaimer(rel, html,
                                  "Information only; not a substitute for your doctor.")
        with pytest.raises(AssertionError):
            assert_carries_disclaimer(rel, html)


def drop_disclaimer(site, replacement: str = "") -> None:
    base = site / "templates" / "base.html"
    lines = base.read_text("utf-8").splitlines(keepends=True)
    kept = [line if 'class="disclaimer"' not in line else replacement.replace("LINE", line)
            for line in lines]
    assert kept != lines, "templates/base.html no longer has the disclaimer line"
    base.write_text("".join(kept), "utf-8")


def test_a_template_without_the_disclaimer_fails_and_writes_nothing(make_site, tmp_path):
    site = make_site("minimal")
    drop_disclaimer(site)
    out = tmp_path / "out"
    result = run_cli("build", "--root", site, "--output", out)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == f"{len(lines) - 1} errors, 0 warnings"
    templates = set()
    for line in lines[:-1]:
        # One error per template, naming one of the pages it would have made.
        where, _, message = line.partition(":0: error: ")
        assert where.startswith("templates/"), line
        assert message.endswith(" would not carry the medical disclaimer, shown; nothing was "
                                "written [missing-disclaimer]"), line
        templates.add(where)
    assert {"templates/index.html", "templates/404.html", "templates/claim.html"} <= templates
    assert "build failed: nothing was written" in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if ".staging-" in p.name] == []


def test_a_template_without_the_disclaimer_leaves_the_old_site(make_site, tmp_path):
    site = make_site("minimal")
    out = tmp_path / "out"
    assert build(site, out).written
    before_bytes, before_stat = read_tree(out), stat_tree(out)
    drop_disclaimer(site)
    result = build(site, out)
    assert not result.written
    assert {d.code for d in result.diagnostics} == {"missing-disclaimer"}
    assert read_tree(out) == before_bytes and stat_tree(out) == before_stat
    assert [p.name for p in tmp_path.iterdir() if ".staging-" in p.name] == []


def test_a_commented_out_disclaimer_is_not_a_disclaimer(make_site, tmp_path):
    site = make_site("minimal")
    drop_disclaimer(site, "<!-- LINE -->")
    result = build(site, tmp_path / "out")
    assert not result.written
    assert {d.code for d in result.diagnostics} == {"missing-disclaimer"}
