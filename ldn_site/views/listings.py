"""Views, the listing pages: all claims, one page per topic, and the bibliography.

Owns the contexts of those pages: the claims grouped by topic, a topic's claims grouped by
verdict (each group with the anchor the evidence map links to), and every cited source in
AMA style grouped by kind, each listing in a fixed order with a tie-break on id. It must not
build another page's context nor do any I/O.
"""

from __future__ import annotations

from ldn_site import vocabulary as v
from ldn_site.views.common import (Page, Site, base_context, claim_card, kind_view,
                                   sorted_cards, source_url, term_view, topic_url, web_page)


def view_claims(site: Site, page: Page) -> dict:
    ctx = base_context(site, page.path, "All claims",
                       "Every claim reviewed on this site, by topic.", "claims",
                       graph=[web_page(site, "CollectionPage", page.path, "All claims",
                                       "Every claim reviewed on this site.")])
    groups = []
    for topic in v.TOPICS:
        ids = [cid for cid in site.graded if site.claims[cid].topic == topic.value]
        if ids:
            groups.append({"topic": term_view(v.TOPICS, topic.value),
                           "url": topic_url(topic.value), "claims": sorted_cards(site, ids)})
    ctx["groups"] = groups
    ctx["total"] = len(site.graded)
    return ctx


def view_topic(site: Site, page: Page) -> dict:
    topic = term_view(v.TOPICS, page.ident)
    ctx = base_context(site, page.path, topic["label"], topic["meaning"], "topic",
                       graph=[web_page(site, "CollectionPage", page.path, topic["label"],
                                       topic["meaning"])])
    ids = [cid for cid in site.graded if site.claims[cid].topic == page.ident]
    groups = []
    for verdict in v.VERDICTS:
        in_verdict = [cid for cid in ids if site.claims[cid].verdict == verdict.value]
        if in_verdict:
            groups.append({"verdict": term_view(v.VERDICTS, verdict.value),
                           "anchor": f"verdict-{verdict.value}",
                           "claims": sorted_cards(site, in_verdict)})
    # The home page's key messages about this topic's claims are its bottom line.
    messages = [{"message": m.message, "claim": claim_card(site, m.claim)}
                for m in site.config.key_messages
                if m.claim in site.grades and site.claims[m.claim].topic == page.ident]
    ctx.update({"topic": topic, "groups": groups, "total": len(ids),
                "key_messages": messages})
    return ctx


def view_bibliography(site: Site, page: Page) -> dict:
    ctx = base_context(site, page.path, "Bibliography",
                       "Every study, document and popular article cited on this site, in AMA "
                       "style.", "bibliography",
                       graph=[web_page(site, "CollectionPage", page.path, "Bibliography",
                                       "Every source cited on this site.")])
    kinds: dict[str, list] = {}
    for key in site.bib:
        if key in site.sources:
            kinds.setdefault(site.sources[key].kind, []).append(
                {"key": key, "url": source_url(key),
                 "citation_html": site.citations.html(key),
                 "sort": site.citations.text(key).lower()})
    groups = []
    for kind in v.KINDS:
        items = sorted(kinds.get(kind.value, []), key=lambda e: (e["sort"], e["key"]))
        if items:
            groups.append({"kind": kind_view(kind.value), "anchor": f"kind-{kind.value}",
                           "is_article": kind.value == "popular-article",
                           "entries": items})
    ctx.update({"groups": groups, "bib_url": "references.bib",
                "total": sum(len(g["entries"]) for g in groups)})
    return ctx
