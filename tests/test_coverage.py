"""``ldn-site coverage``: how completely the popular articles are reviewed, with every column
explained in words, and the same numbers as JSON for dashboards. On the minimal sample site:
one article with one quoted passage, which its one claim (efficacy, supported, moderate
certainty) lists in seen_in."""

from __future__ import annotations

import json

from conftest import run_cli


def test_coverage_says_what_each_number_means(make_site):
    result = run_cli("coverage", "--root", make_site("minimal"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:11] == [
        "Popular articles: how much of what they say is reviewed",
        "  quoted     passages quoted from the article (its excerpts)",
        "  reviewed   of those, the passages a claim lists as making it (seen_in)",
        "  claims     the different claims those passages lead to",
        "",
        "article         quoted  reviewed  claims",
        "article-a            1         1       1",
        "all articles         1         1",
        "",
        "Claims by topic: their verdicts, and the certainty of their evidence",
        "  claims     how many claims are filed under the topic"]
    efficacy = next(line for line in lines if line.startswith("efficacy"))
    assert efficacy.split() == ["efficacy", "1", "|", "1", "0", "0", "0", "|",
                                "0", "1", "0", "0", "0"]
    assert lines[-1] == ("1 of the 1 passage quoted from 1 article (100%) is reviewed in a "
                         "claim; 1 claim in all.")


def test_coverage_as_json_for_a_dashboard(make_site):
    site = make_site("minimal")
    claim = site / "claims" / "drug-reduces-pain.yaml"
    # The article's passage no longer in any claim: quoted but not reviewed.
    claim.write_text(claim.read_text(encoding="utf-8").replace(
        "seen_in: [article-a#pain-claim]\n", ""), encoding="utf-8")
    result = run_cli("coverage", "--root", site, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["articles"] == [{"article": "article-a", "quoted": 1, "reviewed": 0,
                                 "claims": 0}]
    assert data["totals"] == {"quoted": 1, "reviewed": 0, "claims": 1}
    efficacy = next(t for t in data["topics"] if t["topic"] == "efficacy")
    assert efficacy == {"topic": "efficacy", "claims": 1,
                        "verdicts": {"supported": 1, "mixed": 0, "unsupported": 0,
                                     "refuted": 0},
                        "certainty": {"high": 0, "moderate": 1, "low": 0, "very-low": 0,
                                      "factual": 0}}
    assert set(data["meaning"]["articles"]) == {"quoted", "reviewed", "claims"}


def test_coverage_of_content_with_errors_says_that_a_claim_is_left_out(make_site):
    site = make_site("minimal")
    claim = next((site / "claims").glob("*.yaml"))
    claim.write_text(claim.read_text("utf-8").replace("verdict: supported", "verdict: proven"),
                     "utf-8")
    result = run_cli("coverage", "--root", site)
    assert result.stderr.splitlines() == [
        "note: the working tree has content errors (1 error, 0 warnings); what cannot be read "
        "is left out of this report; run `ldn-site check`"]
    assert result.stdout.splitlines()[-1] == (
        "0 of the 1 passage quoted from 1 article (0%) are reviewed in a claim; 0 claims in all.")
