"""Processes that cannot deadlock, and fallbacks that are tested. Rendering forks workers
only on Linux while no other thread runs; anywhere else (a threaded serve, macOS, Windows)
one process renders everything and gives the same bytes. Workers leave Ctrl-C to the parent,
which stops them and says so in one line, with no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import FIXED_EPOCH, REPO, read_tree
from ldn_site import pipeline, workers

sys.path.insert(0, str(REPO / "scripts"))
import benchmark  # noqa: E402  (the benchmark's synthetic site generator)


def test_the_cpu_count_falls_back_where_there_is_no_affinity(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert workers.cpu_count() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert workers.cpu_count() == 1


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_no_workers_where_forking_is_not_safe(monkeypatch, platform):
    monkeypatch.setattr(sys, "platform", platform)
    assert workers.count(4, 10_000) == 1
    assert workers.count(None, 10_000) == 1


def test_no_workers_while_another_thread_runs():
    assert workers.count(2, 10) == (2 if sys.platform.startswith("linux") else 1)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert workers.count(2, 10_000) == 1
    finally:
        stop.set()
        thread.join()


def test_one_process_and_workers_give_the_same_site(make_site, tmp_path, monkeypatch):
    site = make_site("minimal")
    forked = pipeline.build_site(str(site), output=str(tmp_path / "two"), jobs=2,
                                 use_cache=False, search=False)
    assert forked.written
    monkeypatch.setattr(sys, "platform", "win32")  # as on Windows: no fork at all

    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started where forking is not safe")

    monkeypatch.setattr(workers.multiprocessing, "get_context", no_pool)
    single = pipeline.build_site(str(site), output=str(tmp_path / "one"), jobs=2,
                                 use_cache=False, search=False)
    assert single.written
    assert read_tree(tmp_path / "one") == read_tree(tmp_path / "two")


def _fail() -> None:
    raise ValueError("a bug")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="children fork on Linux only")
def test_work_in_a_child_comes_back_or_is_left_to_the_caller(monkeypatch, capfd):
    assert workers.in_child(os.getpid) != os.getpid()
    assert workers.in_child(sorted, [3, 1, 2]) == [1, 2, 3]
    assert workers.in_child(_fail) is None  # the caller does it again and sees the bug
    assert workers.in_child(os._exit, 3) is None  # a child that dies hands back nothing
    assert "Traceback" not in capfd.readouterr().err
    monkeypatch.setattr(sys, "platform", "darwin")
    assert workers.in_child(os.getpid) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="children fork on Linux only")
def test_a_site_loaded_in_a_child_is_built_as_one_loaded_in_process(tmp_path, monkeypatch):
    site = tmp_path / "site"
    benchmark.make_site(str(site), 450)  # enough files for workers and the loading child
    child = pipeline.build_site(str(site), output=str(tmp_path / "a"), use_cache=False,
                                search=False)
    monkeypatch.setattr(workers, "in_child", lambda *args: None)
    here = pipeline.build_site(str(site), output=str(tmp_path / "b"), use_cache=False,
                               search=False)
    assert child.written and here.written
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_ctrl_c_during_a_parallel_build_leaves_one_line_and_the_old_site(tmp_path):
    site = tmp_path / "site"
    benchmark.make_site(str(site), 600)
    out = site / "_site"
    env = dict(os.environ, SOURCE_DATE_EPOCH=FIXED_EPOCH, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "ldn_site", "build", "--root", str(site), "--no-search",
           "--no-cache", "--jobs", "2"]
    assert subprocess.run(cmd, env=env, capture_output=True, cwd=tmp_path).returncode == 0
    before = read_tree(out)
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    # Wait until the workers exist (children of the build), then press Ctrl-C: the terminal
    # sends SIGINT to the whole process group, workers included.
    deadline = time.monotonic() + 60
    while not _children(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines() == [
        "interrupted: nothing was written; the previous site is unchanged"]
    assert read_tree(out) == before
    assert [p.name for p in site.iterdir() if p.name.startswith("._site.")] == []
    assert _children(proc.pid) == []


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def test_the_benchmark_reports_no_memory_where_there_is_no_proc(monkeypatch):
    real_isdir = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda p: False if p == "/proc" else real_isdir(p))
    assert benchmark.tree_memory_kb(os.getpid()) == (0, 0)
    monkeypatch.undo()
    if sys.platform.startswith("linux"):
        rss, pss = benchmark.tree_memory_kb(os.getpid())
        assert rss > 0 and pss > 0
