"""``Walk``: an async walk (``inro.contacts.iter()``…) as an ordinary iterator, fetched ahead.

The async walk runs on the portal in a pump task (``_Feed``) that hands items to the caller's
thread in batches: everything the walk yields without waiting (a page's items) is one batch,
so the caller's thread takes a lock once per page, not once per item. The pump stays at most
``buffer`` items ahead of the caller (one page: ``per_page`` items, or one page for
``iter_pages``) and then waits; while the caller works through a page, the next one is already
being fetched, with the walk's own ``concurrency`` pages in flight.

The pump never holds a reference to the ``Walk``, so an abandoned walk (a ``break`` out of a
``for``) is collected at once and its pump cancelled, with the pages in flight. ``close()``
(or ``with``) does the same and waits until the walk has let go of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Final, Generic, TypeVar

from inro_async.errors import ClientClosedError, InroError
from inro_async.sync._portal import Portal
from inro_async.sync._process import current, generation

__all__ = ["Walk"]

T = TypeVar("T")

_END: Final = object()
"""Put on the queue once the walk is over (after its last batch)."""


class _Failed:
    """Put on the queue when the walk raised; the caller raises ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Feed(Generic[T]):
    """The portal side of a walk: the pump task and the counts that bound how far ahead it is."""

    def __init__(self, walk: AsyncGenerator[T, None], buffer: int) -> None:
        self.walk = walk
        self.buffer = max(1, buffer)
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.portal: Portal | None = None
        self.generation = generation()
        self.task: asyncio.Task[None] | None = None
        self.stopping = False
        self.handed = 0
        """Items put on the queue (written on the portal)."""
        self.taken = 0
        """Items taken off it (written in the caller's thread)."""
        self._batch: list[T] = []
        self._room: asyncio.Future[None] | None = None

    # -- on the portal -----------------------------------------------------------------------

    def start(self) -> None:
        if not self.stopping:
            self.task = asyncio.get_running_loop().create_task(self._pump())
        else:
            self.queue.put(_END)

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        outcome: object = _END
        try:
            async for item in self.walk:
                batch = self._batch
                batch.append(item)
                if len(batch) == 1:  # the first of a burst: hand it over once the walk waits
                    loop.call_soon(self._flush)
                if self.handed - self.taken + len(batch) >= self.buffer:
                    self._flush()
                    self._room = loop.create_future()
                    if self.handed - self.taken >= self.buffer:  # the caller may just have taken
                        await self._room
                    self._room = None
        except asyncio.CancelledError:
            if not self.stopping:  # not the caller's doing: the portal is shutting down
                outcome = _Failed(ClientClosedError())
        except BaseException as exc:
            outcome = _Failed(exc)
        finally:
            with contextlib.suppress(BaseException):
                await self.walk.aclose()  # cancels the pages in flight
            self._flush()
            self.queue.put(outcome)

    def _flush(self) -> None:
        batch = self._batch
        if batch:
            self._batch = []
            self.handed += len(batch)
            self.queue.put(batch)

    def make_room(self) -> None:
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)

    def cancel(self) -> None:
        self.stopping = True
        if self.task is not None:
            self.task.cancel()

    # -- in the caller's thread --------------------------------------------------------------

    def take(self) -> object:
        """The next batch (a list), ``_END`` or a ``_Failed``; starts the pump the first time."""
        portal = self.portal
        if portal is None:
            portal = self.portal = current()
            portal.post(self.start)
        elif self.generation != generation():
            raise InroError("this walk was started before os.fork(); start a new one here")
        try:
            item = self.queue.get()
        except BaseException:
            self.stop(wait=True)
            raise
        if isinstance(item, list):
            self.taken += len(item)
            if self._room is not None and self.handed - self.taken < self.buffer:
                with contextlib.suppress(ClientClosedError):
                    portal.post(self.make_room)
        return item

    def stop(self, *, wait: bool) -> None:
        """Cancel the pump; with ``wait``, until it has closed the async walk."""
        portal = self.portal
        if portal is None or self.stopping or self.generation != generation():
            self.stopping = True
            return
        self.stopping = True
        try:
            portal.post(self.cancel)
        except ClientClosedError:  # the portal is gone
            return
        while wait:
            item = self.queue.get()  # a second Ctrl-C ends this wait
            wait = item is not _END and not isinstance(item, _Failed)


def _items(feed: _Feed[T]) -> Generator[T, None, None]:
    """The items of ``feed``'s batches, in order; dropped or closed, it stops the pump."""
    try:
        while True:
            item = feed.take()
            if isinstance(item, list):
                yield from item
            elif isinstance(item, _Failed):
                error, item.error = item.error, None  # type: ignore[assignment]
                feed.stopping = True
                raise error
            else:
                feed.stopping = True
                return
    finally:
        feed.stop(wait=False)


class Walk(Generic[T]):
    """Every item of a walk, as an ordinary iterator: ``for contact in inro.contacts.iter():``.

    Nothing is fetched before the first item is asked for; from then on the next page is
    fetched while this thread works through the current one. Leaving a ``for`` early is fine
    (the walk stops when the iterator is dropped); ``close()``, or ``with inro.contacts.iter()
    as contacts:``, stops it at once. A page that fails raises its error here, after the items
    before it.
    """

    def __init__(self, walk: AsyncGenerator[T, None], *, buffer: int) -> None:
        self._feed = _Feed(walk, buffer)
        self._items = _items(self._feed)

    def __iter__(self) -> Iterator[T]:
        return self._items

    def __next__(self) -> T:
        return next(self._items)

    def close(self) -> None:
        """Stop the walk and cancel the pages in flight; waits until they are let go."""
        self._feed.stop(wait=True)
        self._items.close()

    def __enter__(self) -> Walk[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        feed = self._feed
        state = "not started" if feed.portal is None else "stopped" if feed.stopping else "running"
        return f"<Walk {state}, {feed.taken:,} items taken>"
