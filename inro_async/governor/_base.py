"""What every governor offers the transport: quotas, priorities and the ``Governor`` protocol.

The transport talks to a governor through exactly two calls per attempt: ``acquire`` before the
request is sent (it returns when the request may go, and the moment it returns is recorded as the
dispatch time) and ``observe`` with the response's status and headers (429 pauses, X-RateLimit-*
corrections). The in-process governor (``local.py``) and the Redis one (``redis.py``) both
implement it, and so can anyone else's.

A governor whose ``observe`` also accepts the keyword ``elapsed`` (seconds from dispatch to the
response, on the event loop's clock) is given it: the server counted the request at its arrival,
somewhere in that interval, and a correction judged at response time alone mistakes this
process's own requests that left the window meanwhile for someone else's. The keyword is not in
the protocol, so governors written before it still type-check and still work.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, cast, runtime_checkable

from inro_async.errors import InvalidArgumentError


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``limit`` requests in any interval of ``period`` seconds."""

    limit: int
    period: float

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or isinstance(self.limit, bool) or self.limit < 1:
            raise InvalidArgumentError(
                "Quota.limit", f"must be a positive integer, got {self.limit!r}"
            )
        period: object = self.period
        if (
            isinstance(period, bool)
            or not isinstance(period, int | float)
            or not 0 < period < math.inf
        ):
            raise InvalidArgumentError(
                "Quota.period", f"must be positive seconds, got {self.period!r}"
            )

    def __str__(self) -> str:
        return f"{self.limit}/{self.period:g}s"


INRO_QUOTAS: tuple[Quota, ...] = (
    Quota(20, 1),
    Quota(1_000, 60),
    Quota(10_000, 3_600),
    Quota(100_000, 86_400),
)
"""Inrō's documented per-organization limits: 20/s, 1,000/min, 10,000/h, 100,000/day."""


class Priority(IntEnum):
    """Queue order among waiters: a higher priority is served first, FIFO within one priority."""

    BULK = -10
    """Fan-out jobs: yield to everything else."""
    NORMAL = 0
    """Ordinary calls."""
    INTERACTIVE = 10
    """Calls a person is waiting on; they jump a bulk job's queue."""
    RETRY = 100
    """A request the server throttled goes first once the pause is over."""


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """One quota as the governor sees it now."""

    quota: Quota
    used: int
    """Requests counted in the trailing window (including corrections from server headers)."""
    free_in: float
    """Seconds until at least one slot frees (0 when one is free now)."""

    @property
    def remaining(self) -> int:
        """Requests that could go right now under this quota alone."""
        return max(0, self.quota.limit - self.used)


@runtime_checkable
class Governor(Protocol):
    """Paces requests under a set of quotas; shared by every request of one organization."""

    @property
    def quotas(self) -> Sequence[Quota]:
        """The quotas being enforced (after any reserve has been taken off)."""
        ...

    async def acquire(
        self, *, priority: int = Priority.NORMAL, max_wait: float | None = None
    ) -> float:
        """Wait until a request may be dispatched and record it; return the seconds spent queued.

        Raises ``QuotaWaitTooLongError`` at once, without queueing, when the wait would exceed
        ``max_wait``, and, once queued, as soon as a 429 pause or a correction makes it exceed
        it. A caller cancelled while waiting holds no slot.
        """
        ...

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response's status and headers.

        A 429 pauses every request until ``Retry-After`` has passed; ``X-RateLimit-*`` headers
        correct the local count upward (never downward).
        """
        ...

    async def snapshot(self) -> list[QuotaUsage]:
        """Per quota: used, limit and seconds until a slot frees."""
        ...

    async def estimate(self, n: int) -> float:
        """Seconds from now until ``n`` more requests, after those already waiting, have gone."""
        ...


class TimedObserve(Protocol):
    """An ``observe`` that also takes the seconds from dispatch to response."""

    def __call__(
        self, status: int, headers: Mapping[str, str], *, elapsed: float | None = None
    ) -> Awaitable[None]:
        """Learn from a response that took ``elapsed`` seconds after its dispatch."""
        ...


def timed_observe(governor: Governor) -> TimedObserve | None:
    """``governor.observe`` when it accepts ``elapsed=``, else None (a governor predating it)."""
    observe = governor.observe
    try:
        parameters = inspect.signature(observe).parameters
    except (TypeError, ValueError):
        return None
    if "elapsed" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    ):
        return cast(TimedObserve, observe)
    return None
