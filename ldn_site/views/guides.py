"""Views, the guide pages: methodology, glossary, search, the disclaimer and the 404 page.

Owns the contexts of those pages: the two kinds of claim, the certainty scale and the
documentation of factual claims, verdicts, directions, source kinds, GRADE domains,
risk-of-bias judgements, effect measures, unverified sources and the groups participants are
counted in that the methodology page explains (all from ``vocabulary``), the glossary's
entries, the search page's filters, and the 404 page's links from the site's own path. It
must not build another page's context nor do any I/O.
"""

from __future__ import annotations

from ldn_site import vocabulary as v
from ldn_site.glossary import glossary_entries
from ldn_site.views.common import (Page, Site, base_context, certainty_view,
                                   documentation_view, kind_view, term_view)


def view_methodology(site: Site, page: Page) -> dict:
    ctx = base_context(site, page.path, "How we grade the evidence",
                       "The verdicts, the GRADE certainty scale and the rules this site uses.",
                       "methodology")
    ctx.update({
        "levels": [certainty_view(level) for level in reversed(v.CERTAINTY_LEVELS)],
        "verdicts": [term_view(v.VERDICTS, t.value) for t in v.VERDICTS],
        "verdict_rule": list(v.VERDICT_RULE),
        "claim_kinds": [term_view(v.CLAIM_KINDS, t.value) for t in v.CLAIM_KINDS],
        "documentation": [dict(documentation_view(verdict), verdict=term_view(v.VERDICTS,
                                                                             verdict))
                          for verdict in v.values(v.VERDICTS)],
        "unverified_details": [t.label for t in v.UNVERIFIED_DETAILS],
        "participant_groups": [{"label": label, "terms": [term_view(terms, t.value)
                                                          for t in terms]}
                               for label, terms in (("Design", v.DESIGN_GROUPS),
                                                    ("Population", v.POPULATION_GROUPS),
                                                    ("Dose studied", v.DOSE_GROUPS))],
        "not_classified": term_view((v.NOT_CLASSIFIED,), v.NOT_CLASSIFIED.value),
        "directions": [term_view(v.DIRECTIONS, t.value) for t in v.DIRECTIONS],
        "kinds": [dict(kind_view(k.value),
                       start=certainty_view(k.start) if k.start else None)
                  for k in v.KINDS],
        "downgrades": [domain_view(d) for d in v.DOMAINS if d.direction == "down"],
        "upgrades": [domain_view(d) for d in v.DOMAINS if d.direction == "up"],
        "rob_judgements": [term_view(v.ROB_JUDGEMENTS, t.value) for t in v.ROB_JUDGEMENTS],
        "rob_domains": [label for _, label in v.ROB_DOMAINS],
        "measures": [term_view(v.EFFECT_MEASURES, t.value) for t in v.EFFECT_MEASURES],
        "topics": [term_view(v.TOPICS, t.value) for t in v.TOPICS],
    })
    return ctx


def domain_view(d: v.Domain) -> dict:
    return {"key": d.key, "anchor": f"domain-{d.key.replace('_', '-')}", "label": d.label,
            "meaning": d.meaning,
            "ratings": [{"label": v.RATING_LABELS[r], "value": r, "change": c}
                        for r, c in d.ratings]}


def view_glossary(site: Site, page: Page) -> dict:
    description = "Plain-language definitions of the evidence terms used on this site."
    ctx = base_context(site, page.path, "Glossary", description, "glossary")
    ctx["entries"] = glossary_entries()
    return ctx


def view_search(site: Site, page: Page) -> dict:
    ctx = base_context(site, page.path, "Search", "Search every claim, study and article "
                       "reviewed on this site.", "search")
    ctx["noindex"] = True
    ctx["filters"] = [
        {"name": "type", "label": "Show", "any": "Everything",
         "options": ["Claim", "Study or document", "Popular article", "Topic", "Guide"]},
        {"name": "topic", "label": "Topic", "any": "Any topic",
         "options": [t.label for t in v.TOPICS]},
        {"name": "verdict", "label": "Verdict", "any": "Any verdict",
         "options": [t.label for t in v.VERDICTS]},
        {"name": "certainty", "label": "Certainty", "any": "Any certainty",
         "options": [v.CERTAINTY_LABELS[level] for level in reversed(v.CERTAINTY_LEVELS)]
         + [t.label for t in v.DOCUMENTATION]},
    ]
    return ctx


def view_disclaimer(site: Site, page: Page) -> dict:
    return base_context(site, page.path, "Medical disclaimer",
                        "What this site is and is not, and how to use it safely.",
                        "disclaimer")


def view_not_found(site: Site, page: Page) -> dict:
    ctx = base_context(site, page.path, "Page not found", "This page does not exist.", "404")
    # A 404 page is served at whatever address was asked for, so relative links would
    # break; it links from the site's own path instead (the same on any host).
    ctx["root"] = site.base_path
    ctx["noindex"] = True
    ctx["nav"] = [dict(item, current=False) for item in ctx["nav"]]
    return ctx
