"""``ldn-site serve``: the real command in a subprocess, a real HTTP server on 127.0.0.1 with a
free port, real file edits. Every wait is bounded and every server is shut down."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers_contrib import cli_env, copy_minimal, ldn_site
from html_dom import parse_html

CLAIM = "claims/drug-reduces-pain.yaml"
CLAIM_PAGE = "claims/drug-reduces-pain.html"
WAIT = 30.0  # seconds: generous for a loaded CI machine; a pass takes well under one


def wait_until(predicate, timeout: float = WAIT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


class Served:
    """``ldn-site serve --port 0`` in a subprocess, its terminal output collected."""

    def __init__(self, root: Path, tmpdir: Path, *args: str, env: dict | None = None):
        tmpdir.mkdir(exist_ok=True)
        self.tmpdir = tmpdir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ldn_site", "serve", "--port", "0", "--root", str(root),
             *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=cli_env(TMPDIR=str(tmpdir), **(env or {})))
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        line = self.wait_for_output(lambda s: s.startswith("serving "), "the server to start")
        self.url = re.match(r"serving (http://[0-9.]+:\d+/) ", line).group(1)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_output(self, predicate, what: str, after: int = 0) -> str:
        def find():
            if self.proc.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"serve exited ({self.proc.returncode}):\n"
                                     + "\n".join(self.lines))
            return next((s for s in self.lines[after:] if predicate(s)), None)
        return wait_until(find, what=what)

    def get(self, path: str = "", timeout: float = 10) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def status(self, since: int | None = None) -> dict:
        query = f"?since={since}" if since is not None else ""
        return json.loads(self.get(f"__ldn_status{query}", timeout=60)[1])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._reader.join(timeout=5)
        return self.proc.returncode


@pytest.fixture
def site(tmp_path):
    return copy_minimal(tmp_path / "site")


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def start(root: Path, *args: str, env: dict | None = None) -> Served:
        s = Served(root, tmp_path / f"tmp{len(started)}", *args, env=env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class _Page(HTMLParser):
    """The text of <h1>, of the problems notice, and whether the reload script is there."""

    def __init__(self):
        super().__init__()
        self.h1, self.problems, self.scripts = [], [], []
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self._in.append("h1")
        elif attrs.get("id") == "ldn-serve-problems":
            self._in.append("problems")
        elif tag == "script":
            self.scripts.append(attrs)

    def handle_endtag(self, tag):
        if self._in and ((tag == "h1" and self._in[-1] == "h1")
                         or (tag == "section" and self._in[-1] == "problems")):
            self._in.pop()

    def handle_data(self, data):
        if "h1" in self._in:
            self.h1.append(data)
        if "problems" in self._in:
            self.problems.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.h1_text = " ".join("".join(page.h1).split())
    page.problems_text = "".join(page.problems)
    page.reload = any("data-ldn-serve" in attrs for attrs in page.scripts)
    return page


def test_serves_the_site_on_localhost_and_rebuilds_on_every_kind_of_change(site, serve):
    s = serve(site)
    assert s.url.startswith("http://127.0.0.1:")
    assert any(re.match(r"^\[\d\d:\d\d:\d\d\] built \d+ pages in \d+\.\d\ds$", line)
               for line in s.lines)
    status, html = s.get(CLAIM_PAGE)
    assert status == 200
    page = parse(html)
    assert page.h1_text == "Claim: The drug reduces pain"
    assert page.reload and not page.problems_text
    assert 'aria-label="Medical disclaimer"' in html
    assert s.status()["ok"] is True

    # A claim.
    before = len(s.lines)
    edit(site / CLAIM, "title: The drug reduces pain", "title: The drug reduces pain a lot")
    wait_until(lambda: parse(s.get(CLAIM_PAGE)[1]).h1_text
               == "Claim: The drug reduces pain a lot",
               what="the edited claim title")
    s.wait_for_output(lambda line: "built" in line and CLAIM in line,
                      "the rebuild to be reported", after=before)
    # A source.
    edit(site / "sources" / "trial2020.yaml", "Pain fell more with the drug than with placebo.",
         "Pain fell clearly more with the drug than with placebo.")
    wait_until(lambda: "Pain fell clearly more" in s.get("sources/trial2020.html")[1],
               what="the edited source")
    # A template.
    edit(site / "templates" / "claim.html", "{% block content %}",
         "{% block content %}<!-- edited-template -->")
    wait_until(lambda: "edited-template" in s.get(CLAIM_PAGE)[1], what="the edited template")
    css = site / "templates" / "static" / "style.css"
    css.write_text(css.read_text(encoding="utf-8") + ".edited-stylesheet { color: red; }\n",
                   encoding="utf-8")
    wait_until(lambda: "edited-stylesheet" in s.get("style.css")[1], what="the stylesheet")
    # site.yaml.
    edit(site / "site.yaml", "title: Minimal test site", "title: Renamed test site")
    wait_until(lambda: "Renamed test site" in s.get("index.html")[1], what="the new site title")
    assert s.status()["generation"] >= 5


def test_a_broken_edit_keeps_the_last_good_site_and_shows_the_diagnostics(site, serve):
    s = serve(site)
    generation = s.status()["generation"]
    before = len(s.lines)
    edit(site / CLAIM, "verdict: supported", "verdict: proven")
    wait_until(lambda: s.status()["generation"] > generation, what="the failed rebuild")
    state = s.status()
    assert state["ok"] is False
    assert state["summary"] == "1 error, 0 warnings"
    diagnostic = ("claims/drug-reduces-pain.yaml:4:10: error: 'verdict' must be one of supported, "
                  "mixed, unsupported, refuted; got 'proven' [invalid-value]")
    assert state["diagnostics"][0]["code"] == "invalid-value"

    # In the terminal: the diagnostic itself, then what happened.
    s.wait_for_output(lambda line: line == diagnostic, "the diagnostic", after=before)
    s.wait_for_output(lambda line: "build failed (claims/drug-reduces-pain.yaml): 1 error, "
                      "0 warnings; still serving the last good site" in line,
                      "the failure summary", after=before)

    # On the page: the last good version, with the problems written in by the server (plain
    # HTML, visible without JavaScript).
    status, html = s.get(CLAIM_PAGE)
    assert status == 200
    page = parse(html)
    assert page.h1_text == "Claim: The drug reduces pain"
    assert "Preview: the latest edit does not build" in page.problems_text
    assert diagnostic in page.problems_text
    # Every page carries it, and /__ldn_errors lists everything.
    assert diagnostic in parse(s.get("index.html")[1]).problems_text
    status, errors = s.get("__ldn_errors")
    assert status == 200 and diagnostic in errors.replace("&#x27;", "'")

    # Fixed: the new version is served and the notice is gone.
    edit(site / CLAIM, "verdict: proven", "verdict: mixed")
    wait_until(lambda: s.status()["ok"], what="the fixed rebuild")
    page = parse(s.get(CLAIM_PAGE)[1])
    assert not page.problems_text
    assert "Mixed" in s.get(CLAIM_PAGE)[1]


def test_a_deleted_claim_is_noticed(site, serve):
    s = serve(site)
    claim2 = site / "claims" / "second-claim.yaml"
    shutil.copyfile(site / CLAIM, claim2)
    wait_until(lambda: s.get("claims/second-claim.html")[0] == 200, what="the new claim page")
    claim2.unlink()
    wait_until(lambda: s.get("claims/second-claim.html")[0] == 404, what="the page to go")


def test_status_long_polls_until_the_next_rebuild(site, serve):
    s = serve(site)
    generation = s.status()["generation"]
    answer: dict = {}
    waiter = threading.Thread(target=lambda: answer.update(s.status(since=generation)))
    waiter.start()
    time.sleep(1.0)
    assert waiter.is_alive(), "the status request answered before anything changed"
    edit(site / CLAIM, "title: The drug reduces pain", "title: Long-polled title")
    waiter.join(timeout=WAIT)
    assert not waiter.is_alive()
    assert answer["generation"] == generation + 1 and answer["ok"] is True


def test_a_site_that_never_built_answers_503_with_the_diagnostics(site, serve):
    edit(site / CLAIM, "topic: efficacy", "topic: efficiency")
    s = serve(site)
    assert any(line.endswith("build failed: 1 error, 0 warnings; nothing to serve until it "
                             "builds (every page lists the problems meanwhile)")
               for line in s.lines), s.lines
    status, html = s.get("index.html")
    assert status == 503
    assert "claims/drug-reduces-pain.yaml:3:8: error: &#x27;topic&#x27; must be one of" in html
    assert "data-ldn-serve" in html  # it reloads itself once fixed
    edit(site / CLAIM, "topic: efficiency", "topic: efficacy")
    wait_until(lambda: s.get("index.html")[0] == 200, what="the first good build")


def test_unknown_paths_get_the_sites_404_page(site, serve):
    s = serve(site)
    status, html = s.get("no/such/page.html")
    assert status == 404
    assert 'aria-label="Medical disclaimer"' in html
    # The 404 page links from the site's public path (it is served at any address); the
    # preview serves the site there too, so its stylesheet and links work.
    doc = parse_html(html)
    style = doc.find("link", rel="stylesheet").attrs["href"]
    assert style == "/minimal/style.css"
    assert s.get(style.lstrip("/"))[0] == 200
    assert s.get(style.lstrip("/"))[1] == s.get("style.css")[1]
    for a in doc.find("nav").find_all("a"):
        assert s.get(a.attrs["href"].lstrip("/"))[0] == 200, a.attrs["href"]
    assert s.get("minimal/no/such/page.html")[0] == 404


def test_served_pages_equal_the_built_pages_plus_the_reload_script(site, serve):
    """The injection happens while serving only: `build` output never carries it."""
    s = serve(site)
    out = site / "_out"
    assert ldn_site("build", "-o", out, cwd=site).returncode == 0
    for rel in ("index.html", CLAIM_PAGE, "sources/trial2020.html"):
        built = (out / rel).read_text(encoding="utf-8")
        assert "data-ldn-serve" not in built and "__ldn_" not in built
        served = s.get(rel)[1]
        stripped = re.sub(r"<script data-ldn-serve>.*?</script>\n", "", served, flags=re.DOTALL)
        assert stripped == built
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".json", ".xml"):
            assert b"__ldn_" not in path.read_bytes(), path


def test_stopping_removes_the_temporary_site(site, serve, tmp_path):
    s = serve(site)
    assert list(s.tmpdir.iterdir()), "the site should be built in the temporary folder"
    assert s.stop() == 0
    assert "stopped" in s.lines
    assert list(s.tmpdir.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no SIGTERM to send")
def test_sigterm_also_stops_cleanly(site, serve):
    s = serve(site)
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=15) == 0
    s._reader.join(timeout=5)
    assert list(s.tmpdir.iterdir()) == []


def test_a_port_in_use_is_reported(site):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ldn_site("serve", "--port", port, "--root", site, timeout=60)
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr


def test_editor_temporary_files_do_not_trigger_rebuilds(site, serve):
    s = serve(site)
    generation = s.status()["generation"]
    for name in (".drug-reduces-pain.yaml.swp", "drug-reduces-pain.yaml~", "notes.txt"):
        (site / "claims" / name).write_text("x", encoding="utf-8")
    (site / "README.txt").write_text("x", encoding="utf-8")
    time.sleep(1.5)
    assert s.status()["generation"] == generation


# --- in a real browser -----------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def _browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (bash .ci/install-browser installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    return sync_api


def test_an_open_page_reloads_itself_and_shows_problems(site, serve):
    sync_api = _browser()
    s = serve(site)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.goto(s.url + CLAIM_PAGE)
            assert page.inner_text("h1") == "Claim: The drug reduces pain"
            edit(site / CLAIM, "title: The drug reduces pain", "title: Reloaded by itself")
            page.wait_for_function(
                "document.querySelector('h1').textContent === 'Claim: Reloaded by itself'",
                timeout=WAIT * 1000)
            edit(site / CLAIM, "verdict: supported", "verdict: proven")
            page.wait_for_selector("#ldn-serve-problems", timeout=WAIT * 1000)
            assert "got 'proven'" in page.inner_text("#ldn-serve-problems")
            assert page.inner_text("h1") == "Claim: Reloaded by itself"  # the last good version
            edit(site / CLAIM, "verdict: proven", "verdict: supported")
            page.wait_for_selector("#ldn-serve-problems", state="detached",
                                   timeout=WAIT * 1000)
        finally:
            browser.close()


def test_pages_work_without_javascript(site, serve):
    sync_api = _browser()
    s = serve(site)
    edit(site / CLAIM, "verdict: supported", "verdict: proven")
    wait_until(lambda: not s.status()["ok"], what="the failed rebuild")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(java_script_enabled=False)
            page.goto(s.url + CLAIM_PAGE)
            assert page.inner_text("h1") == "Claim: The drug reduces pain"
            assert "got 'proven'" in page.inner_text("#ldn-serve-problems")
            page.goto(s.url + "index.html")
            assert "got 'proven'" in page.inner_text("#ldn-serve-problems")
            assert page.inner_text("h1")
        finally:
            browser.close()
