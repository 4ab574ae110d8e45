"""The answer on the first screen, measured in Debian's headless Chromium at 375×667 (a small
phone) and 1280×900: on a claim page the verdict badge, and on the home page the key messages
box with its first claim's verdict, lie above the fold.

Two sites are measured: the browser tests' fixture site (tests/browser/site), and the
repository's own site on the claim pages with the longest titles (the taller the heading, the
lower the verdict), which is marked ``repository_content``. Both are built with the real
pipeline, served over HTTP on the loopback address and opened in a fresh browser context each.
Needs /usr/bin/chromium; skipped, saying so, without it. Never downloads a browser.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (run `bash .ci/install-browser` as root)",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from ldn_site import pipeline  # noqa: E402
from ldn_site.loading import load_content  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(HERE, "site")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SMALL_PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 900}
LONGEST_TITLES = 5


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_built(src: str, tmp: str, with_templates: bool):
    """Build ``src`` into ``tmp`` and serve it; returns (origin, server)."""
    if with_templates:
        shutil.copytree(os.path.join(ROOT, "templates"), os.path.join(src, "templates"))
    out = os.path.join(tmp, "www")
    result = pipeline.build_site(src, output=out, use_cache=False, search=False)
    assert result.written, [d.format() for d in result.diagnostics]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=out))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/", httpd


@pytest.fixture(scope="module")
def fixture_site():
    tmp = tempfile.mkdtemp(prefix="ldn-first-screen-")
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(FIXTURE, src, ignore=shutil.ignore_patterns(".ldn-site-cache", "_site"))
        origin, httpd = serve_built(src, tmp, with_templates=True)
        yield origin
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


def bottom_of(browser, url: str, viewport: dict, selector: str) -> float:
    """How far down the page the first element matching ``selector`` ends, in CSS pixels."""
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        box = page.locator(selector).first.bounding_box()
        assert box is not None, f"{selector} is not visible on {url}"
        return box["y"] + box["height"]
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["375x667", "1280x900"])
def test_claim_verdict_is_above_the_fold(browser, fixture_site, viewport):
    for claim in ("drug-x-reduces-pain", "drug-x-not-with-opioids", "registry-outcome-was-pain"):
        bottom = bottom_of(browser, f"{fixture_site}claims/{claim}.html", viewport,
                           ".answer .rating dd .badge")
        assert bottom <= viewport["height"], f"{claim}: the verdict ends at y = {bottom}"


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["375x667", "1280x900"])
def test_claim_bottom_line_starts_on_the_first_screen(browser, fixture_site, viewport):
    """The claim's own answer (the first line of "In short"), not only the general meaning of
    its verdict, is on the first screen."""
    for claim in ("drug-x-reduces-pain", "drug-x-not-with-opioids", "registry-outcome-was-pain"):
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            page.goto(f"{fixture_site}claims/{claim}.html", wait_until="load")
            first = page.locator(".answer .in-short p").first
            box = first.bounding_box()
            line = float(first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
            assert box and box["y"] + line <= viewport["height"], \
                f"{claim}: the bottom line starts at y = {box and box['y']}"
        finally:
            context.close()


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["375x667", "1280x900"])
def test_home_key_messages_start_above_the_fold(browser, fixture_site, viewport):
    bottom = bottom_of(browser, f"{fixture_site}index.html", viewport,
                       ".key-messages li .key-claim .badge")
    assert bottom <= viewport["height"], f"the first verdict ends at y = {bottom}"


@pytest.mark.repository_content
def test_real_claims_with_the_longest_titles_show_their_verdict_on_a_small_phone(browser,
                                                                               monkeypatch):
    # The real content is dated by its own reviews, not by the tests' fixed epoch.
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    content, _ = load_content(ROOT, with_templates=False)
    longest = sorted(content.claims, key=lambda c: (-len(c.title), c.id))[:LONGEST_TITLES]
    tmp = tempfile.mkdtemp(prefix="ldn-first-screen-real-")
    try:
        src = os.path.join(tmp, "src")
        os.mkdir(src)
        for name in ("site.yaml", "claims", "sources", "templates"):
            copy = shutil.copytree if os.path.isdir(os.path.join(ROOT, name)) else shutil.copy
            copy(os.path.join(ROOT, name), os.path.join(src, name))
        origin, httpd = serve_built(src, tmp, with_templates=False)
        try:
            for claim in longest:
                bottom = bottom_of(browser, f"{origin}claims/{claim.id}.html", SMALL_PHONE,
                                   ".answer .rating dd .badge")
                assert bottom <= SMALL_PHONE["height"], \
                    f"{claim.id}: the verdict ends at y = {bottom}"
            bottom = bottom_of(browser, f"{origin}index.html", SMALL_PHONE,
                               ".key-messages li .key-claim .badge")
            assert bottom <= SMALL_PHONE["height"], f"home: the first verdict ends at {bottom}"
        finally:
            httpd.shutdown()
            httpd.server_close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
