"""One quota, many processes: the governor shared through Redis.

Every decision is one atomic Lua script on the Redis server (``redis_governor.lua``; its
arguments and replies in ``_redis_script.py``, the client and fallback in ``_redis_link.py``),
timed by Redis's own clock (``TIME``), so hosts with skewed clocks agree. The script keeps the
same coalesced sliding-window logs as the in-process core (``_logs.py``: one list of
``first|last|count`` entries per quota, at most ~2,000 entries each) and gives the same
guarantee across any number of processes: no interval of length W + margin holds more than L
dispatches (``tests/redis_governor/test_parity.py`` holds the two to the same decisions).

**A round trip per burst, not per request.** The script does not just answer "not yet": when
the earliest slot is at most ``horizon`` (20 ms) away it *reserves* it, together with further
slots that near, up to one per local waiter, and returns them; the process sleeps until each
and sends. When the slot is further away nothing is reserved: the process sleeps until the slot
is within the horizon and asks again. So a process holds only slots it is about to use (and
those in flight: below), which is all one killed by SIGKILL strands. Reserving further ahead
would queue processes in a fair order, but a dead one would waste every slot it had lined up:
on a 1-second quota, one stranded slot costs a whole extra window.

Within a process, waiters queue locally (priority, then arrival) and only the head talks to
Redis, so 10,000 waiting tasks make no Redis traffic and priorities hold. Across processes no
order is promised, but none starves: every process asks when slots are near, and one call takes
at most a fair share of the smallest quota (its limit over the processes that asked in the last
10 s) beyond its first slot, then asks again for what is left.

**Corrections compare like with like.** ``X-RateLimit-Remaining`` counts the window ending when
the request *arrived*, so the script compares it with the log as it was at the request's
dispatch (its slot, carried by the request's ``Permit``), not at the response: comparing with
a log that expired entries while the request was in flight reads the difference as requests
made by someone else, and the phantom requests it adds hold slots for a whole window. The
reservation also returns each quota's count, so a response the count already covers costs no
round trip at all.

**A slot is held until its answer** (``_redis_answers.py``), as ``LocalGovernor`` holds one:
the server counts a request when it arrives, and a busy web worker sends a granted request up to
~100 ms late. A slot frees W after its answer (or ``NO_ANSWER``), or ``HELD_FOR`` past its
window if none comes (a killed process); a process waiting on it asks every ``HELD_POLL`` s.

A 429 seen by any worker pauses all of them (the pause lives in Redis), and ``X-RateLimit-*``
corrections are shared the same way. If Redis cannot be reached, ``acquire`` raises
``GovernorUnavailableError``, or, with ``fallback_share=`` set, paces locally at that share of
each quota (never an unpaced burst).

Like ``LocalGovernor``, one governor serves one event loop at a time: successive loops may
share it (each gets its own connection when the governor opened it from ``url=``; a client
passed as ``client=`` belongs to the loop it was first used in), and a loop running in another
thread meanwhile is refused with ``GovernorLoopError``: give each thread its own RedisGovernor
with the same key, and they share the quota through Redis.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import math
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from inro_async._headers import parse_retry_after
from inro_async._validate import check_number
from inro_async.errors import (
    GovernorUnavailableError,
    InvalidArgumentError,
    MissingDependencyError,
    QuotaWaitTooLongError,
)
from inro_async.governor._base import (
    INRO_QUOTAS,
    NO_ANSWER,
    Permit,
    Priority,
    Quota,
    QuotaUsage,
    effective_quotas,
)
from inro_async.governor._core import GovernorCore
from inro_async.governor._loops import LoopBound, Waiter, WaiterQueue
from inro_async.governor._redis_answers import AnswerQueue, SlowAnswers, correction
from inro_async.governor._redis_answers import Slot as _Slot
from inro_async.governor._redis_link import RedisLink
from inro_async.governor._redis_script import (
    HELD_FOR,
    decode_peek,
    decode_reserve,
    script_keys,
    static_args,
)
from inro_async.governor.local import DEFAULT_MARGIN

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["HELD_FOR", "GovernorUnavailableError", "RedisGovernor"]

DEFAULT_HORIZON = 0.02
"""Seconds ahead a process may reserve slots: all a killed process can strand."""

HELD_POLL = 0.02
"""Seconds between asks while the next slot waits for another request's answer."""

_DEFAULT_RETRY_AFTER = 1.0
_BATCH = 1000
"""Most slots one round trip reserves."""


_ids = itertools.count(1)


@dataclass(order=True)
class _Waiter(Waiter):
    slot: _Slot | None = field(default=None, compare=False)


class RedisGovernor(LoopBound):
    """Paces every process sharing ``key`` (one key per organization) through one Redis.

    ``url`` or ``client`` says where Redis is. ``quotas``, ``reserve`` and ``margin`` mean what
    they mean for ``LocalGovernor``; ``horizon`` is how far ahead slots may be reserved;
    ``fallback_share``, when set (0..1), paces at that share of each quota locally while Redis
    is unreachable instead of raising ``GovernorUnavailableError``.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        key: str,
        quotas: Sequence[Quota] = INRO_QUOTAS,
        reserve: float = 0.0,
        margin: float = DEFAULT_MARGIN,
        max_wait: float | None = None,
        horizon: float = DEFAULT_HORIZON,
        fallback_share: float | None = None,
        client: aioredis.Redis | None = None,
    ) -> None:
        if (url is None) == (client is None):
            raise InvalidArgumentError("url", "pass exactly one of url= or client=")
        if client is None and importlib.util.find_spec("redis") is None:
            raise MissingDependencyError("RedisGovernor", "redis", "redis")
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError("key", "must name the organization, e.g. 'inro:acme'")
        check_number("horizon", horizon, "positive seconds")
        check_number("margin", margin, "seconds >= 0", zero=True)
        if fallback_share is not None:
            check_number("fallback_share", fallback_share, "a share in (0, 1]", at_most=1.0)
        original = tuple(quotas)
        self._quotas = effective_quotas(original, reserve)
        self._server_limits = [q.limit for q in original]
        self.key = key
        self.margin = margin
        self.horizon = horizon
        self.max_wait = max_wait
        self.fallback_share = fallback_share
        self._link = RedisLink(
            url,
            client,
            keys=script_keys(key, self._quotas),
            static_args=static_args(horizon, self._quotas, self._server_limits),
            quotas=self._quotas,
            margin=margin,
            fallback_share=fallback_share,
        )
        self._id = next(_ids)
        self._asker = f"{socket.gethostname()}:{os.getpid()}:{self._id}"
        self._slow = SlowAnswers(margin)
        self._waiters: WaiterQueue[_Waiter] = WaiterQueue()
        self._head_busy = False
        self._local_pause = -math.inf
        self._releasing: set[asyncio.Future[list[Any] | None]] = set()
        self._holding = False  # slots are held until their answers (``expect_reports``)
        self._answers = AnswerQueue(lambda slots: self._guarded("answered", *slots))
        self.corrections = 0
        """``correct`` calls made: only when a response's count exceeded what Redis knew."""

    def __repr__(self) -> str:
        quotas = ", ".join(map(str, self._quotas))
        return f"<RedisGovernor key={self.key!r} {quotas}; {len(self._waiters)} waiting>"

    @property
    def quotas(self) -> Sequence[Quota]:
        """The quotas enforced, after the reserve."""
        return self._quotas

    @property
    def round_trips(self) -> int:
        """Script calls made: one per burst of local waiters, plus rare corrections."""
        return self._link.round_trips

    # -- event loops (``_loops.LoopBound``) --------------------------------------------------

    _refusal = (
        "this RedisGovernor is in use by an event loop running in another thread; it serves one "
        "loop at a time. Create one RedisGovernor per thread with the same key: they share the "
        "quota through Redis"
    )

    def _leave(self, old: asyncio.AbstractEventLoop | None) -> None:
        if old is None:
            return  # the first loop: nothing is tied to another one yet
        # The previous loop has stopped: its connections and waiters cannot be used from this
        # one. Redis keeps the log; only this process's local queue starts afresh.
        self._link.leave()  # a client passed as client= cannot follow: GovernorLoopError
        self._waiters.strand(old)  # should that loop run again, they fail, not hang
        self._head_busy = False
        self._releasing = set()
        self._answers.leave()

    # -- redis -------------------------------------------------------------------------------

    async def _guarded(self, op: str, *extra: float | str) -> list[Any] | None:
        """Run the script at the margin in force (``RedisLink.guarded``), or return None."""
        return await self._link.guarded(op, self._margin_now(), *extra)

    async def _release(self, slot: _Slot) -> None:
        if slot.at is not None:
            held, slot.held = slot.held, False
            await asyncio.shield(self._guarded("release", repr(slot.at), "1" if held else "0"))

    def expect_reports(self) -> None:
        """Hold each slot in Redis until ``observe`` reports its request's end, from now on.

        A ``Client`` calls this for its governor: its transport reports every attempt,
        answered or not (``NO_ANSWER``). Used on its own, a governor starts holding at its
        first ``observe`` with a permit; until then a slot frees W + margin after it.
        """
        self._holding = True

    # -- protocol ----------------------------------------------------------------------------

    async def acquire(
        self, *, priority: int = Priority.NORMAL, max_wait: float | None = None
    ) -> Permit:
        """Queue locally, reserve a slot in Redis, sleep until it; the permit carries the slot."""
        loop = self._bind()
        started = loop.time()
        limit = max_wait if max_wait is not None else self.max_wait
        waiter = _Waiter(self._waiters.key(priority), loop.create_future())
        self._waiters.push(waiter)
        try:
            while waiter.slot is None:
                if self._waiters.head is waiter and not self._head_busy:
                    await self._serve_head(waiter, limit, started)
                else:
                    await waiter.future
                    waiter.future = loop.create_future()
            slot = waiter.slot  # at most ``horizon`` ahead when it was reserved
            remaining = slot.deadline - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
        except BaseException:
            if waiter.slot is not None:  # cancelled holding a slot: give it back
                await self._release(waiter.slot)
            else:
                self._waiters.discard(waiter)
            self._wake_head()
            raise
        now = loop.time()
        return Permit(now, now - started, slot)

    async def _serve_head(self, waiter: _Waiter, limit: float | None, started: float) -> None:
        """Reserve for the head of the local queue and, when slots are near, for those behind.

        Only the head talks to Redis: 10,000 local waiters make no traffic. It waits until the
        next slot is near, then one round trip reserves near slots, up to one per local waiter
        (and this process's share), and hands them out in queue order, so a high-priority call
        that queued while the head waited is served first among the others.
        """
        self._waiters.pop()
        self._head_busy = True
        try:
            slots = await self._reserve(limit, started, 1 + min(len(self._waiters), _BATCH))
            waiter.slot = slots[0]
            for slot in slots[1:]:
                if not self._waiters:  # waiters cancelled during the round trip
                    await self._release(slot)
                    continue
                other = self._waiters.pop()
                other.slot = slot
                if not other.future.done():
                    other.future.set_result(None)
        finally:
            self._head_busy = False
            self._wake_head()

    async def _reserve(self, limit: float | None, started: float, wanted: int) -> list[_Slot]:
        """Reserve the next slot and up to ``wanted - 1`` more, all within the horizon.

        Waits (reserving nothing) while the next slot is beyond the horizon; raises
        ``QuotaWaitTooLongError`` when it is beyond ``limit``.
        """
        loop = asyncio.get_running_loop()
        while True:
            local_pause = self._local_pause - loop.time()
            if local_pause > 0:
                await asyncio.sleep(local_pause)
            waited = loop.time() - started
            ahead = self.horizon if limit is None else min(self.horizon, limit - waited)
            hold = self._holding
            call = asyncio.ensure_future(
                self._guarded(
                    "reserve",
                    wanted,
                    repr(self.horizon),
                    repr(max(0.0, ahead)),
                    self._asker,
                    "1" if hold else "0",
                    *self._answers.take(),
                )
            )
            try:
                result = await asyncio.shield(call)
            except asyncio.CancelledError:
                # The script may have run: give back whatever it reserved for us.
                call.add_done_callback(partial(self._release_all, hold))
                raise
            if result is None:
                assert self._link.fallback is not None
                await self._link.fallback.acquire(
                    max_wait=None if limit is None else limit - waited
                )
                return [_Slot(loop.time(), None)]
            reply = decode_reserve(result, len(self._quotas))
            if reply.slots:
                offset = loop.time() - reply.server_time
                return [
                    _Slot(offset + at, at, reply.counted, reply.counts, hold) for at in reply.slots
                ]
            # Beyond ``likely`` the slot waits for answers, which may come at any moment.
            wait = reply.likely
            if limit is not None and waited + wait > limit:
                binding = reply.binding
                quota: object = self._quotas[binding] if binding is not None else "a 429 pause"
                raise QuotaWaitTooLongError(
                    wait=wait, available_at=time.time() + wait, quota=quota, max_wait=limit
                )
            # Beyond the horizon: come back when it is near (Redis says when, if nobody takes it),
            # or soon, when it waits for an answer.
            delay = wait - self.horizon
            if reply.wait > reply.likely + 1e-6:
                delay = max(delay, HELD_POLL)
            await asyncio.sleep(max(0.0, delay))

    def _release_all(self, hold: bool, call: asyncio.Future[list[Any] | None]) -> None:
        if call.cancelled() or call.exception() is not None:
            return
        result = call.result()
        if result is None:
            return
        for at in decode_reserve(result, len(self._quotas)).slots:
            task = asyncio.ensure_future(self._guarded("release", repr(at), "1" if hold else "0"))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)

    def _wake_head(self) -> None:
        if self._waiters and not self._head_busy and not self._waiters.head.future.done():
            self._waiters.head.future.set_result(None)

    def _margin_now(self) -> float:
        """The margin, widened while answers are slow (``SlowAnswers``; moot for held slots)."""
        return self._slow.margin_at(asyncio.get_running_loop().time())

    async def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        permit: Permit | None = None,
        elapsed: float | None = None,
    ) -> None:
        """Share a 429 pause and ``X-RateLimit-*`` corrections with every process.

        A correction compares the server's count with the log as it was when the request
        went: at the slot the ``permit`` carries, else ``elapsed`` seconds (dispatch to
        response) before now, else now. It costs no round trip when the count Redis returned
        with that slot already covers the server's. The slot itself, held until now, frees W
        after this report (``NO_ANSWER`` included): sent to Redis with others, off this path.
        """
        self._bind()
        slot = permit.reservation if permit is not None else None
        if not isinstance(slot, _Slot):
            slot = None
        if permit is not None:
            self._holding = True  # answers are reported: slots are held until them from now
        if slot is not None:
            self._answers.add(slot)
        if status == NO_ANSWER:
            return
        if permit is not None and elapsed is None:
            elapsed = asyncio.get_running_loop().time() - permit.granted_at
        if elapsed is not None:
            self._slow.note(elapsed, asyncio.get_running_loop().time())
        if status == 429:
            delay = parse_retry_after(headers.get("Retry-After"))
            delay = _DEFAULT_RETRY_AFTER if delay is None else delay
            loop = asyncio.get_running_loop()
            self._local_pause = max(self._local_pause, loop.time() + delay)
            await self._guarded("pause", repr(float(delay)))
            if self._link.fallback is not None:
                await self._link.fallback.observe(status, headers)
        args = correction(headers, slot, elapsed, self._quotas, self._server_limits)
        if args is not None:
            self.corrections += 1
            await self._guarded("correct", *args)

    async def snapshot(self) -> list[QuotaUsage]:
        """Per quota, as Redis sees it across every process: used and time to a free slot."""
        self._bind()
        result = await self._guarded("peek")
        if result is None:
            assert self._link.fallback is not None
            return await self._link.fallback.snapshot()
        reply = decode_peek(result, len(self._quotas))
        return [
            QuotaUsage(quota=quota, used=used, free_in=max(0.0, free_in))
            for quota, used, free_in in zip(self._quotas, reply.used, reply.free_in, strict=True)
        ]

    async def estimate(self, n: int) -> float:
        """Seconds until ``n`` more requests, after this process's waiters, could have gone.

        From Redis's current counts, and approximate: each quota's spent requests are taken to
        free together when its first slot does, so the answer errs towards waiting less than the
        exact log would say.
        """
        n = max(0, n) + len(self._waiters)  # those already waiting here go first
        if n == 0:
            return 0.0
        worst = 0.0
        for item in await self.snapshot():
            single = GovernorCore([item.quota], margin=self.margin)
            if item.used:
                single.record(item.free_in - item.quota.period - self.margin, item.used)
            worst = max(worst, single.estimate(n, 0.0))
        return worst

    async def reset(self) -> None:
        """Forget everything recorded under this key (tests, or a regenerated token)."""
        self._bind()
        await self._link.reset(self._margin_now())

    async def aclose(self) -> None:
        """Send the answers queued, then close the Redis connection if this governor opened it."""
        self._bind()
        await self._answers.drain()
        await self._link.aclose()

    async def __aenter__(self) -> RedisGovernor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Leave ``async with RedisGovernor(...)``: ``aclose``."""
        await self.aclose()
