"""Progress events: what a running job tells its caller (callback and async iterator)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Literal

from inro_async.jobs._report import format_duration

__all__ = ["EventKind", "ProgressCallback", "ProgressEvent", "ProgressHub"]

logger = logging.getLogger("inro_async.jobs")

EventKind = Literal["started", "progress", "waiting", "resumed", "paused", "finished"]
"""``waiting``: blocked by a spent quota until ``waiting_until``; ``paused``: the run stopped
there (``stop_when_blocked_over``); ``finished``: the last event of every run."""


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """A snapshot of a running job; ``str(event)`` is a one-line status."""

    kind: EventKind
    operation: str
    job: str | None
    total: int
    """Distinct items (for an export: contacts, once the first page said)."""
    done: int = 0
    failed: int = 0
    not_found: int = 0
    skipped: int = 0
    unknown: int = 0
    elapsed: float = 0.0
    rate: float = 0.0
    """Items finished per second in this run."""
    eta: float | None = None
    """Seconds until the last item has its outcome: the governor's wait for the requests still
    to send plus a round trip, and, while the server throttles (429s), never less than the pace
    at which chunks have been finishing needs (``jobs/_eta.py``)."""
    waiting_until: datetime | None = None
    """While blocked by a spent quota: when it frees (wall clock, UTC)."""
    waiting_for: float | None = None
    """While blocked: seconds from this event until the quota frees."""
    quota: str | None = None
    """The quota that blocks (``100000/86400s``)."""
    status: str | None = None
    """On ``finished``: how the run ended (``completed``, ``paused``, ``stopped``…)."""

    @property
    def finished(self) -> int:
        """Items with an outcome."""
        return self.done + self.failed + self.not_found + self.skipped + self.unknown

    @property
    def fraction(self) -> float:
        """Share of items with an outcome, 0.0 to 1.0."""
        return self.finished / self.total if self.total else 1.0

    @property
    def label(self) -> str:
        """``send_many spring``: the operation and the job's name (a journal path's file name)."""
        if not self.job:
            return self.operation
        return f"{self.operation} {PurePath(self.job).name or self.job}"

    def __str__(self) -> str:
        head = f"{self.label}: {self.finished:,}/{self.total:,}"
        details = [f"{self.rate:,.1f}/s"]
        for label, n in (
            ("failed", self.failed),
            ("not found", self.not_found),
            ("unknown", self.unknown),
        ):
            if n:
                details.append(f"{n:,} {label}")
        if self.kind == "waiting" and self.waiting_until is not None:
            details.append(
                f"waiting until {self.waiting_until:%Y-%m-%d %H:%M:%S %Z} ({self.quota} quota)"
            )
        elif self.kind == "paused" and self.waiting_until is not None:
            details.append(f"paused until {self.waiting_until:%Y-%m-%d %H:%M:%S %Z}")
        elif self.eta is not None and self.kind not in ("finished", "paused"):
            details.append(f"ETA {format_duration(self.eta)}")
        kind: str = self.kind
        if kind == "finished" and self.status not in (None, "completed"):
            kind = f"finished: {self.status}"  # aborted, stopped…: not a run that went through
        return f"{head} ({', '.join(details)}) [{kind}]"


ProgressCallback = Callable[[ProgressEvent], Awaitable[None] | None]
"""Called with every event; may be a plain function or a coroutine function."""

_END = object()


class ProgressHub:
    """Fans events out to a callback and to any number of ``events()`` iterators.

    A callback that raises is logged and the job goes on: a broken progress bar must not stop a
    day-long send.
    """

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self._queues: list[asyncio.Queue[object]] = []
        self.last: ProgressEvent | None = None
        self._closed = False

    async def emit(self, event: ProgressEvent) -> None:
        """Deliver ``event``; ``finished`` also ends every iterator."""
        self.last = event
        for queue in self._queues:
            queue.put_nowait(event)
        if event.kind == "finished":
            self.close()
        if self._callback is not None:
            try:
                result = self._callback(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("progress callback failed on %s", event)

    def close(self) -> None:
        """End every iterator (after the events already queued)."""
        if not self._closed:
            self._closed = True
            for queue in self._queues:
                queue.put_nowait(_END)

    def subscribe(self) -> AsyncIterator[ProgressEvent]:
        """Events from now until the job finishes (just the last one if it already has).

        The subscription starts at this call, not at the first iteration, so nothing emitted in
        between is missed.
        """
        queue: asyncio.Queue[object] = asyncio.Queue()
        if self._closed:
            if self.last is not None:
                queue.put_nowait(self.last)
            queue.put_nowait(_END)
        else:
            self._queues.append(queue)
        return self._drain(queue)

    async def _drain(self, queue: asyncio.Queue[object]) -> AsyncIterator[ProgressEvent]:
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                assert isinstance(item, ProgressEvent)
                yield item
        finally:
            if queue in self._queues:
                self._queues.remove(queue)
