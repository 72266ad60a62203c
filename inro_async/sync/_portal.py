"""The portal: the one private event loop every blocking call runs on, and its daemon thread.

The loop is run by one thread at a time, whichever holds the *baton* (a lock):

* **A lone call runs the loop in its own thread.** When nobody runs the loop, a blocking call
  takes the baton, runs the loop until its coroutine has finished (``run_until_complete``, in
  effect) and puts the baton down. Crossing to another thread and back would cost two wake-ups
  of a sleeping thread, which on a virtual machine cost more than the rest of the call's
  overhead together; a lone caller pays none.
* **The portal thread runs it the rest of the time.** Whatever is left when a caller puts the
  baton down (another thread's call, a walk fetching ahead, a client closing), the caller hands
  to the portal thread (a daemon), which runs the loop until nothing is left, then sleeps until
  a timer is due or it is handed the baton again. A call made while another thread runs the
  loop hands its coroutine over (``call_soon_threadsafe``) and sleeps on a lock until its task
  has finished; the thread running the loop wakes it with the result or the exception.
* **Jobs run on the portal thread only** (a journal's SQLite connection belongs to the thread
  that opened it): a job handed in while a caller runs the loop makes that caller hand the
  loop over, and the caller's own call finishes there.

One portal (``_process.current()``) serves every ``inro_async.sync.Client`` of the process, so
clients may share a governor (it serves one event loop at a time, and this is that loop), and a
process with many clients still has one extra thread.

* **From the loop itself** (a hook such as ``on_dispatch`` runs there), a blocking call would
  wait for the thread that waits for it: it raises ``PortalThreadError`` instead.
* **Ctrl-C** cancels the call's task and waits until it has finished its cancellation (a job
  records its journal exactly as an async job does when its task is cancelled), then raises
  ``KeyboardInterrupt``; a second Ctrl-C stops that wait. A call waiting on the lock is
  interrupted there; a lone call running the loop in the main thread swaps in a SIGINT handler
  for the call's time, as ``asyncio.run`` does, so that the first Ctrl-C cancels its task
  instead of raising in the middle of the loop's own code (only when the handler is Python's
  default; another handler is left alone).
* **os.fork** and **interpreter exit**: ``_process.py`` (a forked child abandons this portal,
  ``abandon``; at exit the open clients are closed, ``close_clients``, then ``stop``).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C half: no enum conversions
import asyncio
import contextlib
import functools
import queue
import signal
import sys
import threading
from asyncio import _get_running_loop
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from inro_async.errors import ClientClosedError
from inro_async.governor._loops import held_open, let_go
from inro_async.sync._crossing import FINISHED, Crossing, PortalThreadError, wake_up
from inro_async.sync._turn import run_turn, usable

if TYPE_CHECKING:
    from inro_async.client import Client as AsyncClient

__all__ = ["EXIT_TIMEOUT", "FINISHED", "Portal", "PortalThreadError"]

R = TypeVar("R")

EXIT_TIMEOUT: Final = 10.0
"""At interpreter exit, seconds to close the open clients (sessions, state files) at most."""

_SIGINT: Final = int(signal.SIGINT)

NAP: Final = 1.0
"""Seconds the idle portal thread sleeps at most before it looks for a timer that is due."""

IDLE_CHECK: Final = 0.05
"""Seconds between the portal thread's checks that nothing is left to do on the loop."""

_TASK_FROM_CALLER: Final = sys.version_info < (3, 12)
"""Below 3.12, where a task cannot start eagerly, make it in the calling thread (``_submit``)."""


class Portal:
    """An event loop, the baton that says which thread runs it, and its daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        held_open(self.loop)  # nobody runs it between calls, yet a governor stays with it
        self.clients: set[AsyncClient] = set()
        """Async clients made through this portal and not closed yet (closed at exit)."""
        self._closing: set[asyncio.Task[None]] = set()
        self._ready: Any = getattr(self.loop, "_ready", None)
        """The loop's queue of callbacks (asyncio's own loop: a deque; None for another loop)."""
        self._turns = self._ready is not None and usable(self.loop)
        """Whether a lone call runs the loop with ``run_turn`` (else ``run_forever``)."""
        self._live: set[Crossing] = set()
        """Calls handed in and not finished (``set.add``/``discard`` are atomic: any thread)."""
        self._tasks: set[asyncio.Task[Any]] = set()
        """Other tasks made on the loop and not done (``_busy`` reads both, not ``all_tasks``)."""
        self.loop.set_task_factory(self._task)
        self._main = threading.main_thread().ident
        self._lone: Crossing | None = None
        """The lone call running the loop in the main thread, for ``_on_sigint``."""
        self._sigint = self._on_sigint  # one bound method for every call's swap
        self._baton = threading.Lock()
        """Held by the thread that runs the loop."""
        self._handed = threading.Lock()
        """Released when the baton is handed to the portal thread (which then holds it)."""
        self._handed.acquire()
        self._due: float | None = None
        """When the loop's first timer is due (``loop.time()``), while nobody runs it."""
        self._idle_check: asyncio.Handle | None = None
        self._stopping = False
        self._winding = False
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="inro-async-portal", daemon=True)
        self._thread.start()
        self._started.wait()
        self.ident = self._thread.ident

    def __repr__(self) -> str:
        state = "running" if self._thread.is_alive() else "stopped"
        return f"<Portal {state}, {len(self.clients)} open client(s)>"

    # -- the baton ---------------------------------------------------------------------------

    def _serve(self) -> None:
        """The portal thread: run the loop whenever handed the baton or a timer is due."""
        asyncio.set_event_loop(self.loop)
        self._started.set()
        while True:
            if not self._handed.acquire(timeout=self._nap()):
                due = self._due
                if due is None or due > self.loop.time() or not self._take():
                    continue
            if not self._stopping:
                self._idle_check = self.loop.call_soon(self._stop_when_idle)
                self.loop.run_forever()
            if self._stopping:
                self._wind_down()
                return  # the baton is kept: nobody runs the closed loop again
            self._put_down()

    def _nap(self) -> float:
        due = self._due
        if due is None:
            return NAP
        return min(NAP, max(0.0, due - self.loop.time()))

    def _stop_when_idle(self) -> None:
        if self._stopping or not self._busy():
            self._idle_check = None
            self.loop.stop()
        else:
            self._idle_check = self.loop.call_later(IDLE_CHECK, self._stop_when_idle)

    def _finished(self) -> None:
        """A crossed call finished: on the portal thread, see at once whether that was all."""
        check = self._idle_check
        if check is not None and threading.get_ident() == self.ident:
            check.cancel()
            self._idle_check = self.loop.call_soon(self._stop_when_idle)

    def _task(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        """The loop's task factory: a task as asyncio makes it, kept in ``_tasks`` until done."""
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **kwargs)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _busy(self) -> bool:
        """Whether the loop has anything to do: a callback queued, a call or a task not done.

        (``asyncio.all_tasks`` would tell too, at 16,000 instructions a look: it copies the
        process's weak set of tasks; the two sets here cost nothing to read.) Another loop than
        asyncio's (uvloop, by policy) does not show its queue: it is always busy, so the portal
        thread keeps running it and every call crosses.
        """
        ready = self._ready
        return ready is None or bool(ready) or bool(self._live) or bool(self._tasks)

    def _take(self) -> bool:
        """Take the baton if nobody holds it."""
        if self._baton.acquire(blocking=False):
            self._due = None  # the taker fires the timers now
            return True
        return False

    def _put_down(self) -> None:
        """The holder stops running the loop: to the portal thread if anything is left."""
        if self._stopping or self._busy():
            self._handed.release()
            return
        scheduled: list[asyncio.TimerHandle] = getattr(self.loop, "_scheduled", [])
        self._due = scheduled[0].when() if scheduled else None
        self._baton.release()
        # A call handed in since the check above found the baton held: its thread relies on
        # the holder to run it, so look again now that the baton is down. (Anything handed in
        # from another thread is queued: its task cannot run before a callback of the loop.)
        if (self._stopping or self._ready) and self._take():
            self._handed.release()

    def _hand_over_if_idle(self) -> None:
        """After queueing work from outside the loop: if nobody runs it, the portal thread will."""
        if self._take():
            self._handed.release()

    def _wind_down(self) -> None:
        """On the portal thread, stopping: cancel what is left, then close the loop."""
        self._winding = True
        loop = self.loop
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    # -- a lone call, in the calling thread --------------------------------------------------

    def _call_here(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run the loop in this thread (the baton is ours) until ``coro`` has finished."""
        loop = self.loop
        crossing = Crossing(coro, None, live=self._live)
        if not self._turns:
            crossing.stop = loop.stop
        # (_signal's functions are signal's without the enum conversions, 10 µs a call saved)
        swap = threading.get_ident() == self._main and (
            _signal.getsignal(_SIGINT) is signal.default_int_handler
        )
        try:
            try:
                if swap:
                    self._lone = crossing
                    _signal.signal(_SIGINT, self._sigint)
                crossing.task = asyncio.Task(crossing.run(), loop=loop)
                if self._turns:
                    run_turn(loop, crossing)
                else:
                    loop.run_forever()
            finally:
                if swap:
                    _signal.signal(_SIGINT, signal.default_int_handler)
                    self._lone = None
        except BaseException:  # raised in the loop (a 2nd Ctrl-C): the call must not go on
            crossing.stop = None
            if not crossing.finished:
                crossing.interrupted = True
                if crossing.task is not None:
                    crossing.task.cancel()
                else:
                    coro.close()
                    crossing.finish()
            self._put_down()  # its cancellation, if any, finishes on the portal thread
            crossing.done.acquire()  # a 3rd Ctrl-C ends this wait
            raise
        crossing.stop = None
        finished = crossing.finished
        self._put_down()
        if not finished:  # the loop was stopped to hand it over (a job, the exit): wait here
            self._wait(crossing)
        return crossing.outcome()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-C while this thread runs the loop: cancel the call (raise, the second time)."""
        crossing = self._lone
        if crossing is None or crossing.interrupted or crossing.finished:
            raise KeyboardInterrupt
        crossing.interrupted = True
        if crossing.task is not None:
            crossing.task.cancel()
        self.loop.call_soon_threadsafe(wake_up)

    # -- crossing from another thread --------------------------------------------------------

    def _submit(
        self,
        coro: Coroutine[Any, Any, Any],
        events: queue.SimpleQueue[object] | None,
        *,
        pinned: bool = False,
    ) -> Crossing:
        if _get_running_loop() is self.loop or threading.get_ident() == self.ident:
            coro.close()
            raise PortalThreadError
        crossing = Crossing(coro, events, pinned=pinned, live=self._live)
        crossing.stop = self._finished
        loop = self.loop
        try:
            if _TASK_FROM_CALLER and not pinned and not loop.get_debug():
                # The task is made here and its first step queued: the loop runs it in the
                # iteration the wake-up below starts, instead of running a callback there that
                # makes the task for the next one (an iteration saved: 30 µs of CPU here).
                # Making a task is what call_soon_threadsafe is made of (queue a callback,
                # append-only, then wake the loop) plus registering it in asyncio's weak set
                # of tasks, which all_tasks() reads allowing for such concurrent additions.
                crossing.task = asyncio.Task(crossing.run(), loop=loop)
                loop.call_soon_threadsafe(wake_up)
            else:
                loop.call_soon_threadsafe(self._start, crossing)
        except RuntimeError:  # the loop is closed: the interpreter is exiting
            coro.close()
            raise ClientClosedError from None
        self._hand_over_if_idle()
        return crossing

    def _start(self, crossing: Crossing) -> None:
        if crossing.interrupted:  # Ctrl-C came before the loop got to it
            crossing.coro.close()
            crossing.error = ClientClosedError()
            crossing.finish()
            return
        if crossing.pinned and threading.get_ident() != self.ident:
            # A caller runs the loop: stop it there, so that the portal thread takes it over.
            self.loop.call_soon(self._start, crossing)
            self.loop.stop()
            return
        if sys.version_info >= (3, 12):  # its first step runs now: one loop iteration fewer
            crossing.task = asyncio.Task(crossing.run(), loop=self.loop, eager_start=True)
        else:
            crossing.task = self.loop.create_task(crossing.run())

    def _cancel(self, crossing: Crossing) -> None:
        if crossing.task is not None:
            crossing.task.cancel()

    def _interrupt(self, crossing: Crossing) -> None:
        """The caller was interrupted: cancel the call's task (or stop it from starting)."""
        crossing.interrupted = True
        with contextlib.suppress(ClientClosedError):  # a closed loop has nothing to cancel
            self.post(functools.partial(self._cancel, crossing))

    def _wait(self, crossing: Crossing) -> None:
        try:
            crossing.done.acquire()
        except BaseException:
            self._interrupt(crossing)
            crossing.done.acquire()  # until the cancellation is recorded; a 2nd Ctrl-C ends it
            raise

    def call(self, coro: Coroutine[Any, Any, R], *, pinned: bool = False) -> R:
        """Run ``coro`` on the portal's loop and wait for its result (or raise its exception).

        ``pinned``: on the portal thread only (a job), never in this thread.
        """
        if not pinned and self._ready is not None and _get_running_loop() is None and self._take():
            result: R = self._call_here(coro)
            return result
        crossing = self._submit(coro, None, pinned=pinned)
        self._wait(crossing)
        result = crossing.outcome()
        return result

    def call_with_events(
        self,
        coro: Coroutine[Any, Any, R],
        events: queue.SimpleQueue[object],
        deliver: Callable[[Any], None],
    ) -> R:
        """Like ``call``, on the portal thread; meanwhile, hand ``coro``'s events to ``deliver``.

        ``coro`` puts them on ``events``.
        ``deliver`` runs in the calling thread (progress callbacks), also while a Ctrl-C
        cancellation finishes: the last ``finished`` event still reaches it.
        """
        crossing = self._submit(coro, events, pinned=True)
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

    def post(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` on the loop soon, without waiting (it may create tasks)."""
        try:
            self.loop.call_soon_threadsafe(callback)
        except RuntimeError:
            raise ClientClosedError from None
        self._hand_over_if_idle()

    def close_soon(self, client: AsyncClient) -> None:
        """Close ``client`` on the portal without waiting (its sync client was collected)."""

        def start() -> None:
            task = self.loop.create_task(client.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

        self.clients.discard(client)
        with contextlib.suppress(ClientClosedError):
            self.post(start)

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

    def _halt(self) -> None:
        if not self._winding:
            self.loop.stop()

    def stop(self, timeout: float = EXIT_TIMEOUT) -> None:
        """Stop the loop (tasks left are cancelled) and wait for the thread, ``timeout`` at most."""
        if threading.get_ident() == self.ident or _get_running_loop() is self.loop:
            raise PortalThreadError
        self._stopping = True
        with contextlib.suppress(ClientClosedError):
            self.post(self._halt)  # whoever runs the loop stops; the portal thread winds down
        self._thread.join(timeout)

    def abandon(self) -> None:
        """In a forked child: this portal's thread is gone; never touch its loop again.

        The loop is marked as not running, so that a governor it served (copied into the child
        with everything else) may serve the child's new portal; the parent's clients, sessions
        and sockets are kept referenced, unused, so that no finalizer of theirs runs here.
        """
        if hasattr(self.loop, "_thread_id"):
            self.loop._thread_id = None
        let_go(self.loop)
