"""The documents a newcomer follows do what they say: CONTRIBUTING's walkthrough, run step by
step on a copy of the repository's own content, gives the output the guide shows; the README
lists the prerequisites, and its command-line section names every option ``--help`` has (as
Datasette's documentation test does)."""

from __future__ import annotations

import datetime
import json
import re
import shutil

import click
import pytest
import yaml

from helpers_contrib import CLAIM_VALUES, REPO, cli_env, fill_placeholders, ldn_site
from ldn_site.cli import main as cli_main
from test_serve import Served

CONTRIBUTING = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def _copy_repository(dest):
    """The repository's content, templates and settings: what the walkthrough works on."""
    for folder in ("claims", "sources", "templates", "schema"):
        shutil.copytree(REPO / folder, dest / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "site.yaml", dest / "site.yaml")
    return dest


def _newest_review_epoch() -> str:
    """SOURCE_DATE_EPOCH on the day of the newest review: no review is in the future and the
    skeleton's date is that day, whatever the calendar says when the test runs."""
    dates = [yaml.safe_load(p.read_text(encoding="utf-8"))["reviewed"]["date"]
             for p in sorted((REPO / "claims").glob("*.yaml"))]
    newest = max(d if isinstance(d, datetime.date) else datetime.date.fromisoformat(d)
                 for d in dates)
    moment = datetime.datetime.combine(newest, datetime.time(), datetime.timezone.utc)
    return str(int(moment.timestamp()))


def _a_trial_with_an_excerpt() -> tuple[str, str]:
    """A randomized trial of the real review and the id of its first excerpt."""
    for path in sorted((REPO / "sources").glob("*.yaml")):
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
        if record.get("kind") == "randomized-trial" and record.get("excerpts"):
            return path.stem, record["excerpts"][0]["id"]
    raise AssertionError("the review cites no randomized trial")


def test_contributing_walkthrough_works_step_by_step(tmp_path):
    section = _section(CONTRIBUTING, "## How to propose a claim")
    [claim_id] = re.findall(r"`ldn-site new claim ([a-z0-9-]+)`", section)
    # Step 1 of the guide: the example claim must be new.
    assert not (REPO / "claims" / f"{claim_id}.yaml").exists(), \
        f"CONTRIBUTING's example claim {claim_id} already exists in claims/"
    [example] = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)
    example = [line.strip() for line in example.splitlines() if line.strip()]

    repo = _copy_repository(tmp_path / "repo")
    env = cli_env(SOURCE_DATE_EPOCH=_newest_review_epoch())
    assert ldn_site("check", cwd=repo, env=env).returncode == 0  # the review itself is clean

    # Step 2: the skeleton.
    created = ldn_site("new", "claim", claim_id, cwd=repo, env=env)
    assert created.returncode == 0, created.stderr
    path = repo / "claims" / f"{claim_id}.yaml"
    assert created.stdout.splitlines()[0] == f"created claims/{claim_id}.yaml"

    # Step 6, before filling in: each placeholder is reported as "must not be empty".
    check = ldn_site("check", cwd=repo, env=env)
    assert check.returncode == 1
    problems = [line for line in check.stdout.splitlines()[:-1]]
    assert problems and all(line.startswith(f"claims/{claim_id}.yaml:") and
                            "must not be empty" in line for line in problems)

    # Step 5 with the guide's mistake, then step 6: the very output the guide shows.
    source, excerpt = _a_trial_with_an_excerpt()
    values = dict(CLAIM_VALUES, verdict="proven", source=source,
                  excerpts=f"[{source}#{excerpt}]")
    path.write_text(fill_placeholders(path.read_text(encoding="utf-8"), values),
                    encoding="utf-8")
    check = ldn_site("check", cwd=repo, env=env)
    assert check.stdout.splitlines() == example
    assert check.returncode == 1

    # Fixed, the check passes...
    path.write_text(path.read_text(encoding="utf-8").replace("verdict: proven",
                                                             "verdict: supported"),
                    encoding="utf-8")
    check = ldn_site("check", cwd=repo, env=env)
    assert check.returncode == 0, check.stdout
    # ...and step 7, the preview, serves the new claim's page.
    served = Served(repo, tmp_path / "serve-tmp", env={"SOURCE_DATE_EPOCH":
                                                       env["SOURCE_DATE_EPOCH"]})
    try:
        status, page = served.get(f"claims/{claim_id}.html")
        assert status == 200
        assert CLAIM_VALUES["title"] in page
    finally:
        served.stop()


# --- README ----------------------------------------------------------------------------------

def test_readme_lists_the_prerequisites():
    section = _section(README, "## Prerequisites")
    for needed in ("Python 3.11", "`make`", "bash .ci/install-browser"):
        assert needed in section, needed


def _options(group: click.Group = cli_main, prefix: str = "ldn-site"):
    """(command, option string) for every option of every command, the group's own too."""
    ctx = click.Context(group)
    for param in group.get_params(ctx):
        for opt in param.opts + param.secondary_opts:
            yield prefix, opt
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _options(command, f"{prefix} {name}")
            continue
        for param in command.get_params(click.Context(command)):
            if isinstance(param, click.Option):
                for opt in param.opts + param.secondary_opts:
                    yield f"{prefix} {name}", opt


@pytest.mark.parametrize("command, option", sorted(set(_options())),
                         ids=lambda value: value)
def test_readme_command_line_section_names_every_option(command, option):
    section = _section(README, "## The command line")
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section), \
        f"{command} {option} is in --help but not in the README's command-line section"


def test_readme_claim_example_passes_check_once_its_gaps_are_filled(tmp_path):
    """The example a contributor copies names ids that exist: with its '...' filled in, it
    adds no error to the repository's content."""
    fence = "```yaml\n# yaml-language-server: $schema=../schema/claim.schema.json\n"
    example = README.split(fence, 1)[1].split("```", 1)[0]
    site = _copy_repository(tmp_path / "repo")
    (site / "claims" / "readme-example.yaml").write_text(
        fence[8:] + example.replace("...", "A sentence written for the test"), "utf-8")
    result = ldn_site("check", "--format", "json", cwd=site,
                      env=cli_env(SOURCE_DATE_EPOCH=_newest_review_epoch()))
    errors = [d for d in json.loads(result.stdout)["diagnostics"] if d["severity"] == "error"]
    assert errors == []
