"""The governor against the usual alternatives, on both server modes, in one table.

    python benchmarks/governor.py [--requests 250]

Each row launches every ``POST /messages`` at once against the fake server (in a child process,
``--serve``, so the CPU column is the client's alone) under scaled quotas (20/1s, 100/6s,
250/18s, 450/40s), each row on a fresh organization. The alternatives send with raw aiohttp
through layered ``aiolimiter.AsyncLimiter``s (one per quota, acquired in turn) or one
``pyrate_limiter.Limiter`` holding every rate (its default sliding-window log); they retry a 429
after ``Retry-After``, as the API asks, so every row ends with every message sent.

Columns: 429s received; utilization, the optimum over the elapsed time (the optimum is the
greedy schedule, request k at the latest of t[k-L] + W over the quotas, or for fixed windows
the earliest aligned window with room, plus one round trip); the client's CPU seconds.

With ``--redis``, the shared-governor figures of ``benchmarks/governor_redis.py`` (several
processes through one Redis; it starts its own redis-server) follow in a second table: see the
marked hook in ``main``. Another in-process row is one more entry in ``RUNNERS``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import math
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import aiohttp
from _child import until_stdin_closes

Mode = Literal["sliding", "fixed"]
SCALED = ((20, 1.0), (100, 6.0), (250, 18.0), (450, 40.0))
"""(limit, period) pairs: production's shape with windows in seconds."""
RTT_TOKEN = "bench-rtt"  # noqa: S105 - the fake server's


@dataclass
class Outcome:
    """What one row measured."""

    throttled: int
    started: float
    """Epoch seconds when the first request was launched (fixed windows are epoch-aligned)."""
    elapsed: float
    cpu: float


Runner = Callable[[str, str, Mode, int], Awaitable[Outcome]]
"""``(base_url, token, mode, requests)``: send every request, then say how it went."""


# -- the optimum ----------------------------------------------------------------------------


def greedy(n: int, mode: Mode, start: float) -> float:
    """Seconds from ``start`` to the last of ``n`` requests sent as early as the quotas allow."""
    times: list[float] = []
    counts: dict[tuple[float, int], int] = {}
    t = start
    for k in range(n):
        if mode == "sliding":
            earliest = max([0.0] + [times[k - lim] + w for lim, w in SCALED if k >= lim])
            times.append(earliest)
            continue
        while full := [w for lim, w in SCALED if counts.get((w, math.floor(t / w)), 0) >= lim]:
            t = max((math.floor(t / w) + 1) * w for w in full)
        for _, w in SCALED:
            counts[(w, math.floor(t / w))] = counts.get((w, math.floor(t / w)), 0) + 1
        times.append(t - start)
    return times[-1] if times else 0.0


# -- the rows -------------------------------------------------------------------------------


def body(i: int) -> dict[str, object]:
    """The ``POST /messages`` body for recipient ``i``."""
    return {"contact_id": i, "message_type": "text", "content": f"Spring sale, {i}"}


async def run_ours(base_url: str, token: str, mode: Mode, requests: int) -> Outcome:
    """``inro_async.Client`` with its governor told the server's window mode."""
    from inro_async import Client, Quota
    from inro_async.governor import LocalGovernor

    governor = LocalGovernor([Quota(lim, w) for lim, w in SCALED], windows=mode)
    throttled = 0
    observe = governor.observe

    async def counting(
        status: int, headers: object, *, permit: object = None, elapsed: float | None = None
    ) -> None:
        nonlocal throttled
        throttled += status == 429
        await observe(status, headers, permit=permit, elapsed=elapsed)  # type: ignore[arg-type]

    governor.observe = counting  # type: ignore[method-assign]
    async with Client(token, base_url=base_url, governor=governor) as inro:
        cpu, started, clock = time.process_time(), time.time(), time.perf_counter()
        await asyncio.gather(
            *(
                inro.messages.send(contact_id=i, text=f"Spring sale, {i}")
                for i in range(1, requests + 1)
            )
        )
        return Outcome(throttled, started, time.perf_counter() - clock, time.process_time() - cpu)


async def run_raw(
    base_url: str, token: str, requests: int, wait: Callable[[], Awaitable[object]]
) -> Outcome:
    """Raw aiohttp: ``wait()`` for the limiter, send, and after a 429 sleep ``Retry-After``."""
    throttled = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def send(i: int) -> None:
            nonlocal throttled
            while True:
                await wait()
                async with session.post(f"{base_url}/messages", json=body(i)) as response:
                    await response.read()
                    if response.status != 429:
                        response.raise_for_status()
                        return
                    throttled += 1
                    retry_after = float(response.headers.get("Retry-After", "1"))
                await asyncio.sleep(retry_after)

        cpu, started, clock = time.process_time(), time.time(), time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(1, requests + 1)))
        return Outcome(throttled, started, time.perf_counter() - clock, time.process_time() - cpu)


async def run_aiolimiter(base_url: str, token: str, mode: Mode, requests: int) -> Outcome:
    """One ``AsyncLimiter(L, W)`` per quota, acquired in turn (a leaky bucket each)."""
    from aiolimiter import AsyncLimiter

    limiters = [AsyncLimiter(lim, w) for lim, w in SCALED]

    async def wait() -> None:
        for limiter in limiters:
            await limiter.acquire()

    return await run_raw(base_url, token, requests, wait)


async def run_pyrate(base_url: str, token: str, mode: Mode, requests: int) -> Outcome:
    """One ``pyrate_limiter.Limiter`` with every rate, blocking ``try_acquire_async``."""
    from pyrate_limiter import Duration, Limiter, Rate

    limiter = Limiter([Rate(lim, int(Duration.SECOND * w)) for lim, w in SCALED])

    async def wait() -> None:
        await limiter.try_acquire_async("inro")

    return await run_raw(base_url, token, requests, wait)


RUNNERS: dict[str, Runner] = {
    "inro_async Client": run_ours,
    "aiohttp + aiolimiter x4": run_aiolimiter,
    "aiohttp + pyrate-limiter": run_pyrate,
}
"""One table row each, in order; the key is the row's label."""


def token_for(label: str) -> str:
    """A fake-server token per row: every row starts with empty windows."""
    return "bench-" + "".join(c if c.isalnum() else "-" for c in label.lower())


# -- the server (child process) -------------------------------------------------------------


async def serve(mode: Mode, tokens: Sequence[str], requests: int) -> None:
    """Serve one organization per token (every recipient active) until stdin closes."""
    from inro_async import Quota
    from inro_async.testing import FakeInro

    quotas = [Quota(lim, w) for lim, w in SCALED]
    fake = FakeInro(mode=mode, quotas=quotas)
    for token in tokens:
        org = fake.add_organization(token, contacts=requests, quotas=quotas)
        for contact in org.contacts.values():
            contact["status"] = "active"
    fake.add_organization(RTT_TOKEN, contacts=1)
    print(await fake.start(), flush=True)
    await until_stdin_closes()
    await fake.close()


async def round_trip(base_url: str) -> float:
    """Median seconds of one ``POST /messages`` on a quiet organization."""
    headers = {"Authorization": f"Bearer {RTT_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        samples = []
        for _ in range(9):
            started = time.perf_counter()
            async with session.post(f"{base_url}/messages", json=body(1)) as response:
                await response.read()
            samples.append(time.perf_counter() - started)
    return sorted(samples)[len(samples) // 2]


def start_server(
    mode: Mode, tokens: Sequence[str], requests: int
) -> tuple[subprocess.Popen[str], str]:
    """The fake server in a child process, and its base URL."""
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--mode",
            mode,
            "--requests",
            str(requests),
            "--tokens",
            ",".join(tokens),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    if not base_url:
        raise SystemExit("the fake server did not start")
    return server, base_url


def main() -> None:
    """Run every row on both modes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=250)
    parser.add_argument(
        "--redis", action="store_true", help="also run benchmarks/governor_redis.py's rows"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="sliding", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.mode, args.tokens.split(","), args.requests))
        return

    rows = []
    for mode in ("sliding", "fixed"):
        server, base_url = start_server(mode, [token_for(k) for k in RUNNERS], args.requests)
        try:
            rtt = asyncio.run(round_trip(base_url))
            for label, runner in RUNNERS.items():
                outcome = asyncio.run(runner(base_url, token_for(label), mode, args.requests))
                optimum = greedy(args.requests, mode, outcome.started) + rtt
                rows.append((mode, label, outcome, optimum))
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=30)

    quotas = ", ".join(f"{lim}/{w:g}s" for lim, w in SCALED)
    print(
        f"{args.requests} sends launched at once; quotas {quotas}; fake server in a child process"
    )
    print(
        f"{'server':<9}{'client':<27}{'429s':>6}{'elapsed':>10}{'optimum':>10}"
        f"{'utilization':>13}{'CPU':>9}"
    )
    for mode, label, outcome, optimum in rows:
        print(
            f"{mode:<9}{label:<27}{outcome.throttled:>6}{outcome.elapsed:>9.2f}s{optimum:>9.2f}s"
            f"{optimum / outcome.elapsed:>12.1%}{outcome.cpu:>8.2f}s"
        )

    # -- hook: Redis governor rows -------------------------------------------------------------
    # ``benchmarks/governor_redis.py`` measures the shared governor across processes (its own
    # columns: added latency per request, N processes); its ``rows()``, ``HEADER`` and
    # ``format_row`` print here as a second table. Put a single-process Redis row in ``RUNNERS``
    # instead to get it in the table above.
    if args.redis:
        redis_bench = importlib.import_module("governor_redis")
        print()
        print("shared through Redis (benchmarks/governor_redis.py):")
        print(redis_bench.HEADER)
        for row in redis_bench.rows():
            print(redis_bench.format_row(row))
    # -- end of hook ---------------------------------------------------------------------------


if __name__ == "__main__":
    main()
