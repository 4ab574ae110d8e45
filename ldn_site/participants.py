"""Participants: how many people the studies behind a claim enrolled, each counted once.

Owns the rules of a claim's participant count. Only primary studies of people count (the kinds
in ``vocabulary.PARTICIPANT_DESIGNS``): a review's pooled total, a document, a news report, a
popular article or an animal study never does, because its people are already counted in the
trials or are not people at all. A source that reports on participants reported elsewhere
(``same_participants_as``) is counted once, under the source it points to. The total is split
by design, by population and by the naltrexone dose studied; a study whose record does not say
is counted as not classified, never guessed. Pure: takes sources, returns numbers and labels;
it reads, writes and words nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from ldn_site import vocabulary as v
from ldn_site.model import Source


@dataclass(frozen=True)
class Part:
    """One labelled part of a split: how many participants fall in one group."""

    value: str
    label: str
    n: int


@dataclass(frozen=True)
class Count:
    total: int
    studies: int                   # primary studies counted, those without a number included
    unreported: tuple[str, ...]    # keys of the primary studies that give no number
    by_design: tuple[Part, ...]
    by_population: tuple[Part, ...]
    by_dose: tuple[Part, ...]


def count_participants(keys, sources: dict[str, Source]) -> Count | None:
    """The participants of the primary studies among ``keys`` (BibTeX keys of a claim's
    evidence), each study once; None when none of them is a primary study of people."""
    studies: dict[str, Source] = {}
    for key in sorted(set(keys)):
        source = sources.get(key)
        if source is None:
            continue
        root = source.same_participants_as or key
        counted = sources.get(root, source)
        if counted.kind in v.PARTICIPANT_DESIGNS:
            studies.setdefault(root, counted)
    if not studies:
        return None
    design, population, dose = {}, {}, {}
    total = 0
    unreported = []
    for key, source in studies.items():
        if source.n is None:
            unreported.append(key)
            continue
        total += source.n
        group = "register" if source.register else v.PARTICIPANT_DESIGNS[source.kind]
        for split, value in ((design, group), (population, source.population_group),
                             (dose, source.dose_group)):
            value = value or v.NOT_CLASSIFIED.value
            split[value] = split.get(value, 0) + source.n
    return Count(total, len(studies), tuple(unreported), list_parts(design, v.DESIGN_GROUPS),
                 list_parts(population, v.POPULATION_GROUPS), list_parts(dose, v.DOSE_GROUPS))


def list_parts(split: dict[str, int], terms) -> tuple[Part, ...]:
    """The non-empty parts of a split, in the vocabulary's order, "not classified" last."""
    return tuple(Part(t.value, t.label, split[t.value])
                 for t in (*terms, v.NOT_CLASSIFIED) if split.get(t.value))
