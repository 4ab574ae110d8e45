"""The participant count of a claim (``ldn_site.participants``), as a table of cases: which
sources count, how shared participants are counted once, and how each split is labelled.
Sources are built from the model directly; what they look like as files is covered by
tests/test_claim_framing.py.
"""

from __future__ import annotations

import pytest

from ldn_site import vocabulary as v
from ldn_site.model import Excerpt, Source
from ldn_site.participants import count_participants
from ldn_site.views.claim import participants_view


def study(kind="randomized-trial", n=None, population=None, dose=None, register=None,
          same=None) -> Source:
    return Source(kind=kind, excerpts=[Excerpt("abstract", "Text.", "Abstract")], n=n,
                  population_group=population, dose_group=dose, register=register,
                  same_participants_as=same)


SOURCES = {
    "rct": study(n=99, population="fibromyalgia", dose="low"),
    "crossover": study("crossover-trial", n=58, population="fibromyalgia", dose="low"),
    "secondary": study("mechanistic-study", n=92, population="fibromyalgia", dose="low",
                       same="rct"),
    "pilot": study("non-randomized-trial", n=10, population="fibromyalgia", dose="low"),
    "addiction": study("non-randomized-trial", n=865, population="other", dose="standard"),
    "register": study("cohort-study", n=15297, dose="low", register=True),
    "chart": study("retrospective-study", n=115, population="mixed", dose="low"),
    "imaging": study("mechanistic-study", n=58, population="mixed", dose="none"),
    "no-number": study("open-label-study", population="fibromyalgia", dose="low"),
    "unclassified": study("case-report", n=1),
    "review": study("systematic-review-rcts", n=11194),
    "pooled": study("systematic-review-rcts", n=222),
    "registration": study("trial-registration", n=53),
    "news": study("news-report", n=28),
    "label": study("drug-label"),
    "animals": study("preclinical", n=40),
    "article": study("popular-article", n=1000),
}

# (keys of a claim's evidence, total, studies, unreported, by design, by population, by dose),
# each split as (value, n) pairs in the order they are shown.
CASES = [
    (["review", "pooled", "registration", "news", "label", "animals", "article"],
     None, None, None, None, None, None),
    (["rct"], 99, 1, (), [("randomized", 99)], [("fibromyalgia", 99)], [("low", 99)]),
    # A review's pooled total is never added on top of its trials.
    (["rct", "crossover", "pooled"], 157, 2, (),
     [("randomized", 157)], [("fibromyalgia", 157)], [("low", 157)]),
    # A later report on the same participants counts once, as the trial's.
    (["rct", "secondary"], 99, 1, (), [("randomized", 99)], [("fibromyalgia", 99)],
     [("low", 99)]),
    # ...also when the trial itself is not among the claim's evidence.
    (["secondary"], 99, 1, (), [("randomized", 99)], [("fibromyalgia", 99)], [("low", 99)]),
    # The same source listed twice is one study.
    (["rct", "rct"], 99, 1, (), [("randomized", 99)], [("fibromyalgia", 99)], [("low", 99)]),
    # A register overrides the design its kind gives; an unknown population is not guessed.
    (["register", "rct"], 15396, 2, (), [("randomized", 99), ("register", 15297)],
     [("fibromyalgia", 99), ("not-classified", 15297)], [("low", 15396)]),
    # Parts come in the vocabulary's order, whatever the order of the evidence.
    (["imaging", "chart", "addiction", "pilot", "crossover"], 1106, 5, (),
     [("randomized", 58), ("non-randomized", 875), ("observational", 115),
      ("laboratory", 58)],
     [("fibromyalgia", 68), ("other", 865), ("mixed", 173)],
     [("low", 183), ("standard", 865), ("none", 58)]),
    # A primary study without a number is named, not counted as zero people.
    (["no-number", "pilot"], 10, 2, ("no-number",), [("non-randomized", 10)],
     [("fibromyalgia", 10)], [("low", 10)]),
    (["no-number"], 0, 1, ("no-number",), [], [], []),
    # A study whose record says nothing of its people or dose is "not classified" in both.
    (["unclassified"], 1, 1, (), [("observational", 1)], [("not-classified", 1)],
     [("not-classified", 1)]),
    # Keys without a record are left to validation, never a crash.
    (["missing", "rct"], 99, 1, (), [("randomized", 99)], [("fibromyalgia", 99)],
     [("low", 99)]),
]


@pytest.mark.parametrize("keys, total, studies, unreported, design, population, dose", CASES)
def test_count_participants(keys, total, studies, unreported, design, population, dose):
    count = count_participants(keys, SOURCES)
    if total is None:
        assert count is None
        return
    assert (count.total, count.studies, count.unreported) == (total, studies, unreported)
    assert [(p.value, p.n) for p in count.by_design] == design
    assert [(p.value, p.n) for p in count.by_population] == population
    assert [(p.value, p.n) for p in count.by_dose] == dose


def test_every_part_is_labelled_from_the_vocabulary():
    count = count_participants(["register", "imaging", "addiction"], SOURCES)
    labels = {term.value: term.label for terms in (v.DESIGN_GROUPS, v.POPULATION_GROUPS,
                                                   v.DOSE_GROUPS) for term in terms}
    labels[v.NOT_CLASSIFIED.value] = "not classified"
    for part in (*count.by_design, *count.by_population, *count.by_dose):
        assert part.label == labels[part.value]


def test_every_source_kind_is_either_counted_or_explicitly_not():
    """A new kind of source must be placed: its participants counted under a design, or
    listed as never counted. Otherwise its people would silently vanish from the counts."""
    kinds = {k.value for k in v.KINDS}
    counted, never = set(v.PARTICIPANT_DESIGNS), set(v.NO_PARTICIPANT_KINDS)
    assert counted.isdisjoint(never)
    assert counted | never == kinds
    assert set(v.PARTICIPANT_DESIGNS.values()) <= set(v.values(v.DESIGN_GROUPS))


@pytest.mark.parametrize("keys, summary", [
    (["unclassified"], "1 participant in 1 primary study"),
    (["pilot"], "10 participants in 1 primary study"),
    (["register", "rct"], "15,396 participants in 2 primary studies"),
])
def test_the_count_reads_in_words(keys, summary):
    assert participants_view(count_participants(keys, SOURCES), None)["summary"] == summary
