"""A lone call's turn at the portal's loop: ``run_forever`` that ends when the call has finished.

``loop.run_until_complete`` (or ``run_forever`` plus ``stop()``) costs a lone blocking call more
than anything else it adds to the async call: a done callback, then one more pass of the loop
(a ``select`` included) only to see that it should stop. ``run_turn`` runs the same passes as
``run_forever`` (``_run_once``, asyncio's own step, which ``run_forever`` repeats) and ends as
soon as the call's crossing says it has finished, or as soon as somebody calls ``loop.stop()``
(a job handed in, the portal stopping): half the instructions of ``run_until_complete`` for an
empty coroutine (36,000 vs 73,000, callgrind, CPython 3.11). When the call's first step is all
there is to run, it runs at once, before the first pass, as a task started eagerly would.

The loop's setup and cleanup are asyncio's own where it has them (``_run_forever_setup`` and
``_run_forever_cleanup``, CPython 3.13 and later), and the same steps done here below that.
``usable`` says whether a loop has what this needs (asyncio's ``BaseEventLoop``); the portal
runs any other loop with ``run_forever``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from asyncio import events
from typing import Any, Protocol

__all__ = ["Finishing", "run_turn", "usable"]


class Finishing(Protocol):
    """What ``run_turn`` watches: the crossing of the call it runs."""

    finished: bool


def usable(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``run_turn`` can drive ``loop`` (asyncio's own loop, by its private step)."""
    return isinstance(loop, asyncio.BaseEventLoop) and hasattr(loop, "_run_once")


def run_turn(loop: Any, crossing: Finishing) -> None:
    """Run ``loop`` in this thread until ``crossing`` has finished or ``loop.stop()`` is called.

    As ``run_forever``, it refuses a closed loop or one running elsewhere, and leaves the loop
    as ``run_forever`` does (not running, not stopping, the async generator hooks restored).
    """
    setup = getattr(loop, "_run_forever_setup", None)
    if setup is not None:  # CPython 3.13+
        setup()
        try:
            _turn(loop, crossing)
        finally:
            loop._run_forever_cleanup()
        return
    loop._check_closed()
    loop._check_running()
    if loop._debug:  # (without it, both calls of run_forever's own are no-ops)
        loop._set_coroutine_origin_tracking(True)
    old_hooks = sys.get_asyncgen_hooks()
    try:
        loop._thread_id = threading.get_ident()
        sys.set_asyncgen_hooks(
            firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
        )
        events._set_running_loop(loop)
        _turn(loop, crossing)
    finally:
        loop._stopping = False
        loop._thread_id = None
        events._set_running_loop(None)
        if loop._coroutine_origin_tracking_enabled:
            loop._set_coroutine_origin_tracking(False)
        sys.set_asyncgen_hooks(*old_hooks)


def _turn(loop: Any, crossing: Finishing) -> None:
    ready = loop._ready
    if len(ready) == 1 and not loop._debug:
        # The call's first step, alone: run it now, as a task started eagerly (3.12) would,
        # which saves a pass of the loop (a select) before the call has anything to wait for.
        ready.popleft()._run()
        if crossing.finished or loop._stopping:
            return
    run_once = loop._run_once
    while True:
        run_once()
        if crossing.finished or loop._stopping:
            return
