"""The governor's arithmetic, sans I/O: quotas and clock readings in, "when may it go?" out.

The guarantee: for every quota (L requests per W seconds), no interval of length W + margin
holds more than L requests recorded here. Only a sliding-window log gives that while still
allowing the full burst (token and leaky buckets with a burst above 1 admit up to ~2L per window;
strict spacing throws the burst away), so each quota keeps a log of dispatch times.

**Bounded memory.** A day's 100,000 timestamps are not kept one by one. Each quota's log is a
deque of entries ``[first, last, count]``: a dispatch less than ``W / RESOLUTION`` after the
first member of the newest entry joins it, and the entry expires when its *last* member does.
Expiry is therefore late by at most ``W / RESOLUTION`` (0.05% of the window with
``RESOLUTION = 2000``), the whole capacity cost, and a log never holds more than about
``RESOLUTION + 1`` entries however fast requests go. Measured for the four production quotas
after 100,000 dispatches spread over a simulated day (``benchmarks/governor_core.py``): about
0.5 MB of entries in the worst case (8,000 entries), ~3 µs per ``record`` + ``next_free``.

**Cost per request.** ``record`` is O(quotas). ``next_free`` is O(quotas) amortized: expired
entries are popped once each, and the walk to find the entry whose expiry frees a slot stops at
the first entry in the common case (it walks further only when server corrections added more
than one entry's worth of phantom requests).

Nothing here knows about asyncio, HTTP or wall-clock time: ``now`` is whatever clock the caller
uses, so a simulated day runs in milliseconds.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from inro_async.governor._base import Quota, QuotaUsage

__all__ = ["RESOLUTION", "GovernorCore", "effective_quotas"]

RESOLUTION = 2000
"""Log entries per window: dispatches closer than ``W / RESOLUTION`` share one entry."""


def effective_quotas(quotas: Sequence[Quota], reserve: float) -> tuple[Quota, ...]:
    """The quotas left to this governor after keeping ``reserve`` (0..1) of each for others."""
    if not 0.0 <= reserve < 1.0:
        raise ValueError(f"reserve must be in [0, 1), got {reserve!r}")
    if not quotas:
        raise ValueError("at least one quota is needed")
    return tuple(
        Quota(max(1, math.floor(q.limit * (1.0 - reserve) + 1e-9)), q.period) for q in quotas
    )


class _Log:
    """One quota's sliding-window log of dispatches."""

    __slots__ = ("entries", "limit", "quota", "server_limit", "span", "step", "total")

    def __init__(self, quota: Quota, server_limit: int, margin: float) -> None:
        self.quota = quota
        self.limit = quota.limit
        self.server_limit = server_limit
        self.span = quota.period + margin
        self.step = quota.period / RESOLUTION
        self.entries: deque[list[float]] = deque()  # [first, last, count]
        self.total = 0

    def expire(self, now: float) -> None:
        entries = self.entries
        span = self.span
        while entries and entries[0][1] + span <= now:
            self.total -= int(entries.popleft()[2])

    def add(self, t: float, count: int) -> None:
        entries = self.entries
        if entries and t - entries[-1][0] < self.step:
            newest = entries[-1]
            if t > newest[1]:
                newest[1] = t
            newest[2] += count
        else:
            entries.append([t, t, count])
        self.total += count

    def free_at(self, now: float) -> float:
        """Earliest time >= now at which one more dispatch keeps this quota."""
        self.expire(now)
        excess = self.total - self.limit + 1
        if excess <= 0:
            return now
        for first_last_count in self.entries:
            excess -= int(first_last_count[2])
            if excess <= 0:
                return first_last_count[1] + self.span
        return now  # unreachable: total counts every entry

    def copy(self) -> _Log:
        clone = _Log.__new__(_Log)
        clone.quota = self.quota
        clone.limit = self.limit
        clone.server_limit = self.server_limit
        clone.span = self.span
        clone.step = self.step
        clone.entries = deque([entry[:] for entry in self.entries])
        clone.total = self.total
        return clone


@dataclass(frozen=True, slots=True)
class Decision:
    """When the next request may go, and which quota (if any) holds it back."""

    at: float
    quota: Quota | None
    paused: bool = False


class GovernorCore:
    """Sliding-window logs for a stack of quotas, a 429 pause, and server corrections.

    ``quotas`` are enforced as given; ``server_limits`` (default: the same limits) are the
    limits the server reports in ``X-RateLimit-Limit``, used to tell which quota a header speaks
    of when a reserve made the enforced limits smaller.
    """

    def __init__(
        self,
        quotas: Sequence[Quota],
        *,
        margin: float = 0.0,
        server_limits: Sequence[int] | None = None,
    ) -> None:
        if margin < 0:
            raise ValueError(f"margin must be >= 0 seconds, got {margin!r}")
        if not quotas:
            raise ValueError("at least one quota is needed")
        limits = list(server_limits) if server_limits is not None else [q.limit for q in quotas]
        if len(limits) != len(quotas):
            raise ValueError("server_limits must match quotas one to one")
        self.quotas: tuple[Quota, ...] = tuple(quotas)
        self.margin = margin
        self._logs = [_Log(q, limit, margin) for q, limit in zip(quotas, limits, strict=True)]
        self.paused_until = -math.inf

    def __repr__(self) -> str:
        logs = ", ".join(f"{log.quota}: {log.total} used" for log in self._logs)
        return f"<GovernorCore {logs}>"

    # -- decisions ---------------------------------------------------------------------------

    def decide(self, now: float) -> Decision:
        """When the next request may go (``at >= now``) and the quota that binds."""
        at = now
        binding: Quota | None = None
        for log in self._logs:
            free = log.free_at(now)
            if free > at:
                at, binding = free, log.quota
        if self.paused_until > at:
            return Decision(self.paused_until, binding, paused=True)
        return Decision(at, binding)

    def next_free(self, now: float) -> float:
        """The earliest time >= ``now`` at which one more request may be dispatched."""
        at = now if self.paused_until <= now else self.paused_until
        for log in self._logs:
            free = log.free_at(now)
            if free > at:
                at = free
        return at

    def available(self, now: float) -> int:
        """How many requests could be dispatched at ``now`` all at once."""
        if self.paused_until > now:
            return 0
        room = None
        for log in self._logs:
            log.expire(now)
            free = log.limit - log.total
            room = free if room is None or free < room else room
        return max(0, room or 0)

    def binding(self, now: float) -> Quota | None:
        """The quota that holds the next request back, or None when it may go now."""
        return self.decide(now).quota

    # -- events ------------------------------------------------------------------------------

    def record(self, t: float, count: int = 1) -> None:
        """Stamp ``count`` real dispatches at time ``t`` in every quota's log."""
        for log in self._logs:
            log.add(t, count)

    def pause_until(self, t: float) -> None:
        """Hold every request until ``t`` (a 429's ``Retry-After``); never shortens a pause."""
        if t > self.paused_until:
            self.paused_until = t

    def correct(self, limit: int, remaining: int, now: float) -> int:
        """Apply ``X-RateLimit-Limit`` / ``-Remaining`` from the server; return phantoms added.

        The server counted ``limit - remaining`` requests in the window with that limit. When
        that is more than this log holds (another process, the dashboard, a restart spent quota),
        the difference is recorded as phantom requests stamped ``now``: conservative, since the
        real ones are older and free their slots sooner. The count is never lowered: requests
        still in flight are not yet counted by the server.
        """
        used = max(0, limit - max(0, remaining))
        added = 0
        for log in self._logs:
            if log.server_limit != limit:
                continue
            log.expire(now)
            # Scale the server's count onto a reserve-reduced limit: the share others use.
            missing = used - (log.server_limit - log.limit) - log.total
            if missing > 0:
                log.add(now, missing)
                added = max(added, missing)
        return added

    # -- visibility --------------------------------------------------------------------------

    def usage(self, now: float) -> list[QuotaUsage]:
        """Per quota: requests in the trailing window and seconds until a slot frees."""
        result = []
        for log in self._logs:
            free = max(log.free_at(now), self.paused_until) - now
            result.append(QuotaUsage(quota=log.quota, used=log.total, free_in=max(0.0, free)))
        return result

    def estimate(self, n: int, now: float) -> float:
        """The time at which ``n`` more requests, dispatched greedily from ``now``, have all gone.

        Simulated on a copy of the logs in bursts (each step dispatches everything that may go at
        once), so it costs about one step per burst, not one per request.
        """
        if n <= 0:
            return now
        shadow = GovernorCore.__new__(GovernorCore)
        shadow.quotas = self.quotas
        shadow.margin = self.margin
        shadow._logs = [log.copy() for log in self._logs]
        shadow.paused_until = self.paused_until
        t = now
        left = n
        while True:
            t = shadow.next_free(t)
            burst = min(left, max(1, shadow.available(t)))
            shadow.record(t, burst)
            left -= burst
            if left == 0:
                return t

    def memory_entries(self) -> int:
        """Log entries held across every quota (what bounds memory)."""
        return sum(len(log.entries) for log in self._logs)
