"""The local governor's queue: waiters woken one per freed slot by one timer, and ``max_wait``.

Waiting follows aiolimiter's design rather than pyrate-limiter's: waiters sit in a heap ordered
by (priority, arrival), one timer is armed for the moment the head may go, and exactly one task
is woken per freed slot. Nothing polls, so 10,000 queued requests cost no CPU while they wait.
The dispatch time recorded is the moment the woken task actually resumes, not the planned one.

``max_wait`` bounds the time queued, not only the estimate on joining: each waiter with a bound
also sits in a second heap ordered by deadline, and whenever the timer is set for the head,
every waiter whose deadline is before that moment (a 429 pause, a correction, or requests of a
higher priority that went first) fails with ``QuotaWaitTooLongError`` there and then. Checking
costs one comparison per timer; the heap costs a push per bounded waiter.

Cancellation is safe at every point: a waiter cancelled before it is woken is dropped; one
cancelled after being woken but before resuming has recorded nothing and passes its wake-up on.

``TimedQueue`` holds this half of ``LocalGovernor`` (``local.py``), which adds the grant nobody
queues for, the answers, and the lifecycle.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from dataclasses import dataclass, field

from inro_async.errors import QuotaWaitTooLongError
from inro_async.governor._base import Permit
from inro_async.governor._core import Entries, GovernorCore
from inro_async.governor._loops import LoopBound, Waiter, WaiterQueue, stranded_error

__all__ = ["TimedQueue"]


@dataclass(order=True)
class _Waiter(Waiter):
    max_wait: float | None = field(default=None, compare=False)
    dropped: bool = field(default=False, compare=False)
    """No longer counted in ``_live``: cancelled before being woken, refused for waiting past
    its ``max_wait``, or left on a stopped loop."""

    def strand(self) -> None:
        """Left on a stopped loop: dropped, and failed should that loop run again."""
        self.dropped = True
        super().strand()


class TimedQueue(LoopBound):
    """Tasks queued for a ``GovernorCore``'s slots, woken by one timer (the module docstring).

    A subclass sets ``_core``, calls ``_init_queue`` and supplies the clock (``_now``,
    ``_epoch``) and the dispatch (``_dispatch``, which records one in the core).
    """

    _core: GovernorCore

    def _init_queue(self) -> None:
        self._waiters: WaiterQueue[_Waiter] = WaiterQueue()
        self._deadlines: list[tuple[float, int, _Waiter]] = []  # waiters with a max_wait
        self._live = 0  # waiters queued or woken, not cancelled, not yet dispatched
        self._woken = 0  # woken, not yet resumed
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self.wakeups = 0
        """Timer callbacks run (no polling: about one per freed slot)."""

    def _now(self) -> float:
        raise NotImplementedError

    def _epoch(self, t: float) -> float:
        raise NotImplementedError

    def _dispatch(self, now: float) -> Entries:
        raise NotImplementedError

    def _leave(self, old: asyncio.AbstractEventLoop | None) -> None:
        # The previous loop has stopped: its timer will never fire and its waiters never wake
        # here. The log is kept; what that loop spent still counts.
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_at = math.inf
        self._waiters.strand(old)
        self._deadlines = []
        self._live = self._woken = 0

    async def _queue(
        self, loop: asyncio.AbstractEventLoop, started: float, priority: int, limit: float | None
    ) -> Permit:
        """Wait in line from ``started`` (at most ``limit`` seconds), then dispatch."""
        key = self._waiters.key(priority)
        # A hair of slack: admitted at exactly ``limit``, the same slot must not be refused.
        deadline = started + limit + 1e-9 if limit is not None else math.inf
        while True:
            waiter = _Waiter(key, loop.create_future(), limit)
            self._waiters.push(waiter)
            if limit is not None:
                heapq.heappush(self._deadlines, (deadline, key[1], waiter))
            self._live += 1
            self._arm()
            try:
                await waiter.future
            except asyncio.CancelledError:
                if waiter.dropped:
                    if waiter.future.done() and not waiter.future.cancelled():
                        waiter.future.exception()  # refused, then cancelled: nothing to log
                    raise  # no longer counted
                self._live -= 1
                if waiter.future.done() and not waiter.future.cancelled():
                    # Woken, then cancelled before resuming: hand the wake-up on.
                    self._woken -= 1
                    self._arm()
                else:
                    waiter.dropped = True
                raise
            if waiter.dropped:
                raise stranded_error()  # woken, but its loop stopped before it resumed
            self._woken -= 1
            self._live -= 1
            now = self._now()
            if self._core.next_free(now) <= now:
                entries = self._dispatch(now)
                self._arm()
                return Permit(now, now - started, (self._core, entries))
            # The slot went elsewhere (a pause began meanwhile): queue again, same place.

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_at = math.inf

    def _arm(self) -> None:
        """Wake the head if it may go now, else make sure one timer is set for when it may."""
        if self._live - self._woken <= 0 or self._woken > 0:
            # Nobody waiting, or a woken task will re-arm when it resumes.
            if self._live == 0 and self._deadlines:
                self._deadlines.clear()  # every one served or gone
            return
        now = self._now()
        at = self._core.next_free(now)
        if at <= now:
            self._disarm()
            self._wake_head()
            return
        if self._deadlines and self._deadlines[0][0] < at:
            # Refused only past the likely moment: a slot held for a request in flight frees
            # at its answer, which the hold's bound would put a minute away.
            self._refuse_late(self._core.likely_free(now), now)
            if self._live - self._woken <= 0:
                self._disarm()
                return
        if self._timer is not None and self._timer_at == at:
            return
        self._disarm()
        loop = self._bind()
        self._timer = loop.call_at(loop.time() + (at - now), self._on_timer)
        self._timer_at = at

    def _refuse_late(self, at: float, now: float) -> None:
        """Fail every waiter whose ``max_wait`` runs out before ``at``, when the head may go."""
        decision = self._core.decide(now)
        quota: object = "a 429 pause" if decision.paused else decision.quota
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] < at:
            waiter = heapq.heappop(deadlines)[2]
            if waiter.dropped or waiter.future.done():
                continue  # served, cancelled, or queued again under a fresh waiter
            waiter.dropped = True
            self._live -= 1
            assert waiter.max_wait is not None
            waiter.future.set_exception(
                QuotaWaitTooLongError(
                    wait=at - now,
                    available_at=self._epoch(at),
                    quota=quota,
                    max_wait=waiter.max_wait,
                )
            )

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self.wakeups += 1
        self._arm()

    def _wake_head(self) -> None:
        while self._waiters:
            waiter = self._waiters.pop()
            if waiter.dropped or waiter.future.done():
                continue
            waiter.future.set_result(None)
            self._woken += 1
            return
