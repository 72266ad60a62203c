"""Peak memory of walking 100,000 contacts with ``iter(per_page=1000, concurrency=8)``.

The fake server runs in a child process, so the figure is the client's alone: this process's
peak resident set size above the interpreter's baseline (taken after imports, before the walk).
Memory is bounded by the pages in flight, not by the size of the account.

    python benchmarks/walk_memory.py [--contacts 100000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _child import child_server, until_stdin_closes
from _memory import rss_now_mb, rss_peak_mb

from inro_async.client import Client

TOKEN = "tok_walk_memory"  # noqa: S105 - the fake server's, not a secret


async def serve(contacts: int) -> None:
    """The fake server (child process) with ``contacts`` contacts, until stdin closes."""
    from inro_async.testing import FakeInro

    fake = FakeInro()
    fake.add_organization(TOKEN, plan="pro", contacts=contacts, seed=1)
    print(await fake.start(), flush=True)
    await until_stdin_closes()
    await fake.close()


async def walk(base_url: str, per_page: int, concurrency: int) -> tuple[int, float]:
    """Walk every contact, touching each one; the client paces itself under Inrō's quotas."""
    async with Client(token=TOKEN, base_url=base_url) as inro:
        count = 0
        started = time.perf_counter()
        async for contact in inro.contacts.iter(per_page=per_page, concurrency=concurrency):
            count += contact.id > 0
        return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.contacts))
        return

    with child_server(__file__, "--contacts", str(args.contacts)) as (_, base_url):
        baseline = rss_now_mb()
        count, seconds = asyncio.run(walk(base_url, args.per_page, args.concurrency))
        peak = rss_peak_mb()

    print(
        f"Walked {count:,} contacts with iter(per_page={args.per_page}, "
        f"concurrency={args.concurrency}) in {seconds:.1f} s; fake server in a child process"
    )
    print(f"{'baseline RSS (interpreter + imports)':40} {baseline:7.1f} MB")
    print(f"{'peak RSS during the walk':40} {peak:7.1f} MB")
    print(f"{'peak above baseline':40} {peak - baseline:7.1f} MB   (target < 60 MB)")


if __name__ == "__main__":
    main()
