"""Diffing: what changed in the claims between two versions of the content.

Owns the comparison behind ``ldn-site diff <git-ref>``, written for reviewers and for a
pull-request comment: which claims were added or removed, and for each changed claim whether
its verdict, its certainty (the computed GRADE level), the judgements behind that certainty,
its evidence or its wording changed, with the values before and after, and for prose (the
statement, summary, origin and each finding) the changed words, as GitHub shows a word diff.
Also the text, Markdown and JSON forms of that list. Pure: takes two loaded versions with
their grades and returns values and strings; reading the old version from git is
``loading``'s job, printing is ``cli``'s.
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import re
from dataclasses import dataclass

from ldn_site import vocabulary as v
from ldn_site.grading import Grade
from ldn_site.model import Claim, Content, EvidenceItem

# The aspects a change can belong to, in the order they are reported. A claim is listed when it
# changed in one of the REVIEWED aspects; changes of other fields (topic, seen_in, review date
# and so on) are shown beside those, and on their own only when asked for.
ASPECTS = ("verdict", "certainty", "grading", "evidence", "wording", "other")
REVIEWED = frozenset(ASPECTS[:-1])
WORDING_FIELDS = ("title", "statement", "summary", "origin")
SHORT_TEXT = 120  # longer texts are reported as "reworded" rather than quoted in full
# Prose whose changes are shown word by word; evidence findings too (field "evidence <key>
# finding").
WORD_DIFF_FIELDS = frozenset({"statement", "summary", "origin"})
CONTEXT_WORDS = 6  # in long texts, unchanged words kept on each side of a change
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")  # words, spaces and single punctuation marks


@dataclass(frozen=True)
class Change:
    aspect: str
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ClaimDiff:
    id: str
    status: str  # added | removed | changed | unreadable
    title: str
    path: str
    changes: tuple[Change, ...] = ()

    @property
    def aspects(self) -> tuple[str, ...]:
        seen = {c.aspect for c in self.changes}
        return tuple(a for a in ASPECTS if a in seen)

    def as_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "title": self.title, "path": self.path,
                "aspects": list(self.aspects),
                "changes": [dataclasses.asdict(c) for c in self.changes]}


def _certainty(claim: Claim, grade: Grade | None) -> str:
    """What readers see in place of a certainty: a factual claim has none."""
    if claim.kind == "factual":
        return "factual (no certainty)"
    return grade.certainty if grade else "not graded"


def _effect(item: EvidenceItem) -> str:
    e = item.effect
    if e is None:
        return ""
    n = f", n={e.n}" if e.n is not None else ""
    return f"{e.outcome}: {e.measure} {e.value:g} ({e.ci_low:g} to {e.ci_high:g}{n})"


def _plain(value) -> str:
    """A field's value as comparable text: scalars as written, structures field by field."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_plain(x) for x in value)
    if dataclasses.is_dataclass(value):
        parts = []
        for f in dataclasses.fields(value):
            if f.metadata.get("internal"):
                continue
            text = _plain(getattr(value, f.name))
            if text:
                parts.append(f"{f.name}: {text}")
        return ", ".join(parts)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _evidence_changes(old: Claim, new: Claim) -> list[Change]:
    def keyed(claim: Claim) -> dict[str, EvidenceItem]:
        out: dict[str, EvidenceItem] = {}
        for item in claim.evidence:
            key, n = str(item.source), 2
            while key in out:  # the same source cited twice: second, third... by position
                key, n = f"{item.source} ({n})", n + 1
            out[key] = item
        return out

    before, after = keyed(old), keyed(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a is None:
            changes.append(Change("evidence", f"evidence {key}", "", f"added ({b.direction})"))
            continue
        if b is None:
            changes.append(Change("evidence", f"evidence {key}", f"{a.direction}", "removed"))
            continue
        if a.direction != b.direction:
            changes.append(Change("evidence", f"evidence {key} direction", a.direction,
                                  b.direction))
        if list(a.excerpts) != list(b.excerpts):
            changes.append(Change("evidence", f"evidence {key} excerpts",
                                  ", ".join(a.excerpts), ", ".join(b.excerpts)))
        if _effect(a) != _effect(b):
            changes.append(Change("evidence", f"evidence {key} effect", _effect(a), _effect(b)))
        if str(a.finding) != str(b.finding):
            changes.append(Change("evidence", f"evidence {key} finding", str(a.finding),
                                  str(b.finding)))
    return changes


def _grading_changes(old: Claim, new: Claim) -> list[Change]:
    changes = []
    for d in v.DOMAINS:
        # A factual claim has no grading block: every domain is then at its default.
        a, b = getattr(old.grading, d.key, None), getattr(new.grading, d.key, None)
        rating_a = a.rating if a else d.ratings[0][0]
        rating_b = b.rating if b else d.ratings[0][0]
        if rating_a != rating_b:
            changes.append(Change("grading", f"grading {d.key}", rating_a, rating_b))
        elif str((a and a.reason) or "") != str((b and b.reason) or ""):
            changes.append(Change("grading", f"grading {d.key} reason",
                                  str((a and a.reason) or ""), str((b and b.reason) or "")))
    return changes


def compare_claim(old: Claim, old_grade: Grade | None, new: Claim,
                  new_grade: Grade | None) -> list[Change]:
    """Every difference between two versions of one claim, by aspect."""
    changes = []
    if old.verdict != new.verdict:
        changes.append(Change("verdict", "verdict", old.verdict, new.verdict))
    if _certainty(old, old_grade) != _certainty(new, new_grade):
        changes.append(Change("certainty", "certainty", _certainty(old, old_grade),
                              _certainty(new, new_grade)))
    changes += _grading_changes(old, new)
    changes += _evidence_changes(old, new)
    for name in WORDING_FIELDS:
        a, b = _plain(getattr(old, name)), _plain(getattr(new, name))
        if a != b:
            changes.append(Change("wording", name, a, b))
    handled = {"verdict", "grading", "evidence", *WORDING_FIELDS}
    for f in dataclasses.fields(Claim):
        if f.name in handled or f.metadata.get("internal"):
            continue
        a, b = _plain(getattr(old, f.name)), _plain(getattr(new, f.name))
        if a != b:
            changes.append(Change("other", f.name, a, b))
    return changes


def diff_claims(old: Content, old_grades: dict[str, Grade], new: Content,
                new_grades: dict[str, Grade], include_other: bool = False) -> list[ClaimDiff]:
    """The claims that differ between ``old`` and ``new``, sorted by id. A claim whose file is
    broken in ``new`` is reported as unreadable, not as removed."""
    before = {c.id: c for c in old.claims}
    after = {c.id: c for c in new.claims}
    out = []
    for cid in sorted(set(before) | set(after) | new.broken_claims):
        a, b = before.get(cid), after.get(cid)
        if b is None and cid in new.broken_claims:
            out.append(ClaimDiff(cid, "unreadable", a.title if a else cid,
                                 f"claims/{cid}.yaml"))
        elif a is None and b is not None:
            out.append(ClaimDiff(cid, "added", b.title, b.path, (
                Change("verdict", "verdict", "", b.verdict),
                Change("certainty", "certainty", "", _certainty(b, new_grades.get(cid))))))
        elif b is None:
            out.append(ClaimDiff(cid, "removed", a.title, a.path, (
                Change("verdict", "verdict", a.verdict, ""),
                Change("certainty", "certainty", _certainty(a, old_grades.get(cid)), ""))))
        else:
            changes = compare_claim(a, old_grades.get(cid), b, new_grades.get(cid))
            if any(c.aspect in REVIEWED for c in changes) or (include_other and changes):
                out.append(ClaimDiff(cid, "changed", b.title, b.path, tuple(changes)))
    return out


# --- word diff -------------------------------------------------------------------------------

def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """The changed words between two texts, as (op, text) segments in reading order: "="
    for words both have, "-" for words only ``before`` has, "+" for words only ``after``
    has. Whitespace runs count as one space. A single space between two changes belongs to
    the change, so that "a b c" -> "x y c" is one change ("a b" to "x y"), not two."""
    old = _TOKENS.findall(" ".join(before.split()))
    new = _TOKENS.findall(" ".join(after.split()))
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    runs = [[tag != "equal", "".join(old[i1:i2]), "".join(new[j1:j2])]
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    merged: list[list] = []
    for i, run in enumerate(runs):
        changed, a, b = run
        between = 0 < i < len(runs) - 1 and runs[i - 1][0] and runs[i + 1][0]
        if not changed and a.isspace() and between:
            changed = True
        if merged and changed and merged[-1][0]:
            merged[-1][1] += a
            merged[-1][2] += b
        else:
            merged.append([changed, a, b])
    segments = []
    for changed, a, b in merged:
        if not changed:
            segments.append(("=", a))
            continue
        if a:
            segments.append(("-", a))
        if b:
            segments.append(("+", b))
    return segments


def _elide(text: str, first: bool, last: bool) -> str:
    """An unchanged run with only CONTEXT_WORDS words kept beside each change."""
    words, keep = text.split(), CONTEXT_WORDS
    lead = " " if text[:1] == " " else ""
    trail = " " if text[-1:] == " " else ""
    if (first and last) or len(words) <= (1 if first or last else 2) * keep + 1:
        return text
    if first:
        return "… " + " ".join(words[-keep:]) + trail
    if last:
        return lead + " ".join(words[:keep]) + " …"
    return lead + " ".join(words[:keep]) + " … " + " ".join(words[-keep:]) + trail


def _render_words(segments: list[tuple[str, str]], show: dict[str, str], escape,
                  elide: bool) -> str:
    """The segments as one line, each shown op wrapped by ``show[op]`` (a format with {}),
    ops missing from ``show`` left out; with ``elide``, unchanged runs are shortened."""
    out = []
    for i, (op, text) in enumerate(segments):
        if op == "=":
            if elide:
                text = _elide(text, i == 0, i == len(segments) - 1)
            out.append(escape(text))
        elif op in show:
            out.append(show[op].format(escape(text)))
    return "".join(out)


def _has_word_diff(c: Change) -> bool:
    return bool(c.before and c.after) and (c.field in WORD_DIFF_FIELDS
                                          or c.field.endswith(" finding"))


def _text_words(c: Change) -> str:
    """git diff --word-diff=plain: [-removed-]{+added+}."""
    return _render_words(word_diff(c.before, c.after), {"-": "[-{}-]", "+": "{{+{}+}}"},
                         lambda t: t, _is_long(c.before) or _is_long(c.after))


def _markdown_words(c: Change) -> tuple[str, str]:
    """GitHub's split view: the old text with removed words struck through, the new one with
    added words underlined."""
    segments = word_diff(c.before, c.after)
    elide = _is_long(c.before) or _is_long(c.after)
    return (_render_words(segments, {"-": "<del>{}</del>"}, _markdown_cell_text, elide),
            _render_words(segments, {"+": "<ins>{}</ins>"}, _markdown_cell_text, elide))


def _markdown_cell_text(text: str) -> str:
    # Inside <del>/<ins> the text is HTML; a "|" would end the table cell.
    return html.escape(text, quote=False).replace("|", "\\|")


# --- presentation ----------------------------------------------------------------------------

def _is_long(text: str) -> bool:
    return len(" ".join(text.split())) > SHORT_TEXT


def _arrow(c: Change) -> str:
    """before → after, in one line; long texts (summaries, findings) are just "reworded"."""
    if _is_long(c.before) or _is_long(c.after):
        return "reworded" if c.before and c.after else ("added" if c.after else "removed")
    before, after = " ".join(c.before.split()), " ".join(c.after.split())
    if not before:
        return after or "(empty)"
    if not after:
        return before if c.aspect == "evidence" else f"{before} → (none)"
    return f"{before} → {after}"


def headline(diffs: list[ClaimDiff], ref: str, total: int) -> str:
    counts = {s: sum(1 for d in diffs if d.status == s)
              for s in ("added", "removed", "changed", "unreadable")}
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    claims = f"{total} claim{'' if total == 1 else 's'}"
    if not diffs:
        return f"no claim changed since {ref} ({claims} now)"
    n = len(diffs)
    return f"{n} claim{' differs' if n == 1 else 's differ'} from {ref} ({claims} now): {parts}"


def format_text(diffs: list[ClaimDiff], ref: str, total: int) -> str:
    lines = [headline(diffs, ref, total)]
    for d in diffs:
        lines.append(f"{d.id} ({d.status}): {d.title}")
        for c in d.changes:
            lines.append(f"    {c.field}: {_text_words(c) if _has_word_diff(c) else _arrow(c)}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(*cells: str) -> str:
    return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"


def format_markdown(diffs: list[ClaimDiff], ref: str, total: int) -> str:
    """A pull-request comment: a heading, the count, then one table row per change."""
    lines = [f"### Claims changed since `{ref}`", "", headline(diffs, ref, total) + "."]
    if not diffs:
        return "\n".join(lines) + "\n"
    lines += ["", "| Claim | Status | What changed | Before | After |",
              "| --- | --- | --- | --- | --- |"]
    for d in diffs:
        first = f"`{d.id}`: {_cell(d.title)}"
        if not d.changes:
            lines.append(_row(first, d.status, "", "", ""))
        for i, c in enumerate(d.changes):
            if _has_word_diff(c):
                before, after = _markdown_words(c)
            elif _is_long(c.before) or _is_long(c.after):
                before, after = ("(long text)" if c.before else "", _arrow(c))
            else:
                before, after = _cell(c.before), _cell(c.after)
            lines.append(_row(first if i == 0 else "", d.status if i == 0 else "",
                              _cell(c.field), before, after))
    return "\n".join(lines) + "\n"
