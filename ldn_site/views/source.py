"""Views, the source pages: one per study, document or popular article.

Owns a source page's context: its citation and identifiers (DOI, PMID, PMCID, trial
registration) with their links, what a study page shows at a glance (kind, overall risk of
bias, the authors' conclusion), its study details, results and risk of bias, its numbered
excerpts with the claims that quote each, the claims that cite it, and for a popular article
the scorecard of the claims it makes in the order it makes them and where it was published
(address, website, date, or "not recorded"); also the source as a schema.org creative work for
the page's JSON-LD. It must not build another page's context nor
do any I/O.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

from ldn_site import metadata
from ldn_site import vocabulary as v
from ldn_site.citations import clean_bib, decode_entry, person_names
from ldn_site.glossary import TermLinker, abbreviation, kind_url
from ldn_site.markup import is_web_url
from ldn_site.views.common import (Page, Site, absolute, article_origin, article_work,
                                   base_context, certainty_view, claim_card, count_verdicts,
                                   excerpt_anchor, kind_view, list_article_claims, md_html,
                                   publisher, source_label, source_title, source_url, term_view,
                                   web_page)

_NCT = re.compile(r"^NCT\d{8}$")
DETAILS = (("design", "Design"), ("population", "Population"), ("n", "Participants"),
           ("intervention", "Intervention"), ("dose", "Dose"), ("duration", "Duration"),
           ("comparator", "Comparator"), ("registration", "Registration"),
           ("setting", "Setting"))


def view_source(site: Site, page: Page) -> dict:
    key = page.ident
    source = site.sources[key]
    is_article = source.kind == "popular-article"
    title = source_title(site, key)
    citation_text = site.citations.text(key)
    graph = [web_page(site, "WebPage" if is_article else "MedicalWebPage", page.path,
                      title, citation_text, mainEntity=source_work(site, key),
                      publisher=publisher(site))]
    ctx = base_context(site, page.path, title, citation_text, "source", "article", graph)
    linker = TermLinker("../" * page.path.count("/"))
    ids, links = find_identifiers(site, key)
    excerpts = list_excerpts(site, key)
    article_ids = list_article_claims(site, key) if is_article else []
    kind = v.KINDS_BY_VALUE[source.kind]
    ctx.update({
        "source": {"key": key, "kind": kind_view(source.kind),
                   "kind_url": kind_url(source.kind),
                   "is_article": is_article,
                   "citation_html": site.citations.html(key),
                   "citation_style": "AMA",
                   "title": title, "label": source_label(site, key),
                   "trial_name": source.trial_name or "",
                   "start": certainty_view(kind.start) if kind.start else None},
        "links": links, "rob2": abbreviation("risk-of-bias"),
        # In page order, as the linker links each term's first mention: the conclusion is
        # shown "at a glance", above the details.
        "conclusion_html": Markup(linker(site.md(source.conclusion))),
        "details": [{"label": label,
                     "value": Markup(linker(escape(_shown(getattr(source, name)))))}
                    for name, label in DETAILS if getattr(source, name) is not None],
        "results_html": Markup(linker(site.md(source.results))),
        "limitations_html": Markup(linker(site.md(source.limitations))),
        "notes_html": Markup(linker(site.md(source.notes))),
        "rob": rob_view(site, source),
        "publisher": source.publisher or "",
        "origin": article_origin(site, key) if is_article else None,
        "interests": source.interests or "",
        "assessment_html": Markup(linker(site.md(source.assessment))),
        "verified_at": list(source.verified_at),
        "excerpts": excerpts,
        "scorecard": build_scorecard(site, article_ids, excerpts),
        "scorecard_summary": count_verdicts(site, article_ids),
        "citing": [] if is_article else list_citing(site, key),
        "search_filters": ["type:" + ("Popular article" if is_article
                                      else "Study or document")],
        # How the study is cited here, for search: a reader types its first author's name,
        # which Pagefind's stemming alone may not find first (see static/search.js).
        "search_meta": [] if is_article else [f"cited_as:{source_label(site, key)}"],
    })
    return ctx


def list_excerpts(site: Site, key: str) -> list[dict]:
    """The source's excerpts, numbered, each with the claims that quote it."""
    excerpts = []
    for number, ex in enumerate(site.sources[key].excerpts, 1):
        ref = f"{key}#{ex.id}"
        citing = sorted(set(site.claims_by_excerpt.get(ref, [])))
        excerpts.append({"id": ex.id, "anchor": excerpt_anchor(ex.id), "text": ex.text,
                         "locator": ex.locator, "number": number, "lang": ex.lang or "",
                         "translation": ex.translation or "",
                         "claims": [claim_card(site, c) for c in citing if c in site.grades]})
    return excerpts


def build_scorecard(site: Site, article_ids: list[str], excerpts: list[dict]) -> list[dict]:
    """An article's claims in the order it makes them, each with the excerpts that make it."""
    quotes_by_claim: dict[str, list] = {}
    for ex in excerpts:
        for card in ex["claims"]:
            quotes_by_claim.setdefault(card["id"], []).append(ex)
    return [{"number": number, "excerpts": quotes_by_claim.get(cid, []),
             "claim": claim_card(site, cid)}
            for number, cid in enumerate(article_ids, 1)]


def list_citing(site: Site, key: str) -> list[dict]:
    """The claims that cite a study or document as evidence, each with its direction."""
    citing: dict[str, str] = {}
    for cid, direction in site.claims_by_source.get(key, []):
        citing.setdefault(cid, direction)
    return [dict(claim_card(site, cid), direction=term_view(v.DIRECTIONS, d))
            for cid, d in sorted(citing.items()) if cid in site.grades]


def rob_view(site: Site, source) -> dict | None:
    if not source.risk_of_bias:
        return None
    r = source.risk_of_bias
    return {"rows": [{"domain": label, "judgement": term_view(v.ROB_JUDGEMENTS,
                                                              getattr(r, name))}
                     for name, label in v.ROB_DOMAINS],
            "overall": term_view(v.ROB_JUDGEMENTS, r.overall),
            "note_html": md_html(site, r.note)}


def find_identifiers(site: Site, key: str) -> tuple[dict[str, str], list[dict]]:
    """A source's identifiers by name (for JSON-LD) and the links they give (for the page)."""
    entry = site.bib.get(key)
    fields = decode_entry(entry).fields if entry else {}
    source = site.sources[key]
    ids: dict[str, str] = {}
    links = []
    if fields.get("doi"):
        doi = fields["doi"]
        ids["DOI"] = doi
        links.append({"label": f"DOI: {doi}", "url": f"https://doi.org/{doi}"})
    if fields.get("pmid"):
        pmid = fields["pmid"]
        ids["PMID"] = pmid
        links.append({"label": f"PubMed: {pmid}",
                      "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"})
    if fields.get("pmcid"):
        pmcid = fields["pmcid"]
        ids["PMCID"] = pmcid
        links.append({"label": f"PubMed Central: {pmcid}",
                      "url": f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/"})
    if source.registration and _NCT.match(source.registration):
        ids["ClinicalTrials.gov"] = source.registration
        links.append({"label": f"ClinicalTrials.gov: {source.registration}",
                      "url": f"https://clinicaltrials.gov/study/{source.registration}"})
    if is_web_url(fields.get("url", "")):  # validation refuses others; never a live one
        links.append({"label": "Record or publisher page", "url": fields["url"]})
    return ids, links


def source_work(site: Site, key: str) -> dict:
    """A source as a schema.org creative work: a ScholarlyArticle for studies (made once
    per source and process; many claim pages cite the same source)."""
    work = site.works.get(key)
    if work is None:
        work = site.works[key] = make_work(site, key)
    return work


def make_work(site: Site, key: str) -> dict:
    source = site.sources[key]
    if source.kind == "popular-article":
        return article_work(site, key)
    entry = site.bib.get(key)
    fields = entry.fields if entry else {}
    ids, links = find_identifiers(site, key)
    if source.kind in v.DOCUMENT_KINDS:
        kind = "CreativeWork"
    else:
        kind = "ScholarlyArticle"
    authors = person_names(fields.get("author", ""))
    return metadata.scholarly_work(
        kind, source_title(site, key), absolute(site, source_url(key)), authors,
        clean_bib(fields.get("year")), clean_bib(fields.get("journal")), ids,
        [link["url"] for link in links], site.citations.text(key),
        clean_bib(fields.get("pages")))


def _shown(value) -> str:
    """A detail as a reader reads it: a count with thousands separators (11,194)."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
