"""Views, the home page: the bottom line, the evidence map and what leads into the review.

Owns the home page's context: the key messages (the bottom line, worded in ``site.yaml``, each
with its claim's verdict and certainty), the map of claims by topic and verdict (each cell cut at
``MAP_CELL_LIMIT`` claims, with a link to the rest on the topic page), the key findings on
efficacy, the latest reviews, the popular articles with their verdict counts and the site's
totals, each listing in a fixed order with a tie-break on id. It must not build another page's
context nor do any I/O.
"""

from __future__ import annotations

from ldn_site import metadata
from ldn_site import vocabulary as v
from ldn_site.views.common import (VERDICT_ORDER, Page, Site, base_context,
                                   certainty_view, claim_card, count_verdicts, latest_ids,
                                   list_article_claims, newest_review, source_link,
                                   sorted_cards, term_view, topic_url, web_page)

MAP_CELL_LIMIT = 8       # claims listed in one cell of the evidence map before "all N"
KEY_FINDINGS = 6
LATEST = 6


def view_home(site: Site, page: Page) -> dict:
    c = site.config
    graph = [metadata.website(c.base_url, c.title, c.description, c.language),
             web_page(site, "MedicalWebPage", page.path, c.title, c.description,
                      lastReviewed=newest_review(site),
                      about={"@type": "MedicalCondition", "name": "Fibromyalgia"})]
    ctx = base_context(site, page.path, c.title, c.description, "home", graph=graph)
    ctx.update({
        "verdicts": [term_view(v.VERDICTS, t.value) for t in v.VERDICTS],
        "levels": [certainty_view(level) for level in reversed(v.CERTAINTY_LEVELS)],
        # Factual claims show these symbols in the map instead of certainty dots.
        "documentation": [term_view(v.DOCUMENTATION, t.value) for t in v.DOCUMENTATION],
        "key_messages": [{"message": m.message, "claim": claim_card(site, m.claim)}
                         for m in c.key_messages if m.claim in site.grades],
        "map": build_evidence_map(site),
        "key_findings": pick_key_findings(site),
        "latest": list_latest(site),
        "articles": summarize_articles(site),
        "counts": {"claims": len(site.graded),
                   "sources": sum(1 for s in site.sources.values()
                                  if s.kind != "popular-article"),
                   "articles": sum(1 for s in site.sources.values()
                                   if s.kind == "popular-article")},
    })
    return ctx


def build_evidence_map(site: Site) -> list[dict]:
    """One row per topic, one cell per verdict."""
    cells = group_by_topic_and_verdict(site)
    rows = []
    for topic in v.TOPICS:
        row_cells = []
        for verdict in v.VERDICTS:
            cards = sorted_cards(site, cells.get((topic.value, verdict.value), []))
            row_cells.append({"verdict": term_view(v.VERDICTS, verdict.value),
                              "claims": cards[:MAP_CELL_LIMIT], "total": len(cards),
                              "more": len(cards) > MAP_CELL_LIMIT,
                              "more_url": f"{topic_url(topic.value)}#verdict-{verdict.value}"})
        count = sum(cell["total"] for cell in row_cells)
        rows.append({"topic": {"value": topic.value, "label": topic.label,
                               "url": topic_url(topic.value)},
                     "cells": row_cells, "count": count})
    return rows


def group_by_topic_and_verdict(site: Site) -> dict[tuple[str, str], list[str]]:
    cells: dict[tuple[str, str], list[str]] = {}
    for cid in site.graded:
        claim = site.claims[cid]
        cells.setdefault((claim.topic, claim.verdict), []).append(cid)
    return cells


def pick_key_findings(site: Site) -> list[dict]:
    """The efficacy claims about what LDN does (effect claims, not what a document says),
    those with the most certain evidence first."""
    key_ids = [cid for cid in site.graded if site.claims[cid].topic == "efficacy"
               and site.claims[cid].kind != "factual"]
    return sorted((claim_card(site, cid) for cid in key_ids),
                  key=lambda k: (-k["certainty"]["rank"],
                                 VERDICT_ORDER[k["verdict"]["value"]], k["title"].lower(),
                                 k["id"]))[:KEY_FINDINGS]


def list_latest(site: Site) -> list[dict]:
    """The most recently reviewed claims; none while every claim has the same review date,
    as "latest" would then pick claims by their ids and say nothing."""
    if len({site.claims[cid].reviewed.date for cid in site.graded}) < 2:
        return []
    return [claim_card(site, cid) for cid in latest_ids(site)[:LATEST]]


def summarize_articles(site: Site) -> list[dict]:
    out = []
    for key in sorted(site.sources):
        if site.sources[key].kind != "popular-article":
            continue
        ids = list_article_claims(site, key)
        out.append({"link": source_link(site, key), "claims": len(ids),
                    "verdicts": count_verdicts(site, ids)})
    return out
