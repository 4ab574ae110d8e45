"""The Markdown fast path: texts made only of plain paragraphs get their HTML without
Python-Markdown, and that HTML must be byte-identical to what Python-Markdown (and the
sanitizer after it) would give. Hypothesis generates texts near the edge of "plain":
sentences mixed with every character Markdown treats specially."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ldn_site.markup import MarkdownRenderer, plain_html, render_markdown

WORDS = st.sampled_from(["LDN", "pain", "fell", "4.5", "mg/day", "in", "31", "women", "(n=12)",
                         "it's", "“best”", "–", "30%", "p", "0.05", "Müller", "é", "so:",
                         "yes;", "no?", "1.", "2)", "x", "A", "ok."])
SPECIAL = st.sampled_from(list("*_`[]()<>&#!|~=+-\\\t\r \xa0\u2028:.1") +
                          ["\n", "\n\n", "\n\n\n", "  ", "    ", "- ", "1. ", "# ", "> ",
                           "http://x.org", "<b>", "&amp;", "---", "===", "**a**", "±", "≥", "×", "°",
                           "![x]", "+ ", "=", "#x", "!"])


@st.composite
def near_plain_texts(draw) -> str:
    parts = draw(st.lists(st.one_of(WORDS, SPECIAL, st.text(max_size=3)), min_size=1,
                          max_size=25))
    glue = draw(st.lists(st.sampled_from([" ", "\n", "\n\n", ""]), min_size=len(parts),
                         max_size=len(parts)))
    return "".join(p + g for p, g in zip(parts, glue))


@st.composite
def plain_texts(draw) -> str:
    """Texts the fast path should take: sentences, lines and paragraphs of plain words."""
    def line():
        first = draw(st.sampled_from(["LDN", "Pain", "Müller", "In", "É", "Women"]))
        rest = draw(st.lists(WORDS, max_size=12))
        return " ".join([first] + rest)
    paragraphs = ["\n".join(line() for _ in range(draw(st.integers(1, 3))))
                  for _ in range(draw(st.integers(1, 4)))]
    # As YAML gives them: a block scalar ends with a newline; blank lines may be doubled.
    return draw(st.sampled_from(["", "\n"])) + \
        draw(st.sampled_from(["\n\n", "\n\n\n"])).join(paragraphs) + \
        draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=3000, deadline=None)
@given(near_plain_texts())
@example("Pain fell.\n\nFatigue did not.")
@example("Text\n---")
@example("Text\n===")
@example("A line  \nbreak")
@example("A summary from a YAML block scalar.\n")
@example("\nOne.\n\n\nTwo.\n\n")
def test_the_fast_path_gives_exactly_what_markdown_gives(text):
    fast = plain_html(text)
    if fast is not None:
        assert fast == render_markdown(text), text


@settings(max_examples=1000, deadline=None)
@given(plain_texts())
def test_plain_sentences_take_the_fast_path(text):
    fast = plain_html(text)
    assert fast is not None, text
    assert fast == render_markdown(text)


@pytest.mark.parametrize("text", ["Pain *fell*.", "- a list", "1. first", "Line  \nbreak",
                                  " leading", "trailing ", "a_b", "A & B", "x\xa0y",
                                  "Heading\n---", "[link](http://x.org)"])
def test_markdown_takes_the_slow_path(text):
    assert plain_html(text) is None
    assert MarkdownRenderer()(text) == render_markdown(text)
