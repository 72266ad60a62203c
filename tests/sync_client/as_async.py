"""The async client's surface, played by a sync client from worker threads: for twin tests.

``AsyncOverSync(sync_client)`` lets an async loopback test drive the blocking client unchanged:
each call runs in a worker thread (``asyncio.to_thread``), so the test's event loop, where the
fake server runs, keeps answering. A walk becomes an async iterator whose every ``next`` runs in
a worker thread; a job is awaited the same way. Only for tests: it adds nothing to the sync
client but the hops between threads.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from inro_async.sync import Client as SyncClient
from inro_async.sync import Walk
from inro_async.sync._client import Facade

_DONE = object()


class AsyncWalk:
    """A ``Walk`` as an async iterator (``async for``, ``aclose``)."""

    def __init__(self, walk: Walk[Any]) -> None:
        self._walk = walk

    def __aiter__(self) -> AsyncWalk:
        return self

    async def __anext__(self) -> Any:
        item = await asyncio.to_thread(next, self._walk, _DONE)
        if item is _DONE:
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        await asyncio.to_thread(self._walk.close)


class AsyncOverSync:
    """Attribute by attribute, what ``inro_async.Client`` offers, over a sync client."""

    def __init__(self, target: SyncClient | Facade) -> None:
        self._target = target

    def __repr__(self) -> str:
        return f"AsyncOverSync({self._target!r})"

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, SyncClient | Facade):
            return AsyncOverSync(value)
        if not callable(value) or not inspect.ismethod(value):
            return value
        if name == "with_options":
            return lambda *args, **kwargs: AsyncOverSync(value(*args, **kwargs))
        if str(inspect.signature(value).return_annotation).startswith("Walk["):
            return lambda *args, **kwargs: AsyncWalk(value(*args, **kwargs))

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(value, *args, **kwargs)

        return call

    async def aclose(self) -> None:
        assert isinstance(self._target, SyncClient)
        await asyncio.to_thread(self._target.close)

    async def __aenter__(self) -> AsyncOverSync:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
