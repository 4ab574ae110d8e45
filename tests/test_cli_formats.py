"""``ldn-site check`` output formats beyond those covered in test_diagnostic_formats.py, and
review provenance: who reviewed a claim and when, the configurable review age measured by
``check`` (``--today``, SOURCE_DATE_EPOCH), the review-due warning and the page's notice."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from helpers_contrib import cli_env, copy_minimal, ldn_site
from ldn_site.cli import format_github
from ldn_site.diagnostics import error, warning

CLAIM = "claims/drug-reduces-pain.yaml"


@pytest.fixture
def site(tmp_path):
    return copy_minimal(tmp_path / "site")


def test_github_annotations_escape_what_workflow_commands_need():
    d = error("claims/a,b:c.yaml", 7, "x-code", "100% wrong\nsecond line\rthird")
    assert format_github(d) == ("::error file=claims/a%2Cb%3Ac.yaml,line=7,"
                                "title=ldn-site x-code::100%25 wrong%0Asecond line%0Dthird")
    # A whole-file problem (line 0) gets no line, so GitHub shows it on the file.
    assert format_github(warning("site.yaml", 0, "y", "m")) == \
        "::warning file=site.yaml,title=ldn-site y::m"
    # With --root, paths are joined to it (and normalized) for the checkout's root.
    assert format_github(error("claims/x.yaml", 2, "c", "m"), root="./content/") == \
        "::error file=content/claims/x.yaml,line=2,title=ldn-site c::m"


@pytest.mark.parametrize(("line", "col", "location"), [
    (12, 5, "claims/x.yaml:12:5"),
    (12, 0, "claims/x.yaml:12"),
    (0, 0, "claims/x.yaml"),   # the whole file: no line an editor would look for in vain
])
def test_text_location_gives_the_line_and_column_that_exist(line, col, location):
    d = error("claims/x.yaml", line, "c", "m", col)
    assert d.format() == f"{location}: error: m [c]"


def test_json_of_a_clean_site_and_its_exit_code(site):
    result = ldn_site("check", "--format", "json", cwd=site)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"diagnostics": [], "errors": 0, "warnings": 0,
                                         "summary": "0 errors, 0 warnings", "ok": True}


def test_github_format_of_a_clean_site_prints_no_annotation(site):
    result = ldn_site("check", "--format", "github", cwd=site)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "0 errors, 0 warnings"


def test_unknown_format_is_a_usage_error(site):
    result = ldn_site("check", "--format", "xml", cwd=site)
    assert result.returncode == 2
    assert "Invalid value for '--format'" in result.stderr


# --- review provenance -----------------------------------------------------------------------

def test_every_claim_records_who_reviewed_it_and_when(site):
    path = site / CLAIM
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  reviewer: Test reviewer\n", ""), encoding="utf-8")
    result = ldn_site("check", cwd=site)
    assert result.returncode == 1
    assert "missing required field 'reviewed.reviewer' [missing-field]" in result.stdout

    path.write_text(text.replace("reviewed:\n  date: 2026-01-15\n  reviewer: Test reviewer\n",
                                 ""), encoding="utf-8")
    result = ldn_site("check", cwd=site)
    assert "missing required field 'reviewed' [missing-field]" in result.stdout


def test_check_warns_when_a_review_is_older_than_the_configured_age(site):
    # Reviewed 2026-01-15; the default limit is 365 days.
    ok = ldn_site("check", "--today", "2027-01-15", cwd=site)
    assert ok.returncode == 0
    assert ok.stdout.splitlines() == ["0 errors, 0 warnings"]

    due = ldn_site("check", "--today", "2027-01-16", cwd=site)
    assert due.returncode == 0  # a warning, not an error
    assert due.stdout.splitlines() == [
        "claims/drug-reduces-pain.yaml:24:3: warning: last reviewed 2026-01-15, 366 days ago "
        "(the limit is 365 days) [review-due]",
        "0 errors, 1 warning"]

    # The age is configurable in site.yaml.
    config = site / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "review_max_age_days: 30\n",
                      encoding="utf-8")
    due = ldn_site("check", "--today", "2026-02-15", cwd=site)
    assert "31 days ago (the limit is 30 days) [review-due]" in due.stdout


def test_review_age_is_measured_against_source_date_epoch_without_today(site):
    # 2027-06-01T00:00:00Z
    result = ldn_site("check", cwd=site, env=cli_env(SOURCE_DATE_EPOCH="1811808000"))
    assert "last reviewed 2026-01-15, 502 days ago" in result.stdout


def test_a_review_in_the_future_is_an_error(site):
    result = ldn_site("check", "--today", "2026-01-14", cwd=site)
    assert result.returncode == 1
    assert "reviewed.date 2026-01-15 is in the future [invalid-date]" in result.stdout


def test_today_must_be_a_date(site):
    result = ldn_site("check", "--today", "tomorrow", cwd=site)
    assert result.returncode == 2
    assert "must be a date, YYYY-MM-DD" in result.stderr


class _ClassFinder(HTMLParser):
    def __init__(self, cls: str):
        super().__init__()
        self.cls, self.depth, self.text, self.found = cls, 0, [], False

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif self.cls in (dict(attrs).get("class") or "").split():
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def _review_notice(html: str) -> str | None:
    finder = _ClassFinder("review-due")
    finder.feed(html)
    return " ".join("".join(finder.text).split()) if finder.found else None


def test_claim_page_shows_review_due_only_when_the_review_is_too_old(site):
    page = site / "_out" / "claims" / "drug-reduces-pain.html"
    # Built 2026-02-01 (the fixed epoch): reviewed 17 days earlier, not due.
    assert ldn_site("build", "-o", site / "_out", cwd=site).returncode == 0
    assert _review_notice(page.read_text(encoding="utf-8")) is None
    # Built 2027-06-01: 502 days after the review, past the 365-day limit.
    late = ldn_site("build", "-o", site / "_out", cwd=site,
                    env=cli_env(SOURCE_DATE_EPOCH="1811808000"))
    assert late.returncode == 0, late.stdout + late.stderr
    notice = _review_notice(page.read_text(encoding="utf-8"))
    assert notice is not None and notice.startswith("Review due")
    assert "2026-01-15" in notice
