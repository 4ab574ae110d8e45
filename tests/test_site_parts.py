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
    return [forestplot.Row("Younger <&> 2013", -0.61, -1.14, -0.08, 31),
            forestplot.Row("Bested 2023", 0.1, -0.3, 0.5, None)]


SMD_PAIN = forestplot.Axis("Pain", "SMD", "standardized mean difference", False,
                           better="lower")
RR_DREAMS = forestplot.Axis("Vivid dreams", "RR", "risk ratio", True, better="lower")


def svg_texts(root) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def ticks_x(root) -> dict[str, str]:
    return {t.text: t.get("x") for t in root.iter(f"{SVG}text") if t.text in {"1", "2", "5"}}


def test_forest_plot_is_well_formed_svg_with_escaped_text():
    svg = forestplot.render_forest_plot(rows(), SMD_PAIN)
    root = ET.fromstring(svg)  # raises if the escaping broke the XML
    assert root.tag == f"{SVG}svg"
    # Hidden from screen readers: the page gives them the same numbers as a table.
    assert root.get("aria-hidden") == "true" and root.get("role") is None
    texts = svg_texts(root)
    assert "Younger <&> 2013" in texts
    assert "−0.61 (−1.14 to −0.08)" in texts
    assert len(list(root.iter(f"{SVG}rect"))) == 2
    # Numbers line up through CSS: the Nu checker rejects font-variant-numeric on <g>.
    assert "font-variant-numeric" not in svg


def test_the_table_states_every_row_in_words():
    assert forestplot.table_rows(rows(), SMD_PAIN) == [
        {"label": "Younger <&> 2013", "pooled": False, "estimate": "−0.61", "low": "−1.14",
         "high": "−0.08", "n": 31, "per_100": None,
         "reading": "Favours LDN (lower with LDN); the whole interval is on that side"},
        {"label": "Bested 2023", "pooled": False, "estimate": "0.1", "low": "−0.3",
         "high": "0.5", "n": None, "per_100": None,
         "reading": "No clear difference (the estimate is higher with LDN)"}]


@pytest.mark.parametrize("better,left,right", [
    ("lower", "← Favours LDN", "Favours placebo →"),
    ("higher", "← Favours placebo", "Favours LDN →"),
    (None, "← Lower with LDN", "Higher with LDN →"),
])
def test_the_two_sides_of_the_axis_are_labelled(better, left, right):
    axis = forestplot.Axis("Pain", "MD", "mean difference", False, better=better)
    texts = svg_texts(ET.fromstring(forestplot.render_forest_plot(rows(), axis)))
    assert left in texts and right in texts


def test_a_comparator_other_than_placebo_names_its_side():
    axis = forestplot.Axis("TNF", "SMD", "standardized mean difference", False,
                           "fibromyalgia", "healthy controls")
    assert forestplot.side_labels(axis) == ("Lower with fibromyalgia",
                                            "Higher with fibromyalgia")
    axis = forestplot.Axis("Pain", "MD", "mean difference", False, "LDN", "duloxetine",
                           "lower")
    assert forestplot.side_labels(axis) == ("Favours LDN", "Favours duloxetine")


def test_pooled_estimates_are_diamonds_below_the_trials_and_marked_pooled():
    pooled = forestplot.Row("Lee 2022", -0.3, -0.58, -0.02, 240, pooled=True)
    svg = forestplot.render_forest_plot([pooled] + rows(), SMD_PAIN)
    root = ET.fromstring(svg)
    texts = svg_texts(root)
    assert "Lee 2022 (pooled)" in texts and "Pooled (meta-analysis)" in texts
    # Trials first, then the rule and the pooled estimate, whatever order they came in.
    y = {t.text: float(t.get("y")) for t in root.iter(f"{SVG}text")}
    assert y["Younger <&> 2013"] < y["Bested 2023"] < y["Pooled (meta-analysis)"] \
        < y["Lee 2022 (pooled)"]
    diamonds = [p for p in root.iter(f"{SVG}path") if p.get("class") == "pooled"]
    assert len(diamonds) == 1 and diamonds[0].get("d").endswith("Z")
    assert len(list(root.iter(f"{SVG}rect"))) == 2  # squares for the trials only
    assert [r["label"] for r in forestplot.table_rows([pooled] + rows(), SMD_PAIN)] == [
        "Younger <&> 2013", "Bested 2023", "Lee 2022"]
    # A plot of pooled estimates only needs no rule: each is marked on its own.
    alone = svg_texts(ET.fromstring(forestplot.render_forest_plot([pooled], SMD_PAIN)))
    assert "Pooled (meta-analysis)" not in alone and "Lee 2022 (pooled)" in alone


def test_long_labels_are_shortened_to_fit_and_kept_whole_in_the_table():
    long = forestplot.Row("Efficacy and safety of low-dose naltrexone in fibromyalgia: a "
                          "systematic review 2025", -0.61, -1.14, -0.08, pooled=True)
    root = ET.fromstring(forestplot.render_forest_plot([long], SMD_PAIN))
    label = svg_texts(root)[0]
    assert label.endswith("… (pooled)") and len(label) < 60
    figures = forestplot.text_width("−0.61 (−1.14 to −0.08)")
    assert forestplot.text_width(label) + figures < forestplot.WIDTH - 2 * forestplot.MARGIN
    assert forestplot.table_rows([long], SMD_PAIN)[0]["label"] == long.label


def test_events_per_100_appear_in_the_table():
    row = forestplot.Row("Doe 2020", 3.0, 0.9, 9.9, 60, per_100=("30", "10"))
    table = forestplot.table_rows([row], RR_DREAMS)
    assert table == [{"label": "Doe 2020", "pooled": False, "estimate": "3", "low": "0.9",
                      "high": "9.9", "n": 60, "per_100": ("30", "10"),
                      "reading": "No clear difference (the estimate is higher with LDN)"}]


@pytest.mark.parametrize("lo,hi,expected", [
    (-1.3, 0.5, [-1.0, -0.5, 0.0, 0.5]),
    (-0.2, 0.2, [-0.2, -0.1, 0.0, 0.1, 0.2]),
    (0, 10, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]),
])
def test_linear_ticks(lo, hi, expected):
    assert forestplot.linear_ticks(lo, hi) == expected


def test_ratio_measures_use_a_log_axis_with_null_at_one():
    svg = forestplot.render_forest_plot(
        [forestplot.Row("A", 3.0, 0.9, 9.9, 60)], RR_DREAMS)
    root = ET.fromstring(svg)
    labels = svg_texts(root)
    assert {"1", "2", "5"} <= set(labels)
    null = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "null")
    assert null.get("d").startswith(f"M{ticks_x(root)['1']} ")
    # On a log axis distances are ratios: 1 to 2 is log(2)/log(2.5) of 2 to 5.
    ticks = {k: float(x) for k, x in ticks_x(root).items()}
    assert abs((ticks["2"] - ticks["1"]) / (ticks["5"] - ticks["2"]) - 0.7565) < 0.01


def test_a_ratio_with_a_non_positive_bound_falls_back_to_a_linear_axis():
    svg = forestplot.render_forest_plot(
        [forestplot.Row("A", 0.5, -0.1, 1.2, None)], RR_DREAMS)
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
                    'href="../glossary.html#rct"><abbr title="randomized controlled trial">RCT'
                    '</abbr></a>. <code>RCT</code> again an RCT and a '
                    '<a class="term" href="../glossary.html#crossover-trial">crossover</a>.</p>')
    assert link("<p>placebo again</p>") == "<p>placebo again</p>"


def test_abbreviations_keep_their_case_and_get_their_expansion():
    link = TermLinker("")
    html = link("<p>Pain: SMD −0.6 (95% CI −1 to −0.1; I² = 91%), or not; Cohen&#x27;s d "
                "0.23; the Fibromyalgia Impact Questionnaire (FIQR).</p>")
    assert '<a class="term" href="glossary.html#measure-smd"><abbr title="standardized mean ' \
           'difference">SMD</abbr></a>' in html
    assert '<abbr title="confidence interval">CI</abbr>' in html
    assert '<abbr title="heterogeneity between studies">I²</abbr>' in html
    assert 'href="glossary.html#cohens-d">' in html
    # "or" is a word, not the odds ratio; a term and its abbreviation are each linked once.
    assert "measure-or" not in html
    assert 'href="glossary.html#fiqr">Fibromyalgia Impact Questionnaire</a> (<a class="term" ' \
           'href="glossary.html#fiqr"><abbr' in html


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


def test_the_term_scanner_finds_what_testing_every_word_would():
    """The glossary linker finds a text's candidate terms in one regular-expression pass; it
    must find exactly the terms whose trigger words (any case) or abbreviations (their case)
    the text contains, overlapping ones included."""
    import random

    from ldn_site import glossary as g

    def by_testing_every_word(text):
        low = text.lower()
        return tuple(i for i, t in enumerate(g.LINKED_TERMS)
                     if (t.pattern and any(w in low for w in g.TRIGGERS[t.anchor]))
                     or any(a in text for a in g._ABBR_TRIGGERS[t.anchor]))

    words = [w for t in g.LINKED_TERMS if t.pattern for w in g.TRIGGERS[t.anchor]]
    words += [a for found in g._ABBR_TRIGGERS.values() for a in found]
    words += ["the", "pain", "or", "OR", "Randomized", " "]
    rng = random.Random(20261202)
    for _ in range(5000):
        text = "".join(rng.choice(words) + rng.choice(["", " ", "-", "s "])
                       for _ in range(rng.randint(1, 8)))
        text = text.upper() if rng.random() < 0.2 else text
        assert g._candidates(text) == by_testing_every_word(text), text


@pytest.mark.parametrize("value, low, high, better, reading", [
    (-0.3, -0.9, -0.1, "lower",
     "Favours LDN (lower with LDN); the whole interval is on that side"),
    (-0.3, -0.9, 0.3, "lower", "No clear difference (the estimate is lower with LDN)"),
    # A harm: more headaches with LDN reads as "higher with LDN", not "towards placebo".
    (0.5, -0.2, 1.2, "lower", "No clear difference (the estimate is higher with LDN)"),
    (0.3, 0.1, 0.9, "higher",
     "Favours LDN (higher with LDN); the whole interval is on that side"),
    (0.0, -0.5, 0.5, "lower", "No clear difference"),
    (-0.3, -0.9, 0.3, None, "No clear difference (the estimate is lower with LDN)"),
    (-0.3, -0.9, -0.1, None, "Lower with LDN; the whole interval is on that side"),
])
def test_a_plot_row_reads_as_a_finding_only_when_its_interval_excludes_no_difference(
        value, low, high, better, reading):
    axis = forestplot.Axis("Pain", "MD", "mean difference", False, "LDN", "placebo", better)
    row = forestplot.Row("Trial 2020", value, low, high, 40, False, None)
    assert forestplot.reading(row, axis) == reading
