#!/usr/bin/env python3
"""Benchmark ``ldn-site serve``: how long after saving a claim the browser sees the change.

Copies the repository's content (site.yaml, claims/, sources/, templates/) into a temporary
folder, so the real files are never touched, starts the real preview server on a free port of
127.0.0.1, then edits one claim's title again and again. For each edit it reports the rebuild
time (load, validate, render, publish) and the time from saving the file to the server
answering with the changed page (watching, rebuild and HTTP together). A script that prints
figures, not a test.

    python scripts/serve_benchmark.py                 # the repository's own content
    python scripts/serve_benchmark.py --edits 20 --claim ldn-reduces-fibromyalgia-pain
    python scripts/serve_benchmark.py --search        # with the search index, as serve --search
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ldn_site import serving  # noqa: E402
from ldn_site.diagnostics import summarize  # noqa: E402

_TITLE = re.compile(r"^title:[ \t]*(.*)$", re.MULTILINE)


def retitle(text: str, suffix: str) -> str:
    """The claim's text with ``suffix`` added to its (single-line) title."""
    m = _TITLE.search(text)
    value = m.group(1).rstrip()
    if value[:1] in "\"'" and value.endswith(value[0]):
        new = value[:-1] + suffix + value[0]
    else:
        new = value + suffix
    return text[:m.start(1)] + new + text[m.end(1):]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=ROOT, help="repository whose content is copied")
    ap.add_argument("--claim", help="claim id to edit (default: the first, by id)")
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--search", action="store_true", help="build the search index too")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="ldn-serve-bench-")
    try:
        for name in ("site.yaml", "claims", "sources", "templates"):
            src = os.path.join(args.root, name)
            (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, os.path.join(tmp, name))
        claims = sorted(n[:-5] for n in os.listdir(os.path.join(tmp, "claims"))
                        if n.endswith(".yaml"))
        claim = args.claim or claims[0]
        path = os.path.join(tmp, "claims", f"{claim}.yaml")
        rebuilds: list[serving.Rebuild] = []
        server = serving.PreviewServer(tmp, port=0, report=rebuilds.append, search=args.search)
        first = server.start()
        try:
            if not first.ok:
                print(f"the content does not build ({summarize(first.diagnostics)}); run "
                      "`ldn-site check` first", file=sys.stderr)
                return 1
            print(f"content: {len(claims)} claims, {first.pages} pages"
                  f"{' (with search index)' if args.search else ''}")
            print(f"first build: {first.seconds:.3f}s (Markdown and templates rendered afresh)")
            url = f"{server.url}claims/{claim}.html"
            with open(path, encoding="utf-8") as f:
                original = f.read()
            builds, cpu, visible = [], [], []
            for i in range(1, args.edits + 1):
                marker = f" (benchmark edit {i})"
                seen = len(rebuilds)
                generation = json.loads(fetch(server.url + "__ldn_status"))["generation"]
                started = time.perf_counter()
                with open(path, "w", encoding="utf-8") as f:
                    f.write(retitle(original, marker))
                # As an open page does: wait for the next generation, then load the page.
                while True:
                    status = json.loads(fetch(f"{server.url}__ldn_status?since={generation}"))
                    generation = status["generation"]
                    if status["ok"] and marker in fetch(url):
                        break
                    if time.perf_counter() - started > 30:
                        print("the change did not appear within 30 s", file=sys.stderr)
                        return 1
                visible.append(time.perf_counter() - started)
                while not any(r.ok for r in rebuilds[seen:]):  # reported just after publishing
                    time.sleep(0.001)
                done = next(r for r in rebuilds[seen:] if r.ok)
                builds.append(done.seconds)
                cpu.append(done.cpu_seconds)
                time.sleep(0.2)  # let the watcher settle between edits
        finally:
            server.close()

        def row(label: str, values: list[float]) -> str:
            return (f"{label:<34} median {statistics.median(values):.3f}s   "
                    f"min {min(values):.3f}s   max {max(values):.3f}s")

        print(f"{args.edits} edits of claims/{claim}.yaml (its title):")
        print(row("  rebuild (load..publish), wall", builds))
        print(row("  rebuild, processor time", cpu))
        print(row("  save -> changed page served", visible))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
