"""Views: the view-models that templates receive, one module per page type.

Owns the list of pages a site has and the dispatch from a page's kind to the module that
builds its context: ``home`` (the evidence map), ``claim``, ``source``, ``listings`` (all
claims, topics, bibliography), ``guides`` (methodology, glossary, search, disclaimer, 404) and
``data`` (sitemap, robots.txt, feed, open data), all on the shared pieces of ``common``
(and ``cards``, the social cards every page names).
``SiteViews`` is the one entry point the pipeline uses. Everything a page shows that has to be
computed is computed there, with grades already worked out; templates only loop and test.
Pure: takes the validated content and returns plain values; Markdown goes through the
``MarkdownRenderer`` it is given. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ldn_site import vocabulary as v
from ldn_site.citations import Citations
from ldn_site.grading import Grade
from ldn_site.markup import MarkdownRenderer
from ldn_site.model import Content
from ldn_site.views import claim, data, guides, home, listings, source
from ldn_site.views.common import Page, Site, claim_url, make_site, source_url, topic_url
from ldn_site.views.data import DATA_FILES

__all__ = ["DATA_FILES", "Page", "SiteViews"]

BUILDERS: dict[str, Callable[[Site, Page], dict]] = {
    "home": home.view_home,
    "methodology": guides.view_methodology,
    "bibliography": listings.view_bibliography,
    "disclaimer": guides.view_disclaimer,
    "claims": listings.view_claims,
    "glossary": guides.view_glossary,
    "search": guides.view_search,
    "404": guides.view_not_found,
    "topic": listings.view_topic,
    "claim": claim.view_claim,
    "source": source.view_source,
}


class SiteViews:
    """Builds view-models for every page from validated content and computed grades."""

    def __init__(self, content: Content, grades: dict[str, Grade], md: MarkdownRenderer,
                 today: str, citations: Citations | None = None):
        self.site = make_site(content, grades, md, today, citations)
        self.md = md

    def pages(self) -> list[Page]:
        return list_pages(self.site)

    def context(self, page: Page) -> dict:
        return BUILDERS[page.kind](self.site, page)

    def data_files(self) -> dict[str, str | Iterable[str]]:
        """Every generated file that is not a page (``DATA_FILES``), by path."""
        return data.data_files(self.site, self.pages())


def list_pages(site: Site) -> list[Page]:
    pages = [Page("index.html", "index.html", "home"),
             Page("methodology.html", "methodology.html", "methodology"),
             Page("bibliography.html", "bibliography.html", "bibliography"),
             Page("disclaimer.html", "disclaimer.html", "disclaimer"),
             Page("claims.html", "claims.html", "claims"),
             Page("glossary.html", "glossary.html", "glossary"),
             Page("search.html", "search.html", "search"),
             Page("404.html", "404.html", "404")]
    pages += [Page(topic_url(t.value), "topic.html", "topic", t.value) for t in v.TOPICS]
    pages += [Page(claim_url(cid), "claim.html", "claim", cid) for cid in site.graded]
    pages += [Page(source_url(key), "source.html", "source", key)
              for key in sorted(site.sources)]
    return pages
