"""Both rate-limit modes over loopback HTTP, with the server's clock under the test's control."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from inro_async import Quota
from inro_async.testing import FakeInro, ManualClock

TOKEN = "modes-token"
QUOTAS = [Quota(20, 1), Quota(1000, 60), Quota(10_000, 3600), Quota(100_000, 86_400)]


@pytest.fixture
async def start() -> AsyncIterator[Callable[..., Any]]:
    """Start a FakeInro with the given options; close everything at the end."""
    servers: list[FakeInro] = []
    session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"})

    async def _start(**options: Any) -> tuple[FakeInro, Callable[..., Any]]:
        server = FakeInro(**options)
        server.add_organization(TOKEN, contacts=5)
        base_url = await server.start()
        servers.append(server)

        async def get(path: str = "/me") -> aiohttp.ClientResponse:
            async with session.get(base_url + path) as response:
                await response.read()
                return response

        return server, get

    try:
        yield _start
    finally:
        await session.close()
        for server in servers:
            await server.close()


async def test_a_burst_of_25_in_one_second_gets_exactly_5_429s_in_sliding_mode(
    start: Callable[..., Any],
) -> None:
    clock = ManualClock(1_800_000_000.0)
    server, get = await start(mode="sliding", clock=clock)
    statuses = []
    for _ in range(25):
        statuses.append((await get()).status)
        clock.advance(0.03)  # 25 requests spread over 0.75 s
    assert statuses.count(429) == 5
    assert statuses[:20] == [200] * 20
    assert server.throttled == 5


async def test_concurrent_bursts_are_throttled_the_same_way(start: Callable[..., Any]) -> None:
    _server, get = await start(mode="sliding")  # real clock: 25 at once land within one second
    responses = await asyncio.gather(*(get() for _ in range(25)))
    assert sorted(r.status for r in responses) == [200] * 20 + [429] * 5


async def test_a_429_carries_retry_after_and_rate_limit_headers(
    start: Callable[..., Any],
) -> None:
    clock = ManualClock(1_800_000_000.0)
    _, get = await start(mode="sliding", clock=clock)
    for _ in range(20):
        await get()
    clock.advance(0.4)
    throttled = await get()
    assert throttled.status == 429
    assert throttled.headers["Retry-After"] == "1"  # 0.6 s left, whole seconds rounded up
    assert throttled.headers["X-RateLimit-Limit"] == "20"
    assert throttled.headers["X-RateLimit-Remaining"] == "0"
    assert throttled.headers["X-RateLimit-Reset"] == "1"
    body = await throttled.json()
    assert "20 requests per 1 s" in body["error"]


async def test_sliding_mode_frees_a_slot_exactly_one_window_after_the_oldest(
    start: Callable[..., Any],
) -> None:
    clock = ManualClock(1_800_000_000.0)
    _, get = await start(mode="sliding", clock=clock)
    for _ in range(20):
        assert (await get()).status == 200
    clock.advance(0.999)
    assert (await get()).status == 429
    clock.advance(0.002)
    assert (await get()).status == 200


async def test_sliding_mode_counts_the_minute_across_second_boundaries(
    start: Callable[..., Any],
) -> None:
    clock = ManualClock(1_800_000_000.0)
    server, get = await start(mode="sliding", clock=clock)
    for _ in range(50):  # 1,000 accepted in 50 s, 20 per second
        for _ in range(20):
            assert (await get()).status == 200
        clock.advance(1.0)
    refused = await get()
    assert refused.status == 429
    assert refused.headers["X-RateLimit-Limit"] == "1000"
    assert int(refused.headers["Retry-After"]) == 10  # the first second leaves the minute at 60 s
    assert server.window_counts(TOKEN)[QUOTAS[1]] == 1000


async def test_fixed_mode_resets_at_the_epoch_aligned_second(start: Callable[..., Any]) -> None:
    clock = ManualClock(1_800_000_000.5)  # mid-second
    _, get = await start(mode="fixed", clock=clock)
    statuses = [(await get()).status for _ in range(22)]
    assert statuses.count(429) == 2
    clock.set(1_800_000_001.0)  # the next window starts on the second, not 1 s after the first
    assert (await get()).status == 200


async def test_fixed_mode_lets_two_limits_through_across_an_edge(
    start: Callable[..., Any],
) -> None:
    clock = ManualClock(1_800_000_000.9)
    _, get = await start(mode="fixed", clock=clock)
    before = [(await get()).status for _ in range(20)]
    clock.set(1_800_000_001.0)
    after = [(await get()).status for _ in range(20)]
    assert before == after == [200] * 20  # 40 within 0.1 s: what a fixed window allows


async def test_fixed_mode_counts_throttled_requests_against_longer_windows(
    start: Callable[..., Any],
) -> None:
    quotas = [Quota(2, 1), Quota(5, 60)]
    clock = ManualClock(1_800_000_000.0)
    _, get = await start(mode="fixed", clock=clock, quotas=quotas)
    assert [(await get()).status for _ in range(4)] == [200, 200, 429, 429]
    clock.advance(1.0)
    # 4 counted in the minute (throttled ones too): one more, then the minute refuses.
    assert [(await get()).status for _ in range(2)] == [200, 429]
    refused = await get()
    assert refused.headers["X-RateLimit-Limit"] == "5"
    assert refused.headers["Retry-After"] == "59"  # until the epoch-aligned minute ends


async def test_sliding_mode_does_not_count_throttled_requests(start: Callable[..., Any]) -> None:
    quotas = [Quota(2, 1), Quota(5, 60)]
    clock = ManualClock(1_800_000_000.0)
    _, get = await start(mode="sliding", clock=clock, quotas=quotas)
    assert [(await get()).status for _ in range(4)] == [200, 200, 429, 429]
    clock.advance(1.0)
    assert [(await get()).status for _ in range(3)] == [200, 200, 429]  # 4 of 5 used


async def test_a_simulated_day_in_milliseconds(start: Callable[..., Any]) -> None:
    quotas = [Quota(100, 3600), Quota(300, 86_400)]
    clock = ManualClock(1_800_000_000.0)
    server, get = await start(mode="sliding", clock=clock, quotas=quotas)
    accepted = 0
    for _ in range(24 * 4):  # every 15 minutes for a day, 50 requests
        for _ in range(50):
            accepted += (await get()).status == 200
        clock.advance(900)
    assert accepted == 300  # the day caps it
    assert server.throttled == 24 * 4 * 50 - 300
