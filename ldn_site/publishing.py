"""Publishing: where a site may be written, and putting a finished site in place atomically.

Owns the output folder's safety and its replacement. A build writes into a staging folder
beside the target and, once everything is written, swaps it in with one atomic rename, so a
failed, interrupted or killed build leaves the previous site exactly as it was and nobody ever
sees a half-written one. Every folder the build makes carries a marker file, and nothing
without that marker is ever replaced or deleted: a build must never destroy what it did not
create (a user's ``docs/``, the repository itself, its content). ``check_output`` says whether
a target is acceptable, as a located diagnostic; ``Staging`` makes, publishes or discards a
staging folder. Also the two other ways ldn-site writes into a repository, for contributors:
``create_file`` (``new``: never overwrites) and ``update_files`` (``schema``: atomic). Renders
nothing and decides nothing about pages: the pipeline hands it folders.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import os
import shutil
import sys

from ldn_site.diagnostics import Diagnostic, error

# The marker a build puts in every folder it writes. Its text is fixed (never a date or a
# version), so that two builds of the same content stay byte-identical.
MARKER = ".ldn-site-output"
MARKER_TEXT = ("This folder is a site written by `ldn-site build`. ldn-site replaces or "
               "deletes only folders that hold this file.\n")
# Folders of the repository a build must never write into or replace.
PROTECTED = ("claims", "sources", "templates", "schema", "ldn_site", "tests", ".git",
             ".github", ".ldn-site-cache")


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (both absolute and resolved)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _has_marker(folder: str) -> bool:
    marker = os.path.join(folder, MARKER)
    return (os.path.isfile(marker) and not os.path.islink(marker)) or _is_legacy_site(folder)


# What the open data of every site written before the marker existed begins with.
_LEGACY_DATA = ("data", "claims.json")
_LEGACY_START = b'{"format": "ldn-site open data'


def _is_legacy_site(folder: str) -> bool:
    """A site written by an ldn-site version from before the marker: recognised by its open
    data, so that upgrading does not make every contributor move their _site away by hand."""
    try:
        with open(os.path.join(folder, *_LEGACY_DATA), "rb") as f:
            return f.read(len(_LEGACY_START)) == _LEGACY_START
    except OSError:
        return False


def output_problem(root: str, output: str, allow_outside: bool = True) -> str | None:
    """Why ``output`` must not receive a site built from the repository at ``root``, or None.

    Refused: the repository itself and every folder containing it; its content and code
    folders (``PROTECTED``) and anything inside them; a path that exists but is not a folder
    or is a symbolic link; an existing folder that is neither empty nor marked as a site an
    earlier build wrote; and, unless ``allow_outside``, anything outside the repository.
    Symbolic links and ``..`` are resolved first, so ``_site/../sources`` is ``sources``."""
    repo = os.path.realpath(root)
    target = os.path.realpath(output)
    if _inside(target, repo) and target != repo:
        output = os.path.relpath(target, repo)
    if _inside(repo, target):
        return (f"'{output}' is the repository itself or a folder that contains it; the site "
                "must go into a folder of its own, such as _site")
    for name in PROTECTED:
        if _inside(target, os.path.join(repo, name)):
            return f"'{output}' is inside the repository's {name}/ folder, which holds its " \
                   "content or code; the site must go into a folder of its own, such as _site"
    if not allow_outside and not _inside(target, repo):
        return (f"'{output}' is outside the repository; output_dir must be a folder inside "
                "it (to write elsewhere, pass --output, or --allow-outside)")
    if os.path.islink(output):
        return f"'{output}' is a symbolic link; give the real folder"
    if os.path.lexists(target):
        if not os.path.isdir(target):
            return f"'{output}' exists and is not a folder"
        if os.listdir(target) and not _has_marker(target):
            return (f"'{output}' already exists and was not written by ldn-site (it has no "
                    f"{MARKER} file); ldn-site never replaces a folder it did not create: "
                    "choose an empty or new folder, or move that one away")
    return None


def check_output(root: str, output: str, where: tuple[str, int] | None,
                 allow_outside: bool = False) -> Diagnostic | None:
    """``output_problem`` as a diagnostic located at ``where`` (the file and line of
    ``output_dir``), or at the command line's ``--output`` when ``where`` is None (a folder
    given on the command line may lie outside the repository)."""
    if where is None:
        problem = output_problem(root, output, allow_outside=True)
        return error("--output", 0, "unsafe-output", problem) if problem else None
    problem = output_problem(root, output, allow_outside)
    return error(where[0], where[1], "unsafe-output", f"output_dir: {problem}") \
        if problem else None


_SIBLINGS = itertools.count()


def _sibling(output: str, kind: str) -> str:
    """A new name beside ``output`` for a folder of ``kind`` (staging or replaced), unique
    even between the builds of one long-running process."""
    parent, name = os.path.split(os.path.abspath(output))
    return os.path.join(parent, f".{name}.{kind}-{os.getpid()}-{next(_SIBLINGS)}")


def remove_site(folder: str) -> None:
    """Delete a folder a build made (it holds the marker); anything else is left alone."""
    if os.path.isdir(folder) and not os.path.islink(folder) and _has_marker(folder):
        shutil.rmtree(folder, ignore_errors=True)


def remove_leftovers(output: str) -> None:
    """Remove what killed builds left beside ``output``: their marked staging folders and
    replaced sites. A folder of that name without the marker is not ours and stays."""
    parent, name = os.path.split(os.path.abspath(output))
    if not os.path.isdir(parent):
        return
    for entry in sorted(os.listdir(parent)):
        if entry.startswith((f".{name}.staging-", f".{name}.replaced-")):
            remove_site(os.path.join(parent, entry))
        if entry.startswith(f".{name}.staging-"):
            # A build killed between making its staging folder and marking it leaves it
            # empty. rmdir removes only an empty folder, so nothing anyone put there is lost.
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(parent, entry))


class Staging:
    """A staging folder beside ``output``: made (with the marker) on entering, swapped in
    by ``publish()``, and removed on leaving if it was not published."""

    def __init__(self, output: str):
        self.output = os.path.abspath(output)
        self.path = _sibling(self.output, "staging")
        self.published = False

    def __enter__(self) -> Staging:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        os.mkdir(self.path)
        with open(os.path.join(self.path, MARKER), "w", encoding="utf-8") as f:
            f.write(MARKER_TEXT)
        return self

    def __exit__(self, *exc) -> None:
        if not self.published:
            shutil.rmtree(self.path, ignore_errors=True)

    def publish(self) -> None:
        """Put the staged site in place of ``output``; the site it replaces is deleted. The
        target was checked (``check_output``) before the build began: it is new, empty or
        an earlier build's site."""
        if not os.path.lexists(self.output):
            os.rename(self.path, self.output)
            self.published = True
            return
        replaced = _sibling(self.output, "replaced")
        if _exchange(self.path, self.output):
            os.rename(self.path, replaced)  # after the swap, "staging" holds the old site
        else:
            # Without an atomic exchange: two renames. The old site is only moved aside,
            # never half-overwritten; the target is missing for one rename's length.
            os.rename(self.output, replaced)
            os.rename(self.path, self.output)
        self.published = True
        if _has_marker(replaced):
            shutil.rmtree(replaced, ignore_errors=True)
        elif not os.listdir(replaced):  # the empty folder the user made for the site
            os.rmdir(replaced)
        # Otherwise someone filled the folder while this build ran: it is not ours to
        # delete, so it stays beside the site under the name it was moved to.


_RENAME_EXCHANGE = 2


def _exchange(a: str, b: str) -> bool:
    """Atomically swap two paths with Linux's renameat2(RENAME_EXCHANGE); False where it is
    not available (other systems, old kernels, some file systems): the caller falls back."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EPERM, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), a)


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


def update_files(folder: str, files: dict[str, str]) -> list[str]:
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
