"""How long a job has left, shared by the fan-out jobs and ``export``.

The governor knows when the requests still to send can all have gone (``Governor.estimate``,
which counts the requests already waiting in it first); the last of them then needs its round
trip. When every unit (a chunk, a page) is already on its way, what is left is the rest of the
latest one's trip; when the job's own concurrency, not the quota, sets the pace, the units left
divided among the workers take longer than that.
"""

from __future__ import annotations

__all__ = ["RoundTrip", "seconds_left"]


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


def seconds_left(
    *,
    quota_wait: float,
    unsent: int,
    left: int,
    took: float | None,
    concurrency: int,
    last_sent_at: float | None,
    now: float,
) -> float | None:
    """Seconds until the last unit has its answer; ``None`` while there is nothing to go by.

    ``quota_wait``: the governor's estimate for the requests not yet sent; ``unsent``: units not
    yet sent (those waiting in the governor included); ``left``: units without an outcome;
    ``took``: their ``RoundTrip``; ``last_sent_at``: when the latest unit went (loop time).
    """
    if took is None:
        return quota_wait or None  # nothing answered yet: 0 would be a promise
    if unsent or quota_wait > 0:
        return max(quota_wait + took, left * took / concurrency)
    return max(0.0, (now if last_sent_at is None else last_sent_at) + took - now)
