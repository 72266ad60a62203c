"""A ``FakeInro`` served from its own thread and event loop, for synchronous callers.

Sharing the client's event loop would let the client's CPU work (decoding a page of 1,000
contacts, writing CSV rows) delay the moment the server stamps a request's arrival by more than
the governor's 50 ms margin, and a strict sliding window then answers 429 for requests that
were dispatched correctly. A thread of its own keeps arrivals within a few milliseconds of
dispatch, as on a real network, while the server object stays inspectable in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inro_async.testing import FakeInro

__all__ = ["serve_in_thread"]

_TIMEOUT = 30.0


@contextlib.contextmanager
def serve_in_thread(server: FakeInro, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``server`` on ``host:port`` (0: any free port) in a daemon thread; yield its URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="inro-fake-server", daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(server.start(host, port), loop).result(_TIMEOUT)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(server.close(), loop).result(_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_TIMEOUT)
        loop.close()
