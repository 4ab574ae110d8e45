"""``ldn-site new claim|source``: commented skeletons that fail ``check`` at every placeholder
until filled in, pass it once filled in, and never overwrite anything."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from helpers_contrib import CLAIM_VALUES, REPO, copy_minimal, fill_placeholders, ldn_site
from ldn_site import scaffolding
from ldn_site.model import Claim, Source

REVIEW_DATE = "2026-01-20"  # before the fixed build date, so never "in the future"


@pytest.fixture
def site(tmp_path):
    return copy_minimal(tmp_path / "site")


def _placeholder_lines(text: str) -> dict[int, str]:
    """Line number -> field name of every empty placeholder in a skeleton."""
    out = {}
    for n, line in enumerate(text.splitlines(), start=1):
        m = re.match(r'^\s*(?:- )?(?:([a-z_]+): )?(\[""\]|"")', line)
        if m:
            out[n] = m.group(1) or "item"
    return out


def test_new_claim_writes_a_skeleton_whose_placeholders_all_fail_check(site):
    result = ldn_site("new", "claim", "drug-helps-sleep", "--today", REVIEW_DATE, cwd=site)
    assert result.returncode == 0, result.stderr
    assert "created claims/drug-helps-sleep.yaml" in result.stdout
    path = site / "claims" / "drug-helps-sleep.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/claim.schema.json"
    assert f"date: {REVIEW_DATE}" in text

    check = ldn_site("check", cwd=site)
    assert check.returncode == 1
    reported = {}
    for line in check.stdout.splitlines():
        m = re.match(r"^claims/drug-helps-sleep\.yaml:(\d+):\d+: error: (.*) \[(\S+)\]$", line)
        if m:
            assert m.group(3) == "empty-value", line
            reported[int(m.group(1))] = m.group(2)
    # Exactly one error per placeholder, each on the placeholder's own line.
    placeholders = _placeholder_lines(text)
    assert sorted(reported) == sorted(placeholders)
    for line, name in placeholders.items():
        assert "must not be empty" in reported[line]
        if name != "item":
            assert name in reported[line]
    assert check.stdout.splitlines()[-1] == f"{len(placeholders)} errors, 0 warnings"


def test_filled_in_claim_skeleton_passes_check(site):
    assert ldn_site("new", "claim", "drug-helps-sleep", "--today", REVIEW_DATE,
                    cwd=site).returncode == 0
    path = site / "claims" / "drug-helps-sleep.yaml"
    path.write_text(fill_placeholders(path.read_text(encoding="utf-8"), CLAIM_VALUES),
                    encoding="utf-8")
    check = ldn_site("check", cwd=site)
    assert check.returncode == 0, check.stdout
    assert check.stdout.splitlines()[-1] == "0 errors, 0 warnings"
    # ...and it builds into a page.
    build = ldn_site("build", "-o", site / "_out", cwd=site)
    assert build.returncode == 0, build.stdout + build.stderr
    assert (site / "_out" / "claims" / "drug-helps-sleep.html").is_file()


def test_optional_blocks_of_the_claim_skeleton_work_when_uncommented(site):
    """The commented-out optional fields are real field names: uncommenting seen_in (the
    most common one) with a real excerpt keeps the claim valid."""
    text = scaffolding.claim_skeleton("drug-helps-sleep", REVIEW_DATE)
    text = fill_placeholders(text, CLAIM_VALUES)
    text = text.replace("# seen_in: [article000#excerpt-id]", "seen_in: [article-a#pain-claim]")
    (site / "claims" / "drug-helps-sleep.yaml").write_text(text, encoding="utf-8")
    check = ldn_site("check", cwd=site)
    assert check.returncode == 0, check.stdout


def test_new_refuses_to_overwrite_anything(site):
    existing = site / "claims" / "drug-reduces-pain.yaml"
    before = existing.read_bytes()
    result = ldn_site("new", "claim", "drug-reduces-pain", cwd=site)
    assert result.returncode == 1
    assert "claims/drug-reduces-pain.yaml already exists; nothing was written" in result.stderr
    assert existing.read_bytes() == before

    source = site / "sources" / "trial2020.yaml"
    before = source.read_bytes()
    result = ldn_site("new", "source", "trial2020", cwd=site)
    assert result.returncode == 1
    assert "sources/trial2020.yaml already exists" in result.stderr
    assert source.read_bytes() == before


def test_new_refuses_a_dangling_symlink_too(site):
    """Even a link pointing nowhere is 'something': creating through it would write
    elsewhere."""
    link = site / "claims" / "new-claim.yaml"
    link.symlink_to(site / "nowhere.yaml")
    result = ldn_site("new", "claim", "new-claim", cwd=site)
    assert result.returncode == 1
    assert not (site / "nowhere.yaml").exists()


@pytest.mark.parametrize("args, message", [
    (("claim", "Bad_Id"), "Invalid value for CLAIM_ID"),
    (("claim", "two--hyphens"), "Invalid value for CLAIM_ID"),
    (("source", "Has Space"), "Invalid value for BIBKEY"),
])
def test_new_rejects_invalid_ids_and_writes_nothing(site, args, message):
    before = sorted(p.name for p in (site / "claims").iterdir())
    result = ldn_site("new", *args, cwd=site)
    assert result.returncode == 2
    assert message in result.stderr
    assert sorted(p.name for p in (site / "claims").iterdir()) == before


def test_new_outside_a_repository_root_is_refused(tmp_path):
    result = ldn_site("new", "claim", "some-claim", cwd=tmp_path)
    assert result.returncode == 2
    assert "no site.yaml" in result.stderr
    assert not (tmp_path / "claims").exists()


def test_new_creates_the_claims_folder_of_a_new_repository(tmp_path):
    site = copy_minimal(tmp_path / "site")
    for p in (site / "claims").iterdir():
        p.unlink()
    (site / "claims").rmdir()
    assert ldn_site("new", "claim", "first-claim", cwd=site).returncode == 0
    assert (site / "claims" / "first-claim.yaml").is_file()


def test_new_source_skeleton_fails_until_filled_and_then_passes(site):
    result = ldn_site("new", "source", "doe2021sleep", cwd=site)
    assert result.returncode == 0, result.stderr
    # No BibTeX entry yet: the command shows an empty one to fill in (never invented values).
    assert "@article{doe2021sleep," in result.stdout
    assert "title = {}" in result.stdout
    path = site / "sources" / "doe2021sleep.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/source.schema.json"

    check = ldn_site("check", cwd=site)
    assert check.returncode == 1
    errors = [line for line in check.stdout.splitlines()
              if line.startswith("sources/doe2021sleep.yaml:")]
    assert len(errors) == len(_placeholder_lines(text))
    assert all(line.endswith("[empty-value]") for line in errors)

    filled = fill_placeholders(text, {"kind": "randomized-trial", "id": "abstract",
                                      "text": '"Sleep quality improved."',
                                      "locator": "Abstract"},
                               list_items=["https://example.org/doe2021sleep"])
    path.write_text(filled, encoding="utf-8")
    bib = site / "sources" / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8")
                   + "\n@article{doe2021sleep,\n  title = {A sleep trial},\n  year = {2021}\n}\n",
                   encoding="utf-8")
    check = ldn_site("check", cwd=site)
    assert check.returncode == 0, check.stdout
    # The only remaining remark: nothing cites the new source yet.
    assert check.stdout.splitlines() == [
        ("sources/doe2021sleep.yaml:1: warning: source 'doe2021sleep' is not cited by any "
         "claim's evidence [unused-source]"),
        "0 errors, 1 warning"]

    # With the entry present, `new source` for another key says nothing about it; for this
    # key it would refuse anyway. A second key whose entry exists is acknowledged.
    bib.write_text(bib.read_text(encoding="utf-8")
                   + "\n@article{roe2022,\n  title = {Another},\n  year = {2022}\n}\n",
                   encoding="utf-8")
    result = ldn_site("new", "source", "roe2022", cwd=site)
    assert "sources/references.bib already has the entry roe2022" in result.stdout
    assert "@article{roe2022," not in result.stdout


def _public_fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


@pytest.mark.parametrize("cls, text", [
    (Claim, scaffolding.claim_skeleton("x", REVIEW_DATE)),
    (Source, scaffolding.source_skeleton("x")),
])
def test_skeletons_mention_every_field_of_the_model(cls, text):
    """A field added to the model must show up in the skeleton (as a key or a commented
    key), so contributors learn about it."""
    keys = set(re.findall(r"^[#\s-]*([a-z_]+):", text, flags=re.MULTILINE))
    missing = _public_fields(cls) - keys
    assert not missing, f"not in the {cls.__name__} skeleton: {sorted(missing)}"


def test_filled_in_skeleton_is_valid_against_the_committed_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from helpers_contrib import load_yaml12

    schema = json.loads((REPO / "schema" / "claim.schema.json").read_text(encoding="utf-8"))
    text = fill_placeholders(scaffolding.claim_skeleton("x", REVIEW_DATE), CLAIM_VALUES)
    jsonschema.Draft202012Validator(schema).validate(load_yaml12(text))
    # ...and the unfilled one is not: editors underline the placeholders.
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(
        load_yaml12(scaffolding.claim_skeleton("x", REVIEW_DATE))))
    assert errors
