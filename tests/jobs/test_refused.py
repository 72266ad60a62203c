"""Issue 15 #9d: a report tells a job the API refused as a whole from one stopped midway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from inro_async.client import Client
from inro_async.errors import AuthenticationError, NotFoundError
from inro_async.jobs import JobStatus
from inro_async.testing import FakeInro

TOKEN = "refusal-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeInro]:
    server = FakeInro()
    server.add_organization(TOKEN, plan="pro", contacts=3_000, seed=2)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def test_a_bad_token_refuses_the_job_as_a_whole(fake: FakeInro) -> None:
    async with Client("not-the-token", base_url=fake.base_url) as inro:
        job = inro.messages.send_many(range(1, 3_001), text="hi")
        with pytest.raises(AuthenticationError):
            await job
    report = job.report
    assert report is not None
    assert (report.status, report.refused, report.done) == (JobStatus.ABORTED, True, 0)
    assert report.error is not None
    assert report.error.startswith("AuthenticationError: 401")


async def test_an_unknown_scenario_refuses_the_job_as_a_whole(fake: FakeInro) -> None:
    async with Client(TOKEN, base_url=fake.base_url) as inro:
        job = inro.scenarios.trigger_many(424_242, range(1, 3_001))
        with pytest.raises(NotFoundError):
            await job
    assert job.report is not None
    assert job.report.refused


async def test_a_job_whose_later_chunk_is_refused_keeps_what_went_before(fake: FakeInro) -> None:
    async with Client(TOKEN, base_url=fake.base_url) as inro:
        job = inro.messages.send_many(range(1, 3_001), text="hi", concurrency=1)
        task = job.start()
        while not fake.requests_to("messages.send"):  # noqa: ASYNC110 - polls the fake
            await asyncio.sleep(0.001)
        fake.inject("status", route="messages.send", status=403)
        with pytest.raises(Exception, match="403"):
            await task
    report = job.report
    assert report is not None
    assert report.status is JobStatus.ABORTED
    assert report.done + report.skipped == 1_000
    assert not report.refused
