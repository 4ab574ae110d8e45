"""BibTeX as readers see it: names split into their parts by bibtexparser's middlewares, LaTeX
decoded, references formatted in AMA style by citeproc-py, and the addresses a BibTeX entry
can give (url, doi) published as live links only when they are http(s)."""

from __future__ import annotations

import json
import random

import pytest
from pylatexenc.latex2text import LatexNodes2Text

from ldn_site import pipeline
from ldn_site.citations import (_DECODE, Citations, clean_bib, csl_item, decode_entry,
                                entry_problems, parse_names, person_names)
from ldn_site.markup import MarkdownRenderer, is_web_url
from ldn_site.model import BibEntry
from ldn_site.views import Page, SiteViews
from conftest import run_cli
from html_dom import parse_html


def entry(key="k", etype="article", **fields) -> BibEntry:
    return BibEntry(key, etype, fields, 1)


def article(author: str) -> BibEntry:
    return entry(author=author, title="A title", journal="Journal of Tests", year="2020",
                 volume="1", pages="3--4")


# --- names -----------------------------------------------------------------------------------

# (BibTeX author field, its people as (first, von, last, jr), the CSL-JSON name of the first,
#  the AMA reference, the short label). The hand-written parser this replaced printed
#  'M\"uller J', 'Beethoven L van', 'Beeblebrox IZ' and 'Cruz M de la' for rows 1, 3, 6, 7.
NAMES = [
    (r'M{\"u}ller, J{\"u}rgen', [(["Jürgen"], [], ["Müller"], [])],
     {"family": "Müller", "given": "Jürgen"},
     "Müller J. A title. Journal of Tests. 2020;1:3-4.", "Müller 2020"),
    ("van Beethoven, Ludwig", [(["Ludwig"], ["van"], ["Beethoven"], [])],
     {"family": "Beethoven", "given": "Ludwig", "non-dropping-particle": "van"},
     "van Beethoven L. A title. Journal of Tests. 2020;1:3-4.", "van Beethoven 2020"),
    ("Ludwig van Beethoven", [(["Ludwig"], ["van"], ["Beethoven"], [])],
     {"family": "Beethoven", "given": "Ludwig", "non-dropping-particle": "van"},
     "van Beethoven L. A title. Journal of Tests. 2020;1:3-4.", "van Beethoven 2020"),
    ("{World Health Organization}", [([], [], ["World Health Organization"], [])],
     {"literal": "World Health Organization"},
     "World Health Organization. A title. Journal of Tests. 2020;1:3-4.",
     "World Health Organization 2020"),
    ("de la Cruz, María", [(["María"], ["de", "la"], ["Cruz"], [])],
     {"family": "Cruz", "given": "María", "non-dropping-particle": "de la"},
     "de la Cruz M. A title. Journal of Tests. 2020;1:3-4.", "de la Cruz 2020"),
    ("Beeblebrox, IV, Zaphod", [(["Zaphod"], [], ["Beeblebrox"], ["IV"])],
     {"family": "Beeblebrox", "given": "Zaphod", "suffix": "IV"},
     "Beeblebrox Z IV. A title. Journal of Tests. 2020;1:3-4.", "Beeblebrox 2020"),
    ("María de la Cruz", [(["María"], ["de", "la"], ["Cruz"], [])],
     {"family": "Cruz", "given": "María", "non-dropping-particle": "de la"},
     "de la Cruz M. A title. Journal of Tests. 2020;1:3-4.", "de la Cruz 2020"),
    # A capitalized particle is part of the family name in BibTeX.
    ("Van Marwijk, H.", [(["H."], [], ["Van", "Marwijk"], [])],
     {"family": "Van Marwijk", "given": "H."},
     "Van Marwijk H. A title. Journal of Tests. 2020;1:3-4.", "Van Marwijk 2020"),
    # "and" inside braces does not separate people; LaTeX in any part is decoded.
    (r"{\"O}zdemir, Ay{\c{s}}e and {Food and Drug Administration}",
     [(["Ayşe"], [], ["Özdemir"], []), ([], [], ["Food and Drug Administration"], [])],
     {"family": "Özdemir", "given": "Ayşe"},
     "Özdemir A, Food and Drug Administration. A title. Journal of Tests. 2020;1:3-4.",
     "Özdemir & Food and Drug Administration 2020"),
    # "and others" is BibTeX's mark of an incomplete list, not a person called "others".
    ("Tan, Aidan C. and others", [(["Aidan", "C."], [], ["Tan"], [])],
     {"family": "Tan", "given": "Aidan C."},
     "Tan AC, et al. A title. Journal of Tests. 2020;1:3-4.", "Tan et al. 2020"),
    ("Lee, M. C. and Wagner, H. N. and others",
     [(["M.", "C."], [], ["Lee"], []), (["H.", "N."], [], ["Wagner"], [])],
     {"family": "Lee", "given": "M. C."},
     "Lee MC, Wagner HN, et al. A title. Journal of Tests. 2020;1:3-4.", "Lee et al. 2020"),
]


@pytest.mark.parametrize("author, people, first_csl, reference, short", NAMES,
                         ids=[row[0] for row in NAMES])
def test_names_are_split_into_their_parts_and_cited(author, people, first_csl, reference,
                                                    short):
    parts = parse_names(author)
    assert [(p.first, p.von, p.last, p.jr) for p in parts] == people
    item = csl_item(article(author))
    assert item["author"][0] == first_csl
    citations = Citations({"k": article(author)})
    assert citations.text("k") == reference
    html = parse_html(str(citations.html("k")))
    assert html.text() == reference  # the markup adds italics, never other words
    assert citations.short("k") == short
    assert entry_problems(article(author)) == ()


def test_people_are_named_in_running_text_for_structured_data():
    assert person_names(r"van Beethoven, Ludwig and {World Health Organization} and "
                        r"M{\"u}ller, J.") == ["Ludwig van Beethoven",
                                                "World Health Organization", "J. Müller"]
    assert person_names("Tan, Aidan C. and others") == ["Aidan C. Tan"]


def test_a_name_bibtex_cannot_split_is_reported_and_kept_whole():
    bad = article("Doe, Jane and Roe, Jr, Richard, MD")
    [(code, message)] = entry_problems(bad)
    assert code == "invalid-name"
    assert "'Roe, Jr, Richard, MD' cannot be split" in message and "too many commas" in message
    # The citation is still made (check refuses the build): every word of every name kept.
    assert Citations({"k": bad}).text("k").startswith("Doe, Jane, Roe, Jr, Richard, MD. ")


def test_text_too_deep_to_decode_is_a_located_error_not_a_traceback(make_site):
    site = make_site("minimal")
    bib = site / "sources" / "references.bib"
    deep = "{" * 5000 + "x" + "}" * 5000
    bib.write_text(bib.read_text("utf-8").replace("{A popular article}", "{" + deep + "}"),
                   "utf-8")
    result = run_cli("check", "--root", site)
    assert result.stdout.splitlines() == [
        "sources/references.bib:13: error: BibTeX entry 'article-a': a field cannot be decoded "
        "as LaTeX; look for braces nested too deeply [invalid-latex]",
        "1 error, 0 warnings"]


# --- LaTeX in text fields --------------------------------------------------------------------

@pytest.mark.parametrize("bibtex, text", [
    (r"Arthritis \& Rheumatism", "Arthritis & Rheumatism"),
    ("Arthritis & Rheumatism", "Arthritis & Rheumatism"),  # LaTeX would drop a bare &
    ("30% of patients -- and 10% more", "30% of patients – and 10% more"),  # % is no comment
    (r"50\% and {DNA} in {\"U}bersicht---a ``trial''", "50% and DNA in Übersicht—a “trial”"),
    (r"P34975 · OPRK\_RAT", "P34975 · OPRK_RAT"),
    ("Low-dose\n   naltrexone~(LDN)", "Low-dose naltrexone (LDN)"),
    (r"$\beta$-endorphin", r"$\beta$-endorphin"),  # math is shown as written
    ("", ""),
])
def test_latex_in_text_fields_is_decoded(bibtex, text):
    assert clean_bib(bibtex) == text


def test_text_without_latex_skips_the_parse_and_reads_the_same():
    """The decoder returns a text with none of its MARKS as it is, unparsed. On 4,000
    generated texts, many without a mark, both ways give the reader the same words. The
    alphabet holds every character of a mark alone ('-', "'", '`', '!', '?') and in pairs."""
    decoder = _DECODE._decoder
    rng = random.Random(20261202)
    alphabet = list("aZé0 \n-'`!?~&%$#^_{}[]<>.,;:()\\/\"") + ["--", "``", "''"]
    skipped = 0
    for _ in range(4_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        fast = decoder.latex_to_text(text)
        full = LatexNodes2Text.latex_to_text(decoder, text)  # always parses
        assert " ".join(fast.split()) == " ".join(full.split()), text
        skipped += fast is text
    assert skipped > 400  # the fast path was taken often enough to be tested


def test_identifiers_and_addresses_are_not_read_as_latex():
    e = entry(title=r"A \& B", url="https://example.org/~user/a_b?q=%22x%22",
              doi="10.1000/a_b~c%d", pmid=" 123 ")
    fields = decode_entry(e).fields
    assert fields["title"] == "A & B"
    assert fields["url"] == "https://example.org/~user/a_b?q=%22x%22"
    assert fields["doi"] == "10.1000/a_b~c%d"
    assert fields["pmid"] == "123"


# --- URLs from BibTeX ------------------------------------------------------------------------

@pytest.mark.parametrize("url, ok", [
    ("https://example.org/a?b=c#d", True),
    ("http://example.org", True),
    ("HTTPS://EXAMPLE.ORG/", True),
    ("javascript:alert(1)", False),
    (" JavaScript:alert(1)", False),
    ("\tjavascript:alert(1)", False),
    ("java\nscript:alert(1)", False),
    ("data:text/html;base64,PHNjcmlwdD4=", False),
    ("VBScript:msgbox(1)", False),
    ("https:javascript:alert(1)", False),  # no host
    ("//example.org/x", False),  # no scheme
    ("https://exa mple.org", False),
    ("https://[::1", False),  # urlsplit raises on this one
    ("", False),
])
def test_only_absolute_http_addresses_count_as_web_urls(url, ok):
    assert is_web_url(url) is ok


@pytest.fixture
def minimal_content(make_site):
    return pipeline.check_site(str(make_site("minimal")))


def source_links(checked, url: str) -> tuple[list[str], list[str]]:
    """The hrefs of trial2020's page, and the addresses in its JSON-LD, with validation
    bypassed: the bib entry is changed after the check."""
    checked.content.bib["trial2020"].fields["url"] = url
    views = SiteViews(checked.content, checked.validated.grades, MarkdownRenderer(),
                      "2026-01-01", Citations(checked.content.bib, {}))
    ctx = views.context(Page("sources/trial2020.html", "source.html", "source", "trial2020"))
    work = json.loads(str(ctx["json_ld"]))["@graph"][0]["mainEntity"]
    return [link["url"] for link in ctx["links"]], list(work.get("sameAs", []))


@pytest.mark.parametrize("url", [" JavaScript:alert(1)", "data:text/html,<script>x</script>",
                                 "vbscript:msgbox(1)"])
def test_the_source_page_never_links_a_url_that_is_not_http_even_unvalidated(minimal_content,
                                                                             url):
    hrefs, same_as = source_links(minimal_content, url)
    assert all(h.startswith("https://") for h in hrefs) and hrefs  # the DOI and PubMed links
    assert url not in hrefs and url not in same_as
    assert url.strip() not in Citations(minimal_content.content.bib, {}).text("trial2020")


def test_the_source_page_links_an_http_url(minimal_content):
    """The control for the test above: the same path does publish a web address."""
    hrefs, same_as = source_links(minimal_content, "https://example.org/record")
    assert "https://example.org/record" in hrefs
    assert "https://example.org/record" in same_as


@pytest.mark.parametrize("name", ["bib-url-javascript", "bib-url-data", "bib-url-vbscript",
                                  "bib-doi-malformed"])
def test_build_refuses_what_check_reports(make_site, name):
    site = make_site(f"invalid/{name}")
    result = run_cli("build", "--root", site, "--no-search")
    assert result.exit_code == 1
    assert "[unsafe-url]" in result.output or "[invalid-doi]" in result.output
    assert not (site / "_site").exists()


def test_an_empty_url_or_doi_is_an_unfilled_placeholder_not_a_bad_address(make_site):
    """As left from the ``new source`` stub: reported like any empty field (fill it in or
    delete the line), and not also as an unsafe address or a malformed DOI."""
    site = make_site("minimal")
    bib = site / "sources" / "references.bib"
    bib.write_text(bib.read_text("utf-8").replace(
        "  howpublished = {Popular web article}\n",
        "  howpublished = {Popular web article},\n  url = { },\n  doi = {}\n"), "utf-8")
    assert run_cli("check", "--root", site).stdout.splitlines() == [
        f"sources/references.bib:{line}: error: BibTeX entry 'article-a': the field '{name}' "
        "is empty; fill it in from the source, or delete the line if the source does not give "
        "it [empty-value]" for line, name in ((16, "url"), (17, "doi"))] + [
        "2 errors, 0 warnings"]


@pytest.mark.parametrize("fields, label", [
    # A paper whose authors were not seen is named by its journal...
    ({"title": "Efficacy and safety of low-dose naltrexone: a meta-analysis",
      "journal": "Annals of Medicine and Surgery", "year": "2025"},
     "Annals of Medicine and Surgery 2025"),
    # ...anything else without an author by the first words of its title.
    ({"title": "Naltrexone hydrochloride tablets for oral use: full prescribing information",
      "year": "2025"}, "Naltrexone hydrochloride tablets for oral… 2025"),
])
def test_a_source_without_authors_is_labelled_by_its_journal_or_title(fields, label):
    kind = "article" if "journal" in fields else "misc"
    assert Citations({"k": BibEntry("k", kind, fields, 1)}).short("k") == label
