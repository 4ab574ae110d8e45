"""``ldn-site check --format json|github``: the same diagnostics as the text format, as valid
JSON for tools and as GitHub Actions workflow commands for pull-request annotations."""

from __future__ import annotations

import os
import json

from conftest import run_cli

SEVERAL = "invalid/several-defects"


def test_json_format_is_valid_json_with_every_diagnostic(make_site):
    site = make_site(SEVERAL)
    text = run_cli("check", "--root", site)
    result = run_cli("check", "--root", site, "--format", "json")
    assert result.exit_code == 1 == text.exit_code
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["summary"] == "7 errors, 1 warning" == text.stdout.splitlines()[-1]
    assert (data["errors"], data["warnings"]) == (7, 1)
    assert all(set(d) == {"path", "line", "column", "severity", "code", "message"}
               for d in data["diagnostics"])
    # The very diagnostics of the text format, in the same order; a column of 0 is none.
    assert [f"{d['path']}:{d['line']}{':' + str(d['column']) if d['column'] else ''}: "
            f"{d['severity']}: {d['message']} [{d['code']}]"
            for d in data["diagnostics"]] == text.stdout.splitlines()[:-1]
    assert data["diagnostics"][0]["column"] == 0  # an invalid file name has no column
    assert data["diagnostics"][2] == {
        "path": "claims/drug-reduces-pain.yaml", "line": 19, "column": 5, "severity": "error",
        "code": "missing-reason",
        "message": "grading.imprecision is rated 'serious', which changes the certainty, so it "
                   "needs a reason"}


def test_json_format_for_a_clean_site(make_site):
    result = run_cli("check", "--root", make_site("minimal"), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"diagnostics": [], "errors": 0, "warnings": 0,
                                         "summary": "0 errors, 0 warnings", "ok": True}


def test_json_keeps_non_ascii_and_control_characters_intact(make_site):
    site = make_site("invalid/unsafe-link-entities")
    data = json.loads(run_cli("check", "--root", site, "--format", "json").stdout)
    (diag,) = data["diagnostics"]
    assert "'java\tscript:alert(1)'" in diag["message"]  # raw in JSON, escaped in text


def test_github_format_emits_one_annotation_per_diagnostic(make_site, monkeypatch):
    site = make_site(SEVERAL)
    monkeypatch.chdir(site)  # as in a workflow: run from the checkout's root
    result = run_cli("check", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=claims/BadName.yaml,line=1,title=ldn-site invalid-id::claim id 'BadName' "
        "(the file name) must be lowercase letters, digits and single hyphens",
        "::error file=claims/broken.yaml,line=2,col=15,title=ldn-site yaml-syntax::YAML syntax "
        "error: mapping values are not allowed in this context",
        "::error file=claims/drug-reduces-pain.yaml,line=19,col=5,title=ldn-site missing-reason::"
        "grading.imprecision is rated 'serious', which changes the certainty, so it needs a "
        "reason",
        "::error file=claims/drug-reduces-pain.yaml,line=22,col=11,title=ldn-site dangling-claim::"
        "related: no claim with id 'no-such-claim'",
        "::warning file=claims/drug-reduces-pain.yaml,line=24,col=3,title=ldn-site review-due::"
        "last reviewed 2024-06-01, 610 days ago (the limit is 365 days)",
        "::error file=sources/references.bib,line=18,title=ldn-site missing-source-record::"
        "BibTeX entry 'orphan2021' has no source record sources/orphan2021.yaml",
        "::error file=sources/trial2020.yaml,line=3,col=4,title=ldn-site wrong-type::'n' must be a "
        "whole number, not 'forty'",
        "::error file=sources/trial2020.yaml,line=21,col=5,title=ldn-site duplicate-id::duplicate "
        "excerpt id 'abstract' (first defined on line 18)",
    ]
    # The count is for the log, not an annotation.
    assert result.stderr.splitlines() == ["7 errors, 1 warning"]


def test_github_paths_are_relative_to_the_working_directory(make_site, monkeypatch):
    site = make_site("invalid/missing-reason")
    monkeypatch.chdir(site.parent)
    result = run_cli("check", "--root", site.name, "--format", "github")
    assert result.stdout.splitlines() == [
        f"::error file={site.name}/claims/drug-reduces-pain.yaml,line=19,col=5,"
        "title=ldn-site missing-reason::grading.imprecision is rated 'serious', which changes "
        "the certainty, so it needs a reason"]


def test_github_format_without_a_line_and_with_escapes(make_site, monkeypatch):
    missing = make_site("invalid/missing-config")
    monkeypatch.chdir(missing)
    assert run_cli("check", "--format", "github").stdout.splitlines() == [
        f"::error file=site.yaml,title=ldn-site missing-config::no site.yaml in {os.getcwd()}: "
        "run ldn-site inside the repository (the folder holding site.yaml is found upward), or "
        "give that folder with --root"]

    site = make_site("minimal")
    claim = site / "claims" / "drug-reduces-pain.yaml"
    claim.write_text(claim.read_text("utf-8").replace(
        "summary: One small trial suggests the drug **reduces pain**.",
        "summary: \"A [total](java&#10;script:alert(1)) cure.\""), "utf-8")
    monkeypatch.chdir(site)
    result = run_cli("check", "--format", "github")
    assert result.stdout.splitlines() == [
        "::error file=claims/drug-reduces-pain.yaml,line=21,col=10,title=ldn-site unsafe-link::"
        "link to 'java%0Ascript:alert(1)' uses a forbidden scheme (only http:, https: and mailto: "
        "links are allowed)"]
    # The text format shows the same newline escaped, so each diagnostic stays one line.
    assert run_cli("check").stdout.splitlines() == [
        "claims/drug-reduces-pain.yaml:21:10: error: link to 'java\\nscript:alert(1)' uses a "
        "forbidden scheme (only http:, https: and mailto: links are allowed) [unsafe-link]",
        "1 error, 0 warnings"]
