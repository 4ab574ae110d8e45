"""Validation: every rule that spans files, plus quote fidelity against full texts.

Owns cross-references (BibTeX keys, source records, excerpt links, related claims, the home
page's key messages), id uniqueness, the use of each source kind and of the participant fields,
the rules of the two kinds of claim (effect claims are graded, factual claims name their
authority and carry no GRADE judgement), plausible effect sizes, unsafe links and raw HTML in
Markdown, BibTeX keys and claim ids written in prose (readers do not know them), every BibTeX
entry (judged by ``bibliography``), review age, the site
settings (a disclaimer a reader can see, a BCP 47 language tag), the grading of each claim
through ``grading``, and the reviewing rules of ``auditing`` (numbers with a home, verdict and
certainty pairs). Pure: takes the loaded ``Content`` and returns the grades with
diagnostics; it reads no files (full texts are passed in) and prints nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
from html.parser import HTMLParser

from ldn_site import vocabulary as v
from ldn_site.auditing import check_numbers, check_verdict_pairs
from ldn_site.bibliography import bib_entry_problems
from ldn_site.citations import short_label
from ldn_site.diagnostics import Diagnostic, closest, did_you_mean, error, warning
from ldn_site.grading import Grade, grade_claim
from ldn_site.markup import find_raw_html, find_unsafe_links, render_markdown
from ldn_site.model import (ID_PATTERN, LANGUAGE_TAG_MAX, Claim, Config, Content,
                            EvidenceItem, Excerpt, FullText, Source, Text, is_language_tag)
from ldn_site.schema import fields_of

_ID = re.compile(ID_PATTERN)
RANDOMIZED_KINDS = frozenset(k.value for k in v.KINDS if k.randomized)


@dataclasses.dataclass(frozen=True)
class QuoteCheck:
    """What ``check --texts`` verified: how many excerpts were found in their full texts, of
    how many excerpts, from how many sources whose full text was there."""

    verified: int
    excerpts: int
    articles: int

# What an effect of each measure can plausibly be. Beyond these a number is a typing error (a
# misplaced decimal point, a percentage written as a proportion), and the forest plot's axis
# could not be drawn in floating point (an interval of 1e-300 to 1e300 overflows).
PLAUSIBLE_EFFECTS = {"SMD": (-10.0, 10.0), "MD": (-1e6, 1e6), "RD": (-1.0, 1.0),
                     "RR": (1e-4, 1e4), "OR": (1e-4, 1e4), "HR": (1e-4, 1e4)}

# The disclaimer must say something: at least one sentence of this many words that a reader
# sees once the Markdown is rendered ("[]()" renders to an empty link, "<!-- -->" to symbols).
DISCLAIMER_MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclasses.dataclass
class Validated:
    """The outcome of validation: a grade for every claim that could be graded, and what the
    quote check verified when full texts were given."""

    grades: dict[str, Grade]
    diagnostics: list[Diagnostic]
    quotes: QuoteCheck | None = None


def split_ref(ref: str) -> tuple[str, str]:
    key, _, excerpt = ref.partition("#")
    return key, excerpt


def validate_content(content: Content, today: datetime.date | None = None,
                     fulltexts: dict[str, str | None] | None = None) -> Validated:
    diags: list[Diagnostic] = []
    sources = content.sources
    excerpt_index = _index_excerpts(sources, diags)
    _check_sources(content, diags)
    flawed_bib = _check_bib_fields(content, diags)
    claim_ids = {c.id for c in content.claims}
    cited: set[str] = set()
    linked_excerpts: set[str] = set()
    grades: dict[str, Grade] = {}
    for claim in sorted(content.claims, key=lambda c: c.id):
        _check_claim(claim, content, excerpt_index, claim_ids, cited, linked_excerpts, diags)
        _check_claim_kind(claim, diags)
        # An empty evidence list is already reported (too-few-items); grading it would only
        # add a misleading "ungradable-evidence" for the same defect.
        if claim.evidence and all(item.source in sources for item in claim.evidence):
            grade, grade_diags = grade_claim(claim, sources)
            diags.extend(grade_diags)
            if grade is not None:
                grades[claim.id] = grade
        if today is not None and content.config is not None:
            _check_review_age(claim, today, content.config.review_max_age_days, diags)
    # A claim file that failed to load may well cite a source or quote an excerpt; with one of
    # those, or none read at all (no claims/ folder), "not cited" / "not in any seen_in"
    # cannot be known, and would be false warnings.
    usage_known = content.claims and not content.broken_claims
    for key, source in sorted(sources.items()):
        if not usage_known:
            break
        if source.kind != "popular-article" and key not in cited:
            diags.append(warning(source.path, 1, "unused-source",
                                 f"source '{key}' is not cited by any claim's evidence"))
        if source.kind == "popular-article":
            for ex in source.excerpts:
                if f"{key}#{ex.id}" not in linked_excerpts:
                    diags.append(warning(source.path, ex.line, "unreviewed-excerpt",
                                         f"excerpt '{key}#{ex.id}' is not in any claim's "
                                         "seen_in", ex.col))
    diags.extend(check_numbers(content.claims, sources, content.bib,
                               frozenset(content.flawed_sources | flawed_bib)))
    diags.extend(check_verdict_pairs(content.claims,
                                     {cid: grade.certainty for cid, grade in grades.items()}))
    _check_key_messages(content, claim_ids, diags)
    if content.config is not None:
        _check_config(content.config, diags)
    _check_markdown(content, diags)
    _check_raw_keys(content, diags)
    quotes = None
    if fulltexts is not None:
        quote_diags, quotes = check_quotes(sources, fulltexts)
        diags.extend(quote_diags)
    return Validated(grades, diags, quotes)


def _index_excerpts(sources: dict[str, Source], diags: list) -> dict[str, object]:
    index = {}
    for key, source in sorted(sources.items()):
        seen: dict[str, int] = {}
        for ex in source.excerpts:
            if ex.id in seen:
                diags.append(error(source.path, ex.line, "duplicate-id",
                                   f"duplicate excerpt id '{ex.id}' (first defined on line "
                                   f"{seen[ex.id]})", ex.col))
                continue
            seen[ex.id] = ex.line
            index[f"{key}#{ex.id}"] = ex
    return index


def _check_sources(content: Content, diags: list) -> None:
    for key, source in sorted(content.sources.items()):
        if not _in_bib(content, key):
            diags.append(error(source.path, 1, "unknown-bibkey",
                               f"source record '{key}' has no entry in {content.bib_path}"))
        if source.risk_of_bias is not None and source.kind not in RANDOMIZED_KINDS:
            diags.append(error(source.path, source.risk_of_bias.line, "invalid-value",
                               f"risk_of_bias applies to randomized evidence only; this source "
                               f"is of kind {source.kind}", source.risk_of_bias.col))
        if source.kind != "popular-article" and not source.verified_at:
            diags.append(error(source.path, 1, "missing-provenance",
                               "verified_at must list the public pages this record was checked "
                               "against"))
        for ex in source.excerpts:
            if bool(ex.lang) != bool(ex.translation):
                diags.append(error(source.path, ex.line, "missing-translation",
                                   f"excerpt '{ex.id}': a quotation in another language needs "
                                   "both 'lang' and an English 'translation'", ex.col))
        # A misspelt key meant as 'fulltext' is reported as unknown, naming 'fulltext'.
        if source.kind == "popular-article" and source.fulltext is None and \
                "fulltext" not in source.misspelt_fields:
            diags.append(error(source.path, 1, "missing-field",
                               "a popular article needs 'fulltext' so its excerpts can be "
                               "checked verbatim"))
        _check_article_origin(source, diags)
        _check_participant_fields(key, source, content, diags)
    for key, entry in sorted(content.bib.items()):
        if key not in content.sources and key not in content.broken_sources:
            diags.append(error(content.bib_path, entry.line, "missing-source-record",
                               f"BibTeX entry '{key}' has no source record sources/{key}.yaml"))


def _check_bib_fields(content: Content, diags: list) -> set[str]:
    """Every BibTeX entry, as ``bib_entry_problems`` judges it; returns the keys of the entries
    with a mistake. Their fields are not what was meant (a year 'twenty' holds no 2013), so the
    number check must not report a number as missing from them: that is the same mistake."""
    flawed = set()
    for key, entry in sorted(content.bib.items()):
        for line, code, message in bib_entry_problems(entry):
            diags.append(error(content.bib_path, line, code, f"BibTeX entry '{key}': {message}"))
            flawed.add(key)
    return flawed


ARTICLE_ORIGIN = ("url", "site_name", "published")


def _check_article_origin(source: Source, diags: list) -> None:
    """Where a popular article was published is a fact like any other: it needs the page it
    was seen on. Studies and documents say where they were published in their BibTeX."""
    given = [name for name in ARTICLE_ORIGIN if getattr(source, name) is not None]
    line = getattr(getattr(source, given[0]), "line", 1) if given else 1
    if given and source.kind != "popular-article":
        diags.append(error(source.path, line, "invalid-value",
                           f"{', '.join(given)}: for popular articles only; where a study "
                           "or document was published belongs in its BibTeX entry"))
    elif given and not source.verified_at:
        diags.append(error(source.path, line, "missing-provenance",
                           f"{', '.join(given)} given, so verified_at must list the public "
                           "page on which the article was seen"))


def _check_participant_fields(key: str, source: Source, content: Content, diags: list) -> None:
    """The fields the participant counts read make sense only on primary studies, and a
    shared-participants link must lead straight to another source's record."""
    if source.kind not in v.PARTICIPANT_DESIGNS:
        for name in ("population_group", "dose_group", "register", "same_participants_as"):
            value = getattr(source, name)
            if value is not None:
                line, col = _located(value, source)
                diags.append(error(source.path, line, "invalid-value",
                                   f"{name} applies to primary studies only, whose participants "
                                   f"are counted; a source of kind {source.kind} is not counted",
                                   col))
    same = source.same_participants_as
    if same is None or same in content.broken_sources:
        pass
    elif same == key:
        diags.append(error(source.path, same.line, "self-reference",
                           "same_participants_as: a source cannot point to itself", same.col))
    elif same not in content.sources:
        diags.append(error(source.path, same.line, "missing-source-record",
                           f"same_participants_as: no source record '{same}'"
                           f"{did_you_mean(same, set(content.sources) - {key})}", same.col))
    elif content.sources[same].kind not in v.PARTICIPANT_DESIGNS:
        diags.append(error(source.path, same.line, "invalid-value",
                           f"same_participants_as: '{same}' is of kind "
                           f"{content.sources[same].kind}, whose participants are not counted; "
                           "point to the primary study", same.col))
    elif content.sources[same].same_participants_as is not None:
        diags.append(error(source.path, same.line, "invalid-value",
                           f"same_participants_as: '{same}' itself points to another source; "
                           "point to the source the participants are counted under", same.col))
    seen = set()
    for detail in source.unverified:
        if detail in seen:
            diags.append(error(source.path, detail.line, "duplicate-id",
                               f"unverified: '{detail}' is listed twice", detail.col))
        seen.add(detail)


def _check_claim_kind(claim: Claim, diags: list) -> None:
    """Effect claims are graded; factual claims name their authority and are not graded, so
    that no reader sees a certainty scale on a plain fact, nor a fact without its source."""
    if claim.kind == "factual":
        if not claim.authority:
            line, col = _located(claim.kind, claim)
            diags.append(error(claim.path, line, "missing-authority",
                               "a factual claim needs 'authority': whose record settles it", col))
        for domain in v.DOMAINS:
            judgement = getattr(claim.grading, domain.key) if claim.grading else None
            if judgement is not None and dict(domain.ratings)[judgement.rating]:
                diags.append(error(claim.path, judgement.line, "factual-claim-graded",
                                   f"grading.{domain.key} is rated '{judgement.rating}', but a "
                                   "factual claim has no GRADE certainty: remove the rating, or "
                                   "make it an effect claim", judgement.col))
        return
    if claim.authority is not None:
        diags.append(error(claim.path, claim.authority.line, "invalid-value",
                           "'authority' belongs to factual claims (kind: factual); an effect "
                           "claim is weighed by its evidence", claim.authority.col))
    if claim.grading is None:
        diags.append(error(claim.path, claim.line, "missing-grading",
                           "an effect claim needs 'grading' (its GRADE judgements); only "
                           "factual claims (kind: factual) have none", claim.col))


def _check_key_messages(content: Content, claim_ids: set, diags: list) -> None:
    config = content.config
    if config is None:
        return
    seen: dict[str, int] = {}
    for message in config.key_messages:
        cid = message.claim
        line, col = _located(cid, message)
        if cid not in claim_ids and cid not in content.broken_claims:
            diags.append(error(config.path, line, "dangling-claim",
                               f"key_messages: no claim with id '{cid}'"
                               f"{did_you_mean(cid, claim_ids)}", col))
        elif cid in seen:
            diags.append(error(config.path, line, "duplicate-id",
                               f"key_messages: '{cid}' already has a message (line "
                               f"{seen[cid]})", col))
        seen.setdefault(cid, line)


def _located(value, owner) -> tuple[int, int]:
    """Where ``value`` was written, or its owner's place when the value carries none (a
    default, or a value that is not text)."""
    if getattr(value, "line", 0):
        return value.line, value.col
    return owner.line, owner.col


def _in_bib(content: Content, key: str) -> bool:
    """Whether ``key`` names a BibTeX entry, or may: when the bibliography or that entry could
    not be parsed, its own error is reported at the .bib file, and a reference to the key is
    not an "unknown key" as well."""
    return key in content.bib or content.broken_bib or key in content.broken_bib_keys


def _unreadable_source(content: Content, key: str) -> bool:
    """Whether the source ``key`` may exist but could not be read: its file is broken, or no
    source and no BibTeX entry could be read at all (no sources/ folder, say). Its errors are
    reported already; a claim citing it is not reported again."""
    return key in content.broken_sources or (not content.sources and content.broken_bib)




def _check_excerpt_ref(ref: Text, claim: Claim, content: Content, index: dict, diags: list,
                       field: str) -> str | None:
    """Report a dangling excerpt link; return the source kind when it resolves."""
    key, _ = split_ref(ref)
    line, col = (ref.line, ref.col) if getattr(ref, "line", 0) else (claim.line, claim.col)
    if not _in_bib(content, key) and key not in content.sources:
        diags.append(error(claim.path, line, "unknown-bibkey",
                           f"{field}: unknown BibTeX key '{key}' in '{ref}'"
                           f"{did_you_mean(key, content.bib)}", col))
        return None
    if _unreadable_source(content, key):
        return None
    if key not in content.sources:
        diags.append(error(claim.path, line, "missing-source-record",
                           f"{field}: '{ref}' points to a source with no record "
                           f"(sources/{key}.yaml)", col))
        return None
    if ref not in index:
        # An excerpt with errors of its own is reported in its source's file, not here.
        if not _unread_excerpt(content.sources[key], split_ref(ref)[1]):
            ids = [f"{key}#{e.id}" for e in content.sources[key].excerpts]
            diags.append(error(claim.path, line, "dangling-excerpt",
                               f"{field}: excerpt '{ref}' does not exist"
                               f"{did_you_mean(ref, ids)}", col))
        return None
    return content.sources[key].kind


def _unread_excerpt(source: Source, excerpt_id: str) -> bool:
    """Whether the excerpt ``excerpt_id`` may be one that the source's file holds but that
    could not be read: one written with that id, or one whose id is missing or malformed (so
    which id it was meant to have cannot be known). Its own error is reported already."""
    return any(unread == excerpt_id or not _ID.fullmatch(unread)
               for unread in source.unread_excerpts)


def _check_evidence_item(item: EvidenceItem, claim: Claim, content: Content, index: dict,
                         cited: set, diags: list) -> None:
    """One evidence item: its source, its excerpts and its effect."""
    if not _in_bib(content, item.source):
        meant = closest(item.source, content.bib)
        diags.append(error(claim.path, item.source.line, "unknown-bibkey",
                           f"evidence: unknown BibTeX key '{item.source}'"
                           f"{did_you_mean(item.source, content.bib)}", item.source.col))
        if meant is not None:
            cited.add(meant)  # the source meant is cited: not "unused" as well
    elif _unreadable_source(content, item.source):
        pass  # its file's own errors are reported already
    elif item.source not in content.sources:
        diags.append(error(claim.path, item.source.line, "missing-source-record",
                           f"evidence: source '{item.source}' has no record "
                           f"(sources/{item.source}.yaml)", item.source.col))
    else:
        cited.add(item.source)
        if content.sources[item.source].kind == "popular-article":
            diags.append(error(claim.path, item.source.line, "article-as-evidence",
                               f"evidence: '{item.source}' is a popular article under review; "
                               "cite it in seen_in, not as evidence", item.source.col))
    # An unknown key is most often a typing error; the item's excerpts then name the source
    # meant, and calling them mismatched would report the same mistake again.
    known = item.source in content.bib or item.source in content.sources or content.broken_bib
    for ref in item.excerpts:
        if _check_excerpt_ref(ref, claim, content, index, diags, "evidence") and known and \
                split_ref(ref)[0] != item.source:
            diags.append(error(claim.path, ref.line, "excerpt-source-mismatch",
                               f"evidence: excerpt '{ref}' is not from the item's source "
                               f"'{item.source}'", ref.col))
    if item.effect is not None:
        _check_effect(item.effect, claim.path, diags)
        _check_arms(item.effect.arms, claim.path, "effect", diags)


def _check_claim(claim: Claim, content: Content, index: dict, claim_ids: set, cited: set,
                 linked: set, diags: list) -> None:
    for item in claim.evidence:
        _check_evidence_item(item, claim, content, index, cited, diags)
    # An excerpt link written but unreadable (its error is reported) is not "no excerpt".
    if claim.evidence and not any(item.excerpts or item.unread_excerpts
                                  for item in claim.evidence):  # else too-few-items
        diags.append(error(claim.path, claim.line, "missing-excerpt",
                           "the claim's evidence quotes no excerpt; at least one item needs "
                           "'excerpts' so readers can see the source's own words", claim.col))
    for ref in claim.seen_in:
        kind = _check_excerpt_ref(ref, claim, content, index, diags, "seen_in")
        if kind is not None:
            linked.add(str(ref))
            if kind != "popular-article":
                diags.append(error(claim.path, ref.line, "not-an-article",
                                   f"seen_in: '{ref}' is not an excerpt of a popular article",
                                   ref.col))
    for effect in claim.side_effects:
        _check_excerpt_ref(effect.source, claim, content, index, diags, "side_effects")
        _check_arms(effect.arms, claim.path, "side_effects", diags)
    seen_related = set()
    for rel in claim.related:
        if rel == claim.id:
            diags.append(error(claim.path, rel.line, "self-reference",
                               "related: a claim cannot be related to itself", rel.col))
        elif rel not in claim_ids and rel not in content.broken_claims:
            diags.append(error(claim.path, rel.line, "dangling-claim",
                               f"related: no claim with id '{rel}'"
                               f"{did_you_mean(rel, claim_ids - {claim.id})}", rel.col))
        elif rel in seen_related:
            diags.append(error(claim.path, rel.line, "duplicate-id",
                               f"related: '{rel}' is listed twice", rel.col))
        seen_related.add(rel)
    if claim.dose and claim.dose.min_mg is not None and claim.dose.max_mg is not None \
            and claim.dose.min_mg > claim.dose.max_mg:
        diags.append(error(claim.path, claim.dose.line, "invalid-value",
                           "dose: min_mg is larger than max_mg", claim.dose.col))


def _check_arms(arms, path: str, where: str, diags: list) -> None:
    """Each arm gives events of a total, or a percentage: enough for events per 100."""
    if arms is None:
        return
    for name in ("intervention", "comparator"):
        arm = getattr(arms, name)
        counted = arm.events is not None and arm.total is not None
        if counted == (arm.percent is not None) or (arm.events is None) != (arm.total is None):
            diags.append(error(path, arm.line, "invalid-arms",
                               f"{where}: arms.{name} needs either events and total, or "
                               "percent (not both)", arm.col))
        elif counted and arm.events > arm.total:
            diags.append(error(path, arm.line, "invalid-arms",
                               f"{where}: arms.{name} has more events ({arm.events}) than "
                               f"participants ({arm.total})", arm.col))
        elif arm.percent is not None and arm.percent > 100:
            diags.append(error(path, arm.line, "invalid-arms",
                               f"{where}: arms.{name} percent {arm.percent:g} is over 100",
                               arm.col))


def _check_effect(e, path: str, diags: list) -> None:
    if e.ci_low > e.ci_high:
        # Bounds written the wrong way round: the value would also lie "outside" them, which
        # would send a contributor to check the wrong number.
        diags.append(error(path, e.line, "invalid-effect",
                           f"effect: ci_low {e.ci_low:g} is above ci_high {e.ci_high:g}; swap "
                           "them", e.col))
    elif not (e.ci_low <= e.value <= e.ci_high):
        diags.append(error(path, e.line, "invalid-effect",
                           f"effect: value {e.value:g} lies outside its confidence "
                           f"interval {e.ci_low:g} to {e.ci_high:g}", e.col))
    if e.measure in v.RATIO_MEASURES and min(e.value, e.ci_low) <= 0:
        diags.append(error(path, e.line, "invalid-effect",
                           f"effect: a {e.measure} must be greater than 0", e.col))
        return
    low, high = PLAUSIBLE_EFFECTS.get(e.measure, (float("-inf"), float("inf")))
    outside = [f"{name} {x:g}" for name, x in (("value", e.value), ("ci_low", e.ci_low),
                                               ("ci_high", e.ci_high)) if not low <= x <= high]
    if outside:
        diags.append(error(path, e.line, "implausible-effect",
                           f"effect: {', '.join(outside)} lies outside the plausible range for "
                           f"{e.measure}, {low:g} to {high:g}; check the numbers", e.col))


class _TextCollector(HTMLParser):
    """The text of rendered Markdown, as a reader sees it (Markdown's HTML holds no script,
    style or hidden element, so all of its text is shown)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def visible_words(markdown_text: str) -> list[str]:
    """The words of a Markdown text that a reader sees once it is rendered."""
    collector = _TextCollector()
    collector.feed(render_markdown(str(markdown_text)))
    collector.close()
    return _WORD.findall(" ".join(collector.parts))


def _check_config(config, diags: list) -> None:
    line = getattr(config.disclaimer, "line", 0) or config.line or 1
    if len(visible_words(config.disclaimer)) < DISCLAIMER_MIN_WORDS:
        diags.append(error(config.path, line, "empty-disclaimer",
                           "the disclaimer must show at least one sentence of "
                           f"{DISCLAIMER_MIN_WORDS} or more words once its Markdown is "
                           f"rendered; '{config.disclaimer}' does not"))
    if not is_language_tag(str(config.language)):
        line = getattr(config.language, "line", 0) or config.line or 1
        diags.append(error(config.path, line, "invalid-language",
                           f"language '{config.language}' is not a BCP 47 language tag of at "
                           f"most {LANGUAGE_TAG_MAX} characters (such as en, en-GB or pt-BR); "
                           "it is every page's lang and names files of the search index"))


def _check_review_age(claim: Claim, today: datetime.date, max_age: int, diags: list) -> None:
    reviewed = datetime.date.fromisoformat(claim.reviewed.date)
    age = (today - reviewed).days
    if age > max_age:
        diags.append(warning(claim.path, claim.reviewed.line, "review-due",
                             f"last reviewed {claim.reviewed.date}, {age} days ago (the limit "
                             f"is {max_age} days)", claim.reviewed.col))
    elif age < 0:
        diags.append(error(claim.path, claim.reviewed.line, "invalid-date",
                           f"reviewed.date {claim.reviewed.date} is in the future",
                           claim.reviewed.col))


def iter_markdown(obj):
    """Every Markdown text field in a model object, recursively."""
    for name, tp, meta, _ in fields_of(type(obj)):
        value = getattr(obj, name)
        if value is None:
            continue
        if meta.get("markdown") and isinstance(value, str):
            yield value
        elif isinstance(value, list):
            for item in value:
                if dataclasses.is_dataclass(item):
                    yield from iter_markdown(item)
        elif dataclasses.is_dataclass(value):
            yield from iter_markdown(value)


def _check_markdown(content: Content, diags: list) -> None:
    documents = [(c.path, c) for c in content.claims]
    documents += [(s.path, s) for _, s in sorted(content.sources.items())]
    if content.config is not None:
        documents.append((content.config.path, content.config))
    for path, obj in documents:
        for text in iter_markdown(obj):
            # A cheap pre-filter. Raw HTML is disabled, so Markdown makes a link (or image) only
            # from "](", a "]:" reference definition or a "<...>" autolink; a text with none
            # of them cannot hold one and need not be rendered here.
            if "](" not in text and "]:" not in text and "<" not in text:
                continue
            for url in find_unsafe_links(text):
                diags.append(error(path, getattr(text, "line", 0), "unsafe-link",
                                   f"link to '{url}' uses a forbidden scheme (only http:, "
                                   "https: and mailto: links are allowed)",
                                   getattr(text, "col", 0)))
            tags = find_raw_html(text)
            if tags:
                diags.append(warning(path, getattr(text, "line", 0), "raw-html",
                                     f"HTML is not rendered, so readers would see '{tags[0]}' "
                                     "as text; use Markdown instead (**bold**, *italic*, "
                                     "[text](https://...)) or the character itself (² rather "
                                     "than <sup>2</sup>)", getattr(text, "col", 0)))


# Text a reader does not see as our prose: a quotation (verbatim, so it cannot be reworded),
# the name of a full-text file, the output folder.
_NOT_PROSE = frozenset({(Excerpt, "text"), (FullText, "file"), (Config, "output_dir")})
# A BibTeX key or claim id is a whole run of these characters (as the page check reads it).
_TOKEN = re.compile(r"[\w-]+")
_CODE_LIKE = re.compile(r"[\d_-]")
# Link targets and addresses are not read as prose: a key there is part of a link.
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[a-z][a-z0-9+.-]*:[^>]*>|\bhttps?://\S+",
                          re.IGNORECASE)


def iter_prose(obj, where: str = ""):
    """(field label, text) of every free-text field of a model object, recursively: the
    fields without a fixed format or list of choices, which are written as prose."""
    for name, _, meta, _ in fields_of(type(obj)):
        value = getattr(obj, name)
        label = f"{where}.{name}" if where else name
        if value is None or meta.get("pattern") or meta.get("choices") or \
                (type(obj), name) in _NOT_PROSE:
            continue
        if isinstance(value, str):
            yield label, value
        elif isinstance(value, list):
            for i, item in enumerate(value, 1):
                if dataclasses.is_dataclass(item):
                    yield from iter_prose(item, f"{label}[{i}]")
        elif dataclasses.is_dataclass(value):
            yield from iter_prose(value, label)


def _check_raw_keys(content: Content, diags: list) -> None:
    """A BibTeX key or a claim id written in prose reaches readers as a code they do not know
    (tests/test_review_rules.py checks the built pages for the same). A key or id that is a
    plain word ('pain', 'a') may be the word itself, so only those that hold a digit, a hyphen
    or an underscore, as real keys and ids do, are looked for."""
    bibkeys = {k for k in set(content.bib) | set(content.sources) if _CODE_LIKE.search(k)}
    claim_ids = {c.id for c in content.claims if _CODE_LIKE.search(c.id)}
    documents = [(c.path, c) for c in content.claims]
    documents += [(s.path, s) for _, s in sorted(content.sources.items())]
    if content.config is not None:
        documents.append((content.config.path, content.config))
    for path, obj in documents:
        for label, text in iter_prose(obj):
            prose = _LINK_TARGET.sub(" ", text) if "](" in text or "<" in text or "://" in text \
                else text
            for token in dict.fromkeys(_TOKEN.findall(prose)):
                if token in bibkeys:
                    entry = content.bib.get(token)
                    example = f", such as '{short_label(entry)}'" if entry else ""
                    diags.append(error(path, getattr(text, "line", 0), "raw-key",
                                       f"{label}: '{token}' is a BibTeX key, which readers do "
                                       f"not know; name the study in words{example}, as the "
                                       "site's citation links do", getattr(text, "col", 0)))
                elif token in claim_ids:
                    diags.append(error(path, getattr(text, "line", 0), "raw-key",
                                       f"{label}: '{token}' is a claim id, which readers do not "
                                       "know; name the claim in words, or list it under "
                                       "related", getattr(text, "col", 0)))


def check_quotes(sources: dict[str, Source], fulltexts: dict[str, str | None]
                 ) -> tuple[list[Diagnostic], QuoteCheck]:
    """Every excerpt of a source that records its full text must occur in that text; a source
    whose text is not among ``fulltexts`` is an error, so that a wrong folder cannot pass by
    checking nothing.

    Whitespace does not count: the article texts were extracted from web pages, which ran some
    words together ("fibromyalgiasufferersto"), so an excerpt that restores the spaces, or
    whose line breaks differ, must still match. Comparing with all whitespace removed covers
    both (and so runs of whitespace normalised to one space as well); every other character,
    punctuation and capitals included, must be the same."""
    diags = []
    verified = excerpts = articles = 0
    for key, source in sorted(sources.items()):
        if source.fulltext is None or not source.excerpts:
            continue
        excerpts += len(source.excerpts)
        full = source.fulltext
        text = fulltexts.get(full.file)
        if text is None:
            text = fulltexts.get("sha256:" + full.sha256)
        if text is None:
            diags.append(error(source.path, full.file.line, "missing-fulltext",
                               f"no full text {full.file} (or a file with its sha256) among the "
                               f"texts given, so its {_excerpts(len(source.excerpts))} cannot be "
                               "checked", full.file.col))
            continue
        articles += 1
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest != full.sha256:
            diags.append(warning(source.path, full.line, "fulltext-changed",
                                 f"{full.file} does not match the recorded sha256; "
                                 "the text has changed since the excerpts were taken", full.col))
        squashed = _squash(text)
        for ex in source.excerpts:
            if ex.text in text or _squash(ex.text) in squashed:
                verified += 1
                continue
            diags.append(error(source.path, ex.line, "excerpt-mismatch",
                               f"excerpt '{ex.id}' is not verbatim in {full.file}: "
                               f"{_first_difference(ex.text, squashed)}", ex.col))
    return diags, QuoteCheck(verified, excerpts, articles)


def _excerpts(n: int) -> str:
    return f"{n} excerpt{'' if n == 1 else 's'}"


def _squash(text: str) -> str:
    """The text without any whitespace."""
    return "".join(text.split())


def _first_difference(excerpt: str, squashed: str) -> str:
    """Where the excerpt stops matching the text (given without whitespace, as it is
    compared), counted in the excerpt's own characters, to point a contributor at the typo."""
    lo, hi = 0, len(excerpt)
    while lo < hi:  # the longest prefix of the excerpt that occurs in the text
        mid = (lo + hi + 1) // 2
        if _squash(excerpt[:mid]) in squashed:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        return "its first character does not occur"
    context = excerpt[max(0, lo - 30):lo]
    return f"matches up to character {lo} ('…{context}'), then differs"
