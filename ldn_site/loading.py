"""Loading: the only code that reads input files.

Owns finding the repository (the folder with ``site.yaml``, from any subfolder) and reading
its files (``site.yaml``, ``claims/``, ``sources/``, ``templates/``) and, for ``check
--texts``, the full texts excerpts were quoted from. It parses
them into the content model with ``yamlnodes`` and ``schema`` and parses the BibTeX with
bibtexparser, turning every failure into a located diagnostic. It does not check anything that
spans files (``validation`` does) and never writes.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
import os
import re
import subprocess
import tarfile
import tempfile

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


def _read_text(root: str, rel: str, diags: list) -> str | None:
    try:
        with open(os.path.join(root, rel), "rb") as f:
            data = f.read()
    except OSError as exc:
        diags.append(error(rel, 0, "unreadable-file", f"cannot read file: {exc.strerror}"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        diags.append(error(rel, line, "invalid-encoding", "file is not valid UTF-8"))
        return None


def _load_yaml(root: str, rel: str, cls, diags: list):
    text = _read_text(root, rel, diags)
    if text is None:
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


def _yaml_files(root: str, folder: str, diags: list) -> list[str]:
    """Relative paths of the .yaml files in ``folder``, sorted; other files are reported."""
    base = os.path.join(root, folder)
    if not os.path.isdir(base):
        return []
    out = []
    for name in sorted(os.listdir(base)):
        rel = f"{folder}/{name}"
        if name.startswith(".") or os.path.isdir(os.path.join(base, name)):
            continue
        if name.endswith(".yaml"):
            out.append(rel)
        elif name.endswith(".yml"):
            diags.append(error(rel, 1, "wrong-extension",
                               "content files must end in .yaml, not .yml"))
    return out


def load_config(root: str, diags: list) -> Config | None:
    if not os.path.isfile(os.path.join(root, CONFIG_FILE)):
        diags.append(error(CONFIG_FILE, 0, "missing-config",
                           f"no {CONFIG_FILE} here: run ldn-site from the repository root"))
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
    for rel in _yaml_files(root, folder, diags):
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


def parse_bibtex(text: str, rel: str) -> tuple[dict[str, BibEntry], list[Diagnostic]]:
    """Parse BibTeX text. bibtexparser v2 never raises: broken and duplicate entries land in
    ``failed_blocks`` and silently vanish from ``entries``, so each one becomes an error here."""
    diags: list[Diagnostic] = []
    library = bibtexparser.parse_string(text)
    entries: dict[str, BibEntry] = {}
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        entries[entry.key] = BibEntry(entry.key, entry.entry_type.lower(), fields,
                                      entry.start_line + 1)
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
                entries[entry.key] = BibEntry(entry.key, entry.entry_type.lower(),
                                              {f.key.lower(): str(f.value) for f in entry.fields},
                                              line)
        else:
            diags.append(error(rel, line, "bibtex-syntax",
                               f"unparsable BibTeX entry: {_bibtex_reason(block)}"))
    return entries, diags


def _bibtex_reason(block) -> str:
    """The parser's reason for a failed block. BlockAbortedException keeps it in
    ``abort_reason`` and its str() is empty, which used to crash the loader with an
    IndexError; fall back to a generic text rather than ever raising."""
    exc = getattr(block, "error", None)
    reason = getattr(exc, "abort_reason", None) or (str(exc) if exc is not None else "")
    lines = [ln.strip() for ln in str(reason).splitlines() if ln.strip()]
    return lines[0] if lines else "syntax error"


def load_templates(root: str, diags: list) -> dict[str, str]:
    base = os.path.join(root, TEMPLATES_DIR)
    templates: dict[str, str] = {}
    if not os.path.isdir(base):
        diags.append(error(TEMPLATES_DIR, 0, "missing-templates", "no templates/ folder"))
        return templates
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), base).replace(os.sep, "/")
            text = _read_text(root, f"{TEMPLATES_DIR}/{rel}", diags)
            if text is not None:
                templates[rel] = text
    return templates


def input_digest(root: str) -> str:
    """A digest of every file a build reads: ``site.yaml`` and every entry of ``claims/``,
    ``sources/`` and ``templates/`` (names and bytes). While it stays the same (and the code
    does), a build has nothing new to make. Reading the bytes costs a fraction of parsing
    them, so an unchanged site is recognised without parsing anything."""
    digest = hashlib.sha256()

    def add(rel: str) -> None:
        full = os.path.join(root, rel)
        try:
            with open(full, "rb") as f:
                data = f.read()
        except IsADirectoryError:
            data, rel = b"", rel + "/"
        except OSError:
            data, rel = b"", rel + "\0missing"
        digest.update(f"{len(rel)}:{rel}:{len(data)}:".encode("utf-8", "surrogateescape"))
        digest.update(data)

    add(CONFIG_FILE)
    for folder in (CLAIMS_DIR, SOURCES_DIR, TEMPLATES_DIR):
        base = os.path.join(root, folder)
        for dirpath, _, filenames in sorted(os.walk(base)):
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            digest.update(f"{rel_dir}:{len(filenames)}\n".encode("utf-8", "surrogateescape"))
            for name in sorted(filenames):
                add(f"{rel_dir}/{name}")
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
    broken_claims: set[str] = set()
    broken_sources: set[str] = set()
    claims = load_claims(root, diags, broken_claims)
    sources = load_sources(root, diags, broken_sources)
    bib_text = ""
    bib: dict[str, BibEntry] = {}
    if os.path.isfile(os.path.join(root, BIB_FILE)):
        bib_text = _read_text(root, BIB_FILE, diags) or ""
        bib, bib_diags = parse_bibtex(bib_text, BIB_FILE)
        diags.extend(bib_diags)
    else:
        diags.append(error(BIB_FILE, 0, "missing-bibliography", f"no {BIB_FILE}"))
    templates = load_templates(root, diags) if with_templates else {}
    content = Content(root=root, config=config, claims=claims, sources=sources, bib=bib,
                      bib_path=BIB_FILE, bib_text=bib_text, templates=templates,
                      broken_claims=broken_claims, broken_sources=broken_sources)
    return content, diags


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
    if not os.path.isfile(os.path.join(root, BIB_FILE)):
        return set()
    text = _read_text(root, BIB_FILE, diags) or ""
    entries, _ = parse_bibtex(text, BIB_FILE)
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
