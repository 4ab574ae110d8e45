"""Repository furniture for contributors: CONTRIBUTING.md, the pull-request template, issue
forms, CODEOWNERS, the GitHub workflows and the pre-commit hook. Parsed, linted against the
published schemas (SchemaStore's, as vendored by check-jsonschema) and, for the hook, run."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers_contrib import REPO, cli_env, copy_minimal
from ldn_site import vocabulary as v
from ldn_site.cli import main as cli_main

GITHUB = REPO / ".github"
WORKFLOWS = GITHUB / "workflows"
FORMS = GITHUB / "ISSUE_TEMPLATE"
BIN = Path(sys.executable).parent


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def uses(job: dict) -> list[str]:
    return [s["uses"].split("@")[0] for s in steps(job) if "uses" in s]


def check_jsonschema(builtin: str, *files: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("check_jsonschema")
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           builtin, *map(str, files)], capture_output=True, text=True,
                          check=False, timeout=120)


# --- workflows -------------------------------------------------------------------------------

def test_workflows_are_valid_against_the_github_workflow_schema():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["checks.yml", "claim-diff-comment.yml", "pages.yml"]
    result = check_jsonschema("vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_pull_request_gets_the_content_check_as_annotations_and_the_tests():
    wf = load(WORKFLOWS / "checks.yml")
    assert "pull_request" in wf["on"]
    assert wf["on"]["push"]["branches"] == ["main"]
    jobs = wf["jobs"]
    content = jobs["content"]
    assert "ldn-site check --format github" in runs(content)
    assert "ldn-site schema --check" in runs(content)
    assert "actions/checkout" in uses(content)
    # The tests job runs the README's test command, with the browser installed first.
    tests = jobs["tests"]
    assert "make test" in runs(tests)
    assert runs(tests).index(".ci/install-browser") < runs(tests).index("make test")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme
    # Every job is bounded in time and installs from the project's own files.
    for name, job in jobs.items():
        assert job.get("timeout-minutes"), f"job {name} has no timeout"
    assert wf["permissions"] == {"contents": "read"}


def test_pull_requests_get_the_list_of_changed_claims():
    job = load(WORKFLOWS / "checks.yml")["jobs"]["claim-diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    checkout = next(s for s in steps(job) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch must be there to compare
    assert 'ldn-site diff "origin/$BASE_REF" --format markdown' in runs(job)
    # Untrusted text never goes into a script: the ref comes in through the environment.
    assert "${{" not in runs(job)
    assert "upload-artifact" in " ".join(uses(job))


def test_the_pull_requests_code_runs_read_only_and_without_secrets():
    """Templates and content arrive by pull request: every job that runs them has a
    read-only token, no stored credentials and no secrets. The comment is posted by a
    separate workflow that runs main's code on the list as text, never the pull request's."""
    checks = load(WORKFLOWS / "checks.yml")
    assert "pull_request_target" not in checks["on"]
    assert checks["permissions"] == {"contents": "read"}
    text = (WORKFLOWS / "checks.yml").read_text("utf-8")
    assert "secrets." not in text
    for name, job in checks["jobs"].items():
        assert "permissions" not in job, f"job {name} widens the read-only token"
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False, name
    comment = load(WORKFLOWS / "claim-diff-comment.yml")
    assert comment["on"] == {"workflow_run": {"workflows": ["Checks"], "types": ["completed"]}}
    job = comment["jobs"]["comment"]
    assert "actions/checkout" not in uses(job), "the comment job must not run the PR's code"
    assert "gh pr comment" in runs(job) and "${{" not in runs(job)


def test_the_tests_run_on_linux_macos_and_windows():
    jobs = load(WORKFLOWS / "checks.yml")["jobs"]
    assert jobs["portable"]["strategy"]["matrix"]["os"] == ["macos-latest", "windows-latest"]
    assert "--ignore=tests/browser" in runs(jobs["portable"])


def test_pages_are_deployed_from_main_with_a_reproducible_date():
    wf = load(WORKFLOWS / "pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    names = uses(build)
    assert names.index("actions/checkout") < names.index("actions/upload-pages-artifact")
    upload = next(s for s in steps(build)
                  if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_site"
    script = runs(build)
    # SOURCE_DATE_EPOCH from the commit's time, set before the build runs.
    m = re.search(r'echo "SOURCE_DATE_EPOCH=\$\(git log -1 --format=%ct\)" >> "\$GITHUB_ENV"',
                  script)
    assert m and script.index(m.group(0)) < script.index("ldn-site build --output _site")
    assert "ldn-site check --format github" in script
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert uses(deploy) == ["actions/deploy-pages"]


def test_pages_build_output_matches_the_uploaded_path():
    """The folder the workflow uploads is where `ldn-site build --output _site` writes, and
    the site.yaml default agrees."""
    config = yaml.safe_load((REPO / "site.yaml").read_text(encoding="utf-8"))
    assert config.get("output_dir", "_site") == "_site"


# --- issue forms, template, CODEOWNERS -----------------------------------------------------

def test_issue_forms_are_valid():
    forms = sorted(FORMS.glob("*.yml"))
    assert [f.name for f in forms] == ["config.yml", "report-error.yml", "suggest-claim.yml"]
    result = check_jsonschema("vendor.github-issue-forms", FORMS / "report-error.yml",
                              FORMS / "suggest-claim.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    result = check_jsonschema("vendor.github-issue-config", FORMS / "config.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_suggest_a_claim_form_offers_the_sites_topics():
    form = load(FORMS / "suggest-claim.yml")
    assert form["name"] == "Suggest a claim"
    topic = next(item for item in form["body"] if item.get("id") == "topic")
    assert topic["attributes"]["options"] == [*v.values(v.TOPICS), "not sure"]
    required = {item["id"] for item in form["body"]
                if item.get("validations", {}).get("required")}
    assert {"claim", "where", "quote", "topic"} <= required


def test_report_an_error_form_asks_for_the_page_and_where_to_check():
    form = load(FORMS / "report-error.yml")
    assert form["name"] == "Report an error"
    required = {item["id"] for item in form["body"]
                if item.get("validations", {}).get("required")}
    assert {"page", "kind", "what", "evidence"} <= required


def test_contact_links_point_at_the_published_site():
    config = load(FORMS / "config.yml")
    base_url = yaml.safe_load((REPO / "site.yaml").read_text(encoding="utf-8"))["base_url"]
    assert config["contact_links"][0]["url"] == base_url + "disclaimer.html"


def test_pull_request_template_has_the_checklist():
    text = (GITHUB / "pull_request_template.md").read_text(encoding="utf-8")
    items = re.findall(r"^- \[ \] (.+)$", text, flags=re.MULTILINE)
    assert len(items) >= 8
    joined = "\n".join(items)
    for needed in ("`ldn-site check`", "character for character", "`verified_at`",
                   "reason", "own words", "neutral", "`ldn-site serve`", "`reviewed`"):
        assert needed in joined, needed


def test_codeowners_cover_content_code_and_workflows_with_well_formed_owners():
    lines = [line.split() for line in (GITHUB / "CODEOWNERS").read_text(encoding="utf-8")
             .splitlines() if line.strip() and not line.startswith("#")]
    owners_of = {}
    for pattern, *owners in lines:
        assert owners, pattern
        for owner in owners:
            assert re.match(r"^@[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?$", owner), owner
        if pattern != "*":
            path = REPO / pattern.strip("/")
            assert path.exists() or pattern.strip("/") in ("claims", "sources"), pattern
        owners_of[pattern] = owners

    def owner(path: str) -> list[str]:
        found = []
        for pattern, owners in owners_of.items():  # the last match wins
            p = pattern.lstrip("/")
            if pattern == "*" or path.startswith(p) or fnmatch.fnmatch(path, p):
                found = owners
        return found

    assert owner("claims/x.yaml") == ["@ldn-site/editors"]
    assert owner("sources/references.bib") == ["@ldn-site/editors"]
    assert owner("ldn_site/cli.py") == ["@ldn-site/maintainers"]
    assert owner(".github/workflows/pages.yml") == ["@ldn-site/maintainers"]


# --- CONTRIBUTING.md ---------------------------------------------------------------------

CONTRIBUTING = REPO / "CONTRIBUTING.md"


def test_contributing_has_every_section_the_issue_asks_for():
    headings = re.findall(r"^## (.+)$", CONTRIBUTING.read_text(encoding="utf-8"),
                          flags=re.MULTILINE)
    for needed in ("How to propose a claim", "How to grade", "Excerpt rules", "The truth rules",
                   "How reviews are approved"):
        assert needed in headings


def test_contributing_states_the_truth_rules_exactly_as_developers_md():
    def rules(path: Path, heading: str) -> list[str]:
        section = path.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
        section = section.split("\n## ", 1)[0]
        return re.findall(r"^\d\. \*\*.+$", section, re.MULTILINE)

    ours = rules(CONTRIBUTING, "The truth rules")
    assert ours == rules(REPO / "DEVELOPERS.md", "Truth rules (never broken)")
    assert len(ours) == 4


def test_every_command_contributing_mentions_exists():
    text = CONTRIBUTING.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`ldn-site ([a-z]+)", text))
    assert {"new", "check", "serve", "diff", "schema"} <= mentioned
    assert mentioned <= set(cli_main.commands), mentioned - set(cli_main.commands)
    for option in set(re.findall(r"`ldn-site check (--[a-z]+)", text)):
        assert option in {p.opts[0] for p in cli_main.commands["check"].params}


def test_contributing_links_and_anchors_resolve():
    text = CONTRIBUTING.read_text(encoding="utf-8")
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}
    for target in re.findall(r"\]\(([^)]+)\)", text):
        if target.startswith("#"):
            assert target[1:] in anchors, target
        elif not target.startswith("http"):
            assert (REPO / target).exists(), target


def test_contributing_grading_section_names_every_domain_and_rating():
    text = CONTRIBUTING.read_text(encoding="utf-8")
    section = text.split("## How to grade", 1)[1].split("\n## ", 1)[0]
    for d in v.DOMAINS:
        assert f"`{d.key}`" in section, d.key
        for rating, change in d.ratings:
            if change:
                assert f"`{rating}`" in section, rating


# --- pre-commit ------------------------------------------------------------------------------

def test_pre_commit_config_has_a_local_ldn_site_check_hook():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [repo] = config["repos"]
    assert repo["repo"] == "local"
    hooks = {h["id"]: h for h in repo["hooks"]}
    check = hooks["ldn-site-check"]
    assert check["entry"] == "ldn-site check"
    assert check["language"] == "system" and check["pass_filenames"] is False
    for path in ("claims/a.yaml", "sources/references.bib", "templates/base.html", "site.yaml"):
        assert re.match(check["files"], path), path
    assert not re.match(check["files"], "README.md")


def _pre_commit() -> str:
    exe = shutil.which("pre-commit", path=str(BIN)) or shutil.which("pre-commit")
    if exe is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]' installs it)")
    return exe


def test_pre_commit_config_is_valid():
    result = subprocess.run([_pre_commit(), "validate-config", ".pre-commit-config.yaml"],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_hook_blocks_a_broken_claim_and_passes_a_fixed_one(tmp_path):
    exe = _pre_commit()
    repo = copy_minimal(tmp_path / "repo")
    shutil.copy(REPO / ".pre-commit-config.yaml", repo / ".pre-commit-config.yaml")
    env = cli_env(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                  PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
                  GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
                  GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="t@example.org",
                  GIT_COMMITTER_NAME="Test", GIT_COMMITTER_EMAIL="t@example.org")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    assert run("git", "init", "-q", "-b", "main").returncode == 0
    assert run("git", "add", "-A").returncode == 0
    claim = repo / "claims" / "drug-reduces-pain.yaml"
    claim.write_text(claim.read_text(encoding="utf-8").replace("verdict: supported",
                                                               "verdict: proven"),
                     encoding="utf-8")
    run("git", "add", "-A")
    blocked = run(exe, "run", "--all-files")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "claims/drug-reduces-pain.yaml:4:10: error: 'verdict' must be one of" in blocked.stdout

    claim.write_text(claim.read_text(encoding="utf-8").replace("verdict: proven",
                                                               "verdict: supported"),
                     encoding="utf-8")
    run("git", "add", "-A")
    passed = run(exe, "run", "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"ldn-site check\.+Passed", passed.stdout)
