// ldn-site search: a small hand-written front end for the Pagefind index that `ldn-site build`
// writes into pagefind/. Everything is on this site: no request leaves it. Without JavaScript
// the page explains where else to look (see the <noscript> in search.html).
const PAGE_SIZE = 10;
const form = document.getElementById("search-form");
const input = document.getElementById("q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const more = document.getElementById("search-more");
const filterNames = ["type", "topic", "verdict", "certainty"];
// Ranking (https://pagefind.app/docs/ranking/), tuned on the review's own pages with the
// queries of tests/browser/test_search_ranking.py: weighted words (titles, questions and
// verdict sentences carry data-pagefind-weight) count fully instead of saturating at once,
// and a long claim page that answers a question is not ranked below a short one that only
// mentions its words.
const RANKING = { termSaturation: 2.0, pageLength: 0.0, termFrequency: 0.5 };
let pagefind = null;
let results = [];
let shown = 0;
let generation = 0;

function say(text) {
  status.textContent = text;
}

function selectedFilters() {
  const filters = {};
  for (const name of filterNames) {
    const value = form.elements[name].value;
    if (value) filters[name] = value;
  }
  return filters;
}

// Pagefind's excerpt is the page's own text with <mark> around the matches; keep only those
// two kinds of node so that nothing else from the index can become markup.
function excerptNodes(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const out = document.createDocumentFragment();
  for (const node of template.content.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      out.append(mark);
    } else {
      out.append(document.createTextNode(node.textContent));
    }
  }
  return out;
}

function render(data) {
  const item = document.createElement("li");
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url.replace(/^\//, "");
  link.textContent = (data.meta && data.meta.title) || data.url;
  heading.append(link);
  item.append(heading);
  const facts = [];
  const type = data.filters && data.filters.type && data.filters.type[0];
  if (type) facts.push(type);
  if (data.meta && data.meta.verdict) facts.push("Verdict: " + data.meta.verdict);
  if (data.meta && data.meta.certainty) facts.push("Certainty: " + data.meta.certainty);
  if (data.meta && data.meta.documentation) {
    facts.push("Documentation: " + data.meta.documentation);
  }
  if (facts.length) {
    const p = document.createElement("p");
    p.className = "facts-line";
    p.textContent = facts.join(" · ");
    item.append(p);
  }
  const excerpt = document.createElement("p");
  excerpt.className = "excerpt-line";
  excerpt.append(excerptNodes(data.excerpt || ""));
  item.append(excerpt);
  return item;
}

// Some queries name a page rather than ask about the words on pages: a topic ("dose", "side
// effects"), a study by its first author as cited on this site ("Bested", which Pagefind's
// stemming also reads as "best") or a section of a guide ("risk of bias"). Pagefind ranks by
// the words on a page, so a short study about dosing, or a claim that often mentions risk of
// bias, would otherwise come first. The page so named is put first; it is looked for among
// the first results of its type (through the "type" filter), and compared without case.
const NAMED = [
  { type: "Topic", names: (d) => [d.meta.title], fits: (name, q) => name === q },
  { type: "Study or document", names: (d) => [(d.meta.cited_as || "").split(" ")[0]],
    fits: (name, q) => name === q },
  { type: "Guide", names: (d) => (d.sub_results || []).map((s) => s.title),
    fits: (name, q) => name === q || name.startsWith(q + " ") },
];

async function findNamed(query, filters) {
  const q = query.toLowerCase();
  for (const kind of NAMED) {
    if (filters.type && filters.type !== kind.type) continue;
    const found = await pagefind.search(query, { filters: { ...filters, type: kind.type } });
    for (const result of (found ? found.results : []).slice(0, 3)) {
      const data = await result.data();
      const names = kind.names({ meta: {}, ...data }).map((n) => (n || "").toLowerCase());
      if (names.some((name) => name && kind.fits(name, q))) return result;
    }
  }
  return null;
}

async function showMore() {
  const mine = generation;
  const batch = results.slice(shown, shown + PAGE_SIZE);
  const data = await Promise.all(batch.map((r) => r.data()));
  if (mine !== generation) return;
  for (const d of data) list.append(render(d));
  shown += batch.length;
  more.hidden = shown >= results.length;
}

function describe(query, filters, count) {
  const parts = Object.values(filters);
  const what = query ? `“${query}”` : "all pages";
  const within = parts.length ? ` (${parts.join(", ")})` : "";
  if (count === 0) return `No results for ${what}${within}. Try fewer words or fewer filters.`;
  return `${count} result${count === 1 ? "" : "s"} for ${what}${within}.`;
}

async function run() {
  const query = input.value.trim();
  const filters = selectedFilters();
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  for (const [k, v] of Object.entries(filters)) params.set(k, v);
  const qs = params.toString();
  history.replaceState(null, "", qs ? `?${qs}` : location.pathname);
  const mine = ++generation;
  list.replaceChildren();
  more.hidden = true;
  results = [];
  shown = 0;
  if (!query && !Object.keys(filters).length) {
    say("Type a question or a word, or choose a filter.");
    return;
  }
  if (!pagefind) return;
  say("Searching…");
  const search = await pagefind.search(query || null, { filters });
  const named = query ? await findNamed(query, filters) : null;
  if (mine !== generation) return;
  results = search ? search.results : [];
  if (named) results = [named, ...results.filter((r) => r.id !== named.id)];
  say(describe(query, filters, results.length));
  await showMore();
}

async function start() {
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  for (const name of filterNames) {
    const value = params.get(name);
    if (value && [...form.elements[name].options].some((o) => o.value === value)) {
      form.elements[name].value = value;
      document.getElementById("search-filters").open = true;
    }
  }
  try {
    pagefind = await import("./pagefind/pagefind.js");
    await pagefind.options({ baseUrl: "/", excerptLength: 24, ranking: RANKING });
    await pagefind.init();
  } catch (error) {
    pagefind = null;
    say("The search index could not be loaded (search works when the site is served over " +
        "http, not opened as a file). Browse the evidence map or all claims instead.");
    return;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  for (const name of filterNames) form.elements[name].addEventListener("change", run);
  let timer = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  more.addEventListener("click", showMore);
  document.documentElement.classList.add("search-ready");
  run();
}

start();
