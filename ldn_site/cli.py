"""The ``ldn-site`` command line: the only code that prints or chooses an exit code.

Owns argument parsing (click), turning results into text, GitHub annotations or JSON, and exit
codes: 0 when clean, 1 when the content has errors, 2 for usage errors. All work is delegated
to the pipeline; an unexpected exception is a bug and is allowed to show its traceback.
"""

from __future__ import annotations

import json
import os
import sys

import click

from ldn_site import __version__, pipeline
from ldn_site.diagnostics import has_errors, sort_diagnostics, summarize

FORMATS = ("text", "github", "json")


def _emit(diagnostics, fmt: str, root: str = ".") -> None:
    diags = sort_diagnostics(diagnostics)
    if fmt == "json":
        click.echo(json.dumps({"diagnostics": [d.as_dict() for d in diags],
                               "summary": summarize(diags),
                               "ok": not has_errors(diags)}, indent=2))
        return
    for d in diags:
        if fmt == "github":
            # Workflow commands: property values escape %, \r, \n, ":" and ",".
            def prop(s: str) -> str:
                return (s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
                        .replace(":", "%3A").replace(",", "%2C"))
            msg = f"{d.message} [{d.code}]".replace("%", "%25").replace("\n", "%0A")
            click.echo(f"::{d.severity} file={prop(d.path)},line={max(d.line, 1)},"
                       f"title={prop(d.code)}::{msg}")
        else:
            click.echo(d.format())
    click.echo(summarize(diags), err=fmt == "github")


@click.group()
@click.version_option(__version__, prog_name="ldn-site")
def main() -> None:
    """Build and check the ldn-site evidence review."""


@main.command()
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Repository root holding site.yaml, claims/ and sources/.")
@click.option("--texts", "texts", type=click.Path(exists=True, file_okay=False),
              help="Folder of full texts: verify every excerpt of a source whose text is "
                   "there appears in it verbatim.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True, help="Output format for the diagnostics.")
def check(root: str, texts: str | None, fmt: str) -> None:
    """Validate all content; list every problem, sorted, then a count."""
    result = pipeline.check_site(root, texts_dir=texts)
    _emit(result.diagnostics, fmt, root)
    sys.exit(1 if has_errors(result.diagnostics) else 0)


@main.command()
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False))
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Where to write the site (default: output_dir from site.yaml).")
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              help="Worker processes for rendering (default: one per core on large sites).")
@click.option("--no-cache", is_flag=True, help="Render all Markdown afresh.")
def build(root: str, output: str | None, jobs: int | None, no_cache: bool) -> None:
    """Validate, then build the static site. Nothing is written if anything is wrong."""
    result = pipeline.build_site(root, output=output, jobs=jobs, use_cache=not no_cache)
    if result.diagnostics:
        _emit(result.diagnostics, "text", root)
    if not result.written:
        click.echo("build failed: nothing was written; the previous site is unchanged", err=True)
        sys.exit(1)
    click.echo(f"built {result.pages} pages ({result.files} files) into "
               f"{os.path.relpath(result.output)} in {result.seconds:.2f}s")


if __name__ == "__main__":  # pragma: no cover
    main()
