"""The governor's arithmetic, sans I/O: quotas and clock readings in, "when may it go?" out.

The guarantee: for every quota (L requests per W seconds), no interval of length W + margin
holds more than L requests recorded here. Only a sliding-window log gives that while still
allowing the full burst (token and leaky buckets with a burst above 1 admit up to ~2L per window;
strict spacing throws the burst away), so each quota keeps a log of dispatch times.

The logs themselves (when an entry expires, how memory stays bounded, what a request costs,
and ``windows="fixed"``'s counts per aligned window) are in ``_logs.py`` and ``_aligned_log.py``.

**Server corrections without phantoms.** ``X-RateLimit-Remaining`` is the server's count over
the window ending when the request *arrived*, somewhere between its dispatch and its response.
Judged against the log as it stands at response time, the requests that left the local window
in between look missing, and were added back as phantoms on nearly every response (measured: 19
instead of 20 requests per window at 50 ms latency). So ``correct`` takes the dispatch time too
and compares with what the log held from then on: entries that expired up to ``GRACE`` seconds
ago are kept aside for exactly this (``_logs.py``). When this process is the only user, the
server can never have counted more than that; whatever exceeds it was spent by someone else.

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

Nothing here knows about asyncio, HTTP or wall-clock time: ``now`` is whatever clock the caller
uses, so a simulated day runs in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from inro_async._validate import check_number
from inro_async.errors import InvalidArgumentError
from inro_async.governor._aligned_log import AlignedLog
from inro_async.governor._base import Quota, QuotaUsage
from inro_async.governor._estimates import simulate
from inro_async.governor._logs import UNREPORTED_HOLD, SlidingLog

__all__ = ["PROBE_TIMEOUT", "Entries", "GovernorCore", "Windows"]

PROBE_TIMEOUT = 1.0
"""Seconds the rest wait for the response of the one request sent first after a 429 pause."""

Entries = list[list[float] | None]
"""The log entries one dispatch joined, one per quota (``None`` in an aligned window's)."""

Windows = Literal["sliding", "fixed"]
"""How the server counts: a window ending at each request, or aligned windows ``[kW, (k+1)W)``."""


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
    start instead of after the first sign of someone else's spend (see the module docstring);
    ``hold`` (``LocalGovernor``: ``UNREPORTED_HOLD``) keeps an unanswered request's slot until
    its answer, or that many seconds past ``W + margin``, instead of guessing that it is
    answered within the slowest round trip seen (the guess, kept for estimates, fails when the
    loop or the server is busy: see "In flight" in the module docstring).
    """

    def __init__(
        self,
        quotas: Sequence[Quota],
        *,
        margin: float = 0.0,
        server_limits: Sequence[int] | None = None,
        windows: Windows = "sliding",
        shared: bool = False,
        hold: float | None = None,
    ) -> None:
        check_number("margin", margin, "seconds >= 0", zero=True)
        if not quotas:
            raise InvalidArgumentError("quotas", "at least one quota is needed")
        if windows not in ("sliding", "fixed"):
            raise InvalidArgumentError("windows", f"must be 'sliding' or 'fixed', got {windows!r}")
        limits = list(server_limits) if server_limits is not None else [q.limit for q in quotas]
        if len(limits) != len(quotas):
            raise InvalidArgumentError("server_limits", "must match quotas one to one")
        self.quotas: tuple[Quota, ...] = tuple(quotas)
        self.margin = margin
        self.hold = hold
        self.windows: Windows = windows
        counter = SlidingLog if windows == "sliding" else AlignedLog
        self._logs: list[SlidingLog | AlignedLog] = [
            counter(q, limit, margin, hold) for q, limit in zip(quotas, limits, strict=True)
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
        self.longest = max(q.period for q in quotas)
        self.corrected = 0
        """Requests added from server headers: what others spent, as far as it could tell."""
        # The fast paths (``take``, ``answer``) for sliding logs; aligned ones take the long way.
        sliding = [log for log in self._logs if isinstance(log, SlidingLog)]
        self._sliding = sliding if len(sliding) == len(self._logs) else None
        self._by_limit: dict[int, list[SlidingLog]] = {}
        for log in sliding:
            self._by_limit.setdefault(log.server_limit, []).append(log)

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
            # A log with room (counting what may have left it since) lets one more go now.
            if log.total >= log.limit:
                free = log.free_at(now)
                if free > at:
                    at = free
        return at

    def take(self, now: float) -> Entries | None:
        """Record one dispatch at ``now`` if it may go now (its entries, as ``record``); else None.

        ``next_free(now) <= now`` then ``record(now)`` in one call, for the grant of a request
        nobody queues ahead of: when there is no pause, no probe, no known contention and every
        log is sliding, the room check and the stamp are one pass over the logs.
        """
        sliding = self._sliding
        if sliding is None or self.probing or self.paused_until > now or now < self.contended_until:
            return self.record(now) if self.next_free(now) <= now else None
        for log in sliding:
            # Room, counting what may have left the log since (``add`` and ``free_at`` expire).
            if log.total >= log.limit and log.free_at(now) > now:
                return None
        slowest = self.slowest
        taken: Entries = []
        for log in sliding:
            taken.append(log.add(now, 1, slowest))
        return taken

    def likely_free(self, now: float) -> float:
        """``next_free`` as estimates see it: requests in flight answered as fast as seen."""
        if self.hold is None:
            return self.next_free(now)
        at = self.next_free(now)
        if at <= now:
            return at
        held = self._held_until() if self.probing else self.paused_until
        likely = now if held <= now else held
        for log in self._logs:
            likely = max(likely, log.copy().free_at(now))
        return likely

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

    # -- events ------------------------------------------------------------------------------

    def record(self, t: float, count: int = 1) -> Entries:
        """Stamp ``count`` real dispatches at time ``t`` in every quota's log.

        Returns the log entries they joined, one per quota (``None`` for an aligned window),
        for ``heard`` and ``ended`` to take the answer straight back to them.
        """
        if self.probing:
            if self.probe_sent is None:
                self.probe_sent = t
        elif t < self.contended_until and self._stale(t) and self.available(t) > count:
            self.probing, self.probe_sent = True, t  # a blind burst: this one goes alone
        slowest = self.slowest
        return [log.add(t, count, slowest) for log in self._logs]

    def start_holding(self, hold: float = UNREPORTED_HOLD) -> None:
        """Hold unanswered requests' slots until they are answered (see ``hold``), from now on.

        A governor whose caller reports every attempt's end (the transport does) turns this on
        at the first report; one used without reports keeps the guess, so no slot waits for an
        answer nobody will give.
        """
        self.hold = hold
        for log in self._logs:
            log.start_holding(hold)

    def restore(self, t: float, count: int = 1) -> None:
        """Stamp ``count`` dispatches at ``t`` that another (ended) process made: a state file."""
        for log in self._logs:
            log.restore(t, count)

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
                if isinstance(log, AlignedLog) and log.server_limit == limit:
                    until = min(until, (log.index(now) + 1) * log.period)
        self.pause_until(until)

    def _contended(self, now: float, period: float) -> None:
        # For the longest window at least: a neighbour seen once (a dashboard, a cron job)
        # is expected back, and a blind burst into its next spend costs a 429 per request in
        # flight. Lapsing after 10 s, the default governor met each return blind (issue 19:
        # 2-11 429s in 300 sends); the cost is one round trip per burst after a silence.
        self.contended_until = max(self.contended_until, now + max(10.0, period, self.longest))

    def heard(
        self, sent_at: float | None, now: float | None = None, entries: Entries | None = None
    ) -> bool:
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
            sooner = self._answered(sent_at, now, entries)
        if not self.probing or self.probe_sent is None:
            return sooner
        if sent_at is not None and sent_at < self.probe_sent - 1e-9:
            return sooner  # sent before the pause: says nothing about what it let others spend
        self.probing = False
        self.probe_sent = None
        return True

    def answer(
        self,
        sent_at: float,
        now: float,
        entries: Entries,
        limit: int | None,
        remaining: int | None,
    ) -> bool:
        """A response other than a 429 came back at ``now`` for ``record``'s ``entries``.

        ``heard`` then ``correct`` in one call (what a response costs most of the time): True
        when the next request may go sooner. The server's count is compared with the log
        here when it plainly holds no more than the log (nobody else spent), and by
        ``correct`` otherwise.
        """
        if self._sliding is None:  # aligned windows: the long way
            sooner = self.heard(sent_at, now, entries)
            if limit is not None and remaining is not None:
                sooner = self.correct(limit, remaining, now, sent_at=sent_at) > 0 or sooner
            return sooner
        if sent_at > self.last_view:
            self.last_view = sent_at
            self.heard_at = now
        if now - sent_at > self.slowest:
            self.slowest = now - sent_at
        sooner = False
        for log, entry in zip(self._logs, entries):  # noqa: B905 - one entry per log, by construction (strict= is a slower call)
            if entry is not None and log.answer(entry, now):
                sooner = True
        if self.probing and self.probe_sent is not None and sent_at >= self.probe_sent - 1e-9:
            self.probing = False
            self.probe_sent = None
            sooner = True
        if limit is None or remaining is None:
            return sooner
        logs = self._by_limit.get(limit)
        if logs is None:
            return sooner
        used = limit - (remaining if remaining > 0 else 0)
        since = sent_at if sent_at < now else now
        for log in logs:
            # What ``correct`` would find: the log held at least what the server counted.
            expected = used - (log.server_limit - log.limit)
            if log.rejected or log.held_since(since, now, expected) < expected:
                return self.correct(limit, remaining, now, sent_at=sent_at) > 0 or sooner
        return sooner

    def ended(self, sent_at: float, now: float, entries: Entries | None = None) -> bool:
        """The request dispatched at ``sent_at`` ended at ``now`` without an answer.

        It failed to connect, timed out or was cancelled: if it reached the server at all, it
        did so by now, so it leaves every window W after now, as an answered one does. True
        when that lets the next request go sooner. Nothing is learned of the server.
        """
        return self._answered(sent_at, now, entries)

    def _answered(self, sent_at: float, now: float, entries: Entries | None) -> bool:
        """Each log counts the answer: in ``entries`` (``record``'s), else found by ``sent_at``."""
        sooner = False
        if entries is not None:
            for log, entry in zip(self._logs, entries):  # noqa: B905 - one entry per log, by construction (strict= is a slower call)
                if entry is not None and log.answer(entry, now):
                    sooner = True
        else:
            for log in self._logs:
                if log.answered(sent_at, now):
                    sooner = True
        return sooner

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
        self.corrected += added
        return added

    # -- visibility --------------------------------------------------------------------------

    def usage(self, now: float) -> list[QuotaUsage]:
        """Per quota: requests in the trailing window and seconds until a slot frees."""
        result = []
        for log in self._logs:
            # As estimates see it: a request in flight is assumed answered as fast as the
            # slowest seen, not held for ``hold`` (a job sleeping on free_in would oversleep).
            view = log.copy() if self.hold is not None else log
            free = max(view.free_at(now), self._held_until()) - now
            result.append(QuotaUsage(quota=log.quota, used=log.used(now), free_in=max(0.0, free)))
        return result

    def estimate(self, n: int, now: float) -> float:
        """The time at which ``n`` more requests, dispatched greedily from ``now``, have all gone.

        Simulated on a copy of the logs, in bursts (``_estimates.simulate``).
        """
        return self.estimate_binding(n, now)[0]

    def estimate_binding(self, n: int, now: float) -> tuple[float, Quota | None]:
        """``estimate``, and the quota that held the last of the ``n`` back (None: a pause)."""
        return simulate(self, n, now)

    def memory_entries(self) -> int:
        """Log entries held across every quota (what bounds memory)."""
        return sum(log.size() for log in self._logs)
