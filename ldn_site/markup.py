"""Markup: turns contributors' Markdown into safe HTML.

Owns the Markdown dialect and its safety. Python-Markdown passes raw HTML and ``javascript:``
links straight through, and a sanitizer alone would silently delete medical text such as
"take <dose> mg". So raw HTML is disabled in the parser and therefore shown as text (escaped,
never executed, never dropped); nh3 then runs as a second line of defence with a small allow
list and only safe URL schemes; ``find_unsafe_links`` lets ``check`` refuse every other scheme
outright. ``is_web_url`` is the one test of an address given outside Markdown (a BibTeX url).
Pure: text in, text out, with a memo so unchanged Markdown is rendered once.
"""

from __future__ import annotations

import functools
import hashlib
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


class MarkdownRenderer:
    """Renders Markdown to sanitized HTML, remembering every result by its source text."""

    def __init__(self, cache: dict[str, str] | None = None, store=None):
        self.cache: dict[str, str] = dict(cache or {})
        self.added: dict[str, str] = {}
        # store(key) -> value or None: results of earlier builds, looked up one at a time.
        self._store = store
        self._md = _new_parser()

    def _known(self, key: str):
        value = self.cache.get(key)
        if value is None and self._store is not None:
            value = self._store(key)
        return value

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        # Keyed by digest so that a cache saved between builds stays small.
        key = hashlib.sha256(str(text).encode("utf-8")).hexdigest()
        html = self._known(key)
        if html is None:
            html = render_markdown(str(text), self._md)
            self.cache[key] = html
            self.added[key] = html
        return html

    def memo(self, key: str, compute):
        """A value derived from rendered Markdown (glossary-linked HTML, say), kept and saved
        with the rendered Markdown so that later builds need not work it out again. ``key``
        must say everything the value depends on; the value must be JSON data."""
        value = self._known(key)
        if value is None:
            value = self.cache[key] = self.added[key] = compute()
        return value

    def take_added(self) -> dict[str, str]:
        """What was rendered anew since the last call (to be saved for later builds)."""
        added, self.added = self.added, {}
        return added

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
