"""Loading: the only code that reads input files.

Owns finding the repository (the folder with ``site.yaml``, from any subfolder) and reading
its files (``site.yaml``, ``claims/``, ``sources/``, ``templates/``) and, for ``check
--texts``, the full texts excerpts were quoted from. It parses
them into the content model with ``yamlnodes`` and ``schema`` and parses the BibTeX with
bibtexparser, turning every failure into a located diagnostic. Content arrives by pull request,
so it reads only regular files inside the repository, each up to 5 MB, and reports every other
entry that looks like content (a link out of the repository, a pipe, a device, a folder or a
hidden file named like a record) at its path, rather than following or skipping it. It does
not check anything that spans files (``validation`` does) and never writes.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import io
import logging
import os
import re
import stat
import subprocess
import tarfile
import tempfile
import unicodedata

import bibtexparser
from bibtexparser.middlewares import RemoveEnclosingMiddleware
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock

from ldn_site.diagnostics import Diagnostic, error
from ldn_site.model import ID_PATTERN, BIBKEY_PATTERN, BibEntry, Claim, Config, Content, Source
from ldn_site.schema import convert
from ldn_site.yamlnodes import parse_yaml

CONFIG_FILE = "site.yaml"
CLAIMS_DIR = "claims"
SOURCES_DIR = "sources"
TEMPLATES_DIR = "templates"
BIB_FILE = "sources/references.bib"
STATIC_DIR = "templates/static"
# Static files that are not text, by extension: read as bytes and never decoded (a social
# card is a PNG). Listed rather than guessed, so a mis-encoded stylesheet is still reported.
BINARY_STATIC = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".woff",
                           ".woff2"})

# bibtexparser logs every broken block to stderr through logging's last-resort handler; the
# same problem is reported here as a located diagnostic, and only the CLI may print.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_ID = re.compile(ID_PATTERN)
_BIBKEY = re.compile(BIBKEY_PATTERN)


def find_root(start: str = ".") -> str | None:
    """The repository root for a command run in ``start``: the nearest folder, ``start``
    itself or one above it, that holds ``site.yaml``, as git finds ``.git`` from any
    subfolder. Returned relative to ``start`` ("." or "..", "../.."), so that paths printed
    from it stay short; None when there is none up to the file system's root."""
    here = os.path.abspath(start)
    while True:
        if os.path.isfile(os.path.join(here, CONFIG_FILE)):
            return os.path.relpath(here, os.path.abspath(start))
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


MAX_FILE_BYTES = 5 * 1024 * 1024  # far above any real content file; /dev/zero never ends

# Characters YAML forbids in a document (its "printable" set, as PyYAML's reader checks it).
# PyYAML reports them without a line, so they are found here first, at their line.
_NOT_YAML = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                       "\U00010000-\U0010FFFF]")
_KINDS = ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class _Refused(Exception):
    """An entry that is not read: a located problem with its stable code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _inside(root: str, real: str) -> bool:
    top = os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _regular_path(root: str, rel: str) -> str:
    """The real path of ``rel`` when it is a regular file inside the repository (itself, or
    through symbolic links that stay inside); raises ``_Refused`` saying what it is instead.
    A symlink may otherwise publish /etc/passwd, a FIFO hangs the build, /dev/zero never
    ends."""
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(full)
            try:
                st = os.stat(full)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _Refused("symlink-loop", f"not read: a symbolic link to '{target}' "
                                   "that leads back to itself") from None
                raise _Refused("broken-symlink", f"not read: a symbolic link to '{target}', "
                               "which does not exist") from None
            real = os.path.realpath(full)
            if not _inside(root, real):
                raise _Refused("symlink-outside", f"not read: a symbolic link to '{target}', "
                               "outside the repository; only files inside it are read")
            full = real
    except OSError as exc:
        raise _Refused("unreadable-file", f"cannot read file: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _Refused("not-a-file", f"not read: {_kind(st.st_mode)}, not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise _Refused("file-too-large", _too_large(st.st_size))
    return full


# Never block on a pipe, follow a last-moment link or adopt a terminal. Windows has none of
# these flags (and no pipes or devices in a folder), so there it opens plainly.
_OPEN_FLAGS = 0
for _flag in ("O_NONBLOCK", "O_NOFOLLOW", "O_NOCTTY", "O_CLOEXEC", "O_BINARY"):
    _OPEN_FLAGS |= getattr(os, _flag, 0)


def _too_large(size: int) -> str:
    return (f"not read: {size / 1024 / 1024:.1f} MB, and no file larger than "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB is read")


def _read_bytes(root: str, rel: str) -> bytes:
    """The bytes of a regular file inside the repository, at most MAX_FILE_BYTES of them;
    raises ``_Refused`` otherwise. Opened without blocking and checked again once open, so
    that a file swapped for a pipe or a device after the first look cannot hang or flood
    the build."""
    full = _regular_path(root, rel)
    try:
        fd = os.open(full, os.O_RDONLY | _OPEN_FLAGS)
    except OSError as exc:
        raise _Refused("unreadable-file", f"cannot read file: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refused("not-a-file", "not read: not a regular file")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _Refused("file-too-large", _too_large(len(data)))
    return data


def _read_file(root: str, rel: str, diags: list) -> bytes | None:
    try:
        return _read_bytes(root, rel)
    except _Refused as exc:
        diags.append(error(rel, 1, exc.code, exc.message))
        return None


def _read_text(root: str, rel: str, diags: list) -> str | None:
    data = _read_file(root, rel, diags)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        diags.append(error(rel, line, "invalid-encoding", "file is not valid UTF-8"))
        return None


def _check_characters(text: str, rel: str, diags: list) -> bool:
    """False, with an error at its line, when the text holds a character YAML forbids (a NUL
    or an escape byte, say): one that no editor shows, so the message names it."""
    bad = _NOT_YAML.search(text)
    if bad is None:
        return True
    char = bad.group()
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "a control character")
    line = text.count("\n", 0, bad.start()) + 1
    column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
    diags.append(error(rel, line, "invalid-character",
                       f"the character U+{ord(char):04X} ({name}) at column {column} is not "
                       "allowed in YAML; remove it"))
    return False


_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BACKSPACE", 0x1B: "ESC", 0x7F: "DEL"}


def _load_yaml(root: str, rel: str, cls, diags: list):
    text = _read_text(root, rel, diags)
    if text is None or not _check_characters(text, rel, diags):
        return None
    node, parse_diags = parse_yaml(text, rel)
    diags.extend(parse_diags)
    if node is None:
        return None
    value, convert_diags = convert(node, cls, rel)
    diags.extend(convert_diags)
    return value


def _load_many(root: str, rels: list[str], cls, diags: list) -> list:
    return [_load_yaml(root, rel, cls, diags) for rel in rels]


def _folder_names(root: str, folder: str, diags: list) -> list[str] | None:
    """The sorted entry names of a content folder, or None with an error when it is missing
    or is not a folder inside the repository (a site with no claims/ is a mistake, never an
    empty review)."""
    try:
        real = _regular_folder(root, folder)
    except _Refused as exc:
        diags.append(error(folder, 0 if exc.code == "missing-folder" else 1, exc.code,
                           exc.message))
        return None
    return sorted(os.listdir(real))


def _regular_folder(root: str, folder: str) -> str:
    full = os.path.join(root, folder)
    if not os.path.lexists(full):
        raise _Refused("missing-folder", f"there is no {folder}/ folder")
    real = os.path.realpath(full)
    if os.path.islink(full) and not _inside(root, real):
        raise _Refused("symlink-outside", f"not read: a symbolic link to "
                       f"'{os.readlink(full)}', outside the repository")
    if not os.path.isdir(real):
        what = _kind(os.stat(real).st_mode) if os.path.exists(real) else "a broken link"
        raise _Refused("not-a-folder", f"{folder} must be a folder of content files, not "
                       f"{what}")
    return real


def _yaml_files(root: str, folder: str, diags: list) -> list[str] | None:
    """Relative paths of the .yaml entries in ``folder``, sorted (reading them checks that
    each is a regular file), or None when the folder itself is refused. Every other entry
    that looks like content is reported rather than skipped: a .yml file, a hidden .x.yaml."""
    names = _folder_names(root, folder, diags)
    if names is None:
        return None
    out = []
    for name in names:
        rel = f"{folder}/{name}"
        if not name.endswith((".yaml", ".yml")):
            continue  # references.bib, a README, .gitkeep: not content records
        if name.startswith("."):
            diags.append(error(rel, 1, "hidden-file",
                               f"not read: a hidden file; name it {name.lstrip('.')} to "
                               "include it, or remove it"))
        elif name.endswith(".yml"):
            diags.append(error(rel, 1, "wrong-extension",
                               "content files must end in .yaml, not .yml"))
        else:
            out.append(rel)
    return out


def load_config(root: str, diags: list) -> Config | None:
    if not os.path.lexists(os.path.join(root, CONFIG_FILE)):
        where = os.path.abspath(root) + ("" if os.path.isdir(root) else " (no such folder)")
        diags.append(error(CONFIG_FILE, 0, "missing-config",
                           f"no {CONFIG_FILE} in {where}: run ldn-site inside the repository "
                           "(the folder holding site.yaml is found upward), or give that "
                           "folder with --root"))
        return None
    config = _load_yaml(root, CONFIG_FILE, Config, diags)
    if config is not None:
        config.path = CONFIG_FILE
        config.output_line = getattr(config.output_dir, "line", 0) or config.line or 1
    return config


def _load_folder(root: str, folder: str, cls, pattern: re.Pattern, what: str, diags: list,
                 broken: set) -> dict[str, object]:
    """Load every ``<id>.yaml`` in a folder as ``cls``; the file name is the id."""
    rels = []
    for rel in _yaml_files(root, folder, diags) or []:
        ident = os.path.basename(rel)[: -len(".yaml")]
        if pattern.match(ident):
            rels.append(rel)
        else:
            diags.append(error(rel, 1, "invalid-id",
                               f"{what} '{ident}' (the file name) {_RULES[what]}"))
    loaded = {}
    for rel, value in zip(rels, _load_many(root, rels, cls, diags)):
        ident = os.path.basename(rel)[: -len(".yaml")]
        if value is None:
            broken.add(ident)
        else:
            loaded[ident] = value
            value.path = rel
    return loaded


_RULES = {
    "claim id": "must be lowercase letters, digits and single hyphens",
    "source key": "must be a lowercase BibTeX key: letters, digits, hyphens and underscores",
}


def load_claims(root: str, diags: list, broken: set) -> list[Claim]:
    claims = _load_folder(root, CLAIMS_DIR, Claim, _ID, "claim id", diags, broken)
    for ident, claim in claims.items():
        claim.id = ident
    return list(claims.values())


def load_sources(root: str, diags: list, broken: set) -> dict[str, Source]:
    sources = _load_folder(root, SOURCES_DIR, Source, _BIBKEY, "source key", diags, broken)
    for key, source in sources.items():
        source.key = key
    return sources


def parse_bibtex(text: str, rel: str, broken: set[str] | None = None
                 ) -> tuple[dict[str, BibEntry], list[Diagnostic]]:
    """Parse BibTeX text. bibtexparser v2 never raises: broken and duplicate entries land in
    ``failed_blocks`` and silently vanish from ``entries``, so each one becomes an error here.
    The key of each entry that could not be parsed is added to ``broken``."""
    diags: list[Diagnostic] = []
    library = bibtexparser.parse_string(text)
    entries: dict[str, BibEntry] = {}
    for entry in library.entries:
        entries[entry.key] = _bib_entry(entry, entry.start_line + 1)
        if not _BIBKEY.match(entry.key):
            diags.append(error(rel, entry.start_line + 1, "invalid-id",
                               f"BibTeX key '{entry.key}' must be lowercase letters, digits, "
                               "hyphens and underscores"))
    for block in library.failed_blocks:
        line = block.start_line + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            first = entries.get(block.key)
            where = f" (first defined on line {first.line})" if first else ""
            diags.append(error(rel, line, "duplicate-id",
                               f"duplicate BibTeX key '{block.key}'{where}"))
        elif isinstance(block, DuplicateFieldKeyBlock):
            # bibtexparser's own message names its Python API; say what is wrong instead. The
            # entry itself is kept (last value wins, it is an error anyway), so that every
            # reference to it does not cascade into "unknown BibTeX key" errors. The parse
            # stack skipped it, so its values still carry their braces or quotes.
            entry = RemoveEnclosingMiddleware().transform_block(block.ignore_error_block, library)
            names = ", ".join(f"'{k}'" for k in sorted(block.duplicate_keys))
            diags.append(error(rel, line, "duplicate-key",
                               f"BibTeX entry '{entry.key}' has the field {names} more than once"))
            if entry.key not in entries:
                entries[entry.key] = _bib_entry(entry, line)
        else:
            diags.append(error(rel, line, "bibtex-syntax",
                               f"unparsable BibTeX entry: {_bibtex_reason(block)}"))
            key = _FAILED_KEY.match(getattr(block, "raw", "") or "")
            if key and broken is not None:
                broken.add(key.group(1))
    if not library.entries and not library.failed_blocks:
        # Not BibTeX at all (bibtexparser keeps any other text as comments): one error
        # here, rather than one "has no entry" for every source that cites it.
        first = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()), 1)
        diags.append(error(rel, first, "not-bibtex",
                           "the file holds no BibTeX entry (such as @article{key, title = "
                           "{...}}); every source record needs one here"))
    return entries, diags


# The key of an entry bibtexparser could not parse: "@type{key," at the start of its text.
_FAILED_KEY = re.compile(r"\s*@\s*[A-Za-z]+\s*[{(]\s*([^\s,{}()]+)\s*,")


def _bib_entry(entry, line: int) -> BibEntry:
    # Field lines are 0-based in bibtexparser, like the entry's.
    return BibEntry(entry.key, entry.entry_type.lower(),
                    {f.key.lower(): str(f.value) for f in entry.fields}, line,
                    {f.key.lower(): f.start_line + 1 for f in entry.fields})


def _bibtex_reason(block) -> str:
    """The parser's reason for a failed block. BlockAbortedException keeps it in
    ``abort_reason`` and its str() is empty, which used to crash the loader with an
    IndexError; fall back to a generic text rather than ever raising."""
    exc = getattr(block, "error", None)
    reason = getattr(exc, "abort_reason", None) or (str(exc) if exc is not None else "")
    lines = [ln.strip() for ln in str(reason).splitlines() if ln.strip()]
    return lines[0] if lines else "syntax error"


def load_templates(root: str, diags: list) -> dict[str, str | bytes]:
    """Every file below templates/ by its path there (static files included), read under the
    same rules as content: a link out of the repository, a pipe or a device is reported, and
    so never published. A static image or font (``BINARY_STATIC``) is kept as bytes, to be
    published byte for byte; every other file is UTF-8 text."""
    templates: dict[str, str | bytes] = {}
    try:
        base = _regular_folder(root, TEMPLATES_DIR)
    except _Refused as exc:
        missing = exc.code == "missing-folder"
        diags.append(error(TEMPLATES_DIR, 0 if missing else 1,
                           "missing-templates" if missing else exc.code,
                           "no templates/ folder" if missing else exc.message))
        return templates
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in dirnames:  # os.walk does not enter a linked folder; say so, not skip it
            if os.path.islink(os.path.join(dirpath, name)):
                diags.append(error(_template_rel(base, dirpath, name), 1, "symlink-folder",
                                   "not read: a symbolic link to a folder; templates/ is "
                                   "read without following linked folders"))
        for name in sorted(filenames):
            rel = _template_rel(base, dirpath, name)
            binary = (rel.startswith(STATIC_DIR + "/")
                      and os.path.splitext(name)[1].lower() in BINARY_STATIC)
            text = (_read_file if binary else _read_text)(root, rel, diags)
            if text is not None:
                templates[rel[len(TEMPLATES_DIR) + 1:]] = text
    return templates


def _template_rel(base: str, dirpath: str, name: str) -> str:
    rel = os.path.relpath(os.path.join(dirpath, name), base).replace(os.sep, "/")
    return f"{TEMPLATES_DIR}/{rel}"


def input_digest(root: str) -> str:
    """A digest of every file a build reads: ``site.yaml`` and every entry of ``claims/``,
    ``sources/`` and ``templates/`` (names and bytes). While it stays the same (and the code
    does), a build has nothing new to make. Reading the bytes costs a fraction of parsing
    them, so an unchanged site is recognised without parsing anything."""
    digest = hashlib.sha256()

    def add(rel: str) -> None:
        # Read by the same rules as the loader: a pipe or /dev/zero must not hang this
        # either. An entry the loader refuses adds its reason, which names a link's target.
        try:
            data = _read_bytes(root, rel)
        except _Refused as exc:
            data, rel = b"", f"{rel}\0{exc.code}\0{exc.message}"
        digest.update(f"{len(rel)}:{rel}:{len(data)}:".encode("utf-8", "surrogateescape"))
        digest.update(data)

    add(CONFIG_FILE)
    for folder in (CLAIMS_DIR, SOURCES_DIR):
        names = _folder_names(root, folder, [])
        digest.update(f"{folder}:{-1 if names is None else len(names)}\n".encode())
        for name in names or []:
            add(f"{folder}/{name}")
    base = os.path.join(root, TEMPLATES_DIR)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            add(_template_rel(base, dirpath, name))
    return digest.hexdigest()


def read_today() -> datetime.date:
    """The one "today" of check, build and serve: the date of ``SOURCE_DATE_EPOCH`` when it is
    set (reproducible builds set it, so the same commit always gives the same site), else the
    current date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
    return datetime.date.today()


def load_content(root: str, with_templates: bool = True) -> tuple[Content, list[Diagnostic]]:
    """Read and parse everything in the repository at ``root`` (without the templates when
    the caller loads them itself with ``load_templates``)."""
    diags: list[Diagnostic] = []
    config = load_config(root, diags)
    if any(d.code == "missing-config" for d in diags):
        # Not a repository at all: everything else missing would only bury the one fix.
        return Content(root=root, config=None, claims=[], sources={}, bib={},
                       bib_path=BIB_FILE, bib_text="", templates={}, broken_bib=True), diags
    broken_claims: set[str] = set()
    broken_sources: set[str] = set()
    claims = load_claims(root, diags, broken_claims)
    sources = load_sources(root, diags, broken_sources)
    broken_bib_keys: set[str] = set()
    bib_text, bib = load_bibliography(root, diags, broken_bib_keys)
    templates = load_templates(root, diags) if with_templates else {}
    failed = {d.path for d in diags if d.severity == "error"}
    content = Content(root=root, config=config, claims=claims, sources=sources, bib=bib,
                      bib_path=BIB_FILE, bib_text=bib_text, templates=templates,
                      broken_claims=broken_claims, broken_sources=broken_sources,
                      broken_bib=not bib, broken_bib_keys=broken_bib_keys,
                      flawed_sources={k for k, s in sources.items() if s.path in failed})
    return content, diags


def load_bibliography(root: str, diags: list, broken: set[str] | None = None
                      ) -> tuple[str, dict[str, BibEntry]]:
    """The text of sources/references.bib and its entries; no entries (with an error) when
    it is missing, unreadable or holds no BibTeX. Keys of unparsable entries go to ``broken``."""
    if not os.path.lexists(os.path.join(root, BIB_FILE)):
        diags.append(error(BIB_FILE, 0, "missing-bibliography", f"no {BIB_FILE}"))
        return "", {}
    text = _read_text(root, BIB_FILE, diags)
    if text is None:
        return "", {}
    bib, bib_diags = parse_bibtex(text, BIB_FILE, broken)
    diags.extend(bib_diags)
    return text, bib


def load_fulltexts(folder: str) -> dict[str, str | None]:
    """Full texts for quote checking, by file name; None where the file is absent. Files are
    also indexed by their SHA-256 digest, so a record may name a text by digest alone."""
    texts: dict[str, str | None] = {}
    if not os.path.isdir(folder):
        return texts
    for name in sorted(os.listdir(folder)):
        full = os.path.join(folder, name)
        if not os.path.isfile(full):
            continue
        with open(full, "rb") as f:
            data = f.read()
        text = data.decode("utf-8", errors="replace")
        texts[name] = text
        texts["sha256:" + hashlib.sha256(data).hexdigest()] = text
    return {k: texts[k] for k in sorted(texts)}


def load_content_at_ref(root: str, ref: str) -> tuple[Content | None, list[Diagnostic]]:
    """Read the content as it was at the git revision ``ref`` (for ``ldn-site diff``).

    The tree of ``root`` at that revision is taken with ``git archive``, unpacked into a
    temporary folder that is removed again, and loaded exactly like the working tree, so the
    two are compared by the same rules. Returns None with an error when git cannot give it."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", root, *args], capture_output=True, check=False)

    where = f"git revision '{ref}'"
    try:
        top = git("rev-parse", "--show-prefix")
    except OSError as exc:
        return None, [error(where, 0, "git-unavailable", f"cannot run git: {exc.strerror}")]
    if top.returncode != 0:
        return None, [error(where, 0, "not-a-repository",
                            f"{os.path.abspath(root)} is not inside a git repository")]
    prefix = top.stdout.decode().strip()
    toplevel = git("rev-parse", "--show-toplevel").stdout.decode().strip()
    commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        return None, [error(where, 0, "unknown-revision",
                            f"'{ref}' is not a commit, branch or tag in this repository")]
    sha = commit.stdout.decode().strip()
    # From the top level: in a subfolder, git archive would limit itself to that folder again.
    archive = subprocess.run(["git", "-C", toplevel, "archive", "--format=tar",
                              f"{sha}:{prefix}" if prefix else sha],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip().splitlines()
        return None, [error(where, 0, "unknown-revision",
                            f"cannot read the tree at '{ref}': "
                            f"{message[-1] if message else 'git archive failed'}")]
    wanted = (CONFIG_FILE, CLAIMS_DIR + "/", SOURCES_DIR + "/")
    with tempfile.TemporaryDirectory(prefix="ldn-site-ref-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            members = [m for m in tar.getmembers()
                       if m.name == CONFIG_FILE or m.name.startswith(wanted)]
            tar.extractall(tmp, members=members, filter="data")
        content, diags = load_content(tmp)
    content.root = f"{ref}:{prefix}"
    # The templates are not needed to compare claims, and were deliberately not unpacked.
    diags = [d for d in diags if d.code != "missing-templates"]
    return content, diags


def load_bib_keys(root: str) -> set[str]:
    """The BibTeX keys in sources/references.bib (empty when there is no such file); for
    ``ldn-site new source``, which only needs to know whether an entry exists."""
    diags: list[Diagnostic] = []
    _, entries = load_bibliography(root, diags)
    return set(entries)


def read_texts(folder: str, names) -> dict[str, str | None]:
    """The text of each named file in ``folder``, None where it is missing or unreadable (for
    ``ldn-site schema --check``, which compares the committed schemas with the model)."""
    out: dict[str, str | None] = {}
    for name in sorted(names):
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                out[name] = f.read()
        except (OSError, UnicodeDecodeError):
            out[name] = None
    return out
