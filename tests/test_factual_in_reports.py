"""Factual claims carry no certainty anywhere: not in ``coverage`` and not in ``diff``."""

from __future__ import annotations

from ldn_site import loading, validation
from ldn_site.coverage import compute_coverage
from ldn_site.diffing import compare_claim


def test_coverage_counts_factual_claims_apart_from_certainty_levels(make_site):
    site = make_site("claim-framing")
    content, _ = loading.load_content(str(site))
    grades = validation.validate_content(content).grades
    _, topics = compute_coverage(content, grades)
    factual = sum(1 for c in content.claims if c.kind == "factual")
    assert factual and sum(t.certainty["factual"] for t in topics) == factual
    levels = sum(n for t in topics for level, n in t.certainty.items() if level != "factual")
    assert levels == sum(1 for c in content.claims if c.kind != "factual")


def test_diff_shows_no_certainty_for_a_factual_claim(make_site):
    site = make_site("claim-framing")
    content, _ = loading.load_content(str(site))
    grades = validation.validate_content(content).grades
    claim = next(c for c in content.claims if c.kind == "factual")
    changes = compare_claim(claim, grades.get(claim.id), claim, grades.get(claim.id))
    assert changes == []
    import dataclasses
    as_effect = dataclasses.replace(claim, kind="effect")
    changes = compare_claim(as_effect, grades.get(claim.id), claim, grades.get(claim.id))
    certainty = [c for c in changes if c.aspect == "certainty"]
    assert certainty and certainty[0].after == "factual (no certainty)"
