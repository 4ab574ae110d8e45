"""The pure pieces behind the reader's site: forest plots, citations, glossary links, JSON-LD
and the search-index canonicalizer."""

from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET

import pytest

from ldn_site import forestplot, metadata, searchindex
from ldn_site.citations import Citations, csl_item, split_names
from ldn_site.glossary import TERMS_BY_ANCHOR, TermLinker, glossary_entries
from ldn_site.model import BibEntry

SVG = "{http://www.w3.org/2000/svg}"


# --- forest plots --------------------------------------------------------------------------

def rows():
    return [forestplot.Row("Younger <&> 2013", "Pain", -0.61, -1.14, -0.08, 31),
            forestplot.Row("Bested 2023", "FIQR", 0.1, -0.3, 0.5, None)]


def test_forest_plot_is_well_formed_svg_with_escaped_text():
    svg = forestplot.render_forest_plot(rows(), "SMD", "standardized mean difference", False,
                                        "fp")
    root = ET.fromstring(svg)  # raises if the escaping broke the XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Younger <&> 2013 · Pain" in texts
    assert "−0.61 (−1.14 to −0.08)" in texts
    desc = root.find(f"{SVG}desc").text
    assert "Younger <&> 2013, Pain: −0.61 (95% CI −1.14 to −0.08), 31 participants; the " \
           "interval excludes no difference." in desc
    assert "Bested 2023, FIQR: 0.1 (95% CI −0.3 to 0.5); the interval includes no " \
           "difference." in desc
    assert len(list(root.iter(f"{SVG}rect"))) == 2


@pytest.mark.parametrize("lo,hi,expected", [
    (-1.3, 0.5, [-1.0, -0.5, 0.0, 0.5]),
    (-0.2, 0.2, [-0.2, -0.1, 0.0, 0.1, 0.2]),
    (0, 10, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]),
])
def test_linear_ticks(lo, hi, expected):
    assert forestplot.linear_ticks(lo, hi) == expected


def test_ratio_measures_use_a_log_axis_with_null_at_one():
    svg = forestplot.render_forest_plot(
        [forestplot.Row("A", "x", 3.0, 0.9, 9.9, 60)], "RR", "risk ratio", True, "rr")
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert {"1", "2", "5"} <= set(labels)
    assert "1 means no difference" in root.find(f"{SVG}desc").text


def test_a_ratio_with_a_non_positive_bound_falls_back_to_a_linear_axis():
    svg = forestplot.render_forest_plot(
        [forestplot.Row("A", "x", 0.5, -0.1, 1.2, None)], "RR", "risk ratio", True, "rr")
    ET.fromstring(svg)


# --- citations -----------------------------------------------------------------------------

def entry(key, etype="article", **fields):
    return BibEntry(key, etype, fields, 1)


def test_ama_citation_from_bibtex_via_citeproc():
    bib = {"t": entry("t", author="Younger, Jarred and Noor, Noorulain and McCue, Rebecca "
                                  "and Mackey, Sean",
                      title="Low-dose naltrexone for the treatment of fibromyalgia",
                      journal="Arthritis {\\&} Rheumatism", year="2013", volume="65",
                      number="2", pages="529--538", doi="10.1002/art.37734")}
    c = Citations(bib)
    assert c.text("t") == ("Younger J, Noor N, McCue R, Mackey S. Low-dose naltrexone for the "
                           "treatment of fibromyalgia. Arthritis & Rheumatism. "
                           "2013;65(2):529-538. doi:10.1002/art.37734")
    assert str(c.html("t")).count("<i>Arthritis &amp; Rheumatism</i>") == 1
    assert c.short("t") == "Younger et al. 2013"


def test_citation_without_author_does_not_repeat_the_title():
    c = Citations({"a": entry("a", "misc", title="Is Drug X Effective?",
                              howpublished="Popular web article")},
                  {"a": "popular-article"})
    assert c.text("a") == "Is Drug X Effective? Popular web article."
    assert c.short("a") == "Is Drug X Effective?"


def test_citation_cache_is_used_and_reported():
    bib = {"t": entry("t", author="Doe, Jane", title="A trial", journal="J", year="2020")}
    first = Citations(bib)
    assert first.added and first.entries == first.added
    second = Citations(bib, cache={k: "<b>cached</b>" for k in first.added})
    assert second.added == {} and str(second.html("t")) == "<b>cached</b>"


def test_institutional_authors_stay_whole():
    assert split_names("{Food and Drug Administration} and Doe, J.") == [
        "{Food and Drug Administration}", "Doe, J."]
    item = csl_item(entry("x", author="{Food and Drug Administration}", title="Label"))
    assert item["author"] == [{"literal": "Food and Drug Administration"}]
    assert csl_item(entry("y", title="A <b> & C"))["title"] == "A &lt;b&gt; &amp; C"


# --- glossary ------------------------------------------------------------------------------

def test_term_linker_links_first_mention_only_and_never_inside_links_or_code():
    link = TermLinker("../")
    html = link('<p>A <a href="x">placebo</a> and a placebo-controlled RCT. <code>RCT</code> '
                "again an RCT and a crossover.</p>")
    assert html == ('<p>A <a href="x">placebo</a> and a <a class="term" '
                    'href="../glossary.html#placebo">placebo-controlled</a> <a class="term" '
                    'href="../glossary.html#rct">RCT</a>. <code>RCT</code> again an RCT and a '
                    '<a class="term" href="../glossary.html#crossover-trial">crossover</a>.</p>')
    assert link("<p>placebo again</p>") == "<p>placebo again</p>"


def test_every_linked_term_has_triggers_that_its_matches_contain():
    from ldn_site.glossary import TERMS, TRIGGERS
    samples = {"adverse-event": "Side effects", "ci": "95% CI", "significant": "p &lt; 0.05",
               "rct": "RCTs", "risk-of-bias": "RoB 2", "fiqr": "FIQR"}
    for term in TERMS:
        if term.pattern:
            assert TRIGGERS[term.anchor], term.anchor
            if term.anchor in samples:
                linked = TermLinker("")(samples[term.anchor])
                assert f"#{term.anchor}" in linked, term.anchor


def test_glossary_covers_the_terms_the_brief_names():
    anchors = {e["anchor"] for e in glossary_entries()}
    assert {"grade", "rct", "crossover-trial", "ci", "risk-of-bias", "measure-smd",
            "domain-imprecision"} <= anchors
    assert len(anchors) == len(glossary_entries())
    assert TERMS_BY_ANCHOR["ci"].definition


# --- metadata ------------------------------------------------------------------------------

def test_json_ld_cannot_close_its_script_element():
    text = metadata.json_ld([{"name": "</script><script>alert(1)</script> & more"}])
    assert "</" not in text and "<" not in text and "&" not in text
    assert json.loads(text)["@graph"][0]["name"] == "</script><script>alert(1)</script> & more"


def test_atom_feed_is_well_formed_and_escaped():
    feed = metadata.atom_feed("https://e.org/", "T & co", "S", "en", ["Ed <x>"], "2026-01-02",
                              [{"url": "https://e.org/c.html", "title": "A < B", "date":
                                "2026-01-02", "category": "dose", "label": "Dose",
                                "summary": "\"quoted\" & more"}], "Not advice <b> & co")
    root = ET.fromstring(feed)
    ns = "{http://www.w3.org/2005/Atom}"
    assert root.find(f"{ns}title").text == "T & co"
    assert root.find(f"{ns}entry/{ns}title").text == "A < B"
    assert root.find(f"{ns}entry/{ns}summary").text == "\"quoted\" & more Not advice <b> & co"


# --- search index --------------------------------------------------------------------------

def chunk(value) -> bytes:
    return gzip.compress(searchindex.SIGNATURE + searchindex._encode(value), mtime=0)


def test_cbor_round_trip():
    value = ["1.5.2", [["en_a", 300], ["en_b", 70000]], ("map", [("k", b"\x00\x01")]), []]
    data, _ = searchindex.write_chunk(value)
    assert searchindex.read_chunk(data) == value


def test_canonical_index_does_not_depend_on_the_order_pagefind_wrote():
    def index(order):
        values = [["Low", [1]], ["High", [2, 3]]]
        filters = [["verdict", "en_f2"], ["topic", "en_f1"]]
        meta = ["1.5.2", [["en_frag", 10]], [], filters if order else filters[::-1], [],
                ["title"]]
        return {"pagefind-entry.json": json.dumps(
                    {"version": "1.5.2", "languages": {"en": {"hash": "en_m", "wasm": "en",
                                                              "page_count": 3}}}).encode(),
                "pagefind.en_m.pf_meta": chunk(meta),
                "filter/en_f1.pf_filter": chunk(["topic", values if order else values[::-1]]),
                "filter/en_f2.pf_filter": chunk(["verdict", values[::-1] if order else values])}

    a_write, a_remove = searchindex.canonicalize(index(True))
    b_write, b_remove = searchindex.canonicalize(index(False))
    assert a_write == b_write and a_remove == b_remove
    entry = json.loads(a_write["pagefind-entry.json"])
    meta = searchindex.read_chunk(a_write[f"pagefind.{entry['languages']['en']['hash']}.pf_meta"])
    assert [name for name, _ in meta[3]] == ["topic", "verdict"]
    for name, digest in meta[3]:
        values = searchindex.read_chunk(a_write[f"filter/{digest}.pf_filter"])[1]
        assert [v[0] for v in values] == ["High", "Low"]
