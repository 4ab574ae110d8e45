"""Glossary: the evidence terms the site uses, their plain-language definitions, and the
linking of those terms where they appear in a page's prose.

Owns the list of terms (each with an anchor on the glossary page, a definition in the
project's own words, and the pattern that finds it in text), the mapping from source kinds to
the term that explains them, and ``TermLinker``, which links the first mention of each term on
a page to its definition. The effect measures and GRADE domains are not repeated here: their
definitions live in ``vocabulary`` and the glossary page shows them from there. Pure: strings
in, strings out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from ldn_site import vocabulary as v

GLOSSARY_URL = "glossary.html"


@dataclass(frozen=True)
class GlossaryTerm:
    anchor: str
    term: str
    definition: str
    pattern: str = ""   # regular expression (case-insensitive) that finds the term in prose
    see: str = ""       # an anchor of the methodology page with the site's rules for it


TERMS = (
    GlossaryTerm(
        "adverse-event", "Adverse event",
        "Any unwanted medical event that happens during a study, whether or not the treatment "
        "caused it. Comparing how often such events occur on the treatment and on placebo shows "
        "which of them the treatment itself may cause; those are its side effects.",
        r"adverse events?|side effects?"),
    GlossaryTerm(
        "certainty", "Certainty of evidence",
        "How confident we can be that the true effect is close to what the studies found. This "
        "site rates it high, moderate, low or very low, in words and with filled circles: "
        "●●●● high, ●●●○ moderate, ●●○○ low, ●○○○ very low.",
        r"certainty of (?:the )?evidence", "certainty"),
    GlossaryTerm(
        "ci", "Confidence interval (CI)",
        "The range of effects that fit the data reasonably well. A 95% confidence interval is "
        "built so that, across many repeated studies, 95% of such intervals would contain the "
        "true effect. A wide interval means an imprecise estimate. An interval that includes "
        "'no difference' (0 for a difference, 1 for a ratio) means the study cannot rule out "
        "that the treatment has no effect on that outcome.",
        r"confidence intervals?|95\s?% CI|\bCIs?\b"),
    GlossaryTerm(
        "clinically-relevant", "Clinically relevant difference",
        "A difference large enough for patients to notice or to matter in their lives. A "
        "result can be statistically significant and still be smaller than that.",
        r"clinically (?:relevant|important|meaningful)"),
    GlossaryTerm(
        "compounding", "Compounding",
        "The preparation of a medicine by a pharmacy for an individual patient, for example "
        "capsules of a strength that no licensed product provides.",
        r"compound(?:ed|ing)(?: pharmac(?:y|ies))?"),
    GlossaryTerm(
        "crossover-trial", "Crossover trial",
        "A trial in which each participant receives both the treatment and the comparison, "
        "one after the other in random order, often with a pause (a washout) in between. Each "
        "person acts as their own control, so fewer participants are needed, but an effect "
        "that carries over from one period into the next can blur the comparison.",
        r"cross-?over"),
    GlossaryTerm(
        "double-blind", "Double-blind",
        "Neither the participants nor the researchers who assess them know who receives the "
        "treatment and who receives the comparison, so that expectations cannot colour the "
        "results. In a single-blind study only one side does not know.",
        r"double-blind(?:ed)?|single-blind(?:ed)?"),
    GlossaryTerm(
        "fiqr", "Fibromyalgia Impact Questionnaire (FIQ, FIQR)",
        "A questionnaire, in an original and a revised version (FIQR), that measures how much "
        "fibromyalgia affects daily function, overall well-being and symptoms. A higher score "
        "means a greater impact.",
        r"\bFIQR?\b|Fibromyalgia Impact Questionnaire"),
    GlossaryTerm(
        "grade", "GRADE",
        "Grading of Recommendations, Assessment, Development and Evaluation: a widely used "
        "method for rating the certainty of a body of evidence. Evidence from randomized trials "
        "starts at high certainty and evidence from observational studies at low; the rating "
        "goes down for risk of bias, inconsistency, indirectness, imprecision or publication "
        "bias, and can go up for a large effect or a dose–response gradient.",
        r"\bGRADE\b", "starting-level"),
    GlossaryTerm(
        "ldn", "Low-dose naltrexone (LDN)",
        "Naltrexone taken at about 1 to 5 mg a day, most often 1.5 to 4.5 mg: roughly a tenth "
        "of the 50 mg daily dose used for opioid or alcohol dependence.",
        r"low[- ]dose naltrexone"),
    GlossaryTerm(
        "meta-analysis", "Meta-analysis",
        "A statistical method that combines the results of several studies into one overall "
        "estimate, usually as part of a systematic review. Its result can be no more reliable "
        "than the studies it combines.",
        r"meta-analys[ie]s"),
    GlossaryTerm(
        "n", "N (number of participants)",
        "How many people took part in a study, or were included in an analysis. Small studies "
        "give imprecise estimates.",
        ""),
    GlossaryTerm(
        "off-label", "Off-label use",
        "The use of a medicine for a condition, dose or group of patients that its approval "
        "does not cover. The medicines regulator has then not assessed the evidence for that "
        "use.",
        r"off-label"),
    GlossaryTerm(
        "open-label", "Open-label study",
        "A study in which participants and researchers know which treatment is given. "
        "Expectations can then influence the results, especially for symptoms such as pain "
        "and fatigue.",
        r"open-label"),
    GlossaryTerm(
        "parallel-group", "Parallel-group trial",
        "A trial in which each participant receives only one of the treatments being compared, "
        "and the groups are followed side by side.",
        r"parallel-group"),
    GlossaryTerm(
        "pilot-study", "Pilot study",
        "A small preliminary study that tests whether a larger one is feasible. Its results "
        "are uncertain and often not confirmed by larger studies.",
        r"pilot (?:study|trial)"),
    GlossaryTerm(
        "placebo", "Placebo",
        "An inactive look-alike of the treatment, such as a capsule without the drug. Giving "
        "it to a comparison group separates the effect of the drug from the effects of "
        "expectation and of taking part in a study.",
        r"placebos?(?:-controlled)?"),
    GlossaryTerm(
        "rct", "Randomized controlled trial (RCT)",
        "A study in which chance decides whether each participant receives the treatment under "
        "study or a comparison such as placebo. Chance assignment makes the groups alike in "
        "everything but the treatment, so a difference in outcomes can be attributed to it.",
        r"randomi[sz]ed(?: controlled)? trials?|\bRCTs?\b"),
    GlossaryTerm(
        "risk-of-bias", "Risk of bias",
        "The chance that flaws in how a study was designed or run have pushed its results away "
        "from the truth. This site appraises randomized trials with the Cochrane RoB 2 tool, "
        "which judges five domains as low risk, some concerns or high risk.",
        r"risk of bias|\bRoB ?2\b", "risk-of-bias"),
    GlossaryTerm(
        "significant", "Statistically significant",
        "A result is called statistically significant when it would be unlikely (by "
        "convention, less than 5% likely: p < 0.05) if there were truly no difference. It "
        "does not say how large or how important the difference is.",
        r"statistically significant|\bp ?(?:&lt;|=) ?0?\.\d+"),
    GlossaryTerm(
        "systematic-review", "Systematic review",
        "A review that looks for every study on a question with a method set out in advance, "
        "appraises the studies it finds and summarises their results. A narrative review, by "
        "contrast, reflects its authors' own selection and reading of the literature.",
        r"systematic (?:literature )?reviews?"),
)
TERMS_BY_ANCHOR = {t.anchor: t for t in TERMS}

# The term that explains each kind of source (the design column links to it).
KIND_TERMS = {
    "randomized-trial": "rct", "crossover-trial": "crossover-trial",
    "systematic-review-rcts": "systematic-review", "systematic-review": "systematic-review",
    "open-label-study": "open-label",
}
# Headings and labels of the site's own pages that are glossary terms.
HEADER_TERMS = {"N": "n", "Risk of bias": "risk-of-bias", "GRADE": "grade",
                "Certainty": "certainty", "95% CI": "ci"}


def term_url(anchor: str) -> str:
    return f"{GLOSSARY_URL}#{anchor}"


def kind_url(kind: str) -> str:
    """Where a reader learns what a kind of source is: its glossary term, or else its row of
    the methodology page's table of source kinds."""
    if kind in KIND_TERMS:
        return term_url(KIND_TERMS[kind])
    return f"methodology.html#kind-{kind}"


def glossary_entries() -> list[dict]:
    """Every glossary entry, alphabetical: the hand-written terms, the effect measures and
    the GRADE domains (whose definitions come from ``vocabulary``)."""
    entries = [{"anchor": t.anchor, "term": t.term, "definition": t.definition,
                "see": f"methodology.html#{t.see}" if t.see else ""} for t in TERMS]
    for m in v.EFFECT_MEASURES:
        entries.append({"anchor": f"measure-{m.value.lower()}",
                        "term": f"{m.label} ({m.value})", "definition": m.meaning,
                        "see": "methodology.html#measures"})
    for d in v.DOMAINS:
        entries.append({"anchor": f"domain-{d.key.replace('_', '-')}", "term": d.label,
                        "definition": d.meaning,
                        "see": "methodology.html#" + ("downgrades" if d.direction == "down"
                                                      else "upgrades")})
    return sorted(entries, key=lambda e: (e["term"].lower(), e["anchor"]))


_TAG = re.compile(r"(<[^>]+>)")


# Lower-case substrings of which every match of a term's pattern contains at least one: the
# expression runs only on text that holds one (most text holds none, and `in` is far faster).
TRIGGERS = {
    "adverse-event": ("adverse", "side effect"), "certainty": ("certainty",),
    "ci": ("confidence interval", "ci"), "clinically-relevant": ("clinically",),
    "compounding": ("compound",), "crossover-trial": ("crossover", "cross-over"),
    "double-blind": ("-blind",), "fiqr": ("fiq", "fibromyalgia impact"), "grade": ("grade",),
    "ldn": ("dose naltrexone",), "meta-analysis": ("meta-analys",), "off-label": ("off-label",),
    "open-label": ("open-label",), "parallel-group": ("parallel-group",),
    "pilot-study": ("pilot",), "placebo": ("placebo",), "rct": ("randomi", "rct"),
    "risk-of-bias": ("risk of bias", "rob"),
    "significant": ("significant", "p &lt;", "p&lt;", "p =", "p="),
    "systematic-review": ("systematic",),
}


class TermLinker:
    """Links the first mention of each glossary term in a page's prose to its definition.

    Works on the sanitized HTML that ``markup`` produces: it only touches text between tags,
    never inside a link, a heading or code, and links each term once per page (the linker is
    made anew for every page)."""

    _skip_tags = ("a", "code", "pre", "h3", "h4")
    # Shared by all pages of a build (same process): the expression for each combination of
    # terms. (Not the texts themselves: remembering every text of a large site would hold
    # all of its prose in memory once more, in every process.)
    _patterns: dict[tuple[int, ...], re.Pattern] = {}

    def __init__(self, root: str):
        self.root = root
        self.seen: set[str] = set()

    def __call__(self, html: str) -> str:
        return self._link_text(html) if html else html

    def _link_text(self, html: str) -> str:
        out = []
        skip = 0
        for part in _TAG.split(str(html)):
            if part.startswith("<"):
                name = part[1:].split(None, 1)[0].rstrip(">/").lower() if len(part) > 2 else ""
                if name.lstrip("/") in self._skip_tags:
                    skip += -1 if name.startswith("/") else 1
                out.append(part)
            elif skip or not part:
                out.append(part)
            else:
                out.append(self._sub(part))
        return "".join(out)

    def _sub(self, text: str) -> str:
        low = text.lower()
        candidates = tuple(i for i, t in enumerate(TERMS)
                           if t.pattern and any(w in low for w in TRIGGERS[t.anchor]))
        wanted = tuple(i for i in candidates if TERMS[i].anchor not in self.seen)
        if not wanted:
            return text
        pattern = self._patterns.get(wanted)
        if pattern is None:
            pattern = self._patterns[wanted] = re.compile(
                "|".join(f"(?P<t{i}>{TERMS[i].pattern})" for i in wanted), re.IGNORECASE)
        return pattern.sub(self._link, text)

    def _link(self, match: re.Match) -> str:
        index = int(match.lastgroup[1:])
        term = TERMS[index]
        if term.anchor in self.seen:
            return match.group(0)
        self.seen.add(term.anchor)
        return (f'<a class="term" href="{escape(self.root)}{term_url(term.anchor)}">'
                f"{match.group(0)}</a>")
