"""Metadata: the machine-readable faces of the site, built as strings.

Owns schema.org JSON-LD (serialised so that it is valid JSON and safe inside a <script>),
the sitemap, robots.txt, the Atom feed of reviews and the open-data files (data/claims.json,
data/evidence.csv). Every builder takes plain values that ``views`` prepared and returns text
(the open-data files as a sequence of pieces, made as they are written);
absolute addresses are made from the configured base URL, and the only dates are content dates
or the build date the pipeline chose (never the wall clock). Every file carries the medical
disclaimer in the form its format allows (a field, a column, a comment, the feed's text), and
evidence.csv's text cells are neutralised against spreadsheet formula injection. Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

SCHEMA_CONTEXT = "https://schema.org"
DATA_FORMAT = "ldn-site open data, version 2"

# Verdicts as a schema.org Rating: 1 (worst, refuted) to 4 (best, supported).
VERDICT_RATINGS = {"refuted": 1, "unsupported": 2, "mixed": 3, "supported": 4}

EVIDENCE_COLUMNS = (
    "claim_id", "claim_title", "topic", "verdict", "certainty", "documentation", "source",
    "source_kind", "source_title", "source_unverified", "n", "dose", "duration", "direction",
    "finding", "risk_of_bias", "outcome", "measure", "value", "ci_low", "ci_high", "effect_n",
    "excerpts", "claim_url", "source_url", "disclaimer",
)
# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"); the apostrophe is the escape itself, so that the escaping can be undone.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def json_ld(graph: list[dict]) -> str:
    """A JSON-LD document for a <script type="application/ld+json"> element. '<', '>' and '&'
    are written as \\u escapes: still the same JSON, but no text can close the script."""
    doc = {"@context": SCHEMA_CONTEXT, "@graph": graph}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def organization(name: str, url: str = "") -> dict:
    org = {"@type": "Organization", "name": name}
    if url:
        org["url"] = url
    return org


def website(base_url: str, title: str, description: str, language: str) -> dict:
    return {"@type": "WebSite", "@id": base_url + "#website", "url": base_url, "name": title,
            "description": description, "inLanguage": language,
            "potentialAction": {"@type": "SearchAction",
                                "target": base_url + "search.html?q={search_term_string}",
                                "query-input": "required name=search_term_string"}}


def web_page(kind: str, url: str, name: str, description: str, base_url: str,
             language: str, **extra) -> dict:
    page = {"@type": kind, "@id": url, "url": url, "name": name, "description": description,
            "inLanguage": language, "isPartOf": {"@id": base_url + "#website"}}
    page.update({k: v for k, v in extra.items() if v not in (None, "", [], {})})
    return page


def claim_review(url: str, statement: str, reviewed: str, verdict: str, verdict_label: str,
                 author: dict, article: dict, claim_author: dict | None = None,
                 claim_date: str = "", explanation: str = "") -> dict:
    """A ClaimReview of one claim as one popular article makes it, as Google's fact-check
    markup expects it. The article is where the claim appears: ``itemReviewed`` is the claim,
    with the article as its ``appearance`` and, when known, whoever published the article as
    the claim's ``author`` and the article's date as the claim's ``datePublished``.
    ``explanation`` (the plain reading of the verdict) becomes the rating's
    ``ratingExplanation``."""
    claim: dict = {"@type": "Claim"}
    if claim_author:
        claim["author"] = claim_author
    if claim_date:
        claim["datePublished"] = claim_date
    claim["appearance"] = article
    rating = {"@type": "Rating", "ratingValue": VERDICT_RATINGS[verdict],
              "bestRating": 4, "worstRating": 1, "alternateName": verdict_label}
    if explanation:
        rating["ratingExplanation"] = explanation
    return {"@type": "ClaimReview", "url": url, "claimReviewed": statement,
            "datePublished": reviewed, "author": author, "reviewRating": rating,
            "itemReviewed": claim}


def scholarly_work(kind: str, name: str, url: str, authors: list[str], year: str,
                   periodical: str, identifiers: dict[str, str], same_as: list[str],
                   citation_text: str, pagination: str = "") -> dict:
    work: dict = {"@type": kind, "name": name, "headline": name[:110], "url": url}
    if authors:
        work["author"] = [{"@type": "Person", "name": a} for a in authors]
    if year:
        work["datePublished"] = year
    if periodical:
        work["isPartOf"] = {"@type": "Periodical", "name": periodical}
    if pagination and kind.endswith("Article"):
        # schema.org defines pagination on articles (and chapters, issues, volumes) only.
        work["pagination"] = pagination
    if identifiers:
        work["identifier"] = [{"@type": "PropertyValue", "propertyID": k, "value": v}
                              for k, v in identifiers.items()]
    if same_as:
        work["sameAs"] = same_as
    if citation_text:
        work["citation"] = citation_text
    return work


# --- files ---------------------------------------------------------------------------------

def xml_comment(text: str) -> str:
    """An XML comment holding text: a comment may not contain '--' nor end with '-'."""
    while "--" in text:
        text = text.replace("--", "- -")
    return f"<!-- {text} -->"


def sitemap(base_url: str, entries: list[tuple[str, str]], disclaimer: str) -> str:
    """entries: (path, lastmod date or '') in the order to list them. The disclaimer goes in a
    comment: the sitemap protocol has no element for it, and crawlers skip comments."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', xml_comment(disclaimer),
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, lastmod in entries:
        mod = f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else ""
        lines.append(f"<url><loc>{escape(base_url + path)}</loc>{mod}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def robots(base_url: str, disclaimer: str) -> str:
    """robots.txt, with the disclaimer as a comment (RFC 9309: '#' to the end of the line)."""
    note = " ".join(disclaimer.split())
    return f"# {note}\nUser-agent: *\nAllow: /\n\nSitemap: {base_url}sitemap.xml\n"


def atom_feed(base_url: str, title: str, subtitle: str, language: str, authors: list[str],
              updated: str, entries: list[dict], disclaimer: str) -> str:
    """An Atom feed; each entry: url, title, summary, date (YYYY-MM-DD), category, label.

    The disclaimer closes the feed's subtitle and every entry's summary, because a feed
    reader shows an entry on its own, and it is linked as the feed's related page."""
    def stamp(date: str) -> str:
        return f"{date}T00:00:00Z"

    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(language)}>',
           f"<title>{escape(title)}</title>",
           f"<subtitle>{escape(subtitle)} {escape(disclaimer)}</subtitle>",
           '<link rel="self" type="application/atom+xml" '
           f'href={quoteattr(base_url + "feed.xml")}/>',
           f'<link rel="alternate" type="text/html" href={quoteattr(base_url)}/>',
           '<link rel="related" type="text/html" title="Medical disclaimer" '
           f'href={quoteattr(base_url + "disclaimer.html")}/>',
           f"<id>{escape(base_url)}</id>",
           f"<updated>{stamp(updated)}</updated>"]
    for name in authors:
        out.append(f"<author><name>{escape(name)}</name></author>")
    for e in entries:
        out += ["<entry>",
                f"<title>{escape(e['title'])}</title>",
                f'<link rel="alternate" type="text/html" href={quoteattr(e["url"])}/>',
                f"<id>{escape(e['url'])}</id>",
                f"<updated>{stamp(e['date'])}</updated>",
                f"<category term={quoteattr(e['category'])} label={quoteattr(e['label'])}/>",
                f'<summary type="text">{escape(e["summary"])} {escape(disclaimer)}</summary>',
                "</entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"


def claims_json(site: dict, claims: Iterable[dict], disclaimer: dict) -> Iterator[str]:
    """claims.json, piece by piece (the claims may come one at a time, so that a large site's
    tens of megabytes are never held at once): one JSON document with one claim per line,
    easy to diff, each line encoded by the fast C encoder (``indent`` would switch json to
    its slow pure-Python one). The disclaimer (text and page) comes first, before the data."""
    head = json.dumps({"format": DATA_FORMAT, "disclaimer": disclaimer, "site": site},
                      ensure_ascii=False)[:-1]
    yield head + ', "claims": [\n'
    separator = ""
    for claim in claims:
        yield separator + json.dumps(claim, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def csv_cell(value) -> str | int | float:
    """A value as a cell of evidence.csv. Numbers stay numbers (a negative effect is data, and
    a number is never read as a formula); text that a spreadsheet would read as a formula gets
    a leading apostrophe, which spreadsheets take as "this is text" (OWASP, "CSV Injection").
    Text starting with an apostrophe gets one too, so that removing exactly one leading
    apostrophe from a cell that has one always gives back the original text."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def evidence_csv(rows: Iterable[dict], disclaimer: str) -> Iterator[str]:
    """evidence.csv, piece by piece: one row per piece of evidence of each claim (RFC 4180:
    CRLF line ends, quoted as needed). The disclaimer is the last column of every row: a
    comment line would break the header row that csv.DictReader and spreadsheets expect, and
    a row of its own would be read as data; a column stays with any row that is copied out."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EVIDENCE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        row = dict(row, disclaimer=disclaimer)
        writer.writerow({k: csv_cell(row.get(k)) for k in EVIDENCE_COLUMNS})
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
