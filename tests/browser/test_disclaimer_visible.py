"""The medical disclaimer is visible in Chromium on every page type (issue 12, item 4): the
element exists, has a size, is not hidden, transparent, clipped, shrunk or covered, lies in the
page's flow where a reader scrolls to it, and shows the configured words. The build's static
check cannot see CSS; this test sees what a reader sees, at desktop and phone widths.

A control hides the disclaimer in each way the probe knows, with CSS injected into a built
page, and the probe must report every one: a check that cannot fail proves nothing.
"""

from __future__ import annotations

import os
import shutil

import pytest

from chromium import launch, require_chromium, serve

require_chromium()

from ldn_site import pipeline  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(HERE, "site")
WORDS = "Not medical advice."  # tests/browser/site/site.yaml
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
# One page of every type the site has.
PAGES = ["index.html", "claims.html", "claims/drug-x-reduces-pain.html",
         "topics/efficacy.html", "sources/doe2020trial.html", "sources/article-one.html",
         "bibliography.html", "methodology.html", "glossary.html", "search.html",
         "disclaimer.html", "404.html"]

# Everything that keeps an element from a reader, as the page is actually laid out.
PROBE = """(words) => {
  const el = document.getElementById('disclaimer');
  if (!el) return ['there is no #disclaimer element'];
  const problems = [];
  el.scrollIntoView({block: 'center'});
  const r = el.getBoundingClientRect();
  if (r.width < 10 || r.height < 10) problems.push(`it is ${r.width}x${r.height} px`);
  if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true,
                           contentVisibilityAuto: true})) problems.push('it is not rendered');
  const doc = document.documentElement;
  const left = r.left + window.scrollX, top = r.top + window.scrollY;
  if (left + r.width <= 0 || top + r.height <= 0 || left >= doc.scrollWidth ||
      top >= doc.scrollHeight) problems.push('it lies outside the page');
  for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
    const s = getComputedStyle(e);
    if (parseFloat(s.opacity) < 0.5) problems.push(`<${e.localName}> has opacity ${s.opacity}`);
    if (s.clipPath !== 'none') problems.push(`<${e.localName}> is clipped (${s.clipPath})`);
    if (s.clip !== 'auto' && s.position === 'absolute') problems.push(`<${e.localName}> is clipped`);
    if (s.transform !== 'none') {
      const m = new DOMMatrix(s.transform);
      if (Math.abs(m.a * m.d - m.b * m.c) < 0.5) problems.push(`<${e.localName}> is shrunk`);
    }
  }
  const style = getComputedStyle(el);
  const alpha = c => { const m = c.match(/rgba?\\(([^)]*)\\)/); if (!m) return 1;
                       const p = m[1].split(/[ ,\\/]+/).filter(Boolean);
                       return p.length > 3 ? parseFloat(p[3]) : 1; };
  if (parseFloat(style.fontSize) < 10) problems.push(`its text is ${style.fontSize}`);
  const text = [...el.querySelectorAll('*')].concat([el]);
  for (const t of text) {
    const c = getComputedStyle(t).color;
    if (alpha(c) < 0.5) { problems.push(`its text colour is ${c}`); break; }
  }
  // Covered by something else: what is at its centre must be the disclaimer or inside it.
  const x = Math.min(Math.max(r.left + r.width / 2, 0), window.innerWidth - 1);
  const y = Math.min(Math.max(r.top + r.height / 2, 0), window.innerHeight - 1);
  const hit = document.elementFromPoint(x, y);
  if (!hit || !el.contains(hit)) problems.push(`it is covered by <${hit ? hit.localName : '?'}>`);
  if (!el.innerText.includes(words)) problems.push(`it does not show "${words}"`);
  return problems;
}"""

# Ways to hide the disclaimer with CSS alone (the control); each must be reported.
HIDING = {
    "display-none": "#disclaimer{display:none!important}",
    "visibility": "#disclaimer{visibility:hidden!important}",
    "opacity": "#disclaimer{opacity:0!important}",
    "ancestor-opacity": "body{opacity:0.01!important}",
    "clip-path": "#disclaimer{clip-path:inset(50%)!important}",
    "off-screen": "#disclaimer{position:absolute!important;left:-99999px!important}",
    "zero-size": "#disclaimer{height:0!important;width:0!important;overflow:hidden!important;"
                 "padding:0!important;border:0!important}",
    "tiny-text": "#disclaimer, #disclaimer *{font-size:1px!important}",
    "transparent-text": "#disclaimer, #disclaimer *{color:transparent!important}",
    "shrunk": "#disclaimer{transform:scale(0.01)!important}",
    "covered": "body::after{content:'';position:fixed;inset:0;background:#fff;z-index:99}",
    "words-replaced": "#disclaimer *{display:none!important}#disclaimer::before{content:'x'}",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("disclaimer")
    src = tmp / "src"
    shutil.copytree(FIXTURE, src, ignore=shutil.ignore_patterns(".ldn-site-cache", "_site"))
    shutil.copytree(os.path.join(ROOT, "templates"), src / "templates")
    out = tmp / "www"
    result = pipeline.build_site(str(src), output=str(out), use_cache=False, search=False)
    assert result.written, [d.format() for d in result.diagnostics]
    with serve(str(out)) as origin:
        yield origin


@pytest.fixture(scope="module")
def browser():
    with launch() as b:
        yield b


def problems_on(browser, url: str, viewport: dict, css: str | None = None) -> list[str]:
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        if css:
            page.add_style_tag(content=css)
        return page.evaluate(PROBE, WORDS)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("path", PAGES)
def test_the_disclaimer_is_visible_on_every_page_type(browser, site, path, viewport):
    assert problems_on(browser, f"{site}/{path}", VIEWPORTS[viewport]) == []


@pytest.mark.parametrize("how", list(HIDING))
def test_the_probe_reports_every_way_of_hiding_it(browser, site, how):
    found = problems_on(browser, f"{site}/claims/drug-x-reduces-pain.html",
                        VIEWPORTS["desktop"], HIDING[how])
    assert found, f"the probe did not notice the disclaimer hidden by {how}"
