"""Views, the files that are not pages: sitemap, robots.txt, the Atom feed and the open data.

Owns what goes into each of them (``DATA_FILES``): the sitemap's entries with their review
dates, the feed's latest reviews (each claim framed as a claim, with its verdict), a record of
data/claims.json per claim and a row of data/evidence.csv per piece of evidence (both made one
at a time, as they are written), and the medical disclaimer as plain text, which every one of
these files carries. The formats themselves are ``metadata``'s. It must not build a page's
context nor do any I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ldn_site import metadata, participants
from ldn_site import vocabulary as v
from ldn_site.citations import plain_text
from ldn_site.views.common import (Page, Site, absolute, claim_card, claim_url, excerpt_url,
                                   framed_title, latest_ids, newest_review, source_title,
                                   source_url)

FEED_ENTRIES = 50
DISCLAIMER_PAGE = "disclaimer.html"
# The files ``data_files`` makes (a build may write them in a child process).
DATA_FILES = ("data/claims.json", "data/evidence.csv", "feed.xml", "robots.txt", "sitemap.xml")


def data_files(site: Site, pages: list[Page]) -> dict[str, str | Iterable[str]]:
    """Every generated file that is not a page (``DATA_FILES``), by path: sitemap,
    robots.txt, the Atom feed and the open data (the open data as pieces, made as they
    are written)."""
    c = site.config
    entries = []
    for page in pages:
        if page.kind in ("404", "search"):
            continue
        lastmod = site.claims[page.ident].reviewed.date if page.kind == "claim" else ""
        entries.append((page.path, lastmod))
    disclaimer = disclaimer_text(site)
    return {
        "sitemap.xml": metadata.sitemap(c.base_url, entries, disclaimer),
        "robots.txt": metadata.robots(c.base_url, disclaimer),
        "feed.xml": metadata.atom_feed(c.base_url, f"{c.title}: latest reviews",
                                       c.description, c.language,
                                       [m.name for m in c.maintainers],
                                       newest_review(site) or site.today,
                                       list_feed_entries(site), disclaimer),
        # Made while they are written, a claim at a time (see metadata.claims_json).
        "data/claims.json": metadata.claims_json(
            {"title": c.title, "url": c.base_url, "built": site.today},
            claim_records(site),
            {"text": disclaimer, "url": absolute(site, DISCLAIMER_PAGE)}),
        "data/evidence.csv": metadata.evidence_csv(evidence_rows(site), disclaimer),
    }


def disclaimer_text(site: Site) -> str:
    """The site's disclaimer (Markdown) as the plain text that files other than pages carry."""
    return " ".join(plain_text(site.md(site.config.disclaimer)).split())


def list_feed_entries(site: Site) -> list[dict]:
    entries = []
    for cid in latest_ids(site)[:FEED_ENTRIES]:
        card = claim_card(site, cid)
        rating = card["certainty"]
        rating_line = (f"Certainty of evidence: {rating['label']}." if rating["graded"] else
                       f"{rating['label']} by {card['authority']}.")
        reading = f" {card['plain_reading']}" if card["plain_reading"] else ""
        entries.append({
            "url": absolute(site, card["url"]),
            "title": framed_title(card),
            "date": card["reviewed"], "category": card["topic"]["value"],
            "label": card["topic"]["label"],
            # The claim's own answer too: a verdict without its reason tells a follower little.
            "summary": f"Verdict: {card['verdict']['label']}.{reading} {rating_line} "
                       f"Claim: {card['statement']} In short: "
                       + " ".join(plain_text(site.md(site.claims[cid].summary)).split())})
    return entries


def claim_records(site: Site) -> Iterator[dict]:
    """Every claim as a record of claims.json, one at a time."""
    for cid in site.graded:
        claim = site.claims[cid]
        grade = site.grades[cid]
        factual = claim.kind == "factual"
        card = claim_card(site, cid)
        yield {
            "id": cid, "url": absolute(site, claim_url(cid)), "title": claim.title,
            "statement": claim.statement, "topic": claim.topic, "verdict": claim.verdict,
            "kind": claim.kind,
            # A factual claim has no GRADE certainty: it is documented, or not, by its authority.
            "certainty": None if factual else grade.certainty,
            "documentation": card["certainty"]["value"] if factual else None,
            "authority": claim.authority,
            "plain_reading": card["plain_reading"] or None,
            "grade": None if factual else grade_record(grade),
            "participants": participants_record(participants.count_participants(
                [item.source for item in claim.evidence], site.sources)),
            "summary": str(claim.summary),
            "evidence": [record_evidence(site, item) for item in claim.evidence],
            "seen_in": [excerpt_record(site, ref) for ref in claim.seen_in],
            "related": [r for r in claim.related if r in site.grades],
            "reviewed": {"date": claim.reviewed.date, "reviewer": claim.reviewed.reviewer},
        }


def grade_record(grade) -> dict:
    return {"start": grade.start, "start_kind": grade.start_kind,
            "start_sources": list(grade.start_sources),
            "steps": [{"domain": s.domain, "rating": s.rating, "change": s.change,
                       "level_after": s.level_after,
                       "reason": str(s.reason) if s.reason else None}
                      for s in grade.steps]}


def participants_record(count) -> dict | None:
    if count is None:
        return None
    return {"total": count.total, "studies": count.studies, "unreported": list(count.unreported),
            "by_design": {p.value: p.n for p in count.by_design},
            "by_population": {p.value: p.n for p in count.by_population},
            "by_dose": {p.value: p.n for p in count.by_dose}}


def record_evidence(site: Site, item) -> dict:
    """One piece of a claim's evidence as claims.json holds it."""
    source = site.sources[item.source]
    e = item.effect
    effect = None if e is None else {
        "outcome": e.outcome, "measure": e.measure, "value": e.value,
        "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n}
    return {
        "source": item.source, "source_url": absolute(site, source_url(item.source)),
        "kind": source.kind, "citation": site.citations.text(item.source),
        "n": source.n, "unverified": list(source.unverified), "direction": item.direction,
        "risk_of_bias": overall_rob(source),
        "finding": str(item.finding), "effect": effect,
        "excerpts": [excerpt_record(site, ref) for ref in item.excerpts]}


def evidence_rows(site: Site) -> Iterator[dict]:
    """Every piece of evidence of every claim as a row of evidence.csv, one at a time."""
    for cid in site.graded:
        claim = site.claims[cid]
        grade = site.grades[cid]
        url = absolute(site, claim_url(cid))
        for item in claim.evidence:
            source = site.sources[item.source]
            e = item.effect
            yield {
                "claim_id": cid, "claim_title": claim.title, "topic": claim.topic,
                "verdict": claim.verdict,
                "certainty": None if claim.kind == "factual" else grade.certainty,
                "documentation": (v.DOCUMENTATION_BY_VERDICT[claim.verdict]
                                  if claim.kind == "factual" else None),
                "source": item.source, "source_kind": source.kind,
                "source_title": source_title(site, item.source),
                # What could not be verified of the source (its journal, DOI...): such a
                # source is shown on the site but never weighed, nor drawn in a plot.
                "source_unverified": " ".join(source.unverified) or None, "n": source.n,
                "dose": source.dose, "duration": source.duration,
                "direction": item.direction, "finding": str(item.finding),
                "risk_of_bias": overall_rob(source),
                "outcome": e.outcome if e else None, "measure": e.measure if e else None,
                "value": e.value if e else None, "ci_low": e.ci_low if e else None,
                "ci_high": e.ci_high if e else None, "effect_n": e.n if e else None,
                "excerpts": " ".join(item.excerpts), "claim_url": url,
                "source_url": absolute(site, source_url(item.source))}


def excerpt_record(site: Site, ref: str) -> dict:
    key, _, ex_id = ref.partition("#")
    excerpt = next(e for e in site.sources[key].excerpts if e.id == ex_id)
    return {"ref": ref, "url": absolute(site, excerpt_url(ref)), "text": excerpt.text,
            "locator": excerpt.locator}


def overall_rob(source) -> str | None:
    return source.risk_of_bias.overall if source.risk_of_bias else None
