"""Coverage: how completely the site reviews the popular articles, as numbers.

Owns the coverage report: per article, how many excerpts it has, how many of them feed a claim
and how many distinct claims they feed; per topic, how many claims there are, by verdict and by
computed certainty. Pure: takes validated content and grades, returns rows and text; printing
belongs to the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from ldn_site import vocabulary as v
from ldn_site.grading import Grade
from ldn_site.model import Content


@dataclass(frozen=True)
class ArticleRow:
    key: str
    excerpts: int
    linked_excerpts: int
    claims: int


@dataclass(frozen=True)
class TopicRow:
    topic: str
    claims: int
    verdicts: dict
    certainty: dict


def compute_coverage(content: Content, grades: dict[str, Grade]
                     ) -> tuple[list[ArticleRow], list[TopicRow]]:
    claims_by_excerpt: dict[str, set[str]] = {}
    for claim in content.claims:
        for ref in claim.seen_in:
            claims_by_excerpt.setdefault(str(ref), set()).add(claim.id)
    articles = []
    for key, source in sorted(content.sources.items()):
        if source.kind != "popular-article":
            continue
        refs = [f"{key}#{ex.id}" for ex in source.excerpts]
        fed = set().union(*(claims_by_excerpt.get(r, set()) for r in refs)) if refs else set()
        articles.append(ArticleRow(key, len(refs),
                                   sum(1 for r in refs if r in claims_by_excerpt), len(fed)))
    topics = []
    for topic in v.TOPICS:
        in_topic = [c for c in content.claims if c.topic == topic.value]
        verdicts = {t.value: sum(1 for c in in_topic if c.verdict == t.value) for t in v.VERDICTS}
        certainty = {level: sum(1 for c in in_topic
                                if c.id in grades and grades[c.id].certainty == level)
                     for level in reversed(v.CERTAINTY_LEVELS)}
        topics.append(TopicRow(topic.value, len(in_topic), verdicts, certainty))
    return articles, topics


def format_coverage(articles: list[ArticleRow], topics: list[TopicRow]) -> str:
    lines = ["Articles", f"{'article':<14}{'excerpts':>9}{'linked':>8}{'claims':>8}"]
    for a in articles:
        lines.append(f"{a.key:<14}{a.excerpts:>9}{a.linked_excerpts:>8}{a.claims:>8}")
    lines.append(f"{'total':<14}{sum(a.excerpts for a in articles):>9}"
                 f"{sum(a.linked_excerpts for a in articles):>8}")
    verdict_names = [t.value for t in v.VERDICTS]
    level_names = list(reversed(v.CERTAINTY_LEVELS))
    lines += ["", "Topics", f"{'topic':<14}{'claims':>7} | "
              + " ".join(f"{n:>11}" for n in verdict_names) + " | "
              + " ".join(f"{n:>8}" for n in level_names)]
    for t in topics:
        lines.append(f"{t.topic:<14}{t.claims:>7} | "
                     + " ".join(f"{t.verdicts[n]:>11}" for n in verdict_names) + " | "
                     + " ".join(f"{t.certainty[n]:>8}" for n in level_names))
    total = sum(t.claims for t in topics)
    lines.append(f"{'total':<14}{total:>7} | "
                 + " ".join(f"{sum(t.verdicts[n] for t in topics):>11}" for n in verdict_names)
                 + " | " + " ".join(f"{sum(t.certainty[n] for t in topics):>8}"
                                    for n in level_names))
    return "\n".join(lines)
