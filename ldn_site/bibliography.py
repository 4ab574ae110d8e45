"""Bibliography rules: what makes one BibTeX entry unfit to publish.

Owns the judgement of a single entry: its type and field names (those ``citations`` lays
out), a field run on into the next for a missing comma, empty values, the year, empty names,
and (through ``citations.entry_problems``) names and LaTeX it cannot read, with the url and
doi a page turns into links. bibtexparser accepts any of these silently. Pure: an entry in,
(line, code, message) out; ``validation`` turns them into diagnostics. No I/O.
"""

from __future__ import annotations

import re

from ldn_site.citations import ENTRY_TYPES, FIELDS, NAME_FIELDS, entry_problems, split_names
from ldn_site.diagnostics import did_you_mean
from ldn_site.markup import is_web_url
from ldn_site.model import BibEntry

# A bare DOI, as the DOI handbook writes it; the page links it through https://doi.org/.
DOI_PATTERN = re.compile(r"10\.\d{4,9}/\S+")

def bib_entry_problems(entry: BibEntry) -> list[tuple[int, str, str]]:
    """(line, code, message) for each mistake in one entry. bibtexparser accepts any entry type,
    any field name and any value, so a typing error would be published garbled or vanish. When
    a field has run on into the next (a missing comma), the other fields are not what the
    contributor wrote, and judging them would only add false errors: that one is reported
    alone (with a wrong entry type, which is independent of it)."""
    problems = []
    if entry.entry_type not in ENTRY_TYPES:
        problems.append((entry.line, "unknown-entry-type",
                         f"unknown entry type '@{entry.entry_type}'"
                         f"{_hint('@' + entry.entry_type, {'@' + t for t in ENTRY_TYPES})}"))
    run_on = _run_on_field(entry)
    if run_on is not None:
        return problems + [run_on]
    for name in _in_order(entry):
        problem = _bib_field_problem(name, entry.fields[name])
        if problem is not None:
            problems.append((entry.field_lines.get(name, entry.line), *problem))
    if "title" not in entry.fields:
        problems.append((entry.line, "missing-field",
                         "no title; every reference needs the title its source gives"))
    # A name already reported (an empty one) is not reported again as one BibTeX cannot split.
    named = any(code == "invalid-name" for _, code, _ in problems)
    problems += [(entry.line, code, message) for code, message in entry_problems(entry)
                 if not (named and code == "invalid-name")]
    return problems


def _in_order(entry: BibEntry) -> list[str]:
    """The entry's field names in the order they are written."""
    return sorted(entry.fields, key=lambda n: (entry.field_lines.get(n, entry.line), n))


def _hint(value: str, allowed) -> str:
    return did_you_mean(value, allowed) or f" (allowed: {', '.join(sorted(allowed))})"


# A field name and '=' at the start of a line, or right after a closing brace or quote, inside
# a value: the sign of a missing comma, after which bibtexparser reads the next field as more
# of this one ("author = {Doe, J.}<newline>title = {...}" gives an author "... title = ...").
# The name must be a known field or be followed by an opening brace or quote, so that prose
# such as "p = 0.03" at the start of a line of a note is not taken for a field. A brace or
# quote counts only if it closes the delimiter the value opened with: bibtexparser strips the
# delimiters of a value it read whole, and keeps them when the next field ran on into it, so
# a quote inside {...} (He said "x" y="z") is the contributor's text, not a field's end.
_RUN_ON = re.compile(r"(?:\n|[}\"])\s*([A-Za-z][\w-]*)\s*=\s*(\S?)")
_CLOSER = {"{": "}", '"': '"'}


def _run_on_field(entry: BibEntry) -> tuple[int, str, str] | None:
    for name in _in_order(entry):
        value = entry.fields[name]
        closer = _CLOSER.get(value[:1], "\n")
        for match in _RUN_ON.finditer(value):
            word = match.group(1)
            if value[match.start()] not in ("\n", closer):
                continue
            if word.lower() in FIELDS or match.group(2) in ("{", '"'):
                line = entry.field_lines.get(name, entry.line) + value[:match.start(1)].count("\n")
                return (line, "missing-comma",
                        f"'{word} = ...' is read as part of the field '{name}': a comma is "
                        "probably missing after the previous field")
    return None


def _bib_field_problem(name: str, value: str) -> tuple[str, str] | None:
    """(code, message) for one field of an entry, or None. A url is published as a live link,
    so anything but http(s) (javascript:, data:, vbscript: in any case or spacing) is refused;
    a doi is published as https://doi.org/<doi>, so it must be a bare DOI."""
    text = value.strip()
    if name not in FIELDS:
        return "unknown-field", f"unknown field '{name}'{_hint(name, FIELDS)}"
    if not text:
        # What ``ldn-site new source`` prints is all empty values: each one left is a gap.
        return "empty-value", (f"the field '{name}' is empty; fill it in from the source, or "
                               "delete the line if the source does not give it")
    if name == "year" and not _YEAR.fullmatch(text):
        return "invalid-date", f"year '{text}' is not a four-digit year"
    if name in NAME_FIELDS and any(_empty_name(n) for n in split_names(text)):
        return "invalid-name", (f"{name} '{' '.join(text.split())}' has an empty name: 'and' "
                                "at its start or end, or twice in a row")
    if name == "url" and not is_web_url(text):
        return "unsafe-url", f"url '{value}' is not an http:// or https:// address"
    if name == "doi" and not DOI_PATTERN.fullmatch(text):
        return "invalid-doi", (f"doi '{value}' is not a bare DOI (10.<registrant>/<suffix>, "
                               "without https://doi.org/)")
    return None


_YEAR = re.compile(r"[0-9]{4}")


def _empty_name(name: str) -> bool:
    # bibtexparser splits a name list on " and " between two names only; an "and" left at
    # either end of a name is what remains of an empty one ("Doe and and Roe", "and Roe").
    words = name.split()
    return not words or name.strip() == "{}" or "and" in (words[0].lower(), words[-1].lower())
