"""``serve_in_thread``: the fake server on an event loop of its own, for blocking code under test.

A blocking client (``inro_async.sync.Client``, ``requests``, a Flask view) called from the
test's own thread would stop a server that runs on that thread's event loop; this one runs on
its own loop in a daemon thread::

    with serve_in_thread(FakeInro()) as fake:
        with inro_async.sync.Client(fake.token, base_url=fake.base_url) as inro:
            inro.me()

Read ``fake.org`` (the store) after the calls you check have returned: the server thread
changes it while it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from inro_async.testing.server import FakeInro

__all__ = ["serve_in_thread"]


@contextlib.contextmanager
def serve_in_thread(
    fake: FakeInro | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[FakeInro]:
    """Start ``fake`` (default: ``FakeInro()``, one organization) in a thread; stop it after."""
    fake = fake if fake is not None else FakeInro()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-inro", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(fake.start(host, port), loop).result(timeout=30)
        yield fake
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(fake.close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
