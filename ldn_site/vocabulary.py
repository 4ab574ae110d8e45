"""The project's controlled vocabularies and GRADE rules, as data.

Owns every fixed list a contributor picks from (topics, verdicts, source kinds, evidence
directions, GRADE domains and their ratings) together with the plain-language explanation of
each. The validator, the grader, the JSON Schema and the methodology page are all generated
from these definitions, so the rules that are enforced and the rules that are published cannot
drift apart. Pure data: no I/O, no logic beyond lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

# Certainty levels, lowest first; the index is the numeric level used by the grader.
CERTAINTY_LEVELS = ("very-low", "low", "moderate", "high")
CERTAINTY_LABELS = {"very-low": "Very low", "low": "Low", "moderate": "Moderate", "high": "High"}
# Symbols follow the GRADE convention of filled circles, so certainty never relies on colour.
CERTAINTY_SYMBOLS = {"very-low": "●○○○", "low": "●●○○", "moderate": "●●●○", "high": "●●●●"}
CERTAINTY_MEANINGS = {
    "high": "We are very confident that the true effect lies close to what the evidence shows.",
    "moderate": "We are moderately confident: the true effect is probably close to what the "
                "evidence shows, but it could be substantially different.",
    "low": "Our confidence is limited: the true effect may be substantially different from what "
           "the evidence shows.",
    "very-low": "We have very little confidence: the true effect is likely to be substantially "
                "different from what the evidence shows.",
}


@dataclass(frozen=True)
class Term:
    """One entry of a controlled vocabulary: the value written in YAML, a label and a meaning."""

    value: str
    label: str
    meaning: str
    symbol: str = ""


TOPICS = (
    Term("efficacy", "Efficacy", "Whether LDN improves fibromyalgia symptoms such as pain, "
         "fatigue, sleep or quality of life, and by how much."),
    Term("dose", "Dose", "The dose of LDN: how much is taken, when, and for how long, in "
         "studies and in practice."),
    Term("mechanism", "Mechanism", "How LDN is proposed to work in the body, and how well each "
         "proposed pathway is supported."),
    Term("side-effects", "Side effects", "Unwanted effects reported with LDN and how often they "
         "occur compared with placebo."),
    Term("safety", "Safety", "Risks, interactions and situations in which LDN is not suitable, "
         "such as use with opioid painkillers."),
    Term("pharmacology", "Pharmacology and history", "What naltrexone is, how it is approved "
         "and regulated, and how the body handles it."),
    Term("context", "Fibromyalgia and access", "Facts about fibromyalgia itself, other "
         "conditions, treatment guidelines, cost and access that the articles rely on."),
)

VERDICTS = (
    Term("supported", "Supported", "The claim agrees with the best available evidence.", "✔"),
    Term("mixed", "Mixed", "Part of the claim agrees with the evidence and part does not, or the "
         "studies disagree with one another.", "◐"),
    Term("unsupported", "Unsupported", "There is not enough evidence to back the claim; it may "
         "be true, but it has not been shown.", "?"),
    Term("refuted", "Refuted", "The best available evidence contradicts the claim.", "✘"),
)

DIRECTIONS = (
    Term("supports", "Supports", "The study's result agrees with the claim.", "↑"),
    Term("contradicts", "Contradicts", "The study's result goes against the claim.", "↓"),
    Term("mixed", "Mixed", "Some results agree with the claim and some do not.", "↕"),
    Term("inconclusive", "Inconclusive", "The study cannot tell either way.", "–"),
)


@dataclass(frozen=True)
class Kind:
    """A kind of source, with the GRADE starting level its evidence gives (None: not evidence)."""

    value: str
    label: str
    start: str | None
    meaning: str
    randomized: bool = False
    document: bool = False  # evidence of what a document itself states, not a study


KINDS = (
    Kind("randomized-trial", "Randomized controlled trial", "high",
         "Participants are assigned by chance to LDN or a comparison such as placebo.", True),
    Kind("crossover-trial", "Randomized crossover trial", "high",
         "Each participant receives LDN and placebo in random order, so each acts as their own "
         "control.", True),
    Kind("systematic-review-rcts", "Systematic review of randomized trials", "high",
         "A structured search and synthesis (often a meta-analysis) of randomized trials.", True),
    Kind("drug-label", "Drug label", "high",
         "The official prescribing information; high for claims about what the label states.", document=True),
    Kind("regulatory-document", "Regulatory document", "high",
         "A document from a medicines regulator; high for claims about regulatory decisions.", document=True),
    Kind("trial-registration", "Trial registration", "high",
         "A public registry record of a trial; high for claims about how the trial was planned.", document=True),
    Kind("guideline", "Clinical guideline", "high",
         "A professional body's recommendations; high for claims about what they recommend.", document=True),
    Kind("reference-work", "Reference work", "high",
         "An authoritative reference such as a drug database; high for the facts it records.", document=True),
    Kind("news-report", "News report", "high",
         "Contemporary reporting; used only for claims about events and statements, such as when "
         "something was announced.", document=True),
    Kind("non-randomized-trial", "Non-randomized controlled study", "low",
         "A study with a comparison, but without random assignment (for example a placebo "
         "lead-in followed by the drug)."),
    Kind("open-label-study", "Open-label study", "low",
         "Everyone knows they receive the drug and there is no placebo comparison."),
    Kind("cohort-study", "Cohort study", "low", "An observational study that follows people over "
         "time."),
    Kind("retrospective-study", "Retrospective review", "low",
         "A look back at existing medical records, without a control group chosen in advance."),
    Kind("cross-sectional-study", "Cross-sectional study", "low",
         "An observational snapshot of a group at one point in time."),
    Kind("case-series", "Case series", "low", "A report on a group of treated patients without a "
         "comparison group."),
    Kind("systematic-review", "Systematic review (mixed designs)", "low",
         "A structured review that includes non-randomized studies or synthesises narratively."),
    Kind("mechanistic-study", "Mechanistic study in humans", "low",
         "Laboratory, imaging or biomarker measurements in people that probe how something works."),
    Kind("preclinical", "Preclinical study", "low",
         "Animal or cell experiments; usually rated down further for indirectness, because they "
         "are not about people with fibromyalgia."),
    Kind("case-report", "Case report", "very-low", "A description of a single patient."),
    Kind("narrative-review", "Narrative review", "very-low",
         "An expert overview without a systematic search; it reflects its authors' reading of "
         "the evidence."),
    Kind("popular-article", "Popular article", None,
         "A web article under review. It is never evidence: it is what the site checks."),
)
KINDS_BY_VALUE = {k.value: k for k in KINDS}
DOCUMENT_KINDS = frozenset(k.value for k in KINDS if k.document)

# GRADE domains. ``change`` maps each rating to the number of levels it moves the certainty.
@dataclass(frozen=True)
class Domain:
    key: str
    label: str
    direction: str  # "down" or "up"
    ratings: tuple[tuple[str, int], ...]
    meaning: str


DOMAINS = (
    Domain("risk_of_bias", "Risk of bias", "down",
           (("not-serious", 0), ("serious", -1), ("very-serious", -2)),
           "Flaws in how the studies were designed or run (for example poor blinding, many "
           "drop-outs) that could make results look better or worse than they are."),
    Domain("inconsistency", "Inconsistency", "down",
           (("not-serious", 0), ("serious", -1), ("very-serious", -2)),
           "The studies disagree with one another more than chance would explain."),
    Domain("indirectness", "Indirectness", "down",
           (("not-serious", 0), ("serious", -1), ("very-serious", -2)),
           "The studies looked at different people, doses, comparisons or outcomes from the ones "
           "the claim is about."),
    Domain("imprecision", "Imprecision", "down",
           (("not-serious", 0), ("serious", -1), ("very-serious", -2)),
           "The studies are small, or the range of plausible effects is wide enough to include "
           "both benefit and no benefit."),
    Domain("publication_bias", "Publication bias", "down",
           (("not-serious", 0), ("serious", -1), ("very-serious", -2)),
           "Studies with disappointing results may be missing from the published record."),
    Domain("large_effect", "Large effect", "up",
           (("none", 0), ("large", 1), ("very-large", 2)),
           "The effect is so large that bias alone is unlikely to explain it."),
    Domain("dose_response", "Dose–response gradient", "up", (("none", 0), ("present", 1)),
           "Larger doses or exposures give larger effects."),
    Domain("plausible_confounding", "Plausible confounding", "up", (("none", 0), ("present", 1)),
           "Any remaining bias would most likely have made the effect look smaller, not larger."),
)
DOMAINS_BY_KEY = {d.key: d for d in DOMAINS}
RATING_LABELS = {
    "not-serious": "Not serious", "serious": "Serious", "very-serious": "Very serious",
    "none": "None", "large": "Large", "very-large": "Very large", "present": "Present",
}

EFFECT_MEASURES = (
    Term("SMD", "Standardized mean difference", "Difference between groups in units of standard "
         "deviation; 0 means no difference."),
    Term("MD", "Mean difference", "Difference between group averages on the outcome's own scale; "
         "0 means no difference."),
    Term("RR", "Risk ratio", "How many times more likely an outcome is with LDN; 1 means no "
         "difference."),
    Term("OR", "Odds ratio", "Ratio of the odds of an outcome; 1 means no difference."),
    Term("HR", "Hazard ratio", "Ratio of event rates over time; 1 means no difference."),
    Term("RD", "Risk difference", "Difference in the proportion with an outcome; 0 means no "
         "difference."),
)
RATIO_MEASURES = frozenset({"RR", "OR", "HR"})

MECHANISM_STATUSES = (
    Term("established", "Established", "Shown directly in people and widely accepted."),
    Term("hypothesis", "Hypothesis", "Plausible and partly tested, but not shown in people with "
         "fibromyalgia."),
    Term("speculative", "Speculative", "Proposed without direct supporting evidence."),
)

ROB_JUDGEMENTS = (
    Term("low", "Low risk", "Unlikely to have biased the result.", "+"),
    Term("some-concerns", "Some concerns", "Could have biased the result.", "?"),
    Term("high", "High risk", "Likely to have biased the result.", "−"),
)
ROB_DOMAINS = (
    ("randomization", "Randomization process"),
    ("deviations", "Deviations from intended interventions"),
    ("missing_data", "Missing outcome data"),
    ("measurement", "Measurement of the outcome"),
    ("reporting", "Selection of the reported result"),
    ("overall", "Overall"),
)


def values(terms) -> tuple[str, ...]:
    return tuple(t.value for t in terms)


def term(terms, value: str) -> Term:
    for t in terms:
        if t.value == value:
            return t
    raise KeyError(value)
