"""The portal: one private event loop in a daemon thread, where every blocking call runs.

A blocking call hands its coroutine to the loop (``call_soon_threadsafe``), and its thread
sleeps on a lock until the coroutine's task has finished; the loop thread wakes it with the
result or the exception. One portal serves every ``inro_async.sync.Client`` of the process, so
clients may share a governor (it serves one event loop at a time, and this is that loop), and a
process with many clients still has one extra thread.

* **From the portal thread itself** (a hook such as ``on_dispatch`` runs there), a blocking call
  would wait for the thread that waits for it: it raises ``PortalThreadError`` instead.
* **Ctrl-C** (any exception raised in the waiting thread, ``KeyboardInterrupt`` above all)
  cancels the task on the portal and waits until it has finished its cancellation: a job
  records its journal exactly as an async job does when its task is cancelled. A second Ctrl-C
  stops that wait.
* **os.fork**: the child has no portal thread (threads do not survive a fork) and must not touch
  the parent's loop or sockets. It forgets the parent's portal and builds a new one on first
  use; ``generation()`` tells clients that what they built before belongs to the parent.
* **Interpreter exit**: the async clients still open are closed on the portal (sessions
  closed, governor state saved), then the loop stops.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import queue
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final, TypeVar

from inro_async.errors import ClientClosedError, InroError

if TYPE_CHECKING:
    from inro_async.client import Client as AsyncClient

__all__ = ["FINISHED", "Portal", "PortalThreadError", "current", "generation"]

R = TypeVar("R")

EXIT_TIMEOUT: Final = 10.0
"""At interpreter exit, seconds to close the open clients (sessions, state files) at most."""

FINISHED: Final = object()
"""Put on an events queue when the call it reports on has finished."""


class PortalThreadError(InroError, RuntimeError):
    """A blocking call was made from the portal's own thread, where it would wait forever.

    Hooks such as ``on_dispatch`` and ``on_no_effect`` run on the portal; a sync client called
    from one would wait for the thread that is waiting for it. Call the async client there, or
    make the call from another thread. (Progress callbacks run in the caller's thread: they may
    use the sync client.)
    """

    def __init__(self) -> None:
        super().__init__(
            "a blocking inro_async.sync call was made from the portal's own thread (from a hook "
            "such as on_dispatch, which runs there); it would deadlock. Call it from another "
            "thread, or use the async client inside the hook"
        )


_TASK_FROM_CALLER: Final = sys.version_info < (3, 12)
"""Below 3.12, where a task cannot start eagerly, make it in the calling thread (``_submit``)."""


def _wake_up() -> None:
    """Nothing: queued with ``call_soon_threadsafe`` only to wake the loop."""


class _Crossing:
    """One call on its way through the portal: its coroutine, then its outcome."""

    __slots__ = ("coro", "done", "error", "events", "interrupted", "result", "task")

    def __init__(
        self, coro: Coroutine[Any, Any, Any], events: queue.SimpleQueue[object] | None
    ) -> None:
        self.coro = coro
        self.events = events
        self.done = threading.Lock()
        self.done.acquire()
        self.task: asyncio.Task[None] | None = None
        self.interrupted = False
        self.result: Any = None
        self.error: BaseException | None = None

    async def run(self) -> None:
        """On the portal: await the coroutine, keep what it gave, wake the caller."""
        try:
            self.result = await self.coro
        except asyncio.CancelledError:
            self.error = ClientClosedError()  # the portal shut down (a Ctrl-C is re-raised)
        except BaseException as exc:  # KeyboardInterrupt here would stop the loop itself
            self.error = exc
        finally:
            self.coro = None  # type: ignore[assignment]  # drop references early
            self.finish()

    def finish(self) -> None:
        if self.events is not None:
            self.events.put(FINISHED)
        else:
            self.done.release()

    def outcome(self) -> Any:
        error = self.error
        if error is not None:
            self.error = None  # no reference cycle through the traceback
            raise error
        return self.result


class Portal:
    """An event loop running in a daemon thread, and the way blocking calls cross into it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.clients: set[AsyncClient] = set()
        """Async clients made through this portal and not closed yet (closed at exit)."""
        self._closing: set[asyncio.Task[None]] = set()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="inro-async-portal", daemon=True)
        self._thread.start()
        self._started.wait()
        self.ident = self._thread.ident

    def __repr__(self) -> str:
        state = "running" if self._thread.is_alive() else "stopped"
        return f"<Portal {state}, {len(self.clients)} open client(s)>"

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        try:
            self.loop.run_forever()
        finally:
            self._wind_down()

    def _wind_down(self) -> None:
        """On the portal thread, once stopped: cancel what is left, then close the loop."""
        loop = self.loop
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    # -- crossing --------------------------------------------------------------------------

    def _submit(
        self, coro: Coroutine[Any, Any, Any], events: queue.SimpleQueue[object] | None
    ) -> _Crossing:
        if threading.get_ident() == self.ident:
            coro.close()
            raise PortalThreadError
        crossing = _Crossing(coro, events)
        loop = self.loop
        try:
            if _TASK_FROM_CALLER and not loop.get_debug():
                # The task is made here and its first step queued: the loop runs it in the
                # iteration the wake-up below starts, instead of running a callback there that
                # makes the task for the next one (an iteration saved: 30 µs of CPU here).
                # Making a task is what call_soon_threadsafe is made of (queue a callback,
                # append-only, then wake the loop) plus registering it in asyncio's weak set
                # of tasks, which all_tasks() reads allowing for such concurrent additions.
                crossing.task = asyncio.Task(crossing.run(), loop=loop)
                loop.call_soon_threadsafe(_wake_up)
            else:
                loop.call_soon_threadsafe(self._start, crossing)
        except RuntimeError:  # the loop is closed: the interpreter is exiting
            coro.close()
            raise ClientClosedError from None
        return crossing

    def _start(self, crossing: _Crossing) -> None:
        if crossing.interrupted:  # Ctrl-C came before the loop got to it
            crossing.coro.close()
            crossing.error = ClientClosedError()
            crossing.finish()
            return
        if sys.version_info >= (3, 12):  # its first step runs now: one loop iteration fewer
            crossing.task = asyncio.Task(crossing.run(), loop=self.loop, eager_start=True)
        else:
            crossing.task = self.loop.create_task(crossing.run())

    def _cancel(self, crossing: _Crossing) -> None:
        if crossing.task is not None:
            crossing.task.cancel()

    def _interrupt(self, crossing: _Crossing) -> None:
        """The caller was interrupted: cancel the call's task (or stop it from starting)."""
        crossing.interrupted = True
        with contextlib.suppress(RuntimeError):  # a closed loop has nothing left to cancel
            self.loop.call_soon_threadsafe(self._cancel, crossing)

    def call(self, coro: Coroutine[Any, Any, R]) -> R:
        """Run ``coro`` on the portal and wait for its result (or raise its exception)."""
        crossing = self._submit(coro, None)
        try:
            crossing.done.acquire()
        except BaseException:
            self._interrupt(crossing)
            crossing.done.acquire()  # until the cancellation is recorded; a 2nd Ctrl-C ends it
            raise
        result: R = crossing.outcome()
        return result

    def call_with_events(
        self,
        coro: Coroutine[Any, Any, R],
        events: queue.SimpleQueue[object],
        deliver: Callable[[Any], None],
    ) -> R:
        """Like ``call``; meanwhile, hand whatever ``coro`` puts on ``events`` to ``deliver``.

        ``deliver`` runs in the calling thread (progress callbacks), also while a Ctrl-C
        cancellation finishes: the last ``finished`` event still reaches it.
        """
        crossing = self._submit(coro, events)
        try:
            while (item := events.get()) is not FINISHED:
                deliver(item)
        except BaseException:
            self._interrupt(crossing)
            while (item := events.get()) is not FINISHED:  # a 2nd Ctrl-C ends the wait
                deliver(item)
            raise
        result: R = crossing.outcome()
        return result

    def close_soon(self, client: AsyncClient) -> None:
        """Close ``client`` on the portal without waiting (its sync client was collected)."""

        def start() -> None:
            task = self.loop.create_task(client.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

        self.clients.discard(client)
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(start)

    def spawn(self, start: Callable[[], None]) -> None:
        """Run ``start`` on the portal soon, without waiting (it may create tasks)."""
        try:
            self.loop.call_soon_threadsafe(start)
        except RuntimeError:
            raise ClientClosedError from None

    # -- shutting down ---------------------------------------------------------------------

    def close_clients(self, timeout: float) -> None:
        """Close every async client still open (at interpreter exit), for ``timeout`` at most."""
        if not self.clients or not self._thread.is_alive():
            return
        clients = list(self.clients)

        async def close_all() -> None:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)

        with contextlib.suppress(Exception):
            crossing = self._submit(close_all(), None)
            if not crossing.done.acquire(timeout=timeout + 1):
                self._interrupt(crossing)
        self.clients.difference_update(clients)

    def stop(self, timeout: float = EXIT_TIMEOUT) -> None:
        """Stop the loop (tasks left are cancelled) and wait for the thread, ``timeout`` at most."""
        if threading.get_ident() == self.ident:
            raise PortalThreadError
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)

    def abandon(self) -> None:
        """In a forked child: this portal's thread is gone; never touch its loop again.

        The loop is marked as not running, so that a governor it served (copied into the child
        with everything else) may serve the child's new portal; the parent's clients, sessions
        and sockets are kept referenced, unused, so that no finalizer of theirs runs here.
        """
        if hasattr(self.loop, "_thread_id"):
            self.loop._thread_id = None
        _ABANDONED.append(self)


# -- the process's portal ------------------------------------------------------------------

_current: Portal | None = None
_generation = 0
_lock = threading.Lock()
_rebuild_lock = threading.Lock()
_ABANDONED: list[Portal] = []
"""Portals inherited from a parent process (kept so that nothing of theirs is finalized)."""


def current() -> Portal:
    """The process's portal, started on first use (and again in a forked child)."""
    portal = _current
    if portal is None:
        portal = _start_portal()
    return portal


def _start_portal() -> Portal:
    global _current
    with _lock:
        if _current is None:
            _current = Portal()
        return _current


def generation() -> int:
    """Changes in a forked child: anything built on an earlier generation's portal is stale."""
    return _generation


def rebuild_lock() -> threading.Lock:
    """The lock under which clients rebuild after a fork (recreated in the child)."""
    return _rebuild_lock


def _after_fork_in_child() -> None:
    global _current, _generation, _lock, _rebuild_lock
    _lock, _rebuild_lock = threading.Lock(), threading.Lock()  # held by a thread now gone?
    _generation += 1
    old, _current = _current, None
    if old is not None:
        old.abandon()


def _at_exit() -> None:
    portal = _current
    if portal is not None:
        portal.close_clients(EXIT_TIMEOUT)
        portal.stop()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
