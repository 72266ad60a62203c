"""A job bigger than the day quota, under a simulated clock: it waits, says so, and resumes on time.

No socket: the HTTP seam (``MockBackend``) answers ``POST /messages``, and every request is judged
by a strict sliding-window limiter at the loop's (virtual) time, so a single request over any
quota would come back 429. ``tests/virtual_time.py`` jumps the clock whenever every task waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from virtual_time import run_virtual

from inro_async._http import HTTPRequest, HTTPResult, MockBackend
from inro_async.client import Client
from inro_async.governor._base import INRO_QUOTAS, Quota
from inro_async.governor.local import LocalGovernor
from inro_async.jobs import JobStatus, ProgressEvent, send_many
from inro_async.jobs._job import DEFAULT_CONCURRENCY

ROUND_TRIP = 1.0
"""Allowance for one virtual-time round trip (dispatch to response)."""


class StrictWindows:
    """Stand-in judge: no interval of length W holds more than L accepted requests."""

    def __init__(self, quotas: Sequence[Quota]) -> None:
        self.quotas = quotas
        self.logs: list[deque[float]] = [deque() for _ in quotas]

    def admit(self, now: float) -> bool:
        for quota, log in zip(self.quotas, self.logs, strict=True):
            while log and log[0] <= now - quota.period:
                log.popleft()
            if len(log) >= quota.limit:
                return False
        for log in self.logs:
            log.append(now)
        return True


class FakeMessages:
    """``POST /messages`` at virtual time: judged, then 202 with every recipient accepted."""

    def __init__(self, loop: asyncio.AbstractEventLoop, quotas: Sequence[Quota]) -> None:
        self.loop = loop
        self.judge = StrictWindows(quotas)
        self.sent_at: list[float] = []
        self.throttled = 0

    def __call__(self, request: HTTPRequest) -> HTTPResult:
        now = self.loop.time()
        if not self.judge.admit(now):
            self.throttled += 1
            return MockBackend.result(
                429, b'{"error": "Rate limit exceeded"}', {"Retry-After": "1"}
            )
        recipients = msgspec.json.decode(request.body or b"{}")
        self.sent_at.append(now)
        count = sum(len(v) for k, v in recipients.items() if k.startswith("contact_"))
        body = {"status": "queued", "accepted_count": count, "not_found": [], "skipped": []}
        return MockBackend.result(202, msgspec.json.encode(body))


def client_for(server: FakeMessages, quotas: Sequence[Quota]) -> Client:
    return Client(
        "test-token",
        base_url="http://inro.test/api/v1",
        governor=LocalGovernor(quotas),
        backend=MockBackend(server),
    )


@pytest.mark.timeout(300)  # 150,000 requests through the whole stack: ~80 s on a slow 2-core VM
def test_a_150000_request_job_waits_out_the_day_quota_and_resumes_when_the_first_slot_frees() -> (
    None
):
    """Real quotas (20/s, 1,000/min, 10,000/h, 100,000/day), one recipient per request."""
    events: list[ProgressEvent] = []

    async def main() -> tuple[FakeMessages, object]:
        server = FakeMessages(asyncio.get_running_loop(), INRO_QUOTAS)
        job = send_many(
            client_for(server, INRO_QUOTAS),
            range(1, 150_001),
            text="Your order shipped",
            chunk_size=1,
            on_progress=events.append,
        )
        return server, await job

    server, report = run_virtual(main)
    sent = server.sent_at
    assert server.throttled == 0
    assert len(sent) == 150_000
    assert report.done == 150_000  # type: ignore[attr-defined]

    # The first day-quota wait (later ones come as the first day's requests leave one by one).
    day_wait = next(e for e in events if e.kind == "waiting" and e.quota == "100000/86400s")
    paused_at = sent[0] + day_wait.elapsed
    assert day_wait.waiting_for is not None
    # The pause comes when the day window is full: right after the 100,000th request...
    assert sent[99_999] <= paused_at < sent[99_999] + 1
    # (the chunks still in flight when the notice is raised finish just after it)
    assert 100_000 - DEFAULT_CONCURRENCY <= day_wait.done <= 100_000
    # ...and the 100,001st goes exactly when the governor said its first slot frees,
    assert abs(sent[100_000] - (paused_at + day_wait.waiting_for)) < 1e-6
    # which is one day after the first request (late by at most the governor's log resolution
    # of W/2000 and a round trip: a slot frees W after its entry's last response, and in virtual
    # time a round trip includes the loop's jumps while a chunk waits on its journal write;
    # never early: the judge would have said 429).
    assert 86_400 <= sent[100_000] - sent[0] <= 86_400 + 86_400 / 2000 + ROUND_TRIP
    assert sent[100_000] - sent[99_999] > 12 * 3600  # nothing in between
    assert [e.kind for e in events].count("resumed") >= 1


def test_a_job_told_to_stop_when_blocked_pauses_and_a_rerun_resumes_it(tmp_path: Path) -> None:
    """Quotas /100 (10/min, 100/h, 1,000/day; 20/s kept): the same shape, 1,500 sends."""
    quotas = (Quota(20, 1), Quota(10, 60), Quota(100, 3600), Quota(1000, 86400))
    journal = tmp_path / "promo.sqlite3"

    async def main() -> tuple[FakeMessages, object, object]:
        server = FakeMessages(asyncio.get_running_loop(), quotas)
        client = client_for(server, quotas)
        options = dict(
            text="hi", chunk_size=1, job=journal, stop_when_blocked_over=timedelta(hours=2)
        )
        first = await send_many(client, range(1, 1501), **options)  # type: ignore[arg-type]
        # Come back when the day quota frees (per the governor), and run the same job again.
        usage = await client.governor.snapshot()
        await asyncio.sleep(max(u.free_in for u in usage if u.quota.period == 86400))
        second = await send_many(client, range(1, 1501), **options)  # type: ignore[arg-type]
        return server, first, second

    server, first, second = run_virtual(main)
    assert first.status is JobStatus.PAUSED  # type: ignore[attr-defined]
    assert first.done == 1000  # type: ignore[attr-defined]
    assert first.pending == 500  # type: ignore[attr-defined]
    assert "paused" in str(first)
    assert second.status is JobStatus.COMPLETED  # type: ignore[attr-defined]
    assert (second.done, second.skipped) == (500, 1000)  # type: ignore[attr-defined]
    assert server.throttled == 0
    assert len(server.sent_at) == 1500
    assert server.sent_at[1000] - server.sent_at[0] >= 86_400
