"""Caching: one content-addressed store of derived values, kept between builds.

Owns ``.ldn-site-cache/`` and everything in it. A value (rendered Markdown, a formatted
citation, the record of a published site: what takes long to make) is stored under a
digest of the code stamp, its namespace and everything it is computed from, so an entry can
never be stale: when anything it depends on changes, the key changes and the entry simply
stops being found. The code stamp (``code_stamp``) covers the whole package, the site's
templates and static files, the versions of the libraries and of Python, so a change to any
line of the generator, to a template or to a library misses every entry.

Values are JSON in SQLite, never pickles: the folder sits in the repository, where anything,
even a pull request, could put a file, and loading a pickle runs whatever code it holds.
Anything wrong with the store (missing, unreadable, locked, corrupt) only makes it miss: the
cache saves time and is never needed for a correct build. It renders and decides nothing.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sqlite3
import sys

CACHE_DIR = ".ldn-site-cache"
STORE_FILE = "store-v1.sqlite"  # a new layout gets a new name
# Libraries whose behaviour shapes what is cached or published.
LIBRARIES = ("PyYAML", "bibtexparser", "Markdown", "nh3", "citeproc-py", "Jinja2", "MarkupSafe",
             "pagefind", "pylatexenc")
FLUSH_EVERY = 2000  # new entries kept in memory before they are written out


def _package_digest() -> hashlib._Hash:
    """The package's own files (code, styles, data) with the library and Python versions."""
    digest = hashlib.sha256(sys.version.encode())
    package = os.path.dirname(os.path.abspath(__file__))
    for folder, dirs, names in sorted(os.walk(package)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            with open(os.path.join(folder, name), "rb") as f:
                data = f.read()
            rel = os.path.relpath(os.path.join(folder, name), package).replace(os.sep, "/")
            digest.update(f"{rel}\0{len(data)}\0".encode())
            digest.update(data)
    for dist in LIBRARIES:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{dist}={version}\0".encode())
    return digest


_PACKAGE: list = []  # the package digest, worked out once per process


def code_stamp(templates: dict[str, str | bytes]) -> str:
    """Changes whenever the same content could be built differently: any file of the package,
    any template or static file (``templates``, as loaded), a library or Python version."""
    if not _PACKAGE:
        _PACKAGE.append(_package_digest())
    digest = _PACKAGE[0].copy()
    for name, text in sorted(templates.items()):
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        digest.update(f"templates/{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


class Store:
    """The content-addressed store: ``get(namespace, source)`` finds what ``put`` saved for
    the same namespace and source under the same code stamp. New entries are written in
    batches (``FLUSH_EVERY``), so that a cold build of a large site never holds every rendered
    text in memory at once, and by ``flush()`` at the end of a build. Each process opens its
    own connection (a forked worker must not use its parent's)."""

    def __init__(self, root: str, stamp: str):
        self.path = os.path.join(root, CACHE_DIR, STORE_FILE)
        self.stamp = stamp
        self._pending: dict[str, str] = {}
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    def key(self, namespace: str, source: str) -> str:
        digest = hashlib.sha256(f"{self.stamp}\0{namespace}\0".encode())
        digest.update(source.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _connection(self, create: bool = False) -> sqlite3.Connection | None:
        """This process's connection; None if the store does not exist yet (unless
        ``create``) or cannot be opened."""
        if self._pid != os.getpid():
            self._pid, self._conn = os.getpid(), None
        if self._conn is None and (create or os.path.isfile(self.path)):
            try:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
                # Readers go on while a worker writes its batch.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, "
                             "stamp TEXT NOT NULL, value TEXT NOT NULL) WITHOUT ROWID")
                self._conn = conn
            except (OSError, sqlite3.Error):
                pass  # a read-only checkout, a corrupt file: every lookup misses
        return self._conn

    def get(self, namespace: str, source: str):
        key = self.key(namespace, source)
        text = self._pending.get(key)
        if text is None:
            conn = self._connection()
            try:
                row = conn.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone() \
                    if conn is not None else None
            except sqlite3.Error:
                row = None
            text = row[0] if row else None
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    def put(self, namespace: str, source: str, value) -> None:
        self._pending[self.key(namespace, source)] = json.dumps(value, ensure_ascii=False)
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the new entries out (or drop them, if the store cannot be written)."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        conn = self._connection(create=True)
        if conn is None:
            return
        try:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                                 ((key, self.stamp, value)
                                  for key, value in sorted(pending.items())))
        except sqlite3.Error:
            pass

    def close(self, save: bool = True) -> None:
        """Write the new entries out and drop those of other code stamps, which can never be
        found again (unless not ``save``: a failed build adds no more, though the batches its
        render runs wrote stay, as valid as any entry); close the store."""
        if save:
            self.flush()
            conn = self._connection()
            try:
                if conn is not None:
                    with conn:
                        conn.execute("DELETE FROM entries WHERE stamp != ?", (self.stamp,))
            except sqlite3.Error:
                pass
        self._pending = {}
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn, self._pid = None, -1


class Namespace:
    """One namespace of a store, read through ``get`` (for code that takes a dict of
    earlier results, such as ``Citations``)."""

    def __init__(self, store: Store | None, namespace: str):
        self.store, self.namespace = store, namespace

    def get(self, source: str, default=None):
        value = self.store.get(self.namespace, source) if self.store is not None else None
        return default if value is None else value
