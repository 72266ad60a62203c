"""Issue #7, done when: worker *processes* sharing one RedisGovernor against the strict server.

Each worker is a separate Python process (``worker.py``) with its own Client and its own
connection to a real redis-server; the fake server runs in the test's event loop in sliding mode
(no interval of W seconds may hold more than L accepted requests) with quotas scaled down so a
run takes seconds: 20/1 s, 100/6 s, 250/18 s.

Tests marked ``flaky(reruns=1)`` run in real time with several processes (or one busy loop) on
two shared cores; on a loaded CI machine the fake has counted requests later than the governor's
margin allows (5-6 x 429 in 2 of 3 fresh-clone runs on 2026-11-27, 0 in 8 of 8 runs alone under a
CPU hog). One rerun absorbs that; a real regression fails both attempts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from inro_async import Client
from inro_async.governor import Quota
from inro_async.governor.local import DEFAULT_MARGIN
from inro_async.governor.redis import DEFAULT_HORIZON, HELD_FOR, RedisGovernor
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

pytestmark = [pytest.mark.redis, pytest.mark.slow]

QUOTAS = [Quota(20, 1), Quota(100, 6), Quota(250, 18)]
WORKERS = 4
PER_WORKER = 50
TOKEN = "multiprocess-token"
PROBE = "probe-token"  # a second organization, to time one round trip
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
_keys = itertools.count()


def greedy_schedule(requests: int, quotas: Sequence[Quota]) -> list[float]:
    """The earliest dispatch times under sliding windows: k goes at max over quotas t[k-L] + W."""
    times: list[float] = []
    for k in range(requests):
        times.append(max([0.0] + [times[k - q.limit] + q.period for q in quotas if k >= q.limit]))
    return times


class Worker:
    """A worker process: spawned and connected to Redis up front, sends when told."""

    def __init__(self, process: asyncio.subprocess.Process, progress: asyncio.Event) -> None:
        self.process = process
        self.ids: list[int] = []
        self.sent: list[int] = []
        self.done_at: float | None = None
        self._ready = asyncio.Event()
        self._progress = progress  # set on every send any worker reports
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(
        cls, base_url: str, redis_url: str, key: str, progress: asyncio.Event | None = None
    ) -> Worker:
        quotas = json.dumps([[q.limit, q.period] for q in QUOTAS])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER_SCRIPT),
            base_url,
            redis_url,
            key,
            TOKEN,
            quotas,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process, progress or asyncio.Event())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().split()
            if line[0] == "ready":
                self._ready.set()
            elif line[0] == "sent":
                self.sent.append(int(line[1]))
                self._progress.set()
            elif line[0] == "done":
                self.done_at = float(line[1])

    async def ready(self) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout=30)

    def go(self, contact_ids: list[int]) -> None:
        self.ids = contact_ids
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(contact_ids) + "\n").encode())

    async def finished(self) -> float:
        assert await asyncio.wait_for(self.process.wait(), timeout=60) == 0
        await self._reader
        assert self.done_at is not None
        return self.done_at

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no release of anything it holds (also cleans up after a failure)."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        await self._reader


async def start_server() -> tuple[FakeInro, Organization, str, list[int], float]:
    """The strict server, its organization, 200 active recipients and one round trip's time."""
    fake = FakeInro(mode="sliding")
    org = fake.add_organization(TOKEN, contacts=300, quotas=QUOTAS)
    fake.add_organization(PROBE, contacts=1)
    base_url = await fake.start()
    active = sorted(cid for cid, contact in org.contacts.items() if contact["status"] == "active")
    recipients = active[: WORKERS * PER_WORKER]
    assert len(recipients) == WORKERS * PER_WORKER
    async with Client(PROBE, base_url=base_url) as probe:
        await probe.me()  # connect
        round_trips = []
        for _ in range(3):
            started = time.perf_counter()
            await probe.me()
            round_trips.append(time.perf_counter() - started)
    return fake, org, base_url, recipients, min(round_trips)


def accepted(fake: FakeInro) -> list[float]:
    return [r.arrived_at for r in fake.requests if r.token == TOKEN and not r.throttled]


def bursts(arrivals: list[float], started: float) -> str:
    """Arrivals as "time:count" groups (a gap over 20 ms starts a group), for failure messages."""
    groups: list[list[float]] = []
    for t in sorted(arrivals):
        if groups and t - groups[-1][-1] < 0.02:
            groups[-1].append(t)
        else:
            groups.append([t])
    return " ".join(f"{g[0] - started:.2f}:{len(g)}" for g in groups)


@pytest.mark.flaky(reruns=1)  # real time on shared cores: see the module docstring
async def test_four_processes_send_200_messages_near_the_optimum_without_a_429(
    redis_url: str,
) -> None:
    fake, org, base_url, recipients, round_trip = await start_server()
    key = f"multiprocess-{time.time_ns()}-{next(_keys)}"
    workers: list[Worker] = []
    try:
        workers += [await Worker.spawn(base_url, redis_url, key) for _ in range(WORKERS)]
        await asyncio.gather(*(worker.ready() for worker in workers))
        started = time.time()
        for i, worker in enumerate(workers):
            worker.go(recipients[i::WORKERS])  # disjoint recipients, 50 each
        finished = max(await asyncio.gather(*(worker.finished() for worker in workers)))
    finally:
        for worker in workers:
            await worker.kill()
        await fake.close()

    elapsed = finished - started
    optimum = greedy_schedule(len(recipients), QUOTAS)[-1] + round_trip
    print(f"4 processes: {elapsed:.2f}s, optimum {optimum:.2f}s, {fake.throttled} × 429")
    assert fake.throttled == 0
    assert org.delivery_counts() == Counter(recipients)  # each of the 200 exactly once
    assert len(accepted(fake)) == len(recipients)
    assert elapsed <= 1.10 * optimum, (
        f"{elapsed:.2f}s against an optimum of {optimum:.2f}s; " + bursts(accepted(fake), started)
    )


@pytest.mark.flaky(reruns=1)  # real time on shared cores: see the module docstring
async def test_a_sigkilled_worker_leaks_no_quota_and_a_fresh_one_finishes_its_sends(
    redis_url: str,
) -> None:
    fake, org, base_url, recipients, round_trip = await start_server()
    key = f"multiprocess-{time.time_ns()}-{next(_keys)}"
    observer = RedisGovernor(redis_url, key=key, quotas=QUOTAS)
    progress = asyncio.Event()
    spawned: list[Worker] = []
    try:
        for _ in range(WORKERS + 1):
            spawned.append(await Worker.spawn(base_url, redis_url, key, progress))
        workers, fresh = spawned[:WORKERS], spawned[WORKERS]
        await asyncio.gather(*(worker.ready() for worker in spawned))
        started = time.time()
        for i, worker in enumerate(workers):
            worker.go(recipients[i::WORKERS])
        # Mid-way (half the messages sent), kill the worker with the most still to send.
        async with asyncio.timeout(60):
            while sum(len(worker.sent) for worker in workers) < len(recipients) // 2:
                progress.clear()
                await progress.wait()
        victim = min(workers, key=lambda worker: len(worker.sent))
        await victim.kill()
        killed_at = time.time()
        survivors = [worker for worker in workers if worker is not victim]
        await asyncio.sleep(0.3)  # let anything it had on the wire land
        delivered = org.delivery_counts()
        unsent = [cid for cid in victim.ids if not delivered[cid]]
        assert 0 < len(unsent) < PER_WORKER
        fresh.go(unsent)
        finished = max(await asyncio.gather(*(w.finished() for w in [*survivors, fresh])))

        elapsed = finished - started
        optimum = greedy_schedule(len(recipients), QUOTAS)[-1] + round_trip
        print(
            f"killed at {killed_at - started:.2f}s with {len(unsent)} unsent: "
            f"{elapsed:.2f}s, optimum {optimum:.2f}s"
        )
        assert fake.throttled == 0
        assert org.delivery_counts() == Counter(recipients)
        # Full rate after the kill: the whole run, dead worker included, is still near optimal.
        assert elapsed <= 1.10 * optimum, (
            f"{elapsed:.2f}s against an optimum of {optimum:.2f}s; killed at "
            f"{killed_at - started:.2f}s; " + bursts(accepted(fake), started)
        )

        # What the dead worker held: slots it reserved and never sent. The 18 s window has not
        # expired anything yet, so Redis's count there is every slot ever handed out.
        arrivals = accepted(fake)
        assert len(arrivals) == len(recipients)
        longest = (await observer.snapshot())[-1]
        leaked = longest.used - len(arrivals)
        print(f"slots stranded by the killed worker: {leaked}")
        assert 0 <= leaked <= 5, f"{leaked} reservations held by the killed worker"

        # They expire with their window, or HELD_FOR later for those it had in flight (held
        # until answers it never reported): once the last slot it could hold (kill + horizon) is
        # that far behind, Redis's count for the 1 s and 6 s quotas is exactly what the server
        # saw: arrivals within W of now (an answered slot frees W after its answer) or, at most,
        # within W + margin (±20 ms for the wire).
        wait_until = killed_at + DEFAULT_HORIZON + 6 + DEFAULT_MARGIN + HELD_FOR + 0.1
        await asyncio.sleep(max(0.0, wait_until - time.time()))
        before = time.time()
        usage = await observer.snapshot()
        after = time.time()
        for quota, item in zip(QUOTAS[:2], usage[:2], strict=True):
            span = quota.period + DEFAULT_MARGIN
            at_least = sum(1 for t in arrivals if t > after - quota.period + 0.02)
            at_most = sum(1 for t in arrivals if t > before - span - 0.02)
            assert at_least <= item.used <= at_most, (quota, item.used, at_least, at_most)
    finally:
        for worker in spawned:
            await worker.kill()
        await observer.aclose()
        await fake.close()
