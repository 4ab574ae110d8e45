"""The evidence review itself (issue 3): every claim rests on evidence with the sources' own
words, every source record is used, every checkable statement of the five articles is linked
to the claim that reviews it, and every article excerpt is verbatim in the article's text.

Marked ``repository_content`` like test_repository_content.py: these test the real content.
"""

from __future__ import annotations

import pytest

from conftest import REPO, run_cli
from ldn_site.pipeline import check_site

pytestmark = pytest.mark.repository_content

SEED_ARTICLES = REPO.parent / "shared" / "seed-articles"


@pytest.fixture(autouse=True)
def content_dates(monkeypatch):
    """The real content is dated by its own reviews, not by the tests' fixed epoch."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def checked():
    return check_site(str(REPO))


def test_every_claim_has_evidence_and_quotes_its_sources(checked):
    claims = checked.content.claims
    assert len(claims) >= 12
    no_evidence = [c.id for c in claims if not c.evidence]
    no_excerpt = [c.id for c in claims if not any(item.excerpts for item in c.evidence)]
    ungraded = [c.id for c in claims if c.id not in checked.validated.grades]
    assert (no_evidence, no_excerpt, ungraded) == ([], [], [])


def test_every_source_record_is_cited_by_some_claim(checked):
    content = checked.content
    cited = {item.source for c in content.claims for item in c.evidence}
    cited |= {str(ref).partition("#")[0] for c in content.claims for ref in c.seen_in}
    assert sorted(set(content.sources) - cited) == []
    assert sorted(set(content.bib) - set(content.sources)) == []


def test_every_article_excerpt_feeds_a_claim_and_all_five_articles_are_reviewed(checked):
    content = checked.content
    articles = {k: s for k, s in content.sources.items() if s.kind == "popular-article"}
    assert len(articles) == 5
    linked = {str(ref) for c in content.claims for ref in c.seen_in}
    unlinked = [f"{k}#{ex.id}" for k, s in sorted(articles.items()) for ex in s.excerpts
                if f"{k}#{ex.id}" not in linked]
    assert unlinked == []
    assert all(s.assessment and s.publisher and s.interests for s in articles.values())


@pytest.mark.skipif(not SEED_ARTICLES.is_dir(), reason="../shared/seed-articles is not here")
def test_article_excerpts_are_verbatim_in_the_seed_articles():
    result = run_cli("check", "--root", REPO, "--texts", SEED_ARTICLES)
    assert result.exit_code == 0, result.output
    assert "excerpt-mismatch" not in result.output
    assert result.output.splitlines()[-1].startswith("0 errors")


def test_coverage_report_counts_every_article_and_topic(checked):
    result = run_cli("coverage", "--root", REPO)
    assert result.exit_code == 0, result.output
    for key in ("article000", "article001", "article002", "article003", "article004"):
        assert key in result.output
    for topic in ("efficacy", "dose", "mechanism", "side-effects", "safety"):
        assert topic in result.output
