"""Auditing: the reviewing rules that read a claim against its own sources.

Owns two rules of the reviewing guide (CONTRIBUTING.md, "Numbers" and "Verdicts") that a
machine can check: every number in a claim's text has a home, in an excerpt the claim links or
in the record of a source it cites (``number-not-in-sources``); and a verdict whose certainty
reads against it (supported, mixed or refuted at very low certainty, refuted at low,
unsupported at moderate or high, mixed at high) is explained in the claim's plain reading
(``verdict-certainty``). Both are warnings: they point a reviewer at a place to read, and a
reviewer decides.

Pure: takes loaded claims, sources and grades, returns diagnostics; it reads no file and
prints nothing. It must not judge whether a number is right, only whether it can be found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ldn_site.diagnostics import Diagnostic, warning
from ldn_site.model import BibEntry, Claim, Source

# --- numbers --------------------------------------------------------------------------------

# A number as written in prose: digits with thousands separators (1,000 or 11 194 with a thin
# or no-break space) or a decimal point or comma, or a bare decimal (.05). Signs are left out
# on purpose: a hyphen is as often a range ("1.5-4.5") as a minus, and "a difference of 0.34"
# is the same figure as "-0.34".
_NUMBER = re.compile(r"\d{1,3}(?:[,\u202f\u00a0]\d{3})+(?![\d,])(?:\.\d+)?"
                     r"|\d+(?:[.,]\d+)?|(?<!\d)\.\d+")
_DIGIT = re.compile(r"\d")  # most prose has none: no number to look for, no work to do
# In a claim's own text a number glued to a word ahead of it is part of a name, not a figure:
# NCT02806440, TLR4, IL-6, COVID-19, SF-36.
_NAME_AHEAD = re.compile(r"[^\W\d_][-\u2010\u2011]?$")
# Numbers that name something rather than report data: the risk-of-bias tool (RoB 2),
# serotonin (5-HT), the confidence level of an interval (95% CI).
_NOT_DATA = re.compile(r"\bRoB\s*2\b|\b5-HT\w*|\b95\s*%\s*(?=CI\b|confidence)", re.IGNORECASE)
# A year in a citation names a study rather than reporting data: "Younger et al. (2013)",
# "Bested 2023", "(Bruun et al., 2024)", "the FINAL protocol (2021)", "a 2011 meta-analysis",
# "the 2013 Stanford crossover". The year must also be the year of a source the claim cites,
# so a citation of a study the claim does not cite is still checked. A word before the year
# is a name when it starts with a capital and is not a word that starts a date ("In 2013").
_NAME_BEFORE = re.compile(r"(?:\bet al\.?|\b[A-Z][\w'\u2019-]+),?\s*\(?\s*$")
_STUDY_AFTER = re.compile(r"^(?:['\u2019]s)?\)?(?:[ \t]+\S+){0,3}?[ \t]+\(?(?:meta-analys|analys|"
                          r"review|trial|pilot|stud|crossover|protocol|report|recommendation|"
                          r"criteri|classification|guideline|paper|survey|label|abstract|"
                          r"register|record|release|article|cohort|series|talk)", re.IGNORECASE)
_DATE_WORDS = frozenset({"In", "Since", "By", "From", "Until", "Till", "Before", "After",
                         "Of", "To", "And", "Or", "On", "Than", "During", "As", "At", "For",
                         "Between", "Around", "Approved", "Published", "Early", "Late",
                         "Mid", "Spring", "Summer", "Autumn", "Fall", "Winter"} |
                        {m for m in ("January February March April May June July August "
                                     "September October November December").split()})
# List numbering at the start of a line: "1. ", "2) ", "(3) ".
_LIST_NUMBER = re.compile(r"^[ \t]*\(?(\d+)[.)][ \t]", re.MULTILINE)
# Markdown link targets and bare addresses carry digits that are not figures.
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[a-z][a-z0-9+.-]*:[^>]*>|\bhttps?://\S+"
                          r"|\bdoi:\s*\S+|\b10\.\d{4,9}/\S+", re.IGNORECASE)
# BibTeX fields that are text a reader sees; year, volume, number and pages are where a paper
# was printed, and identifiers (doi, pmid, url) are not figures, so none of those proves one.
_BIB_TEXT_FIELDS = ("title", "booktitle", "note")
# Source record fields that are not text a figure could be read from.
_RECORD_SKIP = frozenset({"excerpts", "verified_at", "fulltext", "url", "key", "path", "line",
                          "col", "unverified", "same_participants_as"})


def normalize_number(token: str) -> str:
    """One written form per value: no thousands separators, a decimal point, no trailing
    zeros after it ("1,000" -> "1000", "1,5" -> "1.5", "4.50" -> "4.5", ".05" -> "0.05")."""
    token = token.replace("\u202f", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        token = token.replace(",", "")
    whole, _, fraction = token.replace(",", ".").partition(".")
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def _without_links(text: str) -> str:
    """The text with link targets and addresses blanked out, character for character (so
    that positions stay), and without the work when there can be none: a Markdown link
    target follows "](", an autolink starts with "<", and an address or DOI holds a "/"."""
    if "](" not in text and "<" not in text and "/" not in text:
        return text
    return _LINK_TARGET.sub(lambda m: " " * len(m.group()), text)


def numbers_in(text: str) -> set[str]:
    """Every number in a source's text, normalized; a number glued to letters counts too
    (the article texts run words together: "of4.5mg")."""
    if not _DIGIT.search(text):
        return set()
    return {normalize_number(m.group()) for m in _NUMBER.finditer(_without_links(text))}


def claimed_figures(text: str, cited_years: frozenset[str] = frozenset()) -> dict[str, str]:
    """The figures a claim's text states, normalized, in order of appearance, each with the
    form it was first written in (normalized -> written, so that a message quotes the
    contributor's "1.10", not "1.1"), without the numbers that are not claims about data (see
    the patterns above). ``cited_years`` are the years of the sources the claim cites: such a
    year written as a citation is left out."""
    if not _DIGIT.search(text):
        return {}
    text = _NOT_DATA.sub(lambda m: " " * len(m.group()), _without_links(str(text)))
    skip = {m.start(1) for m in _LIST_NUMBER.finditer(text)}
    found: dict[str, str] = {}
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        # Only the few characters around a number decide; slicing the whole text before each
        # number would make a long summary quadratic.
        if start in skip or _NAME_AHEAD.search(text[max(0, start - 2):start]):
            continue
        if match.group() in cited_years and \
                _is_citation(text[max(0, start - 60):start], text[end:end + 80]):
            continue
        found.setdefault(normalize_number(match.group()), match.group())
    return found


def _is_citation(before: str, after: str) -> bool:
    """Whether a year stands where a citation puts it: after a name, in parentheses of its
    own, or before the kind of study it names."""
    name = _NAME_BEFORE.search(before)
    if name and name.group().strip(" ,(").split()[0] not in _DATE_WORDS:
        return True
    if before.rstrip().endswith("(") and after.lstrip().startswith(")"):
        return True
    return bool(_STUDY_AFTER.match(after))


def _record_numbers(source: Source, bib: BibEntry | None) -> set[str]:
    """The numbers in a source's record (its own-words fields) and its BibTeX title."""
    found: set[str] = set()
    for text in _record_texts(source):
        found |= numbers_in(text)
    if bib is not None:
        for name in _BIB_TEXT_FIELDS:
            found |= numbers_in(bib.fields.get(name, ""))
    return found


def _record_texts(obj) -> Iterator[str]:
    for name in getattr(obj, "__dataclass_fields__", {}):
        if name in _RECORD_SKIP:
            continue
        value = getattr(obj, name)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            yield str(value)
        elif hasattr(value, "__dataclass_fields__"):
            yield from _record_texts(value)


class _NumberIndex:
    """The numbers of each excerpt and source record, each worked out once for all claims."""

    def __init__(self, sources: dict[str, Source], bib: dict[str, BibEntry]):
        self.sources = sources
        self.bib = bib
        self._records: dict[str, set[str]] = {}
        self._excerpts: dict[str, set[str]] = {}

    def record(self, key: str) -> set[str]:
        if key not in self._records:
            source = self.sources.get(key)
            self._records[key] = set() if source is None else \
                _record_numbers(source, self.bib.get(key))
        return self._records[key]

    def excerpt(self, ref: str) -> set[str]:
        if ref not in self._excerpts:
            key, _, excerpt_id = ref.partition("#")
            source = self.sources.get(key)
            texts = [ex.text for ex in source.excerpts if ex.id == excerpt_id] if source else []
            self._excerpts[ref] = numbers_in(" ".join(texts))
        return self._excerpts[ref]

    def pool(self, refs: Iterable[str], keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for ref in refs:
            found |= self.excerpt(ref)
        for key in keys:
            found |= self.record(key)
        return found


def _claim_texts(claim: Claim) -> Iterator[tuple[str, object, int | None]]:
    """Each text of a claim that states figures, with the field name a diagnostic gives and
    the index of the evidence item whose own sources prove a finding (None: the whole claim's
    sources do)."""
    for name in ("title", "statement", "question", "summary", "origin", "plain_reading",
                 "authority"):
        yield name, getattr(claim, name), None
    if claim.dose is not None:
        yield "dose.timing", claim.dose.timing, None
        yield "dose.duration", claim.dose.duration, None
    if claim.mechanism is not None:
        yield "mechanism.pathway", claim.mechanism.pathway, None
    for i, item in enumerate(claim.evidence):
        yield f"evidence[{i + 1}].finding", item.finding, i
    for i, effect in enumerate(claim.side_effects):
        yield f"side_effects[{i + 1}].effect", effect.effect, None
        yield f"side_effects[{i + 1}].frequency", effect.frequency, None
    if claim.grading is not None:
        for name in claim.grading.__dataclass_fields__:
            judgement = getattr(claim.grading, name)
            if judgement is not None and getattr(judgement, "reason", None):
                yield f"grading.{name}.reason", judgement.reason, None


def check_numbers(claims: list[Claim], sources: dict[str, Source], bib: dict[str, BibEntry],
                  flawed: frozenset[str] = frozenset()) -> list[Diagnostic]:
    """A warning for each number in a claim's text that is in none of the excerpts the claim
    links (evidence, side effects, seen_in) nor in the record of a source it cites. A finding
    is held to its own item (the excerpts it links and its source's record) and to the quotes
    under seen_in, which it may answer ("far short of 30%"). A claim linking a source or excerpt
    that could not be read, or a source read with errors (``flawed``), is left out: its
    numbers cannot all be looked for, and the errors are reported already."""
    index = _NumberIndex(sources, bib)
    diags = []
    for claim in sorted(claims, key=lambda c: c.id):
        refs = [r for item in claim.evidence for r in item.excerpts]
        refs += [e.source for e in claim.side_effects] + list(claim.seen_in)
        keys = [item.source for item in claim.evidence]
        keys += [e.source.partition("#")[0] for e in claim.side_effects]
        if not _all_readable(refs, keys, sources, flawed):
            continue  # its errors are reported already; a number warning would cascade
        years = frozenset(bib[key].fields.get("year", "").strip() for key in keys if key in bib)
        whole = index.pool(refs, keys)
        for field, text, item in _claim_texts(claim):
            if not text:
                continue
            pool = whole if item is None else index.pool(
                [*claim.evidence[item].excerpts, *claim.seen_in], [claim.evidence[item].source])
            for number, written in claimed_figures(text, years).items():
                if number not in pool:
                    diags.append(_unfound(claim, field, text, written, item))
    return diags


def _all_readable(refs: list[str], keys: list[str], sources: dict[str, Source],
                  flawed: frozenset[str]) -> bool:
    """Whether every source the claim cites or quotes was read without errors and every
    excerpt it links exists."""
    if any(key not in sources or key in flawed for key in keys):
        return False
    for ref in refs:
        key, _, excerpt_id = ref.partition("#")
        if key not in sources or key in flawed or \
                all(ex.id != excerpt_id for ex in sources[key].excerpts):
            return False
    return True


def _unfound(claim: Claim, field: str, text, number: str, item: int | None) -> Diagnostic:
    where = ("the excerpts this evidence item links nor in its source's record"
             if item is not None else
             "the excerpts the claim links nor in the records of the sources it cites")
    line, col = getattr(text, "line", 0), getattr(text, "col", 0)
    return warning(claim.path, line or claim.line, "number-not-in-sources",
                   f"{field}: the number {number} is in neither {where}; link the excerpt that "
                   "gives it, or take it out", col if line else claim.col)


# --- verdict and certainty --------------------------------------------------------------------

# Pairs of verdict and certainty that read against each other (the verdict rule, step 5 in
# CONTRIBUTING.md): what each pair suggests to a reader, and so what usually went wrong.
CONFUSING_PAIRS = {
    ("supported", "very-low"): "very low certainty cannot settle a claim, so the verdict is "
                               "then unsupported",
    ("mixed", "very-low"): "very low certainty cannot settle a claim, so the verdict is then "
                           "unsupported",
    ("refuted", "very-low"): "very low certainty cannot settle a claim, so the verdict is then "
                             "unsupported",
    ("refuted", "low"): "a reader takes low certainty beside refuted to mean that the claim may "
                        "well hold",
    ("unsupported", "moderate"): "good evidence that cannot settle the claim is indirect, which "
                                 "rates it down",
    ("unsupported", "high"): "good evidence that cannot settle the claim is indirect, which "
                             "rates it down",
    ("mixed", "high"): "a mixed verdict that is certain usually joins two assertions that "
                       "should be split",
}
# A plain reading that explains the pair speaks of the certainty; one written for another
# reason (a verdict that could read like advice) does not silence the warning by accident.
_SPEAKS_OF_CERTAINTY = re.compile(r"certain", re.IGNORECASE)


def check_verdict_pairs(claims: list[Claim], certainties: dict[str, str]) -> list[Diagnostic]:
    """A warning for each effect claim whose verdict and computed certainty form one of the
    ``CONFUSING_PAIRS``, unless its plain_reading explains the pair. Factual claims show no
    certainty, so no pair."""
    diags = []
    for claim in sorted(claims, key=lambda c: c.id):
        certainty = certainties.get(claim.id)
        why = CONFUSING_PAIRS.get((claim.verdict, certainty))
        if claim.kind == "factual" or why is None:
            continue
        if claim.plain_reading and _SPEAKS_OF_CERTAINTY.search(claim.plain_reading):
            continue
        line, col = getattr(claim.verdict, "line", 0), getattr(claim.verdict, "col", 0)
        diags.append(warning(
            claim.path, line or claim.line, "verdict-certainty",
            f"verdict {claim.verdict} at {certainty.replace('-', ' ')} certainty: {why}; "
            "correct the verdict or the grading, or say in plain_reading what this pair means "
            "(a sentence about the certainty)", col if line else claim.col))
    return diags
