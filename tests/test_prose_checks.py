"""What ``check`` reports in the prose a reader sees: a BibTeX key or claim id written as a word
(``raw-key``, an error: the built pages must never show one, see
tests/test_review_rules.py), and HTML tags in a Markdown field (``raw-html``, a warning: raw
HTML is not rendered, so readers would see the tags). Each case edits one line of a copy of
the minimal sample site and asserts the whole output; the controls are texts that look alike
and must pass.
"""

from __future__ import annotations

import pytest

from conftest import run_cli

CLAIM = "claims/drug-reduces-pain.yaml"
TRIAL = "sources/trial2020.yaml"
SUMMARY = "summary: One small trial suggests the drug **reduces pain**."
RESULTS = "results: Pain fell more with the drug than with placebo."
KEY_IN_WORDS = ("is a BibTeX key, which readers do not know; name the study in words, such as "
                "'Doe & Roe 2020', as the site's citation links do [raw-key]")
HTML = ("HTML is not rendered, so readers would see '{}' as text; use Markdown instead "
        "(**bold**, *italic*, [text](https://...)) or the character itself (² rather than "
        "<sup>2</sup>) [raw-html]")

# (case, file, line as in the minimal site, line instead, diagnostics printed)
CASES = [
    ("bibkey-in-summary", CLAIM, SUMMARY, "summary: 'trial2020: one small trial.'", [
        f"{CLAIM}:21:10: error: summary: 'trial2020' {KEY_IN_WORDS}"]),
    ("bibkey-in-finding", CLAIM, "finding: One small trial", "finding: In trial2020 one trial", [
        f"{CLAIM}:7:14: error: evidence[1].finding: 'trial2020' {KEY_IN_WORDS}"]),
    ("bibkey-in-source-record", TRIAL, RESULTS, "results: As in (trial2020), pain fell.", [
        f"{TRIAL}:7:10: error: results: 'trial2020' {KEY_IN_WORDS}"]),
    ("claim-id-in-summary", CLAIM, SUMMARY, "summary: See drug-reduces-pain for more.", [
        f"{CLAIM}:21:10: error: summary: 'drug-reduces-pain' is a claim id, which readers do "
        "not know; name the claim in words, or list it under related [raw-key]"]),
    # Controls: a key in a link target or an address is part of a link, and a longer word
    # that holds a key is not that key.
    ("bibkey-in-link-target", CLAIM, SUMMARY,
     "summary: '[One trial](https://example.org/trial2020) and https://e.org/trial2020'", []),
    ("bibkey-in-a-longer-word", CLAIM, SUMMARY, "summary: trial2020a and trial2020-b", []),
    ("html-bold", CLAIM, SUMMARY, "summary: One <b>small</b> trial.", [
        f"{CLAIM}:21:10: warning: {HTML.format('<b>')}"]),
    ("html-superscript", TRIAL, RESULTS, "results: Pain fell by 2 cm<sup>2</sup>.", [
        f"{TRIAL}:7:10: warning: {HTML.format('<sup>')}"]),
    ("html-comment", CLAIM, SUMMARY, "summary: One trial. <!-- check this -->", [
        f"{CLAIM}:21:10: warning: {HTML.format('<!--')}"]),
    ("html-link", CLAIM, SUMMARY, "summary: '<a href=\"https://example.org\">One</a> trial.'", [
        f"{CLAIM}:21:10: warning: " + HTML.format('<a href="https://example.org">')]),
    # Controls: comparisons, a placeholder in angle brackets, an autolink and code are text.
    ("less-than-signs", CLAIM, SUMMARY, "summary: In under 40 (n<40), a < b; take <dose> mg.",
     []),
    ("autolink", CLAIM, SUMMARY, "summary: One trial, see <https://example.org/a>.", []),
    ("html-in-code", CLAIM, SUMMARY, "summary: One trial; `<b>` makes bold in HTML.", []),
]


@pytest.mark.parametrize("name, rel, old, new, expected", CASES, ids=[c[0] for c in CASES])
def test_prose_is_checked_for_what_readers_would_see(make_site, name, rel, old, new, expected):
    site = make_site()
    path = site / rel
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {rel}"
    path.write_text(text.replace(old, new), "utf-8")
    result = run_cli("check", "--root", site)
    errors = sum(": error: " in line for line in expected)
    warnings = len(expected) - errors
    assert result.stdout.splitlines() == expected + [
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"]
    assert result.exit_code == (1 if errors else 0)
