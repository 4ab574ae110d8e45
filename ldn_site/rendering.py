"""Rendering: view-models through Jinja templates into page text.

Owns the Jinja environment (autoescape on everywhere, StrictUndefined so a missing value is an
error rather than an empty string), the medical-disclaimer guarantee (a page whose output does
not show the site's disclaimer as an element, outside comments, attributes and scripts and
inside nothing that hides it, is refused, at the template line that writes it) and the minified form
of the stylesheet. Templates arrive as a dict from ``loading``.
Pure: values in, strings out; no file I/O.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ldn_site.diagnostics import Diagnostic, error
from ldn_site.model import LANGUAGE_TAG_MAX, is_language_tag

TEMPLATES_DIR = "templates"
DISCLAIMER_OPEN = '<aside class="disclaimer" id="disclaimer" aria-label="Medical disclaimer">'


class PageRefused(Exception):
    """A rendered page that must not be published; ``reason`` says why."""

    code = "page-refused"

    def __init__(self, template: str, reason: str):
        super().__init__(template, reason)
        self.template = template
        self.reason = reason


class MissingDisclaimer(PageRefused):
    """The page does not show the medical disclaimer (absent, in a comment, hidden...)."""

    code = "missing-disclaimer"


class InvalidPageLanguage(PageRefused):
    """The page's <html lang> is not a BCP 47 tag (Pagefind names files after it)."""

    code = "invalid-page-language"


class ViewEnvironment(ImmutableSandboxedEnvironment):
    """A sandboxed Jinja environment tuned for dict view-models.

    Templates arrive by pull request, so they run in Jinja's immutable sandbox: no access to
    Python internals (``__class__``, ``__globals__``...), no calls of unsafe callables, no
    changes to values, and ``range()`` is bounded. What a template tries that the sandbox
    refuses is a ``SecurityError``, reported as a located diagnostic.

    Jinja resolves ``a.b`` by trying ``getattr(a, "b")`` first and the item only after an
    AttributeError. Every view-model here is a dict, so each lookup paid for a raised and
    caught exception; looking the key up first gives the same result several times faster
    (no template uses a dict method such as ``items`` as an attribute)."""

    # Arithmetic that could exhaust memory or time: ``'x' * 10**10``, ``9**9**9``.
    intercepted_binops = frozenset({"*", "**"})
    MAX_SIZE = 1_000_000

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError(f"an exponent of {right} is too large for a template")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and \
                        len(seq) * times > self.MAX_SIZE:
                    raise SecurityError("a repeated text or list that long is not allowed "
                                        "in a template")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj, attribute):
        # A dict's items are plain data, safe to hand out; everything else goes through the
        # sandbox's checks.
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def make_environment(templates: dict[str, str]) -> jinja2.Environment:
    """The sandboxed environment for ``templates`` (name -> source)."""
    def load(name: str):
        if name not in templates:
            return None
        # The file name makes Jinja's errors point at templates/<name> and its line.
        return templates[name], f"{TEMPLATES_DIR}/{name}", lambda: True

    return ViewEnvironment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def compile_templates(env: jinja2.Environment, names) -> list[Diagnostic]:
    """Compile every template before any page is rendered: a syntax error becomes a located
    diagnostic rather than a traceback halfway through a build, and worker processes forked
    afterwards share the compiled code instead of each compiling it again."""
    diags = []
    for name in sorted(names):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            diags.append(error(exc.filename or f"{TEMPLATES_DIR}/{name}", exc.lineno or 0,
                               "template-syntax", f"template syntax error: {exc.message}"))
    return diags


def template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The template file and line of the innermost template frame in ``exc``'s traceback, or
    None if no template code was running (then the failure is a bug of ldn-site's own)."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith(f"{TEMPLATES_DIR}/"):
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    return found


def is_template_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the templates' fault (so a diagnostic) rather than a bug of
    ldn-site's own (so a traceback): a refused page, raised by Jinja, or by template code."""
    return isinstance(exc, (PageRefused, jinja2.TemplateError)) or \
        template_frame(exc) is not None


def collate_failures(env: jinja2.Environment,
                     failures: list[tuple[str, str, Exception]]) -> list[Diagnostic]:
    """One located diagnostic per template line and reason for the pages that failed to
    render, given as (page, template, exception): an undefined value in a shared template
    fails on every page, and a hundred identical errors hide the one fix. The message counts
    the pages and names the first."""
    groups: dict[tuple, list[str]] = {}
    for page, template, exc in failures:
        if isinstance(exc, PageRefused):
            key = _refusal(env, exc)
        else:
            where, line = template_frame(exc) or (f"{TEMPLATES_DIR}/{template}", 0)
            code = "template-unsafe" if isinstance(exc, SecurityError) else "template-error"
            key = (where, line, code, f"could not be rendered: {_reason(exc)}")
        groups.setdefault(key, []).append(page)
    diags = []
    for (where, line, code, what), pages in sorted(groups.items()):
        pages.sort()
        subject = f"the page {pages[0]}" if len(pages) == 1 else \
            f"{len(pages)} pages (for example {pages[0]})"
        diags.append(error(where, line, code, f"{subject} {what}"))
    return diags


def _reason(exc: Exception) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):  # its message is only the name
        return f"there is no template '{exc.name}'"
    if isinstance(exc, RecursionError):
        return "the template calls itself without end (a recursive macro, or a template " \
               "that extends or includes itself)"
    if isinstance(exc, jinja2.TemplateError):
        return exc.message or str(exc)
    return f"{type(exc).__name__}: {exc}"


def disclaimer_block(disclaimer_html: str) -> str:
    """The exact disclaimer markup every page must contain (see templates/base.html)."""
    return f"{DISCLAIMER_OPEN}{disclaimer_html}</aside>"


# Elements whose content is in the file but never shown as part of the page (or not as
# text: an SVG's <desc> is read out only by screen readers, a <select> shows its options).
_UNSHOWN_TAGS = frozenset({"head", "title", "script", "style", "template", "noscript",
                           "textarea", "select", "option", "datalist", "iframe", "object",
                           "embed", "canvas", "audio", "video", "svg", "math"})
# Elements shown only when opened.
_CLOSED_TAGS = frozenset({"details", "dialog"})
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                        "meta", "source", "track", "wbr"})


class _DisclaimerFinder(HTMLParser):
    """Follows the open elements of a page, fed a piece at a time, and records each
    disclaimer start tag it meets with the elements around it. Markup that only looks like
    the disclaimer (in a comment, an attribute value or a script) is never a start tag."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.open: list[tuple[str, list]] = []
        self.found: list[tuple[tuple[int, int], list[tuple[str, list]]]] = []

    def handle_starttag(self, tag, attrs):
        element = (tag, attrs)
        if tag == "aside" and self.get_starttag_text() == DISCLAIMER_OPEN:
            self.found.append((self.getpos(), self.open + [element]))
        if tag not in _VOID_TAGS:
            self.open.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                return
            if self.open[i][0] in _UNSHOWN_TAGS:
                return  # a stray end tag does not lead out of a <template> or an <svg>


def _hidden_by(elements: list[tuple[str, list]]) -> str | None:
    """How the innermost of ``elements`` (with its ancestors before it) is kept from view,
    judging by the markup alone; None when nothing in it hides the element."""
    for tag, attr_list in elements:
        attrs = {name: value or "" for name, value in attr_list}
        if tag in _UNSHOWN_TAGS:
            return f"it is inside <{tag}>, whose content is not shown as text"
        if tag in _CLOSED_TAGS and "open" not in attrs:
            return f"it is inside a closed <{tag}>"
        if "hidden" in attrs:
            return f"<{tag}> around it has the hidden attribute"
        if attrs.get("aria-hidden", "").strip().lower() == "true":
            return f"<{tag}> around it is aria-hidden"
        style = _hiding_style(attrs.get("style", ""))
        if style:
            return f"<{tag}> around it has the style {style}"
    return None


def _hiding_style(style: str) -> str | None:
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        name = name.strip().lower()
        value = value.lower().replace("!important", "").strip()
        if (name, value) in _HIDING_STYLES or \
                (name in ("opacity", "font-size") and _is_zero(value)):
            return f"{name}: {value}"
    return None


_HIDING_STYLES = frozenset({("display", "none"), ("visibility", "hidden"),
                            ("visibility", "collapse"), ("content-visibility", "hidden")})


def _is_zero(value: str) -> bool:
    number = value.rstrip("%").removesuffix("px").removesuffix("em").removesuffix("rem")
    try:
        return float(number) <= 0
    except ValueError:
        return False


def shown_disclaimer(html: str, block: str) -> tuple[list[tuple[str, list]] | None, str]:
    """The elements from the root down to the disclaimer ``block`` in the page ``html``, as
    (tag, attributes), and ""; or None and why the page does not show it.

    The exact block is found by string search, and the page is parsed (with the standard
    library's HTML parser, and only up to the block) to tell a real element from text in a
    comment, an attribute or a script, and to see whether any element around it hides it.
    It runs for every page of every build, so it parses no further than it needs to."""
    finder = _DisclaimerFinder()
    # The opening tag is matched word for word (that is what makes the check cheap and exact),
    # so a template that restyles the <aside> must be told the form it has to keep.
    reason = ("the page does not contain it, written exactly as "
              f"{DISCLAIMER_OPEN}{{{{ site.disclaimer_html }}}}</aside>")
    fed = 0
    position = html.find(block)
    while position >= 0:
        end = position + len(DISCLAIMER_OPEN)
        finder.feed(html[fed:end])
        fed = end
        line = html.count("\n", 0, position) + 1
        column = position - (html.rfind("\n", 0, position) + 1)
        if finder.found and finder.found[-1][0] == (line, column):
            elements = finder.found[-1][1]
            reason = _hidden_by(elements)
            if reason is None:
                return elements, ""
        else:
            reason = "it is in a comment, an attribute value or a script, not an element"
        position = html.find(block, position + 1)
    return None, reason


def render_page(env: jinja2.Environment, template: str, context: dict) -> str:
    """The page, or PageRefused when it does not show the disclaimer or declares a language
    that is not a BCP 47 tag (site.yaml's is checked; a template may write its own)."""
    html = env.get_template(template).render(context)
    elements, reason = shown_disclaimer(html, disclaimer_block(context["site"]["disclaimer_html"]))
    if elements is None:
        raise MissingDisclaimer(template, reason)
    lang = next((value for tag, attrs in elements if tag == "html"
                 for name, value in attrs if name == "lang"), None)
    if lang is not None and not is_language_tag(lang):
        raise InvalidPageLanguage(template, f"its language '{lang}' (<html lang>) is not a "
                                  f"BCP 47 tag of at most {LANGUAGE_TAG_MAX} characters, such "
                                  "as en or en-GB")
    return html


def _refusal(env: jinja2.Environment, exc: PageRefused) -> tuple[str, int, str, str]:
    """Where and why a page was refused: a missing disclaimer at the template line that
    writes ``site.disclaimer_html`` for that page (or, when none does, at the <body> of the
    layout its templates extend); a bad language at the line that writes <html lang>."""
    if isinstance(exc, MissingDisclaimer):
        where, line = _find_disclaimer_site(env, exc.template)
        what = "show the medical disclaimer"
    else:
        where, line = _find_markup_line(env, exc.template, "<html")
        what = "be indexed for search"
    return where, line, exc.code, f"would not {what}: {exc.reason}; nothing was written"


def _template_chain(env: jinja2.Environment, template: str):
    """(name, source, syntax tree) of the template and every template it extends, includes
    or imports by a constant name, nearest first, and the name of its outermost layout."""
    seen, queue, layout, chain = set(), [template], template, []
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        try:
            source = env.loader.get_source(env, name)[0]
            tree = env.parse(source, name)
        except jinja2.TemplateError:
            continue
        chain.append((name, source, tree))
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import,
                                   nodes.FromImport)):
            if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
                queue.append(node.template.value)
                if isinstance(node, nodes.Extends) and name == layout:
                    layout = node.template.value
    return chain, layout


@functools.lru_cache(maxsize=64)  # every page of a type fails alike; parse its templates once
def _find_disclaimer_site(env: jinja2.Environment, template: str) -> tuple[str, int]:
    chain, layout = _template_chain(env, template)
    for name, _, tree in chain:
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            key = node.attr if isinstance(node, nodes.Getattr) else \
                getattr(node.arg, "value", None)
            if key == "disclaimer_html":
                return f"{TEMPLATES_DIR}/{name}", node.lineno
    return _find_markup_line(env, layout, "<body")


@functools.lru_cache(maxsize=64)
def _find_markup_line(env: jinja2.Environment, template: str, markup: str) -> tuple[str, int]:
    """The first line of the template's chain that writes ``markup`` (a tag's opening), or the
    outermost layout's first line."""
    chain, layout = _template_chain(env, template)
    for name, source, _ in sorted(chain, key=lambda item: item[0] != layout):  # layout first
        for number, text in enumerate(source.splitlines(), 1):
            if markup in text.lower():
                return f"{TEMPLATES_DIR}/{name}", number
    return f"{TEMPLATES_DIR}/{layout}", 1


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_SPACE = re.compile(r"\s+")
_CSS_PUNCT = re.compile(r" ?([{};,>]) ?")


def minify_css(css: str) -> str:
    """The hand-written stylesheet without comments and layout whitespace, so that every
    page carries fewer bytes. Only whitespace next to { } ; , > and after a property's colon
    goes, which never changes meaning (the stylesheet has no such characters in strings)."""
    text = _CSS_COMMENT.sub("", css)
    text = _CSS_SPACE.sub(" ", text)
    text = _CSS_PUNCT.sub(r"\1", text)
    text = text.replace(": ", ":").replace(";}", "}")
    return text.strip() + "\n"
