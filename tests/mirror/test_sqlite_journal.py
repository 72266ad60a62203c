"""SQLite: a new file's first refresh with a rollback journal and its event indexes built at
the commit; WAL from then on."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from mirror_support import client_for, server_rows, started

from inro_async.mirror import ContactMirror, MirrorProgress, _sqlite
from inro_async.mirror._sqlite import _build_indexes, _use_wal
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
                own = mirror.store._db  # type: ignore[attr-defined]
                assert own.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
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


def event_indexes(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'inro_contact_events'"
        )
        return {r[0] for r in rows}
    finally:
        db.close()


EVENT_INDEXES = {"inro_contact_events_id", "inro_contact_events_time"}


async def test_a_first_refresh_builds_the_event_indexes_at_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "crm.sqlite3"
    built: list[int] = []

    def build(db: sqlite3.Connection) -> None:
        built.append(db.execute("SELECT count(*) FROM inro_contact_events").fetchone()[0])
        _build_indexes(db)

    monkeypatch.setattr(_sqlite, "_build_indexes", build)
    fake = await started(2_000)
    try:
        async with client_for(fake) as inro, ContactMirror(path) as mirror:
            assert event_indexes(path) == EVENT_INDEXES
            await mirror.refresh(inro)
            assert built == [2_000]  # once, over every event of the first refresh
            assert event_indexes(path) == EVENT_INDEXES
            random_changes(fake.org, 10, seed=5, kinds=("updated",))
            assert (await mirror.refresh(inro)).events == 10
            assert built == [2_000]  # a later refresh keeps its indexes
            db = sqlite3.connect(path)
            with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # still enforced
                db.execute(
                    "INSERT INTO inro_contact_events (id, type, subject, time, body) "
                    "SELECT id, type, subject, time, body FROM inro_contact_events LIMIT 1"
                )
            db.close()
            plan = sqlite3.connect(path).execute(
                "EXPLAIN QUERY PLAN SELECT seq FROM inro_contact_events WHERE id = 'x'"
            )
            assert "inro_contact_events_id" in str(plan.fetchall())
    finally:
        await fake.close()


async def test_a_first_refresh_that_fails_leaves_the_indexes_and_nothing_else(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.sqlite3"
    fake = await started(5_000)
    try:
        async with client_for(fake) as inro, ContactMirror(path) as mirror:
            fake.inject("status", route="contacts.list", page=3, status=500, times=20)
            with pytest.raises(Exception) as raised:  # noqa: PT011 - any failure of the walk
                await mirror.refresh(inro)
            assert not isinstance(raised.value, AssertionError)
            assert event_indexes(path) == EVENT_INDEXES
            assert await mirror.contacts() == []
    finally:
        await fake.close()


async def test_a_file_whose_event_id_is_unique_in_the_table_is_filled_as_before(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.sqlite3"
    async with ContactMirror(path):
        pass
    db = sqlite3.connect(path, isolation_level=None)  # the schema of earlier development versions
    db.executescript(
        "DROP INDEX inro_contact_events_id;"
        "CREATE TABLE e2 AS SELECT * FROM inro_contact_events;"
        "DROP TABLE inro_contact_events; DROP TABLE e2;"
        "CREATE TABLE inro_contact_events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, subject TEXT NOT NULL,"
        " time TEXT NOT NULL, body TEXT NOT NULL);"
        "CREATE INDEX inro_contact_events_time ON inro_contact_events (time);"
    )
    db.close()
    before = event_indexes(path)
    assert before == {"sqlite_autoindex_inro_contact_events_1", "inro_contact_events_time"}
    fake = await started(1_500)
    try:
        async with client_for(fake) as inro, ContactMirror(path) as mirror:
            assert (await mirror.refresh(inro)).created == 1_500
            assert await mirror.contacts() == server_rows(fake)
        assert event_indexes(path) == before
    finally:
        await fake.close()
