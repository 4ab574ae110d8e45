"""Mistakes inside a BibTeX entry that bibtexparser accepts without a word: a missing comma
(one field runs on into the next), the empty entry ``ldn-site new source`` prints, an entry
type or field the site does not know, a year that is not a year, an empty name in a name
list. Each case edits the minimal site's references.bib the way a contributor might, and
``ldn-site check`` must report exactly the expected diagnostics (the whole output, so that a
mistake drags no follow-on error along) and exit with 1.

The minimal site's references.bib, for the line numbers below::

     1  @article{trial2020,
     2    author = {Doe, Jane and Roe, Richard},
     3    title = {A placebo-controlled trial of a drug},
     4    journal = {Journal of Tests},
     5    year = {2020},
     6    volume = {1},
     7    number = {2},
     8    pages = {3-4},
     9    doi = {10.1000/test.1},
    10    pmid = {12345678}
    11  }
    12
    13  @misc{article-a,
    14    title = {A popular article},
    15    howpublished = {Popular web article}
    16  }
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import MINIMAL, run_cli
from ldn_site import citations, scaffolding

README = Path(__file__).resolve().parent.parent / "README.md"

BIB = "sources/references.bib"
ENTRY = "BibTeX entry 'trial2020'"
TRIAL = (MINIMAL / BIB).read_text(encoding="utf-8").split("\n\n")[0] + "\n"
ALLOWED_TYPES = ("@article, @book, @conference, @inbook, @incollection, @inproceedings, "
                 "@manual, @mastersthesis, @misc, @online, @phdthesis, @techreport, "
                 "@unpublished")
ALLOWED_FIELDS = ("author, booktitle, doi, edition, editor, howpublished, institution, "
                  "journal, note, number, organization, pages, pmcid, pmid, publisher, series, "
                  "title, url, volume, year")
MISSING_COMMA = "is read as part of the field '{}': a comma is probably missing after the " \
                "previous field [missing-comma]"


def empty(line: int, name: str, key: str = "trial2020") -> str:
    return (f"{BIB}:{line}: error: BibTeX entry '{key}': the field '{name}' is empty; fill it "
            "in from the source, or delete the line if the source does not give it "
            "[empty-value]")


def empty_name(value: str) -> str:
    return (f"{BIB}:2: error: {ENTRY}: author '{value}' has an empty name: 'and' at its start "
            "or end, or twice in a row [invalid-name]")


# (case, text replaced in references.bib, its replacement, the diagnostic lines expected)
CASES = [
    # (a) A missing comma: the next field is read into this one and vanishes.
    ("missing-comma-after-author", "Roe, Richard},", "Roe, Richard}",
     [f"{BIB}:3: error: {ENTRY}: 'title = ...' {MISSING_COMMA.format('author')}"]),
    ("missing-comma-after-bare-year", "year = {2020},", "year = 2020",
     [f"{BIB}:6: error: {ENTRY}: 'volume = ...' {MISSING_COMMA.format('year')}"]),
    ("missing-comma-before-last-field", "title = {A popular article},",
     "title = {A popular article}",
     [f"{BIB}:15: error: BibTeX entry 'article-a': 'howpublished = ...' "
      f"{MISSING_COMMA.format('title')}"]),
    ("missing-comma-on-one-line", "of a drug},\n  journal", "of a drug} journal",
     [f"{BIB}:3: error: {ENTRY}: 'journal = ...' {MISSING_COMMA.format('title')}"]),
    # (b) The entry `ldn-site new source` prints, pasted unchanged: each placeholder left.
    ("new-source-stub-unfilled", TRIAL, scaffolding.bibtex_stub("trial2020"),
     [empty(2, "author"), empty(3, "title"), empty(4, "journal"), empty(5, "year"),
      empty(6, "volume"), empty(7, "pages"), empty(8, "doi"), empty(9, "pmid")]),
    ("empty-title", "title = {A popular article}", "title = { }",
     [empty(14, "title", "article-a")]),
    ("no-title", "  title = {A popular article},\n", "",
     [f"{BIB}:13: error: BibTeX entry 'article-a': no title; every reference needs the title "
      "its source gives [missing-field]"]),
    # (c) Names the site does not know, a year that is not one, empty names.
    ("misspelt-entry-type", "@article{trial2020", "@artcle{trial2020",
     [f"{BIB}:1: error: {ENTRY}: unknown entry type '@artcle' (did you mean '@article'?) "
      "[unknown-entry-type]"]),
    ("unknown-entry-type", "@misc{article-a", "@blogpost{article-a",
     [f"{BIB}:13: error: BibTeX entry 'article-a': unknown entry type '@blogpost' (allowed: "
      f"{ALLOWED_TYPES}) [unknown-entry-type]"]),
    ("misspelt-field", "journal = {", "jounral = {",
     [f"{BIB}:4: error: {ENTRY}: unknown field 'jounral' (did you mean 'journal'?) "
      "[unknown-field]"]),
    ("unknown-field", "pmid = {12345678}", "pmid = {12345678},\n  abstract = {Text}",
     [f"{BIB}:11: error: {ENTRY}: unknown field 'abstract' (allowed: {ALLOWED_FIELDS}) "
      "[unknown-field]"]),
    ("year-in-words", "year = {2020}", "year = {twenty}",
     [f"{BIB}:5: error: {ENTRY}: year 'twenty' is not a four-digit year [invalid-date]"]),
    ("year-with-letter", "year = {2020}", "year = {2020a}",
     [f"{BIB}:5: error: {ENTRY}: year '2020a' is not a four-digit year [invalid-date]"]),
    ("author-and-twice", "Doe, Jane and Roe", "Doe, Jane and and Roe",
     [empty_name("Doe, Jane and and Roe, Richard")]),
    ("author-and-first", "{Doe, Jane and Roe, Richard}", "{and Roe, Richard}",
     [empty_name("and Roe, Richard")]),
    ("author-and-last", "{Doe, Jane and Roe, Richard}", "{Doe, Jane and}",
     [empty_name("Doe, Jane and")]),
    # An empty name is one mistake, not also a name that cannot be split.
    ("author-and-twice-and-unsplittable", "Roe, Richard}", "and Roe, Jr, Richard, MD}",
     [empty_name("Doe, Jane and and Roe, Jr, Richard, MD")]),
    # An entry bibtexparser cannot parse is reported once: the claim citing it and its source
    # record are not told the key is unknown, nor the source uncited.
    ("unparsable-cited-entry", "of a drug},", "of a drug}\n  journal = {Never closed",
     [f"{BIB}:1: error: unparsable BibTeX entry: Unexpected block start: `@misc`. Was still "
      "looking for field-value closing `,` or `}` [bibtex-syntax]"]),
]


@pytest.mark.parametrize("old, new, expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bibtex_mistake_is_reported_exactly(make_site, old, new, expected):
    site = make_site()
    bib = site / BIB
    text = bib.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {BIB}"
    bib.write_text(text.replace(old, new), encoding="utf-8")
    result = run_cli("check", "--root", site)
    errors = len(expected)
    assert result.output.splitlines() == expected + [
        f"{errors} error{'' if errors == 1 else 's'}, 0 warnings"]
    assert result.exit_code == 1


def test_a_mistaken_entry_does_not_make_the_claims_citing_it_miss_a_number(make_site):
    """A claim may state its source's year: with the year written 'twenty', 2020 is in no
    field, but that is the BibTeX mistake already reported, not a number without a home."""
    site = make_site()
    claim = site / "claims" / "drug-reduces-pain.yaml"
    claim.write_text(claim.read_text(encoding="utf-8").replace(
        "One small trial found", "One small trial (2020) found"), encoding="utf-8")
    bib = site / BIB
    bib.write_text(bib.read_text(encoding="utf-8").replace("{2020}", "{twenty}"),
                   encoding="utf-8")
    result = run_cli("check", "--root", site)
    assert result.output.splitlines() == [
        f"{BIB}:5: error: {ENTRY}: year 'twenty' is not a four-digit year [invalid-date]",
        "1 error, 0 warnings"]


def test_a_note_line_starting_with_an_equation_is_not_a_missing_comma(make_site):
    """Prose such as "p = 0.03" at the start of a line is not a field name: the run-on check
    looks for a known field name, or a name followed by a brace or quote."""
    site = make_site()
    bib = site / BIB
    bib.write_text(bib.read_text(encoding="utf-8").replace(
        "pmid = {12345678}", "pmid = {12345678},\n  note = {Pain fell;\n  p = 0.03}"),
        encoding="utf-8")
    result = run_cli("check", "--root", site)
    assert result.output.splitlines() == ["0 errors, 0 warnings"]
    assert result.exit_code == 0


def test_quotes_and_braces_inside_a_braced_value_are_not_a_missing_comma(make_site):
    """A quote inside {...} is text: 'He said "x" y="z"' does not end the field, so the
    words after it are not a run-on field (only the delimiter the value opened with is)."""
    site = make_site()
    bib = site / BIB
    bib.write_text(bib.read_text(encoding="utf-8").replace(
        "pmid = {12345678}",
        'pmid = {12345678},\n  note = {Reported as "mild" by="most" and {LDN} title = {x}}'),
        encoding="utf-8")
    result = run_cli("check", "--root", site)
    assert result.output.splitlines() == ["0 errors, 0 warnings"]


@pytest.mark.parametrize("code, allowed", [("unknown-entry-type", citations.ENTRY_TYPES),
                                           ("unknown-field", citations.FIELDS)])
def test_readme_lists_the_entry_types_and_fields_accepted(code, allowed):
    text = " ".join(README.read_text(encoding="utf-8").split())
    listed = re.search(rf"\(`{code}`; ([a-z, ]+)\)", text)
    assert listed, f"README lists no names after `{code}`"
    assert listed.group(1).split(", ") == sorted(allowed)
