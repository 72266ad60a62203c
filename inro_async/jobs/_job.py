"""The job handle users await (``Job``), its options (``JobOptions``) and its journal's store.

``Job`` is what ``send_many`` and friends return: awaitable, with progress ``events()``,
``stop()`` and a live ``report``; the engine that runs it is ``_runner.py``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from inro_async._validate import check_chunk_size, check_concurrency, check_seconds
from inro_async.jobs._journal import (
    MemoryStore,
    SqliteStore,
    Store,
    journal_path,
)
from inro_async.jobs._progress import ProgressCallback, ProgressEvent, ProgressHub

if TYPE_CHECKING:
    pass


R = TypeVar("R")


DEFAULT_CONCURRENCY = 20
"""Chunks in flight at once: the per-second quota, so its burst of 20 goes out together.

Fewer spread the first second over several round trips, and every later second inherits that
spread, because a slot comes free W after its own response (``benchmarks/fanout.py``, send to
100,000: 8 in flight 88.5-89.8% of the minimum, 20 in flight 90.3-91.4%). It is also the most
chunks a killed process can leave ``unknown``: 20 if it dies just after a burst went out.
"""

EXPORT_CONCURRENCY = 8
"""Pages in the export's lookahead window: each is 1,000 decoded contacts held until written,
and more in flight did not walk faster (88.4% of the minimum at 8, 87.9% at 20)."""

NOTICE_AFTER = 10.0
"""A quota wait longer than this (seconds) is announced with a ``waiting`` event."""

PROGRESS_INTERVAL = 0.2
"""At most one ``progress`` event per this many wall-clock seconds (lifecycle events always go)."""


@dataclass(frozen=True, slots=True)
class JobOptions:
    """How a fan-out job runs (the keyword arguments every ``*_many`` method shares)."""

    job: str | os.PathLike[str] | None = None
    """A name or path: keep a journal there and resume from it. ``None``: no journal."""
    concurrency: int = DEFAULT_CONCURRENCY
    chunk_size: int = 1000
    resend_unknown: bool | None = None
    """Send chunks whose outcome is unknown again. ``None``: only for idempotent work."""
    stop_when_blocked_over: float | None = None
    """Pause (report ``paused``) instead of waiting when the quota is spent for longer."""
    on_progress: ProgressCallback | None = None
    cancel_grace: float = 5.0
    """On cancellation, seconds to let requests already sent get their answer."""

    @classmethod
    def build(
        cls,
        *,
        job: str | os.PathLike[str] | None,
        concurrency: int,
        chunk_size: int,
        resend_unknown: bool | None,
        stop_when_blocked_over: timedelta | float | None,
        on_progress: ProgressCallback | None,
    ) -> JobOptions:
        """Validated options (raises ``InvalidArgumentError`` naming the argument)."""
        check_concurrency(concurrency)
        check_chunk_size(chunk_size)
        stop_over = check_seconds("stop_when_blocked_over", stop_when_blocked_over)
        if job is not None:
            journal_path(job)  # validates the name
        return cls(
            job=job,
            concurrency=concurrency,
            chunk_size=chunk_size,
            resend_unknown=resend_unknown,
            stop_when_blocked_over=stop_over,
            on_progress=on_progress,
        )


class Job(Generic[R]):
    """A fan-out job: ``await`` it for the report, or ``async for event in job.events()``.

    The job starts on the first ``await``, ``events()`` or ``start()``. Cancelling the awaiting
    task cancels the job (the journal stays consistent); ``stop()`` ends it gracefully.
    """

    def __init__(
        self,
        operation: str,
        name: str | None,
        total: int,
        runner: Callable[[Job[R]], Coroutine[Any, Any, R]],
        hub: ProgressHub,
    ) -> None:
        self.operation = operation
        self.name = name
        self.total = total
        """Distinct items (0 for an export until the first page arrives)."""
        self._runner = runner
        self._hub = hub
        self._task: asyncio.Task[R] | None = None
        self._stop: Callable[[], None] | None = None
        self._snapshot: Callable[[], R] | None = None

    def __repr__(self) -> str:
        state = "not started"
        if self._task is not None:
            state = "finished" if self._task.done() else "running"
        name = f" {self.name!r}" if self.name else ""
        return f"<Job {self.operation}{name} {self.total:,} items, {state}>"

    def start(self) -> asyncio.Task[R]:
        """Start the job (if it is not running yet) and return its task."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._runner(self))
        return self._task

    def __await__(self) -> Generator[Any, None, R]:
        return self.start().__await__()

    def events(self) -> AsyncIterator[ProgressEvent]:
        """Progress events from now until the job finishes; starts the job."""
        stream = self._hub.subscribe()
        self.start()
        return stream

    def stop(self) -> None:
        """Finish the chunks already sent, start no more, and report ``stopped``."""
        if self._stop is not None:
            self._stop()

    @property
    def report(self) -> R | None:
        """The report so far (the final one once the job is done), or ``None`` before start."""
        task = self._task
        if task is not None and task.done() and not task.cancelled() and task.exception() is None:
            return task.result()
        return self._snapshot() if self._snapshot is not None else None

    @property
    def last_event(self) -> ProgressEvent | None:
        """The most recent progress event."""
        return self._hub.last


def open_store(job: str | os.PathLike[str] | None) -> tuple[Store, str | None]:
    """The store for a job option, and the name to show for it."""
    if job is None:
        return MemoryStore(), None
    path = journal_path(job)
    return SqliteStore(path), os.fspath(job)
