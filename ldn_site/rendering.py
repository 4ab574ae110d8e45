"""Rendering: view-models through Jinja templates into page text.

Owns the Jinja environment (autoescape on everywhere, StrictUndefined so a missing value is an
error rather than an empty string), the medical-disclaimer guarantee (a page whose output does
not show the site's disclaimer, outside comments and scripts, is refused) and the minified form
of the stylesheet. Templates arrive as a dict from ``loading``.
Pure: values in, strings out; no file I/O.
"""

from __future__ import annotations

import re

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ldn_site.diagnostics import Diagnostic, error

TEMPLATES_DIR = "templates"
DISCLAIMER_OPEN = '<aside class="disclaimer" id="disclaimer" aria-label="Medical disclaimer">'


class MissingDisclaimer(Exception):
    """Raised when a rendered page lacks the medical disclaimer block."""


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


def make_environment(templates: dict[str, str],
                     bytecode_cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """The environment for ``templates``; ``bytecode_cache`` (made by the pipeline, which
    owns the files) keeps compiled templates between builds."""
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
        bytecode_cache=bytecode_cache,
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
    ldn-site's own (so a traceback): raised by Jinja, or by template code."""
    return isinstance(exc, (MissingDisclaimer, jinja2.TemplateError)) or \
        template_frame(exc) is not None


def collate_failures(failures: list[tuple[str, str, Exception]]) -> list[Diagnostic]:
    """One located diagnostic per template line and reason for the pages that failed to
    render, given as (page, template, exception): an undefined value in a shared template
    fails on every page, and a hundred identical errors hide the one fix. The message counts
    the pages and names the first."""
    groups: dict[tuple, list[str]] = {}
    for page, template, exc in failures:
        if isinstance(exc, MissingDisclaimer):
            key = (f"{TEMPLATES_DIR}/{template}", 0, "missing-disclaimer",
                   "would not carry the medical disclaimer, shown; nothing was written")
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


# Elements whose content is in the file but never shown as part of the page.
_UNSHOWN_TAGS = ("script", "template", "textarea", "noscript", "style", "title")


def _shown(html: str, position: int) -> bool:
    """Whether the markup at ``position`` is outside every comment and unshown element.
    Uses rfind on the text before it rather than a regex over the whole page: it runs for
    every page of every build."""
    before = html[:position]
    if before.rfind("<!--") > before.rfind("-->"):
        return False
    lowered = before.lower()
    return all(lowered.rfind(f"<{tag}") <= lowered.rfind(f"</{tag}") for tag in _UNSHOWN_TAGS)


def render_page(env: jinja2.Environment, template: str, context: dict) -> str:
    html = env.get_template(template).render(context)
    block = disclaimer_block(context["site"]["disclaimer_html"])
    # A disclaimer inside a comment (or a script, a template...) is not shown to anyone.
    position = html.find(block)
    if position < 0 or not _shown(html, position):
        raise MissingDisclaimer(template)
    return html


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
