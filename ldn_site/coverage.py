"""Coverage: how completely the site reviews the popular articles, as numbers.

Owns the coverage report: per article, how many excerpts it has, how many of them feed a claim
and how many distinct claims they feed; per topic, how many claims there are, by verdict and by
computed certainty; and its forms, text that says what each number means and JSON for tools.
Pure: takes validated content and grades, returns rows, text and values; printing belongs to
the CLI.
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
        certainty = {level: sum(1 for c in in_topic if c.kind != "factual"
                                and c.id in grades and grades[c.id].certainty == level)
                     for level in reversed(v.CERTAINTY_LEVELS)}
        certainty["factual"] = sum(1 for c in in_topic if c.kind == "factual")
        topics.append(TopicRow(topic.value, len(in_topic), verdicts, certainty))
    return articles, topics


ARTICLE_COLUMNS = (
    ("quoted", "passages quoted from the article (its excerpts)"),
    ("reviewed", "of those, the passages a claim lists as making it (seen_in)"),
    ("claims", "the different claims those passages lead to"),
)
TOPIC_COLUMNS = (
    ("claims", "how many claims are filed under the topic"),
    ("verdict", "what the evidence says about each claim: supported, mixed, unsupported or "
                "refuted"),
    ("certainty", "how sure that evidence lets us be (GRADE, computed from the grading): "
                  "high, moderate, low or very low; factual claims (what a document states) "
                  "have no certainty and are counted apart"),
)


def _legend(columns) -> list[str]:
    return [f"  {name:<10} {meaning}" for name, meaning in columns]


def format_coverage(articles: list[ArticleRow], topics: list[TopicRow]) -> str:
    """The report for people: two tables, each after a legend that says in words what every
    column counts, and a closing sentence with the totals."""
    quoted = sum(a.excerpts for a in articles)
    reviewed = sum(a.linked_excerpts for a in articles)
    lines = ["Popular articles: how much of what they say is reviewed", *_legend(ARTICLE_COLUMNS),
             "", f"{'article':<14}{'quoted':>8}{'reviewed':>10}{'claims':>8}"]
    for a in articles:
        lines.append(f"{a.key:<14}{a.excerpts:>8}{a.linked_excerpts:>10}{a.claims:>8}")
    lines.append(f"{'all articles':<14}{quoted:>8}{reviewed:>10}")
    verdict_names = [t.value for t in v.VERDICTS]
    level_names = list(reversed(v.CERTAINTY_LEVELS)) + ["factual"]
    lines += ["", "Claims by topic: their verdicts, and the certainty of their evidence",
              *_legend(TOPIC_COLUMNS), "",
              f"{'topic':<14}{'claims':>7} | " + " ".join(f"{n:>11}" for n in verdict_names)
              + " | " + " ".join(f"{n:>8}" for n in level_names)]
    for t in topics:
        lines.append(f"{t.topic:<14}{t.claims:>7} | "
                     + " ".join(f"{t.verdicts[n]:>11}" for n in verdict_names) + " | "
                     + " ".join(f"{t.certainty[n]:>8}" for n in level_names))
    total = sum(t.claims for t in topics)
    lines.append(f"{'all topics':<14}{total:>7} | "
                 + " ".join(f"{sum(t.verdicts[n] for t in topics):>11}" for n in verdict_names)
                 + " | " + " ".join(f"{sum(t.certainty[n] for t in topics):>8}"
                                    for n in level_names))
    share = f" ({100 * reviewed / quoted:.0f}%)" if quoted else ""
    lines += ["", f"{reviewed} of the {_count(quoted, 'passage')} quoted from "
                  f"{_count(len(articles), 'article')}{share} "
                  f"{'is' if reviewed == 1 else 'are'} reviewed in a claim; "
                  f"{_count(total, 'claim')} in all."]
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def coverage_data(articles: list[ArticleRow], topics: list[TopicRow]) -> dict:
    """The report for tools (``coverage --format json``): the same numbers, named."""
    return {
        "articles": [{"article": a.key, "quoted": a.excerpts, "reviewed": a.linked_excerpts,
                      "claims": a.claims} for a in articles],
        "topics": [{"topic": t.topic, "claims": t.claims, "verdicts": dict(t.verdicts),
                    "certainty": dict(t.certainty)} for t in topics],
        "totals": {
            "quoted": sum(a.excerpts for a in articles),
            "reviewed": sum(a.linked_excerpts for a in articles),
            "claims": sum(t.claims for t in topics),
        },
        "meaning": {"articles": dict(ARTICLE_COLUMNS), "topics": dict(TOPIC_COLUMNS)},
    }
