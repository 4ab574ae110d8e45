"""The ``ldn-site`` command line: the only code that prints or chooses an exit code.

Owns argument parsing (click), turning results into text, GitHub annotations, Markdown or
JSON, and exit codes: 0 when clean, 1 when the content has errors (or ``new`` refuses to
overwrite, or ``schema --check`` finds a stale file), 2 for usage errors. All work is delegated
to the other modules; an unexpected exception is a bug and is allowed to show its traceback.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import os
import re
import shutil
import signal
import sys
import time

import click

from ldn_site import __version__, loading, pipeline, publishing, scaffolding
from ldn_site.coverage import compute_coverage, coverage_data, format_coverage
from ldn_site.diagnostics import ERROR, WARNING, has_errors, sort_diagnostics, summarize
from ldn_site.model import BIBKEY_PATTERN, ID_PATTERN
from ldn_site.validation import validate_content

FORMATS = ("text", "github", "json")
QUIET, NORMAL, VERBOSE = -1, 0, 1
_VERBOSITY = "ldn_site.verbosity"  # where --quiet / --verbose are kept in click's context


def _root_option(ctx, param, value: str | None) -> str:
    """--root when given; else the nearest folder upward holding site.yaml, as git finds its
    repository from any subfolder; else the current folder (whose missing site.yaml is then
    reported as usual)."""
    if value is not None:
        return value
    return loading.find_root(".") or "."


ROOT_OPTION = click.option("--root", type=click.Path(file_okay=False), callback=_root_option,
                           help="Repository root holding site.yaml, claims/ and sources/ "
                                "(default: the nearest folder upward that holds site.yaml).")


def _verbosity_option(ctx, param, value: bool) -> None:
    if not value:
        return
    level = QUIET if param.name == "quiet" else VERBOSE
    if ctx.meta.get(_VERBOSITY, level) != level:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    ctx.meta[_VERBOSITY] = level


def output_options(command):
    """-q/--quiet and -v/--verbose, as pip, git and MkDocs have them."""
    command = click.option("--verbose", "-v", "verbose", is_flag=True, expose_value=False,
                           callback=_verbosity_option,
                           help="Say more: the repository root used, and details such as "
                                "timings.")(command)
    return click.option("--quiet", "-q", "quiet", is_flag=True, expose_value=False,
                        callback=_verbosity_option,
                        help="Print only problems (errors and warnings), no summaries or "
                             "hints.")(command)


def _verbosity() -> int:
    return click.get_current_context().meta.get(_VERBOSITY, NORMAL)


def _say(text: str, err: bool = False) -> None:
    """Informational output: counts, summaries, hints. --quiet leaves it out."""
    if _verbosity() > QUIET:
        click.echo(text, err=err)


def _detail(text: str) -> None:
    """Output only --verbose asks for; on stderr, so that --format json stays parsable."""
    if _verbosity() >= VERBOSE:
        click.echo(text, err=True)


# --- colour ----------------------------------------------------------------------------------
# click.echo drops the styles when the output is not a terminal (piped, redirected); NO_COLOR
# (https://no-color.org) turns them off on a terminal too, set on the context in ``main``.

_SEVERITY_STYLE = {ERROR: {"fg": "red", "bold": True}, WARNING: {"fg": "yellow", "bold": True}}


def _styled(d) -> str:
    """A diagnostic's text form with its location bold and its severity coloured."""
    plain = d.format()
    rest = plain[len(d.location) + 2 + len(d.severity):]
    return (click.style(d.location, bold=True) + ": "
            + click.style(d.severity, **_SEVERITY_STYLE.get(d.severity, {})) + rest)


def _styled_summary(diagnostics) -> str:
    text = summarize(diagnostics)
    if has_errors(diagnostics):
        return click.style(text, fg="red", bold=True)
    return click.style(text, fg="yellow" if diagnostics else "green")


# --- diagnostics -----------------------------------------------------------------------------

def _github_property(text: str) -> str:
    # Workflow-command property values escape %, CR, LF, ":" and ",".
    return (text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            .replace(":", "%3A").replace(",", "%2C"))


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def format_github(d, root: str = ".") -> str:
    """One GitHub Actions annotation. Paths are made relative to the working directory (the
    checkout's root in a workflow), so annotations land on the pull request's lines even when
    --root points into a subfolder. Line 0 means the whole file: no line is given then, and
    no column unless there is one."""
    path = os.path.normpath(os.path.join(root, d.path)) if root not in ("", ".") else d.path
    props = [f"file={_github_property(path)}"]
    if d.line > 0:
        props.append(f"line={d.line}")
        if d.col > 0:
            props.append(f"col={d.col}")
    props.append(f"title={_github_property(f'ldn-site {d.code}')}")
    return f"::{d.severity} {','.join(props)}::{_github_data(d.message)}"


def _emit(diagnostics, fmt: str, root: str = ".", quotes: tuple | None = None) -> None:
    """Print the diagnostics, sorted, then the summary line; ``quotes`` is (QuoteCheck, the
    full-text folder) when ``check --texts`` ran."""
    diags = sort_diagnostics(diagnostics)
    if fmt == "json":
        data = {
            "diagnostics": [d.as_dict() for d in diags],
            "errors": sum(1 for d in diags if d.severity == ERROR),
            "warnings": sum(1 for d in diags if d.severity == WARNING),
            "summary": summarize(diags),
            "ok": not has_errors(diags)}
        if quotes:
            data["quotes"] = dataclasses.asdict(quotes[0])
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for d in diags:
        click.echo(format_github(d, root) if fmt == "github" else _styled(d))
    # In a workflow the annotations are the output; the counts go to the log only.
    if quotes:
        _say(_quote_count(*quotes), err=fmt == "github")
    _say(_styled_summary(diags), err=fmt == "github")


def _quote_count(quotes, folder: str) -> str:
    articles = f"{quotes.articles} article{'' if quotes.articles == 1 else 's'}"
    return (f"quotes: {quotes.verified} of {quotes.excerpts} verified against the full texts "
            f"of {articles} in {folder}")


def _today(value: str | None) -> datetime.date:
    """The date review ages are measured against: --today, else the one date check, build and
    serve all use (``loading.read_today``: SOURCE_DATE_EPOCH, else the current date)."""
    return datetime.date.fromisoformat(value) if value else loading.read_today()


def _date_option(ctx, param, value):
    if value is None:
        return None
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("must be a date, YYYY-MM-DD") from None
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ldn-site")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Build and check the ldn-site evidence review.

    Run anywhere in the repository (the folder with site.yaml is found upward, as git finds
    its repository). Contributors: `ldn-site new claim <id>` to start a claim, `ldn-site
    check` to validate, `ldn-site serve` to preview while editing."""
    if os.environ.get("NO_COLOR"):  # set and not empty, as https://no-color.org says
        ctx.color = False


@main.command()
@ROOT_OPTION
@click.option("--texts", "texts", type=click.Path(exists=True, file_okay=False),
              help="Folder of full texts: verify every excerpt of a source whose text is "
                   "there appears in it verbatim.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True,
              help="text for people, github for GitHub Actions annotations on the pull "
                   "request's lines, json for tools.")
@click.option("--today", callback=_date_option, metavar="YYYY-MM-DD",
              help="Measure review ages against this date (default: SOURCE_DATE_EPOCH, else "
                   "today). Reviews older than review_max_age_days in site.yaml are due.")
@click.option("--strict", is_flag=True,
              help="Treat warnings as errors (exit 1 on any), as mkdocs build --strict does.")
@click.option("--allow-outside", is_flag=True,
              help="Let output_dir in site.yaml point outside the repository (as for build).")
@output_options
def check(root: str, texts: str | None, fmt: str, today: str | None, strict: bool,
          allow_outside: bool) -> None:
    """Validate all content; list every problem, sorted, then a count."""
    _detail(f"repository root: {os.path.abspath(root)}")
    result = pipeline.check_site(root, texts_dir=texts, today=_today(today),
                                 allow_outside=allow_outside)
    diagnostics = _strictly(result.diagnostics) if strict else result.diagnostics
    quotes = (result.validated.quotes, texts) if texts else None
    _detail(_checked_counts(result.content))
    _emit(diagnostics, fmt, root, quotes)
    sys.exit(1 if has_errors(diagnostics) else 0)


def _strictly(diagnostics) -> list:
    """Every warning made an error (the message says it was one), for check --strict."""
    return [dataclasses.replace(d, severity=ERROR,
                                message=f"{d.message} (a warning; --strict makes it an error)")
            if d.severity == WARNING else d for d in diagnostics]


def _checked_counts(content) -> str:
    articles = sum(1 for s in content.sources.values() if s.kind == "popular-article")
    return (f"checked {len(content.claims)} claims and {len(content.sources)} sources "
            f"({articles} of them popular articles)")


@main.command()
@ROOT_OPTION
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Where to write the site (default: output_dir from site.yaml).")
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              help="Worker processes for rendering (default: one per core on large sites).")
@click.option("--no-cache", is_flag=True,
              help="Ignore the caches: render all Markdown, citations and pages afresh.")
@click.option("--search/--no-search", default=True, show_default=True,
              help="Build the offline search index (Pagefind).")
@click.option("--allow-outside", is_flag=True,
              help="Let output_dir in site.yaml point outside the repository.")
@output_options
def build(root: str, output: str | None, jobs: int | None, no_cache: bool,
          search: bool, allow_outside: bool) -> None:
    """Validate, then build the static site. Nothing is written if anything is wrong.

    The site replaces only a folder an earlier build wrote (it holds a .ldn-site-output
    marker), an empty folder or none: never the repository, its content or anyone's files."""
    _detail(f"repository root: {os.path.abspath(root)}")
    progress = _Progress(_verbosity() > QUIET)
    try:
        result = pipeline.build_site(root, output=output, jobs=jobs, use_cache=not no_cache,
                                     search=search, allow_outside=allow_outside,
                                     progress=progress)
    except KeyboardInterrupt:
        click.echo("\ninterrupted: nothing was written; the previous site is unchanged",
                   err=True)
        sys.exit(130)
    finally:
        progress.clear()
    if result.diagnostics:
        _emit(result.diagnostics, "text", root)
    if not result.written:
        click.echo(click.style("build failed", fg="red", bold=True) + ": nothing was written; "
                   "the previous site is unchanged", err=True)
        sys.exit(1)
    _report_build(result)


def _report_build(result) -> None:
    """Where the site went and how to look at it, as MkDocs and Hugo say after a build."""
    where = os.path.relpath(result.output)
    if result.unchanged:
        _say(f"{where} is up to date: nothing changed since the last build "
             f"({result.pages} pages; {result.seconds:.2f}s)")
    else:
        _say(f"built {result.pages} pages ({result.files} files) into {where} in "
             f"{result.seconds:.2f}s")
    for stage, seconds in result.timings.items():
        _detail(f"  {stage}: {seconds:.2f}s")
    index = os.path.join(where, "index.html")
    _say(f"To look at it: `{_own_command()} serve` for a live preview, or open {index} in a "
         "browser (search needs the site served over HTTP).")


def _own_command() -> str:
    """How to run ldn-site again from here: its name when the shell finds it, else the path it
    was run by (`make site` runs .venv/bin/ldn-site, whose folder is not on PATH)."""
    invoked = sys.argv[0] if sys.argv else ""
    if os.path.splitext(os.path.basename(invoked))[0] != "ldn-site" or \
            not os.path.isfile(invoked):
        return "ldn-site"  # found on PATH, or run as python -m ldn_site
    found = shutil.which("ldn-site")
    if found and os.path.samefile(found, invoked):
        return "ldn-site"
    try:
        relative = os.path.relpath(invoked)
    except ValueError:  # on another drive (Windows)
        return os.path.abspath(invoked)
    return os.path.abspath(invoked) if relative.startswith("..") else relative


class _Progress:
    """A progress line for builds that take a while: on a terminal only, after a second,
    and never with --quiet. It is rubbed out before the build's own report."""

    def __init__(self, wanted: bool = True, delay: float = 1.0):
        self.started = time.monotonic()
        self.wanted = wanted and sys.stderr.isatty()
        self.delay = delay
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.wanted and time.monotonic() - self.started >= self.delay:
            what = f"{stage}: {done}/{total} pages" if total > 1 else f"{stage}…"
            sys.stderr.write(f"\r\033[K{what}")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


# --- new -------------------------------------------------------------------------------------

def _require_root(root: str) -> None:
    if not os.path.isfile(os.path.join(root, loading.CONFIG_FILE)):
        raise click.UsageError(f"no {loading.CONFIG_FILE} in {os.path.abspath(root)} or any "
                               "folder above it: run ldn-site inside the repository (or pass "
                               "--root)")
    _detail(f"repository root: {os.path.abspath(root)}")


def _create(root: str, rel: str, text: str) -> None:
    # Named from where the command was run, which may be below the repository root.
    path = os.path.normpath(os.path.join(root, rel))
    if not publishing.create_file(path, text):
        click.echo(f"{path} already exists; nothing was written (ldn-site new never "
                   "overwrites a file)", err=True)
        sys.exit(1)
    click.echo(f"created {path}")


@main.group()
def new() -> None:
    """Start a new claim or source record from a commented skeleton."""


@new.command("claim")
@click.argument("claim_id")
@ROOT_OPTION
@click.option("--today", callback=_date_option, metavar="YYYY-MM-DD",
              help="Date to pre-fill as the review date (default: today).")
@output_options
def new_claim(claim_id: str, root: str, today: str | None) -> None:
    """Write claims/CLAIM_ID.yaml: a skeleton to fill in. Never overwrites anything."""
    if not re.match(ID_PATTERN, claim_id):
        raise click.BadParameter("a claim id is lowercase letters and digits in words joined "
                                 "by single hyphens, such as ldn-reduces-pain",
                                 param_hint="CLAIM_ID")
    _require_root(root)
    rel = f"{loading.CLAIMS_DIR}/{claim_id}.yaml"
    _create(root, rel, scaffolding.claim_skeleton(claim_id, today or _today(None).isoformat()))
    _say("Next: fill in every empty value \"\", then run `ldn-site check` (it lists each "
         "one left, by line) and `ldn-site serve` to preview the page.")


@new.command("source")
@click.argument("bibkey")
@ROOT_OPTION
@output_options
def new_source(bibkey: str, root: str) -> None:
    """Write sources/BIBKEY.yaml: a skeleton to fill in. Never overwrites anything."""
    if not re.match(BIBKEY_PATTERN, bibkey):
        raise click.BadParameter("a BibTeX key is lowercase letters, digits, hyphens and "
                                 "underscores, such as younger2013lowdose",
                                 param_hint="BIBKEY")
    _require_root(root)
    rel = f"{loading.SOURCES_DIR}/{bibkey}.yaml"
    _create(root, rel, scaffolding.source_skeleton(bibkey))
    if bibkey in loading.load_bib_keys(root):
        _say(f"{loading.BIB_FILE} already has the entry {bibkey}.")
    else:
        click.echo(f"Next: add its citation to {loading.BIB_FILE}. Fill in each {{}} with what "
                   "the source itself shows (PubMed, the journal, the registry) and delete the "
                   "line of any field it does not give:\n")
        click.echo(scaffolding.bibtex_stub(bibkey))
    _say("Then fill in every empty value \"\" and run `ldn-site check` (it lists each empty "
         "value left, by line).")


# --- serve -----------------------------------------------------------------------------------

def _report_rebuild(rebuild: serving.Rebuild, level: int = NORMAL,  # noqa: F821 (see serve)
                    color: bool | None = None) -> None:
    """One rebuild, in the terminal. Called from the watcher's thread, where click has no
    context: the verbosity and colour setting come from ``serve``."""
    def echo(text: str, err: bool = False) -> None:
        click.echo(text, err=err, color=color)

    stamp = datetime.datetime.now().strftime("%H:%M:%S")  # the terminal only, never the site
    what = f" ({', '.join(rebuild.changed)})" if rebuild.changed else ""
    if rebuild.ok:
        warnings = len(rebuild.diagnostics)
        note = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        if level >= VERBOSE:
            for d in sort_diagnostics(rebuild.diagnostics):
                echo(_styled(d))
        if level > QUIET:
            echo(f"[{stamp}] built {rebuild.pages} pages in {rebuild.seconds:.2f}s{what}{note}")
        return
    for d in sort_diagnostics(d for d in rebuild.diagnostics if d.severity == ERROR):
        echo(_styled(d))
    if rebuild.crash:
        echo(rebuild.crash, err=True)
    failed = click.style("build failed", fg="red", bold=True)
    if rebuild.has_site:
        echo(f"[{stamp}] {failed}{what}: {summarize(rebuild.diagnostics)}; still serving the "
             "last good site (the problems are shown on every page)")
    else:
        echo(f"[{stamp}] {failed}{what}: {summarize(rebuild.diagnostics)}; nothing to serve "
             "until it builds (every page lists the problems meanwhile)")


@main.command()
@ROOT_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Only this computer can reach 127.0.0.1; 0.0.0.0 "
                   "lets other devices on the network see the preview.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True,
              help="Open the preview in the web browser (the BROWSER environment variable "
                   "chooses which).")
@click.option("--search", is_flag=True,
              help="Also build the search index on every rebuild (slower; without it the "
                   "preview's search page finds nothing).")
@output_options
def serve(root: str, host: str, port: int, open_browser: bool, search: bool) -> None:
    """Preview the site while you edit: build into a temporary folder, serve it on
    127.0.0.1, rebuild when a claim, source, template or site.yaml changes, and reload the
    page in the browser. A broken edit is shown here and on the page; the last good site
    keeps being served. Stop with Ctrl-C."""
    _require_root(root)
    # Imported here, as diffing is in ``diff``: an HTTP server and a file watcher are a
    # fifth of the start-up time of every other command.
    from ldn_site import serving
    report = functools.partial(_report_rebuild, level=_verbosity(),
                               color=click.get_current_context().color)
    server = serving.PreviewServer(root, port=port, report=report, search=search, host=host,
                                   warn=lambda line: click.echo(line, err=True))

    def stop(signum, frame):  # SIGTERM cleans up like Ctrl-C: the temporary site is removed
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.start()
    except OSError as exc:
        click.echo(f"cannot serve on {host}:{port}: {exc.strerror or exc}; choose another "
                   "port with --port (or another address with --host)", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    try:
        click.echo(f"serving {server.url} (watching {os.path.abspath(root)}; Ctrl-C to stop)")
        if open_browser:
            _open_browser(server.url)
        server.wait()
    except KeyboardInterrupt:
        _say("stopped")
    finally:
        server.close()


def _open_browser(url: str) -> None:
    """serve --open: the browser Python's webbrowser module finds (BROWSER chooses it)."""
    import webbrowser
    if not webbrowser.open(url):
        click.echo(f"could not start a web browser; open {url} yourself", err=True)


# --- schema ----------------------------------------------------------------------------------

@main.command()
@ROOT_OPTION
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 if a committed schema differs from the model.")
@output_options
def schema(root: str, check_only: bool) -> None:
    """Export the JSON Schemas of claims, sources and site.yaml into schema/.

    They are generated from the same model the validator uses. Content files point at them in
    their first line (# yaml-language-server: $schema=...), so editors complete and underline
    fields."""
    folder = os.path.join(root, scaffolding.SCHEMA_DIR)
    texts = scaffolding.schema_texts()
    if check_only:
        stale = []
        committed = loading.read_texts(folder, texts)
        for name, text in sorted(texts.items()):
            current = committed[name]
            if current != text:
                stale.append(name)
                click.echo(f"{scaffolding.SCHEMA_DIR}/{name}: "
                           f"{'missing' if current is None else 'stale'}; run `ldn-site schema`")
        if stale:
            sys.exit(1)
        _say(f"{len(texts)} schemas are up to date")
        return
    changed = publishing.update_files(folder, texts)
    for name in changed:
        _say(f"wrote {scaffolding.SCHEMA_DIR}/{name}")
    if not changed:
        _say(f"{len(texts)} schemas are up to date")


# --- diff ------------------------------------------------------------------------------------

@main.command()
@click.argument("ref")
@ROOT_OPTION
@click.option("--format", "fmt", type=click.Choice(("text", "markdown", "json")),
              default="text", show_default=True,
              help="markdown makes a pull-request comment.")
@click.option("--all", "include_other", is_flag=True,
              help="Also list claims whose only changes are in other fields (topic, seen_in, "
                   "review date...).")
def diff(ref: str, root: str, fmt: str, include_other: bool) -> None:
    """List the claims whose verdict, certainty, grading, evidence or wording changed since
    the git revision REF (a branch, tag or commit), for reviewers and pull-request comments.
    The working tree is compared, uncommitted edits included."""
    from ldn_site import diffing
    old, old_diags = loading.load_content_at_ref(root, ref)
    if old is None:
        for d in old_diags:
            click.echo(f"{d.path}: error: {d.message} [{d.code}]", err=True)
        sys.exit(2)
    new = pipeline.check_site(root)
    old_grades = validate_content(old).grades
    diffs = diffing.diff_claims(old, old_grades, new.content, new.validated.grades,
                                include_other=include_other)
    total = len(new.content.claims)
    if fmt == "json":
        click.echo(json.dumps({"ref": ref, "claims": total,
                               "changed": [d.as_dict() for d in diffs]},
                              indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(diffing.format_markdown(diffs, ref, total), nl=False)
    else:
        click.echo(diffing.format_text(diffs, ref, total))
    _note_content_errors(new.diagnostics)


def _note_content_errors(diagnostics) -> None:
    """A report on content that did not all load says so: a claim with an error is left out."""
    if has_errors(diagnostics):
        click.echo(f"note: the working tree has content errors ({summarize(diagnostics)}); "
                   "what cannot be read is left out of this report; run `ldn-site check`",
                   err=True)


# --- coverage --------------------------------------------------------------------------------

@main.command()
@ROOT_OPTION
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="text for people, json for tools such as dashboards.")
def coverage(root: str, fmt: str) -> None:
    """How completely the popular articles are reviewed, per article and per topic."""
    result = pipeline.check_site(root)
    rows = compute_coverage(result.content, result.validated.grades)
    if fmt == "json":
        click.echo(json.dumps(coverage_data(*rows), indent=2, ensure_ascii=False))
    else:
        click.echo(format_coverage(*rows))
    _note_content_errors(result.diagnostics)


if __name__ == "__main__":  # pragma: no cover
    main()
