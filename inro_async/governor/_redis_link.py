"""RedisGovernor's line to Redis: the client, the script on it, and local pacing while it is gone.

The client is opened lazily from ``url=`` (one per event loop: when a loop stops, its client is
abandoned and the next call opens another), or is the one passed as ``client=``, which belongs
to the loop it was first used in. Each call runs the script (``redis_governor.lua``; its
arguments and replies in ``_redis_script.py``) and counts one round trip. When Redis cannot be
reached a guarded call raises ``GovernorUnavailableError``, or, with ``fallback_share=`` set,
returns None and leaves pacing to ``fallback``: a ``LocalGovernor`` at that share of each quota.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from inro_async.errors import GovernorLoopError, GovernorUnavailableError
from inro_async.governor._base import Quota
from inro_async.governor._redis_script import SCRIPT, script_args
from inro_async.governor.local import LocalGovernor

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["RedisLink"]


class RedisLink:
    """One governor's Redis client and script: ``keys`` and ``static_args`` go with every call.

    Each call names the margin in force (``RedisGovernor._margin_now``: it widens while answers
    are slow). ``quotas``, ``margin`` and ``fallback_share`` are the governor's, for the
    ``fallback`` created on the first failure when ``fallback_share`` is set.
    """

    def __init__(
        self,
        url: str | None,
        client: aioredis.Redis | None,
        *,
        keys: list[str],
        static_args: list[str | float | int],
        quotas: Sequence[Quota],
        margin: float,
        fallback_share: float | None,
    ) -> None:
        self._url = url
        self._client = client
        self._owns_client = client is None
        self._script: Any = None
        self._keys = keys
        self._static_args = static_args
        self._quotas = quotas
        self._margin = margin
        self._fallback_share = fallback_share
        self.fallback: LocalGovernor | None = None
        """Paces at ``fallback_share`` of each quota once Redis has been unreachable."""
        self.round_trips = 0
        """Script calls made."""

    async def run(self, op: str, margin: float, *extra: float | str) -> list[Any]:
        """Run the script's ``op`` with ``margin`` in force; Redis's errors propagate."""
        if self._script is None:
            if self._client is None:
                import redis.asyncio as aioredis_module

                self._client = aioredis_module.Redis.from_url(self._url or "")
            self._script = self._client.register_script(SCRIPT)
        self.round_trips += 1
        args = script_args(op, margin, self._static_args, extra)
        result: list[Any] = await self._script(keys=self._keys, args=args)
        return result

    async def guarded(self, op: str, margin: float, *extra: float | str) -> list[Any] | None:
        """Run the script; on a Redis failure raise, or return None to use the fallback."""
        from redis.exceptions import RedisError

        try:
            return await self.run(op, margin, *extra)
        except (RedisError, OSError) as exc:
            if self._fallback_share is None:
                raise GovernorUnavailableError(
                    f"Redis is unreachable for the shared governor ({type(exc).__name__}: {exc}); "
                    "pass fallback_share= to pace locally meanwhile"
                ) from None
            if self.fallback is None:
                share = tuple(
                    Quota(max(1, math.floor(q.limit * self._fallback_share)), q.period)
                    for q in self._quotas
                )
                self.fallback = LocalGovernor(share, margin=self._margin)
            return None

    def leave(self) -> None:
        """The event loop the client was used in has stopped: drop it, or refuse a passed one."""
        if not self._owns_client and self._script is not None:
            raise GovernorLoopError(
                "the Redis client passed as client= belongs to the event loop the governor "
                "first used it in, which has stopped; pass url= instead (the governor then "
                "opens a connection per loop), or create the client and governor in each loop"
            )
        if self._owns_client and self._client is not None:
            _abandon(self._client)
            self._client = None
            self._script = None

    async def reset(self, margin: float) -> None:
        """Delete every key of the organization, opening the client first if need be."""
        if self._client is None:
            await self.guarded("peek", margin)
        assert self._client is not None
        await self._client.delete(*self._keys)

    async def aclose(self) -> None:
        """Close the client if it was opened here (the next call opens another)."""
        if self._owns_client and self._client is not None:
            client, self._client, self._script = self._client, None, None
            await client.aclose()


def _abandon(client: aioredis.Redis) -> None:
    """Drop a client whose event loop has stopped: its connections cannot be closed from here.

    Each connection's transport is marked closing (a closed loop refuses the callback that
    would finish the job) and forgotten, so nothing tries to use or close it through a dead
    loop later; the socket is closed when the transport is collected. ``aclose()`` at the end
    of each loop avoids all this.
    """
    pool = client.connection_pool
    for connection in [
        *getattr(pool, "_available_connections", ()),
        *getattr(pool, "_in_use_connections", ()),
    ]:
        writer = getattr(connection, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(RuntimeError):
            writer.transport.close()
        connection._writer = connection._reader = None
