"""Rendering: view-models through Jinja templates into page text.

Owns the Jinja environment (autoescape on everywhere, StrictUndefined so a missing value is an
error rather than an empty string) and the medical-disclaimer guarantee: a page whose output
does not carry the site's disclaimer is refused. Templates arrive as a dict from ``loading``.
Pure: values in, strings out; no file I/O.
"""

from __future__ import annotations

import jinja2

DISCLAIMER_OPEN = '<aside class="disclaimer" id="disclaimer" aria-label="Medical disclaimer">'


class MissingDisclaimer(Exception):
    """Raised when a rendered page lacks the medical disclaimer block."""


def make_environment(templates: dict[str, str]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.DictLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def disclaimer_block(disclaimer_html: str) -> str:
    """The exact disclaimer markup every page must contain (see templates/base.html)."""
    return f"{DISCLAIMER_OPEN}{disclaimer_html}</aside>"


def render_page(env: jinja2.Environment, template: str, context: dict) -> str:
    html = env.get_template(template).render(context)
    if disclaimer_block(context["site"]["disclaimer_html"]) not in html:
        raise MissingDisclaimer(template)
    return html
