"""Views: the view-models that templates receive, one builder per page type.

Owns everything a page shows that has to be computed: labels and symbols for verdicts and
certainty, the GRADE derivation in words, citations, links between claims, sources, excerpts
and articles (always in both directions), and the order of every listing (each with a tie-break
on id). Templates only loop and test. Pure: takes the validated content and returns plain
values; Markdown goes through the ``MarkdownRenderer`` it is given. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from ldn_site import vocabulary as v
from ldn_site.grading import Grade
from ldn_site.markup import MarkdownRenderer
from ldn_site.model import BibEntry, Claim, Config, Content, Source

TOPIC_ORDER = {t.value: i for i, t in enumerate(v.TOPICS)}
VERDICT_ORDER = {t.value: i for i, t in enumerate(v.VERDICTS)}


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


_BRACES = re.compile(r"[{}]")
_LATEX = {r"\&": "&", r"\%": "%", r"\_": "_", r"\$": "$", r"\#": "#", "--": "–", "~": " "}


def clean_bib(value: str | None) -> str:
    """BibTeX field text as a reader should see it: no protective braces or escapes."""
    if not value:
        return ""
    text = _BRACES.sub("", value)
    for latex, plain in _LATEX.items():
        text = text.replace(latex, plain)
    return " ".join(text.split())


def format_authors(bib_author: str, limit: int = 6) -> str:
    """Vancouver style: 'Younger J, Mackey S'; more than six authors become the first three
    followed by 'et al.'."""
    names = [n.strip() for n in clean_bib(bib_author).split(" and ") if n.strip()]
    out = []
    for name in names:
        if "," in name:
            last, _, first = name.partition(",")
            initials = "".join(p[0] for p in re.split(r"[\s.\-]+", first.strip()) if p)
            out.append(f"{last.strip()} {initials}".strip())
        else:
            out.append(name)
    if len(out) > limit:
        out = out[:3] + ["et al"]
    return ", ".join(out)


def format_citation(entry: BibEntry) -> str:
    """A Vancouver-style reference built from the BibTeX fields that are present."""
    f = entry.fields
    parts = []
    if f.get("author"):
        parts.append(format_authors(f["author"]) + ".")
    parts.append(clean_bib(f.get("title")).rstrip(".") + ".")
    venue = clean_bib(f.get("journal") or f.get("booktitle") or f.get("howpublished")
                      or f.get("publisher") or f.get("institution"))
    tail = ""
    if f.get("year"):
        tail = clean_bib(f["year"])
        if f.get("volume"):
            tail += f";{clean_bib(f['volume'])}"
            if f.get("number"):
                tail += f"({clean_bib(f['number'])})"
        if f.get("pages"):
            tail += f":{clean_bib(f['pages'])}"
    if venue and tail:
        parts.append(f"{venue}. {tail}.")
    elif venue or tail:
        parts.append(f"{venue or tail}.")
    if f.get("doi"):
        parts.append(f"doi:{clean_bib(f['doi'])}")
    return " ".join(parts)


def short_citation(entry: BibEntry | None, key: str) -> str:
    """'Younger 2013' style label for tables and lists."""
    if entry is None:
        return key
    author = clean_bib(entry.fields.get("author", ""))
    first = author.split(" and ")[0].split(",")[0].strip() if author else ""
    if len(author.split(" and ")) > 2:
        first += " et al."
    elif len(author.split(" and ")) == 2:
        first += " & " + author.split(" and ")[1].split(",")[0].strip()
    year = clean_bib(entry.fields.get("year", ""))
    label = " ".join(p for p in (first, year) if p)
    return label or clean_bib(entry.fields.get("title", key))


def _term_view(terms, value: str) -> dict:
    t = v.term(terms, value)
    return {"value": t.value, "label": t.label, "symbol": t.symbol, "meaning": t.meaning}


def certainty_view(level: str) -> dict:
    return {"value": level, "label": v.CERTAINTY_LABELS[level],
            "symbol": v.CERTAINTY_SYMBOLS[level], "meaning": v.CERTAINTY_MEANINGS[level]}


class SiteViews:
    """Builds view-models for every page from validated content and computed grades."""

    def __init__(self, content: Content, grades: dict[str, Grade], md: MarkdownRenderer,
                 today: str):
        self.content = content
        self.config: Config = content.config
        self.grades = grades
        self.md = md
        self.today = today
        self.claims = {c.id: c for c in content.claims}
        self.sources = content.sources
        self.bib = content.bib
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

    # --- small shared pieces -------------------------------------------------------------

    def md_html(self, text) -> Markup:
        return Markup(self.md(text))

    def source_title(self, key: str) -> str:
        entry = self.bib.get(key)
        return clean_bib(entry.fields.get("title")) if entry else key

    def source_link(self, key: str) -> dict:
        source = self.sources[key]
        return {"key": key, "url": source_url(key), "label": short_citation(self.bib.get(key), key),
                "title": self.source_title(key), "kind": v.KINDS_BY_VALUE[source.kind].label}

    def claim_card(self, claim_id: str) -> dict:
        claim = self.claims[claim_id]
        grade = self.grades[claim_id]
        return {"id": claim.id, "url": claim_url(claim.id), "title": claim.title,
                "statement": claim.statement,
                "topic": dict(_term_view(v.TOPICS, claim.topic), url=topic_url(claim.topic)),
                "verdict": _term_view(v.VERDICTS, claim.verdict),
                "certainty": certainty_view(grade.certainty),
                "reviewed": claim.reviewed.date}

    def excerpt_view(self, ref: str) -> dict:
        key, _, ex_id = ref.partition("#")
        source = self.sources[key]
        excerpt = next(e for e in source.excerpts if e.id == ex_id)
        return {"ref": ref, "text": excerpt.text, "locator": excerpt.locator,
                "url": excerpt_url(ref), "source": self.source_link(key)}

    def base(self, path: str, title: str, description: str) -> dict:
        depth = path.count("/")
        return {"root": "../" * depth, "path": path, "title": title,
                "description": description, "canonical": self.config.base_url + path,
                "site": self.site_view()}

    def site_view(self) -> dict:
        return {"title": self.config.title, "description": self.config.description,
                "language": self.config.language, "base_url": self.config.base_url,
                "disclaimer_html": self.disclaimer_html(),
                "maintainers": [{"name": m.name, "role": m.role or ""}
                                for m in self.config.maintainers],
                "topics": [{"value": t.value, "label": t.label, "url": topic_url(t.value)}
                           for t in v.TOPICS]}

    def disclaimer_html(self) -> Markup:
        return self.md_html(self.config.disclaimer)

    # --- pages ---------------------------------------------------------------------------

    def pages(self) -> list[Page]:
        pages = [Page("index.html", "index.html", "home"),
                 Page("methodology.html", "methodology.html", "methodology"),
                 Page("bibliography.html", "bibliography.html", "bibliography"),
                 Page("disclaimer.html", "disclaimer.html", "disclaimer"),
                 Page("claims.html", "claims.html", "claims"),
                 Page("404.html", "404.html", "404")]
        pages += [Page(topic_url(t.value), "topic.html", "topic", t.value) for t in v.TOPICS]
        pages += [Page(claim_url(cid), "claim.html", "claim", cid) for cid in sorted(self.claims)
                  if cid in self.grades]
        pages += [Page(source_url(key), "source.html", "source", key)
                  for key in sorted(self.sources)]
        return pages

    def context(self, page: Page) -> dict:
        builder = getattr(self, f"view_{page.kind.replace('404', 'not_found')}")
        return builder(page)

    def sorted_cards(self, claim_ids) -> list[dict]:
        cards = [self.claim_card(cid) for cid in claim_ids if cid in self.grades]
        return sorted(cards, key=lambda c: (VERDICT_ORDER[c["verdict"]["value"]],
                                            -v.CERTAINTY_LEVELS.index(c["certainty"]["value"]),
                                            c["title"].lower(), c["id"]))

    def view_home(self, page: Page) -> dict:
        ctx = self.base(page.path, self.config.title, self.config.description)
        rows = []
        for topic in v.TOPICS:
            in_topic = [cid for cid, c in self.claims.items() if c.topic == topic.value]
            cells = []
            for verdict in v.VERDICTS:
                ids = [cid for cid in in_topic if self.claims[cid].verdict == verdict.value]
                cells.append({"verdict": _term_view(v.VERDICTS, verdict.value),
                              "claims": self.sorted_cards(ids)})
            rows.append({"topic": {"value": topic.value, "label": topic.label,
                                   "url": topic_url(topic.value)},
                         "cells": cells, "count": len(in_topic)})
        graded = [cid for cid in self.claims if cid in self.grades]
        key_ids = [cid for cid in graded if self.claims[cid].topic == "efficacy"]
        latest = sorted(graded, key=lambda cid: (self.claims[cid].reviewed.date, cid),
                        reverse=True)[:8]
        ctx.update({
            "verdicts": [_term_view(v.VERDICTS, t.value) for t in v.VERDICTS],
            "map": rows,
            "key_findings": self.sorted_cards(key_ids)[:6],
            "latest": [self.claim_card(cid) for cid in latest],
            "counts": {"claims": len(graded), "sources": sum(
                1 for s in self.sources.values() if s.kind != "popular-article"),
                "articles": sum(1 for s in self.sources.values()
                                if s.kind == "popular-article")},
        })
        return ctx

    def view_claims(self, page: Page) -> dict:
        ctx = self.base(page.path, "All claims", "Every claim reviewed on this site.")
        groups = []
        for topic in v.TOPICS:
            ids = [cid for cid, c in self.claims.items() if c.topic == topic.value]
            if ids:
                groups.append({"topic": _term_view(v.TOPICS, topic.value),
                               "url": topic_url(topic.value), "claims": self.sorted_cards(ids)})
        ctx["groups"] = groups
        return ctx

    def view_topic(self, page: Page) -> dict:
        topic = _term_view(v.TOPICS, page.ident)
        ctx = self.base(page.path, topic["label"], topic["meaning"])
        ids = [cid for cid, c in self.claims.items() if c.topic == page.ident]
        ctx.update({"topic": topic, "claims": self.sorted_cards(ids)})
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
                          "reason_html": self.md_html(step.reason),
                          "level_after": certainty_view(step.level_after)})
        return {"start": certainty_view(grade.start), "start_kind": kind.label,
                "start_sources": [self.source_link(k) for k in grade.start_sources],
                "steps": steps, "certainty": certainty_view(grade.certainty)}

    def evidence_view(self, claim: Claim) -> list[dict]:
        rows = []
        for item in claim.evidence:
            source = self.sources[item.source]
            rob = source.risk_of_bias
            effect = None
            if item.effect is not None:
                e = item.effect
                effect = {"outcome": e.outcome, "measure": e.measure,
                          "measure_label": v.term(v.EFFECT_MEASURES, e.measure).label,
                          "value": f"{e.value:g}", "ci_low": f"{e.ci_low:g}",
                          "ci_high": f"{e.ci_high:g}", "n": e.n}
            rows.append({
                "source": self.source_link(item.source),
                "design": v.KINDS_BY_VALUE[source.kind].label,
                "n": source.n, "dose": source.dose or "", "duration": source.duration or "",
                "finding_html": self.md_html(item.finding),
                "direction": _term_view(v.DIRECTIONS, item.direction),
                "rob": _term_view(v.ROB_JUDGEMENTS, rob.overall) if rob else None,
                "effect": effect,
                "excerpts": [self.excerpt_view(ref) for ref in item.excerpts],
            })
        return rows

    def view_claim(self, page: Page) -> dict:
        claim = self.claims[page.ident]
        grade = self.grades[claim.id]
        ctx = self.base(page.path, claim.title, claim.statement)
        articles: dict[str, list] = {}
        for ref in claim.seen_in:
            articles.setdefault(ref.partition("#")[0], []).append(self.excerpt_view(ref))
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
                                 "cells": [_term_view(v.ROB_JUDGEMENTS, getattr(rob, key))
                                           for key, _ in v.ROB_DOMAINS]})
        review_age = _days_between(claim.reviewed.date, self.today)
        ctx.update({
            "claim": self.claim_card(claim.id),
            "summary_html": self.md_html(claim.summary),
            "origin_html": self.md_html(claim.origin),
            "dose": dose,
            "mechanism": ({"pathway_html": self.md_html(claim.mechanism.pathway),
                           "status": _term_view(v.MECHANISM_STATUSES, claim.mechanism.status)}
                          if claim.mechanism else None),
            "side_effects": [{"effect": s.effect, "frequency": s.frequency,
                              "excerpt": self.excerpt_view(s.source)}
                             for s in claim.side_effects],
            "evidence": self.evidence_view(claim),
            "rob_domains": [label for _, label in v.ROB_DOMAINS],
            "rob_rows": sorted(rob_rows, key=lambda r: r["source"]["key"]),
            "grade": self.grade_view(grade),
            "articles": [{"source": self.source_link(key), "excerpts": exs}
                         for key, exs in sorted(articles.items())],
            "related": self.sorted_cards(claim.related),
            "reviewer": claim.reviewed.reviewer,
            "review_due": review_age is not None
            and review_age > self.config.review_max_age_days,
            "cite": f"{self.config.title}. {claim.title}. Last reviewed "
                    f"{claim.reviewed.date}. {self.config.base_url}{page.path}",
        })
        return ctx

    def view_source(self, page: Page) -> dict:
        key = page.ident
        source = self.sources[key]
        entry = self.bib.get(key)
        fields = entry.fields if entry else {}
        ctx = self.base(page.path, self.source_title(key), format_citation(entry) if entry
                        else key)
        links = []
        if fields.get("doi"):
            doi = clean_bib(fields["doi"])
            links.append({"label": f"DOI {doi}", "url": f"https://doi.org/{doi}"})
        if fields.get("pmid"):
            pmid = clean_bib(fields["pmid"])
            links.append({"label": f"PubMed {pmid}",
                          "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"})
        if fields.get("pmcid"):
            pmcid = clean_bib(fields["pmcid"])
            links.append({"label": f"PubMed Central {pmcid}",
                          "url": f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/"})
        if source.registration and re.match(r"^NCT\d{8}$", source.registration):
            links.append({"label": f"ClinicalTrials.gov {source.registration}",
                          "url": f"https://clinicaltrials.gov/study/{source.registration}"})
        if fields.get("url"):
            links.append({"label": "Publisher or record page", "url": clean_bib(fields["url"])})
        details = [(label, getattr(source, name)) for name, label in (
            ("design", "Design"), ("population", "Population"), ("n", "Participants"),
            ("intervention", "Intervention"), ("dose", "Dose"), ("duration", "Duration"),
            ("comparator", "Comparator"), ("registration", "Registration"),
            ("setting", "Setting"))]
        excerpts = []
        for ex in source.excerpts:
            ref = f"{key}#{ex.id}"
            citing = sorted(set(self.claims_by_excerpt.get(ref, [])))
            excerpts.append({"id": ex.id, "anchor": excerpt_anchor(ex.id), "text": ex.text,
                             "locator": ex.locator,
                             "claims": [self.claim_card(c) for c in citing if c in self.grades]})
        citing = {}
        for cid, direction in self.claims_by_source.get(key, []):
            citing.setdefault(cid, direction)
        scorecard = []
        if source.kind == "popular-article":
            # The article's claims in the order the article makes them (excerpt order).
            seen = set()
            for ex in excerpts:
                for card in ex["claims"]:
                    if card["id"] not in seen:
                        seen.add(card["id"])
                        scorecard.append({"excerpt": ex, "claim": card})
        rob = None
        if source.risk_of_bias:
            r = source.risk_of_bias
            rob = {"rows": [{"domain": label, "judgement": _term_view(v.ROB_JUDGEMENTS,
                                                                      getattr(r, name))}
                            for name, label in v.ROB_DOMAINS],
                   "note_html": self.md_html(r.note)}
        ctx.update({
            "source": {"key": key, "kind": _kind_view(source.kind),
                       "is_article": source.kind == "popular-article",
                       "citation": format_citation(entry) if entry else key,
                       "title": self.source_title(key)},
            "links": links,
            "details": [{"label": label, "value": value} for label, value in details
                        if value is not None],
            "results_html": self.md_html(source.results),
            "conclusion_html": self.md_html(source.conclusion),
            "limitations_html": self.md_html(source.limitations),
            "notes_html": self.md_html(source.notes),
            "rob": rob,
            "publisher": source.publisher or "",
            "interests": source.interests or "",
            "assessment_html": self.md_html(source.assessment),
            "verified_at": list(source.verified_at),
            "excerpts": excerpts,
            "scorecard": scorecard,
            "citing": [dict(self.claim_card(cid), direction=_term_view(v.DIRECTIONS, d))
                       for cid, d in sorted(citing.items()) if cid in self.grades
                       and not source.kind == "popular-article"],
        })
        return ctx

    def view_bibliography(self, page: Page) -> dict:
        ctx = self.base(page.path, "Bibliography", "Every source cited on this site.")
        groups = {"studies": [], "articles": []}
        for key, entry in self.bib.items():
            if key not in self.sources:
                continue
            group = "articles" if self.sources[key].kind == "popular-article" else "studies"
            groups[group].append({"key": key, "url": source_url(key),
                                  "citation": format_citation(entry),
                                  "kind": v.KINDS_BY_VALUE[self.sources[key].kind].label})
        for items in groups.values():
            items.sort(key=lambda e: (e["citation"].lower(), e["key"]))
        ctx.update({"studies": groups["studies"], "articles": groups["articles"],
                    "bib_url": "references.bib"})
        return ctx

    def view_methodology(self, page: Page) -> dict:
        ctx = self.base(page.path, "How we grade the evidence",
                        "The verdicts, the GRADE certainty scale and the rules this site uses.")
        ctx.update({
            "levels": [certainty_view(level) for level in reversed(v.CERTAINTY_LEVELS)],
            "verdicts": [_term_view(v.VERDICTS, t.value) for t in v.VERDICTS],
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

    def view_disclaimer(self, page: Page) -> dict:
        return self.base(page.path, "Medical disclaimer",
                         "What this site is and is not, and how to use it safely.")

    def view_not_found(self, page: Page) -> dict:
        ctx = self.base(page.path, "Page not found", "This page does not exist.")
        # A 404 page is served at whatever address was asked for, so relative links would
        # break; it links from the site's base address instead.
        ctx["root"] = self.config.base_url
        return ctx


def _kind_view(kind: str) -> dict:
    k = v.KINDS_BY_VALUE[kind]
    return {"value": k.value, "label": k.label, "meaning": k.meaning}


def _domain_view(d: v.Domain) -> dict:
    return {"key": d.key, "label": d.label, "meaning": d.meaning,
            "ratings": [{"label": v.RATING_LABELS[r], "value": r, "change": c}
                        for r, c in d.ratings]}


def _days_between(start: str, end: str) -> int | None:
    import datetime
    try:
        return (datetime.date.fromisoformat(end) - datetime.date.fromisoformat(start)).days
    except ValueError:
        return None
