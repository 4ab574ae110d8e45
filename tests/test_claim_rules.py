"""The rules of key messages, the two kinds of claim, the participant fields and unverified
sources: each defect is reported once, at its file and line, with its stable code (one
invalid sample site per defect under tests/sites/invalid-claim-rules/, an overlay of the
minimal site); and ``ldn-site diff`` still compares a factual claim, which has no grading
block.
"""

from __future__ import annotations

import pytest

from conftest import SITES, run_cli

CLAIM = "claims/drug-reduces-pain.yaml"
TRIAL = "sources/trial2020.yaml"
INVALID = [
    ("key-message-dangling-claim", [
        "site.yaml:10:12: error: key_messages: no claim with id 'drug-reduces-pian' (did you "
        "mean 'drug-reduces-pain'?) [dangling-claim]"]),
    ("factual-claim-graded", [
        f"{CLAIM}:21:5: error: grading.imprecision is rated 'serious', but a factual claim has no "
        "GRADE certainty: remove the rating, or make it an effect claim [factual-claim-graded]"]),
    ("factual-claim-without-authority", [
        f"{CLAIM}:4:7: error: a factual claim needs 'authority': whose record settles it "
        "[missing-authority]"]),
    ("effect-claim-without-grading", [
        f"{CLAIM}:1:1: error: an effect claim needs 'grading' (its GRADE judgements); only "
        "factual claims (kind: factual) have none [missing-grading]"]),
    ("authority-on-effect-claim", [
        f"{CLAIM}:4:12: error: 'authority' belongs to factual claims (kind: factual); an effect "
        "claim is weighed by its evidence [invalid-value]"]),
    ("same-participants-dangling", [
        f"{TRIAL}:4:23: error: same_participants_as: no source record 'trial2002' "
        "[missing-source-record]"]),
    ("same-participants-self", [
        f"{TRIAL}:4:23: error: same_participants_as: a source cannot point to itself "
        "[self-reference]"]),
    ("same-participants-not-primary", [
        f"{TRIAL}:4:23: error: same_participants_as: 'article-a' is of kind popular-article, whose "
        "participants are not counted; point to the primary study [invalid-value]"]),
    ("participants-on-review", [
        f"{TRIAL}:4:19: error: population_group applies to primary studies only, whose "
        "participants are counted; a source of kind systematic-review-rcts is not counted "
        "[invalid-value]"]),
    ("unverified-evidence-only", [
        f"{CLAIM}:18:3: error: every source of the claim's evidence has an unverified journal or "
        "DOI, and an unverified source cannot set the starting certainty "
        "[unverified-evidence-only]"]),
    ("unverified-unknown-detail", [
        f"{TRIAL}:4:14: error: 'unverified[1]' must be one of journal, doi; got 'pmid' "
        "[invalid-value]"]),
]


@pytest.mark.parametrize("name, expected", INVALID, ids=[c[0] for c in INVALID])
def test_each_rule_reports_its_defect_at_its_line(make_site, name, expected):
    site = make_site(f"invalid-claim-rules/{name}")
    result = run_cli("check", "--root", site)
    assert result.stdout.splitlines() == expected + ["1 error, 0 warnings"]
    assert result.exit_code == 1


def test_every_sample_site_is_in_the_table():
    on_disk = {p.name for p in (SITES / "invalid-claim-rules").iterdir() if p.is_dir()}
    assert on_disk == {name for name, _ in INVALID}


def test_the_build_fails_on_a_key_message_without_its_claim(make_site, tmp_path):
    site = make_site("invalid-claim-rules/key-message-dangling-claim")
    result = run_cli("build", "--root", site, "--output", tmp_path / "out", "--no-search")
    assert result.exit_code == 1
    assert "site.yaml:10:12: error: key_messages: no claim with id 'drug-reduces-pian'" in \
        result.stdout
    assert not (tmp_path / "out").exists()


def test_diff_compares_a_factual_claim_without_grading(make_site):
    """A factual claim has no grading block; comparing two versions of it must still work."""
    from ldn_site.diffing import diff_claims
    from ldn_site.loading import load_content
    from ldn_site.validation import validate_content

    site = make_site("claim-framing")
    old, _ = load_content(str(site), with_templates=False)
    path = site / "claims" / "drug-approved-2001.yaml"
    path.write_text(path.read_text("utf-8").replace("verdict: supported", "verdict: refuted"),
                    "utf-8")
    new, _ = load_content(str(site), with_templates=False)
    diffs = diff_claims(old, validate_content(old).grades, new, validate_content(new).grades)
    assert [(d.id, [(c.aspect, c.before, c.after) for c in d.changes]) for d in diffs] \
        == [("drug-approved-2001", [("verdict", "supported", "refuted")])]
