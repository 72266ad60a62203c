"""The fan-out engine over the HTTP seam: concurrency, journal timing, unknowns, waits, stops."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inro_async._http import HTTPRequest, HTTPResult, MockBackend, SendError
from inro_async.client import Client
from inro_async.errors import AuthenticationError
from inro_async.governor._base import Permit, Priority
from inro_async.jobs._items import (
    Identifier,
    ItemStatus,
    Outcome,
    chunk_ranges,
    normalize_recipients,
    outcomes_from_echoes,
)
from inro_async.jobs._job import Job, JobOptions
from inro_async.jobs._operation import ChunkContext
from inro_async.jobs._progress import ProgressEvent
from inro_async.jobs._report import JobReport, JobStatus
from inro_async.jobs._runner import run_fanout
from inro_async.jobs.messages import is_fatal_for_all

from .conftest import StubGovernor, body_of, json_result

Handler = Callable[[HTTPRequest], Any]


@dataclass(frozen=True)
class PostChunk:
    """A stand-in operation: POST the chunk's ids, read not_found echoes back."""

    kind: str = "send_many"
    idempotent: bool = False
    requests_per_chunk: float = 1.0

    def payload_fingerprint(self) -> str:
        return "message"

    def keys_text(self, items: Sequence[Identifier]) -> str:
        return "".join(f"{item}\x1e" for item in items)

    async def run_chunk(self, ctx: ChunkContext, items: Sequence[Identifier]) -> list[Outcome]:
        response = await ctx.client.request(
            "POST", "/messages", json={"contact_ids": [i.value for i in items], "content": "hi"}
        )
        return outcomes_from_echoes(items, not_found=response.json()["not_found"])

    def is_fatal(self, error: BaseException) -> bool:
        return is_fatal_for_all(error)


class Server:
    """Records deliveries per contact id; answers 202 like POST /messages."""

    def __init__(self) -> None:
        self.deliveries: Counter[int] = Counter()
        self.calls = 0
        self.missing: set[int] = set()

    def accept(self, request: HTTPRequest) -> HTTPResult:
        self.calls += 1
        ids = body_of(request)["contact_ids"]
        for contact_id in ids:
            if contact_id not in self.missing:
                self.deliveries[contact_id] += 1
        not_found = [{"id": i} for i in ids if i in self.missing]
        return json_result(202, {"status": "queued", "not_found": not_found})


def make_client(handler: Handler, governor: StubGovernor | None = None) -> Client:
    return Client(
        "test-token",
        base_url="http://inro.test/api/v1",
        governor=governor or StubGovernor(),
        backend=MockBackend(handler),
        max_retries=0,
    )


def job_of(
    client: Client,
    ids: Sequence[int],
    *,
    chunk_size: int = 10,
    operation: Any = None,
    **options: Any,
) -> Job[JobReport[Any]]:
    unique = normalize_recipients(ids)
    opts = JobOptions.build(
        job=options.pop("job", None),
        concurrency=options.pop("concurrency", 4),
        chunk_size=chunk_size,
        resend_unknown=options.pop("resend_unknown", None),
        stop_when_blocked_over=options.pop("stop_when_blocked_over", None),
        on_progress=options.pop("on_progress", None),
    )
    opts = dataclasses.replace(opts, cancel_grace=options.pop("cancel_grace", 0.2))
    assert not options
    ranges = chunk_ranges(len(unique.keys), chunk_size)
    return run_fanout(client, operation or PostChunk(), unique, ranges, opts)


def chunk_statuses(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT status FROM chunks ORDER BY idx")]


async def test_every_recipient_is_sent_once_in_chunks_at_bulk_priority() -> None:
    server = Server()
    server.missing = {7}
    governor = StubGovernor()
    report = await job_of(make_client(server.accept, governor), list(range(1, 101)))
    assert server.calls == 10
    assert set(server.deliveries.values()) == {1}
    assert report.done == 99
    assert report.not_found_items() == [7]
    assert report.status is JobStatus.COMPLETED
    assert set(governor.priorities) == {Priority.BULK}


async def test_at_most_concurrency_chunks_are_in_flight() -> None:
    in_flight = peak = 0
    server = Server()

    async def slow(request: HTTPRequest) -> HTTPResult:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return server.accept(request)

    report = await job_of(make_client(slow), list(range(1, 301)), concurrency=3)
    assert peak == 3
    assert report.done == 300


async def test_in_flight_is_committed_before_the_request_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite3"
    seen: list[list[str]] = []
    server = Server()

    def check(request: HTTPRequest) -> HTTPResult:
        seen.append(chunk_statuses(path))  # another connection sees the committed state
        return server.accept(request)

    await job_of(make_client(check), list(range(1, 31)), job=path, concurrency=1)
    assert seen == [
        ["in_flight", "pending", "pending"],
        ["done", "in_flight", "pending"],
        ["done", "done", "in_flight"],
    ]


async def test_a_reset_after_sending_makes_the_chunk_unknown_and_a_rerun_does_not_resend_it(
    tmp_path: Path,
) -> None:
    server = Server()
    path = tmp_path / "job.sqlite3"

    def reset_second_chunk(request: HTTPRequest) -> HTTPResult:
        result = server.accept(request)
        if body_of(request)["contact_ids"][0] == 11:
            raise SendError("connection reset by peer", sent=True)
        return result

    ids = list(range(1, 31))
    first = await job_of(make_client(reset_second_chunk), ids, job=path)
    assert (first.done, first.unknown) == (20, 10)
    assert first.unknown_items() == list(range(11, 21))
    assert "may have reached the server" in str(first)
    assert "resend_unknown=True" in str(first)

    calls = server.calls
    second = await job_of(make_client(server.accept), ids, job=path)
    assert server.calls == calls  # nothing sent again
    assert (second.skipped, second.unknown) == (20, 10)
    assert max(server.deliveries.values()) == 1

    third = await job_of(make_client(server.accept), ids, job=path, resend_unknown=True)
    assert third.done == 10
    assert server.deliveries[11] == 2  # the user asked for it


async def test_a_refused_chunk_is_failed_and_sent_again_by_a_rerun(tmp_path: Path) -> None:
    server = Server()
    path = tmp_path / "job.sqlite3"

    def refuse_first(request: HTTPRequest) -> HTTPResult:
        if body_of(request)["contact_ids"][0] == 1:
            return json_result(503, {"error": "try later"})  # a POST 5xx: may have been processed
        return server.accept(request)

    def cannot_connect(request: HTTPRequest) -> HTTPResult:
        if body_of(request)["contact_ids"][0] == 11:
            raise SendError("cannot connect", sent=False)
        return server.accept(request)

    report = await job_of(make_client(refuse_first), list(range(1, 21)), job=path)
    assert report.unknown == 10
    path2 = tmp_path / "job2.sqlite3"
    report = await job_of(make_client(cannot_connect), list(range(1, 21)), job=path2)
    assert report.failed == 10
    assert report.failed_items() == list(range(11, 21))
    rerun = await job_of(make_client(server.accept), list(range(1, 21)), job=path2)
    assert (rerun.done, rerun.skipped) == (10, 10)


async def test_an_error_every_chunk_would_hit_aborts_the_job(tmp_path: Path) -> None:
    def unauthorized(request: HTTPRequest) -> HTTPResult:
        return json_result(401, {"error": "Unauthorized"})

    job = job_of(make_client(unauthorized), list(range(1, 101)), job=tmp_path / "j.db")
    with pytest.raises(AuthenticationError) as caught:
        await job
    report = job.report
    assert report is not None
    assert report.status is JobStatus.ABORTED
    assert report.failed <= 40  # only the chunks already sent (at most 4 at once) were refused
    assert report.pending == 100 - report.failed
    assert any("job.report" in note for note in caught.value.__notes__)
    assert chunk_statuses(tmp_path / "j.db").count("in_flight") == 0


async def test_a_long_quota_wait_is_announced_and_the_job_resumes() -> None:
    server = Server()
    governor = StubGovernor(block_at={3: 0.05})
    events: list[ProgressEvent] = []
    report = await job_of(
        make_client(server.accept, governor),
        list(range(1, 51)),
        concurrency=1,
        on_progress=events.append,
    )
    kinds = [e.kind for e in events]
    assert kinds[0] == "started"
    assert kinds[-1] == "finished"
    assert kinds.index("waiting") < kinds.index("resumed")
    waiting = next(e for e in events if e.kind == "waiting")
    assert waiting.quota == "100000/86400s"
    assert waiting.waiting_until is not None
    assert "waiting until" in str(waiting)
    assert report.done == 50
    assert governor.max_waits[0] == 10.0


async def test_a_429_then_a_long_wait_puts_the_chunk_back_to_pending(tmp_path: Path) -> None:
    server = Server()
    governor = StubGovernor(block_at={2: 7200})
    responses = iter([json_result(429, {"error": "Rate limit"}, {"Retry-After": "1"})])

    def throttle_once(request: HTTPRequest) -> HTTPResult:
        return next(responses, None) or server.accept(request)

    path = tmp_path / "job.sqlite3"
    report = await job_of(
        make_client(throttle_once, governor),
        list(range(1, 21)),
        job=path,
        concurrency=1,
        stop_when_blocked_over=3600,
    )
    assert report.status is JobStatus.PAUSED
    assert report.pending == 20
    assert report.unknown == 0
    assert chunk_statuses(path) == ["pending", "pending"]
    assert report.resume_at is not None
    assert "paused" in str(report)

    resumed = await job_of(make_client(server.accept), list(range(1, 21)), job=path)
    assert resumed.done == 20


async def test_stop_finishes_sent_chunks_and_starts_no_more(tmp_path: Path) -> None:
    server = Server()
    job: Job[JobReport[Any]] | None = None

    def stop_after_two(request: HTTPRequest) -> HTTPResult:
        result = server.accept(request)
        if server.calls == 2 and job is not None:
            job.stop()
        return result

    path = tmp_path / "job.sqlite3"
    job = job_of(make_client(stop_after_two), list(range(1, 101)), job=path, concurrency=1)
    report = await job
    assert report.status is JobStatus.STOPPED
    assert (report.done, report.pending) == (20, 80)
    rest = await job_of(make_client(server.accept), list(range(1, 101)), job=path)
    assert (rest.done, rest.skipped) == (80, 20)
    assert rest.earlier == {ItemStatus.DONE: 20}
    assert set(server.deliveries.values()) == {1}


async def test_cancelling_gives_sent_requests_time_to_answer(tmp_path: Path) -> None:
    server = Server()
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def slow(request: HTTPRequest) -> HTTPResult:
        arrived.set()
        await release.wait()
        return server.accept(request)

    path = tmp_path / "job.sqlite3"
    task = job_of(make_client(slow), list(range(1, 11)), job=path).start()
    await arrived.wait()
    task.cancel()
    await asyncio.sleep(0.01)
    release.set()  # the answer arrives during the grace period
    with pytest.raises(asyncio.CancelledError):
        await task
    assert chunk_statuses(path) == ["done"]


async def test_cancelling_marks_unanswered_chunks_unknown_and_waiting_ones_pending(
    tmp_path: Path,
) -> None:
    arrived = asyncio.Event()

    async def never(request: HTTPRequest) -> HTTPResult:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError

    governor = StubGovernor()
    path = tmp_path / "job.sqlite3"
    job = job_of(make_client(never, governor), list(range(1, 31)), job=path, concurrency=2)
    task = job.start()
    await arrived.wait()
    await asyncio.sleep(0)
    governor.hold.clear()  # the next chunk waits for a slot when the cancel comes
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)
    statuses = chunk_statuses(path)
    assert statuses.count("unknown") == 2
    assert statuses.count("pending") == 1
    report = job.report
    assert report is not None
    assert report.unknown == 20


async def test_events_iterator_sees_the_whole_run() -> None:
    server = Server()
    job = job_of(make_client(server.accept), list(range(1, 51)))
    events = [event async for event in job.events()]
    report = await job
    assert events[0].kind == "started"
    assert events[-1].kind == "finished"
    assert events[-1].status == "completed"
    assert events[-1].done == report.done == 50
    assert events[-1].fraction == 1.0


async def test_same_job_name_with_another_message_refuses_to_resume(tmp_path: Path) -> None:
    from inro_async.jobs._journal import JobMismatchError

    server = Server()
    path = tmp_path / "job.sqlite3"
    await job_of(make_client(server.accept), [1, 2, 3], job=path)

    @dataclass(frozen=True)
    class OtherMessage(PostChunk):
        def payload_fingerprint(self) -> str:
            return "another message"

    with pytest.raises(JobMismatchError, match="different message"):
        await job_of(make_client(server.accept), [1, 2, 3], job=path, operation=OtherMessage())


class BrokenGovernor(StubGovernor):
    """A governor whose backend is gone: every acquire raises before anything is sent."""

    async def acquire(self, *, priority: int = 0, max_wait: float | None = None) -> Permit:
        self.acquires += 1
        raise RuntimeError("the shared governor's Redis is unreachable")


async def test_a_governor_failing_before_any_send_aborts_with_its_own_error(
    tmp_path: Path,
) -> None:
    server = Server()
    job = job_of(
        make_client(server.accept, BrokenGovernor()), list(range(1, 101)), job=tmp_path / "j.db"
    )
    with pytest.raises(RuntimeError, match="Redis is unreachable"):
        await job
    report = job.report
    assert report is not None
    assert report.status is JobStatus.ABORTED
    assert server.calls == 0
    assert report.failed >= 1
    assert report.failed + report.pending == 100
    assert all("Redis is unreachable" in reason for reason in report.errors())
    assert set(chunk_statuses(tmp_path / "j.db")) == {"pending"}  # a rerun sends everything
