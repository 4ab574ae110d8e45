"""A small DOM built with the standard library's ``html.parser``, so tests assert on parsed
pages (elements, attributes, text) and never on regular expressions over HTML.

``parse_html`` is strict about structure: an end tag that does not close the open element is
an error, so a page whose markup is broken fails the test instead of being silently repaired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements that never have content or an end tag (HTML living standard).
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})
# Elements whose end tag HTML lets an author leave out; closed implicitly when needed.
OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot",
                          "option"})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    line: int
    children: list = field(default_factory=list)  # Element or str
    parent: "Element | None" = None

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        """All text inside, entities decoded, as a browser's textContent."""
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def normalized_text(self) -> str:
        return " ".join(self.text().split())

    def iter(self):
        """This element and every element below it, in document order."""
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list:
        out = []
        for el in self.iter():
            if tag is not None and el.tag != tag:
                continue
            if cls is not None and cls not in el.classes:
                continue
            if any(el.attrs.get(k.rstrip("_").replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(el)
        return out

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> "Element | None":
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def ancestors(self):
        el = self.parent
        while el is not None:
            yield el
            el = el.parent


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, 0)
        self.stack = [self.root]
        self.errors: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        names = [n for n, _ in attrs]
        if len(names) != len(set(names)):
            self.errors.append(f"line {self.getpos()[0]}: <{tag}> repeats an attribute")
        el = Element(tag, dict(attrs), self.getpos()[0], parent=self.stack[-1])
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        # Close elements whose end tag may be omitted, as an HTML parser would.
        while self.stack[-1].tag != tag and self.stack[-1].tag in OPTIONAL_END:
            self.stack.pop()
        if self.stack[-1].tag != tag:
            self.errors.append(f"line {self.getpos()[0]}: </{tag}> closes "
                               f"<{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str, strict: bool = True) -> Element:
    """Parse a page; with ``strict``, broken nesting raises AssertionError."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    unclosed = [el.tag for el in builder.stack[1:] if el.tag not in OPTIONAL_END]
    if strict:
        assert not builder.errors, builder.errors
        assert not unclosed, f"unclosed elements at the end: {unclosed}"
    builder.root.doctype = builder.doctype
    return builder.root
