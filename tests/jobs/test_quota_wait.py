"""The quota-wait policy shared by fan-out jobs and export (``jobs/_quota_wait.py``)."""

from __future__ import annotations

import asyncio
import time

from inro_async.errors import QuotaWaitTooLongError
from inro_async.jobs._progress import EventKind
from inro_async.jobs._quota_wait import QuotaWait


def blocked(wait: float, at: float | None = None) -> QuotaWaitTooLongError:
    at = time.time() + wait if at is None else at
    return QuotaWaitTooLongError(wait=wait, available_at=at, quota="1000/60s", max_wait=0.01)


async def test_requests_blocked_until_the_same_moment_announce_once_and_resume_once() -> None:
    events: list[tuple[EventKind, float | None]] = []

    async def announce(kind: EventKind, error: QuotaWaitTooLongError | None) -> None:
        events.append((kind, error.wait if error else None))

    waits = QuotaWait(announce)
    at = time.time() + 0.05
    await asyncio.gather(*(waits.wait_out(blocked(0.05, at + i * 0.1)) for i in range(3)))
    assert events == [("waiting", 0.05), ("resumed", None)]
    assert waits.until is None
    assert waits.quota is None


async def test_a_wait_for_another_moment_is_announced_again() -> None:
    kinds: list[EventKind] = []

    async def announce(kind: EventKind, error: QuotaWaitTooLongError | None) -> None:
        kinds.append(kind)

    waits = QuotaWait(announce)
    first = asyncio.ensure_future(waits.wait_out(blocked(0.2)))
    await asyncio.sleep(0)
    assert waits.quota == "1000/60s"
    assert waits.until is not None
    await waits.wait_out(blocked(0.05, time.time() + 3600))  # another window: said again
    await first
    assert kinds == ["waiting", "waiting", "resumed"]


async def test_a_halt_ends_the_wait_at_once() -> None:
    async def announce(kind: EventKind, error: QuotaWaitTooLongError | None) -> None:
        pass

    halted = asyncio.Event()
    waits = QuotaWait(announce)
    task = asyncio.ensure_future(waits.wait_out(blocked(60.0), halted=halted))
    await asyncio.sleep(0.01)
    halted.set()
    await asyncio.wait_for(task, timeout=1.0)


def test_a_wait_past_stop_over_pauses_instead() -> None:
    async def announce(kind: EventKind, error: QuotaWaitTooLongError | None) -> None:
        pass

    assert QuotaWait(announce, stop_over=30.0).pauses(blocked(31.0))
    assert not QuotaWait(announce, stop_over=30.0).pauses(blocked(30.0))
    assert not QuotaWait(announce).pauses(blocked(10**6))
