"""A child process for the SIGKILL test: refresh a mirror, pausing after each page."""

from __future__ import annotations

import asyncio
import sys
import time

from inro_async import Client
from inro_async.governor._base import Quota
from inro_async.mirror import ContactMirror, MirrorProgress


def on_progress(event: MirrorProgress) -> None:
    if event.phase == "page":
        print("page", event.contacts, flush=True)
        time.sleep(0.3)  # holds the transaction open: the parent kills it here


async def main(base_url: str, where: str, now: float) -> None:
    inro = Client(token="test-token", base_url=base_url, quotas=(Quota(100_000, 1),))
    mirror = ContactMirror(where, clock=lambda: now, on_progress=on_progress)
    async with inro, mirror:
        await mirror.refresh(inro)
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
