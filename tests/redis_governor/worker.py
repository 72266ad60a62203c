"""One worker process for the multi-process tests: a Client paced by a shared RedisGovernor.

    python worker.py BASE_URL REDIS_URL KEY TOKEN QUOTAS_JSON

Prints ``ready`` once Redis answers, then reads one JSON line from stdin: the contact ids to
message (the go signal). It sends them all concurrently (``asyncio.gather``), prints
``sent <id>`` as each send completes, then ``done <epoch seconds>`` and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from inro_async import Client
from inro_async.governor import Quota
from inro_async.governor.redis import RedisGovernor


async def main(base_url: str, redis_url: str, key: str, token: str, quotas_json: str) -> None:
    quotas = [Quota(limit, period) for limit, period in json.loads(quotas_json)]
    governor = RedisGovernor(redis_url, key=key, quotas=quotas)
    await governor.snapshot()  # connect to Redis before the clock starts
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    ids: list[int] = json.loads(await loop.run_in_executor(None, sys.stdin.readline))

    async with Client(token, base_url=base_url, governor=governor) as inro:

        async def send(contact_id: int) -> None:
            result = await inro.messages.send(contact_id=contact_id, text="hello")
            assert result.accepted_count == 1, result
            print(f"sent {contact_id}", flush=True)

        await asyncio.gather(*(send(contact_id) for contact_id in ids))
    await governor.aclose()
    print(f"done {time.time():.6f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
