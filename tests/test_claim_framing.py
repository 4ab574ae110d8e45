"""Claims framed as claims, the two kinds of claim, the participant count and unverified
sources, on the built pages and data of the sample site tests/sites/claim-framing/ (see its
README), parsed as HTML, XML and JSON. The rules behind them are in test_claim_rules.py.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from conftest import read_tree, run_cli
from html_dom import parse_html

ATOM = "{http://www.w3.org/2005/Atom}"
PAIN = "claims/drug-reduces-pain.html"
FACT = "claims/drug-approved-2001.html"
ALCOHOL = "claims/drug-avoid-alcohol.html"
READING = ("Unsupported means no harmful interaction with alcohol was found; it does not mean "
           "that drinking with the drug has been shown to be safe.")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import copy_site  # module-scoped: build once for every test here
    tmp = tmp_path_factory.mktemp("framing")
    site = copy_site("claim-framing", tmp / "site")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1769904000")
        result = run_cli("build", "--root", site, "--output", tmp / "out", "--no-search")
    assert result.exit_code == 0, result.output
    return {rel: data.decode("utf-8") for rel, data in read_tree(tmp / "out").items()
            if not rel.endswith(".png")}  # the social cards are images


@pytest.fixture(scope="module")
def pages(built):
    return {rel: parse_html(text) for rel, text in built.items() if rel.endswith(".html")}


def graph_of(doc) -> list[dict]:
    (script,) = doc.find_all("script", type="application/ld+json")
    return json.loads(script.text())["@graph"]


def dd_after(doc, term: str):
    """The <dd> that follows the <dt> whose text is ``term``, within a definition list."""
    for dt in doc.find_all("dt"):
        if dt.normalized_text() == term:
            siblings = [c for c in dt.parent.children if not isinstance(c, str)]
            return siblings[siblings.index(dt) + 1]
    raise AssertionError(f"no <dt>{term}</dt>")


# --- a claim page says it is a claim, and gives its verdict wherever it travels ------------

def test_claim_page_title_description_and_heading_carry_the_claim_and_its_verdict(pages):
    doc = pages[PAIN]
    title = "Claim: The drug reduces pain — Supported, moderate certainty"
    description = ("Claim: The drug reduces pain compared with placebo — Supported, moderate "
                   "certainty.")
    assert doc.find("title").text() == f"{title} · Minimal test site"
    assert doc.find("meta", property="og:title").attrs["content"] == title
    assert doc.find("meta", name="description").attrs["content"] == description
    assert doc.find("meta", property="og:description").attrs["content"] == description
    page = graph_of(doc)[0]
    assert (page["@type"], page["name"], page["description"]) == \
        ("MedicalWebPage", title, description)
    h1 = doc.find("h1")
    assert h1.normalized_text() == "Claim: The drug reduces pain"
    assert h1.find("span", cls="claim-label").normalized_text() == "Claim:"
    assert doc.find(cls="cite").normalized_text().startswith(f"Test reviewer. {title}. ")


def test_the_verdict_comes_before_the_statement_in_the_answer(pages):
    answer = pages[PAIN].find(cls="answer")
    order = [el for el in answer.iter() if "badge" in el.classes or "statement" in el.classes]
    assert "v-supported" in order[0].classes
    assert order[-1].normalized_text() == ("The claim in full: The drug reduces pain compared "
                                           "with placebo.")


def test_a_plain_reading_stands_beside_the_verdict_and_goes_into_json_ld_and_feed(pages, built):
    doc = pages[ALCOHOL]
    verdict = dd_after(doc.find(cls="answer"), "Verdict")
    assert verdict.find(cls="badge").normalized_text() == "? Unsupported"
    assert verdict.find(cls="reading").normalized_text() == f"In plain words: {READING}"
    assert doc.find("meta", name="description").attrs["content"].endswith(
        f"— Unsupported, moderate certainty. {READING}")
    (review,) = [g for g in graph_of(doc) if g["@type"] == "ClaimReview"]
    assert review["reviewRating"]["ratingExplanation"] == READING
    feed = ET.fromstring(built["feed.xml"])
    entries = {e.find(f"{ATOM}id").text: e for e in feed.iter(f"{ATOM}entry")}
    entry = entries["https://example.org/minimal/" + ALCOHOL]
    assert entry.find(f"{ATOM}title").text == ("Claim: Alcohol should be avoided with the drug "
                                               "— Unsupported, moderate certainty")
    assert READING in entry.find(f"{ATOM}summary").text
    pain = entries["https://example.org/minimal/" + PAIN].find(f"{ATOM}summary").text
    assert "Claim: The drug reduces pain compared with placebo. In short: One small trial "\
           "suggests the drug reduces pain." in pain
    # A claim without a plain reading carries none anywhere.
    assert pages[PAIN].find(cls="reading") is None
    pain_reviews = [g for g in graph_of(pages[PAIN]) if g["@type"] == "ClaimReview"]
    assert pain_reviews and all("ratingExplanation" not in g["reviewRating"]
                                for g in pain_reviews)


def test_every_quoted_popular_statement_is_labelled(pages):
    for rel in (PAIN, FACT, ALCOHOL):
        section = pages[rel].find("section", aria_labelledby="articles")
        quotes = section.find_all("figure", cls="excerpt")
        assert quotes, rel
        for quote in quotes:
            assert quote.find(cls="quote-label").normalized_text() == "Article says:", rel
    # A study's own excerpts are not the article's words, and are not labelled so.
    quotes = pages[PAIN].find("section", aria_labelledby="quotes").find_all("figure")
    assert quotes and all(q.find(cls="quote-label") is None for q in quotes)
    # Every list of claims labels each one as a claim (the key findings add its statement).
    items = [li for doc in pages.values() for li in doc.find_all("li", cls="claim-item")]
    assert len(items) > 5
    assert all(li.normalized_text().startswith("Claim: ") for li in items)
    # Inside the link: a screen reader's list of links reads each as a claim too.
    assert all(li.find("a").normalized_text().startswith("Claim: ") for li in items)
    lines = pages["index.html"].find_all(cls="statement-line")
    assert lines and all(line.normalized_text().startswith("The claim in full: ")
                         for line in lines)
    rows = [th for doc in pages.values() if doc.find("table", cls="scorecard")
            for th in doc.find("table", cls="scorecard").find("tbody").find_all("th")]
    assert rows and all(th.normalized_text().startswith("Claim: ") for th in rows)
    # So does the evidence map, each with its certainty in words, not only as dots that could
    # be taken for a star rating.
    items = [li for li in pages["index.html"].find("table", cls="evidence-map").find_all("li")
             if "/claims/" not in li.find("a").attrs["href"]]
    assert [li.normalized_text() for li in items] == [
        "Claim: The drug reduces pain ●●●○ moderate certainty",
        # A plain reading goes wherever its verdict goes: "unsupported" beside a caution does
        # not mean the caution is needless.
        f"Claim: Alcohol should be avoided with the drug ●●●○ moderate certainty {READING}",
        "Claim: The drug was first approved in 2001 ▣ documented"]


# --- the home page starts with the bottom line ---------------------------------------------

def test_home_page_opens_with_the_key_messages_in_their_order(pages):
    doc = pages["index.html"]
    box = doc.find("section", cls="key-messages")
    items = box.find_all("li")
    assert [li.find(cls="message").normalized_text() for li in items] == [
        "Pain: one small trial found less pain with the drug than with placebo.",
        "History: the drug was first approved in 2001."]
    claims = [li.find(cls="key-claim") for li in items]
    assert [c.find("a").attrs["href"] for c in claims] == [PAIN, FACT]
    assert [c.normalized_text() for c in claims] == [
        "Claim: The drug reduces pain ✔ Supported ●●●○ Moderate certainty",
        "Claim: The drug was first approved in 2001 ✔ Supported ▣ Documented"]
    # Bottom line first: the box comes before the evidence map, right after the heading.
    order = [el for el in doc.find("main").iter()
             if el.tag == "h1" or "key-messages" in el.classes or "evidence-map" in el.classes]
    assert [el.tag for el in order] == ["h1", "section", "table"]


def test_the_evidence_map_legend_explains_the_symbols_of_factual_claims(pages):
    """A factual claim sits in the map with a documentation symbol instead of certainty
    dots, so the legend above the map explains both."""
    legend = pages["index.html"].find("p", cls="legend").normalized_text()
    assert "Certainty: ●●●● High" in legend
    assert ("Factual claims: ▣ Documented, ◪ Partly documented, □ Not documented, "
            "⊠ Contradicted.") in legend


# --- effect claims and factual claims ------------------------------------------------------

def test_a_factual_claim_shows_its_authority_and_no_grade_wording(pages):
    doc = pages[FACT]
    answer = doc.find(cls="answer")
    documentation = dd_after(answer, "Documentation")
    assert documentation.find(cls="badge").normalized_text() == "▣ Documented"
    assert "Checked against: the drug's prescribing information." in \
        documentation.normalized_text()
    assert doc.find("title").text().startswith(
        "Claim: The drug was first approved in 2001 — Supported, documented ·")
    main = doc.find("main").normalized_text().lower()
    for grade_word in ("certainty", "confident", "grade domain"):
        assert grade_word not in main, grade_word
    assert doc.find("table", cls="derivation") is None
    assert doc.find("h2", id="certainty").normalized_text() == "How this was checked"
    # In search results too, its badge is called documentation, not certainty.
    meta = [el.attrs["data-pagefind-meta"] for el in doc.iter()
            if "data-pagefind-meta" in el.attrs]
    assert "documentation:Documented" in meta and not any(m.startswith("certainty:")
                                                          for m in meta)
    # The effect claim next to it keeps its GRADE derivation.
    assert pages[PAIN].find("table", cls="derivation") is not None


def test_open_data_tells_the_two_kinds_apart(built):
    lines = built["data/claims.json"].splitlines()
    claims = {c["id"]: c for c in json.loads(built["data/claims.json"])["claims"]}
    assert len(lines) > len(claims)
    fact, pain = claims["drug-approved-2001"], claims["drug-reduces-pain"]
    assert (fact["kind"], fact["certainty"], fact["grade"], fact["documentation"],
            fact["authority"]) == ("factual", None, None, "documented",
                                   "the drug's prescribing information")
    assert (pain["kind"], pain["certainty"], pain["documentation"], pain["authority"]) == \
        ("effect", "moderate", None, None)
    assert pain["grade"]["start_kind"] == "randomized-trial"
    assert claims["drug-avoid-alcohol"]["plain_reading"] == READING
    rows = [line.split(",") for line in built["data/evidence.csv"].splitlines()]
    certainty = rows[0].index("certainty")
    by_claim = {row[0]: row[certainty] for row in rows[1:]}
    assert (by_claim["drug-approved-2001"], by_claim["drug-reduces-pain"]) == ("", "moderate")
    # A journalist can tell the sources that are weighed from those that are not, and what a
    # factual claim's record shows, from the CSV alone.
    table = list(csv.DictReader(io.StringIO(built["data/evidence.csv"], newline="")))
    unverified = {r["source"]: r["source_unverified"] for r in table
                  if r["claim_id"] == "drug-reduces-pain"}
    assert unverified["review2022"] != "" and unverified["trial2020"] == ""
    assert {r["documentation"] for r in table if r["claim_id"] == "drug-approved-2001"} == \
        {"documented"}
    assert next(r["finding"] for r in table if r["source"] == "trial2020") == \
        "One small trial found less pain with the drug than with placebo."


def test_methodology_explains_both_kinds_the_count_and_unverified_sources(pages):
    doc = pages["methodology.html"]
    for anchor in ("claim-kinds", "participants", "unverified"):
        assert doc.find(id=anchor) is not None, anchor
    text = doc.normalized_text()
    assert "Effect claim" in text and "Factual claim" in text
    assert "not drawn in the forest plots" in text and "never sets a claim's starting" in text


# --- participants: primary studies only, each once, split and labelled ---------------------

def test_participants_are_counted_once_in_primary_studies_only(pages):
    doc = pages[PAIN]
    basis = doc.find(cls="basis")
    assert basis.find("a").normalized_text() == "1,040 participants in 2 primary studies"
    dl = doc.find("dl", cls="participants")
    assert dd_after(dl, "By design").normalized_text() == \
        "randomized trials: 40 · register studies: 1,000"
    assert dd_after(dl, "By population").normalized_text() == \
        "fibromyalgia: 40 · not classified: 1,000"
    assert dd_after(dl, "By dose studied").normalized_text() == "low-dose naltrexone: 1,040"
    note = doc.find("h3", id="participants").parent.find_all("p", cls="note")[-1]
    assert note.normalized_text() == ("Also a primary study, but with no number of "
                                      "participants in its record: Poe 2018.")


def test_a_claim_on_documents_alone_has_no_participant_line(pages):
    for rel in (FACT, ALCOHOL):
        assert pages[rel].find(id="participants") is None, rel
        assert "participants" not in pages[rel].find(cls="basis").normalized_text(), rel


# --- unverified sources are marked and not weighed -----------------------------------------

def test_an_unverified_source_is_marked_and_not_plotted(pages):
    doc = pages[PAIN]
    rows = {tr.find("th").find("a").normalized_text(): tr
            for tr in doc.find("table", cls="sof").find("tbody").find_all("tr")}
    # Unverified sources come last, below the evidence that is weighed.
    assert list(rows)[-1] == "A review of the drug 2022"
    marks = {label: tr.find(cls="unverified") for label, tr in rows.items()}
    assert marks.pop("A review of the drug 2022").normalized_text() == \
        "journal and DOI unverified"
    assert set(marks.values()) == {None}
    (svg,) = doc.find_all("svg")
    labels = [t.normalized_text() for t in svg.find_all("text")]
    assert any(label.startswith("Doe & Roe 2020") for label in labels), labels
    assert not any("review" in label.lower() for label in labels), labels
    notes = [p.normalized_text() for p in
             doc.find("section", aria_labelledby="effects").find_all("p", cls="not-plotted")]
    assert [n.split(":")[0] for n in notes] == [
        "The plots are not the whole evidence. Not drawn, because no estimate with a 95% "
        "confidence interval was available to us, each with how it bears on the claim",
        "Not drawn, because the journal or DOI could not be verified"]
    assert "claim: Doe 2021 (supports), Roe 2019 (inconclusive), Poe 2018 (supports)." in notes[0]
    assert notes[1].startswith(
        "Not drawn, because the journal or DOI could not be verified: A review of the drug "
        "2022.")
    # They come before the plots, so that no plot is read before the reader knows what it
    # leaves out.
    section = doc.find("section", aria_labelledby="effects")
    order = [el.tag for el in section.iter() if el.tag == "figure" or "not-plotted" in el.classes]
    assert order == ["p", "p", "figure"]


def test_an_unverified_source_never_sets_the_starting_level(built):
    claims = {c["id"]: c for c in json.loads(built["data/claims.json"])["claims"]}
    grade = claims["drug-reduces-pain"]["grade"]
    assert (grade["start_kind"], grade["start_sources"]) == ("randomized-trial", ["trial2020"])
    (review,) = [e for e in claims["drug-reduces-pain"]["evidence"]
                 if e["source"] == "review2022"]
    assert review["unverified"] == ["journal", "doi"]


def test_a_topic_page_opens_with_its_bottom_line(pages):
    """The key messages about the topic's claims, then how its claims were rated, before the
    lists: a reader who lands on a topic gets an answer first."""
    doc = pages["topics/efficacy.html"]
    box = doc.find("section", cls="key-messages")
    assert [p.normalized_text() for p in box.find_all("p", cls="message")] == [
        "Pain: one small trial found less pain with the drug than with placebo."]
    assert box.find("p", cls="tally").normalized_text() == \
        "1 claim reviewed on this topic: 1 supported."
    order = [el for el in doc.find("main").iter()
             if "key-messages" in el.classes or el.tag == "ul" and "claims" in el.classes]
    assert "key-messages" in order[0].classes
