"""A journal that cannot be written stops the job with an ``InroError``, and resumes cleanly.

A full disk is real here: the job runs in a child process whose file size limit
(``RLIMIT_FSIZE``) is reached while the journal grows, so SQLite's own write fails mid-job, as
on a full disk. The fake server lives in the test's loop, so the rerun (with room to write)
meets the same server and we can count what each recipient received.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from inro_async import Quota
from inro_async.client import Client
from inro_async.errors import InroError, JournalWriteError
from inro_async.jobs import send_many
from inro_async.jobs._job import DEFAULT_CONCURRENCY
from inro_async.jobs._stores import SqliteStore
from inro_async.testing import FakeInro

TOKEN = "journal-storage-token"
FAST = (Quota(10_000, 1),)
RECIPIENTS = 3_000
CHUNK = 10

CHILD = """
import asyncio, json, resource, signal, sys
from inro_async import Quota
from inro_async.client import Client
from inro_async.errors import InroError
from inro_async.jobs import send_many

async def main(base_url: str, journal: str, count: int, limit: int) -> None:
    async with Client(sys.argv[5], base_url=base_url, quotas=(Quota(10_000, 1),)) as inro:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        try:
            await send_many(inro, range(1, count + 1), text="hi", job=journal, chunk_size=10)
        except InroError as exc:
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
            return
    print(json.dumps({"error": None}))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
"""


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeInro, Any, str]]:
    server = FakeInro(quotas=FAST)
    org = server.add_organization(TOKEN, contacts=RECIPIENTS, seed=5)
    base_url = await server.start()
    try:
        yield server, org, base_url
    finally:
        await server.close()


async def run_with_file_limit(base_url: str, journal: Path, limit: int) -> dict[str, Any]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        base_url,
        str(journal),
        str(RECIPIENTS),
        str(limit),
        TOKEN,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == 0, err.decode()
    assert b"Traceback" not in err, err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize("limit", [20_000, 120_000, 400_000])
async def test_a_full_disk_mid_job_stops_it_with_an_inro_error_and_the_rerun_sends_the_rest_once(
    fake: tuple[FakeInro, Any, str], tmp_path: Path, limit: int
) -> None:
    server, org, base_url = fake
    journal = tmp_path / "promo.sqlite3"

    stopped = await run_with_file_limit(base_url, journal, limit)
    assert stopped["error"] == "JournalWriteError", stopped
    assert str(journal) in stopped["message"]
    assert "run the job again" in stopped["message"]
    delivered_before = set(org.delivery_counts())
    assert len(delivered_before) < RECIPIENTS  # it stopped part-way (or before the first send)
    requests_before = len(server.requests)

    async with Client(TOKEN, base_url=base_url, quotas=FAST) as inro:
        report = await send_many(
            inro, range(1, RECIPIENTS + 1), text="hi", job=journal, chunk_size=CHUNK
        )
    counts = org.delivery_counts()
    assert max(counts.values()) == 1  # nobody received it twice
    unknown = set(report.unknown_items())
    # Unknown: only chunks the journal had recorded in flight when it could write no more (at
    # most one per concurrent task); each either reached the server or was about to.
    assert len(unknown) <= DEFAULT_CONCURRENCY * CHUNK
    sent_again = {
        cid
        for r in server.requests[requests_before:]
        if r.route == "messages.send"
        for cid in r.body["contact_ids"]
    }
    assert not sent_again & unknown  # an unknown chunk is reported, never sent blindly again
    assert not sent_again & delivered_before
    # Everyone else was delivered exactly once, or skipped by the server (not active).
    assert report.done + report.skipped + len(unknown) == RECIPIENTS
    assert set(counts) | unknown >= set(range(1, RECIPIENTS + 1)) - skipped_ids(org)
    assert not (delivered_before - set(counts))


def skipped_ids(org: Any) -> set[int]:
    return {cid for cid, c in org.contacts.items() if c["status"] != "active"}


def test_a_journal_in_a_folder_that_cannot_be_made_is_an_inro_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the journal's folder should be")
    with pytest.raises(InroError, match="could not be written") as caught:
        SqliteStore(blocker / "job.sqlite3")
    assert type(caught.value) is JournalWriteError
