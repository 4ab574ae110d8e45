"""Views: the view-models that templates receive, one builder per page type.

Owns everything a page shows that has to be computed: labels and symbols for verdicts and
certainty, the GRADE derivation in words, the evidence map, forest plots, citations, links
between claims, sources, excerpts and articles (always in both directions), glossary links,
each page's metadata (canonical address, Open Graph, JSON-LD) and the site's data files
(sitemap, feed, open data), and the order of every listing (each with a tie-break on id).
Templates only loop and test. Pure: takes the validated content and returns plain values;
Markdown goes through the ``MarkdownRenderer`` it is given. No I/O.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup

from ldn_site import forestplot, metadata
from ldn_site import vocabulary as v
from ldn_site.citations import Citations, clean_bib, csl_name, split_names
from ldn_site.glossary import (GLOSSARY_URL, HEADER_TERMS, TermLinker, glossary_entries,
                               kind_url, term_url)
from ldn_site.grading import Grade
from ldn_site.markup import MarkdownRenderer
from ldn_site.model import Claim, Config, Content

TOPIC_ORDER = {t.value: i for i, t in enumerate(v.TOPICS)}
VERDICT_ORDER = {t.value: i for i, t in enumerate(v.VERDICTS)}
CERTAINTY_RANK = {level: i for i, level in enumerate(v.CERTAINTY_LEVELS)}
MAP_CELL_LIMIT = 12      # claims listed in one cell of the evidence map before "all N"
KEY_FINDINGS = 6
LATEST = 6
FEED_ENTRIES = 50
# The files ``SiteViews.data_files`` makes (a build may write them in a child process).
DATA_FILES = ("data/claims.json", "data/evidence.csv", "feed.xml", "robots.txt", "sitemap.xml")
ROB_SHORT = {"randomization": "Randomization", "deviations": "Deviations",
             "missing_data": "Missing data", "measurement": "Measurement",
             "reporting": "Reporting", "overall": "Overall"}
_NCT = re.compile(r"^NCT\d{8}$")


@dataclass(frozen=True)
class Page:
    """One page to render: where it goes, which template, and what the template needs."""

    path: str
    template: str
    kind: str
    ident: str = ""


def claim_url(claim_id: str) -> str:
    return f"claims/{claim_id}.html"


def source_url(key: str) -> str:
    return f"sources/{key}.html"


def topic_url(topic: str) -> str:
    return f"topics/{topic}.html"


def excerpt_anchor(excerpt_id: str) -> str:
    return f"excerpt-{excerpt_id}"


def excerpt_url(ref: str) -> str:
    key, _, ex = ref.partition("#")
    return f"{source_url(key)}#{excerpt_anchor(ex)}"


def _term_view(terms, value: str) -> dict:
    t = v.term(terms, value)
    return {"value": t.value, "label": t.label, "symbol": t.symbol, "meaning": t.meaning}


def certainty_view(level: str) -> dict:
    return {"value": level, "label": v.CERTAINTY_LABELS[level],
            "symbol": v.CERTAINTY_SYMBOLS[level], "meaning": v.CERTAINTY_MEANINGS[level]}


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


NAV = (("index.html", "Evidence map"), ("claims.html", "All claims"),
       ("glossary.html", "Glossary"), ("methodology.html", "How we grade"),
       ("bibliography.html", "Bibliography"))


class SiteViews:
    """Builds view-models for every page from validated content and computed grades."""

    def __init__(self, content: Content, grades: dict[str, Grade], md: MarkdownRenderer,
                 today: str, citations: Citations | None = None):
        self.content = content
        self.config: Config = content.config
        self.grades = grades
        self.md = md
        self.today = today
        self.claims = {c.id: c for c in content.claims}
        self.sources = content.sources
        self.bib = content.bib
        self.citations = citations or Citations(
            self.bib, {k: s.kind for k, s in self.sources.items()})
        self.base_path = urlsplit(self.config.base_url).path or "/"
        # Reverse links, built once: which claims cite each source and each excerpt.
        self.claims_by_source: dict[str, list[tuple[str, str]]] = {}
        self.claims_by_excerpt: dict[str, list[str]] = {}
        for claim in sorted(content.claims, key=lambda c: c.id):
            for item in claim.evidence:
                self.claims_by_source.setdefault(item.source, []).append((claim.id,
                                                                          item.direction))
                for ref in item.excerpts:
                    self.claims_by_excerpt.setdefault(ref, []).append(claim.id)
            for ref in claim.seen_in:
                self.claims_by_excerpt.setdefault(ref, []).append(claim.id)
                self.claims_by_source.setdefault(ref.partition("#")[0], [])
            for effect in claim.side_effects:
                self.claims_by_excerpt.setdefault(effect.source, []).append(claim.id)
        self.graded = sorted(cid for cid in self.claims if cid in self.grades)
        self._cards: dict[str, dict] = {}
        self._links: dict[str, dict] = {}
        self._works: dict[str, dict] = {}
        # Per source, asked for by every page that cites it: worked out once per process.
        self._titles: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        self._site = self._site_view()

    # --- small shared pieces -------------------------------------------------------------

    def md_html(self, text) -> Markup:
        return Markup(self.md(text))

    def source_title(self, key: str) -> str:
        title = self._titles.get(key)
        if title is None:
            entry = self.bib.get(key)
            title = self._titles[key] = clean_bib(entry.fields.get("title")) if entry else key
        return title

    def source_label(self, key: str) -> str:
        label = self._labels.get(key)
        if label is None:
            source = self.sources.get(key)
            if source is not None and source.kind == "trial-registration" and \
                    source.registration:
                label = f"{source.registration} (registry)"
            else:
                label = self.citations.short(key)
            self._labels[key] = label
        return label

    def source_link(self, key: str) -> dict:
        link = self._links.get(key)
        if link is None:
            source = self.sources[key]
            link = {"key": key, "url": source_url(key), "label": self.source_label(key),
                    "title": self.source_title(key),
                    "kind": v.KINDS_BY_VALUE[source.kind].label, "kind_url": kind_url(source.kind),
                    "is_article": source.kind == "popular-article"}
            self._links[key] = link
        return link

    def claim_card(self, claim_id: str) -> dict:
        card = self._cards.get(claim_id)
        if card is None:
            claim = self.claims[claim_id]
            grade = self.grades[claim_id]
            card = {"id": claim.id, "url": claim_url(claim.id), "title": claim.title,
                    "statement": claim.statement,
                    "topic": dict(_term_view(v.TOPICS, claim.topic), url=topic_url(claim.topic)),
                    "verdict": _term_view(v.VERDICTS, claim.verdict),
                    "certainty": certainty_view(grade.certainty),
                    "reviewed": claim.reviewed.date}
            self._cards[claim_id] = card
        return card

    def excerpt_view(self, ref: str) -> dict:
        key, _, ex_id = ref.partition("#")
        source = self.sources[key]
        excerpt = next(e for e in source.excerpts if e.id == ex_id)
        return {"ref": ref, "text": excerpt.text, "locator": excerpt.locator,
                "url": excerpt_url(ref), "source": self.source_link(key)}

    def _site_view(self) -> dict:
        c = self.config
        return {"title": c.title, "description": c.description, "language": c.language,
                "base_url": c.base_url, "disclaimer_html": self.md_html(c.disclaimer),
                "maintainers": [{"name": m.name, "role": m.role or ""} for m in c.maintainers],
                "topics": [{"value": t.value, "label": t.label, "url": topic_url(t.value)}
                           for t in v.TOPICS],
                "glossary_url": GLOSSARY_URL, "feed_url": "feed.xml"}

    def site_view(self) -> dict:
        return self._site

    def disclaimer_html(self) -> Markup:
        return self._site["disclaimer_html"]

    def absolute(self, path: str) -> str:
        return self.config.base_url + path

    def base(self, path: str, title: str, description: str, kind: str = "page",
             og_type: str = "website", graph: list[dict] | None = None) -> dict:
        depth = path.count("/")
        url = self.absolute(path)
        if graph is None:
            graph = [self._web_page("WebPage", path, title, description)]
        return {"root": "../" * depth, "path": path, "page_kind": kind, "title": title,
                "description": _one_line(description), "canonical": url, "og_type": og_type,
                "noindex": False, "json_ld": Markup(metadata.json_ld(graph)),
                "nav": [{"url": u, "label": label, "current": u == path} for u, label in NAV],
                "site": self._site}

    def _web_page(self, kind: str, path: str, title: str, description: str, **extra) -> dict:
        return metadata.web_page(kind, self.absolute(path), title, _one_line(description),
                                 self.config.base_url, self.config.language, **extra)

    def _publisher(self) -> dict:
        return metadata.organization(self.config.title, self.config.base_url)

    # --- pages ---------------------------------------------------------------------------

    def pages(self) -> list[Page]:
        pages = [Page("index.html", "index.html", "home"),
                 Page("methodology.html", "methodology.html", "methodology"),
                 Page("bibliography.html", "bibliography.html", "bibliography"),
                 Page("disclaimer.html", "disclaimer.html", "disclaimer"),
                 Page("claims.html", "claims.html", "claims"),
                 Page("glossary.html", "glossary.html", "glossary"),
                 Page("search.html", "search.html", "search"),
                 Page("404.html", "404.html", "404")]
        pages += [Page(topic_url(t.value), "topic.html", "topic", t.value) for t in v.TOPICS]
        pages += [Page(claim_url(cid), "claim.html", "claim", cid) for cid in self.graded]
        pages += [Page(source_url(key), "source.html", "source", key)
                  for key in sorted(self.sources)]
        return pages

    def context(self, page: Page) -> dict:
        builder = getattr(self, f"view_{page.kind.replace('404', 'not_found')}")
        return builder(page)

    def sorted_cards(self, claim_ids) -> list[dict]:
        cards = [self.claim_card(cid) for cid in claim_ids if cid in self.grades]
        return sorted(cards, key=lambda c: (VERDICT_ORDER[c["verdict"]["value"]],
                                            -CERTAINTY_RANK[c["certainty"]["value"]],
                                            c["title"].lower(), c["id"]))

    def _by_topic_and_verdict(self) -> dict[tuple[str, str], list[str]]:
        cells: dict[tuple[str, str], list[str]] = {}
        for cid in self.graded:
            claim = self.claims[cid]
            cells.setdefault((claim.topic, claim.verdict), []).append(cid)
        return cells

    def view_home(self, page: Page) -> dict:
        c = self.config
        graph = [metadata.website(c.base_url, c.title, c.description, c.language),
                 self._web_page("MedicalWebPage", page.path, c.title, c.description,
                                lastReviewed=self._newest_review(),
                                about={"@type": "MedicalCondition", "name": "Fibromyalgia"})]
        ctx = self.base(page.path, c.title, c.description, "home", graph=graph)
        cells = self._by_topic_and_verdict()
        rows = []
        for topic in v.TOPICS:
            row_cells = []
            for verdict in v.VERDICTS:
                cards = self.sorted_cards(cells.get((topic.value, verdict.value), []))
                row_cells.append({"verdict": _term_view(v.VERDICTS, verdict.value),
                                  "claims": cards[:MAP_CELL_LIMIT], "total": len(cards),
                                  "more": len(cards) > MAP_CELL_LIMIT,
                                  "more_url": f"{topic_url(topic.value)}#verdict-{verdict.value}"})
            count = sum(cell["total"] for cell in row_cells)
            rows.append({"topic": {"value": topic.value, "label": topic.label,
                                   "url": topic_url(topic.value)},
                         "cells": row_cells, "count": count})
        key_ids = [cid for cid in self.graded if self.claims[cid].topic == "efficacy"]
        key = sorted((self.claim_card(cid) for cid in key_ids),
                     key=lambda k: (-CERTAINTY_RANK[k["certainty"]["value"]],
                                    VERDICT_ORDER[k["verdict"]["value"]], k["title"].lower(),
                                    k["id"]))[:KEY_FINDINGS]
        ctx.update({
            "verdicts": [_term_view(v.VERDICTS, t.value) for t in v.VERDICTS],
            "levels": [certainty_view(level) for level in reversed(v.CERTAINTY_LEVELS)],
            "map": rows,
            "key_findings": key,
            "latest": [self.claim_card(cid) for cid in self._latest_ids()[:LATEST]],
            "articles": self._article_summaries(),
            "counts": {"claims": len(self.graded),
                       "sources": sum(1 for s in self.sources.values()
                                      if s.kind != "popular-article"),
                       "articles": sum(1 for s in self.sources.values()
                                       if s.kind == "popular-article")},
        })
        return ctx

    def _latest_ids(self) -> list[str]:
        return sorted(self.graded, key=lambda cid: (self.claims[cid].reviewed.date, cid),
                      reverse=True)

    def _newest_review(self) -> str:
        return max((self.claims[cid].reviewed.date for cid in self.graded), default="")

    def _verdict_counts(self, claim_ids) -> list[dict]:
        counts = {t.value: 0 for t in v.VERDICTS}
        for cid in claim_ids:
            counts[self.claims[cid].verdict] += 1
        return [dict(_term_view(v.VERDICTS, t.value), count=counts[t.value])
                for t in v.VERDICTS if counts[t.value]]

    def _article_claims(self, key: str) -> list[str]:
        """The claims an article makes, in the order it makes them (excerpt order)."""
        source = self.sources[key]
        ordered: dict[str, None] = {}  # insertion-ordered, with constant-time membership
        for ex in source.excerpts:
            for cid in sorted(set(self.claims_by_excerpt.get(f"{key}#{ex.id}", []))):
                if cid in self.grades:
                    ordered.setdefault(cid)
        return list(ordered)

    def _article_summaries(self) -> list[dict]:
        out = []
        for key in sorted(self.sources):
            if self.sources[key].kind != "popular-article":
                continue
            ids = self._article_claims(key)
            out.append({"link": self.source_link(key), "claims": len(ids),
                        "verdicts": self._verdict_counts(ids)})
        return out

    def view_claims(self, page: Page) -> dict:
        ctx = self.base(page.path, "All claims", "Every claim reviewed on this site, by topic.",
                        "claims", graph=[self._web_page("CollectionPage", page.path,
                                                        "All claims",
                                                        "Every claim reviewed on this site.")])
        groups = []
        for topic in v.TOPICS:
            ids = [cid for cid in self.graded if self.claims[cid].topic == topic.value]
            if ids:
                groups.append({"topic": _term_view(v.TOPICS, topic.value),
                               "url": topic_url(topic.value), "claims": self.sorted_cards(ids)})
        ctx["groups"] = groups
        ctx["total"] = len(self.graded)
        return ctx

    def view_topic(self, page: Page) -> dict:
        topic = _term_view(v.TOPICS, page.ident)
        ctx = self.base(page.path, topic["label"], topic["meaning"], "topic",
                        graph=[self._web_page("CollectionPage", page.path, topic["label"],
                                              topic["meaning"])])
        ids = [cid for cid in self.graded if self.claims[cid].topic == page.ident]
        groups = []
        for verdict in v.VERDICTS:
            in_verdict = [cid for cid in ids if self.claims[cid].verdict == verdict.value]
            if in_verdict:
                groups.append({"verdict": _term_view(v.VERDICTS, verdict.value),
                               "anchor": f"verdict-{verdict.value}",
                               "claims": self.sorted_cards(in_verdict)})
        ctx.update({"topic": topic, "groups": groups, "total": len(ids)})
        return ctx

    def grade_view(self, grade: Grade) -> dict:
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
                          "term_url": term_url(f"domain-{step.domain.replace('_', '-')}"),
                          "reason_html": self.md_html(step.reason),
                          "level_after": certainty_view(step.level_after)})
        return {"start": certainty_view(grade.start), "start_kind": kind.label,
                "start_kind_url": kind_url(grade.start_kind),
                "start_sources": [self.source_link(k) for k in grade.start_sources],
                "steps": steps, "certainty": certainty_view(grade.certainty)}

    def evidence_view(self, claim: Claim, linker: TermLinker | None = None) -> list[dict]:
        rows = []
        for item in claim.evidence:
            source = self.sources[item.source]
            rob = source.risk_of_bias
            effect = None
            if item.effect is not None:
                e = item.effect
                effect = {"outcome": e.outcome, "measure": e.measure,
                          "measure_label": v.term(v.EFFECT_MEASURES, e.measure).label,
                          "value": forestplot.number(e.value),
                          "ci_low": forestplot.number(e.ci_low),
                          "ci_high": forestplot.number(e.ci_high), "n": e.n}
            finding = self.md_html(item.finding)
            rows.append({
                "source": self.source_link(item.source),
                "design": v.KINDS_BY_VALUE[source.kind].label,
                "design_url": kind_url(source.kind),
                "n": source.n, "dose": source.dose or "", "duration": source.duration or "",
                "finding_html": Markup(linker(finding)) if linker else finding,
                "direction": _term_view(v.DIRECTIONS, item.direction),
                "rob": _term_view(v.ROB_JUDGEMENTS, rob.overall) if rob else None,
                "effect": effect,
                "excerpts": [self.excerpt_view(ref) for ref in item.excerpts],
            })
        return rows

    def forest_plots(self, claim: Claim) -> list[dict]:
        """One plot per effect measure (a difference and a ratio cannot share an axis), in
        the order the measures first appear in the evidence."""
        groups: dict[str, list[forestplot.Row]] = {}
        for item in claim.evidence:
            e = item.effect
            if e is None:
                continue
            groups.setdefault(e.measure, []).append(forestplot.Row(
                self.source_label(item.source), e.outcome, e.value, e.ci_low, e.ci_high, e.n))
        plots = []
        for measure, rows in groups.items():
            term = v.term(v.EFFECT_MEASURES, measure)
            ident = f"forest-{measure.lower()}"
            ratio = measure in v.RATIO_MEASURES
            inputs = (rows, measure, term.label.lower(), ratio, ident)
            # Remembered with the rendered Markdown: drawing a plot costs more than looking it
            # up, and a rebuild after a template edit draws every plot again otherwise.
            key = "forest:" + hashlib.sha256(repr(inputs).encode("utf-8")).hexdigest()
            svg = self.md.memo(key, lambda: forestplot.render_forest_plot(*inputs))
            plots.append({"id": ident, "measure": measure, "label": term.label,
                          "meaning": term.meaning,
                          "term_url": term_url(f"measure-{measure.lower()}"),
                          "null": "1" if ratio else "0",
                          "svg": Markup(svg)})
        return plots

    def view_claim(self, page: Page) -> dict:
        claim = self.claims[page.ident]
        grade = self.grades[claim.id]
        card = self.claim_card(claim.id)
        depth_root = "../" * page.path.count("/")
        linker = TermLinker(depth_root, self.md.memo)
        articles: dict[str, list] = {}
        for ref in claim.seen_in:
            articles.setdefault(ref.partition("#")[0], []).append(self.excerpt_view(ref))
        graph = self._claim_graph(page, claim, card, articles)
        ctx = self.base(page.path, claim.title, claim.statement, "claim", "article", graph)
        dose = None
        if claim.dose:
            d = claim.dose
            if d.min_mg is not None and d.max_mg is not None and d.min_mg != d.max_mg:
                amount = f"{d.min_mg:g}–{d.max_mg:g} mg"
            elif d.min_mg is not None or d.max_mg is not None:
                amount = f"{(d.min_mg if d.min_mg is not None else d.max_mg):g} mg"
            else:
                amount = ""
            dose = {"amount": amount, "timing": d.timing or "", "duration": d.duration or ""}
        rob_rows = []
        for item in claim.evidence:
            rob = self.sources[item.source].risk_of_bias
            if rob and all(r["source"]["key"] != item.source for r in rob_rows):
                rob_rows.append({"source": self.source_link(item.source),
                                 "cells": [dict(_term_view(v.ROB_JUDGEMENTS, getattr(rob, key)),
                                                domain=label)
                                           for key, label in v.ROB_DOMAINS]})
        summary_html = Markup(linker(self.md(claim.summary)))
        evidence = self.evidence_view(claim, linker)
        plots = self.forest_plots(claim)
        review_age = _days_between(claim.reviewed.date, self.today)
        n_total = sum(self.sources[k].n or 0 for k in {i.source for i in claim.evidence})
        ctx.update({
            "claim": card,
            "summary_html": summary_html,
            "origin_html": Markup(linker(self.md(claim.origin))),
            "dose": dose,
            "mechanism": ({"pathway_html": self.md_html(claim.mechanism.pathway),
                           "status": _term_view(v.MECHANISM_STATUSES, claim.mechanism.status)}
                          if claim.mechanism else None),
            "side_effects": [{"effect": s.effect, "frequency": s.frequency,
                              "excerpt": self.excerpt_view(s.source)}
                             for s in claim.side_effects],
            "evidence": evidence,
            "evidence_count": _plural(len(evidence), "study or document",
                                      "studies and documents"),
            "participants": n_total,
            "plots": plots,
            "rob_domains": [{"label": label, "short": ROB_SHORT[key]}
                            for key, label in v.ROB_DOMAINS],
            "rob_legend": [_term_view(v.ROB_JUDGEMENTS, t.value) for t in v.ROB_JUDGEMENTS],
            "rob_rows": sorted(rob_rows, key=lambda r: r["source"]["key"]),
            "grade": self.grade_view(grade),
            "articles": [{"source": self.source_link(key), "excerpts": exs}
                         for key, exs in sorted(articles.items())],
            "related": self.sorted_cards(claim.related),
            "reviewer": claim.reviewed.reviewer,
            "review_due": review_age is not None
            and review_age > self.config.review_max_age_days,
            "cite": f"{claim.reviewed.reviewer}. {claim.title}. {self.config.title}. "
                    f"Reviewed {claim.reviewed.date}. {self.absolute(page.path)}",
            "terms": {label: term_url(anchor) for label, anchor in HEADER_TERMS.items()},
            "search_filters": ["type:Claim", f"topic:{card['topic']['label']}",
                               f"verdict:{card['verdict']['label']}",
                               f"certainty:{card['certainty']['label']}"],
            "search_meta": [f"verdict:{card['verdict']['label']}",
                            f"certainty:{card['certainty']['label']}"],
        })
        ctx["toc"] = [entry for entry in (
            ("summary", "In short", True),
            ("findings", "Summary of findings", True),
            ("effects", "Effect estimates", bool(plots)),
            ("bias", "Risk of bias", bool(rob_rows)),
            ("certainty", "How certain is the evidence?", True),
            ("quotes", "What the sources say", True),
            ("articles", "Articles making this claim", bool(articles)),
            ("review", "Review and citation", True)) if entry[2]]
        return ctx

    def _claim_graph(self, page: Page, claim: Claim, card: dict, articles: dict) -> list[dict]:
        url = self.absolute(page.path)
        author = metadata.organization(claim.reviewed.reviewer)
        # The sources are described (as ScholarlyArticle) on their own pages, not repeated
        # here: a claim page must stay small.
        graph = [self._web_page("MedicalWebPage", page.path, claim.title, claim.statement,
                                lastReviewed=claim.reviewed.date, reviewedBy=author,
                                publisher=self._publisher())]
        for key, excerpts in sorted(articles.items()):
            appearance = {"@type": "Article", "name": self.source_title(key),
                          "headline": self.source_title(key)[:110],
                          "url": self.absolute(source_url(key))}
            graph.append(metadata.claim_review(
                url, claim.statement, claim.reviewed.date, claim.verdict,
                card["verdict"]["label"], self._publisher(), appearance))
        return graph

    def _identifiers(self, key: str) -> tuple[dict[str, str], list[dict]]:
        entry = self.bib.get(key)
        fields = entry.fields if entry else {}
        source = self.sources[key]
        ids: dict[str, str] = {}
        links = []
        if fields.get("doi"):
            doi = clean_bib(fields["doi"])
            ids["DOI"] = doi
            links.append({"label": f"DOI: {doi}", "url": f"https://doi.org/{doi}"})
        if fields.get("pmid"):
            pmid = clean_bib(fields["pmid"])
            ids["PMID"] = pmid
            links.append({"label": f"PubMed: {pmid}",
                          "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"})
        if fields.get("pmcid"):
            pmcid = clean_bib(fields["pmcid"])
            ids["PMCID"] = pmcid
            links.append({"label": f"PubMed Central: {pmcid}",
                          "url": f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/"})
        if source.registration and _NCT.match(source.registration):
            ids["ClinicalTrials.gov"] = source.registration
            links.append({"label": f"ClinicalTrials.gov: {source.registration}",
                          "url": f"https://clinicaltrials.gov/study/{source.registration}"})
        if fields.get("url"):
            links.append({"label": "Record or publisher page", "url": clean_bib(fields["url"])})
        return ids, links

    def _work(self, key: str) -> dict:
        """A source as a schema.org creative work: a ScholarlyArticle for studies (made once
        per source and process; many claim pages cite the same source)."""
        work = self._works.get(key)
        if work is None:
            work = self._works[key] = self._make_work(key)
        return work

    def _make_work(self, key: str) -> dict:
        source = self.sources[key]
        entry = self.bib.get(key)
        fields = entry.fields if entry else {}
        ids, links = self._identifiers(key)
        if source.kind == "popular-article":
            kind = "Article"
        elif source.kind in v.DOCUMENT_KINDS:
            kind = "CreativeWork"
        else:
            kind = "ScholarlyArticle"
        authors = []
        for name in split_names(fields.get("author", "")):
            n = csl_name(name)
            authors.append(n.get("literal") or f"{n.get('given', '')} {n.get('family', '')}"
                           .strip())
        return metadata.scholarly_work(
            kind, self.source_title(key), self.absolute(source_url(key)), authors,
            clean_bib(fields.get("year")), clean_bib(fields.get("journal")), ids,
            [link["url"] for link in links], self.citations.text(key),
            clean_bib(fields.get("pages")))

    def view_source(self, page: Page) -> dict:
        key = page.ident
        source = self.sources[key]
        is_article = source.kind == "popular-article"
        title = self.source_title(key)
        citation_text = self.citations.text(key)
        work = self._work(key)
        graph = [self._web_page("WebPage" if is_article else "MedicalWebPage", page.path,
                                title, citation_text, mainEntity=work,
                                publisher=self._publisher())]
        ctx = self.base(page.path, title, citation_text, "source", "article", graph)
        linker = TermLinker("../" * page.path.count("/"), self.md.memo)
        ids, links = self._identifiers(key)
        details = [(label, getattr(source, name)) for name, label in (
            ("design", "Design"), ("population", "Population"), ("n", "Participants"),
            ("intervention", "Intervention"), ("dose", "Dose"), ("duration", "Duration"),
            ("comparator", "Comparator"), ("registration", "Registration"),
            ("setting", "Setting"))]
        excerpts = []
        for number, ex in enumerate(source.excerpts, 1):
            ref = f"{key}#{ex.id}"
            citing = sorted(set(self.claims_by_excerpt.get(ref, [])))
            excerpts.append({"id": ex.id, "anchor": excerpt_anchor(ex.id), "text": ex.text,
                             "locator": ex.locator, "number": number,
                             "claims": [self.claim_card(c) for c in citing if c in self.grades]})
        citing = {}
        for cid, direction in self.claims_by_source.get(key, []):
            citing.setdefault(cid, direction)
        scorecard = []
        article_ids: list[str] = []
        if is_article:
            article_ids = self._article_claims(key)
            quotes_by_claim: dict[str, list] = {}
            for ex in excerpts:
                for card in ex["claims"]:
                    quotes_by_claim.setdefault(card["id"], []).append(ex)
            for number, cid in enumerate(article_ids, 1):
                scorecard.append({"number": number, "excerpts": quotes_by_claim.get(cid, []),
                                  "claim": self.claim_card(cid)})
        rob = None
        if source.risk_of_bias:
            r = source.risk_of_bias
            rob = {"rows": [{"domain": label, "judgement": _term_view(v.ROB_JUDGEMENTS,
                                                                      getattr(r, name))}
                            for name, label in v.ROB_DOMAINS],
                   "note_html": self.md_html(r.note)}
        kind = v.KINDS_BY_VALUE[source.kind]
        ctx.update({
            "source": {"key": key, "kind": _kind_view(source.kind),
                       "kind_url": kind_url(source.kind),
                       "is_article": is_article,
                       "citation_html": self.citations.html(key),
                       "citation_style": "AMA",
                       "title": title,
                       "start": certainty_view(kind.start) if kind.start else None},
            "links": links,
            "details": [{"label": label, "value": value} for label, value in details
                        if value is not None],
            "results_html": Markup(linker(self.md(source.results))),
            "conclusion_html": Markup(linker(self.md(source.conclusion))),
            "limitations_html": Markup(linker(self.md(source.limitations))),
            "notes_html": self.md_html(source.notes),
            "rob": rob,
            "publisher": source.publisher or "",
            "interests": source.interests or "",
            "assessment_html": Markup(linker(self.md(source.assessment))),
            "verified_at": list(source.verified_at),
            "excerpts": excerpts,
            "scorecard": scorecard,
            "scorecard_summary": self._verdict_counts(article_ids),
            "citing": [dict(self.claim_card(cid), direction=_term_view(v.DIRECTIONS, d))
                       for cid, d in sorted(citing.items()) if cid in self.grades
                       and not is_article],
            "search_filters": ["type:" + ("Popular article" if is_article
                                          else "Study or document")],
            "search_meta": [],
        })
        return ctx

    def view_bibliography(self, page: Page) -> dict:
        ctx = self.base(page.path, "Bibliography",
                        "Every study, document and popular article cited on this site, in AMA "
                        "style.", "bibliography",
                        graph=[self._web_page("CollectionPage", page.path, "Bibliography",
                                              "Every source cited on this site.")])
        kinds: dict[str, list] = {}
        for key in self.bib:
            if key in self.sources:
                kinds.setdefault(self.sources[key].kind, []).append(
                    {"key": key, "url": source_url(key),
                     "citation_html": self.citations.html(key),
                     "sort": self.citations.text(key).lower()})
        groups = []
        for kind in v.KINDS:
            items = sorted(kinds.get(kind.value, []), key=lambda e: (e["sort"], e["key"]))
            if items:
                groups.append({"kind": _kind_view(kind.value), "anchor": f"kind-{kind.value}",
                               "is_article": kind.value == "popular-article",
                               "entries": items})
        ctx.update({"groups": groups, "bib_url": "references.bib",
                    "total": sum(len(g["entries"]) for g in groups)})
        return ctx

    def view_methodology(self, page: Page) -> dict:
        ctx = self.base(page.path, "How we grade the evidence",
                        "The verdicts, the GRADE certainty scale and the rules this site uses.",
                        "methodology")
        ctx.update({
            "levels": [certainty_view(level) for level in reversed(v.CERTAINTY_LEVELS)],
            "verdicts": [_term_view(v.VERDICTS, t.value) for t in v.VERDICTS],
            "verdict_rule": list(v.VERDICT_RULE),
            "directions": [_term_view(v.DIRECTIONS, t.value) for t in v.DIRECTIONS],
            "kinds": [dict(_kind_view(k.value),
                           start=certainty_view(k.start) if k.start else None)
                      for k in v.KINDS],
            "downgrades": [_domain_view(d) for d in v.DOMAINS if d.direction == "down"],
            "upgrades": [_domain_view(d) for d in v.DOMAINS if d.direction == "up"],
            "rob_judgements": [_term_view(v.ROB_JUDGEMENTS, t.value) for t in v.ROB_JUDGEMENTS],
            "rob_domains": [label for _, label in v.ROB_DOMAINS],
            "measures": [_term_view(v.EFFECT_MEASURES, t.value) for t in v.EFFECT_MEASURES],
            "topics": [_term_view(v.TOPICS, t.value) for t in v.TOPICS],
        })
        return ctx

    def view_glossary(self, page: Page) -> dict:
        description = "Plain-language definitions of the evidence terms used on this site."
        ctx = self.base(page.path, "Glossary", description, "glossary")
        ctx["entries"] = glossary_entries()
        return ctx

    def view_search(self, page: Page) -> dict:
        ctx = self.base(page.path, "Search", "Search every claim, study and article reviewed "
                        "on this site.", "search")
        ctx["noindex"] = True
        ctx["filters"] = [
            {"name": "type", "label": "Show", "any": "Everything",
             "options": ["Claim", "Study or document", "Popular article", "Guide"]},
            {"name": "topic", "label": "Topic", "any": "Any topic",
             "options": [t.label for t in v.TOPICS]},
            {"name": "verdict", "label": "Verdict", "any": "Any verdict",
             "options": [t.label for t in v.VERDICTS]},
            {"name": "certainty", "label": "Certainty", "any": "Any certainty",
             "options": [v.CERTAINTY_LABELS[level] for level in reversed(v.CERTAINTY_LEVELS)]},
        ]
        return ctx

    def view_disclaimer(self, page: Page) -> dict:
        return self.base(page.path, "Medical disclaimer",
                         "What this site is and is not, and how to use it safely.",
                         "disclaimer")

    def view_not_found(self, page: Page) -> dict:
        ctx = self.base(page.path, "Page not found", "This page does not exist.", "404")
        # A 404 page is served at whatever address was asked for, so relative links would
        # break; it links from the site's own path instead (the same on any host).
        ctx["root"] = self.base_path
        ctx["noindex"] = True
        ctx["nav"] = [dict(item, current=False) for item in ctx["nav"]]
        return ctx

    # --- files other than pages ----------------------------------------------------------

    def data_files(self) -> dict[str, str | Iterable[str]]:
        """Every generated file that is not a page (``DATA_FILES``), by path: sitemap,
        robots.txt, the Atom feed and the open data (the open data as pieces, made as they
        are written)."""
        c = self.config
        entries = []
        for page in self.pages():
            if page.kind in ("404", "search"):
                continue
            lastmod = self.claims[page.ident].reviewed.date if page.kind == "claim" else ""
            entries.append((page.path, lastmod))
        feed_entries = []
        for cid in self._latest_ids()[:FEED_ENTRIES]:
            card = self.claim_card(cid)
            feed_entries.append({
                "url": self.absolute(card["url"]), "title": card["title"],
                "date": card["reviewed"], "category": card["topic"]["value"],
                "label": card["topic"]["label"],
                "summary": f"Verdict: {card['verdict']['label']}. Certainty of evidence: "
                           f"{card['certainty']['label']}. {card['statement']}"})
        return {
            "sitemap.xml": metadata.sitemap(c.base_url, entries),
            "robots.txt": metadata.robots(c.base_url),
            "feed.xml": metadata.atom_feed(c.base_url, f"{c.title}: latest reviews",
                                           c.description, c.language,
                                           [m.name for m in c.maintainers],
                                           self._newest_review() or self.today, feed_entries),
            # Made while they are written, a claim at a time (see metadata.claims_json).
            "data/claims.json": metadata.claims_json(
                {"title": c.title, "url": c.base_url, "built": self.today},
                self.claim_records()),
            "data/evidence.csv": metadata.evidence_csv(self.evidence_rows()),
        }

    def claim_records(self) -> Iterator[dict]:
        """Every claim as a record of claims.json, one at a time."""
        for cid in self.graded:
            claim = self.claims[cid]
            grade = self.grades[cid]
            evidence = []
            for item in claim.evidence:
                source = self.sources[item.source]
                e = item.effect
                effect = None if e is None else {
                    "outcome": e.outcome, "measure": e.measure, "value": e.value,
                    "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n}
                evidence.append({
                    "source": item.source, "source_url": self.absolute(source_url(item.source)),
                    "kind": source.kind, "citation": self.citations.text(item.source),
                    "n": source.n, "direction": item.direction,
                    "risk_of_bias": _overall_rob(source),
                    "finding": str(item.finding), "effect": effect,
                    "excerpts": [self._excerpt_record(ref) for ref in item.excerpts]})
            yield {
                "id": cid, "url": self.absolute(claim_url(cid)), "title": claim.title,
                "statement": claim.statement, "topic": claim.topic, "verdict": claim.verdict,
                "certainty": grade.certainty,
                "grade": {"start": grade.start, "start_kind": grade.start_kind,
                          "start_sources": list(grade.start_sources),
                          "steps": [{"domain": s.domain, "rating": s.rating, "change": s.change,
                                     "level_after": s.level_after,
                                     "reason": str(s.reason) if s.reason else None}
                                    for s in grade.steps]},
                "summary": str(claim.summary),
                "evidence": evidence,
                "seen_in": [self._excerpt_record(ref) for ref in claim.seen_in],
                "related": [r for r in claim.related if r in self.grades],
                "reviewed": {"date": claim.reviewed.date, "reviewer": claim.reviewed.reviewer},
            }

    def evidence_rows(self) -> Iterator[dict]:
        """Every piece of evidence of every claim as a row of evidence.csv, one at a time."""
        for cid in self.graded:
            claim = self.claims[cid]
            grade = self.grades[cid]
            url = self.absolute(claim_url(cid))
            for item in claim.evidence:
                source = self.sources[item.source]
                e = item.effect
                yield {
                    "claim_id": cid, "claim_title": claim.title, "topic": claim.topic,
                    "verdict": claim.verdict, "certainty": grade.certainty,
                    "source": item.source, "source_kind": source.kind,
                    "source_title": self.source_title(item.source), "n": source.n,
                    "dose": source.dose, "duration": source.duration,
                    "direction": item.direction, "risk_of_bias": _overall_rob(source),
                    "outcome": e.outcome if e else None, "measure": e.measure if e else None,
                    "value": e.value if e else None, "ci_low": e.ci_low if e else None,
                    "ci_high": e.ci_high if e else None, "effect_n": e.n if e else None,
                    "excerpts": " ".join(item.excerpts), "claim_url": url,
                    "source_url": self.absolute(source_url(item.source))}

    def _excerpt_record(self, ref: str) -> dict:
        key, _, ex_id = ref.partition("#")
        excerpt = next(e for e in self.sources[key].excerpts if e.id == ex_id)
        return {"ref": ref, "url": self.absolute(excerpt_url(ref)), "text": excerpt.text,
                "locator": excerpt.locator}


def _overall_rob(source) -> str | None:
    return source.risk_of_bias.overall if source.risk_of_bias else None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _kind_view(kind: str) -> dict:
    k = v.KINDS_BY_VALUE[kind]
    return {"value": k.value, "label": k.label, "meaning": k.meaning}


def _domain_view(d: v.Domain) -> dict:
    return {"key": d.key, "anchor": f"domain-{d.key.replace('_', '-')}", "label": d.label,
            "meaning": d.meaning,
            "ratings": [{"label": v.RATING_LABELS[r], "value": r, "change": c}
                        for r, c in d.ratings]}


def _days_between(start: str, end: str) -> int | None:
    try:
        return (datetime.date.fromisoformat(end) - datetime.date.fromisoformat(start)).days
    except ValueError:
        return None
