"""What RedisGovernor learns from answers: slots they free, margins they widen, counts they fix.

A slot granted to a process that reports its answers (``RedisGovernor.expect_reports``, which a
``Client`` calls) is *held* in Redis until its answer: the request may leave late from a busy
event loop or wait in a queue on its way, and the server counts it when it arrives, which is
no later than its answer. ``observe`` queues each answer here; the next ``reserve`` carries what
is queued, or, if none goes first, one ``answered`` call sends it, off the request's path: the
request never waits for that round trip, and a burst of answers costs one call, not one each.
Until it lands, the slot stays taken a little longer, which only ever delays someone (never a 429).

A process that does not report its answers has its slots free W + margin after them, the margin
widened by the slowest answer lately (``SlowAnswers``); and any answer's ``X-RateLimit-*``
headers may show requests Redis did not know of (``correction``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from inro_async._headers import parse_rate_limit
from inro_async.errors import GovernorUnavailableError
from inro_async.governor._base import Quota

__all__ = ["SLOW_MEMORY", "AnswerQueue", "Slot", "SlowAnswers", "correction"]

SLOW_MEMORY = 10.0
"""Seconds a slow answer keeps widening the margin (``SlowAnswers``)."""

logger = logging.getLogger("inro_async")

_BATCH = 1000
"""Most answers one script call carries."""


@dataclass(slots=True)
class Slot:
    """A reserved dispatch: when to go (event-loop time) and, from Redis, what it counted."""

    deadline: float
    at: float | None
    """The slot in Redis time; None when the local fallback granted it."""
    counted: float = 0.0
    """The last slot of the same reservation (Redis time): what ``counts`` cover."""
    counts: tuple[int, ...] = ()
    """Per quota, requests in the window at ``counted``, this reservation's included."""
    held: bool = False
    """Taken in Redis until its answer is reported (once: then False)."""


class AnswerQueue:
    """Answers to held slots, sent by ``send`` (the script's ``answered``) a batch at a time."""

    def __init__(self, send: Callable[[Sequence[str]], Awaitable[object]]) -> None:
        self._send = send
        self._pending: list[str] = []
        self._kicked = False  # a look at the queue is due on the next turn of the loop
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, slot: Slot) -> None:
        """The request that used ``slot`` was answered, or ended without an answer, just now."""
        if not slot.held or slot.at is None:
            return
        slot.held = False  # reported once: a second report must not answer another member
        self._pending.append(repr(slot.at))
        if not self._kicked:
            # On the next turn of the loop, every answer observed until then goes in one call,
            # unless a reservation made meanwhile took them (one request at a time: every time).
            self._kicked = True
            asyncio.get_running_loop().call_soon(self._kick)

    def take(self) -> list[str]:
        """The answers queued, for a call about to go anyway (``reserve``) to carry."""
        batch = self._pending[:_BATCH]
        del self._pending[:_BATCH]
        return batch

    def _kick(self) -> None:
        self._kicked = False
        if self._pending and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = self.take()
                try:
                    await self._send(batch)
                except GovernorUnavailableError as exc:
                    # The next acquire says so; these slots come back HELD_FOR past their window.
                    logger.debug("answers not sent to Redis: %s", exc)
        finally:
            self._task = None

    async def drain(self) -> None:
        """Send whatever is queued now (``aclose``)."""
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._pending:
            await self._flush()

    def leave(self) -> None:
        """The event loop stopped: its callbacks will not run; what is queued goes with the next."""
        self._kicked = False
        self._task = None


class SlowAnswers:
    """``margin``, or the slowest answer of the last ``SLOW_MEMORY`` seconds if longer.

    Unheld, a slot frees W + margin after it. A request may be counted by the server as late
    as its answer: when answers take longer than the margin (a loaded server queues requests
    before counting them), one counted late could still be in the server's window when that
    slot is reused. Widening by the slowest recent round trip keeps the guarantee then, and
    costs nothing while answers are fast, and nothing to a held slot: its answer frees it.
    """

    def __init__(self, margin: float) -> None:
        self.margin = margin
        self._slow = (0.0, -math.inf)  # (round trip, loop time): the slowest answer lately

    def note(self, elapsed: float, now: float) -> None:
        """An answer came ``elapsed`` seconds after its dispatch, at ``now`` (loop time)."""
        slowest, at = self._slow
        if elapsed >= slowest or now - at > SLOW_MEMORY:
            self._slow = (elapsed, now)

    def margin_at(self, now: float) -> float:
        """The margin in force at ``now``."""
        slowest, at = self._slow
        if slowest <= self.margin or now - at > SLOW_MEMORY:
            return self.margin
        return slowest


def correction(
    headers: Mapping[str, str],
    slot: Slot | None,
    elapsed: float | None,
    quotas: Sequence[Quota],
    server_limits: Sequence[int],
) -> tuple[float | str, ...] | None:
    """The ``correct`` call's arguments an answer's headers need; None if Redis knew already.

    Read as the local governor reads them: never raising (this answer arrived after the request
    was processed), an odd value (inf, 1e999, text) ignored and logged once. With the request's
    slot, it costs no round trip when the count Redis returned with that slot already covers
    the server's; without, the request went ``elapsed`` seconds ago, if known, else now.
    """
    server_limit, left = parse_rate_limit(headers)
    if server_limit is None or left is None or server_limit not in server_limits:
        return None
    if slot is not None and slot.at is not None:
        used = server_limit - max(0, left)
        known = all(
            used - (server_limit - quota.limit) <= count
            for quota, limit, count in zip(quotas, server_limits, slot.counts, strict=True)
            if limit == server_limit
        )
        if known:
            return None
        return (server_limit, left, repr(slot.at), repr(slot.counted), *slot.counts)
    ago = repr(-max(0.0, elapsed)) if elapsed is not None else "0"  # relative to Redis's clock
    return (server_limit, left, ago, "0", *[-1] * len(quotas))
