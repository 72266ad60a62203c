"""The governor on its own: pace any HTTP calls (here raw aiohttp) under Inrō's quotas.

Useful when some requests to the same organization are made outside ``Client`` (a webhook
handler using another library, a script in another language's style): route them through the
same ``LocalGovernor`` and the whole process still never earns a 429. Also shows one governor
shared by two ``Client`` objects, and what ``snapshot()`` and ``estimate()`` tell you.

Against the fake server (no token, no network):

    inro fake-server --contacts 1000 &      # prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/governor_standalone.py
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp

from inro_async import Client
from inro_async.governor import INRO_QUOTAS, LocalGovernor, Quota

BASE_URL = os.environ.get("INRO_BASE_URL", "https://api.inro.social/api/v1")


async def raw_get(
    session: aiohttp.ClientSession, governor: LocalGovernor, path: str
) -> tuple[int, float]:
    """One request paced by the governor; returns (status, seconds queued)."""
    permit = await governor.acquire()  # waits for a slot under every quota, then records it
    async with session.get(BASE_URL + path) as response:
        await response.read()
        # Learns from 429 and X-RateLimit-*; the permit says when this request went.
        await governor.observe(response.status, response.headers, permit=permit)
        return response.status, permit.queued


async def main() -> None:
    token = os.environ["INRO_API_TOKEN"]
    # Inrō's four quotas, plus a self-imposed 5/s so the pacing is visible in a second or two.
    governor = LocalGovernor(quotas=(*INRO_QUOTAS, Quota(5, 1.0)))

    print("estimate for 20 requests:", f"{await governor.estimate(20):.2f} s")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        started = time.monotonic()
        results = await asyncio.gather(*(raw_get(session, governor, "/me") for _ in range(20)))
        elapsed = time.monotonic() - started
    statuses = sorted({status for status, _ in results})
    print(f"20 raw aiohttp requests in {elapsed:.2f} s, statuses {statuses}")
    assert statuses == [200], "the governor paced them: no 429"
    assert elapsed >= 2.5, "5/s: the last of 20 waits for the fourth second"

    # Two clients (say, two tenants' code paths in one process) sharing one budget.
    async with Client(governor=governor) as a, Client(governor=governor) as b:
        await asyncio.gather(*(c.me() for c in (a, b) for _ in range(5)))

    for usage in await governor.snapshot():
        print(
            f"  {usage.quota!s:>14}: used {usage.used:>3}, remaining {usage.remaining:>6},"
            f" next slot in {usage.free_in:.2f} s"
        )
    print("dispatched through this governor:", governor.dispatched)
    assert governor.dispatched == 30


if __name__ == "__main__":
    asyncio.run(main())
