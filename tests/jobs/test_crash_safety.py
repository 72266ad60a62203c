"""A killed process leaves a journal that never re-sends what the server processed.

A SIGKILL leaves exactly what was committed, so a copy of the journal taken at an arbitrary
moment (SQLite's backup API reads the committed state) is what a crash at that moment leaves.
Hypothesis picks the moments, the latencies and which answers get lost.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inro_async._http import HTTPRequest, HTTPResult, SendError
from inro_async.errors import JournalUnreadableError
from inro_async.jobs._journal import ChunkStatus, Journal, JournalMeta, SqliteStore

from .conftest import body_of
from .test_runner import Server, job_of, make_client


def snapshot(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kill_after=st.floats(min_value=0.0, max_value=0.04),
    kill_at=st.integers(min_value=0, max_value=50),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    lose_answers=st.floats(min_value=0.0, max_value=0.5),
    concurrency=st.integers(min_value=1, max_value=4),
)
def test_a_crash_at_any_moment_never_leads_to_a_second_send(
    tmp_path: Path,
    kill_after: float,
    kill_at: int,
    seed: int,
    lose_answers: float,
    concurrency: int,
) -> None:
    rng = random.Random(seed)
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    path, crashed = directory / "job.sqlite3", directory / "crashed.sqlite3"
    server = Server()
    processed: set[int] = set()  # chunk numbers (first id // 10) the server acted on

    async def handler(request: HTTPRequest) -> HTTPResult:
        await asyncio.sleep(rng.uniform(0, 0.002))
        result = server.accept(request)
        processed.add((body_of(request)["contact_ids"][0] - 1) // 10)
        await asyncio.sleep(rng.uniform(0, 0.002))
        if rng.random() < lose_answers:
            raise SendError("connection reset", sent=True)
        return result

    processed_at_crash: set[int] = set()

    async def scenario() -> None:
        job = job_of(make_client(handler), list(range(1, 201)), job=path, concurrency=concurrency)
        task = job.start()
        await asyncio.wait({task}, timeout=kill_after)
        for _ in range(kill_at):  # then a few loop steps, to land between any two of them
            if task.done():
                break
            await asyncio.sleep(0)
        snapshot(path, crashed)  # what SIGKILL would leave at this moment
        processed_at_crash.update(processed)
        await task

    asyncio.run(scenario())

    with sqlite3.connect(crashed) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        stored = dict(db.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
    if not stored:  # killed before the journal was created: nothing can have been sent
        assert not processed_at_crash
        return
    meta = JournalMeta("send_many", stored["payload_fingerprint"], stored["items_fingerprint"], 200)
    journal = Journal(SqliteStore(crashed), meta, [], name="crashed")
    try:
        for record in journal.book:
            if record.index in processed_at_crash:
                # processed before the crash: a rerun must not send it again on its own
                assert record.status in (ChunkStatus.DONE, ChunkStatus.UNKNOWN), record
            if record.status is ChunkStatus.DONE:
                assert record.index in processed_at_crash
        rerun_sends = set(journal.book.to_run(resend_unknown=False))
        assert not rerun_sends & processed_at_crash
    finally:
        journal.close()


def test_a_journal_truncated_to_nothing_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    """A file that lost what it recorded must not pass for a new job: that would resend all."""
    path = tmp_path / "job.sqlite3"
    server = Server()

    async def handler(request: HTTPRequest) -> HTTPResult:
        return server.accept(request)

    async def run() -> None:
        await job_of(make_client(handler), list(range(1, 101)), job=path)
        path.write_bytes(b"")  # what a full disk or a careless copy can leave
        with pytest.raises(JournalUnreadableError, match="the file is empty"):
            await job_of(make_client(handler), list(range(1, 101)), job=path)

    asyncio.run(run())
    assert server.calls == 10
    assert set(server.deliveries.values()) == {1}
