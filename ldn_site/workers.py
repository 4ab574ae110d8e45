"""Workers: how many processes share a build's work, and the pool they run in.

Owns the decision to use more than one process, the pool, and the child a large site is
loaded in. A build renders the pages of a large site on every core, in worker processes
forked from the parent, which shares its loaded content with them without copying it; it
loads and validates that content in a child first, so that the parent holds only the result,
compactly (``in_child``). Forking is safe only while no other thread runs (a fork copies the
locks other threads hold, held for ever in the child) and only where the system libraries
allow it: on Linux, in a build from the command line. Everywhere else (macOS, Windows, a
``serve`` with its server threads) one process does the work, with the same result. Workers
leave Ctrl-C to the parent. Decides nothing about what the work is: the pipeline hands the
pool its functions.
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
    """Workers ignore Ctrl-C, which the parent handles (it stops them and cleans up), and
    die at once on SIGTERM, with which it stops them."""
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


def in_child(work, *args):
    """``work(*args)``, computed in a forked child and handed back through a pipe (pickled),
    or None where forking is not safe or the child failed (the caller then does the work
    itself). What the child allocates on the way goes with it."""
    if not can_fork():
        return None
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_send, args=(writer, work, args))
    child.start()
    writer.close()
    try:
        result = reader.recv()
    except EOFError:
        result = None
    except BaseException:
        child.terminate()
        raise
    finally:
        reader.close()
        child.join()
    return result if child.exitcode == 0 else None


def _send(writer, work, args) -> None:
    _ignore_interrupts()  # the parent handles Ctrl-C, and stops this child if need be
    try:
        writer.send(work(*args))
    except BaseException:  # noqa: BLE001 - the parent does the work again itself, and a
        os._exit(1)        # bug shows its traceback there, once, rather than here
    writer.close()
