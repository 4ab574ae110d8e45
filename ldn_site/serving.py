"""Serving: the live preview behind ``ldn-site serve``.

Owns the preview loop: build the site into a temporary folder, serve it over HTTP on
127.0.0.1, watch ``site.yaml``, ``claims/``, ``sources/`` and ``templates/`` (watchfiles),
rebuild on every change, and make open pages reload themselves. Rebuilds run in this process
(its server threads make forking unsafe, so the pipeline renders without workers), one at a
time in the watcher's thread, and find the Markdown, glossary links, plots and citations that
did not change in the build cache; the Pagefind search index is left out unless asked for,
because building it takes longer than the rest of a rebuild. Closing stops a running rebuild
at its next page, so that Ctrl-C never waits for a whole build.

A broken edit never takes the preview down: ``pipeline.build_site`` writes nothing when the
content has errors, so the last good site stays in place and keeps being served, and the
diagnostics are written by the server into the top of every page it serves (plain HTML, no
script needed) and listed at ``/__ldn_errors``. The live-reload script and that notice are
added to HTML responses here, at serving time only: ``ldn-site build`` output never carries
them, and the pages work without JavaScript (reloading by hand then shows the latest state).

It never prints: every rebuild is handed to the ``report`` callback the CLI gives it, and
anything else worth a line to ``warn``.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import secrets
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field

import watchfiles

from ldn_site import loading, pipeline
from ldn_site.diagnostics import Diagnostic, error, has_errors, sort_diagnostics, summarize
from ldn_site.loading import CLAIMS_DIR, CONFIG_FILE, SOURCES_DIR, TEMPLATES_DIR

HOST = "127.0.0.1"
STATUS_PATH = "/__ldn_status"
ERRORS_PATH = "/__ldn_errors"
LONG_POLL_SECONDS = 20.0  # how long a status request waits for a rebuild before answering
MAX_REQUESTS = 64  # requests served at once (each open page holds one long poll); more wait
WATCHED_DIRS = (CLAIMS_DIR, SOURCES_DIR, TEMPLATES_DIR)
CONTENT_SUFFIXES = (".yaml", ".yml", ".bib")


@dataclass(frozen=True)
class Rebuild:
    """The outcome of one build attempt, as reported to the CLI and to the pages."""

    generation: int
    ok: bool                 # the latest content built; False: the last good site is served
    diagnostics: tuple[Diagnostic, ...]
    seconds: float
    pages: int = 0
    cpu_seconds: float = 0.0  # processor time of the whole process (the server idles meanwhile)
    changed: tuple[str, ...] = ()   # the files whose change caused it (empty: first build)
    crash: str | None = None        # a traceback: a bug in ldn-site, not in the content
    has_site: bool = False          # some build has succeeded: there is a site to serve


@dataclass
class _State:
    generation: int = 0
    has_site: bool = False
    latest: Rebuild | None = None
    closing: bool = False
    cond: threading.Condition = field(default_factory=threading.Condition)


class ContentFilter(watchfiles.DefaultFilter):
    """Only the files a build reads: site.yaml and everything in claims/, sources/ and
    templates/ (editor swap and backup files are ignored by the default filter)."""

    def __init__(self, root: str):
        super().__init__()
        self.root = os.path.abspath(root)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        top, _, rest = rel.partition("/")
        name = os.path.basename(rel)
        if rel == CONFIG_FILE:
            return True
        if top not in WATCHED_DIRS or name.startswith("."):
            return False
        # In claims/ and sources/ only what loading reads (editors' temporary files are not).
        if top != TEMPLATES_DIR and rest and not name.endswith(CONTENT_SUFFIXES):
            return False
        return super().__call__(change, path)


class Stopped(Exception):
    """Raised into a running rebuild when the preview closes."""


class Preview:
    """The preview's state: the temporary site folder and the last build attempt."""

    def __init__(self, root: str, site_dir: str, report=None, search: bool = False):
        self.root = root
        self.site_dir = site_dir
        self.report = report or (lambda rebuild: None)
        self.search = search
        self.token = secrets.token_hex(8)  # tells pages that the server was restarted
        self.state = _State()
        # The path of the site's public address ("/ldn-site/"): the 404 page links from it,
        # as it is served at any address; the preview serves the site at "/" as well as there.
        self.base_path = "/"

    def _stop_if_closing(self, stage: str, done: int, total: int) -> None:
        if self.state.closing:
            raise Stopped

    def rebuild(self, changed: tuple[str, ...] = ()) -> Rebuild | None:
        """Build once and report it; None if the preview closed meanwhile."""
        started, cpu_started = time.perf_counter(), time.process_time()
        crash = None
        pages = 0
        written = False
        try:
            result = pipeline.build_site(self.root, output=self.site_dir, search=self.search,
                                         progress=self._stop_if_closing)
            diagnostics = result.diagnostics
            written, pages = result.written, result.pages
            config = loading.load_config(self.root, []) if written else None
            if config is not None:  # (None too if site.yaml broke since the build read it)
                self.base_path = urllib.parse.urlsplit(config.base_url).path or "/"
        except Stopped:
            return None
        except Exception:  # a bug: keep serving the last good site, and show the traceback
            if self.state.closing:  # its folder may be gone already: nothing to report
                return None
            crash = traceback.format_exc()
            diagnostics = [error("ldn-site", 0, "internal-error",
                                 "the build crashed; this is a bug in ldn-site: "
                                 + crash.strip().splitlines()[-1])]
        with self.state.cond:
            self.state.generation += 1
            self.state.has_site = self.state.has_site or written
            rebuild = Rebuild(self.state.generation, written and not has_errors(diagnostics),
                              tuple(sort_diagnostics(diagnostics)),
                              time.perf_counter() - started, pages,
                              time.process_time() - cpu_started, changed, crash,
                              self.state.has_site)
            self.state.latest = rebuild
            self.state.cond.notify_all()
        self.report(rebuild)
        return rebuild

    def local_path(self, path: str) -> str:
        """The path in the site folder of a request for ``path``, with or without the public
        address's path in front ("/ldn-site/style.css" and "/style.css" are one file)."""
        base = self.base_path.rstrip("/")
        if base and (path == base or path.startswith(base + "/")):
            return path[len(base):] or "/"
        return path

    def snapshot(self) -> tuple[int, bool, Rebuild | None]:
        with self.state.cond:
            return self.state.generation, self.state.has_site, self.state.latest

    def wait_for_change(self, since: int, timeout: float) -> bool:
        """Wait until a rebuild after generation ``since`` (or closing); whether one came."""
        with self.state.cond:
            return self.state.cond.wait_for(lambda: self.state.generation != since
                                            or self.state.closing, timeout)

    def close(self) -> None:
        with self.state.cond:
            self.state.closing = True
            self.state.cond.notify_all()

    def status(self) -> dict:
        generation, has_site, latest = self.snapshot()
        diags = list(latest.diagnostics) if latest else []
        return {"server": self.token, "generation": generation, "has_site": has_site,
                "ok": bool(latest and latest.ok), "summary": summarize(diags),
                "seconds": round(latest.seconds, 4) if latest else None,
                "diagnostics": [d.as_dict() for d in diags]}


# --- what is added to pages in the preview ---------------------------------------------------

_BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(rb"</body\s*>", re.IGNORECASE)

_RELOAD_SCRIPT = """<script data-ldn-serve>
(function () {
  var server = %s, generation = %d;
  function poll() {
    fetch("%s?since=" + generation, {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.server !== server || s.generation !== generation) { location.reload(); }
        else { poll(); }
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
"""

_NOTICE_STYLE = ("margin:0;padding:0.75rem 1rem;background:#fff4f4;color:#5a0000;"
                 "border-bottom:3px solid #b00020;font:15px/1.4 system-ui,sans-serif")
_PRE_STYLE = ("margin:0.5rem 0;white-space:pre-wrap;overflow-wrap:anywhere;"
              "font:13px/1.4 ui-monospace,monospace")


def problems_html(rebuild: Rebuild) -> str:
    """The notice shown at the top of every page while the latest edit does not build."""
    lines = "\n".join(html.escape(d.format()) for d in rebuild.diagnostics if d.severity == "error")
    if rebuild.crash:
        lines += "\n\n" + html.escape(rebuild.crash)
    changed = ", ".join(html.escape(p) for p in rebuild.changed)
    after = f" after changes to {changed}" if changed else ""
    return (f'<section id="ldn-serve-problems" role="alert" style="{_NOTICE_STYLE}">'
            f"<p style=\"margin:0\"><strong>Preview: the latest edit does not build</strong>"
            f"{after} ({html.escape(summarize(rebuild.diagnostics))}). This page is the last "
            f"version that built. Fix the problems below and save; the page reloads itself.</p>"
            f'<pre style="{_PRE_STYLE}">{lines}</pre>'
            f'<p style="margin:0"><a href="{ERRORS_PATH}">All problems and warnings</a></p>'
            "</section>\n")


def inject(page: bytes, preview: Preview) -> bytes:
    """Add the reload script, and the problems notice when the latest build failed."""
    generation, _, latest = preview.snapshot()
    script = (_RELOAD_SCRIPT % (json.dumps(preview.token), generation, STATUS_PATH)).encode()
    if latest is not None and not latest.ok:
        notice = problems_html(latest).encode()
        m = _BODY_OPEN.search(page)
        page = page[:m.end()] + b"\n" + notice + page[m.end():] if m else notice + page
    closes = list(_BODY_CLOSE.finditer(page))
    if closes:
        at = closes[-1].start()
        return page[:at] + script + page[at:]
    return page + script


def errors_page(preview: Preview, heading: str) -> bytes:
    """A page listing every diagnostic of the latest attempt (also served, with status 503,
    for every path while no build has succeeded yet)."""
    generation, _, latest = preview.snapshot()
    diags = latest.diagnostics if latest else ()
    items = "\n".join(f"<li><code>{html.escape(d.format())}</code></li>" for d in diags)
    crash = f"<pre>{html.escape(latest.crash)}</pre>" if latest and latest.crash else ""
    body = (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            f"<title>ldn-site preview: {html.escape(heading)}</title></head>\n<body>\n"
            f"<h1>{html.escape(heading)}</h1>\n"
            f"<p>{html.escape(summarize(diags))} in the latest build attempt. "
            f"<a href=\"/\">Back to the site</a></p>\n<ul>\n{items}\n</ul>\n{crash}\n"
            "</body>\n</html>\n")
    script = (_RELOAD_SCRIPT % (json.dumps(preview.token), generation, STATUS_PATH)).encode()
    return body.replace("</body>", script.decode() + "</body>").encode()


class _Handler(http.server.SimpleHTTPRequestHandler):
    preview: Preview  # set on the subclass made by ``_handler_for``

    def do_GET(self) -> None:  # the name is http.server's
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format, *args) -> None:  # the terminal is for diagnostics
        pass

    def _long_poll(self, since: int) -> None:
        """Wait for the next rebuild, but stop waiting as soon as the client has gone (a
        closed tab): each waiting request holds one of the server's MAX_REQUESTS slots."""
        deadline = time.monotonic() + LONG_POLL_SECONDS
        while time.monotonic() < deadline and not self._client_gone():
            if self.preview.wait_for_change(since, 0.5):
                return

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _send(self, status: int, body: bytes, ctype: str, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _respond(self, send_body: bool) -> None:
        url = urllib.parse.urlsplit(self.path)
        preview = self.preview
        if url.path == STATUS_PATH:
            query = urllib.parse.parse_qs(url.query)
            since = query.get("since", [""])[0]
            if since.lstrip("-").isdigit():
                self._long_poll(int(since))
            body = json.dumps(preview.status(), indent=1).encode()
            return self._send(200, body, "application/json", send_body)
        if url.path == ERRORS_PATH:
            return self._send(200, errors_page(preview, "Problems"), "text/html; charset=utf-8",
                              send_body)
        _, has_site, _ = preview.snapshot()
        if not has_site:
            return self._send(503, errors_page(preview, "The site does not build yet"),
                              "text/html; charset=utf-8", send_body)
        path = self.translate_path(preview.local_path(url.path))
        if os.path.isdir(path):
            if not url.path.endswith("/"):  # relative links need the slash
                self.send_response(301)
                self.send_header("Location", url.path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            path = os.path.join(path, "index.html")
        status = 200
        if not os.path.isfile(path):
            status, path = 404, os.path.join(preview.site_dir, "404.html")
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError:  # e.g. swapped away by a rebuild this very moment
            return self._send(404, b"not found\n", "text/plain; charset=utf-8", send_body)
        ctype = self.guess_type(path)
        if path.endswith(".html"):
            body = inject(body, preview)
            ctype = "text/html; charset=utf-8"
        return self._send(status, body, ctype, send_body)


def _handler_for(preview: Preview):
    handler = type("PreviewHandler", (_Handler,), {"preview": preview})
    return functools.partial(handler, directory=preview.site_dir)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # long-polling requests must not keep the process alive
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(MAX_REQUESTS)

    def process_request(self, request, client_address):
        # One thread per request, but never more than MAX_REQUESTS at once: a connection
        # beyond that is closed at once (a browser retries) rather than given a thread.
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        # A client that goes away mid-response (a closed tab, a reload) is normal, not an
        # error worth a traceback; anything else is a bug, and says so in one line.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            self.warn(f"a request from {client_address[0]} failed: {type(exc).__name__}: {exc}")

    def warn(self, line: str) -> None:  # replaced by PreviewServer with its caller's
        pass


class PreviewServer:
    """``ldn-site serve``: start() binds, watches and builds; close() undoes all of it."""

    def __init__(self, root: str, port: int = 8000, report=None, search: bool = False,
                 warn=None, host: str = HOST):
        self.root = root
        self.host = host
        self.port = port
        self.report = report
        self.search = search
        self.warn = warn or (lambda line: None)
        self._tmp: str | None = None
        self._httpd: _Server | None = None
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._threads: list[threading.Thread] = []
        self.preview: Preview | None = None

    @property
    def url(self) -> str:
        # Listening on every address (0.0.0.0), the preview is reached on this computer at
        # the loopback address.
        host = HOST if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self._httpd.server_address[1]}/"

    def start(self) -> Rebuild:
        """Bind the port (OSError if taken), start watching, build once, start serving.
        Returns the first build's outcome; the server runs even if it failed."""
        self._httpd = _Server((self.host, self.port), lambda *a: None)
        self._httpd.warn = self.warn
        try:
            self._tmp = tempfile.mkdtemp(prefix="ldn-site-serve-")
            self.preview = Preview(self.root, os.path.join(self._tmp, "site"), self.report,
                                   self.search)
            self._httpd.RequestHandlerClass = _handler_for(self.preview)
            watcher = threading.Thread(target=self._watch, name="ldn-watch", daemon=True)
            watcher.start()
            self._threads.append(watcher)
            # Watching starts before the first build, so no edit can slip between the two.
            self._watching.wait(10)
            first = self.preview.rebuild()
            server = threading.Thread(target=self._httpd.serve_forever, name="ldn-http",
                                      kwargs={"poll_interval": 0.2}, daemon=True)
            server.start()
            self._threads.append(server)
        except BaseException:
            self.close()
            raise
        return first

    def _watch(self) -> None:
        for changes in watchfiles.watch(self.root, watch_filter=ContentFilter(self.root),
                                        stop_event=self._stop, step=50, rust_timeout=500,
                                        yield_on_timeout=True, raise_interrupt=False):
            # The first (empty) yield comes once the watch is in place.
            self._watching.set()
            if self._stop.is_set():
                break
            if changes:
                rels = sorted({os.path.relpath(p, self.root).replace(os.sep, "/")
                               for _, p in changes})
                self.preview.rebuild(tuple(rels))

    def wait(self) -> None:
        """Block until close() is called from elsewhere (or KeyboardInterrupt)."""
        while not self._stop.wait(0.5):
            pass

    def close(self) -> None:
        self._stop.set()
        if self.preview is not None:
            self.preview.close()
        if self._httpd is not None:
            if any(t.name == "ldn-http" for t in self._threads):
                self._httpd.shutdown()
            self._httpd.server_close()
        # A running rebuild stops at its next page; the threads are daemons, so a slow one
        # cannot hold up the exit for long.
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=1)
        self._threads.clear()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
