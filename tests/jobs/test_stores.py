"""The stores: what a journal keeps, on a real SQLite file, locked against a second process."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from inro_async.errors import JobLockedError, JournalUnreadableError
from inro_async.jobs._book import ChunkBook, ChunkStatus, JournalMeta
from inro_async.jobs._items import ItemStatus, Outcome
from inro_async.jobs._stores import MemoryStore, SqliteStore, Store, read_sqlite_journal

META = JournalMeta(kind="send_many", payload_fingerprint="p", items_fingerprint="i", total=20)


def fresh(store: Store) -> ChunkBook:
    book = ChunkBook.from_ranges([range(0, 10), range(10, 20)])
    store.create(META, list(book))
    return book


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_store_gives_back_the_meta_and_the_latest_record_of_every_chunk(
    kind: str, tmp_path: Path
) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "j.sqlite3")
    assert store.load() is None
    book = fresh(store)
    store.save([book.dispatch(0, 1.0) or book[0]])
    store.save([book.finish(0, [Outcome(ItemStatus.DONE, "ok")] * 10, 2.0)])
    loaded = store.load()
    store.close()
    assert loaded is not None
    meta, records = loaded
    assert meta == META
    assert sorted(records, key=lambda r: r.index) == list(book)


def test_what_a_sqlite_store_saved_is_there_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    store = SqliteStore(path)
    book = fresh(store)
    store.save([book.dispatch(1, 1.0) or book[1]])
    store.close()
    reopened = SqliteStore(path)
    loaded = reopened.load()
    reopened.close()
    assert loaded is not None
    assert [r.status for r in loaded[1]] == [ChunkStatus.PENDING, ChunkStatus.IN_FLIGHT]


def test_a_second_process_cannot_open_a_running_job(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite3"
    first = SqliteStore(path)
    try:
        with pytest.raises(JobLockedError, match="in use by pid"):
            SqliteStore(path)
    finally:
        first.close()
    SqliteStore(path).close()  # released on close


@pytest.mark.parametrize(
    ("update", "fragment"),
    [
        ("status = 'sent'", "'sent' is not a valid ChunkStatus"),
        ("outcomes = 'DD', status = 'done'", "2 outcomes for 10 items"),
        ("start = 'zero'", "'zero' is not an integer"),
    ],
)
def test_a_damaged_chunk_row_is_refused_when_loaded(
    tmp_path: Path, update: str, fragment: str
) -> None:
    path = tmp_path / "job.sqlite3"
    store = SqliteStore(path)
    fresh(store)
    store.close()
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE chunks SET {update} WHERE idx = 0")  # noqa: S608 - constant
    store = SqliteStore(path)
    try:
        with pytest.raises(JournalUnreadableError, match=fragment) as caught:
            store.load()
    finally:
        store.close()
    assert str(path) in str(caught.value)


def test_a_journal_is_read_while_its_job_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite3"
    running = SqliteStore(path)
    try:
        book = fresh(running)
        running.save([book.dispatch(0, 1.0) or book[0]])
        meta, records = read_sqlite_journal(path)
    finally:
        running.close()
    assert meta == META
    assert [r.status for r in records] == [ChunkStatus.IN_FLIGHT, ChunkStatus.PENDING]


def _truncated(path: Path) -> None:
    store = SqliteStore(path)
    book = ChunkBook.from_ranges([range(i, i + 1_000) for i in range(0, 50_000, 1_000)])
    store.create(replace(META, total=50_000), list(book))
    store.close()
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)


def _foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE recipes (name TEXT)")
    db.close()


def open_and_load(path: Path) -> None:
    """What a run does first with its journal."""
    store = SqliteStore(path)
    try:
        store.load()
    finally:
        store.close()


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_bytes(b"id,username\n1,ana\n" * 100), "file is not a database"),
        (_truncated, "malformed"),
        (_foreign, "without the journal's tables"),
    ],
    ids=["empty", "not-sqlite", "truncated", "foreign"],
)
def test_a_file_that_is_not_a_journal_is_refused_and_left_as_it_was(
    tmp_path: Path, damage: Callable[[Path], None], fragment: str
) -> None:
    path = tmp_path / "job.sqlite3"
    damage(path)
    before = path.read_bytes()
    for _ in range(2):  # refused each time: the first refusal released the lock
        with pytest.raises(JournalUnreadableError, match=fragment):
            open_and_load(path)
    assert path.read_bytes() == before


def test_a_journal_created_but_never_written_is_a_new_one(tmp_path: Path) -> None:
    """Killed between creating the tables and the first record: nothing was sent yet."""
    path = tmp_path / "job.sqlite3"
    SqliteStore(path).close()
    store = SqliteStore(path)
    assert store.load() is None
    store.close()
