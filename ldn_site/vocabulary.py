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
    Term("side-effects", "Side effects", "Unwanted effects of naltrexone and how often they "
         "occur compared with placebo: at low doses where studies report them, otherwise at "
         "the standard dose."),
    Term("safety", "Safety", "Risks, interactions and situations in which LDN is not suitable, "
         "such as use with opioid painkillers."),
    Term("pharmacology", "Pharmacology and history", "What naltrexone is, how it is approved "
         "and regulated, and how the body handles it."),
    Term("context", "Fibromyalgia and access", "Facts about fibromyalgia itself, other "
         "conditions, treatment guidelines, cost and access that the articles rely on."),
)

VERDICTS = (
    Term("supported", "Supported", "The evidence that can settle the claim points the way the "
         "claim says, by at least the amount it claims (or by an amount that matters, if it "
         "names none), and no evidence of the same standing disagrees.", "✔"),
    Term("mixed", "Mixed", "One part of the claim holds and another does not (for example the "
         "direction is right but the claimed size is not), or the evidence that can settle it "
         "disagrees and neither risk of bias nor size explains why.", "◐"),
    Term("unsupported", "Unsupported", "Nothing can settle the claim yet: the only evidence is "
         "uncontrolled, indirect or anecdotal, or the trials are too few or too imprecise to "
         "tell. It may be true, but it has not been shown.", "?"),
    Term("refuted", "Refuted", "The evidence that can settle the claim points the other way: it "
         "finds no effect that matters where the claim says there is one, or the opposite "
         "effect, or the document of record says otherwise.", "✘"),
)

# How a verdict follows from the evidence: the steps a reviewer applies, in order. Published on
# the methodology page and in CONTRIBUTING.md, so readers can check each verdict against them.
VERDICT_RULE = (
    "Find the evidence that can settle the claim. For a claim about what LDN does, that is "
    "the randomized trials that measured the outcome the claim names, in the people it names. "
    "Where they disagree, the larger trials at lower risk of bias outweigh smaller trials at "
    "higher risk. A systematic review counts through the trials it pools, never on top of "
    "them: a pooled result that leans on trials at high risk of bias does not outweigh the "
    "trials at low risk. Non-randomized, uncontrolled, observational, mechanistic and "
    "laboratory studies settle a claim only where no such trials exist. For a claim about what "
    "a document says or when something happened, the document of record settles it.",
    "Read that evidence for direction and size. A claim that names a size (“30 percent”, "
    "“the best treatment”) is judged against that size; a claim without one, against an "
    "effect that matters to patients, as judged by the trial authors where they say so. "
    "Statistical significance alone is not a size that matters.",
    "Choose the verdict whose meaning above fits: supported, mixed, unsupported or refuted. "
    "A claim that joins two assertions with different evidence is split into two claims "
    "rather than called mixed.",
    "Grade the certainty separately. It says how sure we can be of that reading and does not "
    "change it, with one exception: evidence of very low certainty cannot settle a claim, so "
    "a claim resting only on such evidence is unsupported. A supported or refuted verdict at "
    "low certainty means that the better evidence points that way but new trials could "
    "overturn it; the claim's summary says so. Three pairs can look contradictory: refuted at "
    "low certainty (which may read as if the claim were nearly right), unsupported at "
    "moderate or high certainty, and mixed at high certainty. Where a claim has one of them, "
    "the plain reading beside its verdict says what the pair means.",
)

DIRECTIONS = (
    Term("supports", "Supports", "The study's result agrees with the claim.", "↑"),
    Term("contradicts", "Contradicts", "The study's result goes against the claim.", "↓"),
    Term("mixed", "Mixed", "Some results agree with the claim and some do not.", "↕"),
    Term("inconclusive", "Inconclusive", "The study cannot tell either way.", "–"),
)


# Two kinds of claim. An effect claim is weighed with GRADE; a factual claim is settled by the
# record of a named authority, so it gets no certainty scale at all (see DOCUMENTATION).
CLAIM_KINDS = (
    Term("effect", "Effect claim", "Whether something changes something else (does LDN ease "
         "pain, does naltrexone harm the liver); weighed with GRADE, so it has a certainty."),
    Term("factual", "Factual claim", "What a document states or what happened when (an "
         "approval date, what a label or register records); checked against the record of a "
         "named authority, with no GRADE certainty."),
)

# How a factual claim's verdict reads against its authority's record.
DOCUMENTATION = (
    Term("documented", "Documented", "The record of the named authority states this.", "▣"),
    Term("partly-documented", "Partly documented", "The record of the named authority states "
         "part of this, but not all of it.", "◪"),
    Term("not-documented", "Not documented", "The record of the named authority does not state "
         "this.", "□"),
    Term("contradicted", "Contradicted", "The record of the named authority states the "
         "opposite.", "⊠"),
)
DOCUMENTATION_BY_VERDICT = {"supported": "documented", "mixed": "partly-documented",
                            "unsupported": "not-documented", "refuted": "contradicted"}

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
    Kind("trial-protocol", "Published trial protocol", "high",
         "A trial's plan published before its results; high for claims about how the trial was "
         "designed, never evidence of what it found.", document=True),
    Kind("guideline", "Clinical guideline", "high",
         "A professional body's recommendations; high for claims about what they recommend.", document=True),
    Kind("reference-work", "Reference work", "high",
         "An authoritative reference such as a drug database; high for the facts it records.", document=True),
    Kind("news-report", "News report", "high",
         "Contemporary reporting; high for claims about events and statements, such as when "
         "something was announced. What it says of a study's results is second-hand: where a "
         "figure of a trial comes from such a report, because the paper itself could not be "
         "read, the trial's page says so.", document=True),
    Kind("non-randomized-trial", "Non-randomized controlled study", "low",
         "A study with a comparison, but without random assignment (for example a placebo "
         "lead-in followed by the drug)."),
    Kind("uncontrolled-trial", "Uncontrolled trial", "low",
         "A planned treatment study without a comparison group, such as a dose-finding study; "
         "participants may be blinded to the dose, but there is no placebo or other control."),
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
    Kind("opinion", "Opinion or advocacy material", "very-low",
         "An article, leaflet or statement giving a person's or an organisation's view, with no "
         "systematic look at the evidence; evidence only of what its authors say."),
    Kind("popular-article", "Popular article", None,
         "A web article under review. It is never evidence: it is what the site checks."),
)
KINDS_BY_VALUE = {k.value: k for k in KINDS}
DOCUMENT_KINDS = frozenset(k.value for k in KINDS if k.document)

# Who took part, for counting the participants a claim rests on. Only primary studies of people
# count; reviews, documents, news, popular articles and animal or cell studies do not, because
# their people are counted in the studies themselves or are not people at all.
DESIGN_GROUPS = (
    Term("randomized", "randomized trials", "Randomized trials, parallel or crossover."),
    Term("non-randomized", "non-randomized trials", "Trials without random assignment, such "
         "as open-label, single-blind or uncontrolled dose-finding studies."),
    Term("observational", "observational studies", "Cohort, cross-sectional and record "
         "studies, case series and case reports."),
    Term("register", "register studies", "Studies of routine-care registers, such as a "
         "national prescription database."),
    Term("laboratory", "laboratory studies", "Laboratory, imaging or biomarker studies in "
         "people."),
)
# The design group of each primary study kind; a source marked ``register`` counts as register.
PARTICIPANT_DESIGNS = {
    "randomized-trial": "randomized", "crossover-trial": "randomized",
    "non-randomized-trial": "non-randomized", "uncontrolled-trial": "non-randomized",
    "open-label-study": "non-randomized",
    "cohort-study": "observational", "retrospective-study": "observational",
    "cross-sectional-study": "observational", "case-series": "observational",
    "case-report": "observational", "mechanistic-study": "laboratory",
}
# The kinds whose participants are never counted (kept explicit, so that a new kind has to be
# placed in one list or the other; a test checks that every kind is).
NO_PARTICIPANT_KINDS = frozenset({
    "systematic-review-rcts", "systematic-review", "narrative-review", "drug-label",
    "regulatory-document", "trial-registration", "trial-protocol", "guideline",
    "reference-work", "news-report", "opinion", "preclinical", "popular-article",
})
# What a record does not say is shown as such, never guessed.
NOT_CLASSIFIED = Term("not-classified", "not classified", "The record does not say, so these "
                      "participants are not put in any group.")
POPULATION_GROUPS = (
    Term("fibromyalgia", "fibromyalgia", "Everyone in the study had fibromyalgia."),
    Term("other", "other conditions or healthy people", "People with other conditions, or "
         "healthy volunteers; none was reported as having fibromyalgia."),
    Term("mixed", "fibromyalgia and others together", "People with fibromyalgia studied "
         "together with people with other conditions or healthy controls."),
)
DOSE_GROUPS = (
    Term("low", "low-dose naltrexone", "Naltrexone at low doses, well below the 50 mg a "
         "day approved for addiction."),
    Term("standard", "standard-dose naltrexone", "Naltrexone at the 50 mg a day (or more) "
         "approved for addiction."),
    Term("none", "no naltrexone", "The study gave no naltrexone (for example a study "
         "of fibromyalgia itself)."),
)
# Publication details whose absence from every checked page makes a source "unverified": such
# a source is marked wherever it appears, is not plotted and cannot set a starting certainty.
UNVERIFIED_DETAILS = (
    Term("journal", "journal", "The journal it appeared in could not be confirmed."),
    Term("doi", "DOI", "Its DOI could not be confirmed."),
)

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
