"""One policy for a job held back by a spent quota, shared by the fan-out jobs and ``export``.

A job's requests ask the governor with ``max_wait`` (``NOTICE_AFTER``); a longer wait comes back
as ``QuotaWaitTooLongError`` before anything is sent. The job then either pauses (the wait is
longer than ``stop_when_blocked_over``) or waits it out: it announces ``waiting`` once per quota
window (not once per chunk or page that hits it), sleeps until the moment the governor named or
until the job halts, and announces ``resumed``.

``HeldTime`` measures, for the report, how long a run was held back by quota: the time during
which at least one of its units was ready to go and waiting (for a slot in the governor, for a
429 to be repeated, or out a spent quota), counted once however many waited together.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from inro_async.errors import QuotaWaitTooLongError
from inro_async.jobs._progress import EventKind

__all__ = ["Announce", "HeldTime", "QuotaWait"]

Announce = Callable[[EventKind, QuotaWaitTooLongError | None], Awaitable[None]]
"""Emits a ``waiting`` event (with the error that blocked) or a ``resumed`` one (with None)."""

SAME_WAIT = 1.0
"""Seconds within which two blocked requests are waiting for the same moment (one event)."""


class QuotaWait:
    """How one run waits for quota; ``until`` and ``quota`` say what it waits for meanwhile."""

    def __init__(self, announce: Announce, *, stop_over: float | None = None) -> None:
        self._announce = announce
        self.stop_over = stop_over
        """Waits longer than this pause the run instead (``stop_when_blocked_over``)."""
        self.until: datetime | None = None
        """While waiting: when the quota frees (wall clock, UTC)."""
        self.quota: str | None = None
        """While waiting: the quota that blocks (``100000/86400s``)."""

    def __repr__(self) -> str:
        waiting = f" waiting until {self.until:%H:%M:%S} for {self.quota}" if self.until else ""
        return f"<QuotaWait stop_over={self.stop_over}{waiting}>"

    def pauses(self, blocked: QuotaWaitTooLongError) -> bool:
        """Whether this wait is too long to sit through: the run pauses instead."""
        return self.stop_over is not None and blocked.wait > self.stop_over

    async def wait_out(
        self, blocked: QuotaWaitTooLongError, *, halted: asyncio.Event | None = None
    ) -> None:
        """Announce the wait (once for everyone blocked until the same moment), then sleep.

        Returns when the quota frees, or as soon as ``halted`` is set.
        """
        until = datetime.fromtimestamp(blocked.available_at, UTC)
        if self.until is None or abs((until - self.until).total_seconds()) > SAME_WAIT:
            self.until, self.quota = until, str(blocked.quota)
            await self._announce("waiting", blocked)
        if halted is None:
            await asyncio.sleep(blocked.wait)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halted.wait(), timeout=blocked.wait)
        if self.until is not None:  # the first of those waiting to wake says so
            self.until = self.quota = None
            await self._announce("resumed", None)


class HeldTime:
    """Seconds during which at least one unit of a run was held back by quota (loop clock)."""

    __slots__ = ("_clock", "_held", "_since", "_total")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._held = 0
        self._since = 0.0
        self._total = 0.0

    def __repr__(self) -> str:
        return f"<HeldTime {self.seconds():.3f} s, {self._held} held now>"

    def hold(self) -> None:
        """One more unit starts waiting."""
        if self._held == 0:
            self._since = self._clock()
        self._held += 1

    def release(self) -> None:
        """A waiting unit goes (or gives up)."""
        self._held -= 1
        if self._held == 0:
            self._total += self._clock() - self._since

    def seconds(self) -> float:
        """The held time so far, the current stretch included."""
        if self._held:
            return self._total + self._clock() - self._since
        return self._total
