"""Grading: computes a claim's GRADE certainty from its evidence and domain judgements.

Owns the rules: the starting level comes from the designs of the sources the claim rests on
(see ``vocabulary.KINDS``; a source whose journal or DOI is unverified never sets it, and a
document that sets it makes the evidence indirect), each
of the five GRADE domains may lower it by one or two levels, the three upgrade domains may
raise evidence that starts low, the result is clamped between very low and high, and every
step that changes the level must carry a reason. Pure: takes a claim and its sources, returns
the derivation and any diagnostics; it reads and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ldn_site import vocabulary as v
from ldn_site.diagnostics import Diagnostic, error
from ldn_site.model import Claim, Source

LEVELS = v.CERTAINTY_LEVELS
HIGHEST = len(LEVELS) - 1


@dataclass(frozen=True)
class Step:
    """One domain's judgement and its effect on the level."""

    domain: str
    label: str
    rating: str
    change: int
    reason: str | None
    level_after: str


@dataclass(frozen=True)
class Grade:
    start: str
    start_kind: str            # the source kind that set the starting level
    start_sources: tuple[str, ...]  # the bibkeys of that kind
    steps: tuple[Step, ...]    # every domain, in the published order
    certainty: str


def starting_level(kinds: list[str]) -> tuple[str | None, str | None]:
    """The highest starting level any of the given source kinds gives, and the kind giving it.
    Ties between kinds with the same level are broken by the order of ``vocabulary.KINDS``."""
    best: tuple[int, int] | None = None
    best_kind = None
    order = {k.value: i for i, k in enumerate(v.KINDS)}
    for kind in set(kinds):
        start = v.KINDS_BY_VALUE[kind].start
        if start is None:
            continue
        rank = (LEVELS.index(start), -order[kind])
        if best is None or rank > best:
            best, best_kind = rank, kind
    if best is None:
        return None, None
    return LEVELS[best[0]], best_kind


def grade_claim(claim: Claim, sources: dict[str, Source]) -> tuple[Grade | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    cited = [item.source for item in claim.evidence if item.source in sources]
    # An unverified source may be a different paper from the one we think it is, so it is
    # shown but never weighed: it cannot lift the claim to its design's starting level.
    kinds_by_key = {key: sources[key].kind for key in cited if not sources[key].unverified}
    start, start_kind = starting_level(list(kinds_by_key.values()))
    # Located at the grading block when there is one (a factual claim may have none).
    at = claim.grading if claim.grading and claim.grading.line else claim
    if start is None and cited and not kinds_by_key:
        diags.append(error(claim.path, at.line, "unverified-evidence-only",
                           "every source of the claim's evidence has an unverified journal or "
                           "DOI, and an unverified source cannot set the starting certainty",
                           at.col))
        return None, diags
    if start is None:
        diags.append(error(claim.path, at.line, "ungradable-evidence",
                           "none of the claim's evidence is of a kind that can be graded "
                           "(popular articles are never evidence)", at.col))
        return None, diags
    level = LEVELS.index(start)
    steps = []
    for domain in v.DOMAINS:
        judgement = getattr(claim.grading, domain.key) if claim.grading else None
        rating = judgement.rating if judgement else domain.ratings[0][0]
        change = dict(domain.ratings)[rating]
        reason = judgement.reason if judgement else None
        if change and not (reason and reason.strip()):
            diags.append(error(claim.path, judgement.line, "missing-reason",
                               f"grading.{domain.key} is rated '{rating}', which changes the "
                               "certainty, so it needs a reason", judgement.col))
        if domain.direction == "up" and change and start not in ("low", "very-low"):
            diags.append(error(claim.path, judgement.line, "invalid-upgrade",
                               f"grading.{domain.key}: upgrades apply only to evidence that "
                               f"starts at low or very low; this claim starts at {start}",
                               judgement.col))
        level = min(HIGHEST, max(0, level + change))
        steps.append(Step(domain.key, domain.label, rating, change, reason, LEVELS[level]))
    start_sources = tuple(sorted(k for k, kind in kinds_by_key.items() if kind == start_kind))
    diags += _document_start_problems(claim, start_kind, start_sources, at)
    return Grade(start, start_kind, start_sources, tuple(steps), LEVELS[level]), diags


# Ratings of indirectness that lower the certainty.
_INDIRECT = frozenset(r for r, change in v.DOMAINS_BY_KEY["indirectness"].ratings if change)


def _document_start_problems(claim: Claim, start_kind: str, start_sources: tuple[str, ...],
                             at) -> list[Diagnostic]:
    """A document (a label, a regulator's decision, a guideline, a reference work, a protocol,
    a news report) starts high only for what it states itself. When it sets the starting
    level of an effect claim, the claim rests on a judgement rather than on the studies behind
    it, which the published method counts as indirect evidence: indirectness must be rated
    down, with the reason in the claim's words."""
    if claim.kind != "effect" or not v.KINDS_BY_VALUE[start_kind].document:
        return []  # a factual claim is settled by its authority's record, not graded
    judgement = claim.grading.indirectness if claim.grading else None
    if judgement is not None and judgement.rating in _INDIRECT:
        return []
    where = judgement if judgement is not None and judgement.line else at
    kind = v.KINDS_BY_VALUE[start_kind].label.lower()
    return [error(claim.path, where.line, "document-not-indirect",
                  f"the evidence starts at high only because of a {kind} "
                  f"({', '.join(start_sources)}), which states a judgement rather than the "
                  "studies behind it; rate grading.indirectness serious or very-serious with "
                  "a reason, or cite the studies themselves", where.col)]
