"""Another process spending a share of the same token's quota, with raw aiohttp, evenly paced.

    python tests/governor/second_process.py BASE_URL TOKEN RATE SECONDS CONTACT_ID

Sends ``POST /messages`` to ``CONTACT_ID`` at ``RATE`` per second for ``SECONDS`` (never retrying,
never pacing by the headers: a careless neighbour), then prints a JSON summary of the statuses.
It starts when it reads a line on stdin, so the parent decides when the neighbour begins.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import aiohttp


async def spend(
    base_url: str, token: str, rate: float, seconds: float, contact_id: int
) -> Counter[int]:
    """Send at ``rate`` per second for ``seconds``; count the statuses answered."""
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"contact_id": contact_id, "message_type": "text", "content": "from the other process"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one() -> None:
            async with session.post(f"{base_url}/messages", json=body) as response:
                await response.read()
                statuses[response.status] += 1

        started = time.monotonic()
        tasks = []
        for i in range(int(rate * seconds)):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return statuses


def main() -> None:
    """Wait for the go line, spend, print the statuses."""
    base_url, token = sys.argv[1], sys.argv[2]
    rate, seconds, contact_id = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    sys.stdin.readline()
    statuses = asyncio.run(spend(base_url, token, rate, seconds, contact_id))
    print(json.dumps({str(k): v for k, v in statuses.items()}), flush=True)


if __name__ == "__main__":
    main()
