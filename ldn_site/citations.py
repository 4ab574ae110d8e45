"""Citations: formatted references in AMA style, produced by citeproc-py from the BibTeX.

Owns how BibTeX field text reaches a reader (LaTeX decoded, names split into their parts), the
conversion of parsed BibTeX entries into CSL-JSON, the CSL style the site cites in
(``styles/american-medical-association.csl``, shipped in the package, adapted from the CSL
project's AMA style; see the note at its top) and the short labels used in tables ("Younger
2013"). The BibTeX reading is bibtexparser's own middlewares: ``SeparateCoAuthors`` splits a
name list on "and" outside braces, ``SplitNameParts`` splits each name into first, von, last
and jr parts as BibTeX does, and ``LatexDecodingMiddleware`` (pylatexenc) turns LaTeX into
text. The formatting is citeproc-py's. Nothing here parses a name, LaTeX or a reference by
hand. All references are formatted in one pass when a ``Citations`` is made, so a page only
looks its reference up. Pure: BibTeX entries in, strings out; the style file is package data
read once, not content. It does not judge the entries: it says which entry types and fields
it lays out (``ENTRY_TYPES``, ``FIELDS``), and ``validation`` reports any other, what could not
be read (``entry_problems``: a name BibTeX cannot split, text too deep for the LaTeX decoder),
an unsafe URL or a malformed DOI.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from bibtexparser.library import Library
from bibtexparser.middlewares import (LatexDecodingMiddleware, NameParts, SeparateCoAuthors,
                                      SplitNameParts)
from bibtexparser.model import Entry, Field, MiddlewareErrorBlock
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter
from citeproc.source.json import CiteProcJSON
from markupsafe import Markup
from pylatexenc.latex2text import (LatexNodes2Text, MacroTextSpec, SpecialsTextSpec,
                                   get_default_latex_context_db)
from pylatexenc.latexwalker import get_default_latex_context_db as get_walker_context_db

from ldn_site.markup import is_web_url
from ldn_site.model import BibEntry

STYLE_FILE = os.path.join(os.path.dirname(__file__), "styles", "american-medical-association.csl")
STYLE_NAME = "AMA (American Medical Association, 11th edition)"
SHORT_TITLE_WORDS = 5
NAME_FIELDS = ("author", "editor")
# Identifiers and addresses are not LaTeX: a '%', '~' or '_' in a URL or DOI is part of it.
VERBATIM_FIELDS = frozenset({"doi", "url", "pmid", "pmcid", "eprint", "isbn", "issn"})

_TAGS = re.compile(r"<[^>]+>")

# BibTeX entry types and source kinds mapped to CSL item types (which decide the layout).
_CSL_TYPES = {"article": "article-journal", "book": "book", "inbook": "chapter",
              "incollection": "chapter", "inproceedings": "paper-conference",
              "conference": "paper-conference", "techreport": "report", "manual": "report",
              "phdthesis": "thesis", "mastersthesis": "thesis", "online": "webpage",
              "misc": "webpage", "unpublished": "manuscript"}
# The entry types a reference can have: those the CSL mapping above lays out.
ENTRY_TYPES = frozenset(_CSL_TYPES)
# The fields an entry may carry: those a page shows (``_csl_item``, the identifiers and links
# of a source page), plus ``note`` and ``series``, kept for the editors and the published .bib.
# Any other field would vanish from the site without a word, so validation refuses it.
FIELDS = frozenset({"author", "editor", "title", "journal", "booktitle", "series",
                    "organization", "institution", "howpublished", "publisher", "year",
                    "volume", "number", "edition", "pages", "doi", "url", "pmid", "pmcid",
                    "note"})
_KIND_TYPES = {"popular-article": "webpage", "trial-registration": "webpage",
               "news-report": "article-newspaper", "drug-label": "report",
               "regulatory-document": "report", "guideline": "report"}


class _TextDecoder(LatexNodes2Text):
    """pylatexenc's LaTeX-to-text decoder with two changes. A bare '%' is a percent sign:
    LaTeX reads it as the start of a comment, which would silently cut "30% of patients" to
    "30", and a reader must see every word the contributor wrote. And a text in which nothing
    can be LaTeX (no backslash, brace, '$', '%' or special such as '--' or '~': most titles,
    years and page numbers) is its own decoding, returned without the parse that is most of
    this module's cost; tests/test_citations.py checks both ways agree on generated texts."""

    MARKS = ("\\", "%", "{", "}", "$") + tuple(sorted(
        spec.specials_chars for spec in get_walker_context_db().iter_specials_specs()))

    def latex_to_text(self, latex: str, **parse_flags) -> str:
        if not any(mark in latex for mark in self.MARKS):
            return latex
        return super().latex_to_text(latex, **parse_flags)

    def comment_node_to_text(self, node) -> str:
        return "%" + self.latex_to_text(node.comment) + node.comment_post_space


def _latex_decoder() -> LatexNodes2Text:
    """The decoder ``LatexDecodingMiddleware`` builds by default (``\\url{}`` shown bare, math
    kept as written), but keeping every character LaTeX would swallow: a bare '%' (see
    ``_TextDecoder``) and a bare '&', which LaTeX takes for a table cell and would blank out
    of "Arthritis & Rheumatism"."""
    context = get_default_latex_context_db()
    context.add_context_category("ldn-site", prepend=True,
                                 macros=[MacroTextSpec("url", simplify_repl="%s")],
                                 specials=[SpecialsTextSpec("&", "&")])
    return _TextDecoder(latex_context=context, math_mode="verbatim")


class _LatexDecoding(LatexDecodingMiddleware):
    """bibtexparser's LaTeX decoding, also of the names that ``SplitNameParts`` leaves: the
    middleware decodes a field holding text or one ``NameParts``, not a list of them."""

    def transform_entry(self, entry: Entry, library: Library):
        for field in entry.fields:
            if isinstance(field.value, list):
                field.value = [_map_words(parts, self._decode_word) for parts in field.value]
        return super().transform_entry(entry, library)

    def _decode_word(self, word: str) -> str:
        return self._transform_python_value_string(word)[0]


def _map_words(parts: NameParts, change) -> NameParts:
    return NameParts(*([change(word) for word in words]
                       for words in (parts.first, parts.von, parts.last, parts.jr)))


_NO_LIBRARY = Library()  # the middlewares are handed one entry at a time; none reads this
_SEPARATE = SeparateCoAuthors(name_fields=NAME_FIELDS)
_SPLIT = SplitNameParts(name_fields=NAME_FIELDS)
_DECODE = _LatexDecoding(decoder=_latex_decoder())


@dataclass(frozen=True)
class DecodedEntry:
    """A BibTeX entry as a reader should see it: text fields LaTeX-decoded on one line,
    verbatim fields (``VERBATIM_FIELDS``) as written, and in ``names`` each name field split
    into its people, each person into decoded parts. ``problems`` lists (code, message) for
    what could not be read; such a name is kept whole and such a text undecoded, so that
    nothing is lost."""

    fields: dict[str, str]
    names: dict[str, list[NameParts]]
    problems: tuple[tuple[str, str], ...] = ()
    # The name fields whose list ends in BibTeX's "and others": more people than are named.
    # "others" is BibTeX's mark for that, not a person, so it is not among ``names``.
    truncated: frozenset = frozenset()


def decode_entry(entry: BibEntry) -> DecodedEntry:
    """The entry through bibtexparser's middlewares (remembered: many pages cite a source)."""
    return _decode(entry.entry_type, entry.key, tuple(sorted(entry.fields.items())))


@lru_cache(maxsize=4096)
def _decode(entry_type: str, key: str, items: tuple[tuple[str, str], ...]) -> DecodedEntry:
    def separated() -> Entry:
        entry = Entry(entry_type, key,
                      [Field(k, str(v)) for k, v in items if k not in VERBATIM_FIELDS])
        return _SEPARATE.transform_block(entry, _NO_LIBRARY)

    split = _SPLIT.transform_block(separated(), _NO_LIBRARY)
    problems = []
    if isinstance(split, MiddlewareErrorBlock):
        problems.append(("invalid-name", f"the name '{split.error.name}' cannot be split into "
                         f"its parts ({split.error.reason.lower()}); BibTeX reads 'First von "
                         "Last', 'von Last, First' or 'von Last, Jr, First'"))
        split = separated()  # afresh: the failed split has changed some fields in place
        for field in split.fields:
            if field.key in NAME_FIELDS:
                field.value = [NameParts(last=[name]) for name in field.value]
    decoded = _DECODE.transform_block(split, _NO_LIBRARY)
    if isinstance(decoded, MiddlewareErrorBlock):  # e.g. thousands of nested braces
        # Its reason is Python's (a RecursionError's wording varies), so it is not repeated.
        problems.append(("invalid-latex", "a field cannot be decoded as LaTeX; look for braces "
                         "nested too deeply"))
        decoded = decoded.ignore_error_block
    fields = {k: str(v).strip() for k, v in items if k in VERBATIM_FIELDS}
    names, truncated = {}, set()
    for field in decoded.fields:
        if field.key in NAME_FIELDS:
            people = [_map_words(parts, _one_line) for parts in field.value]
            if len(people) > 1 and _is_others(people[-1]):
                people.pop()
                truncated.add(field.key)
            names[field.key] = people
        else:
            fields[field.key] = _one_line(field.value)
    return DecodedEntry(fields, names, tuple(problems), frozenset(truncated))


def _is_others(parts: NameParts) -> bool:
    return not (parts.first or parts.von or parts.jr) and parts.last == ["others"]


def _one_line(text) -> str:
    return " ".join(str(text).split())


@lru_cache(maxsize=8192)
def clean_bib(value: str | None) -> str:
    """BibTeX field text as a reader should see it: LaTeX decoded, braces gone, one line."""
    if not value:
        return ""
    return _decode("misc", "", (("title", str(value)),)).fields["title"]


def split_names(bib_author: str) -> list[str]:
    """The names of a BibTeX author list as written, split on 'and' outside braces (so that
    an institution written ``{Food and Drug Administration}`` stays one name)."""
    entry = _SEPARATE.transform_block(Entry("misc", "", [Field("author", str(bib_author))]),
                                      _NO_LIBRARY)
    return list(entry.fields[0].value)


def parse_names(bib_author: str) -> list[NameParts]:
    """The people of a BibTeX name list, each split into decoded first, von, last, jr parts."""
    return _decode("misc", "", (("author", str(bib_author)),)).names.get("author", [])


def entry_problems(entry: BibEntry) -> tuple[tuple[str, str], ...]:
    """(code, message) for each part of the entry that could not be read, if any."""
    return decode_entry(entry).problems


def csl_name(name: str) -> dict:
    """One BibTeX name as a CSL-JSON name."""
    parts = parse_names(name)
    return _csl_name(parts[0] if parts else NameParts())


def _csl_name(parts: NameParts) -> dict:
    if not (parts.first or parts.von or parts.jr) and len(parts.last) <= 1:
        # One word, such as "{World Health Organization}" (a braced group is one word in
        # BibTeX): an institution or a mononym, never split into initials.
        return {"literal": " ".join(parts.last)}
    name = {"family": " ".join(parts.last)}
    for key, words in (("given", parts.first), ("non-dropping-particle", parts.von),
                       ("suffix", parts.jr)):
        if words:
            name[key] = " ".join(words)
    return name


def person_names(bib_author: str) -> list[str]:
    """Each name of a BibTeX name list as written in running text ("Ludwig van Beethoven"),
    without the "others" that marks a list as incomplete."""
    return [parts.merge_first_name_first for parts in parse_names(bib_author)]


def _family(parts: NameParts) -> str:
    name = _csl_name(parts)
    return name.get("literal") or " ".join(
        n for n in (name.get("non-dropping-particle"), name["family"]) if n)


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
    decoded = decode_entry(entry)
    f = decoded.fields
    item: dict = {"id": entry.key,
                  "type": _KIND_TYPES.get(kind or "", _CSL_TYPES.get(entry.entry_type,
                                                                     "article-journal"))}
    for field in NAME_FIELDS:
        if decoded.names.get(field):
            item[field] = [_csl_name(parts) for parts in decoded.names[field]]
            if field in decoded.truncated:
                # CSL-JSON has no mark for an incomplete list; the style would print a
                # name "others", so the list ends in the words the style uses for it.
                item[field].append({"literal": "et al."})
    if f.get("title"):
        item["title"] = f["title"]
    container = (f.get("journal") or f.get("booktitle") or f.get("organization")
                 or f.get("institution") or f.get("howpublished"))
    if container:
        item["container-title"] = container
    if f.get("publisher"):
        item["publisher"] = f["publisher"]
    if f.get("year", "").isdigit():
        item["issued"] = {"date-parts": [[int(f["year"])]]}
    for bib_field, csl_field in (("volume", "volume"), ("number", "issue"), ("edition", "edition")):
        if f.get(bib_field):
            item[csl_field] = f[bib_field]
    if f.get("pages"):
        item["page"] = f["pages"].replace("–", "-")
    if f.get("doi"):
        item["DOI"] = f["doi"]
    elif is_web_url(f.get("url", "")):
        item["URL"] = f["url"]
    return item


@lru_cache(maxsize=1)
def _style() -> CitationStylesStyle:
    # Parsed once per process; validation needs the RelaxNG schema, which the style passes.
    return CitationStylesStyle(STYLE_FILE, validate=False)


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
    ``cache`` maps the digest of an item's CSL-JSON to its formatted text (the pipeline's store,
    whose code stamp covers the style, this module and the libraries), and ``added`` holds
    what this run formatted anew."""

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
            known = cache.get(digest)
            if known is not None:
                self._html[key] = self.entries[digest] = known
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
        """'Younger 2013' style label for tables and lists (see ``short_label``)."""
        entry = self.bib.get(key)
        return key if entry is None else short_label(entry)


def short_label(entry: BibEntry) -> str:
    """'Younger 2013' style label: first author's family name (with 'et al.' or the second
    name), then the year; without an author, a paper's journal or else the title's first
    words."""
    decoded = decode_entry(entry)
    families = [_family(parts) for parts in decoded.names.get("author", [])]
    first = families[0] if families else ""
    if len(families) > 2 or (families and "author" in decoded.truncated):
        first += " et al."
    elif len(families) == 2:
        first += " & " + families[1]
    if not first and entry.entry_type == "article" and decoded.fields.get("journal"):
        # A paper whose authors we could not see: its journal names it better than the first
        # words of its title, which several papers share ("Efficacy and safety of...").
        first = decoded.fields["journal"]
    if not first:
        # No author (a registry record, an unsigned page): the title's first words.
        words = decoded.fields.get("title", "").split()
        first = " ".join(words[:SHORT_TITLE_WORDS]).rstrip(",.:;") + (
            "…" if len(words) > SHORT_TITLE_WORDS else "")
    year = decoded.fields.get("year", "")
    return " ".join(p for p in (first, year) if p) or entry.key
