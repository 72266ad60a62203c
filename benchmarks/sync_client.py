"""What the blocking client costs per call, beside the async client and raw sync HTTP clients.

1. Sequential GETs (``GET /contacts?per_page=1``, one contact) on loopback, one side after the
   other in interleaved rounds (the order reversed every other round): wall time and CPU
   (``time.process_time``: every thread of this process, the portal's included) per call. The
   figure is the median of the per-round differences between the sync client and the async
   client, with its spread; the target is at most 60 µs added per call.
2. Throughput with 8 threads sharing one sync client, beside the async client with 8 tasks
   and (when installed) one ``httpx.Client`` shared by 8 threads.

The fake server runs in a child process, so only the clients are measured; quotas never bind.
Raw sides: ``http.client`` (standard library, one kept-alive connection) always, and
``httpx.Client`` when httpx is installed (``pip install -e '.[bench]'``).

    python benchmarks/sync_client.py [--rounds 10] [--per-round 300] [--threads 8]
    python benchmarks/sync_client.py --instructions    # instructions per call, under callgrind
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import statistics
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from _callgrind import per_call as instructions_per_call
from _child import child_server, until_stdin_closes
from _rounds import round_order, spread

from inro_async import Quota
from inro_async.client import Client as AsyncClient
from inro_async.sync import Client as SyncClient
from inro_async.sync._process import current as current_portal

try:
    import httpx
except ImportError:  # an optional reference row
    httpx = None  # type: ignore[assignment]

NO_LIMIT = (Quota(10**9, 1),)  # quotas that never bind: this measures the client, not pacing
TARGET_US = 60.0
"""The sync client may add at most this many µs per call over the async client (issue 17)."""

TOKENS = {
    "async": "tok_bench_async",
    "sync": "tok_bench_sync",
    "raw": "tok_bench_raw",
}
"""One organization per client, so that no side's requests count in another's quota window."""

ASYNC = "inro_async.Client (async)"
SYNC = "inro_async.sync.Client"
STDLIB = "http.client + json.loads"
HTTPX = "httpx.Client + json.loads"
SIDES = {
    ASYNC: "await inro.contacts.list(per_page=1) in a running event loop: checks, governor, "
    "retries, typed decoding into a Page of Contact structs",
    SYNC: "inro.contacts.list(per_page=1) from a plain thread: the same call, run on the "
    "portal's loop while this thread waits",
    STDLIB: "one kept-alive http.client.HTTPConnection: request, read, status check, "
    "json.loads into dicts; no pacing, retries or typing",
    HTTPX: "one httpx.Client (kept-alive pool): get, status check, json.loads into dicts",
}


async def serve() -> None:
    """The fake server, in a child process so that its CPU is not counted as the client's."""
    from inro_async.testing import FakeInro

    fake = FakeInro(quotas=NO_LIMIT)
    for token in TOKENS.values():
        fake.add_organization(token, plan="pro", contacts=100, seed=1)
    print(await fake.start(), flush=True)
    await until_stdin_closes()
    await fake.close()


Run = Callable[[int], None]
"""Makes ``n`` sequential calls."""


@contextmanager
def contenders(base_url: str) -> Iterator[dict[str, Run]]:
    """Each side's ``n`` sequential calls, by name, while its connections are open."""
    parsed = urllib.parse.urlsplit(base_url)
    path = f"{parsed.path}/contacts?page=1&per_page=1"
    headers = {"Authorization": f"Bearer {TOKENS['raw']}", "Accept": "application/json"}
    loop = asyncio.new_event_loop()
    with ExitStack() as stack:
        stack.callback(loop.close)  # last: callbacks run in reverse
        inro_async = loop.run_until_complete(_open_async(base_url))
        stack.callback(lambda: loop.run_until_complete(inro_async.aclose()))
        inro = stack.enter_context(SyncClient(TOKENS["sync"], base_url=base_url, quotas=NO_LIMIT))
        connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port)
        stack.callback(connection.close)

        async def async_calls(n: int) -> None:
            for _ in range(n):
                page = await inro_async.contacts.list(per_page=1)
                assert len(page.items) == 1

        def sync_calls(n: int) -> None:
            for _ in range(n):
                page = inro.contacts.list(per_page=1)
                assert len(page.items) == 1

        def stdlib_calls(n: int) -> None:
            for _ in range(n):
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                assert response.status == 200, body
                assert len(json.loads(body)) == 1

        sides: dict[str, Run] = {
            ASYNC: lambda n: loop.run_until_complete(async_calls(n)),
            SYNC: sync_calls,
            STDLIB: stdlib_calls,
        }
        if httpx is not None:
            client = stack.enter_context(
                httpx.Client(base_url=f"{parsed.scheme}://{parsed.netloc}")
            )

            def httpx_calls(n: int) -> None:
                for _ in range(n):
                    response = client.get(path, headers=headers)
                    assert response.status_code == 200, response.text
                    assert len(json.loads(response.content)) == 1

            sides[HTTPX] = httpx_calls
        yield sides


async def _open_async(base_url: str) -> AsyncClient:
    return AsyncClient(TOKENS["async"], base_url=base_url, quotas=NO_LIMIT)


def sequential(base_url: str, rounds: int, per_round: int) -> float:
    """Print the interleaved rounds' table; return the median µs the sync client adds."""
    with contenders(base_url) as sides:
        for run in sides.values():  # warm up connections and caches
            run(100)
        wall: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        order = list(sides)
        for index in range(rounds):
            for name in round_order(order, index):
                gc.collect()
                started, started_cpu = time.perf_counter(), time.process_time()
                sides[name](per_round)
                wall[name].append((time.perf_counter() - started) / per_round * 1e6)
                cpu[name].append((time.process_time() - started_cpu) / per_round * 1e6)

    print(
        f"Sequential GET /contacts?per_page=1 on loopback, {rounds} interleaved rounds of "
        f"{per_round:,} calls per side\n({rounds * per_round:,} per side); the fake server runs "
        "in a child process; quotas never bind. CPU is this process's\nuser + system time, "
        "every thread (the sync client's portal included)."
    )
    for name in sides:
        print(
            textwrap.fill(
                f"{name}: {SIDES[name]}.", 100, initial_indent="- ", subsequent_indent="  "
            )
        )
    print(f"\n{'':28} {'µs wall per call':^26} | {'µs CPU per call':^26}")
    head = f"{'median':>7} {'IQR':>9} {'min–max':>9}"
    print(f"{'':28} {head} | {head}")

    def cells(values: list[float]) -> str:
        median, low, high, q1, q3 = spread(values)
        return f"{median:7.0f} {q1:4.0f}–{q3:<4.0f} {low:4.0f}–{high:<4.0f}"

    for name in sides:
        print(f"{name:28} {cells(wall[name])} | {cells(cpu[name])}")
    added_wall = [s - a for s, a in zip(wall[SYNC], wall[ASYNC], strict=True)]
    added_cpu = [s - a for s, a in zip(cpu[SYNC], cpu[ASYNC], strict=True)]
    print(f"{'sync − async, per round':28} {cells(added_wall)} | {cells(added_cpu)}")
    added = statistics.median(added_wall)
    verdict = "met" if added <= TARGET_US else "NOT met"
    print(
        f"-> the sync client adds {added:.0f} µs wall ({statistics.median(added_cpu):.0f} µs CPU) "
        f"per call over the async client (target ≤ {TARGET_US:.0f} µs: {verdict})"
    )
    floor(waited=statistics.median(wall[ASYNC]) / 1e6)
    return added


def floor(waited: float, calls: int = 1500) -> None:
    """What crossing threads costs on this machine without any request, beside the portal's call.

    A lone caller runs the portal's loop itself, so it pays no crossing; a crossing is what a
    call pays when another thread runs the loop (8 threads), measured here with a loop of its
    own in a thread. A thread woken after it slept as long as a request takes costs far more on
    a virtual machine than one woken at once (its CPU went idle), so the bare round trip is
    measured both ways: answered at once, and answered ``waited`` seconds later (the async
    call's median).
    """
    portal = current_portal()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def release(lock: threading.Lock) -> None:
        lock.release()

    def release_later(lock: threading.Lock) -> None:
        loop.call_later(waited, lock.release)

    def bare() -> None:
        lock = threading.Lock()
        lock.acquire()
        loop.call_soon_threadsafe(release, lock)
        lock.acquire()

    def bare_waited() -> None:
        lock = threading.Lock()
        lock.acquire()
        loop.call_soon_threadsafe(release_later, lock)
        lock.acquire()

    async def nothing() -> None:
        return None

    here = asyncio.new_event_loop()
    rows = {
        "a bare round trip to a loop thread, answered at once": (bare, 0.0),
        f"the same, answered after {waited * 1e6:,.0f} µs": (bare_waited, waited),
        "the portal's call of an empty coroutine": (lambda: portal.call(nothing()), 0.0),
        "loop.run_until_complete, empty coroutine": (
            lambda: here.run_until_complete(nothing()),
            0.0,
        ),
    }
    print("The floor on this machine, no request (median of 5 runs; a wait is not counted):")
    for name, (one, wait) in rows.items():
        walls, cpus = [], []
        for _ in range(5):
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(calls // 5):
                one()
            walls.append((time.perf_counter() - started) / (calls // 5) * 1e6 - wait * 1e6)
            cpus.append((time.process_time() - started_cpu) / (calls // 5) * 1e6)
        # epoll waits in whole milliseconds, so a timed answer's wall time says nothing
        wall = "    — µs wall" if wait else f"{statistics.median(walls):5.0f} µs wall"
        print(f"  {name:50} {wall} {statistics.median(cpus):5.0f} µs CPU")
    print()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
    here.close()


def throughput(base_url: str, threads: int, per_thread: int, rounds: int) -> None:
    """Calls per second with ``threads`` callers sharing one client, interleaved rounds."""
    parsed = urllib.parse.urlsplit(base_url)
    path = f"{parsed.path}/contacts?page=1&per_page=1"
    headers = {"Authorization": f"Bearer {TOKENS['raw']}", "Accept": "application/json"}
    loop = asyncio.new_event_loop()
    inro_async = loop.run_until_complete(_open_async(base_url))
    inro = SyncClient(TOKENS["sync"], base_url=base_url, quotas=NO_LIMIT)
    client = httpx.Client(base_url=f"{parsed.scheme}://{parsed.netloc}") if httpx else None

    def in_threads(call: Callable[[], Any]) -> None:
        def work() -> None:
            for _ in range(per_thread):
                call()

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    async def tasks() -> None:
        async def work() -> None:
            for _ in range(per_thread):
                await inro_async.contacts.list(per_page=1)

        await asyncio.gather(*(work() for _ in range(threads)))

    sides: dict[str, Callable[[], None]] = {
        f"{SYNC}, {threads} threads": lambda: in_threads(lambda: inro.contacts.list(per_page=1)),
        f"async client, {threads} tasks": lambda: loop.run_until_complete(tasks()),
    }
    if client is not None:
        sides[f"httpx.Client, {threads} threads"] = lambda: in_threads(
            lambda: client.get(path, headers=headers).raise_for_status()
        )
    try:
        for run in sides.values():
            run()  # warm up
        rates: dict[str, list[float]] = {name: [] for name in sides}
        order = list(sides)
        for index in range(rounds):
            for name in round_order(order, index):
                started = time.perf_counter()
                sides[name]()
                rates[name].append(threads * per_thread / (time.perf_counter() - started))
    finally:
        inro.close()
        loop.run_until_complete(inro_async.aclose())
        loop.close()
        if client is not None:
            client.close()
    print(
        f"Throughput: {threads} callers × {per_thread:,} calls sharing one client, "
        f"{rounds} interleaved rounds"
    )
    print(f"{'':34} {'calls/s median':>14} {'min–max':>13}")
    for name, values in rates.items():
        print(
            f"{name:34} {statistics.median(values):14,.0f} {min(values):6,.0f}–{max(values):<6,.0f}"
        )


def one_side(base_url: str, side: str, calls: int) -> None:
    """Warm up, then ``calls`` sequential calls of one side alone (what callgrind counts)."""
    with contenders(base_url) as sides:
        run = sides[side]
        run(50)
        run(calls)


def instructions(calls: int) -> None:
    """Print the async and sync clients' instructions per call, counted by callgrind.

    Instructions are what a noisy machine does not move: two runs of the same side count the
    same. Kernel time (a system call, a thread woken) is not counted, so this shows the
    user-space work a call adds, beside the timed rounds' wall and CPU.
    """
    print(
        "Instructions per call (valgrind callgrind, this process only; the fake server runs "
        f"natively in its child):\n{calls:,} sequential calls minus none, per side."
    )
    per_call = {side: instructions_per_call(__file__, side, calls) for side in (ASYNC, SYNC)}
    for side, count in per_call.items():
        print(f"{side:28} {count:10,.0f}")
    added = per_call[SYNC] - per_call[ASYNC]
    print(
        f"-> the sync client adds {added:,.0f} instructions per call "
        f"({added / per_call[ASYNC]:.1%} of the async call)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (>= 5)")
    parser.add_argument("--per-round", type=int, default=300, help="calls per side per round")
    parser.add_argument("--threads", type=int, default=8, help="callers in the throughput test")
    parser.add_argument("--per-thread", type=int, default=200, help="calls per caller")
    parser.add_argument(
        "--instructions", action="store_true", help="instructions per call (valgrind)"
    )
    parser.add_argument("--count", type=int, default=300, help="calls counted (--instructions)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    if args.instructions:
        instructions(args.count)
        return
    if args.one_side:
        with child_server(__file__) as (_, base_url):
            one_side(base_url, args.one_side, args.count)
        return
    if args.rounds < 5:
        parser.error("--rounds must be at least 5: the median of fewer is noise")
    with child_server(__file__) as (_, base_url):
        sequential(base_url, args.rounds, args.per_round)
        throughput(base_url, args.threads, args.per_thread, rounds=max(3, args.rounds // 3))


if __name__ == "__main__":
    main()
