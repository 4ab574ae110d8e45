"""Pipeline: load → validate → view → render → write; the only code that writes output.

Owns the order of the stages, the processes that run them (rendering workers on every core,
and short-lived children that load the content and write the open data, so that the memory
they touch goes with them), the caches kept between builds in ``.ldn-site-cache/`` (content
snapshot, Markdown store, citations, compiled templates, page manifest), and the atomic
publication of the site: pages are written into a staging folder beside the target and
swapped in with one atomic rename, so a failed or killed build leaves the previous site
exactly as it was and nobody ever sees a half-written one. It never prints and never picks
exit codes; it returns results with their diagnostics.
"""

from __future__ import annotations

import contextlib
import copyreg
import ctypes
import dataclasses
import datetime
import errno
import functools
import gc
import hashlib
import io
import itertools
import json
import multiprocessing
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import jinja2

from ldn_site import loading, publishing
from ldn_site.citations import Citations, cache_stamp as citation_cache_stamp
from ldn_site.diagnostics import Diagnostic, error, has_errors
from ldn_site.markup import MarkdownRenderer
from ldn_site.model import Content, Text, drop_lines
from ldn_site.rendering import (PageRefused, compile_templates, make_environment,
                                minify_css, page_error, render_page, template_error,
                                template_frame)
from ldn_site.searchindex import IndexFormatError, canonicalize
from ldn_site.validation import Validated, validate_content
from ldn_site.views import DATA_FILES, Page, SiteViews

CACHE_DIR = ".ldn-site-cache"
CACHE_FILE = "markdown.sqlite"
CITATION_CACHE_FILE = "citations.json"
PAGES_FILE = "pages.json"
SEARCH_DIR = "pagefind"
STATIC_PREFIX = "static/"
CHUNKS_PER_JOB = 8
PARALLEL_THRESHOLD = 120  # below this many pages, starting worker processes costs more
# Below this many content files, loading in a child and writing the open data in another
# save less memory than they cost time (about 0.05 s on the real site).
ISOLATE_THRESHOLD = 1000


@dataclass
class CheckResult:
    content: Content
    validated: Validated
    diagnostics: list[Diagnostic]


@dataclass
class BuildResult:
    diagnostics: list[Diagnostic]
    output: str
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    written: bool = False
    timings: dict = field(default_factory=dict)


def build_date(content: Content) -> datetime.date:
    """The site's 'today': SOURCE_DATE_EPOCH when set, else the newest review date, so that
    the output never depends on the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
    dates = [c.reviewed.date for c in content.claims]
    return datetime.date.fromisoformat(max(dates)) if dates else datetime.date(1970, 1, 1)


def check_site(root: str, texts_dir: str | None = None,
               today: datetime.date | None = None, with_templates: bool = True,
               with_output: bool = True) -> CheckResult:
    """Load and validate everything; with ``with_output``, also whether the configured
    output folder may receive the site (a build checks that itself, every time)."""
    content, diags = loading.load_content(root, with_templates=with_templates)
    if with_output and content.config is not None:
        unsafe = publishing.check_output(
            root, os.path.join(root, content.config.output_dir),
            (content.config.path, content.config.output_line))
        if unsafe is not None:
            diags.append(unsafe)
    fulltexts = loading.load_fulltexts(texts_dir) if texts_dir else None
    if today is None:
        today = build_date(content)
    validated = validate_content(content, today=today, fulltexts=fulltexts)
    return CheckResult(content, validated, diags + validated.diagnostics)


# --- content snapshot -----------------------------------------------------------------------

SNAPSHOT_FILE = "content.pickle"
DATA_CACHE_DIR = "data-files"  # the snapshot's data files (sitemap, feed, open data)


@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector. Loading or unpickling tens of thousands of
    records allocates millions of objects, and each allocation burst triggered a full scan of
    everything already loaded (unpickling 10,000 claims took 5.4 s with it, 0.7 s without).
    Nothing made here is cyclic garbage, so nothing is lost by waiting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@functools.lru_cache(maxsize=1)
def code_stamp() -> str:
    """Changes whenever the same files could be loaded, validated or shown differently: the
    package's own code and data, and the versions of Python and of the libraries it uses."""
    import importlib.metadata
    digest = hashlib.sha256(sys.version.encode())
    package = os.path.dirname(os.path.abspath(__file__))
    for folder, dirs, names in sorted(os.walk(package)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".csl", ".xml", ".json")):
                with open(os.path.join(folder, name), "rb") as f:
                    digest.update(f"{os.path.relpath(folder, package)}/{name}\0".encode())
                    digest.update(f.read())
    for dist in ("PyYAML", "bibtexparser", "Markdown", "nh3", "citeproc-py", "Jinja2",
                 "MarkupSafe"):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{dist}={version}\0".encode())
    return digest.hexdigest()[:32]


def _snapshot_key(root: str) -> str:
    """Everything the loaded and validated content depends on: the content files, and the
    site's date when SOURCE_DATE_EPOCH sets it (review-due warnings depend on it)."""
    return f"{loading.content_digest(root)}/{os.environ.get('SOURCE_DATE_EPOCH', '')}"


def _load_snapshot(root: str, key: str) -> tuple[CheckResult, list[str]] | None:
    """The checked content of the last build and the names of its data files, if they were
    made from exactly these content files by exactly this code; otherwise None.

    The file holds a header line (code stamp and content key), a line with the data files'
    names (JSON), then the ``CheckResult`` pickled. A pickle, because rebuilding thousands of
    records from JSON would cost as much as parsing the YAML again. It lives in the
    repository's own cache folder, which only the user writes (as Sphinx keeps its pickled
    environment); a snapshot that does not unpickle cleanly is ignored."""
    path = os.path.join(root, CACHE_DIR, SNAPSHOT_FILE)
    try:
        with open(path, "rb") as f:
            header = f.readline()
            if header != f"{code_stamp()} {key}\n".encode():
                return None
            data_files = json.loads(f.readline())
            with _collector_paused():
                checked = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            IndexError, TypeError, ValueError):
        return None
    if not isinstance(checked, CheckResult) or not isinstance(checked.content, Content) or \
            not isinstance(data_files, list) or not all(isinstance(n, str) for n in data_files):
        return None
    checked.content.root = root
    return checked, data_files


def _pickle_checked(checked: CheckResult, body) -> None:
    """Write ``checked`` (without its templates, which are always read afresh) into the
    binary file ``body``: the snapshot's body."""
    content = dataclasses.replace(checked.content, templates={})
    pickle.dump(CheckResult(content, checked.validated, checked.diagnostics), body,
                protocol=pickle.HIGHEST_PROTOCOL)
    body.flush()


def _body_file(root: str, in_cache: bool):
    """An anonymous file for a snapshot body: in the cache folder when caches are on (on the
    disk that will keep the snapshot), else in the system's temporary folder."""
    folder = os.path.join(root, CACHE_DIR)
    if in_cache:
        try:
            os.makedirs(folder, exist_ok=True)
            return tempfile.TemporaryFile(dir=folder)
        except OSError:
            pass  # a read-only checkout
    return tempfile.TemporaryFile()


def _save_snapshot(root: str, key: str, data_files: list[str], body) -> None:
    """Save the snapshot from its parts; ``body`` is the file ``_pickle_checked`` wrote."""
    def write(f) -> None:
        f.write(f"{code_stamp()} {key}\n".encode())
        f.write((json.dumps(sorted(data_files)) + "\n").encode())
        body.seek(0)
        shutil.copyfileobj(body, f, 1 << 20)
    _save_file(root, SNAPSHOT_FILE, write)


def _copy_files(names: list[str], source: str, target: str) -> bool:
    """Copy the named files from one folder to another (each through a temporary name);
    False, leaving any partial copy to be overwritten, if one of them cannot be copied."""
    try:
        for name in names:
            dest = os.path.join(target, name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = f"{dest}.{os.getpid()}.tmp"
            shutil.copyfile(os.path.join(source, name), tmp)
            os.replace(tmp, dest)
    except OSError:
        return False
    return True


def _save_file(root: str, name: str, write) -> None:
    """Save a cache file through a temporary name; ``write(f)`` writes it in binary."""
    folder = os.path.join(root, CACHE_DIR)
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{name}.{os.getpid()}")
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, os.path.join(folder, name))
    except OSError:
        pass  # the cache only saves time; a read-only checkout still builds


def _check_for_build(root: str) -> CheckResult:
    with _collector_paused():
        checked = check_site(root, with_templates=False, with_output=False)
        # Only validation needs to know the line of every value; the pages do not.
        drop_lines(checked.content)
        drop_lines(checked.validated.grades)
    return checked


def _check_in_child(root: str, body) -> CheckResult | None:
    """Load and validate in a forked child, which pickles the result into the binary file
    ``body`` (the snapshot's body, see ``_pickle_checked``), and return it unpickled; None if
    the child failed (the caller then does the work itself, so that a bug shows its
    traceback).

    Loading makes millions of short-lived objects (YAML events, node trees) between the
    long-lived ones, and the memory they leave behind stays with the process, scattered:
    the parent would hold about 300 MB at 10,000 claims where the unpickled result takes
    200 MB, and every forked worker, placing its own objects into those scattered holes,
    would copy page after page of it. Unpickled, the result lies compact."""
    if not _in_child(lambda: _pickle_checked(_check_for_build(root), body)):
        return None
    try:
        body.seek(0)
        with _collector_paused():
            checked = pickle.load(body)
    except (OSError, EOFError, pickle.UnpicklingError):
        return None
    return checked if isinstance(checked, CheckResult) else None


def _count_content_files(root: str) -> int:
    count = 0
    for folder in (loading.CLAIMS_DIR, loading.SOURCES_DIR):
        with contextlib.suppress(OSError):
            count += len(os.listdir(os.path.join(root, folder)))
    return count


def _in_child(work) -> bool:
    """Run ``work()`` in a forked child and wait for it; whether it succeeded. Nothing the
    child allocates or touches stays with this process (see ``_check_in_child``)."""
    return _wait_child(_start_child(work))


def _start_child(work) -> int | None:
    """Fork a child that runs ``work()`` and exits; its pid, or None if there is none."""
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    return pid


def _wait_child(pid: int | None) -> bool:
    """Wait for a child from ``_start_child``; whether it succeeded."""
    if pid is None:
        return False
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # already waited for
        return False
    return status == 0


@dataclass
class Checked:
    """The checked content for a build, and where it came from."""
    result: CheckResult | None  # None only while it is being made
    key: str | None  # the snapshot key (None when caches are off)
    data_files: list[str] | None  # the snapshot's data files, when it came from the snapshot
    body: object = None  # the pickled result as a snapshot body, if it was made this build


def _checked_content(root: str, use_cache: bool, resources: contextlib.ExitStack,
                     isolate: bool = False) -> Checked:
    """Load and validate the content, or take it from the snapshot of the last build when no
    content file changed. The templates are always read afresh. With ``isolate`` (a large
    site, no other thread running: see ``_build_site``), the loading happens in a child
    process (see ``_check_in_child``). Files opened here are closed with ``resources``."""
    key = _snapshot_key(root) if use_cache else None
    snapshot = _load_snapshot(root, key) if key else None
    if snapshot is not None:
        checked = Checked(snapshot[0], key, snapshot[1])
    else:
        checked = Checked(None, key, None)
        if isolate:
            body = resources.enter_context(_body_file(root, key is not None))
            result = _check_in_child(root, body)
            if result is not None:
                checked.result, checked.body = result, body
        if checked.result is None:
            checked.result = _check_for_build(root)
    # The content stays as it is until the build ends (build_site unfreezes): out of the
    # collector's reach, its millions of objects are not walked again by every collection.
    gc.freeze()
    template_diags: list[Diagnostic] = []
    checked.result.content.templates = loading.load_templates(root, template_diags)
    checked.result.diagnostics.extend(template_diags)
    return checked


# --- Markdown cache ------------------------------------------------------------------------

def _cache_stamp() -> str:
    """Changes whenever the Markdown dialect, or what is remembered with it (glossary links,
    forest plots), could give a different result."""
    import markdown
    import nh3

    from ldn_site import forestplot, glossary, markup, vocabulary
    digest = hashlib.sha256()
    for module in (markup, glossary, vocabulary, forestplot):
        with open(module.__file__, "rb") as f:
            digest.update(f.read())
    code = digest.hexdigest()[:16]
    return f"{markdown.__version__}/{getattr(nh3, '__version__', '')}/{code}"


def _load_cache(root: str, name: str, stamp: str) -> dict:
    """The entries of a small JSON cache (citations, the page manifest), or nothing if it was
    made for another stamp."""
    path = os.path.join(root, CACHE_DIR, name)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("stamp") != stamp:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


class MarkdownStore:
    """Rendered Markdown (and the glossary links remembered with it) from earlier builds, in
    SQLite, looked up one text at a time: no process holds the whole cache in memory, where on
    a large site it would be tens of megabytes in the parent and again in every forked worker
    that touched it. A page looks up about ten texts, so each lookup's cost counts: rows are
    found by a 64-bit integer made from the key (SQLite's fastest lookup, about 10 µs against
    16 µs for the text key itself at 100,000 rows) and the key stored beside the value is
    compared, so that two keys sharing an integer only ever cost a miss. Rendered HTML is
    stored as text and other values as JSON (in a blob, to tell them apart). The file is not
    memory-mapped: that saves 2 µs a lookup, but every mapped page a worker touches then counts
    towards its memory. Any SQLite problem only makes the cache miss: it saves time and is
    never needed for a correct build."""

    SCHEMA = 3  # part of the stamp: a store made with another layout is emptied, not misread

    def __init__(self, path: str, stamp: str):
        self.path = path
        self.stamp = f"{stamp}/schema-{self.SCHEMA}"
        self._connection: sqlite3.Connection | None = None
        self._pid = -1
        self._holding = False  # a read transaction is open (see ``reading``)

    def _reader(self) -> sqlite3.Connection | None:
        if self._pid != os.getpid():  # a connection must not be used across fork
            self._pid, self._connection, self._holding = os.getpid(), None, False
            try:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                       check_same_thread=False)
                row = conn.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
                if row is not None and row[0] == self.stamp:
                    self._connection = conn
                else:
                    conn.close()
            except sqlite3.Error:
                pass
        return self._connection

    @contextlib.contextmanager
    def reading(self):
        """Hold one read transaction for a run of lookups. Each lookup outside a transaction
        starts its own: file locks taken and released, the journal looked for, page 1 read
        again; about 13 µs, where inside one it takes 5 µs. A reader holds up writers (they
        wait for it to finish before they commit), so the transaction lasts one run of pages
        at most, and ends at the first miss: a run that misses renders Markdown, and so do the
        other workers, which then save what they rendered."""
        conn = self._reader()
        if conn is not None:
            try:
                conn.execute("BEGIN")
                self._holding = True
            except sqlite3.Error:
                pass
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        if self._holding and self._pid == os.getpid():
            self._holding = False
            with contextlib.suppress(sqlite3.Error):
                self._connection.execute("COMMIT")

    def __call__(self, key: str):
        conn = self._reader()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT key, value FROM texts WHERE id = ?",
                               (_row_id(key),)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or row[0] != key:
            self._release()
            return None
        value = row[1]
        return json.loads(value) if isinstance(value, bytes) else value

    def save(self, entries: dict) -> None:
        """Add entries, first emptying a store made for another stamp."""
        self._release()  # this process's own read transaction would hold up its write
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)
            try:
                with conn:
                    conn.execute("CREATE TABLE IF NOT EXISTS meta "
                                 "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                    row = conn.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
                    if row is None or row[0] != self.stamp:
                        for table in ("entries", "texts"):  # "entries": the first layout
                            conn.execute(f"DROP TABLE IF EXISTS {table}")
                        conn.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)",
                                     (self.stamp,))
                    conn.execute("CREATE TABLE IF NOT EXISTS texts "
                                 "(id INTEGER PRIMARY KEY, key TEXT NOT NULL, value NOT NULL)")
                    conn.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?, ?)",
                                     ((_row_id(k), k, v if isinstance(v, str) else
                                       json.dumps(v, ensure_ascii=False).encode("utf-8"))
                                      for k, v in sorted(entries.items())))
            finally:
                conn.close()
        except (OSError, sqlite3.Error):
            pass  # the cache only saves time; a read-only checkout still builds
        # Read afresh from now on: the store may not have existed, or had another stamp.
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()  # (never one inherited across fork)
        self._pid, self._connection = -1, None


def _row_id(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big",
                          signed=True)


def _save_cache(root: str, entries: dict, name: str, stamp: str) -> None:
    text = json.dumps({"stamp": stamp, "entries": entries}, sort_keys=True)
    _save_file(root, name, lambda f: f.write(text.encode("utf-8")))


# --- rendering, possibly in parallel -------------------------------------------------------

_WORKER: dict = {}


def _render_pages(indices: list[int]) -> tuple[int, list[str], dict[str, str], dict]:
    views: SiteViews = _WORKER["views"]
    store: MarkdownStore | None = _WORKER.get("store")
    with store.reading() if store is not None else contextlib.nullcontext():
        failures, fingerprints = _render_run(indices, views)
    added = views.md.take_added()
    if store is not None and _WORKER.get("workers_save") and added and \
            os.getpid() != _WORKER["parent"]:
        # A worker saves what it rendered itself rather than sending it to the parent, which
        # would otherwise hold every text of the site at once; having saved it, the worker
        # forgets it too and finds it in the store if a later page shows it again.
        store.save(added)
        views.md.cache.clear()
        added = {}
    return len(indices), failures, added, fingerprints


def _render_run(indices: list[int], views: SiteViews) -> tuple[list[Diagnostic], dict]:
    env: jinja2.Environment = _WORKER["env"]
    pages: list[Page] = _WORKER["pages"]
    staging: str = _WORKER["staging"]
    # With keep_pages: the fingerprint of each page as published in ``previous`` (the output
    # folder), and this build's fingerprints, adopted once this build is published.
    memo: dict | None = _WORKER.get("keep_pages")
    previous: str | None = _WORKER.get("previous")
    fingerprints: dict = {}
    made_dirs = set()
    failures = []
    for i in indices:
        page = pages[i]
        context = views.context(page)
        target = os.path.join(staging, page.path)
        folder = os.path.dirname(target)
        if folder not in made_dirs:
            os.makedirs(folder, exist_ok=True)
            made_dirs.add(folder)
        if memo is not None:
            key = _fingerprint(_WORKER["env_key"], page.template, context)
            if key is not None:
                fingerprints[page.path] = key
                # Same templates and view-model as the published page: reuse that file (a
                # hard link costs far less than rendering and writing it again).
                if previous and _reusable(memo.get(page.path), key,
                                          os.path.join(previous, page.path)) and \
                        _link(os.path.join(previous, page.path), target):
                    continue
        try:
            html = render_page(env, page.template, context)
        except PageRefused as exc:
            failures.append(page_error(env, exc, page.path))
            continue
        except Exception as exc:  # noqa: BLE001 - whatever a template's code raises
            if not isinstance(exc, jinja2.TemplateError) and template_frame(exc) is None:
                raise  # no template was running: a bug of ldn-site's own
            failures.append(template_error(exc, page.template, page.path))
            continue
        with open(target, "w", encoding="utf-8") as f:
            f.write(html)
    return failures, fingerprints


def _reusable(recorded, key: bytes, path: str) -> bool:
    """A published page may be reused when it was rendered from the same fingerprint and its
    file is still the one written then (same size and modification time), so that a file
    changed by hand in the output folder is rendered afresh rather than kept."""
    if recorded is None:
        return False
    if isinstance(recorded, bytes):  # serve keeps its own output folder: the digest suffices
        return recorded == key
    digest, size, mtime = recorded
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return digest == key.hex() and stat.st_size == size and stat.st_mtime_ns == mtime


def _pages_stamp() -> str:
    """Changes whenever the same view-model and templates could give a different page."""
    from ldn_site import rendering
    with open(rendering.__file__, "rb") as f:
        code = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"{_cache_stamp()}/{jinja2.__version__}/{code}"


def _load_page_manifest(root: str, output: str) -> dict:
    """Fingerprints of the pages last published into ``output`` (see ``_reusable``)."""
    entries = _load_cache(root, PAGES_FILE, _pages_stamp())
    pages = entries.get("pages")
    if entries.get("output") != os.path.abspath(output) or not isinstance(pages, dict):
        return {}
    return {k: tuple(v) for k, v in pages.items()}


def _save_page_manifest(root: str, output: str, fingerprints: dict) -> None:
    pages = {}
    for path, key in sorted(fingerprints.items()):
        try:
            stat = os.stat(os.path.join(output, path))
        except OSError:
            continue
        pages[path] = [key.hex(), stat.st_size, stat.st_mtime_ns]
    _save_cache(root, {"output": os.path.abspath(output), "pages": pages}, PAGES_FILE,
                _pages_stamp())


_VALUE_REDUCERS = dict(copyreg.dispatch_table)
_VALUE_REDUCERS[Text] = lambda text: (str, (str(text),))


def _fingerprint(env_key: str, template: str, context: dict) -> bytes | None:
    """A digest of everything a page is rendered from, or None if the context cannot be
    pickled (that page is then simply rendered every time).

    Only values count: pickled in "fast" mode, without the memo (with it, the bytes would
    depend on which equal values happen to be the same object, a cached Markdown string say),
    and with content text reduced to plain strings (a ``Text`` also remembers the line it was
    read from, and which file's copy of an id a view holds depends on the order of pages).
    Otherwise pages would look changed between processes and cache states when they are not."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True
    pickler.dispatch_table = _VALUE_REDUCERS
    try:
        pickler.dump((env_key, template, context))
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError):
        return None
    return hashlib.sha256(buffer.getbuffer()).digest()


def _link(source: str, target: str) -> bool:
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def _jobs(requested: int | None, pages: int) -> int:
    if requested:
        return max(1, requested)
    if pages < PARALLEL_THRESHOLD:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), 8))


_ENVIRONMENTS: dict[tuple, jinja2.Environment] = {}
TEMPLATE_CACHE_PREFIX = "templates-"


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between builds in the cache folder (compiling the templates
    takes about 0.13 s, a quarter of a rebuild of the real site). Jinja checks each file
    against its template's source; failing to save one only costs time."""

    def dump_bytecode(self, bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _template_cache(root: str) -> jinja2.BytecodeCache | None:
    """The bytecode cache for this code: its folder is named by a digest of the Jinja version
    and of ``rendering`` (the environment's options shape the compiled code, and Jinja's own
    check covers only the template's source); folders of other versions are removed."""
    from ldn_site import rendering
    with open(rendering.__file__, "rb") as f:
        digest = hashlib.sha256(f.read() + jinja2.__version__.encode()).hexdigest()[:16]
    cache = os.path.join(root, CACHE_DIR)
    folder = os.path.join(cache, TEMPLATE_CACHE_PREFIX + digest)
    try:
        if not os.path.isdir(folder):
            for entry in os.listdir(cache) if os.path.isdir(cache) else []:
                if entry.startswith(TEMPLATE_CACHE_PREFIX):
                    shutil.rmtree(os.path.join(cache, entry), ignore_errors=True)
            os.makedirs(folder)
    except OSError:
        return None  # a read-only checkout: templates are compiled every time
    return _TemplateCache(folder)


def _environment(templates: dict[str, str],
                 root: str | None) -> tuple[str, jinja2.Environment]:
    """The Jinja environment for these templates and their digest; the environment is kept
    while they stay the same, so that a long-running ``ldn-site serve`` compiles each template
    once rather than on every rebuild. With ``root``, compiled templates are also kept in its
    cache folder for later builds."""
    key = hashlib.sha256(json.dumps(sorted(templates.items())).encode("utf-8")).hexdigest()
    env = _ENVIRONMENTS.get((key, root))
    if env is None:
        _ENVIRONMENTS.clear()
        env = _ENVIRONMENTS[key, root] = make_environment(
            templates, _template_cache(root) if root is not None else None)
    return key, env


def build_site(root: str, output: str | None = None, jobs: int | None = None,
               use_cache: bool = True, keep_renderer: MarkdownRenderer | None = None,
               search: bool = True, keep_pages: dict | None = None,
               allow_outside: bool = False) -> BuildResult:
    """Validate and build the site at ``root`` into ``output`` (default: the config's
    output_dir). Nothing is written unless the whole build succeeds. With ``search``, the
    Pagefind index is built into the staging folder before it is published, so the search
    index and the pages it points to always go live together. ``keep_pages`` is a dict the
    caller keeps between builds into an output folder nobody else writes (as ``ldn-site
    serve`` does): it holds a digest of each published page's templates and view-model, and a
    page whose digest is unchanged is hard-linked from the published site instead of being
    rendered and written again (in a single process; parallel workers render everything)."""
    try:
        with contextlib.ExitStack() as resources:
            return _build_site(root, output, jobs, use_cache, keep_renderer, search, keep_pages,
                               resources, allow_outside)
    finally:
        # Loading froze the content out of the collector's reach; a long-running serve must
        # be able to collect it once the next build replaces it.
        gc.unfreeze()


def _build_site(root: str, output: str | None, jobs: int | None, use_cache: bool,
                keep_renderer: MarkdownRenderer | None, search: bool,
                keep_pages: dict | None, resources: contextlib.ExitStack,
                allow_outside: bool) -> BuildResult:
    started = time.perf_counter()
    timings = {}
    # Children are forked only while no other thread runs (a fork copies a lock another
    # thread holds, held for ever): serve (keep_renderer) builds in a thread beside its
    # server, so it never does.
    isolate = keep_renderer is None and hasattr(os, "fork") and \
        threading.active_count() == 1 and _count_content_files(root) >= ISOLATE_THRESHOLD
    loaded = _checked_content(root, use_cache, resources, isolate=isolate)
    checked = loaded.result
    timings["load+validate"] = time.perf_counter() - started
    content = checked.content
    out = output or os.path.join(root, content.config.output_dir if content.config else "_site")
    result = BuildResult(checked.diagnostics, out)
    if content.config is not None:
        where = None if output else (content.config.path or "site.yaml",
                                     content.config.output_line)
        unsafe = publishing.check_output(root, out, where, allow_outside)
        if unsafe is not None:
            result.diagnostics.append(unsafe)
    if has_errors(result.diagnostics):
        result.seconds = time.perf_counter() - started
        return result

    store = MarkdownStore(os.path.join(root, CACHE_DIR, CACHE_FILE),
                          _cache_stamp()) if use_cache else None
    renderer = keep_renderer or MarkdownRenderer(store=store)
    today = build_date(content).isoformat()
    citation_stamp = citation_cache_stamp()
    citations = Citations(content.bib, {k: src.kind for k, src in content.sources.items()},
                          _load_cache(root, CITATION_CACHE_FILE, citation_stamp)
                          if use_cache else None)
    views = SiteViews(content, checked.validated.grades, renderer, today, citations)
    pages = views.pages()
    env_key, env = _environment({k: t for k, t in content.templates.items()
                                 if not k.startswith(STATIC_PREFIX)},
                                root if use_cache else None)
    template_diags = compile_templates(env, [k for k in content.templates
                                             if not k.startswith(STATIC_PREFIX)])
    if template_diags:
        result.diagnostics.extend(template_diags)
        result.seconds = time.perf_counter() - started
        return result
    publishing.remove_leftovers(out)
    stage = resources.enter_context(publishing.Staging(out))
    staging = stage.path
    # A build from the command line reuses pages from the previous build through a manifest
    # in the cache; serve keeps its fingerprints in memory (keep_pages).
    persisted = keep_pages is None and use_cache
    data_cache = os.path.join(root, CACHE_DIR, DATA_CACHE_DIR)
    if persisted:
        keep_pages = _load_page_manifest(root, out)
    def side_work() -> tuple[list[str], object]:
        """Writes the data files into the staging folder (copied from the snapshot's when the
        content came from one), and has the body of the snapshot to save for the next build
        (pickled here unless the loading child made it): work the parent does while the
        workers render. Returns the data files' names and the snapshot body (None when the
        content came from the snapshot or caches are off)."""
        if loaded.data_files is not None and _copy_files(loaded.data_files, data_cache,
                                                          staging):
            return loaded.data_files, None
        if not _wait_child(writer):
            _write_files(staging, views.data_files())
        body = loaded.body
        if body is None and loaded.key:
            body = resources.enter_context(_body_file(root, True))
            _pickle_checked(checked, body)
        return sorted(DATA_FILES), body if loaded.key else None

    # Everything made so far stays as it is until the end of the build; out of the
    # collector's reach, no collection walks (and so copies into every worker) its pages.
    gc.freeze()
    # The open data reads every claim, and reading an object writes its reference count:
    # written by this process, it would copy most of the memory it shares with the workers.
    # A child writes it instead (forked before them, while no other thread runs), and what
    # it copied goes with it.
    writer = _start_child(lambda: _write_files(staging, views.data_files())) \
        if isolate and loaded.data_files is None else None
    try:
        fingerprints: dict = {}
        _WORKER.update(views=views, env=env, env_key=env_key, pages=pages, staging=staging,
                       keep_pages=keep_pages, parent=os.getpid(), store=store,
                       # serve keeps all rendered Markdown in its renderer, so it needs it back
                       workers_save=keep_renderer is None,
                       previous=out if keep_pages is not None and os.path.isdir(out) else None)
        n_jobs = _jobs(jobs, len(pages))
        t0 = time.perf_counter()
        if n_jobs == 1:
            outcomes = [_render_pages(list(range(len(pages))))]
            data_files, snapshot_body = side_work()
        else:
            # fork shares the loaded content with the workers without pickling it.
            ctx = multiprocessing.get_context("fork")
            # Contiguous runs of pages rather than every n-th page: a worker then mostly reads
            # the claims it renders, which lie together in memory, and so copies fewer of the
            # parent's memory pages (reading an object writes its reference count). Several
            # runs per worker keep the load even.
            size = max(1, -(-len(pages) // (n_jobs * CHUNKS_PER_JOB)))
            runs = [list(range(i, min(i + size, len(pages))))
                    for i in range(0, len(pages), size)]
            with ctx.Pool(n_jobs) as pool:
                pending = pool.map_async(_render_pages, runs, chunksize=1)
                data_files, snapshot_body = side_work()
                outcomes = pending.get()
        timings["render"] = time.perf_counter() - t0
        for outcome in outcomes:
            fingerprints.update(outcome[3])
        failures = [d for _, fails, _, _ in outcomes for d in fails]
        result.diagnostics.extend(failures)
        if failures:
            shutil.rmtree(staging, ignore_errors=True)
            result.seconds = time.perf_counter() - started
            return result
        t0 = time.perf_counter()
        files = _write_static(content, staging)
        files += len(data_files)
        timings["files"] = time.perf_counter() - t0
        if search:
            t0 = time.perf_counter()
            problem = _index_search(staging)
            timings["search"] = time.perf_counter() - t0
            if problem:
                result.diagnostics.append(error("templates", 0, "search-index", problem))
                shutil.rmtree(staging, ignore_errors=True)
                result.seconds = time.perf_counter() - started
                return result
            files += _count_files(os.path.join(staging, SEARCH_DIR))
        rendered = dict(renderer.added)  # by the workers, and by this process for itself
        for _, _, added, _ in outcomes:
            rendered.update(added)
        if keep_renderer is not None:  # serve keeps its renderer, with all it has rendered
            keep_renderer.cache.update(rendered)
        stage.publish()
        if persisted:
            _save_page_manifest(root, out, fingerprints)
        elif keep_pages is not None:
            keep_pages.clear()
            keep_pages.update(fingerprints)
    except BaseException:
        _wait_child(writer)  # it writes into the staging folder
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _WORKER.clear()
    # The data files first, the snapshot that names them last: a snapshot on disk always has
    # its files beside it (and if they are gone after all, they are simply made again).
    if snapshot_body is not None and _copy_files(data_files, out, data_cache):
        _save_snapshot(root, loaded.key, data_files, snapshot_body)
    if store is not None and rendered:
        store.save(rendered)
    if use_cache and citations.added:
        _save_cache(root, citations.entries, CITATION_CACHE_FILE, citation_stamp)
    result.pages = len(pages)
    result.files = len(pages) + files
    result.written = True
    result.seconds = time.perf_counter() - started
    result.timings = timings
    return result


def _write_static(content: Content, staging: str) -> int:
    count = 0
    for name, text in sorted(content.templates.items()):
        if name.startswith(STATIC_PREFIX):
            target = os.path.join(staging, name[len(STATIC_PREFIX):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as f:
                f.write(minify_css(text) if name.endswith(".css") else text)
            count += 1
    with open(os.path.join(staging, "references.bib"), "w", encoding="utf-8") as f:
        f.write(content.bib_text)
    return count + 1


# --- files for contributors (``ldn-site new`` and ``ldn-site schema``) ------------------------

def create_file(path: str, text: str) -> bool:
    """Create a new file holding ``text``; False, writing nothing, if anything already exists
    at ``path``. Exclusive creation, so nothing is ever overwritten, even by a racing run."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        return False
    return True


def write_files(folder: str, files: dict[str, str]) -> list[str]:
    """Write each named text file into ``folder`` atomically (temporary file, then rename);
    returns the names whose content changed, sorted. Unchanged files are not touched."""
    os.makedirs(folder, exist_ok=True)
    changed = []
    for name, text in sorted(files.items()):
        target = os.path.join(folder, name)
        try:
            with open(target, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except OSError:
            pass
        tmp = os.path.join(folder, f".{name}.{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
        changed.append(name)
    return changed


def _write_files(staging: str, files: dict[str, str | Iterable[str]]) -> int:
    """Write generated files (sitemap, feed, open data, ...) given as {path: text}, a text
    being one string or a sequence of pieces (written as they are made)."""
    made = set()
    for path, text in sorted(files.items()):
        target = os.path.join(staging, path)
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        # newline="" keeps the text's own line ends (the CSV's are CRLF by its standard).
        with open(target, "w", encoding="utf-8", newline="") as f:
            f.writelines((text,) if isinstance(text, str) else text)
    return len(files)


def _count_files(folder: str) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


def _index_search(staging: str) -> str | None:
    """Build the Pagefind search index into staging/pagefind; a message if that failed.

    Runs the Pagefind binary that the ``pagefind[bin]`` package ships, with the staging folder
    as working directory so that no configuration file from elsewhere can change the index."""
    cmd = [sys.executable, "-m", "pagefind", "--site", ".", "--output-subdir", SEARCH_DIR,
           "--silent"]
    try:
        proc = subprocess.run(cmd, cwd=staging, capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, NO_COLOR="1"))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the search index could not be built: {exc}"
    if proc.returncode != 0 or not os.path.isfile(os.path.join(staging, SEARCH_DIR,
                                                               "pagefind.js")):
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        return ("the search index could not be built (Pagefind: "
                f"{detail[-1] if detail else f'exit code {proc.returncode}'}); "
                "nothing was written")
    # Pagefind orders its filter chunks randomly; put them in a canonical order so that two
    # builds of the same content stay byte-identical.
    folder = os.path.join(staging, SEARCH_DIR)
    names = ["pagefind-entry.json"] + [n for n in os.listdir(folder) if n.endswith(".pf_meta")]
    filter_dir = os.path.join(folder, "filter")
    if os.path.isdir(filter_dir):
        names += [f"filter/{n}" for n in os.listdir(filter_dir)]
    files = {}
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            files[name] = f.read()
    try:
        write, remove = canonicalize(files)
    except (IndexFormatError, KeyError, ValueError, OSError) as exc:
        return f"the search index is not in the expected format ({exc}); nothing was written"
    for name in remove:
        os.remove(os.path.join(folder, name))
    for name, data in write.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    return None
