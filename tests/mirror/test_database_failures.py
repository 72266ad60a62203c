"""The database failing mid-refresh is a ``MirrorUnavailableError``; the next refresh recovers.

Both failures are real: PostgreSQL's server ends the mirror's connection in the middle of a
walk (``pg_terminate_backend``), and SQLite meets a full disk (a child process whose file size
limit the mirror's writes reach). Either way nothing of the refresh is kept (one transaction),
the error is an ``InroError`` that names the database and never its password, and the next
refresh reconnects and brings the mirror level with the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import asyncpg
import pytest
from mirror_support import client_for, server_rows, started

from inro_async.errors import InroError, MirrorUnavailableError
from inro_async.mirror import ContactMirror
from inro_async.testing.churn import random_changes

CHILD = """
import asyncio, json, resource, signal, sys
from inro_async import Client, Quota
from inro_async.errors import InroError
from inro_async.mirror import ContactMirror

async def main(base_url: str, path: str, limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails: EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    async with Client("test-token", base_url=base_url, quotas=(Quota(100_000, 1),)) as inro:
        try:
            async with ContactMirror(path) as mirror:
                await mirror.refresh(inro)
        except InroError as exc:
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
            return
    print(json.dumps({"error": None}))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_a_postgres_connection_lost_mid_walk_is_an_inro_error_and_the_next_refresh_recovers(
    postgres_where: str, postgres_url: str
) -> None:
    where = postgres_where
    fake = await started(3_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            before = await mirror.contacts()
            random_changes(fake.org, 40, seed=3, kinds=("updated",))
            fake.inject("latency", route="contacts.list", times=10, seconds=0.3)
            refresh = asyncio.create_task(mirror.refresh(inro, full=True))
            while not fake.requests_to("contacts.list"):  # noqa: ASYNC110 - the fake's own log
                await asyncio.sleep(0.01)
            admin = await asyncpg.connect(postgres_url)
            try:
                ended = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    where.rsplit("/", 1)[1],
                )
            finally:
                await admin.close()
            assert ended == 1
            with pytest.raises(MirrorUnavailableError, match="nothing changed") as raised:
                await refresh
            assert isinstance(raised.value, InroError)
            assert where.rsplit("/", 1)[1] in str(raised.value)
            report = await mirror.refresh(inro, full=True)  # reconnects
            assert report.updated == 40
            assert await mirror.contacts() == server_rows(fake)
            assert await mirror.contacts() != before
    finally:
        await fake.close()


async def test_a_full_disk_mid_refresh_is_an_inro_error_and_the_next_refresh_recovers(
    tmp_path: Path,
) -> None:
    fake = await started(3_000)
    path = tmp_path / "crm.sqlite3"
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            str(fake.base_url),
            str(path),
            str(400_000),  # the first mirror of 3,000 contacts writes several MB
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        out, err = await asyncio.wait_for(child.communicate(), timeout=60)
        assert child.returncode == 0, err.decode()
        assert b"Traceback" not in err, err.decode()
        result = json.loads(out)
        assert result["error"] == "MirrorUnavailableError", result
        assert str(path) in result["message"]
        assert "disk I/O error" in result["message"]  # the cause, not a later symptom
        async with client_for(fake) as inro, ContactMirror(path) as mirror:
            report = await mirror.refresh(inro)
            assert report.created == 3_000  # the failed refresh left nothing behind
            assert await mirror.contacts() == server_rows(fake)
            assert len([e async for e in mirror.events()]) == 3_000
    finally:
        await fake.close()
