"""kill -9 against a build, twenty times (issue 12, item 10).

A site with a published build gets new content, and `ldn-site build` (the real command, in a
process of its own, search index included) is killed with SIGKILL, with every process it
started, at twenty moments spread over the time a whole build takes: while loading, rendering,
indexing or publishing, cold and warm. After each kill the published folder must be exactly
the old site or exactly the new one, never a mix (the last four rounds kill it the moment the
new site is swapped in, while the caches are saved); the content files must be untouched; and
the next build must publish the new site byte for byte and leave nothing beside it, whatever the
killed build left in the staging folder or the caches.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXED_EPOCH, REPO, TEMPLATES, read_tree
from hostile import ci_only, note, snapshot, tally

ROUNDS = 20
FIXTURE = REPO / "tests" / "browser" / "site"  # a small site that uses every feature
CLAIM = "claims/drug-x-reduces-pain.yaml"
OUT = "_site"
CACHE = ".ldn-site-cache"

def build_command(site: Path) -> list[str]:
    return [sys.executable, "-m", "ldn_site", "build", "--root", str(site)]


def run_build(site: Path) -> float:
    started = time.monotonic()
    proc = subprocess.run(build_command(site), env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return time.monotonic() - started


def _env() -> dict:
    return dict(os.environ, SOURCE_DATE_EPOCH=FIXED_EPOCH)


def make_new_content(site: Path) -> None:
    claim = site / CLAIM
    text = claim.read_text("utf-8")
    claim.write_text(text.replace("title: Drug X reduces the pain of condition Y",
                                  "title: Drug X reduces the pain of condition Y a little"),
                     "utf-8")


def leftovers(site: Path) -> list[str]:
    return sorted(p.name for p in site.iterdir() if p.name.startswith(f".{OUT}."))


def user_files(site: Path) -> dict:
    """Every file of the repository but the site, its caches and a build's staging folders."""
    return {rel: entry for rel, entry in snapshot(site, skip=(OUT, CACHE)).items()
            if not rel.startswith(f".{OUT}.")}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The site with the old build published (and its caches), the bytes of the old and of
    the new site, and how long a whole build of the new content takes, warm and cold."""
    base = tmp_path_factory.mktemp("kill")
    old = base / "old"
    shutil.copytree(FIXTURE, old, ignore=shutil.ignore_patterns(CACHE, OUT))
    shutil.copytree(TEMPLATES, old / "templates")
    run_build(old)
    durations = {}
    for mode in ("warm", "cold"):
        new = base / mode
        shutil.copytree(old, new, symlinks=True)
        make_new_content(new)
        if mode == "cold":
            shutil.rmtree(new / CACHE)
        durations[mode] = run_build(new)
    old_tree, new_tree = read_tree(old / OUT), read_tree(base / "cold" / OUT)
    assert old_tree != new_tree and read_tree(base / "warm" / OUT) == new_tree
    return old, old_tree, new_tree, durations


OUTCOMES: dict[str, int] = {}


TIMED = 16  # rounds killed at a moment spread over the build; the rest at publication


def kill_moment(k: int, n: int) -> float:
    """When the k-th of n timed kills comes, as a fraction of a whole build."""
    return 0.95 * (k + 0.5) / n


def wait_and_kill(proc: subprocess.Popen, site: Path, round_: int, seconds: float) -> bool:
    """Kill the build (and every process it started) after ``seconds``, or for the last rounds
    as soon as the published folder is swapped, when the caches are still being saved.
    Whether it was still running then."""
    if round_ < TIMED:
        time.sleep(seconds)
    else:
        published = os.stat(site / OUT).st_ino
        while proc.poll() is None and os.stat(site / OUT).st_ino == published:
            time.sleep(0.0005)
    running = proc.poll() is None
    if running:
        os.killpg(proc.pid, signal.SIGKILL)
    return running


@ci_only
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_killed_build_leaves_the_old_or_the_new_site_and_nothing_else(prepared, tmp_path,
                                                                        round_):
    old, old_tree, new_tree, duration = prepared
    site = tmp_path / "site"
    shutil.copytree(old, site, symlinks=True)
    make_new_content(site)
    mode = "cold" if round_ % 2 else "warm"
    if mode == "cold":
        shutil.rmtree(site / CACHE)
    content = user_files(site)
    delay = duration[mode] * kill_moment(round_ // 2, TIMED // 2)
    with tally("kill -9", "rounds"):
        proc = subprocess.Popen(build_command(site), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            running = wait_and_kill(proc, site, round_, delay)
        finally:
            proc.wait(timeout=60)
        published = read_tree(site / OUT)
        state = "old" if published == old_tree else "new" if published == new_tree else "mixed"
        key = f"{state} site" if running else "finished before the kill"
        OUTCOMES[key] = OUTCOMES.get(key, 0) + 1
        note("kill -9", "rounds", ", ".join(f"{n} {k}" for k, n in sorted(OUTCOMES.items())),
             replace=True)
        assert state != "mixed", f"killed in round {round_}, the published site is neither"
        assert user_files(site) == content
        # The next build cleans up whatever the killed one left, caches included.
        run_build(site)
        assert read_tree(site / OUT) == new_tree
        assert leftovers(site) == []
