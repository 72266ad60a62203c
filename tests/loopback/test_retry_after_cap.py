"""A 429's ``Retry-After`` is bounded: a call never hangs silently for a day (or 31 years).

The fake server's rate limiter only ever asks for the seconds its windows need, so a tiny
aiohttp server on 127.0.0.1 plays a server (or a proxy) that asks for more. A call without
``max_wait`` waits for a 429's pause up to ``Retries.max_throttled_wait`` (60 s): a longer one
raises ``RateLimitError`` at once, saying when the server allows requests again, and so do the
calls after it while the pause lasts (they are not sent). The governor still holds the pause:
a call with ``max_wait`` gets ``QuotaWaitTooLongError`` from it, nobody hammers the server. A
long pause is logged at WARNING, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from inro_async import QuotaWaitTooLongError, RateLimitError, Retries
from inro_async.client import Client
from inro_async.testing.pytest_plugin import TOKEN

ORGANIZATION = {"id": 1, "name": "Acme", "plan": "pro"}


class Throttler:
    """Answers its first ``times`` requests 429 with ``Retry-After: retry_after``, then 200."""

    def __init__(self) -> None:
        self.retry_after = "0"
        self.times = 0
        self.seen = 0
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen += 1
        if self.times > 0:
            self.times -= 1
            return web.json_response(
                {"error": "Rate limit exceeded"},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        return web.json_response(ORGANIZATION)


@pytest.fixture
async def throttler() -> AsyncIterator[Throttler]:
    server = Throttler()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
    yield server
    await runner.cleanup()


@pytest.mark.parametrize("retry_after", ["86400", "1e9"])
async def test_a_429_asking_for_more_than_the_cap_raises_at_once_saying_when(
    throttler: Throttler, caplog: pytest.LogCaptureFixture, retry_after: str
) -> None:
    year = (datetime.now(UTC) + timedelta(seconds=float(retry_after))).year
    throttler.retry_after, throttler.times = retry_after, 1
    async with Client(TOKEN, base_url=throttler.base_url) as inro:
        async with asyncio.timeout(5):  # before the fix: the call hung for the whole pause
            with pytest.raises(RateLimitError) as caught:
                await inro.me()
            error = caught.value
            assert error.retry_after == float(retry_after)
            assert "allows requests again" in str(error)
            assert str(year) in str(error)  # when, on the wall clock
            assert "max_throttled_wait" in str(error)  # how to wait longer
            assert throttler.seen == 1

            # The calls after it are refused while the pause lasts, without being sent...
            with pytest.raises(RateLimitError, match="allows requests again"):
                await inro.me()
            assert throttler.seen == 1
            # ...and the governor holds the pause for calls that bound their wait.
            with pytest.raises(QuotaWaitTooLongError):
                await inro.with_options(max_wait=1).me()
            assert throttler.seen == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # once, not once per call
    assert "429" in warnings[0].getMessage()


async def test_a_429_within_the_cap_is_waited_out_and_the_call_succeeds(
    throttler: Throttler,
) -> None:
    throttler.retry_after, throttler.times = "1", 1
    async with Client(TOKEN, base_url=throttler.base_url) as inro:
        async with asyncio.timeout(5):
            org = await inro.me()
    assert org.name == "Acme"
    assert throttler.seen == 2


async def test_a_long_pause_the_caller_allows_is_waited_out_and_logged_once(
    throttler: Throttler, caplog: pytest.LogCaptureFixture
) -> None:
    throttler.retry_after, throttler.times = "1", 1
    retries = Retries(max_throttled_wait=0.5)
    async with Client(TOKEN, base_url=throttler.base_url, max_retries=retries) as inro:
        patient = inro.with_options(max_wait=5)
        async with asyncio.timeout(5):
            results = await asyncio.gather(patient.me(), patient.me(), patient.me())
    assert [org.name for org in results] == ["Acme"] * 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "Retry-After 1s" in warnings[0].getMessage()
