"""The real site's pages as a reader meets them, parsed: jargon, links out, latest reviews.

Jargon is explained where it is used: on every claim, source and topic page, each
abbreviation a reader may not know is defined in the glossary, and its first use on the page
is an <abbr> with its expansion inside a link to that definition. The list of abbreviations is
the test's own, not the glossary's: a page that starts using one of them while the glossary
does not define it fails here. Verbatim quotations, bibliographic references, headings and the
plots' drawings are not the site's prose and are skipped.

Links out go to the publisher's or the regulator's own pages, not to a library proxy, a JSON
API or a document-sharing copy; and "Latest reviews" appears only when review dates differ.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest

from html_dom import parse_html
from ldn_site import pipeline
from ldn_site.diagnostics import has_errors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KNOWN = ["SMD", "MD", "RR", "OR", "HR", "RD", "CI", "I²", "IQR", "NRS", "VAS", "SD",
         "Cohen's d", "RCT", "RCTs", "FIQR", "FIQ", "RoB 2", "CRPS", "IBS"]
# Not the site's prose, or not a place for a link: quotations, drawings, headings, and the
# titles and statements of other claims, listed as links to their own pages, which explain them.
SKIP_TAGS = {"blockquote", "svg", "h1", "h2", "h3", "h4", "script", "nav", "code", "pre",
             "figcaption"}
SKIP_CLASSES = {"citation", "cite", "provenance", "links", "breadcrumb", "known-as", "claims",
                "evidence-map", "scorecard"}
FINDER = re.compile("|".join(rf"(?<![\w-]){re.escape(a)}(?![\w-])"
                             for a in sorted(KNOWN, key=len, reverse=True)))


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> str:
    checked = pipeline.check_site(ROOT)
    if has_errors(checked.diagnostics):
        pytest.skip("the repository's content does not validate (see `ldn-site check`)")
    out = str(tmp_path_factory.mktemp("real") / "site")
    result = pipeline.build_site(ROOT, output=out, use_cache=False, search=False)
    assert result.written
    return out


def first_uses(element, found: dict, parents=()) -> None:
    """The first text node holding each abbreviation, with its ancestors, in page order."""
    for child in element.children:
        if isinstance(child, str):
            for m in FINDER.finditer(child.replace("’", "'")):
                word = m.group(0)
                singular = word.removesuffix("s")  # RCTs is the plural of RCT, not a new term
                found.setdefault(singular if singular in KNOWN else word, parents + (element,))
        elif child.tag not in SKIP_TAGS and not SKIP_CLASSES & set(child.classes):
            first_uses(child, found, parents + (element,))


def glossary_terms(out: str) -> dict[str, str]:
    with open(os.path.join(out, "glossary.html"), encoding="utf-8") as f:
        doc = parse_html(f.read())
    return {dt.attrs["id"]: dt.normalized_text() for dt in doc.find_all("dt") if "id" in dt.attrs}


def pages(out: str):
    for folder in ("claims", "sources", "topics"):
        for name in sorted(os.listdir(os.path.join(out, folder))):
            yield f"{folder}/{name}"


def test_every_abbreviation_is_defined_and_explained_where_first_used(real_site):
    terms = glossary_terms(real_site)
    problems, used = [], set()
    for path in pages(real_site):
        with open(os.path.join(real_site, path), encoding="utf-8") as f:
            main = parse_html(f.read()).find("main")
        found: dict = {}
        first_uses(main, found)
        for abbr, chain in found.items():
            used.add(abbr)
            abbr_el = next((e for e in reversed(chain) if e.tag == "abbr"), None)
            link = next((e for e in reversed(chain) if e.tag == "a"), None)
            href = link.attrs.get("href", "") if link is not None else ""
            anchor = href.partition("glossary.html#")[2]
            if abbr_el is None or not abbr_el.attrs.get("title"):
                problems.append(f"{path}: first {abbr!r} has no <abbr title>")
            elif not anchor:
                problems.append(f"{path}: first {abbr!r} is not linked to the glossary")
            elif abbr.removesuffix("s") not in terms.get(anchor, "").replace("’", "'"):
                problems.append(f"{path}: {abbr!r} links to #{anchor}, which does not define it")
    assert problems == [], "\n".join(problems)
    assert {"SMD", "MD", "CI", "I²", "RR"} <= used  # the check saw the pages' jargon


def test_risk_of_bias_has_one_glossary_entry(real_site):
    names = [t for t in glossary_terms(real_site).values() if t.startswith("Risk of bias")]
    assert names == ["Risk of bias (RoB 2)"]


# Hosts that are copies or machine interfaces, not the page a reader should be sent to.
NOT_FOR_READERS = ("scribd.com", "api.fda.gov", "bibliotheek.", "ezproxy", "proxy.", "idm.oclc",
                   "libproxy")


def test_links_out_go_to_the_publishers_own_pages(real_site):
    bad = []
    for folder, _, names in os.walk(real_site):
        for name in names:
            if not name.endswith(".html"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                doc = parse_html(f.read())
            for a in doc.find_all("a"):
                host = urlsplit(a.attrs.get("href") or "").netloc
                if any(part in host for part in NOT_FOR_READERS):
                    bad.append((name, a.attrs["href"]))
    assert bad == []


def test_latest_reviews_only_when_review_dates_differ(real_site):
    with open(os.path.join(real_site, "index.html"), encoding="utf-8") as f:
        home = parse_html(f.read())
    dates = set()
    for name in os.listdir(os.path.join(real_site, "claims")):
        with open(os.path.join(real_site, "claims", name), encoding="utf-8") as f:
            dates.update(t.attrs["datetime"] for t in parse_html(f.read()).find_all("time"))
    shown = home.find(id="latest-heading") is not None
    assert shown == (len(dates) > 1)


def test_a_forest_plot_names_the_evidence_it_leaves_out(real_site):
    """A plot draws only estimates with a 95% CI, and trials that found nothing often report
    none: every source of the summary of findings is either a row of a plot or named, with the
    way it points, under the plots, so a one-sided plot is never read as all the evidence."""
    checked = 0
    folder = os.path.join(real_site, "claims")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            doc = parse_html(f.read())
        plots = doc.find("section", **{"aria-labelledby": "effects"})
        if plots is None or plots.find("figure") is None:
            continue
        findings = doc.find("section", **{"aria-labelledby": "findings"})
        evidence = {a.normalized_text(): a.attrs["href"]
                    for row in findings.find("tbody").find_all("tr")
                    for a in [row.find("th").find("a")]}
        drawn = {th.normalized_text().removesuffix(" (pooled)")
                 for table in plots.find_all("table") for th in table.find("tbody").find_all("th")}
        named = {a.attrs["href"]: note.normalized_text()
                 for note in plots.find_all(cls="not-plotted") for a in note.find_all("a")
                 if a.attrs["href"].startswith("../sources/")}
        missing = {label for label, href in evidence.items()
                   if label not in drawn and href not in named}
        assert missing == set(), (name, missing)
        checked += 1
    assert checked >= 3
    with open(os.path.join(folder, "ldn-reduces-fibromyalgia-pain.html"), encoding="utf-8") as f:
        note = parse_html(f.read()).find(cls="not-plotted").normalized_text()
    assert "Bested et al. 2023 (contradicts)" in note


def test_the_glossary_explains_the_words_of_the_claims_and_the_badges(real_site):
    """Words a reader meets in the claims about how LDN is thought to work, and the badges of
    factual claims, have an entry; the terms found in prose are linked to it somewhere."""
    terms = glossary_terms(real_site)
    wanted = {"fibromyalgia", "glia", "opioid-receptor", "opioid-antagonist", "cytokine",
              "responder", "documentation", "acr-criteria", "dose-finding", "intention-to-treat",
              "neuroinflammation", "titration", "tlr4"}
    assert wanted <= set(terms), wanted - set(terms)
    with open(os.path.join(real_site, "glossary.html"), encoding="utf-8") as f:
        entry = parse_html(f.read()).find("dt", id="documentation")
    siblings = [c for c in entry.parent.children if not isinstance(c, str)]
    definition = siblings[siblings.index(entry) + 1].normalized_text()
    for badge in ("▣ Documented", "◪ Partly documented", "□ Not documented", "⊠ Contradicted"):
        assert badge in definition
    linked = set()
    for rel in pages(real_site):
        with open(os.path.join(real_site, rel), encoding="utf-8") as f:
            doc = parse_html(f.read())
        linked |= {a.attrs["href"].rsplit("#", 1)[-1] for a in doc.find_all("a", cls="term")}
    assert {"glia", "opioid-receptor", "opioid-antagonist", "cytokine", "responder",
            "dose-finding", "neuroinflammation", "titration", "tlr4"} <= linked


def test_counts_are_written_with_thousands_separators(real_site):
    """A reader reads 11,194 participants, not 11194, in the summary of findings and on the
    source page alike."""
    for rel in ("claims/ldn-minimal-side-effects.html", "sources/bolton2019serious.html"):
        with open(os.path.join(real_site, rel), encoding="utf-8") as f:
            text = parse_html(f.read()).find("main").normalized_text()
        assert "11,194" in text and "11194" not in text, rel


def test_the_pages_a_record_was_checked_on_are_a_trail_not_a_reading_list(real_site):
    """Copies and indexes an editor checked facts on are listed folded away, after a note that
    says what they are; the work itself is reached through the links at the top."""
    with open(os.path.join(real_site, "sources", "bruun2024naltrexone.html"),
              encoding="utf-8") as f:
        section = parse_html(f.read()).find("section", aria_labelledby="prov-heading")
    assert "kept as a trail rather than as places to read the work" in \
        section.find("p", cls="note").normalized_text()
    listed = section.find("details").find("ul", cls="provenance").find_all("li")
    assert listed and section.find("summary").normalized_text() == f"{len(listed)} pages checked"


def test_a_study_page_opens_with_what_it_is_and_what_it_concluded(real_site):
    """Kind of evidence, risk of bias and the authors' conclusion come before the reference
    and the details, so a reader of a study's page gets its bottom line first."""
    with open(os.path.join(real_site, "sources", "bruun2024naltrexone.html"),
              encoding="utf-8") as f:
        main = parse_html(f.read()).find("main")
    glance = main.find("section", cls="glance")
    facts = dict(zip([dt.normalized_text() for dt in glance.find_all("dt")],
                     [dd.normalized_text() for dd in glance.find_all("dd")]))
    assert facts["Kind of source"].startswith("Randomized controlled trial")
    assert facts["Risk of bias"].endswith("Low risk")
    assert glance.find("h3").normalized_text() == "Authors' conclusion"
    order = [el for el in main.iter() if {"glance", "reference"} & set(el.classes)
             or el.attrs.get("aria-labelledby") == "appraisal-heading"]
    assert ["glance" in order[0].classes, "reference" in order[1].classes] == [True, True]
