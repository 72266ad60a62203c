"""One quota, many processes: the governor shared through Redis.

Every decision is one atomic Lua script on the Redis server, timed by Redis's own clock
(``TIME``), so hosts with skewed clocks agree. The script keeps the same coalesced sliding-window
logs as the in-process core (``_core.py``: one list of ``first|last|count`` entries per quota,
at most ~2,000 entries each) and gives the same guarantee across any number of processes: no
interval of length W + margin holds more than L dispatches.

**One round trip per request.** The script does not just answer "not yet": when the earliest
slot is less than ``horizon`` seconds away it *reserves* it, returning the delay; the process
sleeps that long and sends. Reservations are handed out in time order, which is what lets expired
entries be dropped relative to the reserved time. When the slot is further away (the hour or day
quota is spent) nothing is reserved: the process waits until the slot is within the horizon and
asks again. A process holds one reservation at a time (the next is asked for just before the
slot comes), so a process that dies holds at most one slot, which expires with its window:
killing a worker leaks no quota for longer than one window.

Within a process, waiters queue locally (priority, then arrival) and only the head talks to
Redis, so 10,000 waiting tasks make no Redis traffic and priorities hold. Across processes no
order is promised, but each process holds at most one reservation at a time and slots go to
whoever asks once a slot is near, so no process starves.

A 429 seen by any worker pauses all of them (the pause lives in Redis), and ``X-RateLimit-*``
corrections are shared the same way. If Redis cannot be reached, ``acquire`` raises
``GovernorUnavailableError``, or, with ``fallback_share=`` set, paces locally at that share of
each quota (never an unpaced burst).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inro_async._headers import parse_retry_after
from inro_async.errors import InroError, QuotaWaitTooLongError
from inro_async.governor._base import INRO_QUOTAS, Priority, Quota, QuotaUsage
from inro_async.governor._core import RESOLUTION, GovernorCore, effective_quotas
from inro_async.governor.local import DEFAULT_MARGIN, LocalGovernor

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["GovernorUnavailableError", "RedisGovernor"]

DEFAULT_HORIZON = 2.0
"""Seconds ahead a process may reserve a slot (what a killed process can hold)."""

_DEFAULT_RETRY_AFTER = 1.0
_HANDOVER = 0.02
"""Seconds before its slot that a reserving head lets the next local waiter ask Redis."""

_SCRIPT = r"""
local op = ARGV[1]
local margin = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local nq = tonumber(ARGV[4])
local base = 5 + 3 * nq   -- first op-specific argument
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pause_key, last_key = KEYS[1], KEYS[2]

local function fmt(x) return string.format('%.6f', x) end
local function parse(e)
  local a, b, c = string.match(e, '([^|]+)|([^|]+)|([^|]+)')
  return tonumber(a), tonumber(b), tonumber(c)
end
local function q(i)  -- limit, period, server limit, log key, total key
  return tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i]), tonumber(ARGV[4 + 3 * i]),
         KEYS[1 + 2 * i], KEYS[2 + 2 * i]
end
local function total_of(tk) return tonumber(redis.call('GET', tk) or '0') end
local function expire(lk, tk, span, at)
  while true do
    local e = redis.call('LINDEX', lk, 0)
    if not e then return end
    local f, l, c = parse(e)
    if l + span <= at then
      redis.call('LPOP', lk)
      redis.call('DECRBY', tk, c)
    else
      return
    end
  end
end
local function free_at(lk, tk, limit, span, at)
  expire(lk, tk, span, at)
  local excess = total_of(tk) - limit + 1
  if excess <= 0 then return at end
  local i = 0
  while true do
    local batch = redis.call('LRANGE', lk, i, i + 63)
    if #batch == 0 then return at end
    for _, e in ipairs(batch) do
      local f, l, c = parse(e)
      excess = excess - c
      if excess <= 0 then return l + span end
    end
    i = i + 64
  end
end
local function add(lk, tk, step, at, count)
  local e = redis.call('LINDEX', lk, -1)
  if e then
    local f, l, c = parse(e)
    if at - f < step then
      if at > l then l = at end
      redis.call('LSET', lk, -1, fmt(f) .. '|' .. fmt(l) .. '|' .. (c + count))
      redis.call('INCRBY', tk, count)
      return
    end
  end
  redis.call('RPUSH', lk, fmt(at) .. '|' .. fmt(at) .. '|' .. count)
  redis.call('INCRBY', tk, count)
end
local function keep(ttl)
  for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ttl) end
end
local longest = 0
for i = 1, nq do
  local _, period = q(i)
  if period > longest then longest = period end
end
local ttl = math.ceil((longest + margin + horizon + 60) * 1000)
local pause = tonumber(redis.call('GET', pause_key) or '0')
local last = tonumber(redis.call('GET', last_key) or '0')

if op == 'reserve' then
  local at = math.max(now, pause, last)
  local binding = 0
  for i = 1, nq do
    local limit, period, _, lk, tk = q(i)
    local free = free_at(lk, tk, limit, period + margin, at)
    if free > at then at = free; binding = i end
  end
  if at - now > horizon then
    return {0, fmt(at - now), binding, fmt(now)}
  end
  for i = 1, nq do
    local _, period, _, lk, tk = q(i)
    add(lk, tk, period / tonumber(ARGV[5 + 3 * nq]), at, 1)
  end
  redis.call('SET', last_key, fmt(at))
  keep(ttl)
  return {1, fmt(at - now), binding, fmt(now)}
elseif op == 'release' then
  local at = tonumber(ARGV[base + 1])
  for i = 1, nq do
    local _, _, _, lk, tk = q(i)
    local n = redis.call('LLEN', lk)
    for j = n - 1, math.max(0, n - 64), -1 do
      local e = redis.call('LINDEX', lk, j)
      local f, l, c = parse(e)
      if f <= at + 1e-6 and at - 1e-6 <= l and c > 0 then
        redis.call('LSET', lk, j, fmt(f) .. '|' .. fmt(l) .. '|' .. (c - 1))
        redis.call('DECRBY', tk, 1)
        break
      end
    end
  end
  return {1, '0', 0, fmt(now)}
elseif op == 'pause' then
  local until_ = now + tonumber(ARGV[base + 1])
  if until_ > pause then redis.call('SET', pause_key, fmt(until_)) end
  keep(ttl)
  return {1, fmt(math.max(until_, pause) - now), 0, fmt(now)}
elseif op == 'correct' then
  local server_limit = tonumber(ARGV[base + 1])
  local used = server_limit - math.max(0, tonumber(ARGV[base + 2]))
  local added = 0
  for i = 1, nq do
    local limit, period, slimit, lk, tk = q(i)
    if slimit == server_limit then
      expire(lk, tk, period + margin, now)
      local missing = used - (slimit - limit) - total_of(tk)
      if missing > 0 then
        add(lk, tk, period / tonumber(ARGV[5 + 3 * nq]), math.max(now, last), missing)
        added = math.max(added, missing)
      end
    end
  end
  keep(ttl)
  return {1, tostring(added), 0, fmt(now)}
else -- 'peek': per quota total and seconds until a slot frees
  local out = {1, '0', 0, fmt(now)}
  for i = 1, nq do
    local limit, period, _, lk, tk = q(i)
    local free = free_at(lk, tk, limit, period + margin, now)
    table.insert(out, total_of(tk))
    table.insert(out, fmt(math.max(free, pause) - now))
  end
  return out
end
"""


class GovernorUnavailableError(InroError):
    """Redis could not be reached, and no local fallback was configured."""


@dataclass(order=True)
class _Waiter:
    sort_key: tuple[int, int]
    future: asyncio.Future[None] = field(compare=False)


class RedisGovernor:
    """Paces every process sharing ``key`` (one key per organization) through one Redis.

    ``url`` or ``client`` says where Redis is. ``quotas``, ``reserve`` and ``margin`` mean what
    they mean for ``LocalGovernor``; ``horizon`` is how far ahead a slot may be reserved;
    ``fallback_share``, when set (0..1), paces at that share of each quota locally while Redis
    is unreachable instead of raising ``GovernorUnavailableError``.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        key: str,
        quotas: Sequence[Quota] = INRO_QUOTAS,
        reserve: float = 0.0,
        margin: float = DEFAULT_MARGIN,
        max_wait: float | None = None,
        horizon: float = DEFAULT_HORIZON,
        fallback_share: float | None = None,
        client: aioredis.Redis | None = None,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("pass exactly one of url= or client=")
        if not key:
            raise ValueError("key must name the organization, e.g. 'inro:acme'")
        if horizon <= 0:
            raise ValueError("horizon must be positive seconds")
        if fallback_share is not None and not 0 < fallback_share <= 1:
            raise ValueError("fallback_share must be in (0, 1]")
        original = tuple(quotas)
        self._quotas = effective_quotas(original, reserve)
        self._server_limits = [q.limit for q in original]
        self.key = key
        self.margin = margin
        self.horizon = horizon
        self.max_wait = max_wait
        self.fallback_share = fallback_share
        self._url = url
        self._client = client
        self._owns_client = client is None
        self._script: Any = None
        tag = "{" + key + "}"  # one hash slot for every key (Redis Cluster)
        self._keys = [f"{tag}:pause", f"{tag}:last"]
        for quota in self._quotas:
            self._keys += [
                f"{tag}:{quota.limit}/{quota.period:g}:log",
                f"{tag}:{quota.limit}/{quota.period:g}:n",
            ]
        self._static_args: list[str | float | int] = [str(margin), str(horizon), len(self._quotas)]
        for quota, server_limit in zip(self._quotas, self._server_limits, strict=True):
            self._static_args += [quota.limit, repr(float(quota.period)), server_limit]
        self._static_args.append(RESOLUTION)
        self._heap: list[_Waiter] = []
        self._seq = itertools.count()
        self._head_busy = False
        self._local_pause = -math.inf
        self._fallback: LocalGovernor | None = None
        self.round_trips = 0
        """Script calls made (about one per request)."""

    def __repr__(self) -> str:
        quotas = ", ".join(map(str, self._quotas))
        return f"<RedisGovernor key={self.key!r} {quotas}; {len(self._heap)} waiting>"

    @property
    def quotas(self) -> Sequence[Quota]:
        """The quotas enforced, after the reserve."""
        return self._quotas

    # -- redis -------------------------------------------------------------------------------

    async def _run(self, op: str, *extra: float | str) -> list[Any]:
        if self._script is None:
            if self._client is None:
                import redis.asyncio as aioredis_module

                self._client = aioredis_module.Redis.from_url(self._url or "")
            self._script = self._client.register_script(_SCRIPT)
        self.round_trips += 1
        # ARGV: op, margin, horizon, n, per-quota (limit, period, server limit)…, resolution, extra
        args = [op, *self._static_args, *extra]
        result: list[Any] = await self._script(keys=self._keys, args=args)
        return result

    async def _guarded(self, op: str, *extra: float | str) -> list[Any] | None:
        """Run the script; on a Redis failure raise, or return None to use the fallback."""
        from redis.exceptions import RedisError

        try:
            return await self._run(op, *extra)
        except (RedisError, OSError) as exc:
            if self.fallback_share is None:
                raise GovernorUnavailableError(
                    f"Redis is unreachable for the shared governor ({type(exc).__name__}: {exc}); "
                    "pass fallback_share= to pace locally meanwhile"
                ) from None
            if self._fallback is None:
                share = tuple(
                    Quota(max(1, math.floor(q.limit * self.fallback_share)), q.period)
                    for q in self._quotas
                )
                self._fallback = LocalGovernor(share, margin=self.margin)
            return None

    # -- protocol ----------------------------------------------------------------------------

    async def acquire(
        self, *, priority: int = Priority.NORMAL, max_wait: float | None = None
    ) -> float:
        """Queue locally, reserve a slot in Redis, sleep until it; return seconds queued."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        limit = max_wait if max_wait is not None else self.max_wait
        waiter = _Waiter((-int(priority), next(self._seq)), loop.create_future())
        heapq.heappush(self._heap, waiter)
        try:
            while self._heap[0] is not waiter or self._head_busy:
                await waiter.future
                waiter.future = loop.create_future()
        except BaseException:
            self._heap.remove(waiter)
            heapq.heapify(self._heap)
            self._wake_head()
            raise
        # Only the head talks to Redis: 10,000 local waiters make no traffic. It holds the
        # queue until just before its slot, so a later high-priority call still gets the next
        # one (later callers could not go earlier anyway: slots are handed out in time order).
        heapq.heappop(self._heap)
        self._head_busy = True
        slot: float | None = None
        try:
            delay, slot = await self._reserve(limit)
            deadline = loop.time() + delay
            if delay > _HANDOVER:
                await asyncio.sleep(delay - _HANDOVER)
        except BaseException:
            if slot is not None:  # cancelled before using the reserved slot: give it back
                await asyncio.shield(self._guarded("release", repr(slot)))
            raise
        finally:
            self._head_busy = False
            self._wake_head()
        remaining = deadline - loop.time()
        if remaining > 0:
            try:
                await asyncio.sleep(remaining)
            except BaseException:
                await asyncio.shield(self._guarded("release", repr(slot)))
                raise
        return loop.time() - started

    async def _reserve(self, limit: float | None) -> tuple[float, float | None]:
        """Reserve the next slot, waiting while it is beyond the horizon.

        Returns the delay until the slot and the slot's Redis time (None on the fallback).
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            local_pause = self._local_pause - loop.time()
            if local_pause > 0:
                await asyncio.sleep(local_pause)
            result = await self._guarded("reserve")
            if result is None:
                assert self._fallback is not None
                await self._fallback.acquire(max_wait=limit)
                return 0.0, None
            granted, wait, binding = int(result[0]), float(result[1]), int(result[2])
            waited = loop.time() - started
            if limit is not None and waited + wait > limit:
                quota: object = self._quotas[binding - 1] if binding else "a 429 pause"
                raise QuotaWaitTooLongError(
                    wait=wait, available_at=time.time() + wait, quota=quota, max_wait=limit
                )
            if granted:
                return wait, float(result[3]) + wait
            # Beyond the horizon: come back when the slot is about to be near.
            await asyncio.sleep(max(0.0, wait - self.horizon / 2))

    def _wake_head(self) -> None:
        if self._heap and not self._heap[0].future.done():
            self._heap[0].future.set_result(None)

    async def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Share a 429 pause and ``X-RateLimit-*`` corrections with every process."""
        if status == 429:
            delay = parse_retry_after(headers.get("Retry-After"))
            delay = _DEFAULT_RETRY_AFTER if delay is None else delay
            loop = asyncio.get_running_loop()
            self._local_pause = max(self._local_pause, loop.time() + delay)
            await self._guarded("pause", repr(float(delay)))
            if self._fallback is not None:
                await self._fallback.observe(status, headers)
        limit = headers.get("X-RateLimit-Limit")
        remaining = headers.get("X-RateLimit-Remaining")
        if limit is not None and remaining is not None:
            try:
                numbers = int(float(limit)), int(float(remaining))
            except ValueError:
                return
            if numbers[0] in self._server_limits:
                await self._guarded("correct", numbers[0], numbers[1])

    async def snapshot(self) -> list[QuotaUsage]:
        """Per quota, as Redis sees it across every process: used and time to a free slot."""
        result = await self._guarded("peek")
        if result is None:
            assert self._fallback is not None
            return await self._fallback.snapshot()
        values = result[4:]
        return [
            QuotaUsage(
                quota=quota, used=int(values[2 * i]), free_in=max(0.0, float(values[2 * i + 1]))
            )
            for i, quota in enumerate(self._quotas)
        ]

    async def estimate(self, n: int) -> float:
        """Seconds until ``n`` more requests could have gone, from Redis's current counts.

        Approximate: each quota's spent requests are taken to free together when its first
        slot does, so the answer errs towards waiting less than the exact log would say.
        """
        if n <= 0:
            return 0.0
        worst = 0.0
        for item in await self.snapshot():
            single = GovernorCore([item.quota], margin=self.margin)
            if item.used:
                single.record(item.free_in - item.quota.period - self.margin, item.used)
            worst = max(worst, single.estimate(n, 0.0))
        return worst

    async def reset(self) -> None:
        """Forget everything recorded under this key (tests, or a regenerated token)."""
        if self._client is None:
            await self._guarded("peek")
        assert self._client is not None
        await self._client.delete(*self._keys)

    async def aclose(self) -> None:
        """Close the Redis connection if this governor opened it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
