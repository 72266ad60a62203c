"""SQLite's journal: a new file's first refresh with a rollback journal, WAL from its commit on."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from mirror_support import client_for, server_rows, started

from inro_async.mirror import ContactMirror, MirrorProgress
from inro_async.mirror._sqlite import _use_wal
from inro_async.testing.churn import random_changes


def journal_mode(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        db.close()


async def test_a_new_file_is_written_with_a_rollback_journal_then_turns_to_wal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.sqlite3"
    seen: list[str] = []

    def on_progress(event: MirrorProgress) -> None:
        if event.phase == "page":  # which journal the open transaction writes (no lock taken)
            seen.extend(n for n in ("journal", "wal") if Path(f"{path}-{n}").exists())

    fake = await started(2_500)
    try:
        async with client_for(fake) as inro:
            mirror = ContactMirror(path, on_progress=on_progress)
            async with mirror:
                assert journal_mode(path) == "delete"  # created, nothing refreshed yet
                await mirror.refresh(inro)
                assert journal_mode(path) == "wal"
                assert set(seen) == {"journal"}  # every page of the first refresh
                seen.clear()
                random_changes(fake.org, 10, seed=3, kinds=("updated",))
                assert (await mirror.refresh(inro)).events == 10
                assert set(seen) == {"wal"}
                assert await mirror.contacts() == server_rows(fake)
    finally:
        await fake.close()


def test_a_file_busy_when_it_should_turn_to_wal_is_left_for_the_next_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.sqlite3"
    db = sqlite3.connect(path, isolation_level=None, timeout=60)
    db.execute("CREATE TABLE t (x)")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # a read transaction holds the file
    started = time.monotonic()
    _use_wal(db)  # neither an error nor a 60-second wait
    assert time.monotonic() - started < 5
    assert journal_mode(path) == "delete"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 60_000
    reader.execute("COMMIT")
    reader.close()
    _use_wal(db)
    assert journal_mode(path) == "wal"
    db.close()


async def test_a_file_left_in_rollback_mode_turns_to_wal_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    fake = await started(1_200)
    try:
        async with client_for(fake) as inro, ContactMirror(path) as mirror:
            await mirror.refresh(inro)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=DELETE")  # as if the turn had been refused every time
        db.close()
        async with ContactMirror(path) as mirror:
            assert journal_mode(path) == "wal"
            assert len(await mirror.contacts()) == 1_200
    finally:
        await fake.close()
