"""The governor's arithmetic, sans I/O: quotas and clock readings in, "when may it go?" out.

The guarantee: for every quota (L requests per W seconds), no interval of length W + margin
holds more than L requests recorded here. Only a sliding-window log gives that while still
allowing the full burst (token and leaky buckets with a burst above 1 admit up to ~2L per window;
strict spacing throws the burst away), so each quota keeps a log of dispatch times.

**Responses bound the wait.** A request reaches the server before its response comes back,
so once it is answered it has left any server window W after the response, whatever the
latency or queueing: an answered entry expires at ``answered + W``. Unanswered, it expires at
``last + W + margin + slowest``: the margin is the assumed bound on how much later one request
may reach the server than another sent as long after it, and ``slowest``, the longest round
trip seen, how long one may wait in a queue on its way (a request still in flight when its
margin runs out may not have been counted yet). The response is the only safe bound:
a burst of 20 heavy sends queued ~80 ms in a one-process server, beyond the 50 ms margin, and
``min(last + W + margin, answered + W)`` earned 5 429s in ``benchmarks/fanout.py``; crediting
only the round trip beyond the fastest seen still failed a property test whose server's
service time varies. On a fast link the cost is nothing (at 1 ms round trips a 1-second quota
cycles in ~1.001 s); on a slow one a 1-second quota cycles in W + one round trip, which
against the minute quota is a fraction of a percent.

**Bounded memory.** A day's 100,000 timestamps are not kept one by one. Each quota's log is a
deque of entries (``_Log``): a dispatch less than ``W / RESOLUTION`` after the first member
of the newest entry joins it, and the entry expires when its *last* member does.
Expiry is therefore late by at most ``W / RESOLUTION`` (0.05% of the window with
``RESOLUTION = 2000``), the whole capacity cost, and a log never holds more than about
``RESOLUTION + 1`` entries however fast requests go. Measured for the four production quotas
after 100,000 dispatches spread over a simulated day (``benchmarks/governor_core.py``): about
0.5 MB of entries in the worst case (8,000 entries), ~3 µs per ``record`` + ``next_free``.

**Cost per request.** ``record`` is O(quotas). ``next_free`` is O(quotas) amortized: expired
entries are popped once each, and the walk to find the entry whose expiry frees a slot stops at
the first entry in the common case (it walks further only when server corrections added more
than one entry's worth of phantom requests).

**Server corrections without phantoms.** ``X-RateLimit-Remaining`` is the server's count over
the window ending when the request *arrived*, somewhere between its dispatch and its response.
Judged against the log as it stands at response time, the requests that left the local window
in between look missing, and were added back as phantoms on nearly every response (measured: 19
instead of 20 requests per window at 50 ms latency). So ``correct`` takes the dispatch time too
and compares with what the log held from then on: entries that expired up to ``GRACE`` seconds
ago are kept aside for exactly this. When this process is the only user, the server can never
have counted more than that; whatever exceeds it was spent by someone else.

**Sharing the quota: one request first.** A 429 means someone else spent what this log
thought was free, and they may keep spending while every request here waits out
``Retry-After``. Sending the whole queue when the pause ends would meet their new spend blind
and collect a 429 per request. So the first request after a pause goes alone, and the rest wait
for its response (at most ``PROBE_TIMEOUT``), whose headers say what the pause let others spend.
The same holds for any burst once others are known to be spending (``contended``): when the
server's last word predates the slots that came free (or is older than ``stale``, a twentieth
of the shortest window), the first request of the burst goes alone. Its response names the
quota with the fewest requests left, which is the one that bounds the burst, so the burst can
only meet what others spend during one round trip. A lone request freed by a lone expiry is not
held back (it risks one 429, not a burst of them); alone on the quota, nothing ever is. The
first sign can itself be a burst of 429s (a fixed-window server hides what others spend in a
longer window until it is nearly full), which ``shared=True`` avoids at the cost of one round
trip per burst.

What others are learned to have spent in one window is also counted in every longer window,
which holds it too.

**Fixed windows.** A server that counts in aligned windows ``[kW, (k+1)W)`` allows up to 2L
requests across a boundary, which a sliding log never uses (400 requests under the scaled test
quotas: 22.7 to 26 s depending on where the boundaries fall, against 26 s sliding).
``windows="fixed"`` counts per aligned window instead. The caller's clock must then be the
server's epoch clock, and ``margin`` must cover one-way latency plus clock disagreement: a
request dispatched less than ``margin`` before a boundary may arrive after it, so it counts in
both windows.

Nothing here knows about asyncio, HTTP or wall-clock time: ``now`` is whatever clock the caller
uses, so a simulated day runs in milliseconds.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from inro_async.governor._base import Quota, QuotaUsage

__all__ = ["GRACE", "PROBE_TIMEOUT", "RESOLUTION", "GovernorCore", "Windows", "effective_quotas"]

RESOLUTION = 2000
"""Log entries per window: dispatches closer than ``W / RESOLUTION`` share one entry."""

GRACE = 10.0
"""Seconds expired log entries are kept, so a response that took that long corrects exactly.

A slower response is judged against a log that forgot some of what the server counted: it may
add phantom requests, which only ever slows this process down (never a 429).
"""

PROBE_TIMEOUT = 1.0
"""Seconds the rest wait for the response of the one request sent first after a 429 pause."""

Windows = Literal["sliding", "fixed"]
"""How the server counts: a window ending at each request, or aligned windows ``[kW, (k+1)W)``."""


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
    """One quota's sliding-window log of dispatches.

    Each entry is ``[first, last, count, answered, answered_at, expires]``: ``count`` dispatches
    from ``first`` to ``last``, of which ``answered`` have had a response, the latest at
    ``answered_at``. A request reaches the server before its response leaves it, so once every
    member is answered the entry leaves the server's window by ``answered_at + W``, whatever the
    latency or queueing; until then, by ``last + W + margin`` (the margin being the assumed
    bound on how much later one request can arrive than another).
    """

    __slots__ = (
        "after",
        "entries",
        "expired",
        "freed",
        "limit",
        "period",
        "quota",
        "rejected",
        "server_limit",
        "span",
        "step",
        "total",
    )

    def __init__(self, quota: Quota, server_limit: int, margin: float) -> None:
        self.quota = quota
        self.limit = quota.limit
        self.server_limit = server_limit
        self.period = quota.period
        # An answered request is gone from the server's window W after its response, on the
        # server's clock: 10 ppm (and a microsecond) for the two clocks' rates and float error.
        self.after = quota.period * (1 + 1e-5) + 1e-6
        self.span = quota.period + margin
        self.step = quota.period / RESOLUTION
        self.entries: deque[list[float]] = deque()
        self.expired: deque[list[float]] = deque()  # left the window less than GRACE ago
        self.rejected: deque[float] = deque()  # dispatch times of this process's 429s
        self.freed = -math.inf  # when the latest entry to leave the log left
        self.total = 0

    def expire(self, now: float) -> None:
        entries = self.entries
        # In order: an entry answered early waits for the older ones (conservative, and the
        # log stays a queue).
        if entries and entries[0][5] <= now:
            expired = self.expired
            while entries and entries[0][5] <= now:
                entry = entries.popleft()
                self.total -= int(entry[2])
                expired.append(entry)
                if entry[5] > self.freed:
                    self.freed = entry[5]
            horizon = now - GRACE
            while expired and expired[0][5] <= horizon:
                expired.popleft()

    def answered(self, sent_at: float, now: float) -> bool:
        """The response to the request dispatched at ``sent_at`` came back at ``now``.

        True when that completed its entry, so its slots now free earlier than planned.
        """
        sent_at += self.step / 4  # clock readings a hair apart still find their own entry
        for entry in reversed(self.entries):
            if entry[0] <= sent_at:
                if entry[3] < entry[2]:
                    entry[3] += 1
                    if now > entry[4]:
                        entry[4] = now
                    if entry[3] == entry[2]:
                        entry[5] = entry[4] + self.after
                        return True
                return False
        return False

    def held_since(self, t: float, now: float, enough: float = math.inf) -> int | None:
        """Dispatches in the log at ``t`` or recorded since (what a server could have counted).

        Counting stops once it reaches ``enough``: a caller asking only whether the server
        counted more than this log held gets the same answer without walking the expired
        entries (at thousands of requests a second, ~100 of them on every response).
        """
        entries = self.entries
        if entries and entries[0][5] <= now:
            self.expire(now)
        held = self.total
        period = self.period
        for entry in self.entries:
            if entry[0] + period > t:
                break  # this one and every later one leave no earlier than first + W > t
            if entry[5] <= t:
                held -= int(entry[2])  # answered long ago, only queued behind an older one
        if held >= enough:
            return held
        reach = self.span + self.step  # expired entries are in order of ``last`` within one step
        for entry in reversed(self.expired):
            if entry[5] > t:
                held += int(entry[2])
                if held >= enough:
                    return held
            elif entry[1] + reach <= t:
                break
        return held

    def used(self, now: float) -> int:
        """Dispatches counted in the trailing window."""
        self.expire(now)
        return self.total

    def freed_at(self, now: float) -> float:
        """When a slot last came free (an entry left the window)."""
        self.expire(now)
        return self.freed

    def note_rejected(self, sent_at: float) -> None:
        """One of this process's requests, dispatched at ``sent_at``, was answered 429."""
        self.rejected.append(sent_at)

    def comparable(self, used: int, full: bool, since: float, now: float) -> int:
        """The server's count as this log counts: plus its 429s, which the server did not count."""
        rejected = self.rejected
        if not rejected:
            return used  # the common case, on every response: no 429 of ours to add
        horizon = now - self.span - GRACE
        while rejected and rejected[0] <= horizon:
            rejected.popleft()
        span = self.span
        return used + sum(1 for sent_at in rejected if sent_at + span > since)

    def add_correction(self, now: float, count: int) -> None:
        """Requests someone else spent: they arrived by ``now``, so they are gone by now + W."""
        self.entries.append([now, now, count, count, now, now + self.after])
        self.total += count

    def add(self, t: float, count: int, slowest: float = 0.0) -> None:
        """Log ``count`` dispatches at ``t``; unanswered, they expire ``slowest`` late."""
        entries = self.entries
        if entries and t - entries[-1][0] < self.step:
            newest = entries[-1]
            if t > newest[1]:
                newest[1] = t
            newest[2] += count
            # not all answered any more
            newest[5] = max(newest[5], newest[1] + self.span + slowest)
        else:
            entries.append([t, t, count, 0, -math.inf, t + self.span + slowest])
        self.total += count

    def free_at(self, now: float) -> float:
        """Earliest time >= now at which one more dispatch keeps this quota."""
        entries = self.entries
        if entries and entries[0][5] <= now:  # the call only when something expires
            self.expire(now)
        excess = self.total - self.limit + 1
        if excess <= 0:
            return now
        frees = now
        for entry in self.entries:
            if entry[5] > frees:
                frees = entry[5]  # not before any older entry: the log stays a queue
            excess -= int(entry[2])
            if excess <= 0:
                return frees
        return now  # unreachable: total counts every entry

    def copy(self) -> _Log:
        clone = _Log.__new__(_Log)
        clone.quota = self.quota
        clone.limit = self.limit
        clone.server_limit = self.server_limit
        clone.period = self.period
        clone.after = self.after
        clone.span = self.span
        clone.step = self.step
        # Shared entries, one copied: a simulation only pops old entries off the front and
        # coalesces new dispatches into the newest one (``add``); it never answers or corrects.
        clone.entries = deque(self.entries)
        if clone.entries:
            clone.entries[-1] = clone.entries[-1][:]
        clone.expired = deque()  # estimates never correct
        clone.rejected = deque()
        clone.freed = self.freed
        clone.total = self.total
        return clone

    def size(self) -> int:
        return len(self.entries) + len(self.expired)


class _Aligned:
    """One quota's counts per aligned window ``[kW, (k+1)W)``, for a fixed-window server."""

    __slots__ = ("counts", "limit", "margin", "period", "quota", "rejected", "server_limit")

    def __init__(self, quota: Quota, server_limit: int, margin: float) -> None:
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
        counts = self.counts
        index = self.index(t)
        counts[index] = counts.get(index, 0) + count
        later = self.index(t + self.margin)
        if later != index:  # it may arrive after the boundary: count it in both windows
            counts[later] = counts.get(later, 0) + count

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

    def copy(self) -> _Aligned:
        clone = _Aligned(self.quota, self.server_limit, self.margin)
        clone.counts = dict(self.counts)
        return clone  # estimates never correct: no rejections needed

    def size(self) -> int:
        return len(self.counts)


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
    of when a reserve made the enforced limits smaller; ``windows="fixed"`` counts in aligned
    windows instead of sliding ones; ``shared=True`` treats the quota as contended from the
    start instead of after the first sign of someone else's spend (see the module docstring).
    """

    def __init__(
        self,
        quotas: Sequence[Quota],
        *,
        margin: float = 0.0,
        server_limits: Sequence[int] | None = None,
        windows: Windows = "sliding",
        shared: bool = False,
    ) -> None:
        if margin < 0:
            raise ValueError(f"margin must be >= 0 seconds, got {margin!r}")
        if not quotas:
            raise ValueError("at least one quota is needed")
        if windows not in ("sliding", "fixed"):
            raise ValueError(f"windows must be 'sliding' or 'fixed', got {windows!r}")
        limits = list(server_limits) if server_limits is not None else [q.limit for q in quotas]
        if len(limits) != len(quotas):
            raise ValueError("server_limits must match quotas one to one")
        self.quotas: tuple[Quota, ...] = tuple(quotas)
        self.margin = margin
        self.windows: Windows = windows
        counter = _Log if windows == "sliding" else _Aligned
        self._logs: list[_Log | _Aligned] = [
            counter(q, limit, margin) for q, limit in zip(quotas, limits, strict=True)
        ]
        self.paused_until = -math.inf
        self.probing = False
        """The next request goes alone and the rest wait for news of it."""
        self.probe_sent: float | None = None
        self.contended_until = math.inf if shared else -math.inf
        """Until then others are known to spend from the same quota: bursts start with a probe."""
        self.last_view = -math.inf  # when the request that brought the server's last word left
        self.heard_at = -math.inf  # when that word came back
        self.slowest = 0.0
        """The longest round trip seen: how late an unanswered request may yet be counted."""
        self.stale = min(q.period for q in quotas) / 20

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
        held = self._held_until()
        if held > at:
            return Decision(held, binding, paused=True)
        return Decision(at, binding)

    def _held_until(self) -> float:
        if self.probing and self.probe_sent is not None:
            return max(self.paused_until, self.probe_sent + PROBE_TIMEOUT)
        return self.paused_until

    def next_free(self, now: float) -> float:
        """The earliest time >= ``now`` at which one more request may be dispatched."""
        held = self._held_until() if self.probing else self.paused_until  # on every request
        at = now if held <= now else held
        for log in self._logs:
            free = log.free_at(now)
            if free > at:
                at = free
        return at

    def available(self, now: float) -> int:
        """How many requests could be dispatched at ``now`` all at once."""
        if self._held_until() > now:
            return 0
        if self.probing:
            return 1 if self.next_free(now) <= now else 0
        room = None
        for log in self._logs:
            free = log.limit - log.used(now)
            if log.free_at(now) > now:
                free = 0  # a fixed window's room that a late arrival could overflow
            room = free if room is None or free < room else room
        return max(0, room or 0)

    def binding(self, now: float) -> Quota | None:
        """The quota that holds the next request back, or None when it may go now."""
        return self.decide(now).quota

    # -- events ------------------------------------------------------------------------------

    def record(self, t: float, count: int = 1) -> None:
        """Stamp ``count`` real dispatches at time ``t`` in every quota's log."""
        if self.probing:
            if self.probe_sent is None:
                self.probe_sent = t
        elif t < self.contended_until and self._stale(t) and self.available(t) > count:
            self.probing, self.probe_sent = True, t  # a blind burst: this one goes alone
        for log in self._logs:
            log.add(t, count, self.slowest)

    def _stale(self, t: float) -> bool:
        """Whether the server's last word predates slots coming free (or is simply old)."""
        if t - self.heard_at > self.stale:
            return True
        return any(log.freed_at(t) > self.last_view for log in self._logs)

    def pause_until(self, t: float) -> None:
        """Hold every request until ``t`` (a 429's ``Retry-After``); never shortens a pause.

        When the pause ends, one request goes first and the rest wait until ``heard`` is told
        of its response (or ``PROBE_TIMEOUT`` passes).
        """
        if t > self.paused_until:
            self.paused_until = t
            self.probing = True
            self.probe_sent = None

    def throttled(self, now: float, retry_after: float, limit: int | None = None) -> None:
        """A 429 answered at ``now``: pause for ``retry_after`` seconds.

        A fixed-window server's ``Retry-After`` is the end of the throttling window rounded up
        to whole seconds; when the header's limit names a quota, the pause ends with that
        quota's window instead of up to a second later.
        """
        until = now + retry_after
        self._contended(now, retry_after)
        if self.windows == "fixed" and limit is not None:
            for log in self._logs:
                if isinstance(log, _Aligned) and log.server_limit == limit:
                    until = min(until, (log.index(now) + 1) * log.period)
        self.pause_until(until)

    def _contended(self, now: float, period: float) -> None:
        self.contended_until = max(self.contended_until, now + max(10.0, period))

    def heard(self, sent_at: float | None, now: float | None = None) -> bool:
        """A response came back for a request sent at ``sent_at``.

        True when that may let the next request go sooner: it ended a probe, or it was the last
        answer of a log entry, whose slots now free W after it instead of W + margin + the
        slowest round trip after dispatch (a waiter's timer must then be set again).
        """
        view = sent_at if sent_at is not None else now
        if view is not None and view > self.last_view:
            self.last_view = view
            self.heard_at = now if now is not None else view
        sooner = False
        if sent_at is not None and now is not None:
            if now - sent_at > self.slowest:
                self.slowest = now - sent_at
            for log in self._logs:
                sooner = log.answered(sent_at, now) or sooner
        if not self.probing or self.probe_sent is None:
            return sooner
        if sent_at is not None and sent_at < self.probe_sent - 1e-9:
            return sooner  # sent before the pause: says nothing about what it let others spend
        self.probing = False
        self.probe_sent = None
        return True

    def correct(
        self,
        limit: int,
        remaining: int,
        now: float,
        *,
        sent_at: float | None = None,
        throttled: bool = False,
    ) -> int:
        """Apply ``X-RateLimit-Limit`` / ``-Remaining`` from the server; return phantoms added.

        The server counted ``limit - remaining`` requests in its window with that limit when the
        request arrived, at some moment between ``sent_at`` (its dispatch) and ``now`` (its
        response). This process may have had in that window at most what its log held at
        ``sent_at`` plus what it dispatched since; the server's count beyond that was spent by
        someone else (another process, the dashboard, a restart) and is recorded as phantom
        requests stamped ``now``: conservative, since the real ones are older and free their
        slots sooner. The count is never lowered: requests in flight are not yet counted by the
        server. Without ``sent_at`` the log is judged as it stands at ``now``, which mistakes
        requests that left the window during the round trip for someone else's.

        A ``throttled`` request is remembered in every log: a sliding-window server counts only
        what it accepts, so this log's count of the window is the server's plus such 429s; a
        fixed-window server counts them too, so a full window held at least the limit plus
        them (``Remaining`` stops at 0 and cannot say how far over it went).
        """
        used = max(0, limit - max(0, remaining))
        since = now if sent_at is None else min(sent_at, now)
        if throttled:
            for log in self._logs:
                log.note_rejected(since)
        added = 0
        for log in self._logs:
            if log.server_limit != limit:
                continue
            # Scale the server's count onto a reserve-reduced limit: the share others use.
            counted = log.comparable(used, remaining <= 0, since, now)
            expected = counted - (log.server_limit - log.limit)
            held = log.held_since(since, now, enough=expected)
            if held is None:
                continue
            missing = expected - held
            if missing > 0:
                log.add_correction(now, missing)
                added = max(added, missing)
                self._contended(now, log.quota.period)
                # Others' requests inside this window are inside every longer one too.
                for longer in self._logs:
                    if longer.quota.period > log.quota.period:
                        longer.add_correction(now, missing)
        return added

    # -- visibility --------------------------------------------------------------------------

    def usage(self, now: float) -> list[QuotaUsage]:
        """Per quota: requests in the trailing window and seconds until a slot frees."""
        result = []
        for log in self._logs:
            free = max(log.free_at(now), self._held_until()) - now
            result.append(QuotaUsage(quota=log.quota, used=log.used(now), free_in=max(0.0, free)))
        return result

    def estimate(self, n: int, now: float) -> float:
        """The time at which ``n`` more requests, dispatched greedily from ``now``, have all gone.

        Simulated on a copy of the logs in bursts (each step dispatches everything that may go at
        once), so it costs about one step per burst, not one per request.
        """
        return self.estimate_binding(n, now)[0]

    def estimate_binding(self, n: int, now: float) -> tuple[float, Quota | None]:
        """``estimate``, and the quota that held the last of the ``n`` back (None: a pause)."""
        if n <= 0:
            return now, None
        shadow = GovernorCore.__new__(GovernorCore)
        shadow.quotas = self.quotas
        shadow.margin = self.margin
        shadow.windows = self.windows
        shadow._logs = [log.copy() for log in self._logs]
        shadow.paused_until = self.paused_until
        shadow.probing = False  # an estimate assumes the probe's answer comes at once
        shadow.probe_sent = None
        shadow.contended_until = -math.inf
        shadow.last_view = self.last_view
        shadow.heard_at = self.heard_at
        shadow.stale = self.stale
        shadow.slowest = 0.0  # the requests estimated are answered before their slots free
        t = now
        left = n
        binding: Quota | None = None
        while True:
            decision = shadow.decide(t)
            if decision.at > t:
                binding = None if decision.paused else decision.quota
            t = decision.at
            burst = min(left, max(1, shadow.available(t)))
            shadow.record(t, burst)
            left -= burst
            if left == 0:
                return t, binding

    def memory_entries(self) -> int:
        """Log entries held across every quota (what bounds memory)."""
        return sum(log.size() for log in self._logs)
