"""Sharing one quota between processes through Redis: our RedisGovernor against pyrate-limiter.

    python benchmarks/governor_redis.py [--processes 4] [--per-process 50] [--samples 2000]

Both run behind the same ``Client`` (pyrate-limiter's ``RedisBucket`` through a small adapter
to the ``Governor`` protocol) against the strict fake server (sliding windows) in a child
process, with a redis-server this script starts on 127.0.0.1. Quotas are scaled down so a run
takes seconds: 20/1 s, 100/6 s, 250/18 s.

* **added per request**: ``acquire`` + ``observe`` with no contention (one process, limits far
  away, one request at a time), p50 and p99: the Redis round trips the governor puts on the
  path of every request.
* **utilization**: N worker processes each send ``--per-process`` messages concurrently;
  the theoretical optimum (greedy schedule under sliding windows, plus one round trip) over
  the measured time.
* **429s**: what the strict server refused.

``rows()`` runs it all and returns the figures, for ``benchmarks/governor.py`` to append.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from inro_async.governor import Permit

QUOTAS: tuple[tuple[int, float], ...] = ((20, 1.0), (100, 6.0), (250, 18.0))
PROBE = "probe-token"
GOVERNORS = ("RedisGovernor", "pyrate-limiter RedisBucket")


@dataclass(frozen=True)
class Row:
    """One governor's figures."""

    governor: str
    added_p50_ms: float
    added_p99_ms: float
    processes: int
    requests: int
    elapsed: float
    optimum: float
    throttled: int
    failed: int

    @property
    def utilization(self) -> float:
        """The optimum's share of the time taken (1.0: as fast as the quotas allow)."""
        return self.optimum / self.elapsed if self.elapsed else 0.0


def greedy_schedule(requests: int, quotas: Sequence[tuple[int, float]]) -> list[float]:
    """The earliest dispatch times under sliding windows: k goes at max over quotas t[k-L] + W."""
    times: list[float] = []
    for k in range(requests):
        times.append(max([0.0] + [times[k - limit] + w for limit, w in quotas if k >= limit]))
    return times


# -- redis-server ---------------------------------------------------------------------------


@contextmanager
def redis_server() -> Iterator[str]:
    """Start redis-server on a free 127.0.0.1 port (no persistence) and yield its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("this benchmark needs redis-server on PATH")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with tempfile.TemporaryDirectory() as workdir:
        no_disk = ["--save", "", "--appendonly", "no", "--dir", workdir]
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", *no_disk],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


# -- the governors --------------------------------------------------------------------------


class PyrateGovernor:
    """pyrate-limiter's ``RedisBucket`` behind the ``Governor`` protocol.

    ``acquire`` blocks in ``Limiter.try_acquire_async``; pyrate-limiter has no notion of
    responses, so ``observe`` learns nothing (a 429 is simply retried by the transport).
    """

    def __init__(self, redis_url: str, key: str, quotas: Sequence[tuple[int, float]]) -> None:
        from inro_async.governor import Quota

        self._url = redis_url
        self._key = key
        self._quotas = [Quota(limit, period) for limit, period in quotas]
        self._limiter: Any = None
        self._redis: Any = None

    @property
    def quotas(self) -> Sequence[Any]:
        return self._quotas

    async def start(self) -> None:
        """Connect to Redis and load the bucket's script."""
        from pyrate_limiter import Limiter, Rate, RedisBucket
        from redis.asyncio import Redis

        self._redis = Redis.from_url(self._url)
        rates = [Rate(q.limit, int(q.period * 1000)) for q in self._quotas]
        bucket = await RedisBucket.init(rates, self._redis, self._key)
        self._limiter = Limiter(bucket)

    async def acquire(self, *, priority: int = 0, max_wait: float | None = None) -> Permit:
        if self._limiter is None:
            await self.start()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._limiter.try_acquire_async(self._key)
        return Permit(loop.time(), loop.time() - started)

    async def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        permit: Permit | None = None,
        elapsed: float | None = None,
    ) -> None:
        return None

    async def snapshot(self) -> list[Any]:
        return []

    async def estimate(self, n: int) -> float:
        return 0.0

    async def aclose(self) -> None:
        if self._limiter is not None:
            for bucket in self._limiter.buckets():
                self._limiter.dispose(bucket)
        if self._redis is not None:
            await self._redis.aclose()


def make_governor(name: str, redis_url: str, key: str, quotas: Sequence[tuple[int, float]]) -> Any:
    """A fresh governor of kind ``name`` (one of ``GOVERNORS``) on ``key``."""
    if name == GOVERNORS[0]:
        from inro_async.governor import Quota
        from inro_async.governor.redis import RedisGovernor

        return RedisGovernor(redis_url, key=key, quotas=[Quota(*q) for q in quotas])
    return PyrateGovernor(redis_url, key, quotas)


async def added_latency(name: str, redis_url: str, samples: int) -> list[float]:
    """Seconds ``acquire`` + ``observe`` take per request, one at a time, never throttled.

    ``observe`` gets the headers the server would send: the 1-second window's count.
    """
    roomy = [(limit * 100_000, period) for limit, period in QUOTAS]  # never binding
    governor = make_governor(name, redis_url, f"latency-{time.time_ns()}", roomy)
    limit = roomy[0][0]
    recent: deque[float] = deque()
    times = []
    for i in range(samples + 50):
        started = time.perf_counter()
        await governor.acquire()
        recent.append(time.perf_counter())
        while recent[0] <= recent[-1] - roomy[0][1]:
            recent.popleft()
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - len(recent)),
        }
        await governor.observe(202, headers)
        if i >= 50:  # warm-up: connection, script load
            times.append(time.perf_counter() - started)
    await governor.aclose()
    return times


# -- the fake server (child process) -------------------------------------------------------


async def serve(tokens: list[str], contacts: int) -> None:
    """Serve every token as its own organization; answer "stats TOKEN" lines on stdin."""
    from inro_async.governor import Quota
    from inro_async.testing import FakeInro

    fake = FakeInro(mode="sliding", quotas=[Quota(*q) for q in QUOTAS])
    for token in tokens:
        fake.add_organization(token, contacts=contacts, seed=7)
    fake.add_organization(PROBE, contacts=1)
    print(await fake.start(), flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command, token = line.split()
        assert command in ("active", "stats")
        org = fake.organizations[token]
        if command == "active":
            ids = sorted(cid for cid, c in org.contacts.items() if c["status"] == "active")
            print(json.dumps(ids), flush=True)
            continue
        mine = [r for r in fake.requests if r.token == token]
        counts = org.delivery_counts()
        stats = {
            "throttled": sum(1 for r in mine if r.throttled),
            "accepted": sum(1 for r in mine if not r.throttled),
            "delivered": len(counts),
            "repeated": sum(1 for n in counts.values() if n > 1),
        }
        print(json.dumps(stats), flush=True)
    await fake.close()


class Server:
    """The fake server's child process and its stdin/stdout protocol."""

    def __init__(self, tokens: list[str], contacts: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--contacts", str(contacts), *tokens],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.base_url = self._line()

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            raise SystemExit("the fake server stopped")
        return line

    def ask(self, command: str, token: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command} {token}\n")
        self.process.stdin.flush()
        return json.loads(self._line())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


# -- the workers (child processes) ---------------------------------------------------------


async def work(name: str, base_url: str, redis_url: str, key: str, token: str) -> None:
    """Print ready, read the recipient ids from stdin, send them all at once, print done."""
    from inro_async import Client

    governor = make_governor(name, redis_url, key, QUOTAS)
    if isinstance(governor, PyrateGovernor):  # connect to Redis before the clock starts
        await governor.start()
    else:
        await governor.snapshot()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    ids: list[int] = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    async with Client(token, base_url=base_url, governor=governor) as inro:
        results = await asyncio.gather(
            *(inro.messages.send(contact_id=cid, text="hi") for cid in ids),
            return_exceptions=True,
        )
    await governor.aclose()
    failed = sum(1 for r in results if isinstance(r, BaseException))
    print(f"done {time.time():.6f} {failed}", flush=True)


async def run_workers(
    name: str, server: Server, redis_url: str, token: str, processes: int, per_process: int
) -> tuple[float, int]:
    """Seconds from go to the last worker's last response, and sends that failed."""
    key = f"utilization-{time.time_ns()}"
    active: list[int] = server.ask("active", token)
    needed = processes * per_process
    if len(active) < needed:
        raise SystemExit(f"only {len(active)} active contacts for {needed} sends")
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--work",
            name,
            server.base_url,
            redis_url,
            key,
            token,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert (await worker.stdout.readline()).strip() == b"ready"
    started = time.time()
    for i, worker in enumerate(workers):
        assert worker.stdin is not None
        worker.stdin.write((json.dumps(active[i:needed:processes]) + "\n").encode())
    finished, failed = 0.0, 0
    for worker in workers:
        assert worker.stdout is not None
        line = (await worker.stdout.readline()).decode().split()
        await worker.wait()
        if not line or line[0] != "done":
            raise SystemExit(f"a {name} worker failed")
        finished, failed = max(finished, float(line[1])), failed + int(line[2])
    return finished - started, failed


async def round_trip(base_url: str) -> float:
    """The fastest of a few ``GET /me`` round trips to the fake server."""
    from inro_async import Client

    async with Client(PROBE, base_url=base_url) as inro:
        await inro.me()
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            await inro.me()
            best = min(best, time.perf_counter() - started)
    return best


# -- the rows -------------------------------------------------------------------------------


def rows(*, processes: int = 4, per_process: int = 50, samples: int = 2000) -> list[Row]:
    """Run every governor (starting Redis and the fake server) and return one row each.

    Call it outside an event loop (it runs its own).
    """
    names = list(GOVERNORS)
    try:
        import pyrate_limiter  # noqa: F401
    except ImportError:
        names.remove(GOVERNORS[1])
    tokens = [f"bench-{i}" for i in range(len(names))]
    contacts = 2 * processes * per_process + 100  # ~90% of generated contacts are active
    result = []
    with redis_server() as redis_url:
        server = Server(tokens, contacts)
        try:
            rtt = asyncio.run(round_trip(server.base_url))
            optimum = greedy_schedule(processes * per_process, QUOTAS)[-1] + rtt
            for name, token in zip(names, tokens, strict=True):
                added = sorted(asyncio.run(added_latency(name, redis_url, samples)))
                elapsed, failed = asyncio.run(
                    run_workers(name, server, redis_url, token, processes, per_process)
                )
                stats = server.ask("stats", token)
                result.append(
                    Row(
                        governor=name,
                        added_p50_ms=statistics.median(added) * 1000,
                        added_p99_ms=added[int(len(added) * 0.99)] * 1000,
                        processes=processes,
                        requests=processes * per_process,
                        elapsed=elapsed,
                        optimum=optimum,
                        throttled=int(stats["throttled"]),
                        failed=failed + int(stats["repeated"]),
                    )
                )
        finally:
            server.close()
    return result


HEADER = (
    f"{'governor':<28}{'added p50':>10}{'added p99':>10}{'procs':>6}{'requests':>9}"
    f"{'elapsed':>9}{'optimum':>9}{'utilization':>12}{'429s':>6}{'failed':>7}"
)


def format_row(row: Row) -> str:
    """One row under ``HEADER``."""
    return (
        f"{row.governor:<28}{row.added_p50_ms:>8.2f}ms{row.added_p99_ms:>8.2f}ms"
        f"{row.processes:>6}{row.requests:>9}{row.elapsed:>8.2f}s{row.optimum:>8.2f}s"
        f"{row.utilization:>12.1%}{row.throttled:>6}{row.failed:>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--per-process", type=int, default=50)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--contacts", type=int, default=500, help=argparse.SUPPRESS)
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.rest, args.contacts))
        return
    if args.work:
        asyncio.run(work(*args.rest))
        return
    table = rows(processes=args.processes, per_process=args.per_process, samples=args.samples)
    print(
        "fake server (sliding windows) in a child process, redis-server on loopback; quotas "
        + ", ".join(f"{limit}/{period:g}s" for limit, period in QUOTAS)
        + f"; {args.processes} worker processes x {args.per_process} concurrent sends"
    )
    print(HEADER)
    for row in table:
        print(format_row(row))


if __name__ == "__main__":
    main()
