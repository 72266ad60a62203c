"""What both governors do about event loops, and their queue of waiting tasks.

**One event loop at a time.** Waiters' futures, timers and connections belong to the loop they
were made in. Successive loops share a governor (a worker that runs ``asyncio.run`` per job):
the first call from a new loop, once the previous one has stopped, drops what was tied to it
(``LoopBound._leave``) and keeps the count of what was spent. A loop running in another thread
at the same time is refused with ``GovernorLoopError``: the state is not guarded against two
threads, and a waiter woken from the wrong thread would hang. Waiters left on the stopped loop
fail, should it ever run again, instead of waiting forever. A loop run in turns by several
threads (the sync client's portal, ``held_open``) counts as running until it is closed: between
its turns nobody runs it, yet its waiters and connections are still its own.

**Waiters queue by priority, then arrival** (``WaiterQueue``), whatever each governor does
with the head: ``LocalGovernor`` pops the one it wakes, ``RedisGovernor`` keeps it there while
it reserves for itself and those behind it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import weakref
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from inro_async.errors import GovernorLoopError

__all__ = ["LoopBound", "Waiter", "WaiterQueue", "held_open", "let_go", "stranded_error"]

_HELD: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
"""Loops that count as running until closed, though nobody runs them for a while."""


def held_open(loop: asyncio.AbstractEventLoop) -> None:
    """Count ``loop`` as running until it is closed: it is run in turns by several threads.

    A governor it served refuses another loop meanwhile (``GovernorLoopError``), as it would
    while the loop runs, instead of leaving it for a loop that would strand its waiters.
    """
    _HELD.add(loop)


def let_go(loop: asyncio.AbstractEventLoop) -> None:
    """Undo ``held_open``: ``loop`` will never run again (a forked child's copy of it)."""
    _HELD.discard(loop)


def _in_use(loop: asyncio.AbstractEventLoop) -> bool:
    return not loop.is_closed() and (loop.is_running() or loop in _HELD)


class LoopBound:
    """Serves one event loop at a time: ``_bind()`` before touching anything tied to a loop.

    A subclass names the fix for a concurrent loop in ``_refusal`` and drops what was tied to a
    stopped loop in ``_leave``.
    """

    _refusal: ClassVar[str]
    """The ``GovernorLoopError`` message for a loop running in another thread meanwhile."""
    _loop: asyncio.AbstractEventLoop | None = None
    """The loop served, once a call has come from it."""

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop, once it is this governor's."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        return loop

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        old = self._loop
        if old is not None and _in_use(old):
            raise GovernorLoopError(self._refusal)
        self._leave(old)
        self._loop = loop

    def _leave(self, old: asyncio.AbstractEventLoop | None) -> None:
        """Drop what was tied to ``old``, which has stopped (None: this is the first loop)."""


def stranded_error() -> GovernorLoopError:
    """The error of a request left waiting on a loop that stopped before it was served."""
    return GovernorLoopError(
        "this request was waiting for the governor on an event loop that stopped, and another "
        "event loop has used the governor since; finish or cancel one loop's requests before "
        "using the governor from the next"
    )


@dataclass(order=True)
class Waiter:
    """A task queued for a slot, ordered by ``sort_key`` (``WaiterQueue.key``)."""

    sort_key: tuple[int, int]
    future: asyncio.Future[None] = field(compare=False)

    def strand(self) -> None:
        """Left on a stopped loop: fail, should that loop run again."""
        if not self.future.done():
            self.future.set_exception(stranded_error())


W = TypeVar("W", bound=Waiter)


class WaiterQueue(Generic[W]):
    """Waiters in serving order: higher priority first, then first come.

    The heap holds ``(-priority, arrival, waiter)`` tuples, which compare in C: ordering the
    waiters themselves would run a generated ``__lt__`` in Python for every comparison, about
    eight of them per request queued behind 200 others.
    """

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, W]] = []
        self._seq = itertools.count()

    def key(self, priority: int) -> tuple[int, int]:
        """The place of a waiter arriving now with ``priority``."""
        return (-int(priority), next(self._seq))

    def __len__(self) -> int:
        return len(self._heap)

    def __bool__(self) -> bool:
        return bool(self._heap)

    @property
    def head(self) -> W:
        """The next to be served (the queue must not be empty)."""
        return self._heap[0][2]

    def push(self, waiter: W) -> None:
        """Queue ``waiter`` at its ``sort_key`` (arrival numbers are unique: no tie reaches it)."""
        rank, arrival = waiter.sort_key
        heapq.heappush(self._heap, (rank, arrival, waiter))

    def pop(self) -> W:
        """Take the head out."""
        return heapq.heappop(self._heap)[2]

    def discard(self, waiter: W) -> None:
        """Take ``waiter`` out wherever it is, if it is still queued."""
        for index, queued in enumerate(self._heap):
            if queued[2] is waiter:
                del self._heap[index]
                heapq.heapify(self._heap)
                return

    def strand(self, old: asyncio.AbstractEventLoop | None) -> None:
        """Empty the queue for a new loop; its waiters fail should ``old`` run again."""
        stranded, self._heap = self._heap, []
        if old is not None and not old.is_closed():
            for queued in stranded:
                queued[2].strand()
