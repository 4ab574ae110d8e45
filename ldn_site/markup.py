"""Markup: turns contributors' Markdown into safe HTML.

Owns the Markdown dialect and its safety. Python-Markdown passes raw HTML and ``javascript:``
links straight through, and a sanitizer alone would silently delete medical text such as
"take <dose> mg". So raw HTML is disabled in the parser and therefore shown as text (escaped,
never executed, never dropped); nh3 then runs as a second line of defence with a small allow
list and only safe URL schemes; ``find_unsafe_links`` lets ``check`` refuse every other scheme
outright; ``find_raw_html`` lets it warn about the HTML tags a contributor wrote, which
readers would see as text. ``is_web_url`` is the one test of an address given outside Markdown
(a BibTeX url).
Pure: text in, text out (results may be kept between builds in the store the pipeline hands
in).
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown
import nh3

WEB_SCHEMES = frozenset({"http", "https"})
SAFE_SCHEMES = WEB_SCHEMES | {"mailto"}  # in Markdown links; a relative link has no scheme
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")  # RFC 3986's scheme, on a lowercased URL
_TAGS = {"p", "em", "strong", "code", "pre", "ul", "ol", "li", "a", "blockquote", "br", "hr",
         "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub"}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def _new_parser() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
    # Raw HTML in a contribution is shown as text rather than executed or dropped.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


# Text that Markdown turns into nothing but paragraphs: letters, digits, spaces and plain
# punctuation; each line starts with a letter (never a list, heading, quote or code marker)
# and does not end with a space (a line break); paragraphs are split by blank lines. Most
# texts of a review are such sentences; for them the HTML is known without running
# Python-Markdown (half a millisecond a text). A hypothesis test checks that the two always
# agree (tests/test_markdown_fast_path.py).
_PLAIN_LINE = re.compile(r"[^\W\d_]"
                         r"[\w ,.;:'\"?!%/()=+±≥≤×°·\u2013\u2014\u2018\u2019\u201c\u201d-]*"
                         r"(?<! )")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_NOT_PLAIN = re.compile(r"[_\xa0\u2028\u2029\u0085]")


def plain_html(text: str) -> str | None:
    """The HTML of a text made only of plain paragraphs (see ``_PLAIN_LINE``), or None when
    the text may hold any Markdown and must be rendered by Python-Markdown."""
    # Blank lines at either end, and runs of them between paragraphs, make no difference.
    paragraphs = _PARAGRAPH_BREAK.split(text.strip("\n"))
    lines = [line for para in paragraphs for line in para.split("\n")]
    if not all(_PLAIN_LINE.fullmatch(line) for line in lines) or _NOT_PLAIN.search(text):
        return None
    return "\n".join(f"<p>{para}</p>" for para in paragraphs)


class MarkdownRenderer:
    """Renders Markdown to sanitized HTML. Plain paragraphs take the fast path
    (``plain_html``); everything else is rendered by Python-Markdown, or found in ``store``
    (a ``caching.Store``) when an earlier build rendered the same text with the same code."""

    def __init__(self, store=None):
        self._store = store
        self._md = _new_parser()

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        text = str(text)
        html = plain_html(text)
        if html is None:
            html = self._store.get("markdown", text) if self._store is not None else None
            if html is None:
                html = render_markdown(text, self._md)
                if self._store is not None:
                    self._store.put("markdown", text, html)
        return html

    def inline(self, text: str | None) -> str:
        """Render a one-paragraph text without its surrounding <p>."""
        html = self(text)
        if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
            return html[3:-4]
        return html


def render_markdown(text: str, md: markdown.Markdown | None = None) -> str:
    md = md or _new_parser()
    md.reset()
    html = md.convert(text)
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=set(SAFE_SCHEMES),
                     link_rel="noopener noreferrer")


class _LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append(value)


def find_unsafe_links(text: str) -> list[str]:
    """Link targets in the Markdown with a scheme other than http:, https: or mailto:
    (javascript:, data:, vbscript:, file: ...), found by rendering without sanitizing, so that
    entity tricks are decoded as a browser would. nh3 would drop such a link silently."""
    return list(_unsafe_links(str(text)))


@functools.lru_cache(maxsize=1)
def _link_parser() -> markdown.Markdown:
    return _new_parser()


@functools.lru_cache(maxsize=8192)
def _unsafe_links(text: str) -> tuple[str, ...]:
    # Memoized: a long-running ``ldn-site serve`` re-validates the same texts on every rebuild.
    # One parser serves every call (building one costs more than converting a short text).
    md = _link_parser()
    md.reset()
    collector = _LinkCollector()
    collector.feed(md.convert(text))
    unsafe = []
    for url in collector.urls:
        # A browser ignores whitespace and control characters in a scheme ("java\tscript:").
        cleaned = "".join(ch for ch in url if not ch.isspace() and ord(ch) > 31).lower()
        scheme = _SCHEME.match(cleaned)
        if scheme and scheme.group(1) not in SAFE_SCHEMES:
            unsafe.append(url)
    return tuple(unsafe)


# The elements of HTML (and a few old ones people still type): a "<" followed by one of these
# is an HTML tag, while "a < b", "p<0.05" or "take <dose> mg" are text.
_HTML_ELEMENTS = (
    "a abbr address area article aside audio b bdi bdo big blockquote body br button canvas "
    "caption center cite code col colgroup data datalist dd del details dfn dialog div dl dt em "
    "embed fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hr html i "
    "iframe img input ins kbd label legend li link main map mark meta meter nav noscript object "
    "ol optgroup option output p param picture pre progress q rp rt ruby s samp script section "
    "select small source span strike strong style sub summary sup svg table tbody td template "
    "textarea tfoot th thead time title tr track tt u ul var video wbr").split()
_HTML_TAG = re.compile(r"<!--|</?(?:" + "|".join(_HTML_ELEMENTS) + r")(?:\s[^<>]*)?/?>",
                       re.IGNORECASE)


class _ShownText(HTMLParser):
    """The text of rendered Markdown outside code, where a reader sees it as prose."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._code = 0

    def handle_starttag(self, tag, attrs):
        self._code += tag == "code"

    def handle_endtag(self, tag):
        self._code -= tag == "code" and self._code > 0

    def handle_data(self, data):
        if not self._code:
            self.parts.append(data)


def find_raw_html(text: str) -> list[str]:
    """The HTML tags written in a Markdown text outside code spans and blocks. Raw HTML is
    disabled, so each is shown to readers as the tag itself, not as what it was meant to do."""
    text = str(text)
    if not _HTML_TAG.search(text):  # most texts: no tag at all, no rendering
        return []
    md = _link_parser()
    md.reset()
    shown = _ShownText()
    shown.feed(md.convert(text))
    shown.close()
    return _HTML_TAG.findall("".join(shown.parts))


def is_web_url(url: str) -> bool:
    """An absolute http: or https: address with a host, holding no whitespace or control
    character (a browser would strip or skip them, so they could hide a scheme)."""
    text = str(url)
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in WEB_SCHEMES and bool(parts.netloc)
