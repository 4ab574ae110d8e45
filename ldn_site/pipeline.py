"""Pipeline: load → validate → view → render → publish, the stage chain.

Owns the order of the stages and the writing of the site: pages are rendered into a staging
folder (``publishing``), with the data files, the static files and the search index, and the
folder is published only when all of it succeeded. A large site is loaded in a child and its
pages rendered on every core, where that is safe (``workers``). A build whose inputs and code
are exactly those of the site it finds published skips straight to the end (``caching`` keeps
the record). It never prints and never picks exit codes: it returns results with their
diagnostics, and reports progress through the callback it is given.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import time
from collections.abc import Callable, Iterable

from ldn_site import caching, loading, publishing, searchindex, workers
from ldn_site.citations import Citations
from ldn_site.diagnostics import Diagnostic, error, has_errors
from ldn_site.markup import MarkdownRenderer
from ldn_site.model import Content, drop_lines
from ldn_site.rendering import (collate_failures, compile_templates, is_template_failure,
                                make_environment, minify_css, render_page)
from ldn_site.validation import Validated, validate_content
from ldn_site.views import Page, SiteViews

SEARCH_DIR = "pagefind"
STATIC_PREFIX = "static/"
RUNS_PER_WORKER = 8   # contiguous runs of pages per worker: even load, little copying
Progress = Callable[[str, int, int], None]


@dataclasses.dataclass
class CheckResult:
    content: Content
    validated: Validated
    diagnostics: list[Diagnostic]


@dataclasses.dataclass
class BuildResult:
    diagnostics: list[Diagnostic]
    output: str
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    written: bool = False
    unchanged: bool = False  # the published site was already this build's: nothing was done
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per stage


class _Stages:
    """Passes progress on, and times each stage from its first report to the next's."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.stage: str | None = None
        self.since = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.lap()
            self.stage = stage
        self.progress(stage, done, total)

    def lap(self) -> None:
        now = time.perf_counter()
        if self.stage is not None:
            self.timings[self.stage] = now - self.since
        self.since = now


# --- check ----------------------------------------------------------------------------------

def check_site(root: str, texts_dir: str | None = None, today: datetime.date | None = None,
               with_output: bool = True, allow_outside: bool = False) -> CheckResult:
    """Everything ``build`` would refuse, without writing anything: the content, the output
    folder (with ``with_output``), and the templates, compiled and rendered in memory for
    every page (a template may fail only on the pages that take one of its branches)."""
    today = today or loading.read_today()
    content, diags = loading.load_content(root)
    fulltexts = loading.load_fulltexts(texts_dir) if texts_dir else None
    validated = validate_content(content, today=today, fulltexts=fulltexts)
    diags += validated.diagnostics
    if with_output and content.config is not None:
        unsafe = _check_output(root, content, None, allow_outside)
        if unsafe is not None:
            diags.append(unsafe)
    if not has_errors(diags):
        diags += _try_templates(content, validated, today)
    return CheckResult(content, validated, diags)


def _try_templates(content: Content, validated: Validated,
                   today: datetime.date) -> list[Diagnostic]:
    views = _make_views(content, validated, today, None)
    env = make_environment(_page_templates(content))
    diags = compile_templates(env, _page_templates(content))
    if diags:
        return diags
    failures = []
    for page in views.pages():
        failures += _render_one(env, views, page)[1]
    return collate_failures(env, failures)


# --- build ----------------------------------------------------------------------------------

def build_site(root: str, output: str | None = None, *, use_cache: bool = True,
               search: bool = True, jobs: int | None = None, allow_outside: bool = False,
               progress: Progress | None = None) -> BuildResult:
    """Validate and build the site at ``root`` into ``output`` (default: the config's
    output_dir). Nothing is written unless the whole build succeeds, and then the new site
    replaces the old one in one atomic step, search index included."""
    started = time.perf_counter()
    stages = _Stages(progress or (lambda stage, done, total: None))
    today = loading.read_today()
    template_diags: list[Diagnostic] = []
    templates = loading.load_templates(root, template_diags)
    store = caching.Store(root, caching.code_stamp(templates)) if use_cache else None
    config = loading.load_config(root, [])
    out = output or os.path.join(root, config.output_dir if config else "_site")
    site_key = _site_key(root, out, today, search) if store is not None else ""
    publishing.remove_leftovers(out)  # what killed builds left beside it
    result = BuildResult([], out)
    # The shortcut for an unchanged site is taken only where the site may go now.
    safe = config is not None and (publishing.check_output(root, out, None) is None
                                   if output else publishing.check_output(
                                       root, out, (config.path, config.output_line),
                                       allow_outside) is None)
    try:
        recorded = store.get("site", site_key) if store is not None and safe else None
        if recorded is not None and _still_published(out, recorded):
            return BuildResult([Diagnostic.from_dict(d) for d in recorded["diagnostics"]], out,
                               recorded["pages"], len(recorded["files"]),
                               time.perf_counter() - started, written=True, unchanged=True)
        result = _build(root, out, output is not None, (templates, template_diags), today,
                        store, search, jobs, allow_outside, stages)
        if result.written and store is not None:
            store.put("site", site_key, _site_record(out, result))
    finally:
        if store is not None:
            store.close(save=result.written)
    stages.lap()
    result.timings = stages.timings
    result.seconds = time.perf_counter() - started
    return result


def _build(root: str, out: str, explicit: bool,
           templates: tuple[dict[str, str], list[Diagnostic]], today: datetime.date,
           store: caching.Store | None, search: bool, jobs: int | None,
           allow_outside: bool, progress: Progress) -> BuildResult:
    progress("load", 0, 1)
    processes = workers.count(jobs, _count_files(root))
    # A large site is loaded and validated in a child, which hands back only the result: the
    # parsers' garbage and the line marks stay with it, and the parent, whose memory the
    # render workers share, holds the content compactly (10,000 claims: 600 -> 490 MB).
    loaded = workers.in_child(_load_checked, root, today) if processes > 1 else None
    content, validated, diags = loaded or _load_checked(root, today)
    content.templates = templates[0]
    diags += templates[1]
    if content.config is not None:
        unsafe = _check_output(root, content, out if explicit else None, allow_outside)
        diags += [unsafe] if unsafe is not None else []
    result = BuildResult(diags, out)
    if has_errors(diags):
        return result
    views = _make_views(content, validated, today, store)
    env = make_environment(_page_templates(content))
    diags += compile_templates(env, _page_templates(content))
    if has_errors(diags):
        return result
    pages = views.pages()
    with publishing.Staging(out) as stage:
        # The data files first: they read every claim, and reading an object writes its
        # reference count, so in the parent during rendering they would copy every memory
        # page it shares with the forked workers.
        progress("data", 0, 1)
        write_files(stage.path, views.data_files())
        diags += render_pages(pages, views, env, stage.path, jobs, progress,
                              store.flush if store is not None else lambda: None)
        if has_errors(diags):
            return result
        progress("files", 0, 1)
        _write_static(content, stage.path)
        if search:
            progress("search", 0, 1)
            problem = searchindex.build_index(stage.path, SEARCH_DIR)
            if problem:
                diags.append(error(loading.TEMPLATES_DIR, 0, "search-index", problem))
                return result
        progress("publish", 0, 1)
        stage.publish()
    result.pages, result.written = len(pages), True
    result.files = sum(len(names) for _, _, names in os.walk(out))
    return result


def _load_checked(root: str, today: datetime.date):
    """The content, validated, with its values as plain strings: the pages need no line
    marks, and Jinja escapes a plain string several times faster than a subclass of one."""
    content, diags = loading.load_content(root, with_templates=False)
    validated = validate_content(content, today=today)
    drop_lines(content)
    drop_lines(validated.grades)
    return content, validated, diags + validated.diagnostics


def _check_output(root: str, content: Content, explicit: str | None,
                  allow_outside: bool) -> Diagnostic | None:
    config = content.config
    if explicit is not None:
        return publishing.check_output(root, explicit, None)
    return publishing.check_output(root, os.path.join(root, config.output_dir),
                                   (config.path, config.output_line), allow_outside)


def _make_views(content: Content, validated: Validated, today: datetime.date,
                store: caching.Store | None) -> SiteViews:
    kinds = {key: source.kind for key, source in content.sources.items()}
    citations = Citations(content.bib, kinds, caching.Namespace(store, "citation"))
    for digest, text in sorted(citations.added.items()):
        if store is not None:
            store.put("citation", digest, text)
    return SiteViews(content, validated.grades, MarkdownRenderer(store),
                     today.isoformat(), citations)


def _count_files(root: str) -> int:
    return sum(len(os.listdir(os.path.join(root, folder)))
               for folder in (loading.CLAIMS_DIR, loading.SOURCES_DIR)
               if os.path.isdir(os.path.join(root, folder)))


def _page_templates(content: Content) -> dict[str, str]:
    return {name: text for name, text in content.templates.items()
            if not name.startswith(STATIC_PREFIX)}


# --- the record of a published site ---------------------------------------------------------

def _site_key(root: str, out: str, today: datetime.date, search: bool) -> str:
    """Everything a published site depends on besides the code stamp, which the store adds:
    every input file, the date, the options and where it went."""
    return "\0".join((loading.input_digest(root), today.isoformat(), str(search),
                      os.path.abspath(out)))


def _list_files(folder: str) -> dict[str, list[int]]:
    """Every file below ``folder`` with its size and modification time (ns)."""
    files = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            files[os.path.relpath(path, folder).replace(os.sep, "/")] = [st.st_size,
                                                                         st.st_mtime_ns]
    return files


def _site_record(out: str, result: BuildResult) -> dict:
    return {"files": _list_files(out), "pages": result.pages,
            "diagnostics": [d.as_dict() for d in result.diagnostics]}


def _still_published(out: str, recorded: dict) -> bool:
    """Whether ``out`` still holds exactly the files the recorded build wrote, untouched
    (same names, sizes and modification times): then it is that build's site."""
    try:
        return os.path.isdir(out) and _list_files(out) == recorded["files"]
    except OSError:
        return False


# --- rendering --------------------------------------------------------------------------------

_JOB: dict = {}  # what the render workers share with the parent (set before they are forked)


def render_pages(pages: list[Page], views: SiteViews, env, folder: str, jobs: int | None,
                 progress: Progress, flush: Callable[[], None]) -> list[Diagnostic]:
    """Render every page into ``folder``; returns the failures, collated. ``flush`` saves
    what was newly cached, after each run of pages, in whichever process rendered it."""
    flush()  # before forking, or every worker would save the parent's new entries again
    progress("render", 0, len(pages))
    _JOB.update(pages=pages, views=views, env=env, folder=folder, flush=flush)
    processes = workers.count(jobs, len(pages))
    size = max(1, -(-len(pages) // (processes * RUNS_PER_WORKER)))
    runs = [range(i, min(i + size, len(pages))) for i in range(0, len(pages), size)]
    failures: list = []
    done = 0
    try:
        with workers.pool(processes) as pool:
            for count, run_failures in (pool.imap_unordered(_render_run, runs) if pool
                                        else map(_render_run, runs)):
                done += count
                failures += run_failures
                progress("render", done, len(pages))
    finally:
        _JOB.clear()
    return collate_failures(env, failures)


def _render_run(indices: range) -> tuple[int, list]:
    failures = []
    made: set[str] = set()
    for i in indices:
        page = _JOB["pages"][i]
        html, page_failures = _render_one(_JOB["env"], _JOB["views"], page)
        failures += page_failures
        if html is None:
            continue
        target = os.path.join(_JOB["folder"], page.path)
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(target, "w", encoding="utf-8") as f:
            f.write(html)
    _JOB["flush"]()
    return len(indices), failures


def _render_one(env, views: SiteViews, page: Page) -> tuple[str | None, list]:
    """A page's HTML, or None with the failure as (page, template, exception)."""
    try:
        return render_page(env, page.template, views.context(page)), []
    except Exception as exc:  # noqa: BLE001 - whatever a template's code raises
        if not is_template_failure(exc):
            raise  # no template was running: a bug of ldn-site's own
        return None, [(page.path, page.template, exc)]


# --- files ------------------------------------------------------------------------------------

def write_files(folder: str, files: dict[str, str | bytes | Iterable[str]]) -> int:
    """Write generated files given as {path: text} into ``folder``, a text being one string,
    bytes (a static image) or pieces written as they are made (the open data of a large site
    is never whole in memory)."""
    for path, text in sorted(files.items()):
        target = os.path.join(folder, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # newline="" keeps the text's own line ends (the CSV's are CRLF by its standard).
        with (open(target, "wb") if isinstance(text, bytes) else
              open(target, "w", encoding="utf-8", newline="")) as f:
            f.writelines((text,) if isinstance(text, (str, bytes)) else text)
    return len(files)


def _write_static(content: Content, folder: str) -> int:
    static = {name[len(STATIC_PREFIX):]: minify_css(text) if name.endswith(".css") else text
              for name, text in content.templates.items() if name.startswith(STATIC_PREFIX)}
    static["references.bib"] = content.bib_text
    return write_files(folder, static)
