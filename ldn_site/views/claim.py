"""Views, the claim pages: one per graded claim.

Owns a claim page's context: the claim framed as a claim (its title, description and citation
carry the verdict, and a verdict that could read like advice carries its plain reading), the
summary of findings (one row per piece of evidence, with its excerpts), the participants the
primary studies enrolled (counted by ``participants``), the forest plots (one per outcome,
measure and comparison, with the same numbers as a table; sources with an unverified journal
or DOI left out) and events per 100 people on each arm where the source gives them, the
risk-of-bias table, the GRADE derivation in words for an effect claim or the authority of a
factual claim, the popular articles that make the claim, related claims, the review date and
whether a review is due, the suggested citation and the page's table of contents; also the
page's JSON-LD (a MedicalWebPage and a ClaimReview per article). It must not build another
page's context nor do any I/O; forest plots are drawn by ``forestplot`` and remembered
through the renderer.
"""

from __future__ import annotations

import datetime
from html import escape

from markupsafe import Markup

from ldn_site import forestplot, metadata, participants
from ldn_site import vocabulary as v
from ldn_site.glossary import (HEADER_TERMS, TermLinker, abbreviation, domain_url, kind_url,
                              term_url)
from ldn_site.grading import Grade
from ldn_site.model import Claim
from ldn_site.views.cards import claim_card_image
from ldn_site.views.common import (Page, Site, absolute, article_origin, article_publisher,
                                   article_work, base_context, certainty_view, claim_card,
                                   excerpt_view, framed_title, image_view, md_html, one_line,
                                   publisher, sorted_cards, source_label, source_link,
                                   term_view, web_page)

# Sources whose effects are pooled estimates of several studies (drawn as diamonds).
POOLED_KINDS = frozenset({"systematic-review-rcts", "systematic-review"})
ROB_SHORT = {"randomization": "Randomization", "deviations": "Deviations",
             "missing_data": "Missing data", "measurement": "Measurement",
             "reporting": "Reporting", "overall": "Overall"}


def view_claim(site: Site, page: Page) -> dict:
    claim = site.claims[page.ident]
    card = claim_card(site, claim.id)
    linker = TermLinker("../" * page.path.count("/"))
    articles: dict[str, list] = {}
    for ref in claim.seen_in:
        articles.setdefault(ref.partition("#")[0], []).append(excerpt_view(site, ref))
    title, description = framed_title(card), framed_description(card)
    graph = build_claim_graph(site, page, claim, card, articles, title, description)
    ctx = base_context(site, page.path, title, description, "claim", "article", graph,
                       rating_card(site, card))
    rob_rows = list_rob_rows(site, claim)
    # The linker links each term's first mention, so texts go through it in page order.
    summary_html = Markup(linker(site.md(claim.summary)))
    statement_html = Markup(linker(escape(claim.statement)))
    side_effects = side_effects_view(site, claim, linker)
    evidence = evidence_view(site, claim, linker)
    factual = claim.kind == "factual"
    # A factual claim shows no GRADE derivation, so its terms must not use up first mentions.
    grade = None if factual else grade_view(site, site.grades[claim.id], linker)
    origin_html = Markup(linker(site.md(claim.origin)))
    plots = forest_plots(site, claim)
    ctx.update({
        "claim": card,
        "question": claim.question or "",
        "statement_html": statement_html,
        "summary_html": summary_html,
        "origin_html": origin_html,
        "dose": dose_view(claim),
        "mechanism": ({"pathway_html": md_html(site, claim.mechanism.pathway),
                       "status": term_view(v.MECHANISM_STATUSES, claim.mechanism.status)}
                      if claim.mechanism else None),
        "side_effects": side_effects,
        "side_effect_counts": any(s.arms for s in claim.side_effects),
        "evidence": evidence,
        "evidence_count": _plural(len(evidence), "study or document",
                                  "studies and documents"),
        "participants": participants_view(participants.count_participants(
            [item.source for item in claim.evidence], site.sources), site),
        "plots": plots,
        "not_plotted": list_unplotted(site, claim),
        "rob_domains": [{"label": label, "short": ROB_SHORT[key]}
                        for key, label in v.ROB_DOMAINS],
        "rob_legend": [term_view(v.ROB_JUDGEMENTS, t.value) for t in v.ROB_JUDGEMENTS],
        "rob_rows": sorted(rob_rows, key=lambda r: r["source"]["key"]),
        "grade": grade,
        "articles": [{"source": source_link(site, key), "excerpts": exs}
                     for key, exs in sorted(articles.items())],
        "related": sorted_cards(site, claim.related),
    })
    ctx.update(review_view(site, page, claim, card))
    ctx["toc"] = list_toc(factual, bool(plots), bool(rob_rows), bool(articles))
    return ctx


def list_toc(factual: bool, plots: bool, rob_rows: bool, articles: bool) -> list[tuple]:
    """The page's sections as (anchor, label, shown), those it has."""
    return [entry for entry in (
        ("findings", "Summary of findings", True),
        ("effects", "Effect estimates", plots),
        ("bias", "Risk of bias", rob_rows),
        ("certainty", "How this was checked" if factual else "How certain is the evidence?",
         True),
        ("quotes", "What the sources say", True),
        ("articles", "Articles making this claim", articles),
        ("review", "Review and citation", True)) if entry[2]]


def review_view(site: Site, page: Page, claim: Claim, card: dict) -> dict:
    """The review's date, reviewer and citation, and the page's glossary and search terms."""
    review_age = _days_between(claim.reviewed.date, site.today)
    return {
        "reviewer": claim.reviewed.reviewer,
        "review_due": review_age is not None
        and review_age > site.config.review_max_age_days,
        "cite": f"{claim.reviewed.reviewer}. {framed_title(card)}. {site.config.title}. "
                f"Reviewed {claim.reviewed.date}. {absolute(site, page.path)}",
        "terms": {label: term_url(anchor) for label, anchor in HEADER_TERMS.items()},
        "ci": abbreviation("ci"), "rob2": abbreviation("risk-of-bias"),
        "search_filters": ["type:Claim", f"topic:{card['topic']['label']}",
                           f"verdict:{card['verdict']['label']}",
                           f"certainty:{card['certainty']['label']}"],
        # A factual claim's badge is its documentation, not a certainty: the result says so.
        "search_meta": [f"verdict:{card['verdict']['label']}",
                        f"{'certainty' if card['certainty']['graded'] else 'documentation'}:"
                        f"{card['certainty']['label']}"],
    }


def rating_card(site: Site, card: dict) -> dict:
    """The social card of the claim's verdict and certainty (or documentation)."""
    return image_view(site.config, claim_card_image(card["verdict"]["value"],
                                                    card["certainty"]["value"]))


def framed_description(card: dict) -> str:
    """The statement as a claim, with its verdict and, when it has one, its plain reading."""
    statement = one_line(card["statement"]).rstrip(".")
    reading = f" {card['plain_reading']}" if card["plain_reading"] else ""
    return f"Claim: {statement} — {card['rating_phrase']}.{reading}"


def participants_view(count: participants.Count | None, site: Site) -> dict | None:
    """The participant count in words: "286 participants in 5 primary studies", each split
    with its labelled parts, and the primary studies that report no number."""
    if count is None:
        return None
    numbered = count.studies - len(count.unreported)
    people = "participant" if count.total == 1 else "participants"
    summary = (f"{count.total:,} {people} in "
               f"{_plural(numbered, 'primary study', 'primary studies')}" if numbered else "")
    return {"summary": summary,
            "unreported": [source_link(site, key) for key in count.unreported],
            "splits": [{"label": label, "parts": [{"label": p.label, "n": f"{p.n:,}"}
                                                  for p in parts]}
                       for label, parts in (("By design", count.by_design),
                                            ("By population", count.by_population),
                                            ("By dose studied", count.by_dose)) if parts]}


def side_effects_view(site: Site, claim: Claim, linker: TermLinker) -> list[dict]:
    return [{"effect": s.effect, "frequency_html": Markup(linker(escape(s.frequency))),
             "per_100": per_100(s.arms), "counts": arms_counts(s.arms),
             "excerpt": excerpt_view(site, s.source)} for s in claim.side_effects]


def dose_view(claim: Claim) -> dict | None:
    if not claim.dose:
        return None
    d = claim.dose
    if d.min_mg is not None and d.max_mg is not None and d.min_mg != d.max_mg:
        amount = f"{d.min_mg:g}–{d.max_mg:g} mg"
    elif d.min_mg is not None or d.max_mg is not None:
        amount = f"{(d.min_mg if d.min_mg is not None else d.max_mg):g} mg"
    else:
        amount = ""
    return {"amount": amount, "timing": d.timing or "", "duration": d.duration or ""}


def list_rob_rows(site: Site, claim: Claim) -> list[dict]:
    """One risk-of-bias row per source of the evidence that has an assessment."""
    rob_rows = []
    for item in claim.evidence:
        rob = site.sources[item.source].risk_of_bias
        if rob and all(r["source"]["key"] != item.source for r in rob_rows):
            rob_rows.append({"source": source_link(site, item.source),
                             "cells": [dict(term_view(v.ROB_JUDGEMENTS, getattr(rob, key)),
                                            domain=label)
                                       for key, label in v.ROB_DOMAINS]})
    return rob_rows


def grade_view(site: Site, grade: Grade, linker: TermLinker | None = None) -> dict:
    kind = v.KINDS_BY_VALUE[grade.start_kind]
    steps = []
    for step in grade.steps:
        if step.change > 0:
            effect = f"up {step.change} level" + ("s" if step.change > 1 else "")
        elif step.change < 0:
            effect = f"down {-step.change} level" + ("s" if step.change < -1 else "")
        else:
            effect = "no change"
        steps.append({"label": step.label, "rating": v.RATING_LABELS[step.rating],
                      "changes": step.change != 0, "effect": effect,
                      "term_url": domain_url(step.domain),
                      "reason_html": (Markup(linker(site.md(step.reason))) if linker
                                      else md_html(site, step.reason)),
                      "level_after": certainty_view(step.level_after)})
    return {"start": certainty_view(grade.start), "start_kind": kind.label,
            "start_kind_url": kind_url(grade.start_kind),
            "start_sources": [source_link(site, k) for k in grade.start_sources],
            "steps": steps, "certainty": certainty_view(grade.certainty)}


def evidence_view(site: Site, claim: Claim, linker: TermLinker | None = None) -> list[dict]:
    """The summary of findings: the evidence in the order the claim lists it, except that
    sources whose publication details are unverified come last, below the evidence that is
    weighed (a stable sort: the order among each kind is the author's)."""
    rows = []
    for item in sorted(claim.evidence, key=lambda i: bool(site.sources[i.source].unverified)):
        source = site.sources[item.source]
        rob = source.risk_of_bias
        finding = md_html(site, item.finding)
        finding_html = Markup(linker(finding)) if linker else finding  # before its effect line
        effect = None
        if item.effect is not None:
            e = item.effect
            effect = {"outcome": e.outcome, "measure": e.measure,
                      "outcome_html": Markup(linker(escape(e.outcome))) if linker else e.outcome,
                      "measure_label": v.term(v.EFFECT_MEASURES, e.measure).label,
                      "abbr": abbreviation(f"measure-{e.measure.lower()}"),
                      "value": forestplot.number(e.value),
                      "ci_low": forestplot.number(e.ci_low),
                      "ci_high": forestplot.number(e.ci_high), "n": e.n,
                      "intervention": e.intervention, "comparator": e.comparator,
                      "per_100": per_100(e.arms)}
        rows.append({
            "source": source_link(site, item.source),
            "design": v.KINDS_BY_VALUE[source.kind].label,
            "design_url": kind_url(source.kind),
            "n": None if source.n is None else f"{source.n:,}",  # 11,194, not 11194
            "dose": source.dose or "", "duration": source.duration or "",
            "finding_html": finding_html,
            "direction": term_view(v.DIRECTIONS, item.direction),
            "rob": term_view(v.ROB_JUDGEMENTS, rob.overall) if rob else None,
            "effect": effect,
            "excerpts": [excerpt_view(site, ref) for ref in item.excerpts],
        })
    return rows


def forest_plots(site: Site, claim: Claim) -> list[dict]:
    """One plot per outcome, measure and comparison, in the order they first appear in the
    evidence: estimates of different outcomes, or on different scales, never share an axis.
    Pooled estimates (from systematic reviews) are marked so, and drawn as diamonds."""
    groups: dict[tuple, list[forestplot.Row]] = {}
    for item in claim.evidence:
        e = item.effect
        if e is None or site.sources[item.source].unverified:
            continue
        pooled = site.sources[item.source].kind in POOLED_KINDS
        groups.setdefault((e.outcome, e.measure, e.intervention, e.comparator, e.better),
                          []).append(forestplot.Row(
                              source_label(site, item.source), e.value, e.ci_low, e.ci_high,
                              e.n, pooled, per_100(e.arms)))
    plots = []
    for number, (group, rows) in enumerate(groups.items(), 1):
        outcome, measure, intervention, comparator, better = group
        term = v.term(v.EFFECT_MEASURES, measure)
        axis = forestplot.Axis(outcome, measure, term.label.lower(),
                               measure in v.RATIO_MEASURES, intervention, comparator, better)
        plots.append({"id": f"forest-{number}", "outcome": outcome, "measure": measure,
                      "label": term.label,
                      "abbr": abbreviation(f"measure-{measure.lower()}"),
                      "intervention": intervention, "comparator": comparator,
                      "sides": forestplot.side_labels(axis),
                      "term_url": term_url(f"measure-{measure.lower()}"),
                      "null": forestplot.number(axis.null),
                      "svg": Markup(forestplot.render_forest_plot(rows, axis)),
                      "rows": forestplot.table_rows(rows, axis),
                      "has_pooled": any(r.pooled for r in rows),
                      "has_counts": any(r.per_100 for r in rows)})
    return plots


def list_unplotted(site: Site, claim: Claim) -> dict[str, list[dict]]:
    """The evidence left out of the plots, so that a plot is never read as all the evidence:
    ``unverified``, sources whose effect is left out because their journal or DOI is unverified
    (an unverified paper may not be the one we think it is), and ``no_estimate``, the rest of
    the evidence with no estimate and 95% CI to draw, each with the way it points (a trial that
    found no effect often reports no interval, and leaving it out silently would tilt the
    picture)."""
    unverified = dict.fromkeys(item.source for item in claim.evidence
                               if item.effect is not None and site.sources[item.source].unverified)
    plotted = {item.source for item in claim.evidence if item.effect is not None}
    no_estimate = [{**source_link(site, item.source),
                    "direction": term_view(v.DIRECTIONS, item.direction)}
                   for item in claim.evidence
                   if item.source not in plotted and item.source not in unverified]
    return {"unverified": [source_link(site, key) for key in unverified],
            "no_estimate": list({d["key"]: d for d in no_estimate}.values())}


def per_100(arms) -> tuple[str, str] | None:
    """Events per 100 people in the intervention and the comparison group, or None."""
    if arms is None:
        return None
    return _per_100(arms.intervention), _per_100(arms.comparator)


def _per_100(arm) -> str:
    value = arm.percent if arm.percent is not None else 100 * arm.events / arm.total
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")


def arms_counts(arms) -> str:
    """The counts behind events per 100 ("33 of 48 vs 36 of 50"), when the source gave them."""
    if arms is None or arms.intervention.events is None or arms.comparator.events is None:
        return ""
    a, b = arms.intervention, arms.comparator
    return f"{a.events} of {a.total} vs {b.events} of {b.total}"


def build_claim_graph(site: Site, page: Page, claim: Claim, card: dict, articles: dict,
                      title: str, description: str) -> list[dict]:
    url = absolute(site, page.path)
    author = metadata.organization(claim.reviewed.reviewer)
    # The sources are described (as ScholarlyArticle) on their own pages, not repeated
    # here: a claim page must stay small.
    graph = [web_page(site, "MedicalWebPage", page.path, title, description,
                      lastReviewed=claim.reviewed.date, reviewedBy=author,
                      publisher=publisher(site))]
    for key, excerpts in sorted(articles.items()):
        # The article's publisher is the claim's author; naming it twice adds only weight.
        graph.append(metadata.claim_review(
            url, claim.statement, claim.reviewed.date, claim.verdict,
            card["verdict"]["label"], publisher(site),
            article_work(site, key, with_publisher=False),
            article_publisher(site, key), article_origin(site, key)["published"],
            explanation=card["plain_reading"]))
    return graph


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _days_between(start: str, end: str) -> int | None:
    try:
        return (datetime.date.fromisoformat(end) - datetime.date.fromisoformat(start)).days
    except ValueError:
        return None
