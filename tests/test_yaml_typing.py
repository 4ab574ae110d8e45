"""YAML 1.1 traps: values are typed by the schema, never by YAML's guessing.

PyYAML's default loaders read ``no`` and ``off`` as False, ``on`` as True, ``1.10`` as the float
1.1, ``012`` as the octal 10, ``12:30`` as the sexagesimal 750 and ``~`` as None. The sample site
tests/sites/yaml11-literals/ writes all of these into text fields; they must arrive as the very
text that was written, and be shown as such on the built pages.
"""

from __future__ import annotations

import pytest

from conftest import run_cli
from html_dom import parse_html
from ldn_site import pipeline
from ldn_site.model import Source
from ldn_site.schema import convert
from ldn_site.yamlnodes import parse_yaml


def test_yaml11_literals_site_is_valid(make_site):
    result = run_cli("check", "--root", make_site("yaml11-literals"))
    assert result.stdout.splitlines() == ["0 errors, 0 warnings"]
    assert result.exit_code == 0


def test_text_fields_keep_the_literal_text(make_site):
    checked = pipeline.check_site(str(make_site("yaml11-literals")))
    claim = checked.content.claims[0]
    trial = checked.content.sources["trial2020"]
    values = {
        "title": claim.title, "reviewer": claim.reviewed.reviewer,
        "population": trial.population, "dose": trial.dose, "duration": trial.duration,
        "comparator": trial.comparator, "registration": trial.registration,
    }
    assert values == {"title": "no", "reviewer": "off", "population": "on", "dose": "1.10",
                      "duration": "12:30", "comparator": "null", "registration": "0x1F"}
    assert all(type(v) is not bool for v in values.values())
    # An integer field reads the digits as written (decimal), not YAML 1.1's octal 10.
    assert trial.n == 12
    # A plain ~ is YAML's null: the optional field is absent, not the text "~".
    assert trial.setting is None


def test_literal_values_are_shown_as_written(make_site, tmp_path):
    site = make_site("yaml11-literals")
    result = pipeline.build_site(str(site), output=str(tmp_path / "out"), search=False)
    assert result.written, result.diagnostics
    claim_page = parse_html((tmp_path / "out/claims/drug-reduces-pain.html").read_text("utf-8"))
    assert claim_page.find("h1").normalized_text() == "Claim: no"
    source_page = parse_html((tmp_path / "out/sources/trial2020.html").read_text("utf-8"))
    shown = {el.normalized_text() for el in source_page.find_all("dd")}
    assert {"1.10", "12:30", "on", "null", "0x1F"} <= shown


@pytest.mark.parametrize("yaml_text, field, expected", [
    ("true", "dose", "true"),
    ("Yes", "dose", "Yes"),
    ("1e3", "dose", "1e3"),
    ("0o17", "dose", "0o17"),
    (".inf", "dose", ".inf"),
    ("2026-01-15", "dose", "2026-01-15"),
    ("'007'", "registration", "007"),
    ("\"1.10\"", "registration", "1.10"),
    ("+12", "n", 12),
    ("0", "n", 0),
])
def test_scalar_typing_follows_the_schema(yaml_text, field, expected):
    text = ("kind: randomized-trial\n"
            f"{field}: {yaml_text}\n"
            "excerpts:\n  - {id: a, text: t, locator: l}\n")
    node, diags = parse_yaml(text, "s.yaml")
    assert diags == []
    source, diags = convert(node, Source, "s.yaml")
    assert diags == []
    value = getattr(source, field)
    assert value == expected
    assert isinstance(value, type(expected)) and not isinstance(value, bool)


@pytest.mark.parametrize("yaml_text, message", [
    ("1_000", "'n' must be a whole number, not '1_000'"),
    ("0x1F", "'n' must be a whole number, not '0x1F'"),
    ("12:30", "'n' must be a whole number, not '12:30'"),
    ("\"40\"", "'n' must be a whole number, not '40'"),
    ("-1", "'n' must be at least 0; got -1"),
])
def test_integer_fields_refuse_yaml11_number_forms(yaml_text, message):
    text = ("kind: randomized-trial\n"
            f"n: {yaml_text}\n"
            "excerpts:\n  - {id: a, text: t, locator: l}\n")
    node, _ = parse_yaml(text, "s.yaml")
    _, diags = convert(node, Source, "s.yaml")
    assert [(d.line, d.message) for d in diags] == [(2, message)]


@pytest.mark.parametrize("field, yaml_text, message", [
    # Python refuses int() on more than 4300 digits; this used to be a traceback.
    ("n", "9" * 5000, "'n' must be a whole number, not '" + "9" * 5000 + "'"),
    # float() silently turns these into infinity.
    ("value", "1e999", "'value' must be a number, not '1e999'"),
    ("ci_low", "-" + "9" * 400, "'ci_low' must be a number, not '-" + "9" * 400 + "'"),
    ("value", ".nan", "'value' must be a number, not '.nan'"),
    ("value", "-.inf", "'value' must be a number, not '-.inf'"),
])
def test_numbers_that_python_cannot_hold_are_errors_not_crashes(field, yaml_text, message):
    from ldn_site.model import Effect
    fields = {"outcome": "Pain", "measure": "SMD", "value": "-0.5", "ci_low": "-0.9",
              "ci_high": "-0.1", "n": "40"}
    fields[field] = yaml_text
    text = "".join(f"{k}: {v}\n" for k, v in fields.items())
    node, _ = parse_yaml(text, "e.yaml")
    _, diags = convert(node, Effect, "e.yaml")
    assert [(d.code, d.message) for d in diags] == [("wrong-type", message)]
