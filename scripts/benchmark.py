#!/usr/bin/env python3
"""Benchmark ``ldn-site build`` on synthetic sites (a script that prints figures, not a test).

Generates a site of N claims with realistic field sizes (a few hundred words of Markdown per
claim, three evidence items with excerpts and effects, full grading reasons, article links)
plus one source per ten claims and one popular article per twenty claims (about the real
site's proportions), then runs the real ``ldn-site build`` command in a
subprocess and reports wall time, pages per second and the peak memory of the whole process
tree (parent and rendering workers, sampled from /proc every 50 ms): the peak of the summed
PSS, which shares each page between the processes that share it, and for comparison the
peak of the summed RSS, which counts shared pages once per process and so errs high.

    python scripts/benchmark.py                  # 1,000 and 10,000 claims
    python scripts/benchmark.py --claims 2000
    python scripts/benchmark.py --real           # the repository's own site
    python scripts/benchmark.py --real --search  # with the Pagefind search index
    python scripts/benchmark.py --repeat 3       # three times each, with medians

Each site is built three times: cold (no caches), after a template edit (every page rendered
again; the code stamp covers the templates, so the cache starts over) and unchanged (nothing
changed since the previous build).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = ("naltrexone fibromyalgia placebo trial pain fatigue sleep dose participants "
         "crossover randomized outcome effect interval confidence evidence women weeks "
         "moderate low reduction baseline score questionnaire inflammation glial opioid "
         "receptor blockade tolerability dreams headache nausea").split()
KINDS = ("randomized-trial", "crossover-trial", "open-label-study", "systematic-review-rcts",
         "retrospective-study", "narrative-review")
TOPICS = ("efficacy", "dose", "mechanism", "side-effects", "safety", "pharmacology", "context")
VERDICTS = ("supported", "mixed", "unsupported", "refuted")
ARTICLE_CLAIMS = 20  # claims made by each synthetic popular article
# Reading smaps_rollup walks the page tables of the measured process while holding its memory
# lock, so sampling too often slows the very build being measured.
SAMPLE_SECONDS = 0.05


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng, rng.randint(10, 22)) for _ in range(sentences))


def q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_site(folder: str, n_claims: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    os.makedirs(os.path.join(folder, "claims"))
    os.makedirs(os.path.join(folder, "sources"))
    shutil.copytree(os.path.join(ROOT, "templates"), os.path.join(folder, "templates"))
    with open(os.path.join(folder, "site.yaml"), "w") as f:
        f.write("title: Benchmark site\nbase_url: https://example.org/bench/\n"
                "description: Synthetic content.\ndisclaimer: Not medical advice.\n"
                "maintainers:\n  - name: Bench\n")
    n_sources = max(4, n_claims // 10)
    bib = []
    for i in range(n_sources):
        key = f"study{i:05d}"
        kind = KINDS[i % len(KINDS)]
        bib.append(f"@article{{{key},\n  author = {{Author, A. and Writer, B.}},\n"
                   f"  title = {{{sentence(rng, 10)}}},\n  journal = {{Journal of Tests}},\n"
                   f"  year = {{{2000 + i % 25}}},\n  volume = {{{i % 90 + 1}}},\n"
                   f"  pages = {{{i}-{i + 9}}},\n  doi = {{10.1000/bench.{i}}}\n}}\n")
        lines = [f"kind: {kind}", f"population: {q(sentence(rng, 12))}", f"n: {rng.randint(10, 400)}",
                 "dose: 4.5 mg/day", "duration: 12 weeks", "comparator: Placebo",
                 f"results: {q(paragraph(rng, 4))}", f"limitations: {q(paragraph(rng, 2))}",
                 "verified_at:", "  - https://example.org/record"]
        if kind in ("randomized-trial", "crossover-trial"):
            lines += ["risk_of_bias:", "  randomization: low", "  deviations: low",
                      "  missing_data: some-concerns", "  measurement: low", "  reporting: low",
                      "  overall: some-concerns"]
        lines.append("excerpts:")
        for e in range(3):
            lines += [f"  - id: ex{e}", f"    text: {q(paragraph(rng, 2))}", "    locator: Abstract"]
        with open(os.path.join(folder, "sources", f"{key}.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")
    # Popular articles as on the real site (five articles for about a hundred claims): one
    # per 20 claims, each making those 20 claims, one excerpt each.
    for a in range(max(1, -(-n_claims // ARTICLE_CLAIMS))):
        key = f"article{a:04d}"
        bib.append(f"@misc{{{key},\n  title = {{{sentence(rng, 8)}}},\n"
                   "  howpublished = {Web}\n}\n")
        lines = ["kind: popular-article", "publisher: Nobody", "interests: None",
                 "fulltext:", f"  file: {key}.txt", "  sha256: " + "0" * 64, "excerpts:"]
        for e in range(ARTICLE_CLAIMS):
            lines += [f"  - id: a{e}", f"    text: {q(sentence(rng, 15))}", "    locator: Body"]
        with open(os.path.join(folder, "sources", f"{key}.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(folder, "sources", "references.bib"), "w") as f:
        f.write("\n".join(bib))
    for c in range(n_claims):
        refs = sorted(rng.sample(range(n_sources), 3))
        lines = [f"title: {q(sentence(rng, 7)[:-1])}", f"statement: {q(sentence(rng, 18))}",
                 f"topic: {TOPICS[c % len(TOPICS)]}", f"verdict: {VERDICTS[c % 4]}", "evidence:"]
        for r in refs:
            lines += [f"  - source: study{r:05d}", f"    finding: {q(paragraph(rng, 2))}",
                      "    direction: supports", f"    excerpts: [study{r:05d}#ex{c % 3}]",
                      "    effect: {outcome: Pain, measure: SMD, value: -0.4, ci_low: -0.8, "
                      "ci_high: 0.0, n: 80}"]
        lines += ["grading:",
                  f"  risk_of_bias: {{rating: serious, reason: {q(paragraph(rng, 2))}}}",
                  f"  imprecision: {{rating: serious, reason: {q(paragraph(rng, 1))}}}",
                  # Some Markdown, as on the real site (where 1 text in 20 needs
                  # Python-Markdown): every third summary has an emphasised phrase.
                  "summary: " + q(paragraph(rng, 6)
                                  + (" **" + sentence(rng, 4) + "**" if c % 3 == 0 else "")
                                  + "\n\n" + paragraph(rng, 5)),
                  f"seen_in: [article{c // ARTICLE_CLAIMS:04d}#a{c % ARTICLE_CLAIMS}]",
                  f"related: [claim{(c + 1) % n_claims:05d}]" if n_claims > 1 else "related: []",
                  "reviewed: {date: 2026-01-01, reviewer: Bench}"]
        with open(os.path.join(folder, "claims", f"claim{c:05d}.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """Memory of a process and all its descendants, in kB: (RSS, PSS) summed; (0, 0) where
    there is no /proc to read it from (macOS, Windows: the figures then say n/a)."""
    if not os.path.isdir("/proc"):
        return 0, 0
    return _proc_tree_memory_kb(pid)


def _proc_tree_memory_kb(pid: int) -> tuple[int, int]:
    """Memory of a process and all its descendants, in kB, from /proc: (RSS, PSS) summed.

    RSS counts a page shared by several processes (the forked rendering workers share the
    loaded content with their parent) once in every process, so its sum errs high. PSS
    (proportional set size) splits each shared page between the processes sharing it, so its
    sum is the memory the tree really occupies."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    rss = pss = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return rss, pss


def run_build(site: str, extra: list[str]) -> tuple[float, tuple[int, int], str]:
    cmd = [sys.executable, "-m", "ldn_site", "build", "--root", site, "-o",
           os.path.join(site, "_site")] + extra
    env = dict(os.environ)
    # Flush what earlier builds (and the site generator) left for the disk to write, so that
    # each build is timed on its own work rather than on its predecessor's write-back (as
    # hyperfine's ``--prepare sync``): without this, a build right after the cold build runs
    # while some hundreds of megabytes are still being written out, and is slowed by half.
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True)
    peak = [0, 0]  # RSS, PSS
    done = threading.Event()

    def sample():
        while not done.is_set():
            for i, kb in enumerate(tree_memory_kb(proc.pid)):
                peak[i] = max(peak[i], kb)
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"build failed:\n{out[-3000:]}")
    return wall, peak, out.strip().splitlines()[-1]


def count_pages(site: str) -> int:
    return sum(1 for _, _, files in os.walk(os.path.join(site, "_site"))
               for name in files if name.endswith(".html"))


SCENARIOS = (
    ("cold", "no caches: every Markdown text and page rendered"),
    ("template edit", "a template changed: every page rendered again"),
    ("unchanged", "nothing changed since the previous build"),
)


def reference_seconds() -> float:
    """A fixed pure-Python loop, timed: on a shared virtual machine the speed of the same
    core drifts by tens of percent over minutes, and this shows how much."""
    start = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - start


def report(label: str, site: str, extra: list[str], repeat: int = 1) -> None:
    results: dict[str, list[tuple[float, int, int]]] = {name: [] for name, _ in SCENARIOS}
    for _ in range(repeat):
        for name, _ in SCENARIOS:
            if name == "cold":
                shutil.rmtree(os.path.join(site, ".ldn-site-cache"), ignore_errors=True)
                shutil.rmtree(os.path.join(site, "_site"), ignore_errors=True)
            elif name == "template edit":
                with open(os.path.join(site, "templates", "base.html"), "a") as f:
                    f.write("{# benchmark edit #}\n<!-- benchmark edit -->\n")
            wall, (rss, pss), _ = run_build(site, extra)
            pages = count_pages(site)
            results[name].append((wall, pages, pss))
            memory = (f"peak PSS {pss / 1024:5.0f} MB (RSS sum {rss / 1024:5.0f} MB)" if pss
                      else "peak memory n/a (no /proc)")
            print(f"{label:>12} | {name:<13} | {pages:6d} pages | {wall:7.2f} s | "
                  f"{pages / wall:7.0f} pages/s | {memory} | reference loop "
                  f"{reference_seconds():.2f} s", flush=True)
    if repeat > 1:
        for name, runs in results.items():
            walls = sorted(wall for wall, _, _ in runs)
            median = statistics.median(walls)
            pages = runs[0][1]
            print(f"{label:>12} | {name:<13} | median of {repeat}: {median:7.2f} s, "
                  f"{pages / median:7.0f} pages/s (range {pages / walls[-1]:.0f}-"
                  f"{pages / walls[0]:.0f}) | highest peak PSS "
                  f"{max(p for _, _, p in runs) / 1024:5.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, action="append",
                        help="number of synthetic claims (repeatable; default 1000 and 10000)")
    parser.add_argument("--search", action="store_true",
                        help="include the Pagefind search index (left out by default: it is a "
                             "separate tool whose time is reported apart)")
    parser.add_argument("--real", action="store_true", help="benchmark the repository's site")
    parser.add_argument("--jobs", type=int, help="pass --jobs to ldn-site build")
    parser.add_argument("--keep", action="store_true", help="keep the generated sites")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the three builds this many times and also report medians")
    args = parser.parse_args()
    extra = (["--jobs", str(args.jobs)] if args.jobs else []) + \
        ([] if args.search else ["--no-search"])
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    if args.real:
        tmp = tempfile.mkdtemp(prefix="ldn-bench-real-")
        shutil.copytree(ROOT, os.path.join(tmp, "site"),
                        ignore=shutil.ignore_patterns(".git", ".venv", "_site", ".ldn-site-cache",
                                                      "._site.*", "node_modules", "bench-out"))
        report("real site", os.path.join(tmp, "site"), extra, args.repeat)
        shutil.rmtree(tmp)
        return
    for n in args.claims or [1000, 10000]:
        tmp = tempfile.mkdtemp(prefix=f"ldn-bench-{n}-")
        t0 = time.perf_counter()
        make_site(tmp, n)
        print(f"generated {n} claims in {time.perf_counter() - t0:.1f} s at {tmp}")
        report(f"{n} claims", tmp, extra, args.repeat)
        if not args.keep:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
