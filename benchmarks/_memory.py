"""This process's memory, as the benchmarks report it (Linux)."""

from __future__ import annotations

import os
import resource


def rss_now_mb() -> float:
    """This process's resident set size now, in MB (Linux ``/proc``)."""
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_peak_mb() -> float:
    """This process's peak resident set size so far, in MB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
