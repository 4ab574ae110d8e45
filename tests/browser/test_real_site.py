"""The repository's own site in Debian's headless Chromium: what issue 14 asked of it.

Builds the real content (claims/, sources/, templates/) with the real pipeline, search index
included, serves it on the loopback address and checks, as a reader would meet them: that
search finds the main pages for the questions readers ask (each expected page among the first
three results, through the site's own search page), that result excerpts do not carry the
verdict icons' text, that each page has one search form whose example fits its box, that no
forest plot's text falls outside its drawing and that narrow screens get the numbers as a
table, that quotations in other languages are marked with their language and come with a
translation, that nothing scrolls sideways at 320 px, and that axe finds no landmarks that
share a name. Skipped, saying why, without Chromium or when the content does not validate.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading

import pytest

# The browser fixture is shared; importing it also skips this module without Chromium.
from test_browser import browser  # noqa: F401
from playwright.sync_api import expect  # noqa: E402

from ldn_site import pipeline  # noqa: E402
from ldn_site.diagnostics import has_errors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
AXE = os.path.join(ROOT, ".ci", "node", "node_modules", "axe-core", "axe.min.js")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 667}
NARROWEST = {"width": 320, "height": 640}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    """(address of the served site, folder it was built into)."""
    checked = pipeline.check_site(ROOT)
    if has_errors(checked.diagnostics):
        pytest.skip("the repository's content does not validate (see `ldn-site check`)")
    tmp = tempfile.mkdtemp(prefix="ldn-real-")
    try:
        out = os.path.join(tmp, "www")
        result = pipeline.build_site(ROOT, output=out, use_cache=False, search=True)
        assert result.written, [d.format() for d in result.diagnostics]
        httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_Quiet, directory=out))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", out
        httpd.shutdown()
        httpd.server_close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def page_at(browser):
    contexts = []

    def make(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, service_workers="block")
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


# --- search --------------------------------------------------------------------------------

# (query, pages any one of which must be among the first three results). The first four are
# the queries issue 14 measured; the others are what the home page, the topics and the
# articles under review lead readers to ask.
QUERIES = [
    ("does LDN help pain?", ["claims/ldn-reduces-fibromyalgia-pain.html"]),
    ("FINAL trial", ["sources/bruun2024naltrexone.html"]),
    ("dose", ["topics/dose.html", "claims/ldn-dose-range-1-5-mg.html"]),
    ("Bested", ["sources/bested2023lowdose.html"]),
    ("pain", ["claims/ldn-reduces-fibromyalgia-pain.html"]),
    ("fatigue", ["claims/ldn-reduces-fatigue.html"]),
    ("sleep", ["claims/ldn-improves-sleep.html"]),
    ("side effects", ["topics/side-effects.html", "claims/ldn-minimal-side-effects.html"]),
    ("vivid dreams", ["claims/ldn-minimal-side-effects.html",
                      "claims/common-side-effects-nausea-headache-dizziness-fatigue.html"]),
    ("INNOVA", ["sources/rodriguezfreire-innova-results.html"]),
    ("tramadol", ["claims/naltrexone-interacts-with-opioids.html"]),
    ("liver", ["claims/naltrexone-can-harm-liver.html"]),
    ("risk of bias", ["methodology.html", "glossary.html"]),
]


def _search(page, base: str, query: str) -> list[dict]:
    page.goto(base + "search.html?q=" + query.replace(" ", "+"), wait_until="networkidle")
    expect(page.locator("#search-status")).to_contain_text("for “")
    return page.evaluate("""() => [...document.querySelectorAll('#search-results li')].map(
        li => ({href: li.querySelector('h2 a').getAttribute('href'),
                text: li.textContent}))""")


@pytest.mark.parametrize("query,expected", QUERIES, ids=[q for q, _ in QUERIES])
def test_search_finds_the_main_page_in_the_top_three(site, page_at, query, expected):
    base, _ = site
    results = _search(page_at(), base, query)
    top = [r["href"] for r in results[:3]]
    assert any(e in top for e in expected), f"{query!r}: top three are {top}"


def test_result_excerpts_do_not_carry_the_icons_text(site, page_at):
    base, _ = site
    page = page_at()
    for query in ("unsupported", "refuted alcohol", "certainty low"):
        for r in _search(page, base, query):
            assert "Verdict?" not in r["text"].replace(" ", "")
            assert not set("✔◐✘●○↑↓↕") & set(r["text"]), r["text"]


@pytest.mark.parametrize("path", ["index.html", "claims/ldn-reduces-fibromyalgia-pain.html",
                                  "search.html", "glossary.html"])
def test_one_search_form_per_page_and_its_example_fits(site, page_at, path):
    base, _ = site
    page = page_at(DESKTOP)
    page.goto(base + path, wait_until="networkidle")
    assert page.locator("form[role=search]").count() == 1
    # The example in the box (its placeholder) is not cut off at 1280 px.
    room = page.evaluate("""() => {
        const input = document.querySelector('form[role=search] input[type=search]');
        const s = getComputedStyle(input);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = s.font;
        const text = ctx.measureText(input.placeholder).width;
        const inner = input.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
        return inner - text;
    }""")
    assert room >= 0, f"the placeholder is {-room:.0f}px too wide for its box"


# --- forest plots --------------------------------------------------------------------------

def _pages_with(out: str, marker: str) -> list[str]:
    found = []
    for folder in ("claims", "sources"):
        for name in sorted(os.listdir(os.path.join(out, folder))):
            with open(os.path.join(out, folder, name), encoding="utf-8") as f:
                if marker in f.read():
                    found.append(f"{folder}/{name}")
    return found


def test_no_forest_plot_text_falls_outside_its_drawing(site, page_at):
    base, out = site
    pages = _pages_with(out, 'class="forest"')
    # 9 pages had plots when this was written (effects of unverified sources are not drawn);
    # fewer than 5 would mean the plots went missing, not that they all fit.
    assert len(pages) >= 5
    page = page_at(DESKTOP)
    for path in pages:
        page.goto(base + path, wait_until="networkidle")
        outside = page.evaluate("""() => {
            const bad = [];
            for (const svg of document.querySelectorAll('svg.forest')) {
                const vb = svg.viewBox.baseVal;
                for (const t of svg.querySelectorAll('text')) {
                    const b = t.getBBox();
                    if (b.x < vb.x || b.y < vb.y || b.x + b.width > vb.x + vb.width
                        || b.y + b.height > vb.y + vb.height) bad.push(t.textContent);
                }
            }
            return bad;
        }""")
        assert outside == [], f"{path}: {outside}"


def test_narrow_screens_get_the_plot_numbers_as_a_readable_table(site, page_at):
    base, _ = site
    page = page_at(PHONE)
    page.goto(base + "claims/ldn-reduces-fibromyalgia-pain.html", wait_until="networkidle")
    expect(page.locator("svg.forest").first).to_be_hidden()
    table = page.locator(".forest-table table").first
    expect(table).to_be_visible()
    expect(table).to_contain_text("No clear difference (the estimate is lower with LDN)")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'.forest-table td')).fontSize)")
    assert size >= 14  # the plot's own text would render at about 9.5 px here


# --- language and reflow -------------------------------------------------------------------

def test_quotations_in_other_languages_are_marked_and_translated(site, page_at):
    base, out = site
    pages = _pages_with(out, "<blockquote lang=")
    assert "sources/relis-ldn-norway.html" in pages
    assert "sources/generika-naltrexone-fachinfo.html" in pages
    assert len(pages) >= 7
    page = page_at(PHONE)
    for path in pages:
        page.goto(base + path, wait_until="networkidle")
        quotes = page.evaluate("""() => [...document.querySelectorAll('blockquote[lang]')].map(
            q => ({lang: q.lang, translation: (q.nextElementSibling
                   && q.nextElementSibling.matches('.translation'))
                   ? q.nextElementSibling.innerText : '',
                   visible: q.checkVisibility()}))""")
        for q in quotes:
            assert q["lang"] in ("nb", "de"), (path, q)
            assert q["translation"].startswith("Our translation:"), (path, q)
            assert q["visible"]
        assert page.evaluate("document.documentElement.lang") == "en"


def test_nothing_scrolls_sideways_at_320_px_on_any_claim_or_source_page(site, page_at):
    base, out = site
    page = page_at(NARROWEST)
    wide = []
    paths = ["index.html", "glossary.html", "methodology.html", "bibliography.html"] + [
        f"{folder}/{name}" for folder in ("claims", "sources", "topics")
        for name in sorted(os.listdir(os.path.join(out, folder)))]
    for path in paths:
        page.goto(base + path, wait_until="load")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROWEST["width"]:
            wide.append((path, width))
    assert wide == []


@pytest.mark.parametrize("width", [1024, 1280])
def test_summary_of_findings_tables_fit_a_desktop_screen(site, page_at, width):
    """On a desktop the summary of findings is read whole: no column (risk of bias, last) is
    hidden behind a sideways scroll."""
    base, out = site
    page = page_at({"width": width, "height": 900})
    wide = []
    for name in sorted(os.listdir(os.path.join(out, "claims"))):
        page.goto(base + "claims/" + name, wait_until="load")
        wide += [(name, w) for w in page.evaluate(
            """() => [...document.querySelectorAll('.table-wrap')]
                 .filter(w => w.querySelector('table.sof') && w.scrollWidth > w.clientWidth)
                 .map(w => w.scrollWidth - w.clientWidth)""")]
    assert wide == []


def test_a_risk_of_bias_table_that_scrolls_says_so(site, page_at):
    base, _ = site
    page = page_at(PHONE)
    page.goto(base + "claims/ldn-reduces-fibromyalgia-pain.html", wait_until="networkidle")
    box = page.locator(".table-wrap.scrolls")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # it does scroll here
    expect(page.locator("#bias-hint")).to_be_visible()
    assert box.evaluate("b => getComputedStyle(b).backgroundImage").count("gradient") == 4
    wide = page_at(DESKTOP)
    wide.goto(base + "claims/ldn-reduces-fibromyalgia-pain.html", wait_until="networkidle")
    expect(wide.locator("#bias-hint")).to_be_hidden()  # no hint where nothing scrolls


@pytest.mark.parametrize("path", ["index.html", "claims/ldn-reduces-fibromyalgia-pain.html",
                                  "sources/bruun2024naltrexone.html", "sources/article000.html",
                                  "search.html", "glossary.html", "topics/dose.html",
                                  "methodology.html", "bibliography.html"])
def test_axe_finds_no_landmarks_that_share_a_name(site, page_at, path):
    base, _ = site
    page = page_at(DESKTOP)
    page.goto(base + path, wait_until="networkidle")
    page.add_script_tag(path=AXE)
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'rule',
                                                     values: ['landmark-unique']}});
        return r.violations.map(v => v.nodes.map(n => n.target.join(' ')));
    }""")
    assert found == []


# --- print ---------------------------------------------------------------------------------

def test_printed_tables_never_break_a_word(site, page_at):
    base, _ = site
    page = page_at({"width": 680, "height": 1000})  # the printable width of A4
    page.goto(base + "claims/ldn-reduces-fibromyalgia-pain.html", wait_until="networkidle")
    page.emulate_media(media="print")
    broken = page.evaluate("""() => {
        const broken = [];
        for (const cell of document.querySelectorAll('table.rob-table td, table.rob-table th,'
                                                     + ' table.derivation td')) {
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (const m of node.data.matchAll(/[A-Za-z]{4,}/g)) {
                    const r = document.createRange();
                    r.setStart(node, m.index);
                    r.setEnd(node, m.index + m[0].length);
                    const tops = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
                    if (tops.size > 1) broken.push(m[0]);
                }
            }
        }
        return broken;
    }""")
    assert broken == []
