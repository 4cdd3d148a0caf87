"""Worker processes for the CPU-bound steps of a big run, and how many helm processes run at once.

Reading configs, parsing helm's output and jsonschema are CPU-bound Python: threads would
queue on the GIL, so a big run (at least POOL_MIN items) does them in forked worker
processes, forked on first need while the process still has a single thread (forking a
threaded process can copy a held lock). Config checks (checks/) and manifest checks
(manifests/) share one pool per run; helm itself runs in threads (render/), `--jobs` at once.

Bounds: `--jobs` helm processes at once, 1 to MAX_JOBS (default: the usable CPUs, at most
MAX_DEFAULT_JOBS); worker processes at most `max_workers()`, whatever --jobs says. Workers
die with modeldeploy (processes.worker_setup).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import threading

from . import processes

MAX_DEFAULT_JOBS = 8  # each job is a helm process and a worker, ~60 MB each
MAX_JOBS = 64  # --jobs: helm processes at once; more only costs memory and start-up
POOL_MIN = 48  # fewer items: they are handled in this process


def usable_cpus() -> int:
    """The CPUs this process may use (its affinity, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """The usable CPUs, at most 8."""
    return min(MAX_DEFAULT_JOBS, usable_cpus())


def max_workers() -> int:
    """Worker processes at most, whatever --jobs says: the checks are CPU-bound, so more than
    the usable CPUs (or 8 on a small machine) would only cost memory."""
    return max(MAX_DEFAULT_JOBS, usable_cpus())


class Workers:
    """The run's worker processes, forked on first need while the process has a single thread."""

    def __init__(self, jobs: int | None, main_works: bool = False) -> None:
        """`main_works`: this process takes a share of the work too (it has nothing else to do,
        as in `validate`): one worker fewer to fork, and its share is never pickled."""
        self.count = max(1, min(jobs or default_jobs(), max_workers()))  # processes that work
        self.main_works = main_works
        self.pool: cf.ProcessPoolExecutor | None = None

    def get(self, expected: int) -> cf.ProcessPoolExecutor | None:
        """The pool, when `expected` items make one worth it; else None (work in process)."""
        size = self.count - 1 if self.main_works else self.count
        if self.pool is None and self.count > 1 and expected >= POOL_MIN and _can_fork():
            self.pool = cf.ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("fork"),
                                               initializer=processes.worker_setup,
                                               initargs=(os.getpid(),))
            # With fork, the first submit forks every worker before it starts the pool's own
            # thread (concurrent.futures, since 3.9): no need to wait for the answer.
            self.pool.submit(int)
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _can_fork() -> bool:
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)
