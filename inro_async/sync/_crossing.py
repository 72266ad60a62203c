"""One blocking call on its way through the portal (``_portal.py``): its coroutine, its outcome."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final

from inro_async.errors import ClientClosedError, InroError

__all__ = ["FINISHED", "Crossing", "PortalThreadError", "wake_up"]

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


def wake_up() -> None:
    """Nothing: queued with ``call_soon_threadsafe`` only to wake the loop."""


class Crossing:
    """One call on its way through the portal: its coroutine, then its outcome."""

    __slots__ = (
        "coro",
        "done",
        "error",
        "events",
        "finished",
        "interrupted",
        "live",
        "pinned",
        "result",
        "stop",
        "task",
    )

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        events: queue.SimpleQueue[object] | None,
        *,
        pinned: bool = False,
        live: set[Crossing] | None = None,
    ) -> None:
        self.coro = coro
        self.events = events
        self.pinned = pinned
        """Runs on the portal thread only (a job: its journal is bound to the thread)."""
        self.live = live
        """The portal's set of calls not finished: this one is in it until it finishes."""
        if live is not None:
            live.add(self)
        self.done = threading.Lock()
        self.done.acquire()
        self.task: asyncio.Task[None] | None = None
        self.interrupted = False
        self.finished = False
        self.stop: Callable[[], None] | None = None
        """Called on the loop once the call is over (a lone call's: stops the loop)."""
        self.result: Any = None
        self.error: BaseException | None = None

    async def run(self) -> None:
        """On the loop: await the coroutine, keep what it gave, wake the caller."""
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
        self.finished = True
        if self.live is not None:
            self.live.discard(self)
        if self.events is not None:
            self.events.put(FINISHED)
        else:
            self.done.release()
        if self.stop is not None:
            self.stop()

    def outcome(self) -> Any:
        if self.interrupted:
            self.error = None
            raise KeyboardInterrupt
        error = self.error
        if error is not None:
            self.error = None  # no reference cycle through the traceback
            raise error
        return self.result
