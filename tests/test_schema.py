"""The JSON Schemas in schema/: generated from the validator's own model, committed, current,
referenced from every content file, and in agreement with the validator."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import pytest

from helpers_contrib import MINIMAL, REPO, copy_minimal, ldn_site, load_yaml12
from ldn_site import scaffolding
from ldn_site.loading import load_content

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_DIR = REPO / "schema"
KIND_OF = {"claims": "claim", "sources": "source"}


def _schema(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))


def test_committed_schemas_are_current():
    """Fails when the model changed and `ldn-site schema` was not run (and committed)."""
    expected = scaffolding.schema_texts()
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert sorted(committed) == sorted(expected), "schema/ holds other files than expected"
    for name, text in expected.items():
        assert committed[name] == text, (f"schema/{name} is stale: run `ldn-site schema` and "
                                         "commit the result")


def test_schema_check_command_reports_staleness(tmp_path):
    site = copy_minimal(tmp_path / "site", templates=False)
    missing = ldn_site("schema", "--check", cwd=site)
    assert missing.returncode == 1
    assert "schema/claim.schema.json: missing; run `ldn-site schema`" in missing.stdout

    written = ldn_site("schema", cwd=site)
    assert written.returncode == 0
    assert sorted(written.stdout.splitlines()) == [
        "wrote schema/claim.schema.json", "wrote schema/config.schema.json",
        "wrote schema/source.schema.json"]
    for name in scaffolding.SCHEMAS:
        assert (site / "schema" / name).read_bytes() == (SCHEMA_DIR / name).read_bytes()
    assert ldn_site("schema", "--check", cwd=site).returncode == 0
    again = ldn_site("schema", cwd=site)
    assert again.stdout.strip() == "3 schemas are up to date"

    stale = site / "schema" / "source.schema.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace('"kind"', '"sort"'),
                     encoding="utf-8")
    result = ldn_site("schema", "--check", cwd=site)
    assert result.returncode == 1
    assert result.stdout.strip() == "schema/source.schema.json: stale; run `ldn-site schema`"


@pytest.mark.parametrize("name", sorted(scaffolding.SCHEMAS))
def test_schemas_are_valid_json_schema(name):
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False  # strict, like the validator


def _content_files(root: Path) -> list[tuple[Path, str, str]]:
    """(file, kind, expected schema line) of every content file of a repository."""
    files = [(root / "site.yaml", "config", scaffolding.schema_comment("config", 0))]
    for folder, kind in KIND_OF.items():
        for path in sorted((root / folder).glob("*.yaml")):
            files.append((path, kind, scaffolding.schema_comment(kind)))
    return files


def test_every_content_file_of_the_repository_points_at_its_schema():
    files = _content_files(REPO)
    assert len(files) > 1
    wrong = []
    for path, kind, line in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        if first != line:
            wrong.append(f"{path.relative_to(REPO)}: first line should be '{line}'")
        # The relative reference resolves to the committed schema.
        target = (path.parent / line.split("$schema=", 1)[1]).resolve()
        assert target == (SCHEMA_DIR / f"{kind}.schema.json").resolve()
    assert not wrong, "\n".join(wrong)


def test_minimal_sample_site_validates_against_the_schemas():
    for path, kind, _ in _content_files(MINIMAL):
        instance = load_yaml12(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(_schema(kind)).validate(instance)


def test_repository_content_that_loads_also_validates_against_the_schemas():
    """Whatever the validator accepts file by file, the editor's schema accepts too: the two
    come from the same definitions."""
    _, diags = load_content(str(REPO))
    per_file_problems = {d.path for d in diags}
    checked = 0
    for path, kind, _ in _content_files(REPO):
        rel = path.relative_to(REPO).as_posix()
        if rel in per_file_problems:
            continue  # content being written; `ldn-site check` reports it
        instance = load_yaml12(path.read_text(encoding="utf-8"))
        errors = sorted(jsonschema.Draft202012Validator(_schema(kind)).iter_errors(instance),
                        key=str)
        assert not errors, f"{rel}: {errors[0].message} at {list(errors[0].absolute_path)}"
        checked += 1
    assert checked > 0


# One defect each; both the validator and the schema must refuse it.
DEFECTS = [
    ("unknown-field", "claims/drug-reduces-pain.yaml", "verdict: supported",
     "verdict: supported\nverdcit: supported"),
    ("invalid-value", "claims/drug-reduces-pain.yaml", "verdict: supported",
     "verdict: proven"),
    ("missing-field", "claims/drug-reduces-pain.yaml", "topic: efficacy\n", ""),
    ("invalid-format", "claims/drug-reduces-pain.yaml", "seen_in: [article-a#pain-claim]",
     "seen_in: [article-a]"),
    ("wrong-type", "claims/drug-reduces-pain.yaml", "      n: 40", "      n: forty"),
    ("empty-value", "claims/drug-reduces-pain.yaml", "title: The drug reduces pain",
     'title: ""'),
    ("invalid-value", "sources/trial2020.yaml", "kind: randomized-trial", "kind: rct"),
    ("too-few-items", "sources/trial2020.yaml",
     ("excerpts:\n  - id: abstract\n    text: The drug reduced pain compared with placebo.\n"
      "    locator: Abstract"), "excerpts: []"),
    ("invalid-format", "site.yaml", "base_url: https://example.org/minimal/",
     "base_url: example.org"),
]


@pytest.mark.parametrize("code, rel, old, new", DEFECTS,
                         ids=[f"{d[0]}-{d[1].split('/')[-1]}" for d in DEFECTS])
def test_validator_and_schema_refuse_the_same_defects(tmp_path, code, rel, old, new):
    site = copy_minimal(tmp_path / "site")
    path = site / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _, diags = load_content(str(site))
    assert code in {d.code for d in diags if d.path == rel}, diags
    kind = "config" if rel == "site.yaml" else KIND_OF[rel.split("/")[0]]
    errors = list(jsonschema.Draft202012Validator(_schema(kind)).iter_errors(
        load_yaml12(path.read_text(encoding="utf-8"))))
    assert errors, f"the {kind} schema accepts what the validator refuses ({code})"


def test_every_pattern_of_the_model_is_explained_in_words():
    """A format error says what the value should look like, never the regular expression."""
    from ldn_site import model
    from ldn_site.schema import fields_of
    seen, todo = set(), [model.Claim, model.Source, model.Config]
    patterns = set()
    while todo:
        cls = todo.pop()
        if cls in seen or not dataclasses.is_dataclass(cls):
            continue
        seen.add(cls)
        for _, tp, meta, _ in fields_of(cls):
            if meta.get("pattern"):
                patterns.add(meta["pattern"])
            todo += [t for t in _types_in(tp) if dataclasses.is_dataclass(t)]
    assert len(patterns) >= 7
    assert patterns <= set(model.PATTERN_HELP), patterns - set(model.PATTERN_HELP)


def _types_in(tp):
    yield tp
    for arg in typing.get_args(tp):
        yield from _types_in(arg)
