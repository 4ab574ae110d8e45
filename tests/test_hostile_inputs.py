"""Malformed and hostile input (issue 12, item 10): over 200 cases in ten categories,
generated here from the minimal sample site.

Each case starts from a copy of a site that was built once (so there is an old site to
protect), breaks one thing as a careless or malicious contributor would, and runs the real
``ldn-site build``. Every case must exit with 1; report exactly the expected errors, each at
its real file and line with its stable code (never ``templates:0``); show no traceback; leave
the old site and every user file byte-identical (same bytes, same modification time, same
inode); and leave nothing behind. The run ends with one summary line per category.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import MINIMAL, TEMPLATES, copy_site, run_cli
from hostile import snapshot, tally, time_limit

CLAIM = "claims/drug-reduces-pain.yaml"
TRIAL = "sources/trial2020.yaml"
ARTICLE = "sources/article-a.yaml"
BIB = "sources/references.bib"
SITE = "site.yaml"
CACHE = ".ldn-site-cache"


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    mutate: Callable[[Path], None]
    errors: frozenset  # every error expected, as (path, line, code)

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"


def case(category: str, name: str, mutate, *errors: tuple[str, int, str]) -> Case:
    return Case(category, name, mutate, frozenset(errors))


# --- what a case does to the site ------------------------------------------------------------

def original(rel: str) -> str:
    """A file of the untouched sample site (templates: the repository's own)."""
    if rel.startswith("templates/"):
        return (TEMPLATES / rel[len("templates/"):]).read_text("utf-8")
    return (MINIMAL / rel).read_text("utf-8")


def line_of(rel: str, text: str) -> int:
    """The line of the untouched file where ``text`` first occurs."""
    source = original(rel)
    assert text in source, f"{text!r} is not in {rel}"
    return source[:source.index(text)].count("\n") + 1


def edit(rel: str, old: str, new: str):
    def mutate(site: Path) -> None:
        path = site / rel
        text = path.read_text("utf-8")
        assert text.count(old) == 1, f"{old!r} is not once in {rel}"
        path.write_text(text.replace(old, new), "utf-8")
    return mutate


def set_line(rel: str, number: int, new: str):
    """Replace one line (a removed line becomes a comment, so no other line moves)."""
    def mutate(site: Path) -> None:
        path = site / rel
        lines = path.read_text("utf-8").split("\n")
        lines[number - 1] = new
        path.write_text("\n".join(lines), "utf-8")
    return mutate


def put_bytes(rel: str, number: int, data: bytes):
    """Insert raw bytes at the start of the text on line ``number``, after its indentation."""
    def mutate(site: Path) -> None:
        path = site / rel
        lines = path.read_bytes().split(b"\n")
        line = lines[number - 1]
        indent = len(line) - len(line.lstrip(b" "))
        key, colon, value = line[indent:].partition(b": ")
        lines[number - 1] = line[:indent] + key + colon + data + value if colon else \
            line[:indent] + data + line[indent:]
        path.write_bytes(b"\n".join(lines))
    return mutate


def write(rel: str, text: str | bytes):
    def mutate(site: Path) -> None:
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, "utf-8")
    return mutate


def append(rel: str, text: str):
    def mutate(site: Path) -> None:
        with open(site / rel, "a", encoding="utf-8") as f:
            f.write(text)
    return mutate


def both(*mutations):
    def mutate(site: Path) -> None:
        for m in mutations:
            m(site)
    return mutate


def remove(rel: str):
    def mutate(site: Path) -> None:
        path = site / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return mutate


def symlink(rel: str, target: str):
    def mutate(site: Path) -> None:
        path = site / rel
        if path.exists() or path.is_symlink():
            remove(rel)(site)
        path.symlink_to(target)
    return mutate


def fifo(rel: str):
    def mutate(site: Path) -> None:
        if (site / rel).exists():
            remove(rel)(site)
        os.mkfifo(site / rel)
    return mutate


def unix_socket(rel: str):
    def mutate(site: Path) -> None:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(site / rel))
    return mutate


def folder(rel: str):
    def mutate(site: Path) -> None:
        (site / rel).mkdir()
        (site / rel / "inner.yaml").write_text("title: x\n", "utf-8")
    return mutate


# --- the cases, by category ----------------------------------------------------------------

def yaml_structure() -> list[Case]:
    c = "yaml-structure"
    cases = [
        # A syntax error is reported where it can be fixed: an unclosed quote where it
        # opens, an unclosed list on the line after it.
        case(c, "unclosed-quote", set_line(CLAIM, 1, 'title: "The drug reduces pain'),
             (CLAIM, 1, "yaml-syntax")),
        case(c, "unclosed-flow-list", set_line(CLAIM, 9, "    excerpts: [trial2020#abstract"),
             (CLAIM, 10, "yaml-syntax")),
        case(c, "bad-indentation", set_line(CLAIM, 8, "   direction: supports"),
             (CLAIM, 8, "yaml-syntax")),
        case(c, "tab-indentation", set_line(CLAIM, 8, "\tdirection: supports"),
             (CLAIM, 8, "yaml-syntax")),
        case(c, "value-then-mapping", set_line(CLAIM, 3, "topic: efficacy: dose"),
             (CLAIM, 3, "yaml-syntax")),
        case(c, "list-document", write(CLAIM, "- title: a\n- title: b\n"),
             (CLAIM, 1, "wrong-type")),
        case(c, "scalar-document", write(CLAIM, "just some words\n"), (CLAIM, 1, "wrong-type")),
        case(c, "empty-file", write(CLAIM, ""), (CLAIM, 1, "yaml-empty")),
        case(c, "comments-only", write(CLAIM, "# nothing here\n# at all\n"),
             (CLAIM, 1, "yaml-empty")),
        case(c, "second-document", append(CLAIM, "---\ntitle: again\n"),
             (CLAIM, 26, "yaml-multiple-documents")),
        case(c, "anchor", set_line(CLAIM, 21, "summary: &s One small trial."),
             (CLAIM, 21, "yaml-anchor")),
        case(c, "alias", set_line(CLAIM, 21, "summary: *s"), (CLAIM, 21, "yaml-alias")),
        case(c, "python-tag", set_line(CLAIM, 21,
                                       "summary: !!python/object/apply:os.system [id]"),
             (CLAIM, 21, "yaml-tag")),
        case(c, "local-tag", set_line(CLAIM, 21, "summary: !mytag text"), (CLAIM, 21, "yaml-tag")),
        case(c, "merge-key", append(CLAIM, "<<: {title: merged}\n"),
             (CLAIM, 26, "unknown-field")),
        case(c, "complex-key", append(CLAIM, "? [a, b]\n: value\n"),
             (CLAIM, 26, "yaml-complex-key")),
        case(c, "duplicate-key", set_line(CLAIM, 4, "topic: dose"), (CLAIM, 4, "duplicate-key")),
        case(c, "duplicate-nested-key", set_line(CLAIM, 16, "      value: -0.4"),
             (CLAIM, 16, "duplicate-key")),
        case(c, "too-deep", set_line(CLAIM, 22, "seen_in: " + "[" * 40 + "]" * 40),
             (CLAIM, 22, "yaml-too-deep")),
        case(c, "source-unclosed-mapping", set_line(TRIAL, 3, "n: {40"),
             (TRIAL, 4, "yaml-syntax")),
        case(c, "source-list-document", write(TRIAL, "- kind: randomized-trial\n"),
             (TRIAL, 1, "wrong-type")),
        case(c, "site-unclosed-quote", set_line(SITE, 1, "title: 'Minimal test site"),
             (SITE, 1, "yaml-syntax")),
        case(c, "site-scalar", write(SITE, "a site\n"), (SITE, 1, "wrong-type")),
        case(c, "site-empty", write(SITE, ""), (SITE, 1, "yaml-empty")),
        case(c, "site-duplicate-key", append(SITE, "title: Again\n"),
             (SITE, 7, "duplicate-key")),
    ]
    return cases


# Every character YAML forbids in a document: the C0 controls but tab, LF and CR; DEL; the C1
# controls but NEL; and the noncharacters U+FFFE and U+FFFF.
_FORBIDDEN = [chr(i) for i in range(32) if chr(i) not in "\t\n\r"] + ["\x7f"] + \
    [chr(i) for i in range(0x80, 0xA0) if i != 0x85] + ["\ufffe", "\uffff"]


def control_characters() -> list[Case]:
    c = "control-characters"
    places = [(CLAIM, 7), (TRIAL, 7), (SITE, 4), (ARTICLE, 10)]
    cases = []
    for i, char in enumerate(_FORBIDDEN):
        rel, line = places[i % len(places)]
        cases.append(case(c, f"U+{ord(char):04X}-in-{rel.split('/')[-1]}",
                          put_bytes(rel, line, char.encode("utf-8")),
                          (rel, line, "invalid-character")))
    return cases


def encoding() -> list[Case]:
    c = "encoding"
    sequences = {
        "lone-continuation": b"\x80", "invalid-byte-ff": b"\xff", "invalid-byte-fe": b"\xfe",
        "truncated-2-byte": b"\xc3(", "truncated-3-byte": b"\xe2\x82(",
        "overlong-slash": b"\xc0\xaf", "encoded-surrogate": b"\xed\xa0\x80",
        "above-u10ffff": b"\xf4\x90\x80\x80", "latin1-e-acute": b"caf\xe9",
    }
    cases = []
    for (name, data), (rel, line) in zip(sequences.items(),
                                         [(CLAIM, 2), (TRIAL, 8), (SITE, 3), (CLAIM, 20),
                                          (ARTICLE, 4), (TRIAL, 20), (CLAIM, 25), (SITE, 6),
                                          (BIB, 3)]):
        cases.append(case(c, f"{name}-in-{rel.split('/')[-1]}", put_bytes(rel, line, data),
                          (rel, line, "invalid-encoding")))
    cases.append(case(c, "utf16-file", write(CLAIM, original(CLAIM).encode("utf-16")),
                      (CLAIM, 1, "invalid-encoding")))
    cases.append(case(c, "template-latin1", put_bytes("templates/claim.html", 3, b"\xe9"),
                      ("templates/claim.html", 3, "invalid-encoding")))
    return cases


def schema() -> list[Case]:
    c = "schema"
    cases = []
    # Every required field of a claim, left out (the line becomes a comment, so none moves).
    for name, lines in [("title", [1]), ("statement", [2]), ("topic", [3]), ("verdict", [4]),
                        ("evidence", range(5, 17)), ("grading", range(17, 21)),
                        ("summary", [21]), ("reviewed", range(23, 26))]:
        # Reported where the claim's mapping begins: line 2 once line 1 is a comment. An
        # effect claim without grading is its own rule (a factual claim has none).
        cases.append(case(c, f"claim-without-{name}",
                          both(*[set_line(CLAIM, n, "#") for n in lines]),
                          (CLAIM, 2 if name == "title" else 1,
                           "missing-grading" if name == "grading" else "missing-field")))
    cases.append(case(c, "claim-without-evidence-source",
                      both(set_line(CLAIM, 6, "  - direction: supports"), set_line(CLAIM, 8, "#")),
                      (CLAIM, 6, "missing-field")))
    for name, number, at in [("evidence-finding", 7, 6),
                             ("evidence-direction", 8, 6), ("effect-outcome", 11, 12),
                             ("effect-measure", 12, 11), ("effect-value", 13, 11),
                             ("grading-rating", 19, 20), ("review-date", 24, 25),
                             ("review-reviewer", 25, 24)]:
        cases.append(case(c, f"claim-without-{name}", set_line(CLAIM, number, "#"),
                          (CLAIM, at, "missing-field")))
    for name, number, at in [("kind", 1, 2), ("excerpt-text", 19, 18),
                             ("excerpt-locator", 20, 18), ("rob-overall", 14, 9)]:
        # An excerpt that fails to load is reported once, in its source: the claim that quotes
        # it does not get a "dangling-excerpt" as well.
        cases.append(case(c, f"source-without-{name}", set_line(TRIAL, number, "#"),
                          (TRIAL, at, "missing-field")))
    return cases


def schema_values() -> list[Case]:
    c = "schema"
    cases = []
    # An unknown field at every level.
    for rel, after, indent, at in [(CLAIM, 25, "", 26), (CLAIM, 7, "    ", 8),
                                   (CLAIM, 15, "      ", 16), (CLAIM, 20, "    ", 21),
                                   (TRIAL, 20, "", 21), (TRIAL, 20, "    ", 21),
                                   (TRIAL, 14, "  ", 15), (SITE, 6, "", 7),
                                   (SITE, 6, "    ", 7)]:
        original_line = original(rel).split("\n")[after - 1]
        cases.append(case(c, f"unknown-field-{rel.split('/')[-1]}-{after}-{len(indent)}",
                          set_line(rel, after, f"{original_line}\n{indent}confidence: high"),
                          (rel, at, "unknown-field")))
    # A value outside its list of choices, in every field that has one.
    for rel, number, text in [(CLAIM, 3, "topic: cures"), (CLAIM, 4, "verdict: probably"),
                              (CLAIM, 8, "    direction: upwards"),
                              (CLAIM, 12, "      measure: percent"),
                              (CLAIM, 19, "    rating: dreadful"),
                              (TRIAL, 1, "kind: blog"), (TRIAL, 9, "  randomization: fine"),
                              (TRIAL, 14, "  overall: unknown")]:
        cases.append(case(c, f"invalid-choice-{rel.split('/')[-1]}-{number}",
                          set_line(rel, number, text), (rel, number, "invalid-value")))
    return cases


def schema_shapes() -> list[Case]:
    c = "schema"
    cases = []
    # Wrong shapes: a list or mapping for text, text for a list or mapping.
    for rel, number, text, block in [(CLAIM, 1, "title: [a, list]", ()),
                                     (CLAIM, 1, "title: {a: mapping}", ()),
                                     (CLAIM, 22, "seen_in: article-a#pain-claim", ()),
                                     (CLAIM, 5, "evidence: none", range(6, 17)),
                                     (TRIAL, 3, "n: [40]", ()),
                                     (SITE, 5, "maintainers: Test maintainer", [6])]:
        # The lines of the block the new value replaces become comments.
        cases.append(case(c, f"wrong-type-{rel.split('/')[-1]}-{text.split(':')[0].strip()}"
                             f"-{text.split(': ', 1)[1][:1]}",
                          both(set_line(rel, number, text),
                               *[set_line(rel, n, "#") for n in block]),
                          (rel, number, "wrong-type")))
    cases.append(case(c, "wrong-type-verified-at-mapping",
                      both(set_line(TRIAL, 15, "verified_at: {a: b}"), set_line(TRIAL, 16, "#")),
                      (TRIAL, 15, "wrong-type"), (TRIAL, 1, "missing-provenance")))
    # Empty texts.
    for rel, number, text, cascade in [
            (CLAIM, 1, 'title: ""', ()), (CLAIM, 21, "summary: '   '", ()),
            (TRIAL, 19, '    text: ""', ())]:
        cases.append(case(c, f"empty-{rel.split('/')[-1]}-{number}", set_line(rel, number, text),
                          (rel, number, "empty-value"), *cascade))
    # A key with no value is a field left out (YAML's null).
    cases.append(case(c, "empty-site-title", set_line(SITE, 1, "title:"),
                      (SITE, 1, "missing-field")))
    # Patterns: ids and links in the wrong form.
    # Values in the wrong form, and what the value left out then means for the rest (an
    # excerpt, or a link to one, that cannot be read is not reported again as missing or
    # dangling).
    no_provenance = (TRIAL, 1, "missing-provenance")
    for rel, number, text, cascade in [
            (CLAIM, 22, "seen_in: [article-a]", ()),
            (CLAIM, 9, "    excerpts: [Trial2020#Abstract]", ()),
            (TRIAL, 16, "  - ftp://example.org/trial2020", [no_provenance]),
            (TRIAL, 16, "  - javascript:alert(1)", [no_provenance]),
            (TRIAL, 18, "  - id: Abstract Text", ()),
            (SITE, 2, "base_url: https://example.org/no-slash", ()),
            (SITE, 2, "base_url: javascript:alert(1)//", ())]:
        cases.append(case(c, f"pattern-{rel.split('/')[-1]}-{number}-{text.strip()[:12]}",
                          set_line(rel, number, text), (rel, number, "invalid-format"),
                          *cascade))
    return cases


def numbers_and_dates() -> list[Case]:
    c = "numbers-and-dates"
    cases = []
    for name, text, code in [("n-negative", "n: -3", "invalid-value"),
                             ("n-fraction", "n: 40.5", "wrong-type"),
                             ("n-words", "n: forty", "wrong-type"),
                             ("n-huge", "n: 1" + "0" * 5000, "wrong-type"),
                             ("n-yaml11-octal", "n: 0o17", "wrong-type"),
                             ("n-boolean", "n: yes", "wrong-type")]:
        cases.append(case(c, f"source-{name}", set_line(TRIAL, 3, text), (TRIAL, 3, code)))
    for name, text in [("nan", ".nan"), ("infinity", ".inf"), ("minus-infinity", "-.inf"),
                       ("overflow", "1e999"), ("words", "large"), ("quoted", '"-0.5"'),
                       ("hex", "0x10")]:
        cases.append(case(c, f"effect-value-{name}", set_line(CLAIM, 13, f"      value: {text}"),
                          (CLAIM, 13, "wrong-type")))
    # Effects beyond what each measure can plausibly be (the forest plot used to overflow).
    effects = [("SMD", "-0.5", "-11", "-0.1"), ("SMD", "0.5", "0.1", "1.7e308"),
               ("SMD", "-1.7e308", "-1.7e308", "1.7e308"), ("MD", "-5", "-2e6", "1"),
               ("MD", "3e6", "2e6", "4e6"), ("RD", "0.5", "0.2", "1.5"),
               ("RD", "-12", "-20", "-5"), ("RR", "1", "1e-300", "1e300"),
               ("RR", "2", "0.5", "2e4"), ("OR", "1e-5", "1e-6", "1e-4"),
               ("OR", "50000", "2", "1e5"), ("HR", "0.5", "1e-9", "0.9")]
    for measure, value, low, high in effects:
        cases.append(case(c, f"implausible-{measure}-{value}-{low}-{high}",
                          both(set_line(CLAIM, 12, f"      measure: {measure}"),
                               set_line(CLAIM, 13, f"      value: {value}"),
                               set_line(CLAIM, 14, f"      ci_low: {low}"),
                               set_line(CLAIM, 15, f"      ci_high: {high}")),
                          (CLAIM, 11, "implausible-effect")))
    for name, measure, value, low, high in [("value-below-interval", "SMD", "-1", "-0.9", "0"),
                                            ("value-above-interval", "MD", "3", "1", "2"),
                                            ("interval-reversed", "SMD", "0", "0.5", "-0.5"),
                                            ("ratio-zero", "RR", "0", "0", "1"),
                                            ("ratio-negative", "HR", "-1", "-2", "1")]:
        cases.append(case(c, f"effect-{name}",
                          both(set_line(CLAIM, 12, f"      measure: {measure}"),
                               set_line(CLAIM, 13, f"      value: {value}"),
                               set_line(CLAIM, 14, f"      ci_low: {low}"),
                               set_line(CLAIM, 15, f"      ci_high: {high}")),
                          (CLAIM, 11, "invalid-effect")))
    cases.append(case(c, "effect-n-zero", set_line(CLAIM, 16, "      n: 0"),
                      (CLAIM, 16, "invalid-value")))
    cases.append(case(c, "dose-min-above-max",
                      append(CLAIM, "dose:\n  min_mg: 4.5\n  max_mg: 1.5\n"),
                      (CLAIM, 27, "invalid-value")))
    cases.append(case(c, "dose-negative", append(CLAIM, "dose:\n  min_mg: -1\n"),
                      (CLAIM, 27, "invalid-value")))
    for name, text, code in [("not-a-day", "2026-02-30", "invalid-date"),
                             ("month-13", "2026-13-01", "invalid-date"),
                             ("yaml11-yes", "yes", "invalid-format"),
                             ("no-dashes", "20260115", "invalid-format"),
                             ("with-time", "2026-01-15T10:00:00", "invalid-format"),
                             ("far-future", "9999-12-31", "invalid-date"),
                             ("next-year", "2027-01-15", "invalid-date")]:
        cases.append(case(c, f"review-date-{name}", set_line(CLAIM, 24, f"  date: {text}"),
                          (CLAIM, 24, code)))
    cases.append(case(c, "review-age-zero", append(SITE, "review_max_age_days: 0\n"),
                      (SITE, 7, "invalid-value")))
    return cases


def references() -> list[Case]:
    c = "references"
    return [
        case(c, "unknown-evidence-source", set_line(CLAIM, 6, "  - source: trial2021"),
             (CLAIM, 6, "unknown-bibkey")),
        case(c, "dangling-excerpt", set_line(CLAIM, 9, "    excerpts: [trial2020#abstrct]"),
             (CLAIM, 9, "dangling-excerpt")),
        case(c, "excerpt-of-unknown-source", set_line(CLAIM, 9, "    excerpts: [nosuch#abstract]"),
             (CLAIM, 9, "unknown-bibkey")),
        case(c, "seen-in-a-trial", set_line(CLAIM, 22, "seen_in: [trial2020#abstract]"),
             (CLAIM, 22, "not-an-article")),
        case(c, "seen-in-dangling", set_line(CLAIM, 22, "seen_in: [article-a#pain]"),
             (CLAIM, 22, "dangling-excerpt")),
        case(c, "article-as-evidence",
             both(set_line(CLAIM, 6, "  - source: article-a"),
                  set_line(CLAIM, 9, "    excerpts: [article-a#pain-claim]")),
             (CLAIM, 6, "article-as-evidence"), (CLAIM, 18, "ungradable-evidence")),
        case(c, "excerpt-of-another-source",
             set_line(CLAIM, 9, "    excerpts: [trial2020#abstract, article-a#pain-claim]"),
             (CLAIM, 9, "excerpt-source-mismatch")),
        case(c, "related-to-itself", append(CLAIM, "related: [drug-reduces-pain]\n"),
             (CLAIM, 26, "self-reference")),
        case(c, "related-dangling", append(CLAIM, "related: [drug-cures-pain]\n"),
             (CLAIM, 26, "dangling-claim")),
        case(c, "side-effect-dangling",
             append(CLAIM, "side_effects:\n  - {effect: Dreams, frequency: Often, "
                           "source: trial2020#results}\n"),
             (CLAIM, 27, "dangling-excerpt")),
        case(c, "no-excerpt-quoted", set_line(CLAIM, 9, "#"), (CLAIM, 1, "missing-excerpt")),
        case(c, "duplicate-excerpt-id",
             append(TRIAL, "  - id: abstract\n    text: Again.\n    locator: Page 2\n"),
             (TRIAL, 21, "duplicate-id")),
        case(c, "source-without-bib-entry",
             write("sources/lost2021.yaml", original(TRIAL)),
             ("sources/lost2021.yaml", 1, "unknown-bibkey")),
        case(c, "bib-entry-without-source", remove(TRIAL),
             (BIB, 1, "missing-source-record"), (CLAIM, 6, "missing-source-record"),
             (CLAIM, 9, "missing-source-record")),
        case(c, "claim-file-name", write("claims/Drug_Claim.yaml", original(CLAIM)),
             ("claims/Drug_Claim.yaml", 1, "invalid-id")),
        case(c, "source-file-name", write("sources/Trial 2020.yaml", original(TRIAL)),
             ("sources/Trial 2020.yaml", 1, "invalid-id")),
        case(c, "yml-extension", write("claims/other-claim.yml", original(CLAIM)),
             ("claims/other-claim.yml", 1, "wrong-extension")),
        case(c, "risk-of-bias-on-an-article",
             append(ARTICLE, "risk_of_bias: {randomization: low, deviations: low, "
                             "missing_data: low, measurement: low, reporting: low, "
                             "overall: low}\n"),
             (ARTICLE, 12, "invalid-value")),
        case(c, "article-without-fulltext", both(*[set_line(ARTICLE, n, "#") for n in (5, 6, 7)]),
             (ARTICLE, 1, "missing-field")),
        case(c, "source-without-provenance", both(set_line(TRIAL, 15, "#"),
                                                  set_line(TRIAL, 16, "#")),
             (TRIAL, 1, "missing-provenance")),
    ]


def file_system() -> list[Case]:
    c = "file-system"
    return [
        case(c, "fifo-claim", fifo("claims/x.yaml"), ("claims/x.yaml", 1, "not-a-file")),
        case(c, "fifo-source", fifo("sources/x.yaml"), ("sources/x.yaml", 1, "not-a-file")),
        case(c, "fifo-site-yaml", fifo(SITE), (SITE, 1, "not-a-file")),
        case(c, "fifo-bibtex", fifo(BIB), (BIB, 1, "not-a-file")),
        case(c, "fifo-template", fifo("templates/static/extra.css"),
             ("templates/static/extra.css", 1, "not-a-file")),
        case(c, "socket-claim", unix_socket("claims/y.yaml"), ("claims/y.yaml", 1, "not-a-file")),
        case(c, "folder-named-yaml", folder("claims/x.yaml"), ("claims/x.yaml", 1, "not-a-file")),
        case(c, "hidden-claim", write("claims/.hidden.yaml", original(CLAIM)),
             ("claims/.hidden.yaml", 1, "hidden-file")),
        case(c, "hidden-source", write("sources/.trial.yaml", original(TRIAL)),
             ("sources/.trial.yaml", 1, "hidden-file")),
        case(c, "claim-links-to-passwd", symlink("claims/leak.yaml", "/etc/passwd"),
             ("claims/leak.yaml", 1, "symlink-outside")),
        case(c, "claim-links-to-dev-zero", symlink("claims/zero.yaml", "/dev/zero"),
             ("claims/zero.yaml", 1, "symlink-outside")),
        case(c, "source-links-out", symlink("sources/x.yaml", "../../outside.yaml"),
             ("sources/x.yaml", 1, "broken-symlink")),
        case(c, "static-leak", symlink("templates/static/leak.txt", "/etc/passwd"),
             ("templates/static/leak.txt", 1, "symlink-outside")),
        case(c, "template-links-to-dev-zero", symlink("templates/static/z.css", "/dev/zero"),
             ("templates/static/z.css", 1, "symlink-outside")),
        case(c, "templates-linked-folder", symlink("templates/etc", "/etc"),
             ("templates/etc", 1, "symlink-folder")),
        case(c, "site-yaml-links-out", symlink(SITE, "/etc/hostname"),
             (SITE, 1, "symlink-outside")),
        case(c, "bib-links-to-dev-zero", symlink(BIB, "/dev/zero"), (BIB, 1, "symlink-outside")),
        case(c, "broken-link", symlink("claims/gone.yaml", "no-such-file.yaml"),
             ("claims/gone.yaml", 1, "broken-symlink")),
        case(c, "looping-links", both(symlink("claims/a.yaml", "b.yaml"),
                                      symlink("claims/b.yaml", "a.yaml")),
             ("claims/a.yaml", 1, "symlink-loop"), ("claims/b.yaml", 1, "symlink-loop")),
        case(c, "self-link", symlink("claims/self.yaml", "self.yaml"),
             ("claims/self.yaml", 1, "symlink-loop")),
        case(c, "too-large", write("claims/big.yaml", "title: " + "a" * (5 * 1024 * 1024)),
             ("claims/big.yaml", 1, "file-too-large")),
        case(c, "no-claims-folder", remove("claims"), ("claims", 0, "missing-folder")),
        case(c, "claims-is-a-file", both(remove("claims"), write("claims", "not a folder\n")),
             ("claims", 1, "not-a-folder")),
        case(c, "claims-links-out", both(remove("claims"), symlink("claims", "/etc")),
             ("claims", 1, "symlink-outside")),
        case(c, "no-sources-folder", remove("sources"), ("sources", 0, "missing-folder"),
             (BIB, 0, "missing-bibliography")),
        case(c, "no-templates-folder", remove("templates"),
             ("templates", 0, "missing-templates")),
        case(c, "no-site-yaml", remove(SITE), (SITE, 0, "missing-config")),
        case(c, "no-bibliography", remove(BIB), (BIB, 0, "missing-bibliography")),
    ]


def bibtex() -> list[Case]:
    c = "bibtex"
    entry = "@article{trial2020,"
    return [
        case(c, "not-bibtex", write(BIB, "These are my references:\nDoe 2020, Roe 2021\n"),
             (BIB, 1, "not-bibtex")),
        case(c, "empty", write(BIB, ""), (BIB, 1, "not-bibtex")),
        case(c, "json-instead", write(BIB, '\n\n{"trial2020": {"title": "x"}}\n'),
             (BIB, 3, "not-bibtex")),
        case(c, "duplicate-key", append(BIB, "\n@misc{article-a,\n  title = {Again}\n}\n"),
             (BIB, 18, "duplicate-id")),
        case(c, "duplicate-field", set_line(BIB, 3, "  title = {A}, title = {B},"),
             (BIB, 1, "duplicate-key")),
        case(c, "uppercase-key", edit(BIB, "@misc{article-a,", "@misc{Article-A,"),
             (BIB, 13, "invalid-id"), (BIB, 13, "missing-source-record"),
             (ARTICLE, 1, "unknown-bibkey")),
        case(c, "unclosed-entry", append(BIB, "\n@misc{extra,\n  title = {Never closed\n"),
             (BIB, 18, "bibtex-syntax")),
        case(c, "entry-renamed", edit(BIB, entry, "@article{trial2021,"),
             (BIB, 1, "missing-source-record"), (TRIAL, 1, "unknown-bibkey"),
             (CLAIM, 6, "unknown-bibkey")),
        # A cited entry that cannot be parsed: its key is not also unknown to the claim.
        case(c, "cited-entry-unclosed", edit(BIB, "of a drug},", "of a drug}\n  note = {x"),
             (BIB, 1, "bibtex-syntax")),
        case(c, "missing-comma", edit(BIB, "Roe, Richard},", "Roe, Richard}"),
             (BIB, 3, "missing-comma")),
        case(c, "unknown-entry-type", edit(BIB, entry, "@artcle{trial2020,"),
             (BIB, 1, "unknown-entry-type")),
    ]


def site_settings() -> list[Case]:
    c = "site-settings"
    cases = []
    for name, value in [("empty-link", '"[]()"'), ("html-comment", '"<!-- -->"'),
                        ("image-only", '"![Not medical advice](x.png)"'),
                        ("punctuation", '"... !!! ???"'), ("two-words", "Not advice."),
                        ("zero-width", '"\\u200b\\u200b\\u200b"'), ("numbers", '"1 2 3 4 5"'),
                        ("emphasis-only", '"** **"'), ("script-tag", '"<script></script>"'),
                        ("one-letter-words", '"a b c d e f"')]:
        cases.append(case(c, f"disclaimer-{name}", set_line(SITE, 4, f"disclaimer: {value}"),
                          (SITE, 4, "empty-disclaimer")))
    for name, value in [("slash", "en/x"), ("markup", '"<b>en</b>"'), ("underscore", "en_US"),
                        ("words", "English language"), ("quote", "'en\"'"),
                        ("too-long", "en-" + "-".join(["abcdefgh"] * 4)),
                        ("digit-start", "1en"), ("path", "../../x")]:
        cases.append(case(c, f"language-{name}", append(SITE, f"language: {value}\n"),
                          (SITE, 7, "invalid-language")))
    for name, value in [("claims", "claims"), ("templates", "templates"), ("dot", "."),
                        ("parent", ".."), ("root", "/"), ("git", ".git"),
                        ("sources-via-site", "_site/../sources")]:
        cases.append(case(c, f"output-dir-{name}", append(SITE, f"output_dir: '{value}'\n"),
                          (SITE, 7, "unsafe-output")))
    cases.append(case(c, "no-maintainers", both(set_line(SITE, 5, "maintainers: []"),
                                                set_line(SITE, 6, "#")),
                      (SITE, 5, "too-few-items")))
    return cases


def template_lines(name: str, text: str) -> int:
    return line_of(f"templates/{name}", text)


def templates() -> list[Case]:
    c = "templates"
    claim, base = "templates/claim.html", "templates/base.html"
    h1 = '<h1 data-pagefind-weight="10"><span class="claim-label">Claim:</span> {{ claim.title }}</h1>'
    at = line_of(claim, h1)
    disclaimer = line_of(base, 'class="disclaimer"')
    body = line_of(base, "<body")

    def in_claim(new: str):
        return edit(claim, h1, new)

    cases = [
        case(c, "syntax-error", in_claim("<h1>{% if %}</h1>"), (claim, at, "template-syntax")),
        case(c, "unclosed-block", in_claim("<h1>{% for x in y %}</h1>"),
             (claim, line_of(claim, "{% endblock %}"), "template-syntax")),
        case(c, "undefined-value", in_claim("<h1>{{ claim.headline }}</h1>"),
             (claim, at, "template-error")),
        case(c, "division-by-zero", in_claim("<h1>{{ 1 / 0 }}</h1>"),
             (claim, at, "template-error")),
        case(c, "pop-from-empty", in_claim("<h1>{{ [].pop() }}</h1>"),
             (claim, at, "template-unsafe")),
        case(c, "huge-repeat", in_claim("<h1>{{ 'x' * 10**10 }}</h1>"),
             (claim, at, "template-unsafe")),
        case(c, "huge-power", in_claim("<h1>{{ 9 ** 999999 }}</h1>"),
             (claim, at, "template-unsafe")),
        case(c, "huge-range", in_claim("<h1>{% for i in range(10**9) %}{% endfor %}</h1>"),
             (claim, at, "template-error")),
        case(c, "recursive-macro",
             in_claim("{% macro m() %}{{ m() }}{% endmacro %}<h1>{{ m() }}</h1>"),
             (claim, at, "template-error")),
        case(c, "python-internals", in_claim("<h1>{{ ''.__class__.__mro__ }}</h1>"),
             (claim, at, "template-unsafe")),
        case(c, "cycler-globals", in_claim("<h1>{{ cycler.__init__.__globals__.os }}</h1>"),
             (claim, at, "template-unsafe")),
        case(c, "lipsum-builtins",
             in_claim("<h1>{{ lipsum.__globals__['__builtins__']['open']('/etc/passwd') }}</h1>"),
             (claim, at, "template-unsafe")),
        case(c, "missing-template-claim", remove(claim), (claim, 0, "template-error")),
        case(c, "missing-disclaimer", set_line(base, disclaimer, ""),
             (base, body, "missing-disclaimer")),
        case(c, "invalid-page-language",
             edit(base, '<html lang="{{ site.language }}">', '<html lang="en/x">'),
             (base, line_of(base, "<html"), "invalid-page-language")),
    ]
    hide = original(base).split("\n")[disclaimer - 1]
    for name, wrapper in [("hidden", "<div hidden>{}</div>"),
                          ("display-none", '<div style="display:none">{}</div>'),
                          ("visibility", "<div style='visibility: hidden'>{}</div>"),
                          ("attribute", "<div data-x='{}'></div>"),
                          ("svg-desc", "<svg><desc>{}</desc></svg>"),
                          ("comment", "<!-- {} -->")]:
        cases.append(case(c, f"disclaimer-{name}", set_line(base, disclaimer, wrapper.format(hide)),
                          (base, disclaimer, "missing-disclaimer")))
    return cases


CASES = (yaml_structure() + control_characters() + encoding() + schema() + schema_values()
         + schema_shapes() + numbers_and_dates() + references() + file_system() + bibtex()
         + site_settings() + templates())


def test_there_are_at_least_200_cases_in_at_least_8_categories():
    categories = {c.category for c in CASES}
    assert len(CASES) >= 200 and len(categories) >= 8, (len(CASES), sorted(categories))
    assert len({c.id for c in CASES}) == len(CASES), "two cases share a name"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """The minimal site with the repository's templates, built once: the old site."""
    site = copy_site("minimal", tmp_path_factory.mktemp("hostile") / "site")
    result = run_cli("build", "--root", site, "--no-search")
    assert result.exit_code == 0, result.output
    return site


def parse_errors(output: str) -> set[tuple[str, int, str]]:
    found = set()
    for line in output.splitlines():
        where, sep, rest = line.partition(": error: ")
        if not sep:
            continue
        # path:line, path:line:col, or the path alone for the whole file (line 0)
        located = re.fullmatch(r"(.*?)(?::(\d+)(?::\d+)?)?", where)
        found.add((located.group(1), int(located.group(2) or 0), rest[rest.rindex("[") + 1:-1]))
    return found


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_a_located_error_and_harms_nothing(hostile, built_site, tmp_path):
    with tally("malformed input", hostile.category):
        site = tmp_path / "site"
        shutil.copytree(built_site, site, symlinks=True)
        hostile.mutate(site)
        before = snapshot(site, skip=(CACHE,))
        neighbours = sorted(p.name for p in tmp_path.iterdir())
        with time_limit(60, f"the build of {hostile.id}"):
            result = run_cli("build", "--root", site, "--no-search")
        assert "Traceback" not in result.output
        assert result.exit_code == 1, result.output
        assert parse_errors(result.stdout) == set(hostile.errors), result.stdout
        assert result.stdout.splitlines()[-1].endswith(("warning", "warnings"))
        assert "build failed: nothing was written" in result.stderr
        # The old site and every user file: same bytes, same times; nothing left behind.
        assert snapshot(site, skip=(CACHE,)) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == neighbours


# --- spreadsheet formulas in the open data -------------------------------------------------

# Columns of data/evidence.csv that hold numbers: a negative number rightly starts with '-'.
NUMERIC_COLUMNS = {"n", "value", "ci_low", "ci_high", "effect_n"}
FORMULAS = [(CLAIM, 1, 'title: "=HYPERLINK(\\"https://example.org\\",\\"Open\\")"'),
            (CLAIM, 11, '      outcome: "+1+1"'), (TRIAL, 4, 'dose: "-2+3"'),
            (TRIAL, 5, 'duration: "@SUM(1,2)"'), (BIB, 3, "  title = {\tTab=1+1},")]


def test_no_csv_text_cell_starts_like_a_formula(tmp_path):
    site = copy_site("minimal", tmp_path / "site")
    for rel, number, text in FORMULAS:
        set_line(rel, number, text)(site)
    result = run_cli("build", "--root", site, "--no-search")
    assert result.exit_code == 0, result.output
    with open(site / "_site" / "data" / "evidence.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    # The formulas reached the file (wherever a neutralising prefix may put them).
    cells = [cell for row in rows for cell in row.values()]
    assert all(any(marker in cell for cell in cells)
               for marker in ("HYPERLINK", "+1+1", "-2+3", "@SUM", "Tab=1"))
    risky = [(column, cell) for row in rows for column, cell in row.items()
             if column not in NUMERIC_COLUMNS and cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky == []
