"""XSS (issue 12, item 10): well over 100 attack vectors in every field a contributor
controls, built by the real pipeline and loaded in Chromium.

Every free-text field of the content model (found from the model itself, so that a new field
cannot go untested), the URL fields, the BibTeX fields the site shows and the site settings
receive each vector. The fields that are not free text (a choice, an id or reference, a date, a
number: ``CONSTRAINED`` says which and why) are shown to refuse every vector as the schema
reads them, and hold a value it allows, so that the parts of the pages that show them are
built and loaded too. A vector carries a probe with a number naming its vector and field: half
call ``alert(n)`` (caught as a dialog), half call ``__xss(n)`` (a binding Playwright puts on
every window and frame). Every page of the built site is loaded, search included; an
execution, or live markup left in the page (an event-handler attribute, an injected script, a
``javascript:`` link, an iframe...), fails the run, naming vector, field and page.

A control build with Jinja's escaping switched off must show executions: a harness that sees
none there is blind. (The open data's CSV is checked for cells a spreadsheet would run as a
formula in tests/test_hostile_inputs.py.)
"""

from __future__ import annotations

import base64
import dataclasses
import glob
import html
import os
import shutil
import typing

import pytest
import yaml

from chromium import launch, require_chromium, serve

require_chromium()

from hostile import ci_only, note, tally  # noqa: E402
from ldn_site import pipeline, rendering  # noqa: E402
from ldn_site.bibliography import bib_entry_problems  # noqa: E402
from ldn_site.markup import find_unsafe_links  # noqa: E402
from ldn_site.model import BibEntry, Claim, Config, Source, is_language_tag  # noqa: E402
from ldn_site.schema import _convert_scalar as convert_scalar  # noqa: E402
from ldn_site.schema import _unwrap_optional, fields_of  # noqa: E402
from ldn_site.yamlnodes import SCALAR, Node  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# --- the vectors ------------------------------------------------------------------------------

# {P} is the probe call. Each executes on its own when the page loads, if it reaches the page
# as markup; none needs a click.
_PAYLOADS = [
    "<script>{P}</script>", "<img src=x onerror={P}>", "<svg onload={P}>",
    "<svg><script>{P}</script></svg>", "<body onload={P}>", "<details open ontoggle={P}>",
    "<input autofocus onfocus={P}>", "<select autofocus onfocus={P}></select>",
    "<textarea autofocus onfocus={P}></textarea>", "<video src=x onerror={P}></video>",
    "<audio src=x onerror={P}></audio>", "<iframe srcdoc='<script>parent.{P}</script>'>",
    "<iframe src=javascript:{P}></iframe>", "<iframe onload={P}></iframe>",
    "<object data=javascript:{P}></object>", "<embed src=javascript:{P}>",
    "<style onload={P}></style>", "<link rel=stylesheet href=x onerror={P}>",
    "<marquee onstart={P}>x</marquee>", "<svg><animate onbegin={P} attributeName=x dur=1s>",
    "<img src=x onerror=\"{P}\">", "<img src=x onerror='{P}'>", "<IMG SRC=x OnErRoR={P}>",
    "<img/src=x/onerror={P}>", "<svg/onload={P}>", "<img\tsrc=x\nonerror={P}>",
    "<img src=x onerror={P}//", "<script src=data:text/javascript,{P}></script>",
    "<img src=x onerror=eval(atob('{B64}'))>", "<scr<script>ipt>{P}</scr</script>ipt>",
    "<math><mtext><table><mglyph><style><img src=x onerror={P}>",
    "<noscript><p title=\"</noscript><img src=x onerror={P}>\">",
    "<style>@keyframes k{}</style><b style=animation-name:k onanimationstart={P}>x</b>",
    "<form><button formaction=javascript:{P}>x</button></form>",
    "<meta http-equiv=refresh content='0;url=javascript:{P}'>", "<base href=javascript:{P}//>",
    "<a href=javascript:{P}>x</a>", "<a href=' javascript:{P}'>x</a>",
    "<a href=JaVaScRiPt:{P}>x</a>", "<a href='java&#10;script:{P}'>x</a>",
    "<a href='&#106;avascript:{P}'>x</a>", "<a href=data:text/html,<script>{P}</script>>x</a>",
    "<x onclick={P}>click</x>", "<div onmouseover={P}>hover</div>",
    "<svg><foreignObject><img src=x onerror={P}></foreignObject></svg>",
    "<img srcset=x onerror={P}>", "<picture><source srcset=x><img src=x onerror={P}></picture>",
    "<svg><a xlink:href=javascript:{P}><text y=20>x</text></a></svg>",
    "<input type=image src=x onerror={P}>", "<object data=data:text/html,<script>{P}</script>>",
    "\"-{P}-\"", "';{P};//", "{{constructor.constructor('{P}')()}}", "${{P}}",
]
# Ways out of the context a value may land in, each followed by two of the payloads.
_BREAKOUTS = ["\">", "'>", "`>", "</title>", "</textarea>", "</script>", "</style>", "-->",
              "]]>", "</noscript>", "*/", "\"}", "</desc></svg>", "</a>"]
# Markdown's own ways to make links and images.
_MARKDOWN = [
    "[x](javascript:{P})", "[x](JAVASCRIPT:{P})", "[x]( javascript:{P} )",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:{P})", "![x](x\" onerror=\"{P})", "![x](javascript:{P})",
    "<javascript:{P}>", "[x][r]\n\n[r]: javascript:{P}", "[x](java&#x09;script:{P})",
    "[<img src=x onerror={P}>](https://example.org)", "`<script>{P}</script>`",
    "**<img src=x onerror={P}>**", "&lt;script&gt;{P}&lt;/script&gt;",
    "```\n</code><script>{P}</script>\n```",
]
# Text a spreadsheet would run as a formula (for the CSV check); harmless in a page.
_FORMULAS = ["=HYPERLINK(\"https://example.org\",\"{P}\")", "+1+{P}", "-1+{P}", "@SUM({P})",
             "\t=1+{P}", "\r=1+{P}"]


def _vectors() -> list[str]:
    out = list(_PAYLOADS)
    for i, breakout in enumerate(_BREAKOUTS):
        out += [breakout + _PAYLOADS[(3 * i + k) % 12] for k in range(3)]
    return out + _MARKDOWN + _FORMULAS


VECTORS = _vectors()
XSS_VECTORS = len(VECTORS) - len(_FORMULAS)


def probe(vector: int, field: int) -> str:
    number = vector * 100 + field
    return f"alert({number})" if vector % 2 == 0 else f"__xss({number})"


def fill(vector: int, field: int, url: str = "", bib: bool = False) -> str:
    """Vector number ``vector`` with the probe of that vector and ``field`` in it. A URL field
    gets it after the address ``url`` (an https address; a DOI's 10.x prefix), with spaces
    turned into slashes, as its pattern allows no space; a BibTeX field with braces and
    backslashes turned into parentheses and nothing (BibTeX would read them as its syntax)."""
    p = probe(vector, field)
    text = VECTORS[vector].replace("{B64}", base64.b64encode(p.encode()).decode())
    text = text.replace("{P}", p)
    if url:
        text = url + "/".join(text.split())
    if bib:
        text = text.replace("{", "(").replace("}", ")").replace("\\", "")
        text = " ".join(text.split())  # a new line in a BibTeX field is only a space
    return text


# --- the fields ------------------------------------------------------------------------------

MODELS = ((Claim, "claims/*.yaml"), (Source, "sources/*.yaml"), (Config, "site.yaml"))


def field_types(cls):
    """(name, type, metadata, whether a list) for each field of ``cls``; a list's type is
    its items' type, an optional field's the type it holds."""
    for name, tp, meta, _ in fields_of(cls):
        tp, _ = _unwrap_optional(tp)
        many = typing.get_origin(tp) is list
        yield name, typing.get_args(tp)[0] if many else tp, meta, many


def model_fields() -> dict[str, tuple[type, dict]]:
    """Every field of a claim, a source and site.yaml that a contributor writes, as Class.path
    (``[]`` after a list), with its type and its metadata."""
    out = {}

    def walk(cls, prefix):
        for name, tp, meta, many in field_types(cls):
            path = f"{prefix}.{name}" + ("[]" if many else "")
            if dataclasses.is_dataclass(tp):
                walk(tp, path)
            else:
                out[path] = (tp, meta)

    for cls, _ in MODELS:
        walk(cls, cls.__name__)
    return out


def written_fields(folder: str) -> set[str]:
    """The fields (named as by ``model_fields``) that the content files in ``folder`` give a
    value."""
    out = set()

    def walk(cls, data, prefix):
        for name, tp, _, many in field_types(cls):
            if name in data:
                path = f"{prefix}.{name}" + ("[]" if many else "")
                for value in data[name] if many else [data[name]]:
                    if dataclasses.is_dataclass(tp):
                        walk(tp, value, path)
                    else:
                        out.add(path)

    for cls, pattern in MODELS:
        for path in glob.glob(os.path.join(folder, pattern)):
            with open(path, encoding="utf-8") as f:
                walk(cls, yaml.safe_load(f), cls.__name__)
    return out


def why_not_free_text(tp: type, meta: dict) -> str:
    """Why the schema lets no vector into a field (checked, vector by vector, in the first
    test), or "" for free text. A URL's pattern is free text: https:// then anything but a
    space."""
    if tp is not str:
        kind = {int: "a whole number", float: "a number", bool: "true or false"}[tp]
        return f"{kind}: the schema refuses any other text"
    if meta.get("choices"):
        return "one of a fixed list of words"
    if meta.get("date"):
        return "a date, YYYY-MM-DD"
    if meta.get("pattern") and not meta["pattern"].startswith("^https?"):
        return f"an id, reference, code or digest matching {meta['pattern']}"
    return ""


MODEL_FIELDS = model_fields()
# The fields that are not free text, and why; the sites below give each a value the schema
# allows, so that the parts of the pages that show them are built and loaded too.
CONSTRAINED = {path: why for path, (tp, meta) in MODEL_FIELDS.items()
               if (why := why_not_free_text(tp, meta))}


def model_text_fields(markdown_only: bool = False) -> set[str]:
    """Every field of a claim, a source and site.yaml that holds text a contributor writes
    freely, as Class.path; or only the Markdown ones."""
    return {path for path, (_, meta) in MODEL_FIELDS.items()
            if path not in CONSTRAINED and (meta.get("markdown") or not markdown_only)}


# Free text that gets no vector, and why.
NOT_SHOWN = {"Config.output_dir": "a folder path, never shown",
             "Config.language": "validated as a BCP 47 tag, so it cannot hold markup"}
URL_FIELDS = {"Source.verified_at[]": "https://example.org/",
              "Source.url": "https://example.org/", "Config.base_url": "https://example.org/",
              "Config.report_url": "https://example.org/report/",
              "BibTeX.url": "https://example.org/", "BibTeX.doi": "10.1000/"}
BIB_FIELDS = ["author", "editor", "title", "journal", "booktitle", "organization", "institution",
              "howpublished", "publisher", "volume", "number", "edition", "pages",
              "doi", "url", "pmid", "pmcid"]
# BibTeX fields that validation holds to a pattern, with the value they get instead: a vector
# there only fails the build (test_no_vector_fits_a_field_that_is_not_free_text shows it).
BIB_CONSTRAINED = {"year": "2020"}


MARKDOWN_FIELDS = model_text_fields(markdown_only=True)
# The disclaimer must show a sentence, or the build refuses it: each vector follows one.
DISCLAIMER_LEAD = "Not medical advice, in any case: "


class Fields:
    """Numbers each field as it is filled, so that a probe names its field. A Markdown link
    with a javascript:, data: or vbscript: address is refused by validation, which fails the
    whole build; such a pair is set aside in ``refused`` (and a plain text takes its place)
    unless ``keep_refused``, for a build that checks the refusal itself."""

    def __init__(self, vector: int, keep_refused: bool = False):
        self.vector = vector
        self.names: list[str] = []
        self.file = ""  # the file being written, set by the caller
        self.refused: list[tuple[str, str]] = []  # (file, field)
        self.keep_refused = keep_refused

    def __call__(self, name: str, bib: bool = False) -> str:
        if name not in self.names:
            self.names.append(name)
        text = fill(self.vector, self.names.index(name), url=URL_FIELDS.get(name, ""), bib=bib)
        if name == "Config.disclaimer":
            text = DISCLAIMER_LEAD + text
        if name in MARKDOWN_FIELDS and find_unsafe_links(text):
            self.refused.append((self.file, name))
            if not self.keep_refused:
                return f"Vector {self.vector} is refused here."
        return text


def arms(counted: str) -> dict:
    """Events in each group: the ``counted`` one as events of a total, the other as a
    percentage (both are shown). A new mapping each time: PyYAML would write a shared one as
    an anchor, which is refused."""
    other = "comparator" if counted == "intervention" else "intervention"
    return {counted: {"events": 4, "total": 20}, other: {"percent": 40.0}}


def effect(f: Fields, counted: str, **numbers) -> dict:
    """A numeric effect with the groups it compares and the events in each (``counted``
    as events of a total, the other as a percentage)."""
    return {"outcome": f("Claim.evidence[].effect.outcome"), **numbers, "n": 40,
            "intervention": f("Claim.evidence[].effect.intervention"),
            "comparator": f("Claim.evidence[].effect.comparator"), "arms": arms(counted)}


def side_effect(f: Fields, ref: str, counted: str) -> dict:
    return {"effect": f("Claim.side_effects[].effect"),
            "frequency": f("Claim.side_effects[].frequency"), "source": ref,
            "arms": arms(counted)}


def claim_a(v: int, f: Fields) -> dict:
    """A claim on randomized evidence using every optional part of a claim."""
    down = {d: {"rating": "serious", "reason": f(f"Claim.grading.{d}.reason")}
            for d in ("risk_of_bias", "inconsistency", "indirectness", "imprecision",
                      "publication_bias")}
    return {
        "title": f("Claim.title"), "statement": f("Claim.statement"), "topic": "efficacy",
        "verdict": "mixed",
        "evidence": [{"source": f"t{v}", "finding": f("Claim.evidence[].finding"),
                      "direction": "supports", "excerpts": [f"t{v}#e1", f"t{v}#e2"],
                      "effect": effect(f, "intervention", measure="RR", value=0.5, ci_low=0.3,
                                       ci_high=0.9, better="lower")}],
        "grading": down, "summary": f("Claim.summary"), "question": f("Claim.question"),
        "plain_reading": f("Claim.plain_reading"),
        "reviewed": {"date": "2026-01-15", "reviewer": f("Claim.reviewed.reviewer")},
        "dose": {"min_mg": 1.5, "max_mg": 4.5, "timing": f("Claim.dose.timing"),
                 "duration": f("Claim.dose.duration")},
        "mechanism": {"pathway": f("Claim.mechanism.pathway"), "status": "hypothesis"},
        "side_effects": [side_effect(f, f"t{v}#e1", "comparator")],
        "origin": f("Claim.origin"), "seen_in": [f"a{v}#e1", f"a{v}#e2"],
        "related": [f"c{v}-b", f"c{v}-c"], "kind": "effect",
    }


def claim_b(v: int, f: Fields) -> dict:
    """A claim on observational evidence: the only kind the upgrade domains apply to."""
    up = {"large_effect": {"rating": "large", "reason": f("Claim.grading.large_effect.reason")},
          "dose_response": {"rating": "present",
                            "reason": f("Claim.grading.dose_response.reason")},
          "plausible_confounding": {"rating": "present",
                                    "reason": f("Claim.grading.plausible_confounding.reason")}}
    return {"title": f("Claim.title"), "statement": f("Claim.statement"), "topic": "safety",
            "verdict": "supported",
            "evidence": [{"source": f"o{v}", "finding": f("Claim.evidence[].finding"),
                          "direction": "supports", "excerpts": [f"o{v}#e1"],
                          "effect": effect(f, "comparator", measure="MD", value=1.5,
                                           ci_low=0.5, ci_high=2.5, better="higher")}],
            "grading": up, "summary": f("Claim.summary"),
            "side_effects": [side_effect(f, f"o{v}#e1", "intervention")],
            "reviewed": {"date": "2026-01-20", "reviewer": f("Claim.reviewed.reviewer")}}


def claim_c(v: int, f: Fields) -> dict:
    """A factual claim: settled by a named authority, with no GRADE judgement, resting in part
    on a study whose journal and DOI are unverified."""
    return {"title": f("Claim.title"), "statement": f("Claim.statement"), "topic": "dose",
            "verdict": "refuted", "kind": "factual", "authority": f("Claim.authority"),
            "question": f("Claim.question"), "plain_reading": f("Claim.plain_reading"),
            "evidence": [{"source": f"o{v}", "finding": f("Claim.evidence[].finding"),
                          "direction": "contradicts", "excerpts": [f"o{v}#e2"]},
                         {"source": f"u{v}", "finding": f("Claim.evidence[].finding"),
                          "direction": "inconclusive", "excerpts": [f"u{v}#e1"]}],
            "summary": f("Claim.summary"),
            "reviewed": {"date": "2026-01-25", "reviewer": f("Claim.reviewed.reviewer")}}


def excerpts(f: Fields) -> list[dict]:
    """One quotation in English, one in another language with its translation."""
    return [{"id": "e1", "text": f("Source.excerpts[].text"),
             "locator": f("Source.excerpts[].locator")},
            {"id": "e2", "text": f("Source.excerpts[].text"),
             "locator": f("Source.excerpts[].locator"), "lang": "nb",
             "translation": f("Source.excerpts[].translation")}]


def study(f: Fields, kind: str, counted_as: str = "") -> dict:
    """A primary study; ``counted_as``: the key of the study reporting on the same people."""
    record = {"kind": kind}
    for name in ("design", "population", "intervention", "dose", "duration", "comparator",
                 "registration", "trial_name", "setting", "results", "conclusion",
                 "limitations", "notes"):
        record[name] = f(f"Source.{name}")
    record.update(n=40, population_group="fibromyalgia", dose_group="low")
    record["verified_at"] = [f("Source.verified_at[]")]
    record["excerpts"] = excerpts(f)
    if kind == "randomized-trial":
        record["risk_of_bias"] = {"randomization": "low", "deviations": "low",
                                  "missing_data": "some-concerns", "measurement": "low",
                                  "reporting": "low", "overall": "some-concerns",
                                  "note": f("Source.risk_of_bias.note")}
    if counted_as:
        record.update(register=True, same_participants_as=counted_as)
    if kind == "open-label-study":
        record["unverified"] = ["journal", "doi"]
    return record


def article(f: Fields) -> dict:
    return {"kind": "popular-article", "publisher": f("Source.publisher"),
            "interests": f("Source.interests"), "assessment": f("Source.assessment"),
            "url": f("Source.url"), "site_name": f("Source.site_name"),
            "published": "2025-06-01", "verified_at": [f("Source.verified_at[]")],
            "fulltext": {"file": f("Source.fulltext.file"), "sha256": "0" * 64},
            "excerpts": excerpts(f)}


def bib_entry(key: str, kind: str, f: Fields) -> str:
    fields = [f"  {name} = {{{f(f'BibTeX.{name}', bib=True)}}}" for name in BIB_FIELDS]
    fields += [f"  {name} = {{{value}}}" for name, value in BIB_CONSTRAINED.items()]
    return f"@{kind}{{{key},\n" + ",\n".join(fields) + "\n}\n"


def site_settings(f: Fields) -> dict:
    return {"title": f("Config.title"), "base_url": f("Config.base_url") + "/",
            "description": f("Config.description"), "disclaimer": f("Config.disclaimer"),
            "maintainers": [{"name": f("Config.maintainers[].name"),
                             "role": f("Config.maintainers[].role")}],
            "language": "en-GB", "output_dir": "_site", "review_max_age_days": 3650,
            "key_messages": [{"claim": "drug-reduces-pain",
                              "message": f("Config.key_messages[].message")}],
            "report_url": f("Config.report_url")}


SAFE_SITE = {"title": "XSS test site", "base_url": "https://example.org/xss/",
             "description": "Every field holds an attack.",
             "disclaimer": "Not medical advice. Information only.",
             "maintainers": [{"name": "Tester"}]}


def dump(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as out:
        yaml.safe_dump(data, out, allow_unicode=True, sort_keys=False, width=10**6)


@dataclasses.dataclass
class Written:
    names: dict[int, list[str]]  # vector -> its field names, by field number
    refused: list[tuple[str, str]]  # (file, field) pairs validation refuses

    @property
    def pairs(self) -> int:
        return sum(len(n) for n in self.names.values())


def write_content_site(folder: str, vectors, keep_refused: bool = False) -> Written:
    """A site with, for each vector, three claims (graded on randomized and on observational
    evidence, and factual), a trial, a cohort study (a later report on the trial's people), an
    open-label study (unverified) and a popular article (with their BibTeX entries), every
    contributor field holding that vector."""
    os.makedirs(os.path.join(folder, "claims"))
    os.makedirs(os.path.join(folder, "sources"))
    shutil.copytree(os.path.join(ROOT, "templates"), os.path.join(folder, "templates"))
    # The home page's key messages show the claims of the first vectors as cards.
    dump(os.path.join(folder, "site.yaml"),
         dict(SAFE_SITE, key_messages=[{"claim": f"c{v}-a", "message": f"Message {v}."}
                                       for v in list(vectors)[:5]]))
    written, bib = Written({}, []), []
    for v in vectors:
        f = Fields(v, keep_refused)
        for rel, record in ((f"claims/c{v}-a.yaml", lambda: claim_a(v, f)),
                            (f"claims/c{v}-b.yaml", lambda: claim_b(v, f)),
                            (f"claims/c{v}-c.yaml", lambda: claim_c(v, f)),
                            (f"sources/t{v}.yaml", lambda: study(f, "randomized-trial")),
                            (f"sources/o{v}.yaml", lambda: study(f, "cohort-study", f"t{v}")),
                            (f"sources/u{v}.yaml", lambda: study(f, "open-label-study")),
                            (f"sources/a{v}.yaml", lambda: article(f))):
            f.file = rel
            dump(os.path.join(folder, rel), record())
        bib += [bib_entry(f"t{v}", "article", f), bib_entry(f"o{v}", "article", f),
                bib_entry(f"u{v}", "article", f), bib_entry(f"a{v}", "misc", f)]
        written.names[v] = f.names
        written.refused += f.refused
    with open(os.path.join(folder, "sources", "references.bib"), "w", encoding="utf-8") as out:
        out.write("\n".join(bib))
    return written


def write_settings_site(folder: str, vector: int, keep_refused: bool = False) -> Written:
    """The minimal sample site with every site.yaml field holding one vector."""
    shutil.copytree(os.path.join(ROOT, "tests", "sites", "minimal"), folder)
    shutil.copytree(os.path.join(ROOT, "templates"), os.path.join(folder, "templates"))
    f = Fields(vector, keep_refused)
    f.file = "site.yaml"
    dump(os.path.join(folder, "site.yaml"), site_settings(f))
    return Written({vector: f.names}, f.refused)


# --- loading pages in Chromium ---------------------------------------------------------------

# Live markup a vector left in the page, executed or not (it may need a click or a hover).
SCAN = """() => {
  const found = [];
  const urls = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'poster'];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const value = a.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (name.startsWith('on')) found.push(`<${el.localName} ${name}>`);
      if (urls.includes(name) && /^(javascript|vbscript|data):/.test(value))
        found.push(`<${el.localName} ${name}="${a.value.slice(0, 40)}">`);
    }
    if (['iframe', 'object', 'embed', 'base', 'frame', 'frameset'].includes(el.localName))
      found.push(`<${el.localName}>`);
    if (el.localName === 'meta' && /refresh/i.test(el.getAttribute('http-equiv') || ''))
      found.push('<meta http-equiv=refresh>');
    // JSON-LD is data, never run; a vector that broke out of it makes a script of its own.
    if (el.localName === 'script' && el.type !== 'application/ld+json' &&
        /alert\\(|__xss\\(/.test(el.textContent))
      found.push('<script> holding a probe');
  }
  return found;
}"""


@dataclasses.dataclass
class Findings:
    executed: dict[int, set[str]] = dataclasses.field(default_factory=dict)  # probe -> pages
    live: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # page -> markup

    def hit(self, number, page: str) -> None:
        try:
            self.executed.setdefault(int(number), set()).add(page)
        except (TypeError, ValueError):
            self.executed.setdefault(-1, set()).add(f"{page} ({number!r})")


def html_pages(out: str) -> list[str]:
    pages = []
    for dirpath, _, filenames in os.walk(out):
        pages += [os.path.relpath(os.path.join(dirpath, n), out).replace(os.sep, "/")
                  for n in filenames if n.endswith(".html")]
    return sorted(pages)


def load_pages(browser, origin: str, pages: list[str], settle_ms: int = 40) -> Findings:
    found = Findings()
    context = browser.new_context(service_workers="block")
    current = {"page": ""}
    context.expose_binding("__xss", lambda source, number: found.hit(number, current["page"]))
    page = context.new_page()

    def dialog(d):
        found.hit(d.message, current["page"])
        d.dismiss()

    page.on("dialog", dialog)
    try:
        for path in pages:
            current["page"] = path
            try:
                page.goto(f"{origin}/{path}", wait_until="load", timeout=20000)
                page.wait_for_timeout(settle_ms)
                live = page.evaluate(SCAN)
            except Exception as exc:  # noqa: BLE001 - a vector that navigates away, say
                live = [f"the page could not be inspected: {type(exc).__name__}"]
            if live:
                found.live[path] = live
    finally:
        context.close()
    return found


def describe(found: Findings, names: dict[int, list[str]]) -> list[str]:
    lines = []
    for number, pages in sorted(found.executed.items()):
        v, field = divmod(number, 100)
        field_name = names.get(v, [])[field] if 0 <= field < len(names.get(v, [])) else "?"
        lines.append(f"vector {v} {VECTORS[v % len(VECTORS)]!r} in {field_name} executed on "
                     f"{sorted(pages)[:3]}")
    lines += [f"{page}: live markup {markup[:5]}" for page, markup in sorted(found.live.items())]
    return lines


def build(folder: str, out: str, search: bool) -> pipeline.BuildResult:
    result = pipeline.build_site(folder, output=out, use_cache=False, search=search)
    assert result.written, [d.format() for d in result.diagnostics][:20]
    return result


# --- the tests -------------------------------------------------------------------------------

def test_there_are_at_least_100_vectors_and_every_contributor_field_gets_them(tmp_path):
    assert XSS_VECTORS >= 100, XSS_VECTORS
    content, settings = str(tmp_path / "content"), str(tmp_path / "settings")
    names = write_content_site(content, range(1)).names[0]
    names += write_settings_site(settings, 0).names[0]
    model = model_text_fields() - set(NOT_SHOWN)
    assert set(n for n in names if not n.startswith("BibTeX.")) == model
    assert {f"BibTeX.{name}" for name in BIB_FIELDS} <= set(names)
    # The fields that are not free text hold a value the schema allows, so that what shows
    # them is on the pages beside the vectors.
    assert set(MODEL_FIELDS) - written_fields(content) - written_fields(settings) == set()


def test_no_vector_fits_a_field_that_is_not_free_text():
    """The fields set apart as not free text (CONSTRAINED, and the language tag in NOT_SHOWN)
    refuse every vector, checked as the schema and validation check them."""
    assert {"Claim.verdict", "Source.excerpts[].lang", "Source.n", "Source.register",
            "Source.published", "Config.key_messages[].claim"} <= set(CONSTRAINED)
    for path, why in sorted(CONSTRAINED.items()):
        tp, meta = MODEL_FIELDS[path]
        for v in range(len(VECTORS)):
            text = fill(v, 0)
            node = Node(SCALAR, 1, text, plain=True)
            assert convert_scalar(node, tp, meta, "x.yaml", path, []) is None, (path, why, text)
    assert not any(is_language_tag(fill(v, 0)) for v in range(len(VECTORS)))
    for name, value in BIB_CONSTRAINED.items():
        for v in [None, *range(len(VECTORS))]:
            text = value if v is None else fill(v, 0, bib=True)
            entry = BibEntry("k", "misc", {"title": "T", name: text}, 1, {"title": 2, name: 3})
            assert bool(bib_entry_problems(entry)) == (v is not None), (name, text)


def test_markdown_links_with_unsafe_schemes_are_refused_at_their_line(tmp_path):
    """The pairs the other builds set aside: with them in, validation refuses the site, each
    at the file and line of the field that holds the link, and for no other reason."""
    sites = {str(tmp_path / "site"): write_content_site(str(tmp_path / "site"),
                                                         range(len(VECTORS)), keep_refused=True)}
    for v in range(len(VECTORS)):
        folder = str(tmp_path / f"s{v}")
        written = write_settings_site(folder, v, keep_refused=True)
        if written.refused:
            sites[folder] = written
    expected, found = set(), set()
    for folder, written in sites.items():
        expected |= {(folder, rel, name.rsplit(".", 1)[-1].rstrip("[]"))
                     for rel, name in written.refused}
        errors = [d for d in pipeline.check_site(folder).diagnostics if d.severity == "error"]
        assert {d.code for d in errors} == {"unsafe-link"}, errors[:5]
        for d in errors:  # the line the error names holds the field's key
            with open(os.path.join(folder, d.path), encoding="utf-8") as f:
                line = f.read().split("\n")[d.line - 1]
            found.add((folder, d.path, line.strip().lstrip("- ").split(":", 1)[0]))
    assert found == expected
    assert len(expected) >= 100 and any(rel == "site.yaml" for _, rel, _ in expected)
    with tally("xss", "refused by validation"):
        note("xss", "refused by validation",
             f"{sum(len(w.refused) for w in sites.values())} vector x Markdown field pairs "
             "with a javascript:, data: or vbscript: link, each refused at its line")


@pytest.fixture(scope="module")
def browser():
    with launch() as b:
        yield b


@ci_only
def test_no_vector_runs_in_any_content_field(browser, tmp_path):
    """Claims, sources and BibTeX: one build holding every vector, each page loaded."""
    folder, out = str(tmp_path / "site"), str(tmp_path / "www")
    written = write_content_site(folder, range(len(VECTORS)))
    result = build(folder, out, search=True)
    pages = html_pages(out) + ["search.html?q=script", "search.html?q=onerror",
                               "search.html?q=javascript"]
    with serve(out) as origin:
        found = load_pages(browser, origin, pages)
    with tally("xss", "claim, source and BibTeX fields"):
        note("xss", "claim, source and BibTeX fields",
             f"{len(VECTORS)} vectors x {written.pairs // len(VECTORS)} fields = "
             f"{written.pairs} pairs ({len(written.refused)} refused by validation), "
             f"{len(pages)} pages loaded, {len(found.executed)} probes executed, "
             f"{len(found.live)} pages with live markup")
        assert describe(found, written.names) == []
        # The vectors did reach the pages, as text: the scan looked at the right thing.
        with open(os.path.join(out, "claims", "c1-a.html"), encoding="utf-8") as f:
            assert "<img src=x onerror=__xss(1" in html.unescape(f.read())
        assert result.pages > 5 * len(VECTORS)


@ci_only
def test_no_vector_runs_in_any_site_setting(browser, tmp_path):
    """site.yaml: a small build for each vector (a field holds one value a build), all served
    side by side and loaded in one browser context."""
    names, pairs, pages = {}, 0, []
    www = tmp_path / "www"
    for v in range(len(VECTORS)):
        folder = str(tmp_path / f"s{v}")
        written = write_settings_site(folder, v)
        names.update(written.names)
        pairs += written.pairs
        build(folder, str(www / f"w{v}"), search=False)
        pages += [f"w{v}/{path}" for path in ("index.html", "claims/drug-reduces-pain.html",
                                              "disclaimer.html")]
    with serve(str(www)) as origin:
        found = load_pages(browser, origin, pages, settle_ms=20)
    with tally("xss", "site settings"):
        note("xss", "site settings",
             f"{len(VECTORS)} vectors x {pairs // len(VECTORS)} fields = {pairs} pairs, "
             f"{len(pages)} pages loaded, {len(found.executed)} probes executed, "
             f"{len(found.live)} pages with live markup")
        assert describe(found, names) == []


@ci_only
def test_the_harness_sees_executions_when_escaping_is_off(browser, tmp_path, monkeypatch):
    """The control: the same vectors with Jinja's autoescape switched off must run."""
    real_init = rendering.ViewEnvironment.__init__

    def unescaped(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.autoescape = False

    monkeypatch.setattr(rendering.ViewEnvironment, "__init__", unescaped)
    # Unescaped vectors hide the disclaimer (an unclosed <style>, say); the build's check of it
    # is not what this control is about.
    monkeypatch.setattr(rendering, "shown_disclaimer", lambda html, block: ([], ""))
    folder, out = str(tmp_path / "site"), str(tmp_path / "www")
    written = write_content_site(folder, range(0, len(VECTORS), 3))
    # A template text of its own, so that no environment compiled with escaping is reused.
    with open(os.path.join(folder, "templates", "base.html"), "a", encoding="utf-8") as f:
        f.write("{# control: escaping off #}\n")
    build(folder, out, search=False)
    pages = [p for p in html_pages(out) if p.startswith("claims/c")]
    with serve(out) as origin:
        found = load_pages(browser, origin, pages)
    with tally("xss", "control, escaping off"):
        note("xss", "control, escaping off",
             f"{len(written.names)} vectors on {len(pages)} claim pages: "
             f"{len(found.executed)} probes executed, {len(found.live)} pages with live markup")
        assert len(found.executed) >= 10, describe(found, written.names)
        assert {n % 2 for n in (k // 100 for k in found.executed)} == {0, 1}, \
            "both probes (the dialog and the window hook) must have fired"
