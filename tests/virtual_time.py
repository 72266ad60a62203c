"""A virtual-time asyncio event loop for tests: when nothing is ready, time jumps ahead.

Modelled on trio's MockClock with autojump: the loop's ``time()`` is virtual, and whenever the
loop would sleep waiting for its next timer (no callback ready, no I/O ready), the clock jumps
straight to that timer instead. An hour of quota waits runs in microseconds. Real I/O still
works: ready sockets are always polled first, and a loop with no timers blocks on I/O as usual.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        events: list[Any] = super().select(0)
        if events or (timeout is not None and timeout <= 0):
            return events
        if timeout is None or self.loop is None:
            return list(super().select(timeout))
        self.loop.advance(timeout)
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock starts at ``start`` and jumps to the next timer when idle."""

    def __init__(self, start: float = 0.0) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self._virtual_now = start
        self.jumps = 0

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        if seconds > 0:
            self._virtual_now += seconds
            self.jumps += 1


def run_virtual(main: Callable[[], Awaitable[T]], *, start: float = 0.0) -> T:
    """Run ``main()`` to completion on a fresh ``VirtualClockLoop``."""
    loop = VirtualClockLoop(start)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
