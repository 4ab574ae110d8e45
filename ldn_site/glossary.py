"""Glossary: the evidence terms the site uses, their plain-language definitions, and the
linking of those terms where they appear in a page's prose.

Owns the list of terms (each with an anchor on the glossary page, a definition in the
project's own words, and the pattern that finds it in text), the mapping from source kinds to
the term that explains them, and ``TermLinker``, which links the first mention of each term on
a page to its definition, and the first use of each abbreviation (SMD, CI, I², NRS, ...), found
with its case as written, as an <abbr> with its expansion. The effect measures and GRADE domains are not repeated here: their
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
    abbr: tuple[str, ...] = ()  # abbreviations of the term, found with their case as written
    expansion: str = ""  # what the abbreviation stands for (its <abbr title>)


TERMS = (
    GlossaryTerm(
        "acr-criteria", "American College of Rheumatology (ACR) criteria",
        "The American College of Rheumatology's criteria for fibromyalgia. The 1990 "
        "classification criteria rest on widespread pain and tender points found on "
        "examination; the later versions (2010, revised in 2016) rest on widespread pain and a "
        "score of other symptoms, with no tender-point examination.",
        r"American College of Rheumatology", abbr=("ACR",),
        expansion="American College of Rheumatology"),
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
        r"confidence intervals?", abbr=("CI",), expansion="confidence interval"),
    GlossaryTerm(
        "clinically-relevant", "Clinically relevant difference",
        "A difference large enough for patients to notice or to matter in their lives. A "
        "result can be statistically significant and still be smaller than that.",
        r"clinically (?:relevant|important|meaningful)"),
    GlossaryTerm(
        "cohens-d", "Cohen's d",
        "A standardized mean difference: the difference between two groups' averages divided "
        "by their standard deviation. By a common rule of thumb, about 0.2 is a small "
        "difference, 0.5 a moderate one and 0.8 a large one.",
        abbr=("Cohen's d", "Cohen’s d"), expansion="a standardized mean difference"),
    GlossaryTerm(
        "compounding", "Compounding",
        "The preparation of a medicine by a pharmacy for an individual patient, for example "
        "capsules of a strength that no licensed product provides.",
        r"compound(?:ed|ing)(?: pharmac(?:y|ies))?"),
    GlossaryTerm(
        "crps", "Complex regional pain syndrome (CRPS)",
        "A long-lasting pain condition, usually in an arm or a leg, that often follows an "
        "injury and brings pain out of proportion to it, with changes in skin colour, "
        "temperature or swelling.",
        r"complex regional pain syndrome", abbr=("CRPS",),
        expansion="complex regional pain syndrome"),
    GlossaryTerm(
        "crossover-trial", "Crossover trial",
        "A trial in which each participant receives both the treatment and the comparison, "
        "one after the other in random order, often with a pause (a washout) in between. Each "
        "person acts as their own control, so fewer participants are needed, but an effect "
        "that carries over from one period into the next can blur the comparison.",
        r"cross-?over"),
    GlossaryTerm(
        "cytokine", "Cytokines",
        "Small proteins that cells, immune cells above all, release to signal to one another. "
        "Some promote inflammation and others dampen it; studies measure them in blood as "
        "signs of immune activity.",
        r"cytokines?"),
    GlossaryTerm(
        "documentation", "Documentation (factual claims)",
        "A factual claim (what a label, a register or an approval states) is not weighed with "
        "GRADE but checked against the record of a named authority. Its badge says what that "
        "record shows: " + " ".join(f"{t.symbol} {t.label}: {t.meaning}"
                                    for t in v.DOCUMENTATION),
        "", "claim-kinds"),
    GlossaryTerm(
        "dose-finding", "Dose-finding study",
        "A study that gives a treatment at several doses, often rising step by step, to "
        "estimate the dose at which it works or at which side effects appear. Without a "
        "placebo group it cannot show that the treatment caused the responses it sees.",
        r"dose-finding(?: stud(?:y|ies)| trials?)?"),
    GlossaryTerm(
        "double-blind", "Double-blind",
        "Neither the participants nor the researchers who assess them know who receives the "
        "treatment and who receives the comparison, so that expectations cannot colour the "
        "results. In a single-blind study only one side does not know.",
        r"double-blind(?:ed)?|single-blind(?:ed)?"),
    GlossaryTerm(
        "fibromyalgia", "Fibromyalgia",
        "A long-term condition with pain in many parts of the body, usually with tiredness, "
        "poor sleep and trouble with memory or concentration. No damage or inflammation in "
        "the painful places explains the pain, and no blood test or scan confirms the "
        "diagnosis: doctors make it from the symptoms.",
        ""),
    GlossaryTerm(
        "fiqr", "Fibromyalgia Impact Questionnaire (FIQ, FIQR)",
        "A questionnaire, in an original and a revised version (FIQR), that measures how much "
        "fibromyalgia affects daily function, overall well-being and symptoms. A higher score "
        "means a greater impact.",
        r"Fibromyalgia Impact Questionnaire", abbr=("FIQR", "FIQ"),
        expansion="Fibromyalgia Impact Questionnaire"),
    GlossaryTerm(
        "glia", "Glia (glial cells: microglia, astrocytes)",
        "The cells of the brain and spinal cord that are not nerve cells. They support and "
        "protect the nerve cells. Microglia are the immune cells of the brain and spinal cord; "
        "astrocytes, among other tasks, keep the fluid and chemical surroundings of nerve cells "
        "in balance. Laboratory research suggests that activated glia can amplify pain "
        "signals; whether this happens in fibromyalgia is not established.",
        r"(?:micro)?glia(?:l cells?)?|astrocytes?"),
    GlossaryTerm(
        "grade", "GRADE",
        "Grading of Recommendations, Assessment, Development and Evaluation: a widely used "
        "method for rating the certainty of a body of evidence. Evidence from randomized trials "
        "starts at high certainty and evidence from observational studies at low; the rating "
        "goes down for risk of bias, inconsistency, indirectness, imprecision or publication "
        "bias, and can go up for a large effect or a dose–response gradient.",
        r"\bGRADE\b", "starting-level"),
    GlossaryTerm(
        "i2", "I² (heterogeneity)",
        "A statistic of a meta-analysis: the share of the variation between the studies' "
        "results that is larger than chance alone would produce, from 0% to 100%. A high I² "
        "means the studies disagree, so a single pooled estimate says less.",
        r"heterogeneity", abbr=("I²", "I2"), expansion="heterogeneity between studies"),
    GlossaryTerm(
        "ibs", "Irritable bowel syndrome (IBS)",
        "A common long-term condition of the gut with belly pain and changed bowel habits, "
        "without visible damage to the bowel.",
        r"irritable bowel syndrome", abbr=("IBS",), expansion="irritable bowel syndrome"),
    GlossaryTerm(
        "intention-to-treat", "Intention-to-treat analysis",
        "An analysis that counts every randomized participant in the group chance assigned "
        "them to, whether or not they took the treatment as planned, so that the groups stay "
        "as comparable as randomization made them.",
        r"intention[- ]to[- ]treat"),
    GlossaryTerm(
        "iqr", "Interquartile range (IQR)",
        "The range that holds the middle half of a group's values, from the value a quarter "
        "of the way up to the value three quarters of the way up. It is often given beside a "
        "median.",
        r"interquartile range", abbr=("IQR",), expansion="interquartile range"),
    GlossaryTerm(
        "ldn", "Low-dose naltrexone (LDN)",
        "Naltrexone taken at about 1 to 5 mg a day, most often 1.5 to 4.5 mg: a tenth or less "
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
        "neuroinflammation", "Neuroinflammation",
        "Inflammation within the brain and spinal cord, in which glia become active and "
        "release signalling molecules such as cytokines. It is shown in laboratory and some "
        "imaging studies; its part in fibromyalgia is not established.",
        r"neuroinflammat(?:ion|ory)"),
    GlossaryTerm(
        "nrs", "Numeric rating scale (NRS)",
        "A scale on which people rate a symptom such as pain with a number, usually from 0 "
        "(none) to 10 (the worst imaginable).",
        r"numeric(?:al)? rating scale", abbr=("NRS",), expansion="numeric rating scale"),
    GlossaryTerm(
        "opioid-antagonist", "Opioid antagonist",
        "A drug that attaches to opioid receptors without switching them on, and so blocks "
        "opioids, the body's own and drugs such as morphine, from acting there. Naltrexone is "
        "one.",
        r"(?:opioid )?antagonists?"),
    GlossaryTerm(
        "opioid-receptor", "Opioid receptors",
        "Protein molecules on nerve cells, and on some other cells, to which opioids bind: the "
        "body's own endorphins as well as drugs such as morphine. When they are switched on "
        "they dampen pain signals, among other effects.",
        r"opioid receptors?|opiate receptors?"),
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
        r"randomi[sz]ed(?: controlled)? trials?", abbr=("RCTs", "RCT"),
        expansion="randomized controlled trial"),
    GlossaryTerm(
        "responder", "Responder",
        "A participant whose symptom improved by at least an amount set in advance, for "
        "example pain down by at least 30%. Comparing the share of responders on the "
        "treatment and on placebo is another way to show an effect.",
        r"responders?"),
    GlossaryTerm(
        "risk-of-bias", "Risk of bias (RoB 2)",
        "The chance that flaws in how a study was designed or run have pushed its results away "
        "from the truth. This site appraises randomized trials with the Cochrane RoB 2 tool, "
        "which judges five domains as low risk, some concerns or high risk. As a GRADE "
        "domain, risk of bias lowers the certainty of a body of evidence when such flaws "
        "(for example poor blinding or many drop-outs) could make its results look better or "
        "worse than they are.",
        r"risk of bias", "risk-of-bias", abbr=("RoB 2", "RoB2"),
        expansion="Risk of Bias tool, version 2"),
    GlossaryTerm(
        "sd", "Standard deviation (SD)",
        "How widely a group's values are spread around their average: about two thirds of "
        "the values lie within one standard deviation of it.",
        r"standard deviations?", abbr=("SD",), expansion="standard deviation"),
    GlossaryTerm(
        "significant", "Statistically significant",
        "A result is called statistically significant when it would be unlikely (by "
        "convention, less than 5% likely: p < 0.05) if there were truly no difference. It "
        "does not say how large or how important the difference is.",
        r"statistically significant|\bp ?(?:&lt;|=) ?0?\.\d+"),
    GlossaryTerm(
        "titration", "Titration",
        "Starting a medicine at a low dose and raising it step by step, to reach a dose that "
        "works and is tolerated.",
        r"titrat(?:e|ed|ion|ing)"),
    GlossaryTerm(
        "tlr4", "Toll-like receptor 4 (TLR4)",
        "A receptor on immune cells, microglia among them, that senses signs of infection or "
        "damage and switches on inflammation. Laboratory studies found that naltrexone can "
        "block it, even in a form that does not act on opioid receptors; this is one proposed "
        "way LDN might work, not shown in people with fibromyalgia.",
        r"toll-like receptor 4", abbr=("TLR4",), expansion="toll-like receptor 4"),
    GlossaryTerm(
        "vas", "Visual analogue scale (VAS)",
        "A line, often 100 mm long, on which people mark how strong a symptom such as pain "
        "is, from none at one end to the worst imaginable at the other.",
        r"visual analog(?:ue)? scale", abbr=("VAS",), expansion="visual analogue scale"),
    GlossaryTerm(
        "systematic-review", "Systematic review",
        "A review that looks for every study on a question with a method set out in advance, "
        "appraises the studies it finds and summarises their results. A narrative review, by "
        "contrast, reflects its authors' own selection and reading of the literature.",
        r"systematic (?:literature )?reviews?"),
)
# The effect measures, defined in ``vocabulary``, linked by their abbreviations (SMD, RR, ...).
MEASURE_TERMS = tuple(
    GlossaryTerm(f"measure-{m.value.lower()}", f"{m.label} ({m.value})", m.meaning,
                 abbr=(m.value,), expansion=m.label.lower()) for m in v.EFFECT_MEASURES)
# Every term the linker finds in prose.
LINKED_TERMS = TERMS + MEASURE_TERMS
TERMS_BY_ANCHOR = {t.anchor: t for t in LINKED_TERMS}
# Risk of bias is a GRADE domain too; it has one entry, the hand-written one.
MERGED_DOMAINS = {"risk_of_bias": "risk-of-bias"}

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


def domain_url(domain: str) -> str:
    """The glossary entry of a GRADE domain (``risk_of_bias``, ``imprecision``, ...)."""
    return term_url(MERGED_DOMAINS.get(domain, f"domain-{domain.replace('_', '-')}"))


def abbreviation(anchor: str) -> dict:
    """A term's first abbreviation, what it stands for and where it is defined: what a
    template needs to write it as a linked <abbr>."""
    t = TERMS_BY_ANCHOR[anchor]
    return {"text": t.abbr[0], "title": t.expansion, "url": term_url(anchor)}


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
    entries += [{"anchor": t.anchor, "term": t.term, "definition": t.definition,
                 "see": "methodology.html#measures"} for t in MEASURE_TERMS]
    for d in v.DOMAINS:
        if d.key in MERGED_DOMAINS:
            continue
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
    "systematic-review": ("systematic",), "crps": ("complex regional",),
    "i2": ("heterogeneity",), "ibs": ("irritable bowel",), "iqr": ("interquartile",),
    "nrs": ("rating scale",), "sd": ("standard deviation",), "vas": ("analog",),
    "cytokine": ("cytokine",), "glia": ("glia", "astrocyte"),
    "opioid-antagonist": ("antagonist",), "opioid-receptor": ("receptor",),
    "responder": ("responder",), "acr-criteria": ("american college",),
    "dose-finding": ("dose-finding",), "intention-to-treat": ("intention",),
    "neuroinflammation": ("neuroinflammat",), "titration": ("titrat",),
    "tlr4": ("toll-like",),
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
        candidates = _candidates(text)
        wanted = tuple(i for i in candidates if LINKED_TERMS[i].anchor not in self.seen
                       or (LINKED_TERMS[i].abbr and f"{LINKED_TERMS[i].anchor}#abbr"
                           not in self.seen))
        if not wanted:
            return text
        pattern = self._patterns.get(wanted)
        if pattern is None:
            pattern = self._patterns[wanted] = re.compile(
                "|".join(f"(?P<t{i}>{_term_pattern(LINKED_TERMS[i])})" for i in wanted),
                re.IGNORECASE)
        return pattern.sub(self._link, text)

    def _link(self, match: re.Match) -> str:
        index = int(match.lastgroup[1:])
        term = LINKED_TERMS[index]
        found = match.group(0)
        # A term and its abbreviation are each linked where first used: "the Fibromyalgia
        # Impact Questionnaire (FIQR)" links both, as a reader may meet either first.
        is_abbr = bool(term.abbr) and re.fullmatch("|".join(map(_abbr_body, term.abbr)), found)
        key = f"{term.anchor}#abbr" if is_abbr else term.anchor
        if key in self.seen:
            return found
        self.seen.add(key)
        if is_abbr:
            found = f'<abbr title="{escape(term.expansion)}">{found}</abbr>'
        return (f'<a class="term" href="{escape(self.root)}{term_url(term.anchor)}">'
                f"{found}</a>")


# An abbreviation is matched with its case as written (so that "OR" never matches "or"), as a
# whole word; an apostrophe may reach the linker as a character reference.
_APOSTROPHE = "(?:'|&#x27;|&#39;|’)"


def _abbr_body(abbr: str) -> str:
    return re.escape(abbr).replace("'", _APOSTROPHE).replace("’", _APOSTROPHE)


def _abbr_pattern(abbr: str) -> str:
    return rf"(?-i:(?<![\w-]){_abbr_body(abbr)}(?![\w-]))"


def _term_pattern(term: GlossaryTerm) -> str:
    parts = [term.pattern] if term.pattern else []
    return "|".join(parts + [_abbr_pattern(a) for a in term.abbr])


_ABBR_TRIGGERS = {t.anchor: tuple(a.split("'")[0].split("’")[0] for a in t.abbr)
                  for t in LINKED_TERMS}


def _scanner(keys: set[str], flags: int = 0) -> tuple[re.Pattern, dict[str, frozenset]]:
    """An expression that finds, at every position of a text, the longest of ``keys``
    starting there (a lookahead, so matches may overlap), and for each key the keys it
    contains: together, every key the text contains, in one pass."""
    ordered = sorted(keys, key=lambda k: (-len(k), k))
    pattern = "(?=(" + "|".join(map(re.escape, ordered)) + "))" if ordered else "(?!)"
    contained = {k: frozenset(o for o in ordered if o in k) for k in ordered}
    return re.compile(pattern, flags), contained


def _trigger_index():
    words: dict[str, set[int]] = {}
    abbrs: dict[str, set[int]] = {}
    for i, t in enumerate(LINKED_TERMS):
        for w in TRIGGERS[t.anchor] if t.pattern else ():
            words.setdefault(w, set()).add(i)
        for a in _ABBR_TRIGGERS[t.anchor]:
            abbrs.setdefault(a, set()).add(i)
    return (*_scanner(set(words)), words), (*_scanner(set(abbrs)), abbrs)


_WORD_SCAN, _ABBR_SCAN = _trigger_index()


def _candidates(text: str) -> tuple[int, ...]:
    """The indices of the terms whose trigger words (in any case) or abbreviations (in their
    case) ``text`` contains; one regular-expression pass each, where testing every term's
    words in turn took a fifth of a page's time."""
    found: set[int] = set()
    for (scan, contained, terms), subject in ((_WORD_SCAN, text.lower()), (_ABBR_SCAN, text)):
        for match in set(scan.findall(subject)):
            for key in contained[match]:
                found |= terms[key]
    return tuple(sorted(found))
