"""Bulk jobs through the portal: run the async ``Job`` there, call back progress here.

The job is created and awaited on the portal, exactly as ``await inro.messages.send_many(...)``
would; its progress events cross to the calling thread on a queue and ``on_progress`` is called
there (so a callback may use the sync client, touch thread-bound state, or draw a
``RichProgress``). A callback that raises is logged and the job goes on, as in the async job.
Ctrl-C cancels the job's task: the journal records what was in flight, the ``finished`` event
still reaches the callback, and ``KeyboardInterrupt`` is raised.
"""

from __future__ import annotations

import inspect
import logging
import queue
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from inro_async.sync._process import current

if TYPE_CHECKING:
    from inro_async.jobs import Job, ProgressCallback

__all__ = ["run_job"]

R = TypeVar("R")

logger = logging.getLogger("inro_async.jobs")


async def _await_job(
    start: Callable[[ProgressCallback | None], Job[R]], forward: ProgressCallback | None
) -> R:
    return await start(forward)


async def _await(awaitable: Awaitable[Any]) -> None:
    await awaitable


def run_job(
    start: Callable[[ProgressCallback | None], Job[R]], on_progress: ProgressCallback | None
) -> R:
    """Create the job with ``start(forward)`` on the portal, wait for its report.

    ``forward`` is the progress callback the async job gets: ``None`` without ``on_progress``,
    else one that queues each event for this thread.
    """
    portal = current()
    if on_progress is None:
        return portal.call(_await_job(start, None), pinned=True)  # its journal: one thread
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    callback = on_progress

    def deliver(event: Any) -> None:
        try:
            result = callback(event)
            if inspect.isawaitable(result):  # an async callback runs on the portal
                portal.call(_await(result))
        except Exception:  # as ProgressHub does: a broken progress bar must not stop a job
            logger.exception("progress callback failed on %s", event)

    return portal.call_with_events(_await_job(start, events.put), events, deliver)
