"""One quota's counts per aligned window, sans I/O: for a server that counts in fixed windows.

**Fixed windows.** A server that counts in aligned windows ``[kW, (k+1)W)`` allows up to 2L
requests across a boundary, which a sliding log never uses (400 requests under the scaled test
quotas: 22.7 to 26 s depending on where the boundaries fall, against 26 s sliding).
``windows="fixed"`` counts per aligned window instead. The caller's clock must then be the
server's epoch clock, and ``margin`` must cover one-way latency plus clock disagreement: a
request dispatched less than ``margin`` before a boundary may arrive after it, so it counts in
both windows.

``GovernorCore`` (``_core.py``) keeps one per quota with ``windows="fixed"``, asking it what it
asks a ``SlidingLog`` (``_logs.py``). Nothing here knows about asyncio, HTTP or wall-clock time.
"""

from __future__ import annotations

import math

from inro_async.governor._base import Quota

__all__ = ["AlignedLog"]


class AlignedLog:
    """One quota's counts per aligned window ``[kW, (k+1)W)``, for a fixed-window server."""

    __slots__ = ("counts", "limit", "margin", "period", "quota", "rejected", "server_limit")

    def __init__(
        self, quota: Quota, server_limit: int, margin: float, hold: float | None = None
    ) -> None:
        self.quota = quota
        self.limit = quota.limit
        self.server_limit = server_limit
        self.period = quota.period
        self.margin = margin
        self.counts: dict[int, int] = {}  # window index -> dispatches it may count
        self.rejected: dict[int, int] = {}  # window index -> this process's 429s in it

    def index(self, t: float) -> int:
        # The epsilon keeps a boundary computed as k * W (a timer's deadline) inside window k.
        return math.floor(t / self.period + 1e-9)

    def expire(self, now: float) -> None:
        for counts in (self.counts, self.rejected):
            if len(counts) > 1 or (counts and next(iter(counts)) < self.index(now)):
                current = self.index(now)
                for index in [i for i in counts if i < current]:
                    del counts[index]

    def add(self, t: float, count: int, slowest: float = 0.0) -> None:
        """Count ``count`` dispatches at ``t`` in their window (and the next, near a boundary)."""
        counts = self.counts
        index = self.index(t)
        counts[index] = counts.get(index, 0) + count
        later = self.index(t + self.margin)
        if later != index:  # it may arrive after the boundary: count it in both windows
            counts[later] = counts.get(later, 0) + count

    def start_holding(self, hold: float) -> None:
        """Responses do not move aligned windows."""

    def restore(self, t: float, count: int) -> None:
        """Log ``count`` dispatches at ``t`` of a process that has ended."""
        self.add(t, count)

    def free_at(self, now: float) -> float:
        """Earliest time >= now at which one more dispatch keeps this quota."""
        self.expire(now)
        counts = self.counts
        limit = self.limit
        index = self.index(now)
        t = now
        while True:
            if counts.get(index, 0) < limit:
                later = self.index(t + self.margin)
                if later == index or counts.get(later, 0) < limit:
                    return t
            index += 1
            t = index * self.period

    def held_since(self, t: float, now: float, enough: float = math.inf) -> int | None:
        """What this process put in the window the server counted in, if only one could be."""
        index = self.index(now)
        if self.index(t) != index:
            return None  # it arrived in one of two windows: no safe comparison
        self.expire(now)
        return self.counts.get(index, 0)

    def used(self, now: float) -> int:
        """Dispatches counted in the current window."""
        self.expire(now)
        return self.counts.get(self.index(now), 0)

    def answered(self, sent_at: float, now: float) -> bool:
        """Responses do not move aligned windows."""
        return False

    def answer(self, entry: list[float] | None, now: float) -> bool:
        """Responses do not move aligned windows."""
        return False

    def freed_at(self, now: float) -> float:
        """When a slot last came free: the current window's start."""
        return self.index(now) * self.period

    def note_rejected(self, sent_at: float) -> None:
        """One of this process's requests, dispatched at ``sent_at``, was answered 429."""
        index = self.index(sent_at)
        self.rejected[index] = self.rejected.get(index, 0) + 1

    def comparable(self, used: int, full: bool, since: float, now: float) -> int:
        """The server's count as this log counts; a ``full`` window: the limit plus our 429s."""
        if not full:
            return used
        return max(used, self.server_limit + self.rejected.get(self.index(now), 0))

    def add_correction(self, now: float, count: int) -> None:
        """Requests someone else spent in the current window."""
        index = self.index(now)
        self.counts[index] = self.counts.get(index, 0) + count

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def copy(self) -> AlignedLog:
        clone = AlignedLog(self.quota, self.server_limit, self.margin)
        clone.counts = dict(self.counts)
        return clone  # estimates never correct: no rejections needed

    def size(self) -> int:
        return len(self.counts)
