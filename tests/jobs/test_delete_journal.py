"""``delete_journal``: a job's journal and its companions go, never while the job runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from inro_async.errors import JobLockedError, JournalUnreadableError
from inro_async.jobs import delete_journal
from inro_async.jobs._book import JournalMeta
from inro_async.jobs._stores import SqliteStore


def _journal(path: Path) -> None:
    store = SqliteStore(path)
    store.create(JournalMeta("send_many", "p", "i", 0, 0.0), [])
    store.close()


def test_delete_journal_removes_the_file_its_lock_and_sqlite_companions(tmp_path: Path) -> None:
    path = tmp_path / "spring.sqlite3"
    _journal(path)
    (tmp_path / "spring.sqlite3-wal").write_bytes(b"")  # as a killed process leaves it
    deleted = delete_journal(path)
    assert sorted(p.name for p in deleted) == [
        "spring.sqlite3",
        "spring.sqlite3-wal",
        "spring.sqlite3.lock",
    ]
    assert list(tmp_path.iterdir()) == []


def test_delete_journal_refuses_a_journal_a_job_holds(tmp_path: Path) -> None:
    path = tmp_path / "spring.sqlite3"
    _journal(path)
    running = SqliteStore(path)
    try:
        with pytest.raises(JobLockedError, match="in use by pid"):
            delete_journal(path)
    finally:
        running.close()
    assert path.is_file()


def test_delete_journal_of_nothing_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(JournalUnreadableError, match="no job journal at"):
        delete_journal(tmp_path / "nope.sqlite3")
    assert list(tmp_path.iterdir()) == []
