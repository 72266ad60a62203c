"""The in-process governor: FIFO waiters, one timer, 429 pauses, server feedback.

Waiting (``_local_queue.py``): waiters in a heap by (priority, arrival), one timer armed for
the moment the head may go, exactly one task woken per freed slot, ``max_wait`` enforced while
queued, and cancellation safe at every point. A request nobody queues ahead of never meets the
queue: it costs one call to the core on each side, ``take`` for the grant (``grant_now``) and
``answer`` for the response (``observe_now``; its ``Permit.reservation`` holds the log entries
it joined).

**One event loop at a time** (``_loops.py``). Waiters' futures and the timer belong to the
loop they were made in. The first call from a new loop, once the previous one has stopped, drops
them and keeps the log, so what that loop spent still counts. A loop running in another thread
at the same time is refused with ``GovernorLoopError``. Two threads each get their own governor
with a share of the quota (``reserve=``), or share one through ``RedisGovernor``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from inro_async._headers import parse_rate_limit, parse_retry_after
from inro_async.errors import QuotaWaitTooLongError
from inro_async.governor._base import (
    INRO_QUOTAS,
    NO_ANSWER,
    Permit,
    Priority,
    Quota,
    QuotaUsage,
    effective_quotas,
)
from inro_async.governor._core import Entries, GovernorCore, Windows
from inro_async.governor._local_queue import TimedQueue

__all__ = ["DEFAULT_MARGIN", "LocalGovernor"]

DEFAULT_MARGIN = 0.05
"""Seconds added to the window of a request whose response has not come back.

Two requests dispatched 1 s apart can arrive less than 1 s apart when the first is delayed
more than the second; a strict sliding-window server then counts both in one window. Across
the internet to a hosted API, tens of milliseconds of variation between consecutive requests
are ordinary; 50 ms covers that. Once the response is in, the slot frees W after it instead
(the server counted the request before answering), so on a fast link the margin costs nothing
and on a slow one each 1-second cycle costs a round trip; against the minute quota either is a
fraction of a percent. See ``GovernorCore``.
"""

_DEFAULT_RETRY_AFTER = 1.0


class LocalGovernor(TimedQueue):
    """Paces this process's requests under a stack of quotas (the ``Governor`` protocol).

    ``reserve`` keeps a fraction of every quota for other users of the same token; ``margin``
    widens every window by that many seconds (see ``DEFAULT_MARGIN``); ``max_wait`` bounds how
    long a request may queue (``QuotaWaitTooLongError`` instead of a silent hours-long sleep);
    ``state_path`` keeps the log in a SQLite file so a restarted process remembers what it spent;
    ``windows="fixed"`` paces for a server that counts in epoch-aligned windows (it then reads
    the wall clock, which must agree with the server's); ``shared=True`` says other processes
    or people spend from the same token now and then, so every burst after a silence starts with
    one request whose response tells what they spent (it cannot stop two processes that both
    send at full speed from racing for the same slots: give each ``reserve=1 - 1/N``, or use
    ``RedisGovernor``); ``clock`` replaces the event loop's clock (tests).
    """

    def __init__(
        self,
        quotas: Sequence[Quota] = INRO_QUOTAS,
        *,
        reserve: float = 0.0,
        margin: float = DEFAULT_MARGIN,
        max_wait: float | None = None,
        state_path: str | Path | None = None,
        windows: Windows = "sliding",
        shared: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        original = tuple(quotas)
        self._quotas = effective_quotas(original, reserve)
        self._core = GovernorCore(
            self._quotas,
            margin=margin,
            server_limits=[q.limit for q in original],
            windows=windows,
            shared=shared,
        )
        self.reserve = reserve
        self.max_wait = max_wait
        # Aligned windows are the server's epoch multiples; the loop's clock has no epoch.
        self._clock = clock if clock is not None or windows == "sliding" else time.time
        self._init_queue()
        self.dispatched = 0
        """Requests dispatched through this governor (all time)."""
        self._state = None
        if state_path is not None:
            from inro_async.governor.state import StateFile

            self._state = StateFile(Path(state_path), self._quotas)
            self._state.load_into(self._core, self._now, time.time)

    @property
    def corrected(self) -> int:
        """Requests added from server headers: what others spent, as far as it could tell."""
        return self._core.corrected

    # -- clock -------------------------------------------------------------------------------

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    # -- event loops (``_loops.LoopBound``) --------------------------------------------------

    _refusal = (
        "this LocalGovernor is in use by an event loop running in another thread; it serves "
        "one loop at a time (successive asyncio.run calls may share it). Give each thread its "
        "own governor with a share of the quota (e.g. reserve=0.5 for two), or share one quota "
        "across threads and processes with RedisGovernor"
    )

    def _epoch(self, t: float) -> float:
        return time.time() + (t - self._now())

    def expect_reports(self) -> None:
        """Hold each unanswered request's slot until ``observe`` reports its end, from now on.

        A ``Client`` calls this for its governor: its transport reports every attempt,
        answered or not (``NO_ANSWER``), so a request that waits in a busy pool or server
        queue longer than any round trip seen keeps its slot until it is counted. Used on
        its own (``acquire`` without ``observe``), a governor guesses instead, as it does until
        its first report.
        """
        if self._core.hold is None:
            self._core.start_holding()

    # -- protocol ----------------------------------------------------------------------------

    @property
    def quotas(self) -> Sequence[Quota]:
        """The quotas enforced, after the reserve."""
        return self._quotas

    # -- lifecycle (the state file) ----------------------------------------------------------

    async def __aenter__(self) -> LocalGovernor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Leave ``async with LocalGovernor(...)``: ``aclose``, so the state file is written."""
        await self.aclose()

    def save_state(self) -> None:
        """Write the dispatches not yet in the state file now (nothing without ``state_path``).

        Pending dispatches are otherwise written a second after the first of them, by
        ``aclose``, when the governor is garbage-collected, or at a normal interpreter exit;
        ``Client.aclose`` calls this for its governor. Only a crash loses the last second.
        """
        if self._state is not None:
            self._state.flush()

    async def acquire(
        self, *, priority: int = Priority.NORMAL, max_wait: float | None = None
    ) -> Permit:
        """Wait for a slot and record the dispatch; return its ``Permit``."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        if self._live == 0:
            permit = self.grant_now(loop)
            if permit is not None:
                return permit
        now = self._clock() if self._clock is not None else loop.time()

        limit = max_wait if max_wait is not None else self.max_wait
        if limit is not None:
            # Everyone already queued may go first: a conservative estimate for this request.
            ready_at, binding = self._core.estimate_binding(self._live + 1, now)
            if ready_at - now > limit:
                raise QuotaWaitTooLongError(
                    wait=ready_at - now,
                    available_at=self._epoch(ready_at),
                    quota=binding or "a 429 pause",
                    max_wait=limit,
                )
        return await self._queue(loop, now, priority, limit)

    def takes_sync_calls(self) -> bool:
        """True unless ``acquire`` or ``observe`` is replaced (by a subclass, or on the instance).

        The synchronous calls would skip the replacement; the transport asks once, when made.
        """
        kind = type(self)
        return (
            kind.acquire is LocalGovernor.acquire
            and kind.observe is LocalGovernor.observe
            and "acquire" not in vars(self)
            and "observe" not in vars(self)
        )

    def grant_now(self, loop: asyncio.AbstractEventLoop, now: float | None = None) -> Permit | None:
        """``acquire``'s common case without a coroutine: a permit now, else ``None``.

        The transport calls this from ``loop`` (the running one) before ``acquire``: when
        this governor already serves that loop, nobody is queued and a slot is free, the grant
        is the one ``acquire`` would make. Otherwise (a first call, waiters, a full log, a
        pause) it records nothing and returns ``None``, and ``acquire`` takes the long way.
        """
        if loop is not self._loop or self._live:
            return None
        if self._clock is not None:
            now = self._clock()
        elif now is None:
            now = loop.time()
        core = self._core
        taken = core.take(now)
        if taken is None:
            return None
        self.dispatched += 1
        if self._state is not None:
            self._state.note_dispatch(core, now, self._epoch(now))
        return Permit(now, 0.0, (core, taken))

    def observe_now(
        self,
        loop: asyncio.AbstractEventLoop,
        status: int,
        headers: Mapping[str, str],
        permit: Permit,
        now: float | None = None,
    ) -> bool:
        """``observe``'s common case without a coroutine: True when it has been observed.

        An answer other than a 429 to a request this governor granted, on the loop it serves,
        once answers are reported (``expect_reports``): counted here and now. Anything else
        returns False, having done nothing, and the caller awaits ``observe``.
        """
        reserved = permit.reservation
        core = self._core
        if (
            loop is not self._loop
            or status == 429
            or status == NO_ANSWER
            or type(reserved) is not tuple
            or reserved[0] is not core
            or core.hold is None
        ):
            return False
        if self._clock is not None:
            now = self._clock()
        elif now is None:
            now = loop.time()
        limit, remaining = parse_rate_limit(headers)
        if core.answer(permit.granted_at, now, reserved[1], limit, remaining) and self._live:
            self._disarm()  # the next may go sooner (nobody waiting: no timer to set again)
            self._arm()
        return True

    async def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        permit: Permit | None = None,
        elapsed: float | None = None,
    ) -> None:
        """Learn from a response: 429 pauses everyone; X-RateLimit-* corrects the count.

        ``permit`` (or, for a request paced elsewhere, ``elapsed`` seconds before now) says when
        the request went: the correction compares the server's count with what this process had
        in the window the server saw.
        """
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        if permit is not None and self.observe_now(loop, status, headers, permit):
            return  # the common case: an ordinary answer to our own request
        now = self._clock() if self._clock is not None else loop.time()
        core = self._core
        entries: Entries | None = None
        if permit is not None:
            sent_at: float | None = permit.granted_at
            reserved = permit.reservation  # (core, entries), if this governor granted it
            if type(reserved) is tuple and reserved[0] is core:
                entries = reserved[1]
        else:
            sent_at = now - elapsed if elapsed is not None else None
        if core.hold is None and permit is not None:
            self.expect_reports()  # answers are reported: in-flight slots are held from now
        if status == NO_ANSWER:
            if sent_at is not None and self._core.ended(sent_at, now, entries):
                self._disarm()
                self._arm()
            return
        changed = self._core.heard(sent_at, now, entries)
        limit, remaining = parse_rate_limit(headers)
        if status == 429:
            delay = parse_retry_after(headers.get("Retry-After"), now=self._epoch(now))
            self._core.throttled(
                now, delay if delay is not None else _DEFAULT_RETRY_AFTER, limit=limit
            )
            changed = True
        if limit is not None and remaining is not None:
            added = self._core.correct(
                limit, remaining, now, sent_at=sent_at, throttled=status == 429
            )
            changed = added > 0 or changed
        if changed:
            self._disarm()
            self._arm()

    async def snapshot(self) -> list[QuotaUsage]:
        """Per quota: used, limit and seconds until a slot frees."""
        self._bind()
        return self._core.usage(self._now())

    async def estimate(self, n: int) -> float:
        """Seconds from now until ``n`` more requests, after those already waiting, have gone."""
        self._bind()
        now = self._now()
        total = max(0, n) + self._live
        return self._core.estimate(total, now) - now if total > 0 else 0.0

    async def aclose(self) -> None:
        """Cancel the timer and write the state file, if any."""
        self._bind()
        self._disarm()
        if self._state is not None:
            self._state.save(self._core, self._now(), time.time())

    def __repr__(self) -> str:
        now = self._now() if self._clock is not None or _loop_running() else None
        if now is None:
            return f"<LocalGovernor {', '.join(map(str, self._quotas))}>"
        usage = ", ".join(f"{u.quota}: {u.used}/{u.quota.limit}" for u in self._core.usage(now))
        paused = self._core.paused_until - now
        pause = f", paused {paused:.1f}s" if paused > 0 else ""
        return f"<LocalGovernor {usage}; {self._live} waiting{pause}>"

    # -- internals ---------------------------------------------------------------------------

    def _dispatch(self, now: float) -> Entries:
        entries = self._core.record(now)
        self.dispatched += 1
        if self._state is not None:
            self._state.note_dispatch(self._core, now, self._epoch(now))
        return entries


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
