"""Views, shared pieces: what every page type builds on.

Owns the ``Site`` value (the validated content, the grades, the Markdown renderer, the build
date and the reverse links between claims, sources and excerpts, worked out once), the
addresses of claim, source, topic and excerpt pages, the labels and symbols of the
vocabulary's terms, the pieces many pages show (a claim's card, a source's link, an excerpt,
a claim framed as a claim with its verdict), the queries more than one page type asks (latest
reviews, an article's claims, verdict counts) and the base context every page gets
(navigation, canonical address, social card, JSON-LD, the site's title and disclaimer). It
must not build a whole page's context (each page type has its own module) nor do any I/O;
Markdown goes through the renderer the ``Site`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from markupsafe import Markup

from ldn_site import metadata
from ldn_site import vocabulary as v
from ldn_site.citations import Citations, clean_bib
from ldn_site.glossary import GLOSSARY_URL, kind_url
from ldn_site.grading import Grade
from ldn_site.markup import MarkdownRenderer
from ldn_site.model import Config, Content
from ldn_site.views.cards import site_card

VERDICT_ORDER = {t.value: i for i, t in enumerate(v.VERDICTS)}
CERTAINTY_RANK = {level: i for i, level in enumerate(v.CERTAINTY_LEVELS)}
# The page kinds whose templates mark their content for the search index (data-pagefind-body);
# Pagefind leaves every other page out, so their symbols need no data-pagefind-ignore.
SEARCH_INDEXED = frozenset({"claim", "source", "topic", "glossary", "methodology"})
NAV = (("index.html", "Evidence map"), ("claims.html", "All claims"),
       ("glossary.html", "Glossary"), ("methodology.html", "How we grade"),
       ("bibliography.html", "Bibliography"))


@dataclass(frozen=True)
class Page:
    """One page to render: where it goes, which template, and what the template needs."""

    path: str
    template: str
    kind: str
    ident: str = ""


@dataclass(frozen=True)
class Site:
    """Everything the view-models are made from, shared by every page of one build.

    The dictionaries at the end remember, per process, the pieces many pages ask for (a
    claim's card, a source's link, title and label, its schema.org work)."""

    content: Content
    config: Config
    grades: dict[str, Grade]
    md: MarkdownRenderer
    today: str
    claims: dict
    sources: dict
    bib: dict
    citations: Citations
    base_path: str
    claims_by_source: dict[str, list[tuple[str, str]]]
    claims_by_excerpt: dict[str, list[str]]
    graded: list[str]
    view: dict
    cards: dict[str, dict] = field(default_factory=dict)
    links: dict[str, dict] = field(default_factory=dict)
    works: dict[str, dict] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


def make_site(content: Content, grades: dict[str, Grade], md: MarkdownRenderer, today: str,
              citations: Citations | None = None) -> Site:
    sources = content.sources
    claims = {c.id: c for c in content.claims}
    by_source, by_excerpt = index_citing_claims(content)
    return Site(
        content=content, config=content.config, grades=grades, md=md, today=today,
        claims=claims, sources=sources, bib=content.bib,
        citations=citations or Citations(content.bib, {k: s.kind for k, s in sources.items()}),
        base_path=urlsplit(content.config.base_url).path or "/",
        claims_by_source=by_source, claims_by_excerpt=by_excerpt,
        graded=sorted(cid for cid in claims if cid in grades),
        view=make_site_view(content.config, md))


def index_citing_claims(content: Content) -> tuple[dict, dict]:
    """The reverse links, built once: which claims cite each source and each excerpt."""
    claims_by_source: dict[str, list[tuple[str, str]]] = {}
    claims_by_excerpt: dict[str, list[str]] = {}
    for claim in sorted(content.claims, key=lambda c: c.id):
        for item in claim.evidence:
            claims_by_source.setdefault(item.source, []).append((claim.id, item.direction))
            for ref in item.excerpts:
                claims_by_excerpt.setdefault(ref, []).append(claim.id)
        for ref in claim.seen_in:
            claims_by_excerpt.setdefault(ref, []).append(claim.id)
            claims_by_source.setdefault(ref.partition("#")[0], [])
        for effect in claim.side_effects:
            claims_by_excerpt.setdefault(effect.source, []).append(claim.id)
    return claims_by_source, claims_by_excerpt


def make_site_view(c: Config, md: MarkdownRenderer) -> dict:
    return {"title": c.title, "description": c.description, "language": c.language,
            "base_url": c.base_url, "disclaimer_html": Markup(md(c.disclaimer)),
            "maintainers": [{"name": m.name, "role": m.role or ""} for m in c.maintainers],
            "topics": [{"value": t.value, "label": t.label, "url": topic_url(t.value)}
                       for t in v.TOPICS],
            "glossary_url": GLOSSARY_URL, "feed_url": "feed.xml",
            "report_url": c.report_url or "",
            "og_image": image_view(c, site_card(c))}


def image_view(c: Config, card: dict) -> dict:
    """A social card as the page's metadata gives it: an absolute address, as Open Graph
    requires, its size and its alt text."""
    return {"url": c.base_url + card["file"], "width": card["width"],
            "height": card["height"], "alt": card["alt"]}


# --- addresses -----------------------------------------------------------------------------

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


def absolute(site: Site, path: str) -> str:
    return site.config.base_url + path


# --- labels --------------------------------------------------------------------------------

def term_view(terms, value: str) -> dict:
    t = v.term(terms, value)
    return {"value": t.value, "label": t.label, "symbol": t.symbol, "meaning": t.meaning}


def certainty_view(level: str) -> dict:
    return {"value": level, "label": v.CERTAINTY_LABELS[level],
            "symbol": v.CERTAINTY_SYMBOLS[level], "meaning": v.CERTAINTY_MEANINGS[level],
            "graded": True, "rank": CERTAINTY_RANK[level]}


def documentation_view(verdict: str) -> dict:
    """What a factual claim shows where an effect claim shows its certainty: whether the
    authority's record documents it (no GRADE scale, no "we are confident" wording)."""
    return dict(term_view(v.DOCUMENTATION, v.DOCUMENTATION_BY_VERDICT[verdict]),
                graded=False, rank=len(v.CERTAINTY_LEVELS))


def rating_phrase(verdict: dict, rating: dict) -> str:
    """The verdict and its certainty (or documentation) in words: "Mixed, low certainty",
    "Supported, documented"."""
    suffix = " certainty" if rating["graded"] else ""
    return f"{verdict['label']}, {rating['label'].lower()}{suffix}"


def kind_view(kind: str) -> dict:
    k = v.KINDS_BY_VALUE[kind]
    return {"value": k.value, "label": k.label, "meaning": k.meaning}


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def md_html(site: Site, text) -> Markup:
    return Markup(site.md(text))


# --- sources, claims and excerpts as other pages show them ---------------------------------

def source_title(site: Site, key: str) -> str:
    title = site.titles.get(key)
    if title is None:
        entry = site.bib.get(key)
        title = site.titles[key] = clean_bib(entry.fields.get("title")) if entry else key
    return title


def source_label(site: Site, key: str) -> str:
    label = site.labels.get(key)
    if label is None:
        source = site.sources.get(key)
        if source is not None and source.kind == "trial-registration" and source.registration:
            label = f"{source.registration} (registry)"
        else:
            label = site.citations.short(key)
        site.labels[key] = label
    return label


def source_link(site: Site, key: str) -> dict:
    link = site.links.get(key)
    if link is None:
        source = site.sources[key]
        link = {"key": key, "url": source_url(key), "label": source_label(site, key),
                "title": source_title(site, key),
                "kind": v.KINDS_BY_VALUE[source.kind].label, "kind_url": kind_url(source.kind),
                "is_article": source.kind == "popular-article",
                "unverified": unverified_note(source)}
        site.links[key] = link
    return link


def article_origin(site: Site, key: str) -> dict:
    """Where a popular article was published, as far as it was found: its own address, the
    website and the date, each empty when not recorded."""
    source = site.sources[key]
    return {"url": source.url or "", "site_name": source.site_name or "",
            "published": source.published or ""}


def article_publisher(site: Site, key: str) -> dict | None:
    """The website that published a popular article as a schema.org Organization (its
    address is the article's own site), or None when it is not known."""
    origin = article_origin(site, key)
    if not origin["site_name"]:
        return None
    parts = urlsplit(origin["url"])
    home = f"{parts.scheme}://{parts.netloc}/" if parts.netloc else ""
    return metadata.organization(origin["site_name"], home)


def article_work(site: Site, key: str, with_publisher: bool = True) -> dict:
    """A popular article as a schema.org Article: its own address when it was found (never
    this site's), who published it (unless the caller names it elsewhere) and when, as far as
    known, and this site's page about it as ``subjectOf``."""
    title = source_title(site, key)
    origin = article_origin(site, key)
    work: dict = {"@type": "Article", "name": title, "headline": title[:110]}
    if origin["url"]:
        work["url"] = origin["url"]
    if origin["published"]:
        work["datePublished"] = origin["published"]
    publisher_org = article_publisher(site, key) if with_publisher else None
    if publisher_org:
        work["publisher"] = publisher_org
    work["subjectOf"] = {"@type": "WebPage", "url": absolute(site, source_url(key))}
    return work
def unverified_note(source) -> str:
    """"journal and DOI unverified" for a source whose publication details could not be
    confirmed, or "" for every other source."""
    details = [v.term(v.UNVERIFIED_DETAILS, d).label for d in v.values(v.UNVERIFIED_DETAILS)
               if d in source.unverified]
    return f"{' and '.join(details)} unverified" if details else ""


def claim_card(site: Site, claim_id: str) -> dict:
    """A claim as every page lists it. ``certainty`` is the GRADE certainty of an effect
    claim, or the documentation of a factual claim (``graded`` tells them apart)."""
    card = site.cards.get(claim_id)
    if card is None:
        claim = site.claims[claim_id]
        grade = site.grades[claim_id]
        factual = claim.kind == "factual"
        verdict = term_view(v.VERDICTS, claim.verdict)
        rating = documentation_view(claim.verdict) if factual else \
            certainty_view(grade.certainty)
        card = {"id": claim.id, "url": claim_url(claim.id), "title": claim.title,
                "statement": claim.statement,
                "topic": dict(term_view(v.TOPICS, claim.topic), url=topic_url(claim.topic)),
                "verdict": verdict, "certainty": rating,
                "rating_phrase": rating_phrase(verdict, rating),
                "kind": term_view(v.CLAIM_KINDS, claim.kind),
                "authority": claim.authority or "",
                "plain_reading": one_line(claim.plain_reading or ""),
                "reviewed": claim.reviewed.date}
        site.cards[claim_id] = card
    return card


def framed_title(card: dict) -> str:
    """The claim as a claim, with its verdict: "Claim: LDN reduces pain — Mixed, low
    certainty". Used wherever the title leaves the page (title, social cards, citation,
    feed)."""
    return f"Claim: {card['title']} — {card['rating_phrase']}"


def sorted_cards(site: Site, claim_ids) -> list[dict]:
    cards = [claim_card(site, cid) for cid in claim_ids if cid in site.grades]
    return sorted(cards, key=lambda c: (VERDICT_ORDER[c["verdict"]["value"]],
                                        -c["certainty"]["rank"], c["title"].lower(), c["id"]))


def excerpt_view(site: Site, ref: str) -> dict:
    key, _, ex_id = ref.partition("#")
    source = site.sources[key]
    excerpt = next(e for e in source.excerpts if e.id == ex_id)
    return {"ref": ref, "text": excerpt.text, "locator": excerpt.locator,
            "lang": excerpt.lang or "", "translation": excerpt.translation or "",
            "url": excerpt_url(ref), "source": source_link(site, key)}


# --- queries more than one page type asks --------------------------------------------------

def latest_ids(site: Site) -> list[str]:
    return sorted(site.graded, key=lambda cid: (site.claims[cid].reviewed.date, cid),
                  reverse=True)


def newest_review(site: Site) -> str:
    return max((site.claims[cid].reviewed.date for cid in site.graded), default="")


def count_verdicts(site: Site, claim_ids) -> list[dict]:
    counts = {t.value: 0 for t in v.VERDICTS}
    for cid in claim_ids:
        counts[site.claims[cid].verdict] += 1
    return [dict(term_view(v.VERDICTS, t.value), count=counts[t.value])
            for t in v.VERDICTS if counts[t.value]]


def list_article_claims(site: Site, key: str) -> list[str]:
    """The claims an article makes, in the order it makes them (excerpt order)."""
    source = site.sources[key]
    ordered: dict[str, None] = {}  # insertion-ordered, with constant-time membership
    for ex in source.excerpts:
        for cid in sorted(set(site.claims_by_excerpt.get(f"{key}#{ex.id}", []))):
            if cid in site.grades:
                ordered.setdefault(cid)
    return list(ordered)


# --- what every page gets ------------------------------------------------------------------

def base_context(site: Site, path: str, title: str, description: str, kind: str = "page",
                 og_type: str = "website", graph: list[dict] | None = None,
                 image: dict | None = None) -> dict:
    depth = path.count("/")
    url = absolute(site, path)
    if graph is None:
        graph = [web_page(site, "WebPage", path, title, description)]
    return {"root": "../" * depth, "path": path, "page_kind": kind, "title": title,
            "description": one_line(description), "canonical": url, "og_type": og_type,
            "og_image": image or site.view["og_image"],
            "noindex": False, "search_indexed": kind in SEARCH_INDEXED,
            "json_ld": Markup(metadata.json_ld(graph)),
            "nav": [{"url": u, "label": label, "current": u == path} for u, label in NAV],
            "site": site.view}


def web_page(site: Site, kind: str, path: str, title: str, description: str, **extra) -> dict:
    return metadata.web_page(kind, absolute(site, path), title, one_line(description),
                             site.config.base_url, site.config.language, **extra)


def publisher(site: Site) -> dict:
    return metadata.organization(site.config.title, site.config.base_url)
