"""``ldn-site diff <git-ref>``: the claims whose verdict, certainty, grading, evidence or
wording changed since a revision, tested against a real temporary git repository."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers_contrib import cli_env, copy_minimal, ldn_site

CLAIM = "claims/drug-reduces-pain.yaml"
SECOND = "claims/drug-causes-dreams.yaml"


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="test@example.org",
               GIT_COMMITTER_NAME="Test", GIT_COMMITTER_EMAIL="test@example.org",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                          capture_output=True, text=True).stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def repo(tmp_path):
    """The minimal site with a second claim, committed on branch main."""
    site = copy_minimal(tmp_path / "repo")
    second = (site / CLAIM).read_text(encoding="utf-8")
    second = second.replace("title: The drug reduces pain", "title: The drug causes dreams")
    (site / SECOND).write_text(second, encoding="utf-8")
    git(site, "init", "-q", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "-q", "-m", "initial content")
    return site


def diff_json(repo: Path, *args: str) -> dict:
    result = ldn_site("diff", *args, "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_change_lists_nothing(repo):
    result = ldn_site("diff", "main", cwd=repo)
    assert result.returncode == 0
    assert result.stdout.strip() == "no claim changed since main (2 claims now)"


def test_lists_verdict_certainty_grading_evidence_and_wording_changes(repo):
    path = repo / CLAIM
    edit(path, "verdict: supported", "verdict: mixed")
    edit(path, "rating: serious", "rating: very-serious")        # certainty moderate -> low
    edit(path, "value: -0.5", "value: -0.4")
    edit(path, "direction: supports", "direction: mixed")
    edit(path, "statement: The drug reduces pain compared with placebo.",
         "statement: The drug reduces pain more than placebo does.")
    data = diff_json(repo, "main")
    assert data["ref"] == "main" and data["claims"] == 2
    [claim] = data["changed"]
    assert claim["id"] == "drug-reduces-pain"
    assert claim["status"] == "changed"
    assert claim["aspects"] == ["verdict", "certainty", "grading", "evidence", "wording"]
    changes = {c["field"]: (c["aspect"], c["before"], c["after"]) for c in claim["changes"]}
    assert changes["verdict"] == ("verdict", "supported", "mixed")
    assert changes["certainty"] == ("certainty", "moderate", "low")
    assert changes["grading imprecision"] == ("grading", "serious", "very-serious")
    assert changes["evidence trial2020 direction"] == ("evidence", "supports", "mixed")
    assert changes["evidence trial2020 effect"] == (
        "evidence", "Pain: SMD -0.5 (-0.9 to -0.1, n=40)", "Pain: SMD -0.4 (-0.9 to -0.1, n=40)")
    assert changes["statement"] == ("wording", "The drug reduces pain compared with placebo.",
                                    "The drug reduces pain more than placebo does.")

    text = ldn_site("diff", "main", cwd=repo).stdout.splitlines()
    assert text[0] == ("1 claim differs from main (2 claims now): 1 changed")
    assert text[1] == "drug-reduces-pain (changed): The drug reduces pain"
    assert "    verdict: supported → mixed" in text
    assert "    certainty: moderate → low" in text


def test_added_removed_and_unreadable_claims(repo):
    (repo / SECOND).unlink()
    added = (repo / CLAIM).read_text(encoding="utf-8").replace(
        "title: The drug reduces pain", "title: A new claim")
    (repo / "claims" / "a-new-claim.yaml").write_text(added, encoding="utf-8")
    (repo / "claims" / "broken-claim.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    result = ldn_site("diff", "main", "--format", "json", cwd=repo)
    assert result.returncode == 0
    # The working tree has an error; diff still reports, and says so.
    assert "the working tree has content errors" in result.stderr
    data = json.loads(result.stdout)
    status = {c["id"]: c["status"] for c in data["changed"]}
    assert status == {"a-new-claim": "added", "broken-claim": "unreadable",
                      "drug-causes-dreams": "removed"}
    by_id = {c["id"]: c for c in data["changed"]}
    assert by_id["a-new-claim"]["changes"] == [
        {"aspect": "verdict", "field": "verdict", "before": "", "after": "supported"},
        {"aspect": "certainty", "field": "certainty", "before": "", "after": "moderate"}]


def test_a_broken_claim_that_existed_is_unreadable_not_removed(repo):
    (repo / CLAIM).write_text("title: [unclosed\n", encoding="utf-8")
    data = diff_json(repo, "main")
    assert [(c["id"], c["status"]) for c in data["changed"]] == [
        ("drug-reduces-pain", "unreadable")]


def test_other_fields_are_listed_only_with_all(repo):
    edit(repo / CLAIM, "date: 2026-01-15", "date: 2026-01-20")
    assert diff_json(repo, "main")["changed"] == []
    [claim] = diff_json(repo, "main", "--all")["changed"]
    assert claim["aspects"] == ["other"]
    assert claim["changes"] == [{"aspect": "other", "field": "reviewed",
                                 "before": "date: 2026-01-15, reviewer: Test reviewer",
                                 "after": "date: 2026-01-20, reviewer: Test reviewer"}]


def test_compares_against_any_revision_and_includes_uncommitted_edits(repo):
    edit(repo / CLAIM, "verdict: supported", "verdict: refuted")
    git(repo, "commit", "-q", "-am", "refute")
    git(repo, "tag", "v1")
    edit(repo / CLAIM, "verdict: refuted", "verdict: unsupported")  # not committed
    for ref, before in (("HEAD~1", "supported"), ("v1", "refuted"), ("HEAD", "refuted")):
        [claim] = diff_json(repo, ref)["changed"]
        assert claim["changes"][0] == {"aspect": "verdict", "field": "verdict",
                                       "before": before, "after": "unsupported"}


def test_markdown_for_a_pull_request_comment(repo):
    edit(repo / CLAIM, "verdict: supported", "verdict: mixed")
    edit(repo / CLAIM, "title: The drug reduces pain", "title: The drug | reduces pain")
    result = ldn_site("diff", "main", "--format", "markdown", cwd=repo)
    lines = result.stdout.splitlines()
    assert lines[0] == "### Claims changed since `main`"
    assert "| Claim | Status | What changed | Before | After |" in lines
    assert ("| `drug-reduces-pain`: The drug \\| reduces pain | changed | verdict | supported "
            "| mixed |") in lines
    assert "| | | title | The drug reduces pain | The drug \\| reduces pain |" in lines


def test_long_texts_are_summarized_in_text_and_markdown_but_complete_in_json(repo):
    long_summary = "A much longer summary. " * 10
    edit(repo / CLAIM, "summary: One small trial suggests the drug **reduces pain**.",
         f"summary: {long_summary.strip()}")
    edit(repo / CLAIM, "title: The drug reduces pain", f"title: {long_summary.strip()}")
    text = ldn_site("diff", "main", cwd=repo).stdout
    assert "    title: reworded" in text
    [claim] = diff_json(repo, "main")["changed"]
    summary = next(c for c in claim["changes"] if c["field"] == "summary")
    assert summary["after"] == long_summary.strip()


def test_changed_words_of_statement_summary_and_findings(repo):
    """Prose changes show the words that changed, as git diff --word-diff does in text and as
    GitHub's split view does in a pull-request comment; unchanged stretches of a long text
    are cut to a few words beside each change."""
    edit(repo / CLAIM, "statement: The drug reduces pain compared with placebo.",
         "statement: The drug reduces pain more than placebo does.")
    old_summary = ("One small trial suggests the drug reduces pain. It enrolled forty adults "
                   "with chronic pain at one clinic, and no other trial has repeated it since "
                   "then, so the finding is uncertain.")
    new_summary = old_summary.replace("forty adults", "forty women")
    edit(repo / CLAIM, "summary: One small trial suggests the drug **reduces pain**.",
         f"summary: {old_summary}")
    git(repo, "commit", "-q", "-am", "a longer summary")
    edit(repo / CLAIM, f"summary: {old_summary}", f"summary: {new_summary}")
    edit(repo / CLAIM, "finding: One small trial found less pain with the drug than with "
         "placebo.", "finding: One small trial found less pain with the drug than without.")

    text = ldn_site("diff", "HEAD~1", cwd=repo).stdout.splitlines()
    assert ("    statement: The drug reduces pain [-compared with-]{+more than+} placebo"
            "{+ does+}.") in text
    assert ("    evidence trial2020 finding: One small trial found less pain with the drug "
            "than [-with placebo-]{+without+}.") in text
    text = ldn_site("diff", "HEAD", cwd=repo).stdout.splitlines()
    assert ("    summary: … drug reduces pain. It enrolled forty [-adults-]{+women+} with "
            "chronic pain at one clinic, …") in text

    markdown = ldn_site("diff", "HEAD", "--format", "markdown", cwd=repo).stdout.splitlines()
    assert ("| | | summary | … drug reduces pain. It enrolled forty <del>adults</del> with "
            "chronic pain at one clinic, … | … drug reduces pain. It enrolled forty "
            "<ins>women</ins> with chronic pain at one clinic, … |") in markdown
    assert ("| `drug-reduces-pain`: The drug reduces pain | changed | evidence trial2020 "
            "finding | One small trial found less pain with the drug than <del>with "
            "placebo</del>. | One small trial found less pain with the drug than "
            "<ins>without</ins>. |") in markdown


def test_site_in_a_subfolder_of_the_repository(tmp_path):
    repo = tmp_path / "outer"
    repo.mkdir()
    copy_minimal(repo / "content" / "site")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    site = repo / "content" / "site"
    edit(site / CLAIM, "verdict: supported", "verdict: refuted")
    result = ldn_site("diff", "main", "--root", "content/site", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    [claim] = json.loads(result.stdout)["changed"]
    assert claim["changes"][0]["before"] == "supported"


def test_unknown_revision_is_an_error(repo):
    result = ldn_site("diff", "no-such-branch", cwd=repo)
    assert result.returncode == 2
    assert "'no-such-branch' is not a commit, branch or tag in this repository" in result.stderr


def test_outside_a_git_repository_is_an_error(tmp_path):
    site = copy_minimal(tmp_path / "plain")
    # GIT_CEILING_DIRECTORIES stops git from finding a repository above the temporary folder.
    result = ldn_site("diff", "main", cwd=site,
                      env=cli_env(GIT_CEILING_DIRECTORIES=str(tmp_path)))
    assert result.returncode == 2
    assert "is not inside a git repository" in result.stderr
