"""Fan-out at the quota's speed: walking 100,000 contacts and messaging 100,000 recipients.

    python benchmarks/fanout.py [--contacts 100000] [--latency 0.05] [--concurrency N]

The fake server runs in a child process (``--serve``), so the figures are the client's alone:
elapsed time against the quota's theoretical minimum, and this process's peak RSS. The
theoretical minimum is exact for sliding windows: request k may go no earlier than request
k - L went plus W, for every quota (L, W); the last request's earliest time plus one round trip
is the least time the whole job can take. With 1,000 per call both tasks need 100 requests, so
the 20/s quota binds: ~4 s + 50 ms.

That minimum assumes the server counts each request the instant it is sent and serves any number
at once. A client that cannot see the server's clock must hold each slot until W after the
response, so every 1-second cycle costs one round trip more wherever the latency sits (a request
counted 25 ms after dispatch is answered 25 ms later, and the next one in its slot takes 25 ms to
arrive): 4 cycles x ~55 ms here. The walk also cannot start pages 2-20 before page 1 says how
many there are (one round trip), and the one-process fake serves a burst of 19 pages one by one
(~5 ms each, with the client's decoding), which every later second inherits because a slot
frees W after its own response. Together that puts a walk's practical ceiling near 91%; the
send starts at once and its server work is ~2 ms per 1,000 recipients. The server reports how
many requests it throttled (429s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections.abc import Sequence

from _child import child_server

TOKEN = "bench-token-walk"  # noqa: S105 - the fake server's
SEND_TOKEN = "bench-token-send"  # noqa: S105 - a second organization: each task starts with fresh windows


def theoretical_minimum(
    requests: int, quotas: Sequence[tuple[int, float]], latency: float
) -> float:
    """Least seconds for ``requests`` under sliding-window ``quotas`` (limit, period)."""
    times: list[float] = []
    for k in range(requests):
        earliest = 0.0
        for limit, period in quotas:
            if k >= limit:
                earliest = max(earliest, times[k - limit] + period)
        times.append(earliest)
    return (times[-1] if times else 0.0) + latency


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# -- the server (child process) -------------------------------------------------------------


async def serve(contacts: int, latency: float) -> None:
    from inro_async.testing import FakeInro, Faults

    fake = FakeInro(mode="sliding", faults=Faults(latency=latency))
    for token in (TOKEN, SEND_TOKEN):
        fake.add_organization(token, plan="pro", contacts=contacts, seed=7)
    base_url = await fake.start()
    print(base_url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    tokens = (TOKEN, SEND_TOKEN)
    counts = {t: sum(1 for r in fake.requests if r.token == t and r.throttled) for t in tokens}
    print(json.dumps(counts), flush=True)
    await fake.close()


# -- the client (this process) --------------------------------------------------------------


Row = tuple[str, str, int, float, float, float, float]


async def run(base_url: str, contacts: int, concurrency: int | None) -> list[Row]:
    """Walk every contact, then message every contact; one row per task."""
    import inro_async.jobs  # a one-time ~60 ms per process, not part of a job's pace
    from inro_async.client import Client

    pages_ahead = concurrency or inro_async.jobs._runner.EXPORT_CONCURRENCY

    rows: list[Row] = []

    async with Client(TOKEN, base_url=base_url) as inro:
        started, cpu = time.perf_counter(), time.process_time()
        walked = pages = 0
        async for page in inro.contacts.iter_pages(per_page=1000, concurrency=pages_ahead):
            walked += len(page.items)
            pages += 1
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows.append((TOKEN, f"walk {walked:,} contacts", pages, elapsed, 0.0, cpu, peak_rss_mb()))

    async with Client(SEND_TOKEN, base_url=base_url) as inro:
        recipients = range(1, contacts + 1)
        started, cpu = time.perf_counter(), time.process_time()
        report = await inro.messages.send_many(
            recipients,
            text="Spring sale: 20% off",
            concurrency=concurrency,  # None: default
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        label = f"send to {report.done + report.skipped:,} recipients"
        calls = report.requests  # dispatches, 429s included; the minimum counts chunks
        chunks = -(-report.total // 1000)
        rows.append((SEND_TOKEN, label, calls, elapsed, float(chunks), cpu, peak_rss_mb()))
    return rows


def show(
    rows: list[Row],
    throttled: dict[str, int],
    latency: float,
    concurrency: int | None,
    baseline: float,
) -> None:
    """The table: elapsed against the minimum for the requests the task needed."""
    from inro_async import INRO_QUOTAS

    quotas = [(q.limit, q.period) for q in INRO_QUOTAS]
    print(
        f"fake server in a child process, {latency * 1000:.0f} ms latency per request; quotas "
        + ", ".join(f"{limit:,}/{period:g}s" for limit, period in quotas)
        + f"; in flight: {concurrency or 'the defaults (walk 8 pages, send 20 chunks)'}"
        + f"; baseline RSS {baseline:.0f} MB"
    )
    print(
        f"{'task':<30}{'requests':>9}{'429s':>6}{'elapsed':>10}{'minimum':>10}"
        f"{'efficiency':>12}{'client CPU':>12}{'peak RSS':>10}"
    )
    for token, label, requests, elapsed, chunks, cpu, rss in rows:
        needed = int(chunks) if chunks else requests
        minimum = theoretical_minimum(needed, quotas, latency)
        print(
            f"{label:<30}{requests:>9,}{throttled.get(token, 0):>6}{elapsed:>9.2f}s"
            f"{minimum:>9.2f}s{minimum / elapsed:>11.1%}{cpu:>11.2f}s{rss:>7.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="pages / chunks in flight (the defaults)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.contacts, args.latency))
        return
    options = ("--contacts", str(args.contacts), "--latency", str(args.latency))
    with child_server(__file__, *options) as (server, base_url):
        baseline = peak_rss_mb()
        rows = asyncio.run(run(base_url, args.contacts, args.concurrency))
    assert server.stdout is not None
    throttled = json.loads(server.stdout.readline() or "{}")
    show(rows, throttled, args.latency, args.concurrency, baseline)


if __name__ == "__main__":
    main()
