"""How long a job has left, shared by the fan-out jobs and ``export``.

The governor knows when the requests still to send can all have gone (``Governor.estimate``,
which counts the requests already waiting in it first); the last of them then needs its round
trip. When every unit (a chunk, a page) is already on its way, what is left is the rest of the
latest one's trip; when the job's own concurrency, not the quota, sets the pace, the units left
divided among the workers take longer than that.

Neither sees a server that allows less than the client's quotas say: the governor paces by what
it was told, and a unit's trip is short once its 429s are not counted in it (they had no effect;
the unit waits to be sent again). While the server throttles, ``Pace`` measures how fast units
actually finish since the first 429, and the time left is never less than what that pace needs.
"""

from __future__ import annotations

__all__ = ["FinishedChunks", "Pace", "RoundTrip", "seconds_left"]


class RoundTrip:
    """A smoothed round trip of a job's units: from the first dispatch to the outcome."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds: float | None = None
        """The smoothed figure; ``None`` until a unit has finished."""

    def __repr__(self) -> str:
        return f"<RoundTrip {self.seconds}>"

    def add(self, took: float) -> None:
        """A unit finished after ``took`` seconds (weighted 0.3 against what came before)."""
        seen = self.seconds
        self.seconds = took if seen is None else 0.7 * seen + 0.3 * took


class Pace:
    """How fast units finish while the server throttles: those sent since the first 429.

    Started by the first 429 (``throttled``); only units sent since count (those already on their
    way went at the pace the client expected). ``restart`` forgets it after a wait the governor
    foresaw (a spent quota): its view holds again until the next 429.

    A throttling server lets units through in bursts, a window's worth at a time, so finishes
    come in groups (a finish sooner than a quarter of the time per unit so far joins the group
    before it). From two groups on, the time left is read as whole periods: the units left,
    the latest group's included, in bursts of the groups' mean size, one period apart. Before
    that, as the time per unit so far.
    """

    __slots__ = ("_before", "_finished", "_first", "_groups", "_last", "_latest", "_since", "_size")

    MIN_FINISHED = 2
    """Units that must have finished at this pace before it is trusted: one alone would read a
    burst's period as the time per unit."""
    SAME_GROUP = 0.25
    """A finish sooner than this share of the time per unit after the one before joins its group."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._finished = 0
        self._last = 0.0
        self._groups = 0
        self._first = self._latest = 0.0  # when the first and the latest group began
        self._size = 0  # units in the latest group
        self._before = 0  # units in the groups before it

    def __repr__(self) -> str:
        return f"<Pace since={self._since} finished={self._finished} groups={self._groups}>"

    def throttled(self, now: float) -> None:
        """A request was answered 429 (loop time ``now``)."""
        if self._since is None:
            self._since, self._finished, self._groups = now, 0, 0

    def finished(self, now: float, sent_at: float | None) -> None:
        """A unit sent at ``sent_at`` (its latest dispatch, loop time) got its outcome."""
        since = self._since
        if since is None or sent_at is None or sent_at < since:
            return
        if self._groups and now - self._last < self.SAME_GROUP * self._per_unit(since):
            self._size += 1
        else:
            if not self._groups:
                self._first = now
            self._before += self._size
            self._groups += 1
            self._latest, self._size = now, 1
        self._finished += 1
        self._last = now

    def _per_unit(self, since: float) -> float:
        return (self._last - since) / self._finished

    def restart(self) -> None:
        """Forget the pace (the job sat out a spent quota)."""
        self._since = None
        self._before = self._size = 0

    def seconds_left(self, left: int, now: float) -> float | None:
        """Seconds the ``left`` units need at this pace; ``None`` when there is no pace yet."""
        since = self._since
        if since is None or self._finished < self.MIN_FINISHED:
            return None
        if self._groups >= 2:
            period = (self._latest - self._first) / (self._groups - 1)
            burst = self._before / (self._groups - 1)
            end = self._latest + max(0.0, (self._size + left) / burst - 1) * period
        else:
            end = self._last + left * self._per_unit(since)
        return max(0.0, end - now)


def seconds_left(
    *,
    quota_wait: float,
    unsent: int,
    left: int,
    took: float | None,
    concurrency: int,
    last_sent_at: float | None,
    now: float,
    paced: float | None = None,
) -> float | None:
    """Seconds until the last unit has its answer; ``None`` while there is nothing to go by.

    ``quota_wait``: the governor's estimate for the requests not yet sent; ``unsent``: units not
    yet sent (those waiting in the governor included); ``left``: units without an outcome;
    ``took``: their ``RoundTrip``; ``last_sent_at``: when the latest unit went (loop time);
    ``paced``: what ``Pace.seconds_left`` says while the server throttles (a floor).
    """
    if took is None:
        estimate = quota_wait or None  # nothing answered yet: 0 would be a promise
    elif unsent or quota_wait > 0:
        estimate = max(quota_wait + took, left * took / concurrency)
    else:
        estimate = max(0.0, (now if last_sent_at is None else last_sent_at) + took - now)
    if paced is None:
        return estimate
    return paced if estimate is None else max(estimate, paced)


class FinishedChunks:
    """What a fan-out job's finished chunks say of the rest: requests each, round trip, pace."""

    __slots__ = ("count", "pace", "requests", "round_trip")

    def __init__(self) -> None:
        self.count = 0
        """Chunks with an outcome (done or not)."""
        self.requests = 0
        """Requests those chunks sent, retries and batch-task polls included."""
        self.round_trip = RoundTrip()
        """From a chunk's first dispatch (since a 429) to its answer."""
        self.pace = Pace()
        """How fast chunks finish while the server throttles."""

    def __repr__(self) -> str:
        return f"<FinishedChunks {self.count} ({self.requests} requests) {self.round_trip}>"

    def finished(self, now: float, sent_at: float | None, requests: int, *, answered: bool) -> None:
        """A chunk last dispatched at ``sent_at`` got its outcome; ``answered``: a success."""
        self.count += 1
        self.requests += requests
        self.pace.finished(now, sent_at)
        if answered and sent_at is not None:
            self.round_trip.add(now - sent_at)

    def requests_per_chunk(self, planned: float) -> float:
        """Requests a chunk still to send will cost, never fewer than ``planned``.

        Read from finished chunks only: those in flight are not done asking.
        """
        if not self.count:
            return planned
        return max(planned, self.requests / self.count)

    def seconds_left(
        self,
        *,
        quota_wait: float,
        unsent: int,
        chunks: int,
        concurrency: int,
        last_sent_at: float | None,
        now: float,
    ) -> float | None:
        """``seconds_left`` for a run of ``chunks`` chunks, from what the finished ones said."""
        left = chunks - self.count
        return seconds_left(
            quota_wait=quota_wait,
            unsent=unsent,
            left=left,
            took=self.round_trip.seconds,
            concurrency=concurrency,
            last_sent_at=last_sent_at,
            now=now,
            paced=self.pace.seconds_left(left, now),
        )
