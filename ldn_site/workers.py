"""Workers: how many processes share a build's work, and the pool they run in.

Owns the decision to use more than one process and the pool itself. A build parses its files
and renders its pages on every core of a large site, in worker processes forked from the
parent, which shares its loaded content with them without copying it. Forking is safe only
while no other thread runs (a fork copies the locks other threads hold, held for ever in the
child) and only where the system libraries allow it: on Linux, in a build from the command
line. Everywhere else (macOS, Windows, a ``serve`` with its server threads) one process does
the work, with the same result. Workers leave Ctrl-C to the parent. Decides nothing about
what the work is: the pipeline hands the pool its functions.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import threading

PARALLEL_ITEMS = 400  # below this many files or pages, starting workers costs more than it saves
MAX_WORKERS = 8


def cpu_count() -> int:
    """The cores this process may use (Linux knows its affinity; elsewhere, all cores)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Forking is safe on Linux while no other thread runs; macOS's system libraries are not
    fork-safe and Windows cannot fork."""
    return sys.platform.startswith("linux") and threading.active_count() == 1 and \
        "fork" in multiprocessing.get_all_start_methods()


def count(requested: int | None, items: int) -> int:
    """How many processes share ``items``: as asked, else one per core (at most
    ``MAX_WORKERS``) when there are enough, and only one where forking is not safe."""
    if not can_fork():
        return 1
    if requested:
        return requested
    if items < PARALLEL_ITEMS:
        return 1
    return max(1, min(cpu_count(), MAX_WORKERS))


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C and SIGTERM to the parent, which stops them (and cleans up)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def pool(workers: int):
    """A pool of ``workers`` forked processes, or None when one process does the work."""
    if workers < 2:
        yield None
        return
    # Out of the collector's reach, the parent's objects are not walked (and so not copied
    # into every worker) by the workers' collections.
    gc.freeze()
    forked = multiprocessing.get_context("fork").Pool(workers, initializer=_ignore_interrupts)
    try:
        yield forked
        forked.close()
    except BaseException:
        forked.terminate()
        raise
    finally:
        forked.join()
        gc.unfreeze()


def mapper(forked):
    """``map`` over the pool in chunks (an item takes well under a millisecond), or the
    built-in ``map`` without one."""
    if forked is None:
        return map
    return lambda work, items: forked.imap(work, items, chunksize=max(1, len(items) // 64))
