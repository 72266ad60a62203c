"""Issue 15 #9: what a job says of a throttling server: 429s met, time waited, a true ETA.

Over loopback against the fake: a server whose quota is tighter than the client believes
answers most sends 429 (each repeated by the transport); a client paced by its own tight quota
meets none but spends most of the run waiting for slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from inro_async import Quota
from inro_async._http import HTTPRequest, HTTPResult, MockBackend, SendError
from inro_async._retry_policy import Retries
from inro_async.client import Client
from inro_async.jobs import send_many
from inro_async.testing import FakeInro

from .conftest import StubGovernor, body_of, json_result

TOKEN = "throttle-token"
ETA_TOLERANCE = 1.0
"""Seconds the ETA may miss by: the server lets sends go 2 a second, so chunks finish in steps
of about half a second, and a loaded machine stretches answers by a few tenths."""


async def serve(*quotas: Quota) -> FakeInro:
    server = FakeInro(quotas=quotas) if quotas else FakeInro()
    server.add_organization(TOKEN, plan="pro", contacts=10_000, seed=3)
    await server.start()
    return server


@pytest.fixture
async def tight_server() -> AsyncIterator[FakeInro]:
    """2 requests a second, 100 a minute: far less than a client's default 20 a second."""
    server = await serve(Quota(2, 1), Quota(100, 60))
    try:
        yield server
    finally:
        await server.close()


async def test_every_429_the_server_answered_is_in_the_report(tight_server: FakeInro) -> None:
    async with Client(TOKEN, base_url=tight_server.base_url) as inro:
        report = await inro.messages.send_many(range(1, 10_001), text="hi", concurrency=8)
    assert report.done + report.skipped == 10_000
    assert tight_server.throttled >= 5  # the premise: the server did throttle
    assert report.throttled == tight_server.throttled
    assert report.requests == len(tight_server.requests_to("messages.send"))
    # Ten sends at 2 a second: the run was mostly spent waiting for the server's quota.
    assert 0.5 * report.elapsed <= report.waited <= report.elapsed
    assert f"{report.throttled:,} answered 429" in str(report)
    assert "waiting for quota" in str(report)


async def test_the_eta_follows_the_pace_the_server_allows_not_the_clients_quota(
    tight_server: FakeInro,
) -> None:
    """20 sends the server lets go 2 a second: the job takes ~10 s, and the ETA says so.

    The client's governor believes 20 a second and a send's answer comes in milliseconds, so
    neither tells the time left; the pace at which chunks have been finishing under the 429s does.
    """
    loop = asyncio.get_running_loop()
    seen: list[tuple[float, float | None, int]] = []
    async with Client(TOKEN, base_url=tight_server.base_url) as inro:
        report = await inro.messages.send_many(
            range(1, 10_001),
            text="hi",
            concurrency=8,
            on_progress=lambda e: seen.append((loop.time(), e.eta, e.finished)),
        )
        ended = loop.time()
    assert report.throttled > 0
    assert ended - seen[0][0] > 4  # the premise: ten sends at 2 a second
    # Once two chunks have finished at the server's pace (the first two went before any 429).
    midway = [(at, eta) for at, eta, finished in seen if 4_000 <= finished < 10_000]
    assert len(midway) >= 5
    for at, eta in midway:
        assert eta is not None
        assert eta == pytest.approx(ended - at, abs=ETA_TOLERANCE)


async def test_a_job_paced_by_its_own_quota_reports_the_wait_and_no_429() -> None:
    server = await serve(Quota(2, 1))
    try:
        async with Client(TOKEN, base_url=server.base_url, quotas=[Quota(2, 1)]) as inro:
            report = await send_many(inro, range(1, 6_001), text="hi", chunk_size=500)
    finally:
        await server.close()
    assert (report.throttled, server.throttled) == (0, 0)
    # 12 sends, 2 a second: about 5 s of the run went to waiting for a slot.
    assert report.elapsed >= 4.5
    assert 0.8 * report.elapsed <= report.waited <= report.elapsed


async def test_an_unhindered_job_waits_next_to_nothing() -> None:
    server = await serve()
    try:
        async with Client(TOKEN, base_url=server.base_url) as inro:
            report = await inro.messages.send_many(range(1, 3_001), text="hi")
    finally:
        await server.close()
    assert report.throttled == 0
    assert report.waited <= 0.2 * report.elapsed
    assert "answered 429" not in str(report)


async def test_a_repeat_after_a_connection_that_never_opened_is_no_429() -> None:
    """The transport repeats both without effect; only the server's 429s count as throttled."""
    answers = iter(
        [
            SendError("connection refused", sent=False),
            MockBackend.result(429, b'{"error": "Rate limit exceeded"}', {"Retry-After": "0"}),
        ]
    )

    def handler(request: HTTPRequest) -> HTTPResult:
        answer = next(answers, None)
        if isinstance(answer, SendError):
            raise answer
        if answer is not None:
            return answer
        body = {"status": "queued", "accepted_count": len(body_of(request)["contact_ids"])}
        return json_result(202, body)

    client = Client(
        "test-token",
        base_url="http://inro.test/api/v1",
        governor=StubGovernor(),
        backend=MockBackend(handler),
    )
    report = await send_many(client, [1, 2, 3], text="hi")
    assert (report.done, report.requests, report.throttled) == (3, 3, 1)


async def test_the_backoff_after_a_connection_that_never_opened_is_not_a_quota_wait() -> None:
    refusals = 4

    def handler(request: HTTPRequest) -> HTTPResult:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise SendError("connection refused", sent=False)
        body = {"status": "queued", "accepted_count": len(body_of(request)["contact_ids"])}
        return json_result(202, body)

    client = Client(
        "test-token",
        base_url="http://inro.test/api/v1",
        governor=StubGovernor(),
        backend=MockBackend(handler),
        max_retries=Retries(max_retries=4, backoff_base=0.2, backoff_cap=0.2),
    )
    report = await send_many(client, [1, 2, 3], text="hi")
    assert (report.done, report.requests, report.throttled) == (3, 5, 0)
    assert report.elapsed > 0.05  # the premise: four backoffs of up to 0.2 s each
    assert report.waited < 0.02
