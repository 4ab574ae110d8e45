"""Templates arrive by pull request, so they are rendered in Jinja's immutable sandbox: a
template can neither run code nor read files nor reach Python's internals, and whatever it
tries, or whatever fails in it, is a located diagnostic, never a traceback, and the published
site stays as it was."""

from __future__ import annotations

import pytest

from conftest import read_tree, run_cli

ATTACKS = {
    "shell": "{{ cycler.__init__.__globals__.os.popen('touch {canary}').read() }}",
    "read-file": "{{ lipsum.__globals__['__builtins__']['open']('/etc/passwd').read() }}",
    "internals": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "mutation": "{{ [].pop() }}",
    "huge-text": "{{ 'x' * 10**10 }}",
    "huge-power": "{{ 10**100000000 }}",
    "huge-range": "{% for i in range(10**9) %}{% endfor %}",
}


def with_template_line(site, line: str) -> int:
    """Put ``line`` at the top of 404.html's content block; returns its line number."""
    template = site / "templates" / "404.html"
    lines = template.read_text("utf-8").split("\n")
    at = lines.index("{% block content %}") + 1
    lines.insert(at, line)
    template.write_text("\n".join(lines), "utf-8")
    return at + 1


@pytest.fixture
def published(make_site, tmp_path):
    site = make_site("minimal")
    out = tmp_path / "out"
    assert run_cli("build", "--root", site, "--no-search", "-o", out).exit_code == 0
    return site, out, read_tree(out)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_template_cannot_run_code_or_escape_the_sandbox(published, tmp_path, name):
    site, out, before = published
    canary = tmp_path / "pwned"
    line = with_template_line(site, ATTACKS[name].replace("{canary}", str(canary)))
    result = run_cli("build", "--root", site, "--no-search", "-o", out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stdout.splitlines() if ": error: " in ln]
    assert errors and all(e.startswith(f"templates/404.html:{line}: error: the page 404.html "
                                       "could not be rendered: ") for e in errors), errors
    assert errors[0].endswith(("[template-unsafe]", "[template-error]"))
    assert not canary.exists(), "the shell command ran"
    assert read_tree(out) == before
    assert "root:" not in "".join(p.decode("utf-8", "replace") for p in read_tree(out).values())


@pytest.mark.parametrize("snippet, expected", [
    ("{{ 1/0 }}", "ZeroDivisionError: division by zero [template-error]"),
    ("{% macro loop() %}{{ loop() }}{% endmacro %}{{ loop() }}",
     "the template calls itself without end (a recursive macro, or a template that extends or "
     "includes itself) [template-error]"),
])
def test_a_failing_template_expression_is_a_located_error(published, snippet, expected):
    site, out, before = published
    line = with_template_line(site, snippet)
    result = run_cli("build", "--root", site, "--no-search", "-o", out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout.splitlines()[0] == (
        f"templates/404.html:{line}: error: the page 404.html could not be rendered: {expected}")
    assert read_tree(out) == before


def test_a_base_template_that_extends_itself_is_a_located_error(published):
    site, out, before = published
    base = site / "templates" / "base.html"
    base.write_text('{% extends "base.html" %}\n' + base.read_text("utf-8"), "utf-8")
    result = run_cli("build", "--root", site, "--no-search", "-o", out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("templates/base.html:") and "calls itself without end" in first
    assert read_tree(out) == before


def test_check_finds_a_template_error_on_any_page_not_only_the_first_of_its_kind(make_site):
    """A branch taken only by some claims (here: a factual claim's) fails in check too."""
    site = make_site("claim-framing")
    claim = site / "templates" / "claim.html"
    text = claim.read_text("utf-8")
    marker = "{% block content %}"
    claim.write_text(text.replace(marker, marker + "{% if claim.id == 'drug-avoid-alcohol' %}"
                                  "{{ claim.nosuchfield }}{% endif %}", 1), "utf-8")
    result = run_cli("check", "--root", site)
    assert result.exit_code == 1, result.output
    assert "the page claims/drug-avoid-alcohol.html could not be rendered" in result.stdout
