"""The command line follows the conventions of git, pip and MkDocs: ``-h`` as well as
``--help``, the repository found from any subfolder, colour on a terminal only, ``--quiet``
and ``--verbose``, ``check --strict``, and ``build`` saying where the site went and how to look
at it. The real command runs in a subprocess (on a real pseudo-terminal where a terminal is the
point) on copies of the sample sites."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import copy_site
from helpers_contrib import cli_env, copy_minimal, ldn_site
from ldn_site.cli import main as cli_main

ANSI = "\x1b["
CLAIM = "claims/drug-reduces-pain.yaml"


@pytest.fixture
def site(tmp_path):
    return copy_site("minimal", tmp_path / "site")


def _commands(group: click.Group = cli_main, prefix: tuple = ()):
    """Every command path, subcommands of ``new`` included: ("check",), ("new", "claim")."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))
        else:
            yield prefix + (name,)


# --- -h --------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [()] + [("new",)] + list(_commands()),
                         ids=lambda c: " ".join(c) or "ldn-site")
def test_dash_h_is_help_like_dash_dash_help(command):
    short = ldn_site(*command, "-h")
    assert short.returncode == 0, short.stderr
    assert short.stdout.startswith("Usage: ")
    assert short.stdout == ldn_site(*command, "--help").stdout
    assert "-h, --help" in short.stdout


# --- the repository root ---------------------------------------------------------------------

def test_the_root_is_found_from_a_subfolder_as_git_does(tmp_path):
    site = copy_site("invalid/missing-reason", tmp_path / "site")
    from_root = ldn_site("check", cwd=site)
    assert from_root.returncode == 1
    deeper = site / "claims" / "drafts"
    deeper.mkdir()
    for cwd in (site / "claims", deeper):
        result = ldn_site("check", cwd=cwd)
        assert (result.returncode, result.stdout) == (1, from_root.stdout), cwd
    # `new` writes into the repository's claims/, and says where from here.
    result = ldn_site("new", "claim", "drug-helps-sleep", cwd=deeper)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "created ../../claims/drug-helps-sleep.yaml"
    assert (site / "claims" / "drug-helps-sleep.yaml").is_file()


def test_root_option_wins_over_the_folder_found_upward(tmp_path):
    outer = copy_site("minimal", tmp_path / "outer")
    inner = copy_site("invalid/missing-reason", outer / "nested-copy")
    assert ldn_site("check", cwd=outer / "claims").returncode == 0
    assert ldn_site("check", cwd=inner / "claims").returncode == 1  # the nearest one
    assert ldn_site("check", "--root", outer, cwd=inner / "claims").returncode == 0


def test_without_a_site_yaml_upward_the_command_says_where_to_run(tmp_path):
    result = ldn_site("check", cwd=tmp_path)
    assert result.stdout.splitlines()[0] == (
        f"site.yaml: error: no site.yaml in {os.path.realpath(tmp_path)}: run ldn-site inside the repository (the "
        "folder holding site.yaml is found upward), or give that folder with --root "
        "[missing-config]")
    missing = tmp_path / "nowhere"
    assert ldn_site("check", "--root", missing, cwd=tmp_path).stdout.splitlines()[0] == (
        f"site.yaml: error: no site.yaml in {missing} (no such folder): run ldn-site inside "
        "the repository (the folder holding site.yaml is found upward), or give that folder "
        "with --root [missing-config]")
    result = ldn_site("new", "claim", "drug-helps-sleep", cwd=tmp_path)
    assert result.returncode == 2
    assert (f"no site.yaml in {tmp_path} or any folder above it: run ldn-site inside the "
            "repository (or pass --root)") in " ".join(result.stderr.split())


# --- colour ----------------------------------------------------------------------------------

def _on_terminal(args, cwd, **env) -> str:
    """Run the command with its output on a pseudo-terminal; return what it wrote."""
    pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX only")
    leader, follower = pty.openpty()
    environment = {k: v for k, v in cli_env().items() if k != "NO_COLOR"}
    environment.update(env)
    proc = subprocess.Popen([sys.executable, "-m", "ldn_site", *map(str, args)], cwd=cwd,
                            env=environment, stdout=follower, stderr=follower,
                            stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end is closed, the command has ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    proc.wait(timeout=60)
    return b"".join(chunks).decode("utf-8")


def test_colour_on_a_terminal_none_when_piped_or_with_no_color(tmp_path):
    site = copy_site("invalid/warnings-only", tmp_path / "site")
    coloured = _on_terminal(["check"], site)
    assert ANSI in coloured
    assert click.style("warning", fg="yellow", bold=True) in coloured
    assert click.unstyle(coloured).replace("\r\n", "\n") == ldn_site("check", cwd=site).stdout
    # Piped (the subprocess's output is a pipe): plain text.
    piped = ldn_site("check", cwd=site, env={k: v for k, v in cli_env().items()
                                             if k != "NO_COLOR"})
    assert ANSI not in piped.stdout and "warning" in piped.stdout
    # NO_COLOR, on a terminal.
    assert ANSI not in _on_terminal(["check"], site, NO_COLOR="1")


# --- --quiet and --verbose ---------------------------------------------------------------

def test_quiet_prints_only_the_problems(tmp_path):
    site = copy_site("invalid/warnings-only", tmp_path / "site")
    normal = ldn_site("check", cwd=site).stdout.splitlines()
    quiet = ldn_site("check", "--quiet", cwd=site)
    assert quiet.returncode == 0
    assert quiet.stdout.splitlines() == normal[:-1]  # the problems, not the summary
    assert ldn_site("check", "-q", cwd=copy_site("minimal", tmp_path / "clean")).stdout == ""


def test_verbose_says_which_root_and_what_was_checked(site):
    result = ldn_site("check", "--verbose", cwd=site / "claims")
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["0 errors, 0 warnings"]  # stdout stays the same
    assert result.stderr.splitlines() == [
        f"repository root: {site}",
        "checked 1 claims and 2 sources (1 of them popular articles)"]


def test_quiet_and_verbose_together_are_a_usage_error(site):
    result = ldn_site("check", "-q", "-v", cwd=site)
    assert result.returncode == 2
    assert "--quiet and --verbose cannot be used together" in result.stderr


def test_build_says_where_the_site_went_and_how_to_look_at_it(site):
    result = ldn_site("build", "-o", "out", "--no-search", cwd=site)
    assert result.returncode == 0, result.stderr
    built, how = result.stdout.splitlines()
    assert built.startswith("built ") and " into out in " in built
    assert how == ("To look at it: `ldn-site serve` for a live preview, or open out/index.html "
                   "in a browser (search needs the site served over HTTP).")
    assert (site / "out" / "index.html").is_file()

    quiet = ldn_site("build", "-o", "out", "--no-search", "-q", cwd=site)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    verbose = ldn_site("build", "-o", "out", "--no-search", "--no-cache", "-v", cwd=site)
    assert verbose.stdout == result.stdout.replace(built, verbose.stdout.splitlines()[0])
    assert "  render: " in verbose.stderr


# --- check --strict --------------------------------------------------------------------------

def test_strict_turns_warnings_into_errors(tmp_path):
    site = copy_site("invalid/warnings-only", tmp_path / "site")
    lenient = ldn_site("check", cwd=site)
    assert lenient.returncode == 0
    assert lenient.stdout.splitlines()[-1] == "0 errors, 2 warnings"
    strict = ldn_site("check", "--strict", cwd=site)
    assert strict.returncode == 1
    lines = strict.stdout.splitlines()
    assert lines[-1] == "2 errors, 0 warnings"
    assert lines[0] == (
        f"{CLAIM}:24:3: error: last reviewed 2024-06-01, 610 days ago (the limit is 365 days) "
        "(a warning; --strict makes it an error) [review-due]")
    clean = copy_site("minimal", tmp_path / "clean")
    assert ldn_site("check", "--strict", cwd=clean).returncode == 0


def test_the_closing_hint_names_a_command_the_shell_can_run(tmp_path):
    """`make site` runs .venv/bin/ldn-site, whose folder is not on PATH: the hint then gives
    that path; run from PATH (or as python -m ldn_site), it gives the bare name."""
    script = Path(sys.executable).parent / "ldn-site"
    if not script.is_file():
        pytest.skip("ldn-site is not installed as a script beside this interpreter")
    site = copy_minimal(tmp_path / "site")
    bare = dict(cli_env(), PATH=os.defpath)

    def hint(cmd, env):
        out = subprocess.run(cmd, cwd=site, env=env, capture_output=True, text=True,
                             check=True).stdout.splitlines()
        return out[-1].split("`")[1]

    relative = os.path.relpath(script, site)
    expected = str(script) if relative.startswith("..") else relative
    assert hint([str(script), "build", "--no-search"], bare) == f"{expected} serve"
    on_path = dict(bare, PATH=f"{script.parent}{os.pathsep}{os.defpath}")
    assert hint(["ldn-site", "build", "--no-search"], on_path) == "ldn-site serve"
    assert hint([sys.executable, "-m", "ldn_site", "build", "--no-search"], bare) == \
        "ldn-site serve"


def test_verbose_new_says_which_repository_it_writes_into(tmp_path):
    site = copy_minimal(tmp_path / "site")
    (site / "claims" / "sub").mkdir()
    result = ldn_site("new", "claim", "-v", "drug-helps-sleep", cwd=site / "claims" / "sub")
    assert result.returncode == 0, result.stderr
    assert f"repository root: {os.path.realpath(site)}" in result.stderr.splitlines()
