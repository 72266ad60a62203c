"""What every governor offers the transport: quotas, priorities and the ``Governor`` protocol.

The transport talks to a governor through exactly two calls per attempt:

* ``permit = await governor.acquire(...)`` before the request is sent. It returns when the request
  may go; the ``Permit`` says when the slot was granted (the dispatch time, on the governor's
  clock), how long the request queued, and what the governor reserved for it.
* ``await governor.observe(status, headers, permit=permit)`` with the response: 429 pauses,
  ``X-RateLimit-*`` corrections. The permit tells the governor which dispatch the answer speaks
  of: the server counted the request at its arrival, somewhere between the grant and the answer,
  and a correction judged at response time alone would mistake this process's own requests that
  left the window meanwhile for someone else's.

An attempt that ends without an answer (it failed to connect, timed out or was cancelled) is
reported as ``observe(NO_ANSWER, {}, permit=permit)``: until then the governor must assume
the request may still reach the server and be counted (it may wait in a connection pool or a
busy server's queue for longer than any round trip seen so far).

``aclose`` releases what the governor holds (timers, connections, a state file). The in-process
governor (``local.py``) and the Redis one (``redis.py``) implement the protocol, and so can
anyone else's: nothing is passed implicitly (no context variables, no signature sniffing).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, runtime_checkable

import msgspec

from inro_async._html import table
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


def effective_quotas(quotas: Sequence[Quota], reserve: float) -> tuple[Quota, ...]:
    """The quotas left to a governor after keeping ``reserve`` (0..1) of each for others."""
    if isinstance(reserve, bool) or not isinstance(reserve, int | float) or not 0 <= reserve < 1:
        raise InvalidArgumentError("reserve", f"must be a share in [0, 1), got {reserve!r}")
    if not quotas:
        raise InvalidArgumentError("quotas", "at least one quota is needed")
    return tuple(
        Quota(max(1, math.floor(q.limit * (1.0 - reserve) + 1e-9)), q.period) for q in quotas
    )


NO_ANSWER = 0
"""The status ``observe`` is given for an attempt that ended without any answer."""


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

    def _repr_html_(self) -> str:
        """The quota in a notebook: one row of limit, use, what is left and when a slot frees."""
        return table(
            ("quota", "used", "remaining", "frees in"),
            [(str(self.quota), self.used, self.remaining, f"{self.free_in:.3f} s")],
        )


class Permit(msgspec.Struct, frozen=True):
    """A granted slot: when it was granted, how long the request queued, what was reserved.

    Returned by ``Governor.acquire`` and handed back to ``Governor.observe`` with the answer.
    """

    granted_at: float
    """When the slot was granted (the dispatch time), on the governor's own clock."""
    queued: float = 0.0
    """Seconds the request waited in the governor before the grant."""
    reservation: object = None
    """What the governor reserved for this dispatch (its own business; e.g. a Redis slot)."""


@runtime_checkable
class Governor(Protocol):
    """Paces requests under a set of quotas; shared by every request of one organization."""

    @property
    def quotas(self) -> Sequence[Quota]:
        """The quotas being enforced (after any reserve has been taken off)."""
        ...

    async def acquire(
        self, *, priority: int = Priority.NORMAL, max_wait: float | None = None
    ) -> Permit:
        """Wait until a request may be dispatched and record it; return its ``Permit``.

        Raises ``QuotaWaitTooLongError`` at once, without queueing, when the wait would exceed
        ``max_wait``, and, once queued, as soon as a 429 pause or a correction makes it exceed
        it. A caller cancelled while waiting holds no slot.
        """
        ...

    async def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        permit: Permit | None = None,
        elapsed: float | None = None,
    ) -> None:
        """Learn from a response's status and headers.

        A 429 pauses every request until ``Retry-After`` has passed; ``X-RateLimit-*`` headers
        correct the local count upward (never downward); ``NO_ANSWER`` says the attempt
        ended without a response (its slot frees one window later). ``permit`` is the one
        ``acquire`` returned for this request; without it (a request paced elsewhere),
        ``elapsed`` may say how many seconds before now the request went.
        """
        ...

    async def snapshot(self) -> list[QuotaUsage]:
        """Per quota: used, limit and seconds until a slot frees."""
        ...

    async def estimate(self, n: int) -> float:
        """Seconds from now until ``n`` more requests, after those already waiting, have gone."""
        ...

    async def aclose(self) -> None:
        """Release what the governor holds: timers, connections, pending state-file writes."""
        ...


GrantNow = Callable[[asyncio.AbstractEventLoop, float], "Permit | None"]
"""``FastGovernor.grant_now``."""
ObserveNow = Callable[[asyncio.AbstractEventLoop, int, Mapping[str, str], "Permit", float], bool]
"""``FastGovernor.observe_now``."""


@runtime_checkable
class FastGovernor(Protocol):
    """A governor with synchronous common cases, which the transport tries before the coroutines.

    Optional: a ``Governor`` without these is awaited every time. Each call either does
    exactly what ``acquire`` / ``observe`` would have done, or does nothing and says so
    (``None`` / ``False``), and the transport then awaits the coroutine. Both take the running
    loop, which the caller has checked already, so the common case costs no loop lookup.
    What a request costs in the governor is most of what the SDK adds to one (see
    ``benchmarks/decode.py``).
    """

    def takes_sync_calls(self) -> bool:
        """Whether the two calls stand for ``acquire`` / ``observe`` (asked once per client).

        False when those are replaced, say by a subclass that records them.
        """
        ...

    def grant_now(self, loop: asyncio.AbstractEventLoop, now: float | None = None) -> Permit | None:
        """A permit if one may be granted at once with nobody queued; else ``None``.

        ``now``: ``loop.time()`` as the caller just read it (a governor on the loop's clock
        need not read it again).
        """
        ...

    def observe_now(
        self,
        loop: asyncio.AbstractEventLoop,
        status: int,
        headers: Mapping[str, str],
        permit: Permit,
        now: float | None = None,
    ) -> bool:
        """Observe an ordinary answer at once and return True; else do nothing, return False.

        ``now``: ``loop.time()`` when the answer came, as the caller read it.
        """
        ...
