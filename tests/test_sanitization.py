"""Hostile content is shown as text, never executed and never dropped.

tests/sites/hostile-markdown/ puts raw HTML (<script>, <img onerror>, <iframe>, <style>, event
attributes) into Markdown fields, quotes and breakouts ("><script>) into plain-text fields that
land in attributes and JSON-LD, and markup into the BibTeX. The built pages are parsed: no
element or attribute may come from the content, and the content must still read as written.
Dangerous link schemes cannot be built at all (``check`` refuses them, see
test_invalid_sites.py); here the Markdown renderer's own second line of defence is tested.
"""

from __future__ import annotations

import json

import pytest

from conftest import TEMPLATES, read_tree, run_cli
from html_dom import parse_html
from ldn_site.loading import BINARY_STATIC
from ldn_site.markup import MarkdownRenderer, find_unsafe_links, render_markdown

TITLE = "The drug \"><script>alert('title')</script> reduces pain"
STATEMENT = "Pain falls \"><img src=x onerror=alert('statement')> with the drug & more."
BIB_TITLE = 'A placebo-controlled trial of <script>alert("bib")</script> a drug'
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "cite", "poster", "srcset")
TEMPLATE_TEXTS = [p.read_text("utf-8") for p in TEMPLATES.rglob("*")
                  if p.is_file() and p.suffix not in BINARY_STATIC]  # not the social cards


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory):
    from conftest import copy_site  # module-scoped: build once for every test here
    tmp = tmp_path_factory.mktemp("hostile")
    site = copy_site("hostile-markdown", tmp / "site")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1769904000")
        result = run_cli("build", "--root", site, "--output", tmp / "out")
    assert result.exit_code == 0, result.output
    return {rel: parse_html(data.decode("utf-8"))
            for rel, data in read_tree(tmp / "out").items() if rel.endswith(".html")}


def scheme_of(url: str) -> str:
    return "".join(ch for ch in url if not ch.isspace() and ord(ch) > 31).lower()


def test_no_page_carries_an_element_or_attribute_from_the_content(hostile_pages):
    assert len(hostile_pages) >= 10
    for rel, doc in hostile_pages.items():
        for el in doc.iter():
            assert el.tag not in ("iframe", "object", "embed", "frame", "base"), rel
            for name, value in el.attrs.items():
                assert not name.startswith("on"), f"{rel}: <{el.tag} {name}>"
                if name in URL_ATTRIBUTES and value:
                    assert not scheme_of(value).startswith(BAD_SCHEMES), f"{rel}: {value}"
            if el.tag == "script":
                if el.attrs.get("type") == "application/ld+json":
                    json.loads(el.text())  # data, and still valid JSON
                elif el.attrs.get("src"):
                    assert not scheme_of(el.attrs["src"]).startswith(("http:", "https:", "//"))
                else:  # inline code is only ever the templates' own, never the content's
                    assert "alert(" not in el.text(), rel
                    assert any(el.text().strip() in t for t in TEMPLATE_TEXTS), \
                        f"{rel}: inline script not from templates/"
            if el.tag == "style":
                assert "display: none" not in el.text(), rel
            if el.tag == "img":
                assert el.attrs.get("src") != "x", f"{rel}: an <img> from the content"


def test_raw_html_in_markdown_is_shown_as_text(hostile_pages):
    doc = hostile_pages["claims/drug-reduces-pain.html"]
    text = doc.find("main").normalized_text()
    for shown in ["Patients were told to take <dose> mg at night.",
                  "<script>alert('summary')</script>",
                  "<img src=x onerror=\"alert('img')\"> and "
                  "<iframe src=\"https://evil.example/\"></iframe>",
                  "<a href=\"javascript:alert('raw-link')\">a raw link</a> and a safe link.",
                  "One trial found <b onmouseover=\"alert('finding')\">less pain</b> than "
                  "placebo.",
                  "Only <em>one</em> trial, <script>alert('reason')</script>.",
                  "The drug reduced pain </blockquote><script>alert('excerpt')</script> vs "
                  "placebo."]:
        assert shown in text
    # Markdown itself still works next to the escaped HTML.
    safe = [a for a in doc.find_all("a") if a.text() == "a safe link"]
    assert [a.attrs["href"] for a in safe] == ["https://example.org/"]
    source = hostile_pages["sources/trial2020.html"]
    assert "<style>body { display: none }</style> Pain fell more" in \
        source.find("main").normalized_text()


def test_plain_text_fields_are_escaped_in_text_and_attributes(hostile_pages):
    doc = hostile_pages["claims/drug-reduces-pain.html"]
    # The claim is framed as a claim, with its verdict, wherever its title or statement goes.
    framed_title, framed_statement = f"Claim: {TITLE} — ", f"Claim: {STATEMENT.rstrip('.')} — "
    assert doc.find("h1").normalized_text() == f"Claim: {TITLE}"
    assert doc.find("title").text().startswith(framed_title)
    assert doc.find("meta", name="description").attrs["content"].startswith(framed_statement)
    assert doc.find("meta", property="og:title").attrs["content"].startswith(framed_title)
    (ld_json,) = doc.find_all("script", type="application/ld+json")
    page = json.loads(ld_json.text())["@graph"][0]
    assert page["name"].startswith(framed_title)
    assert page["description"].startswith(framed_statement)
    assert "Test <reviewer>" in doc.find("main").text()
    # Links to the claim elsewhere (lists, topic pages) show the title as text too, framed.
    index = hostile_pages["claims.html"]
    links = [a.normalized_text() for a in index.find_all("a")
             if a.attrs.get("href", "").endswith("claims/drug-reduces-pain.html")]
    assert f"Claim: {TITLE}" in links


def test_bibtex_fields_are_escaped(hostile_pages):
    doc = hostile_pages["sources/trial2020.html"]
    assert doc.find("h1").normalized_text() == BIB_TITLE
    assert BIB_TITLE in doc.find("meta", name="description").attrs["content"]
    citation = doc.find(cls="citation")
    assert BIB_TITLE in citation.normalized_text()
    assert "Journal of Tests & <i>Trials</i>" in citation.normalized_text()


# --- the Markdown renderer on its own ------------------------------------------------------

HOSTILE_LINKS = [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](java&#x09;script&colon;alert(1))",
    "[x](java&#10;script:alert(1))",
    "[x](javascript&#x3A;alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox(1))",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "![x](javascript:alert(1))",
]


@pytest.mark.parametrize("markdown", HOSTILE_LINKS)
def test_dangerous_links_are_found_by_check(markdown):
    found = find_unsafe_links(markdown)
    assert len(found) == 1
    assert scheme_of(found[0]).startswith(BAD_SCHEMES)


@pytest.mark.parametrize("markdown", HOSTILE_LINKS)
def test_dangerous_links_are_removed_from_rendered_html(markdown):
    for html in (render_markdown(markdown), MarkdownRenderer()(markdown)):
        doc = parse_html(html)
        for el in doc.iter():
            for name, value in el.attrs.items():
                assert not name.startswith("on")
                if name in URL_ATTRIBUTES and value:
                    assert not scheme_of(value).startswith(BAD_SCHEMES), html


@pytest.mark.parametrize("markdown", [
    "[a study](https://example.org/study)",
    "[write to us](mailto:editors@example.org)",
    "[the methods](../methodology.html)",
    "<https://example.org/>",
    "The word javascript: in prose, and data: 12 patients.",
    "`[x](javascript:alert(1))` in code is text, not a link.",
])
def test_safe_markdown_is_not_flagged(markdown):
    assert find_unsafe_links(markdown) == []


def test_safe_links_survive_rendering():
    doc = parse_html(render_markdown("[a](https://example.org/a) [b](mailto:x@example.org) "
                                     "[c](../methodology.html)"))
    assert [a.attrs.get("href") for a in doc.find_all("a")] == [
        "https://example.org/a", "mailto:x@example.org", "../methodology.html"]


@pytest.mark.parametrize("markdown, text", [
    ("take <dose> mg", "take <dose> mg"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("<iframe src='https://evil.example/'></iframe>", "<iframe src='https://evil.example/'></iframe>"),
    ("a <!-- hidden --> comment", "a <!-- hidden --> comment"),
    ("x < 5 & y > 3", "x < 5 & y > 3"),
    ("&lt;script&gt;", "<script>"),
])
def test_raw_html_renders_as_visible_text(markdown, text):
    doc = parse_html(render_markdown(markdown))
    assert doc.normalized_text() == text
    assert [el.tag for el in doc.iter()] == ["#document", "p"]
