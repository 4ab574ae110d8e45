"""The built reader's site, checked file by file: every page type, its metadata, the data files,
internal links and anchors, page weight, external requests and determinism.

Builds real sites with the real pipeline: the browser-test fixture (tests/browser/site, a
fictional review that exercises every feature), the minimal sample site and, when its content
is valid, the repository's own site. HTML is parsed, never matched with regular expressions.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from html_dom import parse_html
from ldn_site import pipeline
from ldn_site import vocabulary as v
from ldn_site.diagnostics import has_errors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "browser", "site")
MINIMAL = os.path.join(ROOT, "tests", "sites", "minimal")
# Bytes of HTML + CSS per page (search index aside). The largest, the pain claim (69 KiB on
# the real site), carries its forest plots, each with its numbers as a table and the list of
# the evidence they leave out, its abbreviations as linked <abbr> elements and its participant
# count; the home page (64 KiB) the key messages above an evidence map of every claim.
PAGE_BUDGET = 72 * 1024
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def build(site: str, tmp: str, search: bool = True) -> str:
    """Copy a sample site with the repository's templates into tmp and build it there."""
    root = os.path.join(tmp, "src")
    shutil.copytree(site, root, ignore=shutil.ignore_patterns(".ldn-site-cache", "_site"))
    if not os.path.isdir(os.path.join(root, "templates")):
        shutil.copytree(os.path.join(ROOT, "templates"), os.path.join(root, "templates"))
    out = os.path.join(tmp, "out")
    result = pipeline.build_site(root, output=out, use_cache=False, search=search)
    assert result.written, [d.format() for d in result.diagnostics]
    return out


class Page(HTMLParser):
    """What the tests need from one HTML page: ids, links, resources, scripts, text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []       # <a href>
        self.resources: list[str] = []   # anything the browser fetches by itself
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self.json_ld: list[str] = []
        self.scripts: list[dict] = []
        self.text_parts: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self._in_script: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
        if tag == "link" and a.get("href"):
            if a.get("rel") == "canonical":
                self.canonical = a["href"]
            elif a.get("rel") in ("stylesheet", "icon", "preload", "modulepreload"):
                self.resources.append(a["href"])
            else:
                self.links.append(a["href"])
        for name in ("src", "srcset", "poster", "data"):
            if a.get(name) and tag in ("img", "script", "iframe", "source", "video", "audio",
                                       "embed", "object", "input", "track"):
                self.resources.append(a[name])
        if tag == "meta":
            key = a.get("property") or a.get("name")
            if key:
                self.meta[key] = a.get("content", "")
        if tag == "script":
            self._in_script = a
            self.scripts.append(a)
        if "style" in a:
            self.resources.append("inline-style:" + a["style"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            if self._in_script.get("type") == "application/ld+json":
                self.json_ld.append(data)
            return
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())


def pages_of(out: str) -> dict[str, Page]:
    pages = {}
    for folder, _, names in os.walk(out):
        if os.path.relpath(folder, out).split(os.sep)[0] == "pagefind":
            continue
        for name in names:
            if name.endswith(".html"):
                path = os.path.relpath(os.path.join(folder, name), out).replace(os.sep, "/")
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    pages[path] = Page(f.read())
    return pages


def graph(page: Page) -> list[dict]:
    assert len(page.json_ld) == 1
    doc = json.loads(page.json_ld[0])
    assert doc["@context"] == "https://schema.org"
    return doc["@graph"]


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory) -> str:
    return build(FIXTURE, str(tmp_path_factory.mktemp("fixture")))


@pytest.fixture(scope="module")
def fixture_pages(fixture_site) -> dict[str, Page]:
    return pages_of(fixture_site)


def _real_site_or_skip(tmp_path_factory) -> str:
    checked = pipeline.check_site(ROOT)
    if has_errors(checked.diagnostics) or not checked.content.claims:
        pytest.skip("the repository's content does not validate yet (see `ldn-site check`); "
                    "its built site is checked once it does")
    return build(ROOT, str(tmp_path_factory.mktemp("real")), search=False)


def _sites(tmp_path_factory):
    yield "fixture", build(FIXTURE, str(tmp_path_factory.mktemp("fx")), search=False)
    yield "minimal", build(MINIMAL, str(tmp_path_factory.mktemp("min")), search=False)


# --- every page ----------------------------------------------------------------------------

@pytest.mark.parametrize("site", ["fixture", "minimal", "real"])
def test_no_broken_internal_links_or_anchors(site, tmp_path_factory, fixture_site, monkeypatch):
    if site == "real":  # the repository's reviews are dated by the real calendar
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    out = {"fixture": lambda: fixture_site,
           "minimal": lambda: build(MINIMAL, str(tmp_path_factory.mktemp("m")), search=False),
           "real": lambda: _real_site_or_skip(tmp_path_factory)}[site]()
    pages = pages_of(out)
    base_path = urlsplit(_base_url(out)).path
    broken = []
    for path, page in sorted(pages.items()):
        page_url = "https://site.invalid" + base_path + path
        for href in page.links + page.resources:
            if href.startswith("inline-style:"):
                continue
            target = urlsplit(urljoin(page_url, href))
            if target.scheme in ("mailto",) or target.netloc not in ("site.invalid",):
                continue
            rel = target.path[len(base_path):] if target.path.startswith(base_path) else None
            if rel is None:
                broken.append((path, href, "outside the site's base path"))
                continue
            rel = rel or "index.html"
            file = os.path.join(out, rel)
            if not os.path.isfile(file):
                broken.append((path, href, "no such file"))
            elif target.fragment:
                anchors = pages[rel].ids if rel in pages else set()
                if target.fragment not in anchors:
                    broken.append((path, href, "no such anchor"))
    assert broken == []


def _base_url(out: str) -> str:
    with open(os.path.join(out, "robots.txt"), encoding="utf-8") as f:
        line = next(ln for ln in f if ln.startswith("Sitemap:"))
    return line.split(":", 1)[1].strip()[: -len("sitemap.xml")]


def test_every_page_has_disclaimer_metadata_and_valid_json_ld(fixture_pages):
    for path, page in fixture_pages.items():
        assert "disclaimer" in page.ids, path
        graph(page)  # valid JSON with a schema.org context
        assert page.meta["og:title"] and page.meta["og:description"], path
        assert page.meta["og:url"].startswith("https://example.org/fixture/"), path
        if path != "404.html" and path != "search.html":
            assert page.canonical == "https://example.org/fixture/" + path
            assert page.meta["og:url"] == page.canonical


def test_no_page_requests_anything_outside_the_site(fixture_pages):
    for path, page in fixture_pages.items():
        for ref in page.resources:
            assert not ref.startswith("inline-style:"), (path, ref)
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, (path, ref)
        for script in page.scripts:
            src = script.get("src")
            assert src is None or not urlsplit(src).netloc, (path, src)


def test_stylesheet_has_no_external_references(fixture_site):
    with open(os.path.join(fixture_site, "style.css"), encoding="utf-8") as f:
        css = f.read()
    assert "@import" not in css and "url(" not in css and "@font-face" not in css


@pytest.mark.parametrize("which", ["fixture", "minimal", "real"])
def test_pages_are_under_the_size_budget(which, tmp_path_factory, fixture_site, monkeypatch):
    if which == "real":
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    out = {"fixture": lambda: fixture_site,
           "minimal": lambda: build(MINIMAL, str(tmp_path_factory.mktemp("s")), search=False),
           "real": lambda: _real_site_or_skip(tmp_path_factory)}[which]()
    css = os.path.getsize(os.path.join(out, "style.css"))
    too_big = []
    for folder, _, names in os.walk(out):
        for name in names:
            if name.endswith(".html") and "pagefind" not in folder:
                size = os.path.getsize(os.path.join(folder, name)) + css
                if size > PAGE_BUDGET:
                    too_big.append((name, size))
    assert too_big == []


# --- page types ----------------------------------------------------------------------------

def test_claim_page_layers_and_metadata(fixture_pages):
    page = fixture_pages["claims/drug-x-reduces-pain.html"]
    text = page.text
    # Verdict and certainty by word and symbol, near the top, before the summary.
    assert text.index("Verdict") < text.index("◐ Mixed") < text.index("In short")
    assert "●●○○ Low" in text
    for heading in ("Summary of findings", "Effect estimates", "Risk of bias of the randomized "
                    "trials", "How certain is the evidence?", "What the sources say",
                    "Articles making this claim", "Related claims", "Cite this page"):
        assert heading in text, heading
    types = [node["@type"] for node in graph(page)]
    assert types.count("MedicalWebPage") == 1 and types.count("ClaimReview") == 2
    webpage = next(n for n in graph(page) if n["@type"] == "MedicalWebPage")
    assert webpage["lastReviewed"] == "2026-01-28"
    assert "citation" not in webpage  # sources are described on their own pages
    reviews = [n for n in graph(page) if n["@type"] == "ClaimReview"]
    assert {r["itemReviewed"]["appearance"]["name"] for r in reviews} == {
        "Is Drug X the Cure for Condition Y?", "Ten Things to Know About Drug X & Condition Y"}
    assert all(r["reviewRating"]["alternateName"] == "Mixed" for r in reviews)
    assert page.meta["og:type"] == "article"


def _table_rows(table) -> list[list[str]]:
    return [[cell.normalized_text() for cell in tr.iter() if cell.tag in ("th", "td")]
            for tr in table.find_all("tr")]


def test_forest_plot_is_inline_svg_with_its_numbers_as_a_table(fixture_site):
    with open(os.path.join(fixture_site, "claims/drug-x-reduces-pain.html"),
              encoding="utf-8") as f:
        doc = parse_html(f.read())
    figures = doc.find_all("figure", cls="forest-figure")
    # One outcome and one measure: the two trials and the pooled estimate share one plot,
    # hidden from screen readers, which read the table of the same numbers instead.
    assert len(figures) == 1
    svg = figures[0].find("svg")
    assert svg.attrs["aria-hidden"] == "true" and "role" not in svg.attrs
    assert figures[0].find("figcaption").normalized_text().startswith(
        "Pain: drug X compared with placebo, standardized mean difference (SMD)")
    assert _table_rows(figures[0].find("table"))[1:] == [
        ["Smith & Jones 2021", "−0.62 (−1.14 to −0.1)", "30",
         "Favours drug X (lower with drug X); the whole interval is on that side"],
        ["Doe et al. 2020", "−0.45 (−0.96 to 0.06)", "60",
         "No clear difference (the estimate is lower with drug X)"],
        ["Lee et al. 2022 (pooled)", "−0.3 (−0.58 to −0.02)", "240",
         "Favours drug X (lower with drug X); the whole interval is on that side"]]
    # Two side effects are two outcomes: two plots, each with events per 100 where known.
    with open(os.path.join(fixture_site, "claims/drug-x-has-no-side-effects.html"),
              encoding="utf-8") as f:
        doc = parse_html(f.read())
    figures = doc.find_all("figure", cls="forest-figure")
    assert [f.find("strong").text() for f in figures] == ["Vivid dreams",
                                                          "Serious adverse events"]
    assert _table_rows(figures[0].find("table"))[1][3] == "30 vs 10"
    se = _table_rows(doc.find("table", cls="se"))
    assert se[0][2] == "Per 100 people (LDN vs placebo)" and se[1][2] == "30 vs 10"
    with open(os.path.join(fixture_site, "claims/drug-x-usual-dose.html"),
              encoding="utf-8") as f:
        assert parse_html(f.read()).find("svg") is None


def test_source_page_citation_links_and_scholarly_metadata(fixture_pages):
    page = fixture_pages["sources/doe2020trial.html"]
    assert ("Doe J, Roe R, Poe EA. A randomized, placebo-controlled trial of drug X for "
            "condition Y. Journal of Fictional Trials. 2020;12(3):100-110. "
            "doi:10.1000/fixture.1") in page.text
    assert "https://doi.org/10.1000/fixture.1" in page.links
    assert "https://pubmed.ncbi.nlm.nih.gov/10000001/" in page.links
    assert "https://clinicaltrials.gov/study/NCT00000001" in page.links
    work = graph(page)[0]["mainEntity"]
    assert work["@type"] == "ScholarlyArticle"
    assert {"propertyID": "DOI", "value": "10.1000/fixture.1", "@type": "PropertyValue"} in \
        work["identifier"]
    assert "Claims citing this source" in page.text and "excerpt-adverse-events" in page.ids


def test_article_scorecard_lists_claims_in_article_order(fixture_pages):
    page = fixture_pages["sources/article-one.html"]
    rows = [a.get("href") for tag, a in page.elements if tag == "a"
            and (a.get("href") or "").startswith("../claims/")]
    order = [r for r in dict.fromkeys(rows)]
    assert order[:3] == ["../claims/drug-x-reduces-pain.html", "../claims/drug-x-usual-dose.html",
                         "../claims/drug-x-has-no-side-effects.html"]
    assert "This popular article makes 3 claims that we reviewed" in page.text


def test_home_page_evidence_map_reaches_every_claim(fixture_pages):
    home = fixture_pages["index.html"]
    claims = {p for p in fixture_pages if p.startswith("claims/")}
    assert claims and claims <= set(home.links)
    assert "Low-dose naltrexone (LDN) is naltrexone" in home.text
    assert "Latest reviews" in home.text and "Key findings" in home.text
    assert {n["@type"] for n in graph(home)} == {"WebSite", "MedicalWebPage"}


def test_glossary_terms_are_linked_where_they_appear(fixture_pages):
    glossary = fixture_pages["glossary.html"]
    page = fixture_pages["claims/drug-x-reduces-pain.html"]
    term_links = [h for h in page.links if h.startswith("../glossary.html#")]
    for anchor in ("rct", "crossover-trial", "meta-analysis", "ci", "grade", "risk-of-bias"):
        assert f"../glossary.html#{anchor}" in term_links, anchor
        assert anchor in glossary.ids


def test_methodology_publishes_the_verdict_rule_and_every_source_kind(fixture_pages):
    """The rule that ties verdicts to the evidence is the one vocabulary.py defines, step by
    step, and every kind of source a record can be filed under has its row and starting level."""
    page = fixture_pages["methodology.html"]
    for step in v.VERDICT_RULE:
        assert " ".join(step.split()) in page.text
    for kind in v.KINDS:
        assert f"kind-{kind.value}" in page.ids
        assert kind.label in page.text
    for verdict in v.VERDICTS:
        assert verdict.meaning in page.text


def test_bibliography_offers_the_bib_and_ama_citations(fixture_site, fixture_pages):
    page = fixture_pages["bibliography.html"]
    assert "../references.bib" not in page.links and "references.bib" in page.links
    assert os.path.isfile(os.path.join(fixture_site, "references.bib"))
    # Seven authors: AMA lists three and 'et al'.
    assert "Lee C, Kim D, Park E, et al. Drug X for condition Y" in page.text


def test_404_page_links_from_the_base_path_and_is_not_indexed(fixture_pages):
    page = fixture_pages["404.html"]
    assert page.meta["robots"] == "noindex"
    assert "/fixture/index.html" in page.links
    assert all(not h.startswith("..") for h in page.links)


# --- files other than pages ----------------------------------------------------------------

def test_sitemap_robots_and_feed(fixture_site, fixture_pages):
    tree = ET.parse(os.path.join(fixture_site, "sitemap.xml"))
    locs = {u.find(f"{SITEMAP}loc").text for u in tree.getroot()}
    expected = {"https://example.org/fixture/" + p for p in fixture_pages
                if p not in ("404.html", "search.html")}
    assert locs == expected
    with open(os.path.join(fixture_site, "robots.txt"), encoding="utf-8") as f:
        assert "Sitemap: https://example.org/fixture/sitemap.xml" in f.read()
    feed = ET.parse(os.path.join(fixture_site, "feed.xml")).getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 6
    assert feed.find(f"{ATOM}updated").text == "2026-01-30T00:00:00Z"
    assert entries[0].find(f"{ATOM}id").text == \
        "https://example.org/fixture/claims/drug-x-has-no-side-effects.html"


def test_open_data(fixture_site):
    with open(os.path.join(fixture_site, "data", "claims.json"), encoding="utf-8") as f:
        data = json.load(f)
    assert data["format"] == "ldn-site open data, version 2"
    by_id = {c["id"]: c for c in data["claims"]}
    assert len(by_id) == 6
    pain = by_id["drug-x-reduces-pain"]
    assert (pain["verdict"], pain["certainty"]) == ("mixed", "low")
    assert [s["change"] for s in pain["grade"]["steps"]][:2] == [-1, -1]
    assert pain["evidence"][0]["effect"] == {"outcome": "Pain", "measure": "SMD", "value": -0.62,
                                             "ci_low": -1.14, "ci_high": -0.1, "n": 30}
    assert pain["evidence"][0]["excerpts"][0]["text"] == \
        "Drug X reduced daily pain compared with placebo."
    with open(os.path.join(fixture_site, "data", "evidence.csv"), encoding="utf-8",
              newline="") as f:
        raw = f.read()
    assert raw.startswith("claim_id,claim_title,") and "\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert len(rows) == sum(len(c["evidence"]) for c in data["claims"])
    row = next(r for r in rows if r["claim_id"] == "drug-x-reduces-pain"
               and r["source"] == "doe2020trial")
    assert (row["direction"], row["measure"], row["ci_high"], row["risk_of_bias"]) == \
        ("contradicts", "SMD", "0.06", "some-concerns")


def test_search_index_is_built_and_only_covers_content_pages(fixture_site):
    entry = os.path.join(fixture_site, "pagefind", "pagefind-entry.json")
    with open(entry, encoding="utf-8") as f:
        info = json.load(f)
    # 6 claims + 8 sources + 7 topics + glossary + methodology.
    assert info["languages"]["en"]["page_count"] == 23
    assert os.path.isfile(os.path.join(fixture_site, "search.js"))


def test_symbols_are_kept_out_of_search_only_on_the_pages_it_indexes(fixture_site):
    """Pagefind indexes only pages marked data-pagefind-body, so the verdict, certainty and
    risk-of-bias symbols carry data-pagefind-ignore there (else they leak into result
    excerpts) and nowhere else (where the attribute would only add weight)."""
    indexed, unindexed = 0, 0
    for rel, _ in sorted(pages_of(fixture_site).items()):
        with open(os.path.join(fixture_site, rel), encoding="utf-8") as f:
            doc = parse_html(f.read())
        symbols = [el for el in doc.iter() if el.tag == "span"
                   and el.attrs.get("aria-hidden") == "true"
                   and ({"light", "dots"} & set(el.classes) or "badge" in el.parent.classes)]
        if not symbols:
            continue
        body = any("data-pagefind-body" in el.attrs for el in doc.iter())
        ignored = {"data-pagefind-ignore" in el.attrs for el in symbols}
        assert ignored == {body}, rel
        indexed, unindexed = indexed + body, unindexed + (not body)
    assert indexed and unindexed  # both kinds of page were checked


def test_builds_are_byte_identical_including_the_search_index(tmp_path):
    first = build(FIXTURE, str(tmp_path / "a"))
    second = build(FIXTURE, str(tmp_path / "b"))

    def snapshot(out):
        files = {}
        for folder, _, names in os.walk(out):
            for name in names:
                full = os.path.join(folder, name)
                with open(full, "rb") as f:
                    files[os.path.relpath(full, out)] = f.read()
        return files

    a, b = snapshot(first), snapshot(second)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []


def test_without_search_no_index_is_written(tmp_path):
    out = build(MINIMAL, str(tmp_path), search=False)
    assert not os.path.exists(os.path.join(out, "pagefind"))
    assert os.path.isfile(os.path.join(out, "search.html"))
