"""Browser tests: the built site in Debian's headless Chromium, driven by Playwright.

The fixture site (tests/browser/site, a fictional review that uses every feature) is built
with the real pipeline, search index included, and served by a real HTTP server on the
loopback address under its base path (/fixture/), with 404.html for unknown addresses as
static hosts do. The tests load the home, a claim, a study, an article scorecard, search and
404 pages at desktop and phone widths, assert on what a reader sees, run axe-core (WCAG 2.2
A/AA) in light and dark mode, use search with a filter, walk the page by keyboard, print a
claim to PDF and check that no request leaves the site and nothing is logged as an error.

Needs /usr/bin/chromium and axe-core in .ci/node (both installed by `.ci/install-browser`);
without Chromium the whole module is skipped, and without axe-core the accessibility tests,
each saying so. Never downloads a browser.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (run `bash .ci/install-browser` as root to "
                "install Debian's Chromium and axe-core)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from ldn_site import pipeline  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(HERE, "site")
AXE = os.path.join(ROOT, ".ci", "node", "node_modules", "axe-core", "axe.min.js")
BASE = "/fixture/"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--mute-audio"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
NARROWEST = {"width": 320, "height": 640}
PAGES = {
    "home": "index.html",
    "claim": "claims/drug-x-reduces-pain.html",
    "study": "sources/doe2020trial.html",
    "article": "sources/article-one.html",
    "search": "search.html",
    "404": "no/such/page.html",
}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
needs_axe = pytest.mark.skipif(
    not os.path.isfile(AXE), reason=f"axe-core is not installed ({os.path.relpath(AXE, ROOT)} "
    "is missing; run `bash .ci/install-browser` as root to install it)")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site; an unknown address gets the site's 404 page with status 404."""

    not_found_page = b""

    def log_message(self, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        if code != 404 or not self.not_found_page:
            return super().send_error(code, message, explain)
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.not_found_page)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(self.not_found_page)


@pytest.fixture(scope="module")
def server():
    tmp = tempfile.mkdtemp(prefix="ldn-browser-")
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(FIXTURE, src, ignore=shutil.ignore_patterns(".ldn-site-cache", "_site"))
        shutil.copytree(os.path.join(ROOT, "templates"), os.path.join(src, "templates"))
        out = os.path.join(tmp, "www", BASE.strip("/"))
        result = pipeline.build_site(src, output=out, use_cache=False, search=True)
        assert result.written, [d.format() for d in result.diagnostics]
        with open(os.path.join(out, "404.html"), "rb") as f:
            handler = type("Handler", (_Handler,), {"not_found_page": f.read()})
        httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=os.path.join(tmp, "www")))
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()
        httpd.server_close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Visit:
    """One page in a fresh browser context, with every request and console error recorded."""

    def __init__(self, browser, origin: str, viewport: dict, scheme: str = "light",
                 javascript: bool = True):
        self.origin = origin
        self.context = browser.new_context(viewport=viewport, color_scheme=scheme,
                                           java_script_enabled=javascript,
                                           service_workers="block")
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def open(self, path: str):
        response = self.page.goto(self.origin + BASE + path, wait_until="networkidle")
        return response

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.origin + "/")
                                                 or u.startswith("data:"))]

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    opened = []

    def make(viewport=DESKTOP, scheme="light", javascript=True) -> Visit:
        v = Visit(browser, server, viewport, scheme, javascript)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()


def _expected_errors(kind: str, errors: list[str]) -> list[str]:
    # The 404 page is served with status 404, which Chromium always logs for the document.
    if kind == "404":
        return [e for e in errors if "status of 404" not in e]
    return errors


# --- what a reader sees --------------------------------------------------------------------

@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_page_shows_what_a_reader_needs(visit, kind, viewport):
    v = visit(viewport)
    response = v.open(PAGES[kind] + ("?q=pain" if kind == "search" else ""))
    page = v.page
    assert response.status == (404 if kind == "404" else 200)
    expect(page.locator("#disclaimer")).to_be_visible()
    expect(page.locator("#disclaimer")).to_contain_text("Not medical advice")
    if kind == "home":
        expect(page.locator("h1")).to_have_text("Fixture evidence site")
        expect(page.locator("table.evidence-map")).to_be_visible()
        expect(page.locator("table.evidence-map")).to_contain_text(
            "Drug X has no side effects")
        expect(page.get_by_role("heading", name="Latest reviews")).to_be_visible()
    elif kind == "claim":
        answer = page.locator(".answer")
        expect(answer).to_contain_text("◐ Mixed")
        expect(answer).to_contain_text("●●○○ Low")
        # The verdict is on the first screen, on a phone as on a desktop.
        box = page.get_by_text("◐ Mixed").first.bounding_box()
        assert box and box["y"] + box["height"] <= viewport["height"]
        # Wide screens get the forest plot; narrow ones the same numbers as a table.
        plot, table = page.locator("svg.forest"), page.locator(".forest-table")
        if viewport == DESKTOP:  # the table is there for screen readers, out of sight
            expect(plot).to_be_visible()
            assert table.bounding_box()["width"] <= 1
        else:
            expect(table).to_be_visible()
            expect(plot).to_be_hidden()
        expect(page.locator("table.sof")).to_contain_text("Smith & Jones 2021")
        expect(page.locator("table.rob-table")).to_contain_text("High risk")
        expect(page.locator(".cite")).to_contain_text(
            "https://example.org/fixture/claims/drug-x-reduces-pain.html")
    elif kind == "study":
        expect(page.locator(".citation")).to_contain_text(
            "Doe J, Roe R, Poe EA. A randomized, placebo-controlled trial")
        expect(page.get_by_role("link", name="DOI: 10.1000/fixture.1")).to_be_visible()
        expect(page.get_by_role("heading", name="Risk of bias")).to_be_visible()
    elif kind == "article":
        expect(page.locator("table.scorecard")).to_be_visible()
        expect(page.locator("table.scorecard")).to_contain_text("Drug X has no side effects")
        expect(page.locator(".scoreline")).to_contain_text("3 claims")
    elif kind == "search":
        expect(page.locator("#search-status")).to_contain_text("results for “pain”")
        expect(page.locator("#search-results li").first).to_be_visible()
    elif kind == "404":
        expect(page.locator("h1")).to_have_text("Page not found")
        page.get_by_role("link", name="Browse all claims").click()
        expect(page.locator("h1")).to_have_text("All claims")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    assert v.outside_requests() == []
    assert _expected_errors(kind, v.errors) == []


@pytest.mark.parametrize("kind", ["home", "claim", "study", "article", "search"])
def test_nothing_scrolls_sideways_at_320_px(visit, kind):
    v = visit(NARROWEST)
    v.open(PAGES[kind])
    assert v.page.evaluate("document.documentElement.scrollWidth") <= NARROWEST["width"]


# --- accessibility -------------------------------------------------------------------------

def _axe(page) -> list[dict]:
    assert os.path.isfile(AXE), "axe-core is missing: run `bash .ci/install-browser`"
    page.add_script_tag(path=AXE)
    result = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                           resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""", AXE_TAGS)
    return result


@needs_axe
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_axe_finds_no_wcag_violations(visit, kind, scheme, viewport):
    v = visit(viewport, scheme)
    v.open(PAGES[kind] + ("?q=drug&verdict=Refuted" if kind == "search" else ""))
    if kind == "search":
        expect(v.page.locator("#search-results li").first).to_be_visible()
    assert _axe(v.page) == []


def test_keyboard_reaches_everything_with_a_visible_focus(visit):
    v = visit(DESKTOP)
    page = v.open(PAGES["claim"]) and v.page
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    count = page.evaluate("document.querySelectorAll('a[href], button, input, select, "
                          "[tabindex]:not([tabindex=\"-1\"])').length")
    seen = set()
    for _ in range(count + 2):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => {
            const e = document.activeElement;
            const s = getComputedStyle(e);
            return {tag: e.tagName, text: (e.textContent || '').trim().slice(0, 40),
                    href: e.getAttribute('href'),
                    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
        }""")
        if info["tag"] == "BODY":
            break
        assert info["outline"], f"no visible focus on {info}"
        seen.add((info["tag"], info["href"], info["text"]))
    assert len(seen) > 40  # links of the header, the tables, the plots' captions, the footer


# --- search --------------------------------------------------------------------------------

def test_search_with_filters_finds_and_opens_a_claim(visit):
    v = visit(PHONE)
    v.open(PAGES["search"])
    page = v.page
    expect(page.locator("html")).to_have_class(re.compile(r"\bsearch-ready\b"))
    page.get_by_label("Search claims, studies and articles").fill("drug")
    expect(page.locator("#search-status")).to_contain_text("results for “drug”")
    expect(page.locator("#search-results li").nth(1)).to_be_visible()
    unfiltered = page.locator("#search-results li").count()
    # The filters are folded away, so that the results start on a phone's first screen.
    box = page.locator("#search-results li").first.bounding_box()
    assert box and box["y"] < PHONE["height"]
    expect(page.get_by_label("Verdict")).to_be_hidden()
    page.get_by_text("Filters:").click()
    page.get_by_label("Verdict").select_option("Refuted")
    expect(page.locator("#search-status")).to_have_text("1 result for “drug” (Refuted).")
    results = page.locator("#search-results li")
    expect(results).to_have_count(1)
    assert unfiltered > 1
    expect(results.first).to_contain_text("Verdict: Refuted")
    assert "verdict=Refuted" in page.url and "q=drug" in page.url
    page.get_by_label("Verdict").select_option("")
    page.get_by_label("Topic").select_option("Safety")
    page.get_by_label("Search claims, studies and articles").fill("tramadol")
    expect(page.locator("#search-results li")).to_have_count(1)
    page.locator("#search-results a").first.click()
    expect(page.locator("h1")).to_have_text(
        "Claim: Drug X must not be combined with opioid painkillers")
    # An address that sets a filter shows the filters open, with that filter chosen.
    v.open(PAGES["search"] + "?q=drug&verdict=Refuted")
    expect(page.get_by_label("Verdict")).to_be_visible()
    expect(page.get_by_label("Verdict")).to_have_value("Refuted")
    assert v.outside_requests() == []
    assert v.errors == []


def test_search_page_without_javascript_says_where_else_to_look(visit):
    v = visit(DESKTOP, javascript=False)
    v.open(PAGES["search"])
    expect(v.page.locator("main")).to_contain_text("Search needs JavaScript")
    v.open(PAGES["claim"])
    expect(v.page.locator(".answer")).to_contain_text("◐ Mixed")
    expect(v.page.locator("svg.forest")).to_be_visible()


# --- print ---------------------------------------------------------------------------------

def test_claim_page_prints_on_a4_without_navigation(visit, tmp_path):
    v = visit(DESKTOP)
    v.open(PAGES["claim"])
    page = v.page
    page.emulate_media(media="print")
    expect(page.locator("nav[aria-label=Main]")).to_be_hidden()
    expect(page.locator(".answer")).to_be_visible()
    expect(page.locator("svg.forest")).to_be_visible()
    expect(page.locator("#disclaimer")).to_be_visible()
    # Every table fits the printable width of A4 (210 mm less 2 × 15 mm margins ≈ 680 px).
    page.set_viewport_size({"width": 680, "height": 1000})
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('table')].map("
                           "t => t.getBoundingClientRect().width))")
    assert widest <= 680
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 1 <= pages <= 8, pages
    assert urlsplit(page.url).path.endswith("drug-x-reduces-pain.html")
