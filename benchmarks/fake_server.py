"""How much the fake server costs, so benchmarks measure the client and not the fake.

    python benchmarks/fake_server.py [--contacts 100000] [--requests 300]

The server runs in a child process (``--serve``) and reports its own CPU time; this process
fetches 1,000-contact pages (raw aiohttp, one at a time, pages spread over the whole store)
and asks the child for the CPU it spent. Also timed: generating the contacts, and a
``PUT /contacts/bulk`` of 1,000 entries and a 1,000-recipient send, the other heavy routes.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import aiohttp
from _child import child_server

TOKEN = "bench-token"  # noqa: S105 - the fake server's


async def serve(contacts: int) -> None:
    from inro_async import Quota
    from inro_async.testing import FakeInro

    started = time.perf_counter()
    fake = FakeInro(batch_delay=0.0)
    no_limit = [Quota(10**9, 1)]
    fake.add_organization(TOKEN, contacts=contacts, seed=7, quotas=no_limit)
    generated = time.perf_counter() - started
    base_url = await fake.start()
    print(base_url, f"{generated:.3f}", flush=True)
    loop = asyncio.get_running_loop()
    while True:  # one line in, the CPU seconds so far out
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        print(f"{time.process_time():.6f}", flush=True)
    await fake.close()


async def measure(
    server: subprocess.Popen[str], base_url: str, contacts: int, requests: int
) -> None:
    assert server.stdin is not None
    assert server.stdout is not None

    def server_cpu() -> float:
        server.stdin.write("cpu\n")  # type: ignore[union-attr]
        server.stdin.flush()  # type: ignore[union-attr]
        return float(server.stdout.readline())  # type: ignore[union-attr]

    pages = max(1, contacts // 1000)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(base_url + "/", headers=headers) as session:

        async def timed(label: str, count: int, call: object) -> None:
            before = server_cpu()
            wall = time.perf_counter()
            for index in range(count):
                async with call(index) as response:  # type: ignore[operator]
                    body = await response.read()
                    assert response.status < 300, (response.status, body[:200])
            wall = time.perf_counter() - wall
            cpu = server_cpu() - before
            print(
                f"{label:<44}{count:>6}{cpu / count * 1000:>12.2f} ms"
                f"{wall / count * 1000:>12.2f} ms{len(body) / 1e6:>9.2f} MB"
            )

        async with session.get("contacts", params={"per_page": "1"}) as warm:
            await warm.read()
        print(f"{'request':<44}{'count':>6}{'server CPU':>15}{'round trip':>15}{'body':>12}")
        await timed(
            "GET /contacts?per_page=1000 (cold pages)",
            min(requests, pages),
            lambda i: session.get(
                "contacts", params={"per_page": "1000", "page": str(i % pages + 1)}
            ),
        )
        await timed(
            "GET /contacts?per_page=1000 (warm pages)",
            requests,
            lambda i: session.get(
                "contacts", params={"per_page": "1000", "page": str(i % pages + 1)}
            ),
        )
        await timed(
            "POST /messages to 1,000 recipients",
            20,
            lambda i: session.post(
                "messages",
                json={
                    "contact_ids": list(range(i * 1000 + 1, i * 1000 + 1001)),
                    "message_type": "text",
                    "content": "Spring sale",
                },
            ),
        )
        await timed(
            "PUT /contacts/bulk of 1,000",
            20,
            lambda i: session.put(
                "contacts/bulk",
                json={
                    "contacts": [
                        {"id": i * 1000 + k + 1, "contact": {"first_name": "Jo"}}
                        for k in range(1000)
                    ]
                },
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.contacts))
        return
    with child_server(__file__, "--contacts", str(args.contacts)) as (server, first):
        base_url, generated = first.split()
        print(f"generate_contacts({args.contacts:,}) in the server: {float(generated):.2f} s")
        asyncio.run(measure(server, base_url, args.contacts, args.requests))


if __name__ == "__main__":
    main()
