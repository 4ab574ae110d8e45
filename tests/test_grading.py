"""GRADE rules as tables, calling ``ldn_site.grading.grade_claim`` directly on model objects.

Each row names the kinds of the claim's sources and its domain judgements, and the starting
level, final certainty and diagnostic codes the grader must produce.
"""

from __future__ import annotations

import pytest

from ldn_site import vocabulary as v
from ldn_site.grading import grade_claim, starting_level
from ldn_site.model import (Claim, Downgrade, EvidenceItem, Excerpt, Grading, LargeEffect,
                            Review, Source, Upgrade)

R = "a reason"  # any non-empty reason
DOMAIN_CLASS = {"large_effect": LargeEffect, "dose_response": Upgrade,
                "plausible_confounding": Upgrade}
JUDGEMENT_LINE = {d.key: 20 + i for i, d in enumerate(v.DOMAINS)}


def make_case(kinds: list[str], judgements: dict[str, tuple[str, str | None]]):
    """A claim citing one source of each kind (keys s1, s2, ...) with these judgements."""
    sources = {f"s{i}": Source(kind=kind, excerpts=[Excerpt("e", "text", "here")], key=f"s{i}")
               for i, kind in enumerate(kinds, 1)}
    grading = Grading(line=19, **{
        key: DOMAIN_CLASS.get(key, Downgrade)(rating, reason, line=JUDGEMENT_LINE[key])
        for key, (rating, reason) in judgements.items()})
    claim = Claim(title="t", statement="s", topic="efficacy", verdict="mixed",
                  evidence=[EvidenceItem(key, "finding", "supports") for key in sources],
                  grading=grading, summary="s", reviewed=Review("2026-01-01", "r"),
                  id="c", path="claims/c.yaml", line=1)
    return claim, sources


# (id, source kinds, judgements, starting level, certainty, diagnostic codes)
CASES = [
    # --- starting levels per source kind ---
    ("randomized-high", ["randomized-trial"], {}, "high", "high", []),
    ("crossover-high", ["crossover-trial"], {}, "high", "high", []),
    ("review-of-rcts-high", ["systematic-review-rcts"], {}, "high", "high", []),
    # (a document at the start makes the evidence indirect: see the cases further down)
    ("drug-label-high", ["drug-label"], {"indirectness": ("serious", R)}, "high", "moderate",
     []),
    ("registration-high", ["trial-registration"], {"indirectness": ("serious", R)}, "high",
     "moderate", []),
    ("non-randomized-low", ["non-randomized-trial"], {}, "low", "low", []),
    ("open-label-low", ["open-label-study"], {}, "low", "low", []),
    ("cohort-low", ["cohort-study"], {}, "low", "low", []),
    ("mixed-review-low", ["systematic-review"], {}, "low", "low", []),
    ("preclinical-low", ["preclinical"], {}, "low", "low", []),
    ("narrative-review-very-low", ["narrative-review"], {}, "very-low", "very-low", []),
    ("case-report-very-low", ["case-report"], {}, "very-low", "very-low", []),
    # --- mixed evidence starts at the highest level any of it gives ---
    ("mixed-takes-highest", ["narrative-review", "open-label-study", "randomized-trial"], {},
     "high", "high", []),
    ("mixed-low-and-very-low", ["case-report", "cohort-study"], {}, "low", "low", []),
    ("article-is-ignored", ["popular-article", "open-label-study"], {}, "low", "low", []),
    # --- downgrades: one level, two levels, several, and the floor ---
    ("one-level-down", ["randomized-trial"], {"imprecision": ("serious", R)},
     "high", "moderate", []),
    ("two-levels-down", ["randomized-trial"], {"risk_of_bias": ("very-serious", R)},
     "high", "low", []),
    ("several-downgrades", ["randomized-trial"],
     {"risk_of_bias": ("serious", R), "indirectness": ("serious", R),
      "imprecision": ("serious", R)}, "high", "very-low", []),
    ("every-domain-down", ["systematic-review-rcts"],
     {"risk_of_bias": ("serious", R), "inconsistency": ("serious", R),
      "indirectness": ("serious", R), "imprecision": ("serious", R),
      "publication_bias": ("serious", R)}, "high", "very-low", []),
    ("floor-at-very-low", ["open-label-study"],
     {"risk_of_bias": ("very-serious", R), "imprecision": ("very-serious", R)},
     "low", "very-low", []),
    ("floor-from-very-low", ["narrative-review"], {"indirectness": ("serious", R)},
     "very-low", "very-low", []),
    ("not-serious-changes-nothing", ["randomized-trial"],
     {"risk_of_bias": ("not-serious", None), "publication_bias": ("not-serious", R)},
     "high", "high", []),
    # --- upgrades, for evidence that starts low or very low ---
    ("large-effect-up-one", ["open-label-study"], {"large_effect": ("large", R)},
     "low", "moderate", []),
    ("very-large-effect-up-two", ["open-label-study"], {"large_effect": ("very-large", R)},
     "low", "high", []),
    ("dose-response-up-one", ["cohort-study"], {"dose_response": ("present", R)},
     "low", "moderate", []),
    ("confounding-up-one", ["cohort-study"], {"plausible_confounding": ("present", R)},
     "low", "moderate", []),
    ("upgrade-from-very-low", ["case-report"], {"large_effect": ("large", R)},
     "very-low", "low", []),
    ("upgrades-capped-at-high", ["open-label-study"],
     {"large_effect": ("very-large", R), "dose_response": ("present", R),
      "plausible_confounding": ("present", R)}, "low", "high", []),
    ("down-then-up", ["open-label-study"],
     {"risk_of_bias": ("serious", R), "large_effect": ("large", R)}, "low", "low", []),
    ("none-changes-nothing", ["open-label-study"], {"large_effect": ("none", None)},
     "low", "low", []),
    # --- rule violations ---
    ("upgrade-on-randomized", ["randomized-trial"], {"large_effect": ("large", R)},
     "high", "high", ["invalid-upgrade"]),
    ("upgrade-on-high-documentary", ["drug-label"],
     {"dose_response": ("present", R), "indirectness": ("serious", R)},
     "high", "high", ["invalid-upgrade"]),
    # --- a document sets the start only with indirectness rated down ---
    ("document-start-rated-indirect", ["drug-label"], {"indirectness": ("serious", R)},
     "high", "moderate", []),
    ("document-start-very-indirect", ["news-report"], {"indirectness": ("very-serious", R)},
     "high", "low", []),
    ("document-start-not-indirect", ["drug-label"], {}, "high", "high",
     ["document-not-indirect"]),
    ("document-start-indirectness-not-serious", ["guideline"],
     {"indirectness": ("not-serious", None)}, "high", "high", ["document-not-indirect"]),
    ("document-beside-a-trial-is-not-the-start", ["drug-label", "randomized-trial"], {},
     "high", "high", []),
    ("upgrade-on-mixed-with-rct", ["open-label-study", "randomized-trial"],
     {"plausible_confounding": ("present", R)}, "high", "high", ["invalid-upgrade"]),
    ("downgrade-without-reason", ["randomized-trial"], {"imprecision": ("serious", None)},
     "high", "moderate", ["missing-reason"]),
    ("blank-reason", ["randomized-trial"], {"inconsistency": ("very-serious", "  \n")},
     "high", "low", ["missing-reason"]),
    ("upgrade-without-reason", ["open-label-study"], {"dose_response": ("present", None)},
     "low", "moderate", ["missing-reason"]),
    ("two-reasons-missing", ["randomized-trial"],
     {"risk_of_bias": ("serious", None), "imprecision": ("serious", "")},
     "high", "low", ["missing-reason", "missing-reason"]),
]


@pytest.mark.parametrize("kinds, judgements, start, certainty, codes",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_grade(kinds, judgements, start, certainty, codes):
    claim, sources = make_case(kinds, judgements)
    grade, diags = grade_claim(claim, sources)
    assert (grade.start, grade.certainty) == (start, certainty)
    assert [d.code for d in diags] == codes
    for d in diags:
        assert d.severity == "error" and d.path == "claims/c.yaml"
        # At the judgement at fault, or at the grading block when it is missing.
        assert (d.line in JUDGEMENT_LINE.values()
                or (d.line, d.code) == (19, "document-not-indirect"))


def test_only_popular_articles_cannot_be_graded():
    claim, sources = make_case(["popular-article", "popular-article"], {})
    grade, diags = grade_claim(claim, sources)
    assert grade is None
    assert [(d.path, d.line, d.code, d.message) for d in diags] == [
        ("claims/c.yaml", 19, "ungradable-evidence",
         "none of the claim's evidence is of a kind that can be graded (popular articles are "
         "never evidence)")]


def test_diagnostics_point_at_the_judgement_and_name_it():
    claim, sources = make_case(["randomized-trial"], {"imprecision": ("serious", None),
                                                       "large_effect": ("large", R)})
    _, diags = grade_claim(claim, sources)
    assert [(d.line, d.code, d.message) for d in diags] == [
        (JUDGEMENT_LINE["imprecision"], "missing-reason",
         "grading.imprecision is rated 'serious', which changes the certainty, so it needs a "
         "reason"),
        (JUDGEMENT_LINE["large_effect"], "invalid-upgrade",
         "grading.large_effect: upgrades apply only to evidence that starts at low or very "
         "low; this claim starts at high"),
    ]


def test_the_derivation_lists_every_domain_in_order():
    claim, sources = make_case(["open-label-study", "randomized-trial", "randomized-trial"],
                               {"risk_of_bias": ("serious", "Unblinded."),
                                "imprecision": ("very-serious", "Tiny.")})
    grade, diags = grade_claim(claim, sources)
    assert diags == []
    assert grade.start_kind == "randomized-trial"
    assert grade.start_sources == ("s2", "s3")
    assert [(s.domain, s.rating, s.change, s.reason, s.level_after) for s in grade.steps] == [
        ("risk_of_bias", "serious", -1, "Unblinded.", "moderate"),
        ("inconsistency", "not-serious", 0, None, "moderate"),
        ("indirectness", "not-serious", 0, None, "moderate"),
        ("imprecision", "very-serious", -2, "Tiny.", "very-low"),
        ("publication_bias", "not-serious", 0, None, "very-low"),
        ("large_effect", "none", 0, None, "very-low"),
        ("dose_response", "none", 0, None, "very-low"),
        ("plausible_confounding", "none", 0, None, "very-low"),
    ]
    assert grade.certainty == "very-low"


@pytest.mark.parametrize("kind", [k.value for k in v.KINDS])
def test_every_kind_starts_where_the_content_format_says(kind):
    """The starting levels as published in the README and on the methodology page."""
    documented = {
        "high": {"randomized-trial", "crossover-trial", "systematic-review-rcts", "drug-label",
                 "regulatory-document", "trial-registration", "trial-protocol", "guideline",
                 "reference-work", "news-report"},
        "low": {"non-randomized-trial", "uncontrolled-trial", "open-label-study", "cohort-study",
                "retrospective-study", "cross-sectional-study", "case-series",
                "systematic-review", "mechanistic-study", "preclinical"},
        "very-low": {"case-report", "narrative-review", "opinion"},
        None: {"popular-article"},
    }
    expected = next(level for level, kinds in documented.items() if kind in kinds)
    assert starting_level([kind]) == ((expected, kind) if expected else (None, None))
