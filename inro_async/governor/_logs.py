"""Each quota's count of dispatches, sans I/O: a sliding-window log.

``GovernorCore`` (``_core.py``) keeps one per quota and asks each when one more request may go;
why a log of dispatch times at all, and how server corrections and 429s use these, is said there.

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
deque of entries (``SlidingLog``): a dispatch less than ``W / RESOLUTION`` after the first member
of the newest entry joins it, and the entry expires when its *last* member does.
Expiry is therefore late by at most ``W / RESOLUTION`` (0.05% of the window with
``RESOLUTION = 2000``), the whole capacity cost, and a log never holds more than about
``RESOLUTION + 1`` entries however fast requests go. Measured for the four production quotas
after 100,000 dispatches spread over a simulated day (``benchmarks/governor_core.py``): about
0.5 MB of entries in the worst case (8,000 entries), ~3 µs per ``record`` + ``next_free``.

**Cost per request.** ``GovernorCore.record`` is O(quotas). ``next_free`` is O(quotas)
amortized: expired entries are popped once each, and the walk to find the entry whose expiry
frees a slot stops at the first entry in the common case (it walks further only when server
corrections added more than one entry's worth of phantom requests). A grant nobody queues
ahead of is one call (``GovernorCore.take``), and so is an ordinary answer
(``GovernorCore.answer``): ``add`` returns the entry a dispatch joined, the permit carries it,
and ``answer`` counts the response there without searching the log by time.

**Fixed windows** (a server counting in aligned windows) are counted by ``AlignedLog`` in
``_aligned_log.py``, which answers the same questions.

Nothing here knows about asyncio, HTTP or wall-clock time: ``now`` is whatever clock the caller
uses, so a simulated day runs in milliseconds.
"""

from __future__ import annotations

import math
from collections import deque

from inro_async.governor._base import Quota

__all__ = ["GRACE", "RESOLUTION", "UNREPORTED_HOLD", "SlidingLog"]

RESOLUTION = 2000
"""Log entries per window: dispatches closer than ``W / RESOLUTION`` share one entry."""

UNREPORTED_HOLD = 60.0
"""Seconds past ``W + margin`` an unanswered request holds its slot if nothing reports its end.

An unanswered request may still reach the server and be counted at any moment: it waits in
the connection pool, in this busy event loop, or in the server's inbound queue, for longer
than any round trip seen so far (a first burst of 4,000 requests from 200 organizations).
So it holds its slot until its answer (or the transport's report that the attempt ended
without one); this bound only frees a slot whose request was never reported at all.
"""

GRACE = 10.0
"""Seconds expired log entries are kept, so a response that took that long corrects exactly.

A slower response is judged against a log that forgot some of what the server counted: it may
add phantom requests, which only ever slows this process down (never a 429).
"""

_PRUNE_EVERY = 32
"""Entries ``expired`` may gain before those older than ``GRACE`` are dropped (a bound on
memory: the check costs every expiry a comparison, the walk is paid once per this many)."""


class SlidingLog:
    """One quota's sliding-window log of dispatches.

    Each entry is ``[first, last, count, answered, answered_at, expires, guess]``: ``count``
    dispatches from ``first`` to ``last`` (a dispatch joins the newest entry when less than a
    ``step`` after its ``first``), of which ``answered`` have had a response, the latest at
    ``answered_at``. A request reaches the server before its response leaves it, so once every
    member is answered the entry leaves the server's window by ``answered_at + W``, whatever the
    latency or queueing; until then it stays (``UNREPORTED_HOLD``). ``guess`` is when it would
    leave if its answers came as fast as the slowest seen: what estimates assume.
    """

    __slots__ = (
        "after",
        "entries",
        "expired",
        "freed",
        "hold",
        "limit",
        "period",
        "prune_at",
        "quota",
        "rejected",
        "server_limit",
        "span",
        "step",
        "total",
    )

    def __init__(
        self, quota: Quota, server_limit: int, margin: float, hold: float | None = None
    ) -> None:
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
        self.prune_at = _PRUNE_EVERY  # the length of ``expired`` at which its old end goes
        self.hold = hold  # None: unanswered entries leave ``slowest`` late (guess = expiry)
        self.total = 0

    def expire(self, now: float) -> None:
        """Move the entries that left the window by ``now`` to ``expired``, for ``GRACE``."""
        entries = self.entries
        expired = self.expired
        total = self.total
        freed = self.freed
        # In order: an entry answered early waits for the older ones (conservative, and the
        # log stays a queue).
        while entries:
            entry = entries[0]
            leaves = entry[5]
            if leaves > now:
                break
            entries.popleft()
            total -= entry[2]  # type: ignore[assignment]  # a count, kept as an int
            expired.append(entry)
            if leaves > freed:
                freed = leaves
        self.total = total
        self.freed = freed
        if len(expired) >= self.prune_at:  # every _PRUNE_EVERY expiries, not on each one
            horizon = now - GRACE
            while expired and expired[0][5] <= horizon:
                expired.popleft()
            self.prune_at = len(expired) + _PRUNE_EVERY

    def answered(self, sent_at: float, now: float) -> bool:
        """The response to the request dispatched at ``sent_at`` came back at ``now``.

        True when that completed its entry, so its slots now free earlier than planned.

        The answer goes to the entry holding ``sent_at`` exactly (the newest whose ``first`` is
        not after it). Only when that entry has no unanswered member left (a reading a hair off,
        from ``elapsed``) does a neighbour within a quarter step take it. Giving the slack to
        every lookup, as before, handed the answers of an entry's last quarter step to the next
        entry, whose own answers then found it full and were lost: the older entry never
        completed, and fell back on a guessed bound while its requests were still in the
        server's window (the 429s of many organizations on one busy loop, issue 19).
        """
        entries = self.entries
        index = len(entries) - 1
        while index >= 0 and entries[index][0] > sent_at:
            index -= 1
        if index >= 0 and self._answer(entries[index], now):
            return entries[index][3] == entries[index][2]
        slack = self.step / 4
        after = index + 1
        if (
            after < len(entries)
            and entries[after][0] - slack <= sent_at
            and self._answer(entries[after], now)
        ):
            return entries[after][3] == entries[after][2]
        before = index - 1
        if (
            before >= 0
            and sent_at < entries[before][0] + self.step + slack
            and self._answer(entries[before], now)
        ):
            return entries[before][3] == entries[before][2]
        return False

    def answer(self, entry: list[float], now: float) -> bool:
        """The response to a request that joined ``entry`` (``add``'s return) came back at ``now``.

        ``answered`` without the search: the permit kept the entry. True when that completed
        the entry. An entry whose bound ran out before the answer came has already left the
        log (or will at the next expiry): its slot was counted free then, and stays so.
        """
        if entry[3] >= entry[2] or entry[5] <= now:
            return False
        entry[3] += 1
        if now > entry[4]:
            entry[4] = now
        if entry[3] == entry[2]:
            entry[5] = entry[6] = entry[4] + self.after
            return True
        return False

    def _answer(self, entry: list[float], now: float) -> bool:
        """Count one answer in ``entry`` (``answer``); False when it had none outstanding."""
        if entry[3] >= entry[2]:
            return False
        self.answer(entry, now)
        return True

    def held_since(self, t: float, now: float, enough: float = math.inf) -> int:
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
        # Forgotten GRACE after leaving, whether or not ``expire`` has dropped them yet.
        counted = t if t > now - GRACE else now - GRACE
        for entry in reversed(self.expired):
            if entry[5] > counted:
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
        self.entries.append([now, now, count, count, now, now + self.after, now + self.after])
        self.total += count

    def start_holding(self, hold: float) -> None:
        """From now on unanswered entries stay until answered (or ``hold`` past W + margin)."""
        self.hold = hold
        for entry in self.entries:
            if entry[3] < entry[2]:
                entry[5] = max(entry[5], entry[1] + self.span + hold)

    def restore(self, t: float, count: int) -> None:
        """Log ``count`` dispatches at ``t`` of a process that has ended: none is in flight."""
        expires = t + self.span
        self.entries.append([t, t, count, count, t, expires, expires])
        self.total += count

    def add(self, t: float, count: int, slowest: float = 0.0) -> list[float]:
        """Log ``count`` dispatches at ``t``: held until answered; guessed ``slowest`` late.

        Returns the entry they joined, which ``answer`` takes back with their responses.
        """
        entries = self.entries
        self.total += count
        hold = slowest if self.hold is None else self.hold
        if entries:
            newest = entries[-1]
            if t - newest[0] < self.step:
                if t > newest[1]:
                    newest[1] = t
                newest[2] += count
                # not all answered any more
                bound = newest[1] + self.span
                if bound + hold > newest[5]:
                    newest[5] = bound + hold
                if bound + slowest > newest[6]:
                    newest[6] = bound + slowest
                return newest
        if entries and entries[0][5] <= t:
            self.expire(t)  # an entry in, those that left out: memory stays bounded
        span = t + self.span
        entry = [t, t, count, 0, -math.inf, span + hold, span + slowest]
        entries.append(entry)
        return entry

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

    def copy(self) -> SlidingLog:
        clone = SlidingLog.__new__(SlidingLog)
        clone.quota = self.quota
        clone.limit = self.limit
        clone.server_limit = self.server_limit
        clone.period = self.period
        clone.after = self.after
        clone.span = self.span
        clone.step = self.step
        # Shared entries, the unanswered ones copied with their guessed expiry (an estimate
        # assumes answers come as fast as the slowest seen); a simulation only pops old
        # entries off the front and coalesces new dispatches into the newest one (``add``).
        clone.entries = deque(
            entry if entry[3] >= entry[2] else [*entry[:5], entry[6], entry[6]]
            for entry in self.entries
        )
        if clone.entries:
            clone.entries[-1] = clone.entries[-1][:]
        clone.expired = deque()  # estimates never correct
        clone.prune_at = _PRUNE_EVERY
        clone.rejected = deque()
        clone.freed = self.freed
        clone.hold = None
        clone.total = self.total
        return clone

    def size(self) -> int:
        return len(self.entries) + len(self.expired)
