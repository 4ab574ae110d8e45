"""Validation: every rule that spans files, plus quote fidelity against full texts.

Owns cross-references (BibTeX keys, source records, excerpt links, related claims), id
uniqueness, the use of each source kind, plausible effect sizes, unsafe links in Markdown,
review age, the site settings (a disclaimer a reader can see, a BCP 47 language tag), and the
grading of each claim through ``grading``. Pure: takes the loaded ``Content`` and returns the
grades with diagnostics; it reads no files (full texts are passed in) and prints nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import hashlib
import re
from html.parser import HTMLParser

from ldn_site import vocabulary as v
from ldn_site.diagnostics import Diagnostic, error, warning
from ldn_site.grading import Grade, grade_claim
from ldn_site.markup import find_unsafe_links, render_markdown
from ldn_site.model import LANGUAGE_TAG_MAX, Claim, Content, Source, Text, is_language_tag
from ldn_site.schema import fields_of

RANDOMIZED_KINDS = frozenset(k.value for k in v.KINDS if k.randomized)

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
    """The outcome of validation: a grade for every claim that could be graded."""

    grades: dict[str, Grade]
    diagnostics: list[Diagnostic]


def split_ref(ref: str) -> tuple[str, str]:
    key, _, excerpt = ref.partition("#")
    return key, excerpt


def validate_content(content: Content, today: datetime.date | None = None,
                     fulltexts: dict[str, str | None] | None = None) -> Validated:
    diags: list[Diagnostic] = []
    sources = content.sources
    excerpt_index = _index_excerpts(sources, diags)
    _check_sources(content, diags)
    claim_ids = {c.id for c in content.claims}
    cited: set[str] = set()
    linked_excerpts: set[str] = set()
    grades: dict[str, Grade] = {}
    for claim in sorted(content.claims, key=lambda c: c.id):
        _check_claim(claim, content, excerpt_index, claim_ids, cited, linked_excerpts, diags)
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
                                         "seen_in"))
    if content.config is not None:
        _check_config(content.config, diags)
    _check_markdown(content, diags)
    if fulltexts is not None:
        diags.extend(check_quotes(sources, fulltexts))
    return Validated(grades, diags)


def _index_excerpts(sources: dict[str, Source], diags: list) -> dict[str, object]:
    index = {}
    for key, source in sorted(sources.items()):
        seen: dict[str, int] = {}
        for ex in source.excerpts:
            if ex.id in seen:
                diags.append(error(source.path, ex.line, "duplicate-id",
                                   f"duplicate excerpt id '{ex.id}' (first defined on line "
                                   f"{seen[ex.id]})"))
                continue
            seen[ex.id] = ex.line
            index[f"{key}#{ex.id}"] = ex
    return index


def _check_sources(content: Content, diags: list) -> None:
    for key, source in sorted(content.sources.items()):
        if key not in content.bib and not content.broken_bib:
            diags.append(error(source.path, 1, "unknown-bibkey",
                               f"source record '{key}' has no entry in {content.bib_path}"))
        if source.risk_of_bias is not None and source.kind not in RANDOMIZED_KINDS:
            diags.append(error(source.path, source.risk_of_bias.line, "invalid-value",
                               f"risk_of_bias applies to randomized evidence only; this source "
                               f"is of kind {source.kind}"))
        if source.kind != "popular-article" and not source.verified_at:
            diags.append(error(source.path, 1, "missing-provenance",
                               "verified_at must list the public pages this record was checked "
                               "against"))
        if source.kind == "popular-article" and source.fulltext is None:
            diags.append(error(source.path, 1, "missing-field",
                               "a popular article needs 'fulltext' so its excerpts can be "
                               "checked verbatim"))
    for key, entry in sorted(content.bib.items()):
        if key not in content.sources and key not in content.broken_sources:
            diags.append(error(content.bib_path, entry.line, "missing-source-record",
                               f"BibTeX entry '{key}' has no source record sources/{key}.yaml"))


def _unreadable_source(content: Content, key: str) -> bool:
    """Whether the source ``key`` may exist but could not be read: its file is broken, or no
    source and no BibTeX entry could be read at all (no sources/ folder, say). Its errors are
    reported already; a claim citing it is not reported again."""
    return key in content.broken_sources or (not content.sources and content.broken_bib)


def _did_you_mean(value: str, candidates) -> str:
    """A hint naming the one candidate close to a mistyped ``value`` (``difflib``'s ratio of
    at least 0.8), or nothing when none is close enough to be worth suggesting."""
    close = difflib.get_close_matches(str(value), sorted(candidates), n=1, cutoff=0.8)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_excerpt_ref(ref: Text, claim: Claim, content: Content, index: dict, diags: list,
                       field: str) -> str | None:
    """Report a dangling excerpt link; return the source kind when it resolves."""
    key, _ = split_ref(ref)
    line = getattr(ref, "line", 0) or claim.line
    if key not in content.bib and key not in content.sources and not content.broken_bib:
        diags.append(error(claim.path, line, "unknown-bibkey",
                           f"{field}: unknown BibTeX key '{key}' in '{ref}'"
                           f"{_did_you_mean(key, content.bib)}"))
        return None
    if _unreadable_source(content, key):
        return None
    if key not in content.sources:
        diags.append(error(claim.path, line, "missing-source-record",
                           f"{field}: '{ref}' points to a source with no record "
                           f"(sources/{key}.yaml)"))
        return None
    if ref not in index:
        ids = [f"{key}#{e.id}" for e in content.sources[key].excerpts]
        diags.append(error(claim.path, line, "dangling-excerpt",
                           f"{field}: excerpt '{ref}' does not exist{_did_you_mean(ref, ids)}"))
        return None
    return content.sources[key].kind


def _check_claim(claim: Claim, content: Content, index: dict, claim_ids: set, cited: set,
                 linked: set, diags: list) -> None:
    for item in claim.evidence:
        if item.source not in content.bib and not content.broken_bib:
            diags.append(error(claim.path, item.source.line, "unknown-bibkey",
                               f"evidence: unknown BibTeX key '{item.source}'"
                               f"{_did_you_mean(item.source, content.bib)}"))
        elif _unreadable_source(content, item.source):
            pass  # its file's own errors are reported already
        elif item.source not in content.sources:
            diags.append(error(claim.path, item.source.line, "missing-source-record",
                               f"evidence: source '{item.source}' has no record "
                               f"(sources/{item.source}.yaml)"))
        else:
            cited.add(item.source)
            if content.sources[item.source].kind == "popular-article":
                diags.append(error(claim.path, item.source.line, "article-as-evidence",
                                   f"evidence: '{item.source}' is a popular article under review; "
                                   "cite it in seen_in, not as evidence"))
        for ref in item.excerpts:
            if _check_excerpt_ref(ref, claim, content, index, diags, "evidence") and \
                    split_ref(ref)[0] != item.source:
                diags.append(error(claim.path, ref.line, "excerpt-source-mismatch",
                                   f"evidence: excerpt '{ref}' is not from the item's source "
                                   f"'{item.source}'"))
        if item.effect is not None:
            _check_effect(item.effect, claim.path, diags)
    if claim.evidence and not any(item.excerpts for item in claim.evidence):  # else too-few-items
        diags.append(error(claim.path, claim.line, "missing-excerpt",
                           "the claim's evidence quotes no excerpt; at least one item needs "
                           "'excerpts' so readers can see the source's own words"))
    for ref in claim.seen_in:
        kind = _check_excerpt_ref(ref, claim, content, index, diags, "seen_in")
        if kind is not None:
            linked.add(str(ref))
            if kind != "popular-article":
                diags.append(error(claim.path, ref.line, "not-an-article",
                                   f"seen_in: '{ref}' is not an excerpt of a popular article"))
    for effect in claim.side_effects:
        _check_excerpt_ref(effect.source, claim, content, index, diags, "side_effects")
    seen_related = set()
    for rel in claim.related:
        if rel == claim.id:
            diags.append(error(claim.path, rel.line, "self-reference",
                               "related: a claim cannot be related to itself"))
        elif rel not in claim_ids and rel not in content.broken_claims:
            diags.append(error(claim.path, rel.line, "dangling-claim",
                               f"related: no claim with id '{rel}'"
                               f"{_did_you_mean(rel, claim_ids - {claim.id})}"))
        elif rel in seen_related:
            diags.append(error(claim.path, rel.line, "duplicate-id",
                               f"related: '{rel}' is listed twice"))
        seen_related.add(rel)
    if claim.dose and claim.dose.min_mg is not None and claim.dose.max_mg is not None \
            and claim.dose.min_mg > claim.dose.max_mg:
        diags.append(error(claim.path, claim.dose.line, "invalid-value",
                           "dose: min_mg is larger than max_mg"))


def _check_effect(e, path: str, diags: list) -> None:
    if not (e.ci_low <= e.value <= e.ci_high):
        diags.append(error(path, e.line, "invalid-effect",
                           f"effect: value {e.value:g} lies outside its confidence "
                           f"interval {e.ci_low:g} to {e.ci_high:g}"))
    if e.measure in v.RATIO_MEASURES and min(e.value, e.ci_low) <= 0:
        diags.append(error(path, e.line, "invalid-effect",
                           f"effect: a {e.measure} must be greater than 0"))
        return
    low, high = PLAUSIBLE_EFFECTS.get(e.measure, (float("-inf"), float("inf")))
    outside = [f"{name} {x:g}" for name, x in (("value", e.value), ("ci_low", e.ci_low),
                                               ("ci_high", e.ci_high)) if not low <= x <= high]
    if outside:
        diags.append(error(path, e.line, "implausible-effect",
                           f"effect: {', '.join(outside)} lies outside the plausible range for "
                           f"{e.measure}, {low:g} to {high:g}; check the numbers"))


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
                             f"is {max_age} days)"))
    elif age < 0:
        diags.append(error(claim.path, claim.reviewed.line, "invalid-date",
                           f"reviewed.date {claim.reviewed.date} is in the future"))


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
                                   f"link to '{url}' uses a forbidden scheme (javascript:, "
                                   "data: and vbscript: are refused)"))


def check_quotes(sources: dict[str, Source], fulltexts: dict[str, str | None]) -> list[Diagnostic]:
    """Every excerpt of a source whose full text is available must occur in it verbatim."""
    diags = []
    for key, source in sorted(sources.items()):
        if source.fulltext is None:
            continue
        text = fulltexts.get(source.fulltext.file)
        if text is None:
            text = fulltexts.get("sha256:" + source.fulltext.sha256)
        if text is None:
            continue
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest != source.fulltext.sha256:
            diags.append(warning(source.path, source.fulltext.line, "fulltext-changed",
                                 f"{source.fulltext.file} does not match the recorded sha256; "
                                 "the text has changed since the excerpts were taken"))
        for ex in source.excerpts:
            if ex.text not in text:
                diags.append(error(source.path, ex.line, "excerpt-mismatch",
                                   f"excerpt '{ex.id}' is not verbatim in "
                                   f"{source.fulltext.file}: {_first_difference(ex.text, text)}"))
    return diags


def _first_difference(excerpt: str, text: str) -> str:
    """Where the excerpt stops matching the text, to point a contributor at the typo."""
    lo, hi = 0, len(excerpt)
    while lo < hi:  # the longest prefix of the excerpt that occurs in the text
        mid = (lo + hi + 1) // 2
        if excerpt[:mid] in text:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        return "its first character does not occur"
    context = excerpt[max(0, lo - 30):lo]
    return f"matches up to character {lo} ('…{context}'), then differs"
