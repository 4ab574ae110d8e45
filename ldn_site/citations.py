"""Citations: formatted references in AMA style, produced by citeproc-py from the BibTeX.

Owns the conversion of parsed BibTeX entries into CSL-JSON, the CSL style the site cites in
(``styles/american-medical-association.csl``, shipped in the package, adapted from the CSL
project's AMA style; see the note at its top) and the short labels used in tables ("Younger
2013"). The formatting itself is citeproc-py's: nothing here assembles a reference by hand.
All references are formatted in one pass when a ``Citations`` is made, so a page only looks
its reference up. Pure: BibTeX entries in, strings out; the style file is package data read
once, not content.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from functools import lru_cache

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter
from citeproc.source.json import CiteProcJSON
from markupsafe import Markup

from ldn_site.model import BibEntry

STYLE_FILE = os.path.join(os.path.dirname(__file__), "styles", "american-medical-association.csl")
STYLE_NAME = "AMA (American Medical Association, 11th edition)"
SHORT_TITLE_WORDS = 5

_BRACES = re.compile(r"[{}]")
_LATEX = {r"\&": "&", r"\%": "%", r"\_": "_", r"\$": "$", r"\#": "#", "---": "—", "--": "–",
          "~": " "}
_TAGS = re.compile(r"<[^>]+>")

# BibTeX entry types and source kinds mapped to CSL item types (which decide the layout).
_CSL_TYPES = {"article": "article-journal", "book": "book", "inbook": "chapter",
              "incollection": "chapter", "inproceedings": "paper-conference",
              "conference": "paper-conference", "techreport": "report", "manual": "report",
              "phdthesis": "thesis", "mastersthesis": "thesis", "online": "webpage",
              "misc": "webpage", "unpublished": "manuscript"}
_KIND_TYPES = {"popular-article": "webpage", "trial-registration": "webpage",
               "news-report": "article-newspaper", "drug-label": "report",
               "regulatory-document": "report", "guideline": "report"}


def clean_bib(value: str | None) -> str:
    """BibTeX field text as a reader should see it: no protective braces or escapes."""
    if not value:
        return ""
    text = str(value)
    for latex, plain in _LATEX.items():
        text = text.replace(latex, plain)
    text = _BRACES.sub("", text)
    return " ".join(text.split())


def split_names(bib_author: str) -> list[str]:
    """The names of a BibTeX author list, split on ' and ' outside braces, so that an
    institution written ``{Food and Drug Administration}`` stays one name."""
    names, depth, start, i = [], 0, 0, 0
    text = str(bib_author)
    while i < len(text):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and text.startswith(" and ", i):
            names.append(text[start:i])
            start = i + 5
            i += 4
        i += 1
    names.append(text[start:])
    return [n.strip() for n in names if n.strip()]


def csl_name(name: str) -> dict:
    stripped = name.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        return {"literal": clean_bib(stripped)}  # an institution: never split into initials
    if "," in stripped:
        family, _, given = stripped.partition(",")
        return {"family": clean_bib(family), "given": clean_bib(given)}
    parts = clean_bib(stripped).rsplit(" ", 1)
    if len(parts) == 1:
        return {"literal": parts[0]}
    return {"family": parts[1], "given": parts[0]}


def csl_item(entry: BibEntry, kind: str | None = None) -> dict:
    """A CSL-JSON item carrying exactly the BibTeX fields that are present, with every text
    already HTML-escaped: citeproc-py's HTML formatter adds its tags but does not escape the
    values it is given, so a '&' or '<' in a title would otherwise reach the page raw."""
    return _escaped(_csl_item(entry, kind))


def _escaped(value):
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k in ("id", "type") else _escaped(v) for k, v in value.items()}
    return value


def _csl_item(entry: BibEntry, kind: str | None = None) -> dict:
    f = entry.fields
    item: dict = {"id": entry.key,
                  "type": _KIND_TYPES.get(kind or "", _CSL_TYPES.get(entry.entry_type,
                                                                     "article-journal"))}
    if f.get("author"):
        item["author"] = [csl_name(n) for n in split_names(f["author"])]
    if f.get("editor"):
        item["editor"] = [csl_name(n) for n in split_names(f["editor"])]
    if f.get("title"):
        item["title"] = clean_bib(f["title"])
    container = (f.get("journal") or f.get("booktitle") or f.get("organization")
                 or f.get("institution") or f.get("howpublished"))
    if container:
        item["container-title"] = clean_bib(container)
    if f.get("publisher"):
        item["publisher"] = clean_bib(f["publisher"])
    year = clean_bib(f.get("year"))
    if year.isdigit():
        item["issued"] = {"date-parts": [[int(year)]]}
    for bib_field, csl_field in (("volume", "volume"), ("number", "issue"), ("edition", "edition")):
        if f.get(bib_field):
            item[csl_field] = clean_bib(f[bib_field])
    if f.get("pages"):
        item["page"] = clean_bib(f["pages"]).replace("–", "-")
    if f.get("doi"):
        item["DOI"] = clean_bib(f["doi"])
    elif f.get("url"):
        item["URL"] = clean_bib(f["url"])
    return item


@lru_cache(maxsize=1)
def _style() -> CitationStylesStyle:
    # Parsed once per process; validation needs the RelaxNG schema, which the style passes.
    return CitationStylesStyle(STYLE_FILE, validate=False)


def cache_stamp() -> str:
    """Changes whenever a reference could be formatted differently."""
    import citeproc
    with open(STYLE_FILE, "rb") as f:
        style = hashlib.sha256(f.read()).hexdigest()[:16]
    with open(__file__, "rb") as f:
        code = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"{getattr(citeproc, '__version__', '')}/{style}/{code}"


_DOUBLED = re.compile(r"([?!])\.(?=\s|$|<)")


def _tidy(text: str) -> str:
    # citeproc-py adds the delimiter after a title that already ends in ? or ! ("Works?.").
    return _DOUBLED.sub(r"\1", " ".join(text.split()))


def plain_text(citation_html: str) -> str:
    """A formatted reference without its markup (for JSON-LD, feeds and meta tags)."""
    return html.unescape(_TAGS.sub("", citation_html))


class Citations:
    """Every reference of the bibliography, formatted once, looked up by BibTeX key.

    citeproc-py takes a few milliseconds per reference, so results can be kept between builds:
    ``cache`` maps the digest of an item's CSL-JSON (plus the style and library version, see
    ``cache_stamp``) to its formatted text, and ``added`` holds what this run formatted anew."""

    def __init__(self, bib: dict[str, BibEntry], kinds: dict[str, str] | None = None,
                 cache: dict[str, str] | None = None):
        kinds = kinds or {}
        cache = cache or {}
        self.bib = bib
        self.added: dict[str, str] = {}
        self.entries: dict[str, str] = {}  # digest -> text, for every reference in use
        self._html: dict[str, str] = {}
        items = {key: csl_item(bib[key], kinds.get(key)) for key in sorted(bib)}
        digests = {key: hashlib.sha256(json.dumps(item, sort_keys=True).encode("utf-8"))
                   .hexdigest() for key, item in items.items()}
        missing = []
        for key, digest in digests.items():
            if digest in cache:
                self._html[key] = self.entries[digest] = cache[digest]
            else:
                missing.append(key)
        if not missing:
            return
        source = CiteProcJSON([items[k] for k in missing])
        bibliography = CitationStylesBibliography(_style(), source, formatter.html)
        for key in missing:
            bibliography.register(Citation([CitationItem(key)]))
        for key, text in zip(bibliography.keys, bibliography.bibliography()):
            formatted = _tidy(str(text))
            self._html[key] = self.entries[digests[key]] = formatted
            self.added[digests[key]] = formatted

    def html(self, key: str) -> Markup:
        """The formatted reference as safe HTML (citeproc escapes the field text)."""
        return Markup(self._html.get(key, html.escape(key)))

    def text(self, key: str) -> str:
        return plain_text(self._html.get(key, key))

    def short(self, key: str) -> str:
        """'Younger 2013' style label for tables and lists: first author's family name (with
        'et al.' or the second name), then the year; the title when there is no author."""
        entry = self.bib.get(key)
        if entry is None:
            return key
        names = [csl_name(n) for n in split_names(entry.fields.get("author", ""))]
        families = [n.get("family") or n.get("literal", "") for n in names]
        first = families[0] if families else ""
        if len(families) > 2:
            first += " et al."
        elif len(families) == 2:
            first += " & " + families[1]
        if not first:
            # No author (a registry record, an unsigned page): the title's first words.
            words = clean_bib(entry.fields.get("title", "")).split()
            first = " ".join(words[:SHORT_TITLE_WORDS]).rstrip(",.:;") + (
                "…" if len(words) > SHORT_TITLE_WORDS else "")
        year = clean_bib(entry.fields.get("year", ""))
        return " ".join(p for p in (first, year) if p) or key
