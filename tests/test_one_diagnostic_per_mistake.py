"""One diagnostic per mistake: a mistake in one file is reported once, where it is, and not
again wherever something else leans on what could not be read (a link into an excerpt that has
an error of its own, the excerpts of an evidence item whose source key is mistyped, an excerpt
link that could not be read, a misspelt field). Each case edits one line of a copy of the
minimal sample site and asserts the whole output of ``ldn-site check``. The controls show that
the same rules still report a real mistake next to one that is not reported again.
"""

from __future__ import annotations

import pytest

from conftest import run_cli

CLAIM = "claims/drug-reduces-pain.yaml"
TRIAL = "sources/trial2020.yaml"
ARTICLE = "sources/article-a.yaml"

# (case, [(file, text as in the minimal site, text instead)], lines printed before the summary)
CASES = [
    # An excerpt with a field missing: not "does not exist" in the claim that links it.
    ("excerpt-without-locator", [(TRIAL, "    locator: Abstract\n", "")], [
        f"{TRIAL}:18:5: error: missing required field 'excerpts[1].locator' [missing-field]"]),
    # An excerpt id in the wrong format: which id was meant cannot be known, so no link into
    # that source is called dangling.
    ("excerpt-id-malformed", [(TRIAL, "id: abstract", "id: Abstract")], [
        f"{TRIAL}:18:9: error: 'excerpts[1].id' value 'Abstract' is not in the required form: "
        "lowercase words of letters and digits joined by single hyphens, such as "
        "ldn-reduces-pain [invalid-format]"]),
    ("excerpt-without-id", [(TRIAL, "  - id: abstract\n    text:", "  - text:")], [
        f"{TRIAL}:18:5: error: missing required field 'excerpts[1].id' [missing-field]"]),
    # The same for seen_in: an article's excerpt with an error is not also dangling there.
    ("article-excerpt-without-locator", [(ARTICLE, "    locator: Paragraph 1\n", "")], [
        f"{ARTICLE}:9:5: error: missing required field 'excerpts[1].locator' [missing-field]"]),
    # Control: a link with a typo into a source one of whose excerpts has an error (with a
    # readable id) is still dangling.
    ("dangling-beside-an-excerpt-with-an-error", [
        (TRIAL, "    locator: Abstract\n", ""),
        (CLAIM, "excerpts: [trial2020#abstract]", "excerpts: [trial2020#abstarct]")], [
        f"{CLAIM}:9:16: error: evidence: excerpt 'trial2020#abstarct' does not exist "
        "[dangling-excerpt]",
        f"{TRIAL}:18:5: error: missing required field 'excerpts[1].locator' [missing-field]"]),
    # A mistyped source key: its excerpts are not also "not from the item's source", and the
    # source meant is not also "not cited".
    ("evidence-source-mistyped", [(CLAIM, "- source: trial2020", "- source: trial202")], [
        f"{CLAIM}:6:13: error: evidence: unknown BibTeX key 'trial202' (did you mean "
        "'trial2020'?) [unknown-bibkey]"]),
    # Control: with a known key, an excerpt of another source is still a mismatch.
    ("excerpt-of-another-source", [
        (CLAIM, "excerpts: [trial2020#abstract]",
         "excerpts: [trial2020#abstract, article-a#pain-claim]")], [
        f"{CLAIM}:9:36: error: evidence: excerpt 'article-a#pain-claim' is not from the item's "
        "source 'trial2020' [excerpt-source-mismatch]"]),
    # An excerpt link that cannot be read is not "the evidence quotes no excerpt" as well.
    ("excerpt-link-without-key", [
        (CLAIM, "excerpts: [trial2020#abstract]", "excerpts: [abstract]")], [
        f"{CLAIM}:9:16: error: 'evidence[1].excerpts[1]' value 'abstract' is not in the "
        "required form: a BibTeX key, '#' and an excerpt id, such as "
        "younger2013lowdose#abstract-results [invalid-format]"]),
    ("excerpt-links-not-a-list", [
        (CLAIM, "excerpts: [trial2020#abstract]", "excerpts: {trial2020: abstract}")], [
        f"{CLAIM}:9:15: error: 'evidence[1].excerpts' must be a list, not a mapping "
        "[wrong-type]"]),
    # Control: no excerpt link at all is still reported.
    ("no-excerpt-link", [(CLAIM, "    excerpts: [trial2020#abstract]\n", "")], [
        f"{CLAIM}:1:1: error: the claim's evidence quotes no excerpt; at least one item needs "
        "'excerpts' so readers can see the source's own words [missing-excerpt]"]),
    # A misspelt 'fulltext' names the field meant; the article is not also without one.
    ("article-fulltext-misspelt", [(ARTICLE, "fulltext:", "fulEtext:")], [
        f"{ARTICLE}:5:1: error: unknown field 'fulEtext' (did you mean 'fulltext'?) "
        "[unknown-field]"]),
    # Control: an unknown key not close to 'fulltext' leaves the article without one.
    ("article-fulltext-unknown-key", [(ARTICLE, "fulltext:", "copy:")], [
        f"{ARTICLE}:1: error: a popular article needs 'fulltext' so its excerpts can be "
        "checked verbatim [missing-field]",
        f"{ARTICLE}:5:1: error: unknown field 'copy' (allowed: assessment, comparator, "
        "conclusion, design, dose, dose_group, duration, excerpts, fulltext, interests, "
        "intervention, kind, limitations, n, notes, population, population_group, published, "
        "publisher, register, registration, results, risk_of_bias, same_participants_as, setting, "
        "site_name, trial_name, unverified, url, verified_at) [unknown-field]"]),
    # Confidence bounds the wrong way round say so, not that the value lies outside them.
    ("ci-bounds-swapped", [(CLAIM, "ci_low: -0.9", "ci_low: -0.1"),
                           (CLAIM, "ci_high: -0.1", "ci_high: -0.9")], [
        f"{CLAIM}:11:7: error: effect: ci_low -0.1 is above ci_high -0.9; swap them "
        "[invalid-effect]"]),
    # Control: a value outside bounds in the right order.
    ("value-outside-interval", [(CLAIM, "value: -0.5", "value: -1.5")], [
        f"{CLAIM}:11:7: error: effect: value -1.5 lies outside its confidence interval -0.9 to "
        "-0.1 [invalid-effect]"]),
]


def edit(site, rel: str, old: str, new: str) -> None:
    path = site / rel
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {rel}"
    path.write_text(text.replace(old, new), "utf-8")


@pytest.mark.parametrize("name, edits, expected", CASES, ids=[c[0] for c in CASES])
def test_each_mistake_is_reported_once(make_site, name, edits, expected):
    site = make_site()
    for rel, old, new in edits:
        edit(site, rel, old, new)
    result = run_cli("check", "--root", site)
    errors = sum(": error: " in line for line in expected)
    assert result.stdout.splitlines() == expected + [
        f"{errors} error{'s' * (errors != 1)}, 0 warnings"]
    assert result.exit_code == 1
