"""Pipeline: load → validate → view → render → write; the only code that writes output.

Owns the order of the stages, parallel rendering on every core, the Markdown cache kept between
builds, and the atomic publication of the site: pages are written into a staging folder beside
the target and swapped in with one atomic rename, so a failed or killed build leaves the
previous site exactly as it was and nobody ever sees a half-written one. It never prints and
never picks exit codes; it returns results with their diagnostics.
"""

from __future__ import annotations

import ctypes
import datetime
import errno
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass, field

import jinja2

from ldn_site import loading
from ldn_site.diagnostics import Diagnostic, error, has_errors
from ldn_site.markup import MarkdownRenderer
from ldn_site.model import Content
from ldn_site.rendering import MissingDisclaimer, make_environment, render_page
from ldn_site.validation import Validated, validate_content
from ldn_site.views import Page, SiteViews

CACHE_DIR = ".ldn-site-cache"
CACHE_FILE = "markdown.json"
STATIC_PREFIX = "static/"
PARALLEL_THRESHOLD = 400  # below this many pages, starting worker processes costs more


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
               today: datetime.date | None = None) -> CheckResult:
    content, diags = loading.load_content(root)
    fulltexts = loading.load_fulltexts(texts_dir) if texts_dir else None
    if today is None:
        today = build_date(content)
    validated = validate_content(content, today=today, fulltexts=fulltexts)
    return CheckResult(content, validated, diags + validated.diagnostics)


# --- Markdown cache ------------------------------------------------------------------------

def _cache_stamp() -> str:
    """Changes whenever the Markdown dialect could render differently."""
    import markdown
    import nh3

    from ldn_site import markup
    with open(markup.__file__, "rb") as f:
        code = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"{markdown.__version__}/{getattr(nh3, '__version__', '')}/{code}"


def _load_cache(root: str) -> dict[str, str]:
    path = os.path.join(root, CACHE_DIR, CACHE_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("stamp") != _cache_stamp():
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _save_cache(root: str, entries: dict[str, str]) -> None:
    folder = os.path.join(root, CACHE_DIR)
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{CACHE_FILE}.{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"stamp": _cache_stamp(), "entries": entries}, f, sort_keys=True)
        os.replace(tmp, os.path.join(folder, CACHE_FILE))
    except OSError:
        pass  # the cache only saves time; a read-only checkout still builds


# --- rendering, possibly in parallel -------------------------------------------------------

_WORKER: dict = {}


def _render_pages(indices: list[int]) -> tuple[int, list[str], dict[str, str]]:
    views: SiteViews = _WORKER["views"]
    env: jinja2.Environment = _WORKER["env"]
    pages: list[Page] = _WORKER["pages"]
    staging: str = _WORKER["staging"]
    made_dirs = set()
    failures = []
    for i in indices:
        page = pages[i]
        try:
            html = render_page(env, page.template, views.context(page))
        except MissingDisclaimer:
            failures.append(page.path)
            continue
        target = os.path.join(staging, page.path)
        folder = os.path.dirname(target)
        if folder not in made_dirs:
            os.makedirs(folder, exist_ok=True)
            made_dirs.add(folder)
        with open(target, "w", encoding="utf-8") as f:
            f.write(html)
    return len(indices), failures, views.md.added


def _jobs(requested: int | None, pages: int) -> int:
    if requested:
        return max(1, requested)
    if pages < PARALLEL_THRESHOLD:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), 8))


# --- atomic publication --------------------------------------------------------------------

_RENAME_EXCHANGE = 2


def _exchange(a: str, b: str) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    res = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if res == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EPERM, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), a)


def _publish(staging: str, output: str) -> None:
    if not os.path.exists(output):
        os.rename(staging, output)
        return
    if _exchange(staging, output):
        shutil.rmtree(staging)  # after the swap, "staging" holds the old site
        return
    # Fallback without renameat2: two renames; the old site is only moved aside, never
    # half-overwritten, and the window in which the target is missing is one rename long.
    old = f"{staging}.old"
    os.rename(output, old)
    os.rename(staging, output)
    shutil.rmtree(old)


def _staging_dir(output: str) -> str:
    parent = os.path.dirname(os.path.abspath(output))
    name = os.path.basename(os.path.abspath(output))
    # Leftovers of builds that were killed are removed first; they were never published.
    for entry in os.listdir(parent) if os.path.isdir(parent) else []:
        if entry.startswith(f".{name}.staging-"):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
    return os.path.join(parent, f".{name}.staging-{os.getpid()}")


def build_site(root: str, output: str | None = None, jobs: int | None = None,
               use_cache: bool = True, keep_renderer: MarkdownRenderer | None = None
               ) -> BuildResult:
    """Validate and build the site at ``root`` into ``output`` (default: the config's
    output_dir). Nothing is written unless the whole build succeeds."""
    started = time.perf_counter()
    timings = {}
    checked = check_site(root)
    timings["load+validate"] = time.perf_counter() - started
    content = checked.content
    out = output or os.path.join(root, content.config.output_dir if content.config else "_site")
    result = BuildResult(checked.diagnostics, out)
    if has_errors(checked.diagnostics):
        result.seconds = time.perf_counter() - started
        return result

    cache = _load_cache(root) if use_cache else {}
    renderer = keep_renderer or MarkdownRenderer(cache)
    today = build_date(content).isoformat()
    views = SiteViews(content, checked.validated.grades, renderer, today)
    pages = views.pages()
    env = make_environment({k: t for k, t in content.templates.items()
                            if not k.startswith(STATIC_PREFIX)})
    staging = _staging_dir(out)
    os.makedirs(staging)
    try:
        _WORKER.update(views=views, env=env, pages=pages, staging=staging)
        n_jobs = _jobs(jobs, len(pages))
        t0 = time.perf_counter()
        if n_jobs == 1:
            outcomes = [_render_pages(list(range(len(pages))))]
        else:
            # fork shares the loaded content with the workers without pickling it.
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(n_jobs) as pool:
                outcomes = pool.map(_render_pages,
                                    [list(range(w, len(pages), n_jobs)) for w in range(n_jobs)])
        timings["render"] = time.perf_counter() - t0
        failures = sorted(p for _, fails, _ in outcomes for p in fails)
        for path in failures:
            result.diagnostics.append(error(
                "templates", 0, "missing-disclaimer",
                f"the page {path} would not carry the medical disclaimer; nothing was written"))
        if failures:
            shutil.rmtree(staging, ignore_errors=True)
            result.seconds = time.perf_counter() - started
            return result
        files = _write_static(content, staging)
        for _, _, added in outcomes:
            renderer.cache.update(added)
        _publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _WORKER.clear()
    if use_cache and any(added for _, _, added in outcomes):
        _save_cache(root, renderer.cache)
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
                f.write(text)
            count += 1
    with open(os.path.join(staging, "references.bib"), "w", encoding="utf-8") as f:
        f.write(content.bib_text)
    return count + 1
