"""``FakeInro`` in a process of its own, for tests whose load would skew its clock in theirs.

    python tests/fake_process.py LIMIT/SECONDS CONTACTS

Prints its base URL, serves (strict sliding windows) until its stdin is closed, then prints
``throttled=N requests=M``: the 429s it answered and the requests it judged. With
``FAKE_TIMELINE=PATH`` it also appends each request's arrival (seconds after the first) and
whether it was throttled to PATH, to see when 429s happened.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from inro_async import Quota
from inro_async.testing import FakeInro


async def serve(quota: Quota, contacts: int) -> None:
    fake = FakeInro(quotas=[quota], mode="sliding")
    fake.add_organization("test-token", contacts=contacts, seed=1)
    print(await fake.start(), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    if timeline := os.environ.get("FAKE_TIMELINE"):
        start = fake.requests[0].arrived_at if fake.requests else 0
        lines = [f"{r.arrived_at - start:.4f} {int(r.throttled)}\n" for r in fake.requests]
        with Path(timeline).open("a") as out:  # noqa: ASYNC230 - the server is done serving
            out.writelines([*lines, "--\n"])
    print(f"throttled={fake.throttled} requests={len(fake.requests)}", flush=True)
    await fake.close()


if __name__ == "__main__":
    limit, period = sys.argv[1].split("/")
    asyncio.run(serve(Quota(int(limit), float(period)), int(sys.argv[2])))
