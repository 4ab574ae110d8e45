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

from ldn_site.diagnostics import Diagnostic, error

TEMPLATES_DIR = "templates"
DISCLAIMER_OPEN = '<aside class="disclaimer" id="disclaimer" aria-label="Medical disclaimer">'


class MissingDisclaimer(Exception):
    """Raised when a rendered page lacks the medical disclaimer block."""


class ViewEnvironment(jinja2.Environment):
    """A Jinja environment tuned for dict view-models.

    Jinja resolves ``a.b`` by trying ``getattr(a, "b")`` first and the item only after an
    AttributeError. Every view-model here is a dict, so each lookup paid for a raised and
    caught exception; looking the key up first gives the same result several times faster
    (no template uses a dict method such as ``items`` as an attribute)."""

    def getattr(self, obj, attribute):
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


def template_error(exc: jinja2.TemplateError, template: str, page: str) -> Diagnostic:
    """A template that failed while rendering ``page`` (an undefined value, say), located at
    the template line Jinja was running."""
    where, line = f"{TEMPLATES_DIR}/{template}", 0
    tb = exc.__traceback__
    while tb is not None:  # the innermost frame that belongs to a template
        name = tb.tb_frame.f_code.co_filename
        if name.startswith(f"{TEMPLATES_DIR}/"):
            where, line = name, tb.tb_lineno
        tb = tb.tb_next
    return error(where, line, "template-error",
                 f"the page {page} could not be rendered: {_reason(exc)}")


def _reason(exc: jinja2.TemplateError) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):  # its message is only the name
        return f"there is no template '{exc.name}'"
    return exc.message or str(exc)


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
