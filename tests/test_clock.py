"""One clock: check, build and serve decide "today" in one function (SOURCE_DATE_EPOCH when
it is set, else the current date), so a review is due, or a date is in the future, for all
three or for none."""

from __future__ import annotations

import datetime

import pytest

from conftest import run_cli
from ldn_site import loading, pipeline, serving

# The minimal site's claim was reviewed on 2026-01-15 and reviews are due after 365 days.
DUE = datetime.date(2027, 2, 1)
NOT_DUE = datetime.date(2026, 2, 1)
BEFORE_REVIEW = datetime.date(2026, 1, 1)  # the review date would be in the future


def epoch(day: datetime.date) -> str:
    return str(int(datetime.datetime(day.year, day.month, day.day,
                                     tzinfo=datetime.timezone.utc).timestamp()))


def test_today_is_source_date_epoch_when_set_else_the_calendar(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(DUE))
    assert loading.read_today() == DUE
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert loading.read_today() == datetime.date.today()


def codes(diagnostics) -> set[str]:
    return {d.code for d in diagnostics}


def judge_three_ways(site, out) -> tuple[set, set, set]:
    """The diagnostic codes that check, build and serve give for the same site and day."""
    checked = pipeline.check_site(str(site))
    built = pipeline.build_site(str(site), output=str(out), search=False, use_cache=False)
    preview = serving.Preview(str(site), str(out.parent / "served"))
    served = preview.rebuild()
    return codes(checked.diagnostics), codes(built.diagnostics), codes(served.diagnostics)


@pytest.mark.parametrize("day, expected", [
    (DUE, {"review-due"}),
    (NOT_DUE, set()),
    (BEFORE_REVIEW, {"invalid-date"}),
])
def test_check_build_and_serve_agree_on_the_date(make_site, tmp_path, monkeypatch, day,
                                                 expected):
    site = make_site("minimal")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(day))
    assert judge_three_ways(site, tmp_path / "a") == (expected, expected, expected)
    # Without SOURCE_DATE_EPOCH, all three take the current date from the same function.
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    monkeypatch.setattr(loading, "read_today", lambda: day)
    assert judge_three_ways(site, tmp_path / "b") == (expected, expected, expected)


def test_a_future_review_date_fails_build_as_it_fails_check(make_site, tmp_path, monkeypatch):
    site = make_site("minimal")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(BEFORE_REVIEW))
    assert run_cli("check", "--root", site).exit_code == 1
    result = run_cli("build", "--root", site, "--no-search", "-o", tmp_path / "out")
    assert result.exit_code == 1 and "[invalid-date]" in result.stdout
    assert not (tmp_path / "out").exists()
