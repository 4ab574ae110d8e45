"""The content model: what a claim, a source and the site configuration are.

Owns the dataclasses that describe the content files, field by field, with the documentation,
allowed values and patterns of each field in its metadata. These definitions are the single
source of truth: ``schema`` converts YAML nodes into these classes, exports them as JSON Schema,
and the README's format section describes them. No I/O and no cross-file rules here (those
belong to ``validation``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from ldn_site import vocabulary as v

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
BIBKEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
EXCERPT_REF_PATTERN = r"^[a-z0-9][a-z0-9_-]*#[a-z0-9]+(-[a-z0-9]+)*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
URL_PATTERN = r"^https?://\S+$"
BASE_URL_PATTERN = r"^https?://\S+/$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
EXCERPT_LANG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
# What each pattern asks for, in words: contributors are not programmers, and a diagnostic
# that quotes a regular expression tells them nothing.
PATTERN_HELP = {
    ID_PATTERN: "lowercase words of letters and digits joined by single hyphens, such as "
                "ldn-reduces-pain",
    BIBKEY_PATTERN: "a BibTeX key of lowercase letters, digits, '-' and '_', such as "
                    "younger2013lowdose",
    EXCERPT_REF_PATTERN: "a BibTeX key, '#' and an excerpt id, such as "
                         "younger2013lowdose#abstract-results",
    DATE_PATTERN: "a date written YYYY-MM-DD, such as 2026-01-31",
    URL_PATTERN: "a web address starting with https:// (or http://), without spaces",
    BASE_URL_PATTERN: "a web address starting with https:// (or http://) and ending with /",
    SHA256_PATTERN: "the file's SHA-256 digest: 64 characters 0-9 and a-f",
    EXCERPT_LANG_PATTERN: "a language code such as de, nb or pt-BR",
}
# A well-formed BCP 47 (RFC 5646) language tag: language[-extlang][-script][-region]
# [-variant]...[-extension]...[-x-private], or a private-use tag alone.
LANGUAGE_TAG_PATTERN = (r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?"
                        r"(?:-(?:[a-z]{2}|[0-9]{3}))?(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
                        r"(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?"
                        r"|x(?:-[a-z0-9]{1,8})+")
# Longer tags than this crash Pagefind 1.5 (measured: every 32-character tag tried did, no
# tag of 30 or fewer did); real tags such as zh-Hant-TW or sr-Latn-RS are far shorter.
LANGUAGE_TAG_MAX = 24
_LANGUAGE_TAG = re.compile(LANGUAGE_TAG_PATTERN, re.ASCII | re.IGNORECASE)


def is_language_tag(text: str) -> bool:
    """Whether ``text`` is a well-formed BCP 47 language tag short enough to index."""
    return len(text) <= LANGUAGE_TAG_MAX and _LANGUAGE_TAG.fullmatch(text) is not None


class Text(str):
    """A string read from content, remembering the line and column it came from (both 1-based;
    0 when not from a file)."""

    line: int = 0
    col: int = 0

    def __new__(cls, value: str, line: int = 0, col: int = 0):
        obj = super().__new__(cls, value)
        obj.line = line
        obj.col = col
        return obj

    def __reduce__(self):  # keep the place across process boundaries (parallel loading)
        return (Text, (str(self), self.line, self.col))


_REQUIRED = object()


def spec(doc: str, *, choices=None, pattern=None, markdown=False, date=False, min_items=0,
         minimum=None, default=_REQUIRED, default_factory=None, internal=False):
    """A dataclass field carrying its documentation and constraints.

    Without a default the field is required in YAML; ``internal`` fields are filled in by the
    loader (file name, line) and are not part of the file format."""
    meta = {"doc": doc, "choices": tuple(choices) if choices else None, "pattern": pattern,
            "markdown": markdown, "date": date, "min_items": min_items, "minimum": minimum,
            "internal": internal}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    if default is not _REQUIRED:
        return field(default=default, metadata=meta)
    return field(metadata=meta)


def optional(doc: str, **kw):
    """An optional field: absent means None, or an empty list when a factory is given."""
    kw.setdefault("default", None)
    if "default_factory" in kw:
        del kw["default"]
    return spec(doc, **kw)


def internal(default=0):
    return spec("", internal=True, default=default)


# Internal fields that ``schema`` fills in when part of a mapping could not be read, so that
# validation reports the mistake once and not again, further on, as something missing or
# dangling: ``misspelt_fields``, the fields an unknown key was probably meant to be; and
# ``unread_<list field>``, what could be seen of each item of that list left out (an
# excerpt's id, a link's text; "" where nothing could be seen).
def read_errors():
    return internal(())


# --- sources -------------------------------------------------------------------------------

@dataclass
class Excerpt:
    id: str = spec("Excerpt id, unique within its source.", pattern=ID_PATTERN)
    text: str = spec("The quotation, copied character for character from the source.")
    locator: str = spec("Where in the source the text is: section, page or paragraph.")
    lang: str | None = optional("Language of the quotation when it is not English, as a BCP 47 "
                                "code such as nb (Norwegian Bokmål) or de (German).",
                                pattern=EXCERPT_LANG_PATTERN)
    translation: str | None = optional("An English translation of a quotation in another "
                                       "language, in your own words (shown as a translation).")
    line: int = internal()
    col: int = internal()


@dataclass
class RiskOfBias:
    randomization: str = spec("Bias arising from the randomization process.",
                              choices=v.values(v.ROB_JUDGEMENTS))
    deviations: str = spec("Bias due to deviations from intended interventions.",
                           choices=v.values(v.ROB_JUDGEMENTS))
    missing_data: str = spec("Bias due to missing outcome data.",
                             choices=v.values(v.ROB_JUDGEMENTS))
    measurement: str = spec("Bias in measurement of the outcome.",
                            choices=v.values(v.ROB_JUDGEMENTS))
    reporting: str = spec("Bias in selection of the reported result.",
                          choices=v.values(v.ROB_JUDGEMENTS))
    overall: str = spec("Overall risk-of-bias judgement.", choices=v.values(v.ROB_JUDGEMENTS))
    note: str | None = optional("The main reasons for the judgements, in your own words.",
                                markdown=True)
    line: int = internal()
    col: int = internal()


@dataclass
class FullText:
    file: str = spec("File name of the full text the excerpts were copied from (not committed).")
    sha256: str = spec("SHA-256 digest of that file.", pattern=SHA256_PATTERN)
    line: int = internal()
    col: int = internal()


@dataclass
class Source:
    kind: str = spec("What kind of source this is; decides the GRADE starting level.",
                     choices=[k.value for k in v.KINDS])
    excerpts: list[Excerpt] = spec("Verbatim quotations, in the order they appear in the source.",
                                   min_items=1)
    design: str | None = optional("Study design, in your own words.")
    population: str | None = optional("Who took part.")
    n: int | None = optional("Number of participants randomized or analysed.", minimum=0)
    intervention: str | None = optional("What was given.")
    dose: str | None = optional("Dose as studied.")
    duration: str | None = optional("How long treatment or follow-up lasted.")
    comparator: str | None = optional("What the intervention was compared with.")
    registration: str | None = optional("Trial registry identifier, such as NCT02806440.")
    trial_name: str | None = optional("The trial's name or acronym as its authors use it, such "
                                      "as FINAL; readers search for it.")
    setting: str | None = optional("Where the study took place.")
    results: str | None = optional("Main results with their numbers, in your own words.",
                                   markdown=True)
    conclusion: str | None = optional("The authors' conclusion, in your own words.",
                                      markdown=True)
    limitations: str | None = optional("Limitations, in your own words.", markdown=True)
    risk_of_bias: RiskOfBias | None = optional("Risk-of-bias judgements by RoB 2 domain "
                                               "(randomized trials only).")
    publisher: str | None = optional("Popular articles: who published it, as visible in the text.")
    interests: str | None = optional("Popular articles: commercial interests visible in the text.")
    assessment: str | None = optional("Popular articles: overall assessment, in your own words.",
                                      markdown=True)
    fulltext: FullText | None = optional("The full text the excerpts were quoted from.")
    # Where a popular article was published: each only when found (with the page in
    # verified_at), never guessed; the article's page says "not recorded" otherwise.
    url: str | None = optional("Popular articles: the address of its own page, where it was "
                               "seen.", pattern=URL_PATTERN)
    site_name: str | None = optional("Popular articles: the website that published it, as "
                                     "its page or address shows it.")
    published: str | None = optional("Popular articles: the date it was published, as its "
                                     "page shows it.", date=True, pattern=DATE_PATTERN)
    verified_at: list[str] = optional("Public pages on which the facts in this record were seen.",
                                      default_factory=list, pattern=URL_PATTERN)
    notes: str | None = optional("Anything else a reader should know, in your own words.",
                                 markdown=True)
    population_group: str | None = optional(
        "Who took part, for the participant counts: fibromyalgia, other (other conditions or "
        "healthy volunteers) or mixed (both, not counted apart). Leave it out when the record "
        "does not say; the count then shows them as not classified.",
        choices=v.values(v.POPULATION_GROUPS))
    dose_group: str | None = optional(
        "The naltrexone dose studied, for the participant counts: low, standard (50 mg a day "
        "or more) or none (no naltrexone given). Leave it out when the record does not say.",
        choices=v.values(v.DOSE_GROUPS))
    register: bool | None = optional("true when the participants come from a routine-care "
                                     "register, such as a prescription database.")
    same_participants_as: str | None = optional(
        "BibTeX key of another source that reports on the same participants (a later or "
        "secondary report of one trial); they are then counted once, as that source's.",
        pattern=BIBKEY_PATTERN)
    unverified: list[str] = optional(
        "Publication details that could not be verified on any checked page (journal, doi). "
        "Such a source is marked unverified wherever it appears, is not plotted and cannot set "
        "a claim's starting certainty.", default_factory=list,
        choices=v.values(v.UNVERIFIED_DETAILS))
    unread_excerpts: tuple[str, ...] = read_errors()
    misspelt_fields: tuple[str, ...] = read_errors()
    # Filled in by loading: the bibkey is the file name.
    key: str = internal("")
    path: str = internal("")
    line: int = internal()
    col: int = internal()


# --- claims --------------------------------------------------------------------------------

@dataclass
class Dose:
    min_mg: float | None = optional("Lowest daily dose in mg.", minimum=0)
    max_mg: float | None = optional("Highest daily dose in mg.", minimum=0)
    timing: str | None = optional("When it is taken.")
    duration: str | None = optional("How long it was taken, as studied.")
    line: int = internal()
    col: int = internal()


@dataclass
class Mechanism:
    pathway: str = spec("The proposed pathway, in your own words.", markdown=True)
    status: str = spec("How well established the pathway is.",
                       choices=v.values(v.MECHANISM_STATUSES))
    line: int = internal()
    col: int = internal()


@dataclass
class Arm:
    """How many in one group had the event: events of a total, or the percentage when the
    source gives only that."""

    events: int | None = optional("Participants in the group who had the event.", minimum=0)
    total: int | None = optional("Participants in the group.", minimum=1)
    percent: float | None = optional("Percentage of the group who had the event, when the "
                                     "source gives no counts.", minimum=0)
    line: int = internal()
    col: int = internal()


@dataclass
class Arms:
    """Absolute numbers on each arm of a comparison, exactly as the source reports them."""

    intervention: Arm = spec("The LDN (or intervention) group.")
    comparator: Arm = spec("The comparison group, such as placebo.")
    line: int = internal()
    col: int = internal()


@dataclass
class SideEffect:
    effect: str = spec("The side effect.")
    frequency: str = spec("How often it was reported, with the comparison, in your own words.")
    source: str = spec("The excerpt that reports it, as <bibkey>#<excerpt-id>.",
                       pattern=EXCERPT_REF_PATTERN)
    arms: Arms | None = optional("Events on LDN and on placebo, where the source gives them; "
                                 "shown as events per 100 people in each group.")
    line: int = internal()
    col: int = internal()


@dataclass
class Effect:
    outcome: str = spec("The outcome measured, such as pain. Effects are plotted together only "
                        "when outcome, measure and comparison are the same, so word the same "
                        "outcome on the same scale the same way.")
    measure: str = spec("The effect measure.", choices=v.values(v.EFFECT_MEASURES))
    value: float = spec("Point estimate.")
    ci_low: float = spec("Lower bound of the 95% confidence interval.")
    ci_high: float = spec("Upper bound of the 95% confidence interval.")
    n: int | None = optional("Participants in the analysis.", minimum=1)
    better: str | None = optional("Which values favour the intervention: lower (as for pain "
                                  "or side effects) or higher (as for a pain threshold). Sets "
                                  "the plot's 'Favours' labels; without it they read 'Lower' "
                                  "and 'Higher'.", choices=("lower", "higher"))
    intervention: str = optional("The group the effect is about.", default="LDN")
    comparator: str = optional("The group it is compared with.", default="placebo")
    arms: Arms | None = optional("Events in each group, where the source gives them; shown as "
                                 "events per 100 people beside the ratio.")
    line: int = internal()
    col: int = internal()


@dataclass
class EvidenceItem:
    source: str = spec("BibTeX key of the study or document.", pattern=BIBKEY_PATTERN)
    finding: str = spec("What it found that bears on the claim, in your own words.",
                        markdown=True)
    direction: str = spec("Which way the finding points for the claim.",
                          choices=v.values(v.DIRECTIONS))
    excerpts: list[str] = optional("Excerpts backing the finding, as <bibkey>#<excerpt-id>; "
                                   "a claim needs at least one across its evidence.",
                                   default_factory=list, pattern=EXCERPT_REF_PATTERN)
    effect: Effect | None = optional("A numeric effect with its confidence interval.")
    unread_excerpts: tuple[str, ...] = read_errors()
    line: int = internal()
    col: int = internal()


def _ratings(key: str) -> list[str]:
    return [rating for rating, _ in v.DOMAINS_BY_KEY[key].ratings]


@dataclass
class Downgrade:
    """A rating in one of the five domains that can lower the certainty."""

    rating: str = spec("not-serious, serious (down one level) or very-serious (down two).",
                       choices=_ratings("risk_of_bias"))
    reason: str | None = optional("Why; required unless the rating is not-serious.",
                                  markdown=True)
    line: int = internal()
    col: int = internal()


@dataclass
class LargeEffect:
    rating: str = spec("none, large (up one level) or very-large (up two).",
                       choices=_ratings("large_effect"))
    reason: str | None = optional("Why; required unless the rating is none.", markdown=True)
    line: int = internal()
    col: int = internal()


@dataclass
class Upgrade:
    rating: str = spec("none, or present (up one level).", choices=_ratings("dose_response"))
    reason: str | None = optional("Why; required unless the rating is none.", markdown=True)
    line: int = internal()
    col: int = internal()


def _domain(key: str):
    d = v.DOMAINS_BY_KEY[key]
    return optional(f"{d.label}: {d.meaning}")


@dataclass
class Grading:
    risk_of_bias: Downgrade | None = _domain("risk_of_bias")
    inconsistency: Downgrade | None = _domain("inconsistency")
    indirectness: Downgrade | None = _domain("indirectness")
    imprecision: Downgrade | None = _domain("imprecision")
    publication_bias: Downgrade | None = _domain("publication_bias")
    large_effect: LargeEffect | None = _domain("large_effect")
    dose_response: Upgrade | None = _domain("dose_response")
    plausible_confounding: Upgrade | None = _domain("plausible_confounding")
    line: int = internal()
    col: int = internal()


@dataclass
class Review:
    date: str = spec("Date of the last review, YYYY-MM-DD.", date=True, pattern=DATE_PATTERN)
    reviewer: str = spec("Who reviewed the claim.")
    line: int = internal()
    col: int = internal()


@dataclass
class Claim:
    title: str = spec("Short title, in sentence case.")
    statement: str = spec("The assertion under review, worded neutrally.")
    topic: str = spec("The topic the claim belongs to.", choices=v.values(v.TOPICS))
    verdict: str = spec("What the evidence says about the claim.", choices=v.values(v.VERDICTS))
    evidence: list[EvidenceItem] = spec("The studies and documents the verdict rests on.",
                                        min_items=1)
    summary: str = spec("Plain-language summary, in your own words.", markdown=True)
    reviewed: Review = spec("Who reviewed the claim, and when.")
    grading: Grading | None = optional("GRADE judgements; the certainty is computed from them. "
                                       "Required for effect claims; factual claims have none.")
    question: str | None = optional("The reader's question the claim answers, in plain words, "
                                    "such as 'Does LDN help with fibromyalgia pain?'; shown "
                                    "under the title and weighted in search.")
    dose: Dose | None = optional("Structured dose, for dose claims.")
    mechanism: Mechanism | None = optional("Structured mechanism, for mechanism claims.")
    side_effects: list[SideEffect] = optional("Side effects with their reported frequency.",
                                              default_factory=list)
    origin: str | None = optional("Where a repeated figure comes from, or that no source was "
                                  "found.", markdown=True)
    seen_in: list[str] = optional("Excerpts of popular articles that make this claim.",
                                  default_factory=list, pattern=EXCERPT_REF_PATTERN)
    related: list[str] = optional("Ids of related claims.", default_factory=list,
                                  pattern=ID_PATTERN)
    kind: str = optional("effect (does something change something else: graded with GRADE) "
                         "or factual (what a document states or what happened when: checked "
                         "against a named authority, no GRADE).", default="effect",
                         choices=v.values(v.CLAIM_KINDS))
    authority: str | None = optional("Factual claims: whose record settles the claim, such as "
                                     "the US prescribing information on DailyMed.")
    plain_reading: str | None = optional(
        "One plain sentence, in your own words, on what the verdict means and what it does not "
        "mean, for claims whose verdict could read like advice, or whose verdict and certainty "
        "read against each other (then it speaks of the certainty). Shown beside the verdict.")
    id: str = internal("")
    path: str = internal("")
    line: int = internal()
    col: int = internal()


# --- site configuration --------------------------------------------------------------------

@dataclass
class Maintainer:
    name: str = spec("Name.")
    role: str | None = optional("Role, such as editor.")
    line: int = internal()
    col: int = internal()


@dataclass
class KeyMessage:
    claim: str = spec("Id of the claim the message is about.", pattern=ID_PATTERN)
    message: str = spec("One plain sentence, in your own words, answering a main question "
                        "(pain, fatigue, safety, dose); the claim's verdict and certainty are "
                        "shown beside it.")
    line: int = internal()
    col: int = internal()


@dataclass
class Config:
    title: str = spec("Site title.")
    base_url: str = spec("Public address of the site, ending with /.", pattern=BASE_URL_PATTERN)
    description: str = spec("One-sentence description of the site.")
    disclaimer: str = spec("Medical disclaimer shown on every page (Markdown).", markdown=True)
    maintainers: list[Maintainer] = spec("Who maintains the site.", min_items=1)
    language: str = optional("Language of the content, as a BCP 47 tag such as en or en-GB.",
                             default="en")
    output_dir: str = optional("Where `ldn-site build` writes the site.", default="_site")
    review_max_age_days: int = optional("Reviews older than this many days are due.",
                                        default=365, minimum=1)
    key_messages: list[KeyMessage] = optional("The bottom line at the top of the home page: "
                                              "3 to 5 messages, each about one claim.",
                                              default_factory=list)
    report_url: str | None = optional("Where readers report an error (an issue tracker or a "
                                      "contact page); linked from every page.",
                                      pattern=URL_PATTERN)
    path: str = internal("")
    output_line: int = internal()  # where output_dir is written (errors about it point there)
    line: int = internal()
    col: int = internal()


@dataclass
class BibEntry:
    """A BibTeX entry as parsed (not a YAML file, so it has no schema metadata)."""

    key: str
    entry_type: str
    fields: dict
    line: int
    # The line of each field by its (lowercase) name, so that a diagnostic about one field
    # points at it rather than at the entry's first line.
    field_lines: dict = field(default_factory=dict, compare=False)


@dataclass
class Content:
    """Everything loaded from a repository: the input to validation and the pipeline."""

    root: str
    config: Config | None
    claims: list[Claim]
    sources: dict[str, Source]
    bib: dict[str, BibEntry]
    bib_path: str
    bib_text: str
    templates: dict[str, str | bytes]  # static images as bytes
    # Ids of files that exist but could not be loaded: their own errors are already reported,
    # so references to them must not be reported again as dangling.
    broken_claims: set[str] = field(default_factory=set)
    broken_sources: set[str] = field(default_factory=set)
    # The bibliography is missing or holds no entry (reported once, at the .bib file): no
    # citation of a BibTeX key can be checked, and none is reported as unknown.
    broken_bib: bool = False
    # Keys of BibTeX entries that could not be parsed (reported once, at the entry): a claim
    # or source record naming one must not be told the key is unknown or the source uncited.
    broken_bib_keys: set[str] = field(default_factory=set)
    # Keys of sources read with errors (a field of the wrong type is left out): what they
    # hold is incomplete, so a rule that looks for a value in them would report its absence.
    flawed_sources: set[str] = field(default_factory=set)


_INTERN_LIMIT = 64  # ids, references and terms repeat across files; long prose does not


def _plain(value):
    if type(value) is Text:
        text = str(value)
        return sys.intern(text) if len(text) <= _INTERN_LIMIT else text
    if type(value) is list:
        value[:] = [_plain(item) for item in value]
    elif type(value) is tuple:
        return tuple(_plain(item) for item in value)
    elif type(value) is dict:
        for key in value:
            value[key] = _plain(value[key])
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            item = getattr(value, name)
            plain = _plain(item)
            if plain is not item:
                object.__setattr__(value, name, plain)  # frozen ones (grades) too
    return value


def drop_lines(value):
    """The same content (or grades) with every ``Text`` turned into a plain string, once
    validation no longer needs to know where each value was written.

    Each ``Text`` carries an attribute dictionary for its line, which makes it three times the
    size of its characters (on a site of 10,000 claims, 190 MB that the pages never use), and
    Jinja escapes a plain string faster than a subclass of one. Done in place, because a copy
    would first double the memory it is there to save."""
    return _plain(value)
