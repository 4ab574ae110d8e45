"""Every defect class has a small sample site under tests/sites/invalid/<defect>/ (an overlay
of the minimal site with one defect), and ``ldn-site check`` must report exactly the expected
diagnostics, sorted, then the summary line, and exit with 1.

The expected lines are the whole output: a defect must be reported once, at its file and line,
with its stable code, and must not drag unrelated errors or warnings along with it.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from conftest import SITES, run_cli
from ldn_site import yamlnodes
from ldn_site.yamlnodes import parse_yaml

CLAIM = "claims/drug-reduces-pain.yaml"
TRIAL = "sources/trial2020.yaml"
BIB = "sources/references.bib"
QUOTES = "quotes:"  # with --texts, the count of verified quotes comes before the summary

# (sample site, diagnostic lines in the order printed). The summary line is checked too.
CASES = [
    ("yaml-syntax", [
        "claims/broken-syntax.yaml:3:6: error: YAML syntax error: did not find expected ',' or "
        "']' [yaml-syntax]"]),
    # An unclosed quote is reported where it opens (PyYAML gives up at the end of the file)...
    ("yaml-unclosed-quote", [
        f"{CLAIM}:2:12: error: YAML syntax error: the quote that opens here is never closed (it "
        "runs to the end of the file) [yaml-syntax]"]),
    # ...or where it swallowed the following lines up to the next quote character.
    ("yaml-unclosed-quote-swallows-lines", [
        f"{CLAIM}:2:12: error: YAML syntax error: the quoted value that starts here runs on to "
        "line 21, column 11, and the file cannot be read from there (did not find expected "
        "key); is its closing quote missing? [yaml-syntax]"]),
    ("yaml-multiple-documents", [
        f"{CLAIM}:26:1: error: a file must hold exactly one YAML document "
        "[yaml-multiple-documents]"]),
    ("yaml-empty-file", [
        "claims/empty.yaml:1: error: the file holds no YAML document [yaml-empty]"]),
    ("duplicate-key", [
        f"{CLAIM}:4:1: error: duplicate key 'topic' (first defined on line 3) [duplicate-key]"]),
    ("unknown-field", [
        f"{CLAIM}:5:1: error: unknown field 'confidence' (allowed: authority, dose, evidence, "
        "grading, kind, mechanism, origin, plain_reading, question, related, reviewed, "
        "seen_in, side_effects, statement, summary, title, topic, verdict) [unknown-field]"]),
    # A mistyped field names the field meant, and is not reported missing as well.
    ("mistyped-field", [
        f"{CLAIM}:5:1: error: unknown field 'evidense' (did you mean 'evidence'?) "
        "[unknown-field]"]),
    ("mistyped-nested-field", [
        f"{CLAIM}:19:5: error: unknown field 'grading.imprecision.ratting' (did you mean "
        "'rating'?) [unknown-field]"]),
    ("missing-field", [
        f"{CLAIM}:1:1: error: missing required field 'statement' [missing-field]"]),
    ("wrong-type", [
        f"{TRIAL}:3:4: error: 'n' must be a whole number, not 'forty' [wrong-type]"]),
    ("wrong-type-list", [
        f"{CLAIM}:24:3: error: 'related' must be a list, not a mapping [wrong-type]"]),
    ("invalid-value", [
        f"{CLAIM}:4:10: error: 'verdict' must be one of supported, mixed, unsupported, refuted; "
        "got 'probably' [invalid-value]"]),
    # YAML 1.1 would read 1.10 as the float 1.1 and hand it to an integer field.
    ("yaml11-float-as-int", [
        f"{TRIAL}:3:4: error: 'n' must be a whole number, not '1.10' [wrong-type]"]),
    # A date field given something that only looks like a date, or YAML 1.1's boolean "yes".
    ("yaml11-date-not-a-date", [
        f"{CLAIM}:24:9: error: 'reviewed.date' value '2026-02-30' is not a real date "
        "(YYYY-MM-DD) [invalid-date]"]),
    ("yaml11-date-yes", [
        f"{CLAIM}:24:9: error: 'reviewed.date' value 'yes' is not in the required form: a date "
        "written YYYY-MM-DD, such as 2026-01-31 [invalid-format]"]),
    ("too-deep", [
        f"{CLAIM}:23:41: error: nesting deeper than 32 levels is not allowed [yaml-too-deep]"]),
    ("yaml-anchor", [
        f"{CLAIM}:21:10: error: YAML anchors (&summary) are not allowed; write the value out "
        "[yaml-anchor]"]),
    ("yaml-alias", [
        f"{CLAIM}:22:9: error: YAML aliases (*name) are not allowed; write the value out "
        "[yaml-alias]"]),
    ("yaml-python-tag", [
        f"{CLAIM}:22:9: error: YAML tags (!!python/object/apply:os.system) are "
        "not allowed [yaml-tag]"]),
    ("invalid-claim-id", [
        "claims/Pain_Claim.yaml:1: error: claim id 'Pain_Claim' (the file name) must be "
        "lowercase letters, digits and single hyphens [invalid-id]"]),
    ("invalid-source-key", [
        "sources/Trial2020.yaml:1: error: source key 'Trial2020' (the file name) must be a "
        "lowercase BibTeX key: letters, digits, hyphens and underscores [invalid-id]"]),
    ("wrong-extension", [
        "claims/drug-helps-sleep.yml:1: error: content files must end in .yaml, not .yml "
        "[wrong-extension]"]),
    ("duplicate-excerpt-id", [
        f"{TRIAL}:21:5: error: duplicate excerpt id 'abstract' (first defined on line 18) "
        "[duplicate-id]"]),
    ("duplicate-bibkey", [
        f"{BIB}:18: error: duplicate BibTeX key 'trial2020' (first defined on line 1) "
        "[duplicate-id]"]),
    ("duplicate-bibtex-field", [
        f"{BIB}:1: error: BibTeX entry 'trial2020' has the field 'year' more than once "
        "[duplicate-key]"]),
    ("bibtex-syntax", [
        f"{BIB}:18: error: unparsable BibTeX entry: Unexpectedly reached end of file. "
        "[bibtex-syntax]"]),
    ("unknown-bibkey", [
        f"{CLAIM}:17:13: error: evidence: unknown BibTeX key 'nosuch2019' [unknown-bibkey]"]),
    ("dangling-excerpt", [
        f"{CLAIM}:9:16: error: evidence: excerpt 'trial2020#discussion' does not exist "
        "[dangling-excerpt]"]),
    ("excerpt-from-other-source", [
        f"{CLAIM}:9:36: error: evidence: excerpt 'article-a#pain-claim' is not from the item's "
        "source 'trial2020' [excerpt-source-mismatch]"]),
    # The excerpt's source is in the bibliography but has no record: both ends are reported.
    ("excerpt-source-without-record", [
        f"{CLAIM}:22:33: error: seen_in: 'article-b#dose-claim' points to a source with no record "
        "(sources/article-b.yaml) [missing-source-record]",
        f"{BIB}:18: error: BibTeX entry 'article-b' has no source record "
        "sources/article-b.yaml [missing-source-record]"]),
    ("bib-entry-without-record", [
        f"{BIB}:18: error: BibTeX entry 'orphan2021' has no source record "
        "sources/orphan2021.yaml [missing-source-record]"]),
    # A mistyped id gets the closest existing one suggested, when one is close.
    ("mistyped-excerpt-id", [
        f"{CLAIM}:9:16: error: evidence: excerpt 'trial2020#abstarct' does not exist (did you "
        "mean 'trial2020#abstract'?) [dangling-excerpt]"]),
    # Only the typo: not that the item's excerpt is from another source, nor that the source
    # meant is not cited (both follow from the typo).
    ("mistyped-bibkey", [
        f"{CLAIM}:6:13: error: evidence: unknown BibTeX key 'trail2020' (did you mean "
        "'trial2020'?) [unknown-bibkey]"]),
    ("dangling-related-claim", [
        f"{CLAIM}:23:11: error: related: no claim with id 'drug-cures-pain' [dangling-claim]"]),
    ("related-self-reference", [
        f"{CLAIM}:23:11: error: related: a claim cannot be related to itself [self-reference]"]),
    ("missing-reason", [
        f"{CLAIM}:19:5: error: grading.imprecision is rated 'serious', which changes the "
        "certainty, so it needs a reason [missing-reason]"]),
    ("upgrade-on-randomized", [
        f"{CLAIM}:22:5: error: grading.large_effect: upgrades apply only to evidence that starts "
        "at low or very low; this claim starts at high [invalid-upgrade]"]),
    ("empty-evidence", [
        "claims/no-evidence.yaml:5:11: error: 'evidence' needs at least 1 item(s) "
        "[too-few-items]"]),
    ("effect-outside-interval", [
        f"{CLAIM}:11:7: error: effect: value -1.5 lies outside its confidence interval -0.9 to "
        "-0.1 [invalid-effect]"]),
    ("arms-more-events-than-people", [
        f"{CLAIM}:18:23: error: effect: arms.intervention has more events (25) than "
        "participants (20) [invalid-arms]"]),
    ("unsafe-link-javascript", [
        f"{CLAIM}:21:10: error: link to 'javascript:alert(1)' uses a forbidden scheme (only "
        "http:, https: and mailto: links are allowed) [unsafe-link]"]),
    ("unsafe-link-data", [
        f"{CLAIM}:7:14: error: link to 'data:text/html;base64,"
        "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' uses a forbidden scheme (only http:, https: "
        "and mailto: links are allowed) [unsafe-link]"]),
    ("unsafe-link-vbscript", [
        f"{TRIAL}:7:10: error: link to 'VBScript:msgbox(1)' uses a forbidden scheme (only http:, "
        "https: and mailto: links are allowed) [unsafe-link]"]),
    # &#106; is "j", &#x09; a tab a browser strips, &colon; is ":". The tab is shown escaped.
    ("unsafe-link-entities", [
        f"{CLAIM}:21:10: error: link to 'java\\tscript:alert(1)' uses a forbidden scheme (only "
        "http:, https: and mailto: links are allowed) [unsafe-link]"]),
    ("unsafe-link-file", [
        f"{CLAIM}:21:10: error: link to 'file:///etc/passwd' uses a forbidden scheme (only "
        "http:, https: and mailto: links are allowed) [unsafe-link]"]),
    # A BibTeX url becomes a live "Record or publisher page" link: http(s) only, in any case
    # and spacing. The error names the line of the field.
    ("bib-url-javascript", [
        f"{BIB}:11: error: BibTeX entry 'trial2020': url ' JavaScript:alert(1)' is not an "
        "http:// or https:// address [unsafe-url]"]),
    ("bib-url-data", [
        f"{BIB}:11: error: BibTeX entry 'trial2020': url 'data:text/html;base64,"
        "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' is not an http:// or https:// address "
        "[unsafe-url]"]),
    ("bib-url-vbscript", [
        f"{BIB}:16: error: BibTeX entry 'article-a': url 'vbscript:msgbox(1)' is not an "
        "http:// or https:// address [unsafe-url]"]),
    ("bib-doi-malformed", [
        f"{BIB}:9: error: BibTeX entry 'trial2020': doi '10.10/test.1' is not a bare DOI "
        "(10.<registrant>/<suffix>, without https://doi.org/) [invalid-doi]"]),
    ("bib-doi-as-url", [
        f"{BIB}:9: error: BibTeX entry 'trial2020': doi 'https://doi.org/10.1000/test.1' is "
        "not a bare DOI (10.<registrant>/<suffix>, without https://doi.org/) [invalid-doi]"]),
    # A name BibTeX cannot split into first, von, last and jr parts.
    ("bib-name-unsplittable", [
        f"{BIB}:1: error: BibTeX entry 'trial2020': the name 'Roe, Jr, Richard, MD' cannot be "
        "split into its parts (too many commas); BibTeX reads 'First von Last', 'von Last, "
        "First' or 'von Last, Jr, First' [invalid-name]"]),
    # The other addresses an input can give are http(s) by their schema pattern.
    ("verified-at-javascript", [
        f"{TRIAL}:17:5: error: 'verified_at[2]' value '  JavaScript:alert(1)' is not in the "
        "required form: a web address starting with https:// (or http://), without spaces "
        "[invalid-format]"]),
    ("base-url-javascript", [
        "site.yaml:2:11: error: 'base_url' value ' javascript:alert(1)//' is not in the required "
        "form: a web address starting with https:// (or http://) and ending with / "
        "[invalid-format]"]),
    ("article-as-evidence", [
        f"{CLAIM}:17:13: error: evidence: 'article-a' is a popular article under review; cite it "
        "in seen_in, not as evidence [article-as-evidence]"]),
    ("seen-in-not-an-article", [
        f"{CLAIM}:22:33: error: seen_in: 'trial2020#abstract' is not an excerpt of a popular "
        "article [not-an-article]"]),
    ("article-without-fulltext", [
        "sources/article-a.yaml:1: error: a popular article needs 'fulltext' so its excerpts "
        "can be checked verbatim [missing-field]"]),
    ("missing-provenance", [
        f"{TRIAL}:1: error: verified_at must list the public pages this record was checked "
        "against [missing-provenance]"]),
    # Where an article was published is checked like any fact; studies keep theirs in BibTeX.
    ("article-origin-without-provenance", [
        "sources/article-a.yaml:8: error: url, site_name given, so verified_at must list the "
        "public page on which the article was seen [missing-provenance]"]),
    ("article-origin-on-a-study", [
        f"{TRIAL}:7: error: published: for popular articles only; where a study or document "
        "was published belongs in its BibTeX entry [invalid-value]"]),
    # An open-label study starts low: one downgrade leaves the supported claim at very low.
    ("risk-of-bias-not-randomized", [
        f"{CLAIM}:4:10: warning: verdict supported at very low certainty: very low certainty "
        "cannot settle a claim, so the verdict is then unsupported; correct the verdict or the "
        "grading, or say in plain_reading what this pair means (a sentence about the certainty) "
        "[verdict-certainty]",
        f"{TRIAL}:9:3: error: risk_of_bias applies to randomized evidence only; this source is of "
        "kind open-label-study [invalid-value]"]),
    ("review-in-future", [
        f"{CLAIM}:24:3: error: reviewed.date 2026-03-01 is in the future [invalid-date]"]),
    ("missing-config", [
        "site.yaml: error: no site.yaml in ROOT: run ldn-site inside the repository (the "
        "folder holding site.yaml is found upward), or give that folder with --root "
        "[missing-config]"]),
    ("invalid-utf8", [
        "claims/latin1.yaml:2: error: file is not valid UTF-8 [invalid-encoding]"]),
    # Checked with --texts <site>/texts: the article's text says "cures all pain".
    ("excerpt-mismatch", [
        "sources/article-a.yaml:9:5: error: excerpt 'pain-claim' is not verbatim in "
        "article-a.txt: matches up to character 15 ('…The drug cures '), then differs "
        "[excerpt-mismatch]",
        f"{QUOTES} 0 of 1 verified against the full texts of 1 article in TEXTS"]),
    # Checked with --texts <site>/texts, which holds another article's text only: a wrong
    # folder must not pass by checking nothing.
    ("missing-fulltext", [
        "sources/article-a.yaml:6:9: error: no full text article-a.txt (or a file with its "
        "sha256) among the texts given, so its 1 excerpt cannot be checked [missing-fulltext]",
        f"{QUOTES} 0 of 1 verified against the full texts of 0 articles in TEXTS"]),
]



def with_summary(lines: list[str], site) -> list[str]:
    """The expected output: the lines (with TEXTS standing for the full-text folder and ROOT for
    the site's), then
    the summary line."""
    return [line.replace("TEXTS", str(site / "texts")).replace("ROOT", str(site))
            for line in lines] + [summary_of(lines)]


def summary_of(lines: list[str]) -> str:
    errors = sum(": error: " in line for line in lines)
    warnings = sum(": warning: " in line for line in lines)
    return (f"{errors} error{'' if errors == 1 else 's'}, "
            f"{warnings} warning{'' if warnings == 1 else 's'}")


def check_args(site) -> list:
    args = ["check", "--root", site]
    if (site / "texts").is_dir():
        args += ["--texts", site / "texts"]
    return args


@pytest.mark.parametrize("name, expected", CASES, ids=[c[0] for c in CASES])
def test_invalid_site_reports_exact_diagnostics(make_site, name, expected):
    site = make_site(f"invalid/{name}")
    result = run_cli(*check_args(site))
    assert result.stdout.splitlines() == with_summary(expected, site)
    assert result.exit_code == 1


def test_every_invalid_sample_site_is_in_the_table():
    on_disk = {p.name for p in (SITES / "invalid").iterdir() if p.is_dir()}
    in_table = {name for name, _ in CASES} | {"several-defects", "warnings-only"}
    assert on_disk == in_table


def test_the_minimal_site_is_clean(make_site):
    """The control for every case above: without the overlay nothing is reported."""
    result = run_cli("check", "--root", make_site("minimal"))
    assert result.stdout.splitlines() == ["0 errors, 0 warnings"]
    assert result.exit_code == 0


def test_quote_check_passes_when_the_excerpt_is_verbatim(make_site):
    """Control for excerpt-mismatch: a text that holds the excerpt verbatim is accepted."""
    site = make_site("invalid/excerpt-mismatch")
    data = "Paragraph one. The drug cures pain. The article says so.\n".encode("utf-8")
    (site / "texts" / "article-a.txt").write_bytes(data)
    record = site / "sources" / "article-a.yaml"
    old_digest = record.read_text(encoding="utf-8").split("sha256: ")[1].split()[0]
    result = run_cli("check", "--root", site, "--texts", site / "texts")
    # The text changed, so its recorded digest no longer matches: only a warning.
    counted = f"quotes: 1 of 1 verified against the full texts of 1 article in {site / 'texts'}"
    assert result.stdout.splitlines() == [
        "sources/article-a.yaml:6:3: warning: article-a.txt does not match the recorded sha256; "
        "the text has changed since the excerpts were taken [fulltext-changed]",
        counted, "0 errors, 1 warning"]
    assert result.exit_code == 0
    record.write_text(record.read_text(encoding="utf-8").replace(
        old_digest, hashlib.sha256(data).hexdigest()), encoding="utf-8")
    result = run_cli("check", "--root", site, "--texts", site / "texts")
    assert result.stdout.splitlines() == [counted, "0 errors, 0 warnings"]
    assert result.exit_code == 0


def test_quote_check_ignores_whitespace_but_nothing_else(make_site):
    """The article text ran words together and broke lines ("The drugcures\n   pain."), as
    text extracted from a web page does; the excerpt "The drug cures pain." still matches.
    Any other difference, a punctuation mark included, does not."""
    site = make_site("quote-whitespace")
    texts = site / "texts"
    result = run_cli("check", "--root", site, "--texts", texts)
    assert result.stdout.splitlines() == [
        f"quotes: 1 of 1 verified against the full texts of 1 article in {texts}",
        "0 errors, 0 warnings"]
    assert result.exit_code == 0
    data = json.loads(run_cli("check", "--root", site, "--texts", texts, "--format",
                              "json").stdout)
    assert data["quotes"] == {"verified": 1, "excerpts": 1, "articles": 1}

    record = site / "sources" / "article-a.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace(
        "text: The drug cures pain.", "text: The drug cures pain!"), encoding="utf-8")
    result = run_cli("check", "--root", site, "--texts", texts)
    assert result.stdout.splitlines() == [
        "sources/article-a.yaml:9:5: error: excerpt 'pain-claim' is not verbatim in "
        "article-a.txt: matches up to character 19 ('…The drug cures pain'), then differs "
        "[excerpt-mismatch]",
        f"quotes: 0 of 1 verified against the full texts of 1 article in {texts}",
        "1 error, 0 warnings"]
    assert result.exit_code == 1


def test_warnings_alone_do_not_fail_the_check(make_site):
    result = run_cli("check", "--root", make_site("invalid/warnings-only"))
    assert result.stdout.splitlines() == [
        f"{CLAIM}:24:3: warning: last reviewed 2024-06-01, 610 days ago (the limit is 365 "
        "days) [review-due]",
        "sources/article-b.yaml:9:5: warning: excerpt 'article-b#pain-claim' is not in any "
        "claim's seen_in [unreviewed-excerpt]",
        "0 errors, 2 warnings"]
    assert result.exit_code == 0


def test_several_defects_in_several_files_are_all_reported_sorted(make_site):
    """Nothing stops at the first problem: every defect in every file is listed, sorted by
    path and then by line as a number (3 before 21), and the summary comes last."""
    result = run_cli("check", "--root", make_site("invalid/several-defects"))
    lines = result.stdout.splitlines()
    assert lines == [
        "claims/BadName.yaml:1: error: claim id 'BadName' (the file name) must be lowercase "
        "letters, digits and single hyphens [invalid-id]",
        "claims/broken.yaml:2:15: error: YAML syntax error: mapping values are not allowed in "
        "this context [yaml-syntax]",
        f"{CLAIM}:19:5: error: grading.imprecision is rated 'serious', which changes the "
        "certainty, so it needs a reason [missing-reason]",
        f"{CLAIM}:22:11: error: related: no claim with id 'no-such-claim' [dangling-claim]",
        f"{CLAIM}:24:3: warning: last reviewed 2024-06-01, 610 days ago (the limit is 365 days) "
        "[review-due]",
        f"{BIB}:18: error: BibTeX entry 'orphan2021' has no source record "
        "sources/orphan2021.yaml [missing-source-record]",
        f"{TRIAL}:3:4: error: 'n' must be a whole number, not 'forty' [wrong-type]",
        f"{TRIAL}:21:5: error: duplicate excerpt id 'abstract' (first defined on line 18) "
        "[duplicate-id]",
        "7 errors, 1 warning",
    ]
    assert result.exit_code == 1
    located = [(line.split(":")[0], int(line.split(":")[1])) for line in lines[:-1]]
    assert located == sorted(located)


# --- the YAML reader on hostile nesting ----------------------------------------------------

def test_a_hundred_thousand_open_brackets_are_refused_not_crashed_on(make_site):
    site = make_site("minimal")
    (site / "claims" / "deep.yaml").write_text("title: " + "[" * 100_000 + "\n",
                                               encoding="utf-8")
    result = run_cli("check", "--root", site)
    assert result.stdout.splitlines() == [
        "claims/deep.yaml:1:1007: error: nesting deeper than 32 levels is not allowed "
        "[yaml-too-deep]",
        "1 error, 0 warnings"]
    assert result.exit_code == 1


@pytest.mark.parametrize("text", [
    "x: " + "[" * 100_000,
    "x: " + "[" * 100_000 + "]" * 100_000,
    "x: " + "{a: " * 100_000,
    "- " * 100_000 + "a",
    "".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "end\n",
], ids=["unclosed-flow", "closed-flow", "flow-mappings", "block-sequence", "block-mapping"])
@pytest.mark.parametrize("loader", ["libyaml", "pure-python"])
def test_deep_nesting_is_a_located_error_with_either_parser(monkeypatch, text, loader):
    if loader == "pure-python":
        monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    node, diags = parse_yaml(text, "f.yaml")
    assert node is None
    assert [(d.code, d.path) for d in diags] == [("yaml-too-deep", "f.yaml")]


def test_nesting_up_to_the_limit_is_accepted():
    depth = yamlnodes.MAX_DEPTH
    node, diags = parse_yaml("[" * depth + "]" * depth, "f.yaml")
    assert diags == []
    for _ in range(depth - 1):
        node = node.items[0]
    assert node.kind == "sequence" and node.items == []
    node, diags = parse_yaml("[" * (depth + 1) + "]" * (depth + 1), "f.yaml")
    assert [d.code for d in diags] == ["yaml-too-deep"]
