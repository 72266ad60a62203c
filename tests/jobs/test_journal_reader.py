"""Reading a journal on disk: what a job did, item by item, and a clear error for a bad file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from inro_async.client import Client
from inro_async.errors import InroError, JournalUnreadableError
from inro_async.jobs import (
    ChunkStatus,
    ItemStatus,
    JobReport,
    JournalSummary,
    find_journals,
    read_journal,
)
from inro_async.jobs._items import Outcome
from inro_async.jobs._journal import Journal, JournalMeta, SqliteStore
from inro_async.testing import FakeInro

TOKEN = "reader-test-token"


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeInro, str]]:
    server = FakeInro()
    server.add_organization(TOKEN, plan="pro", contacts=3_000, seed=3)
    base_url = await server.start()
    try:
        yield server, base_url
    finally:
        await server.close()


def counts_of(report: JobReport[Any]) -> dict[ItemStatus, int]:
    return {
        ItemStatus.DONE: report.done,
        ItemStatus.SKIPPED: report.skipped,
        ItemStatus.NOT_FOUND: report.not_found,
        ItemStatus.FAILED: report.failed,
        ItemStatus.UNKNOWN: report.unknown,
        ItemStatus.PENDING: report.pending,
    }


# -- what a job left ---------------------------------------------------------------------------


async def test_the_journal_of_a_finished_send_agrees_with_its_report(
    fake: tuple[FakeInro, str], tmp_path: Path
) -> None:
    _, base_url = fake
    path = tmp_path / "promo.sqlite3"
    recipients = [*range(1, 2_001), 99_999]  # 99,999 is not found
    async with Client(TOKEN, base_url=base_url) as inro:
        report = await inro.messages.send_many(recipients, text="Hi", job=path)
    summary = read_journal(path)
    assert (summary.name, summary.kind, summary.total) == ("promo", "send_many", 2_001)
    assert summary.meta.base_url == base_url
    assert dict(summary.item_counts) == counts_of(report)
    assert summary.chunk_counts[ChunkStatus.DONE] == 3
    assert summary.updated_at >= summary.created_at
    [missing] = summary.items(ItemStatus.NOT_FOUND)
    assert (missing.position, missing.chunk) == (2_000, 2)  # the 2,001st distinct recipient


async def test_items_whose_answer_was_lost_are_unknown_with_the_error(
    fake: tuple[FakeInro, str], tmp_path: Path
) -> None:
    server, base_url = fake
    path = tmp_path / "lost.sqlite3"
    server.inject("reset_after", route="messages.send")
    async with Client(TOKEN, base_url=base_url) as inro:
        report = await inro.messages.send_many(range(1, 2_001), text="Hi", job=path)
    summary = read_journal(path)
    assert dict(summary.item_counts) == counts_of(report)
    unknown = list(summary.items(ItemStatus.UNKNOWN))
    assert len(unknown) == 1_000
    assert len({item.chunk for item in unknown}) == 1  # one request, its answer lost
    assert all(item.reason and "APIConnectionError" in item.reason for item in unknown)
    assert summary.chunk_counts[ChunkStatus.UNKNOWN] == 1


async def test_items_of_a_refused_chunk_are_failed_with_the_apis_answer(
    fake: tuple[FakeInro, str], tmp_path: Path
) -> None:
    server, base_url = fake
    path = tmp_path / "refused.sqlite3"
    server.inject("status", route="messages.send", status=400)
    async with Client(TOKEN, base_url=base_url) as inro:
        with pytest.raises(InroError):
            await inro.messages.send_many(range(1, 1_001), text="Hi", job=path)
    summary = read_journal(path)
    assert summary.item_counts[ItemStatus.FAILED] == 1_000
    reasons = {item.reason for item in summary.items(ItemStatus.FAILED)}
    assert len(reasons) == 1
    assert "400" in str(reasons.pop())


def meta(total: int = 30) -> JournalMeta:
    return JournalMeta(
        kind="send_many", payload_fingerprint="p", items_fingerprint="i", total=total
    )


def journal_with_every_state(path: Path) -> None:
    """Chunk 0 done (one not found), 1 unknown, 2 failed, 3 in flight, 4 pending."""
    journal = Journal(SqliteStore(path), meta(50), [range(i, i + 10) for i in range(0, 50, 10)])
    for index in range(4):
        journal.dispatch(index)
    journal.finish(0, [Outcome(ItemStatus.DONE)] * 9 + [Outcome(ItemStatus.NOT_FOUND, "gone")])
    journal.fail(1, "timeout", unknown=True)
    journal.fail(2, "400 bad", unknown=False)
    journal.close()  # chunk 3 is left in flight, as by a killed process


def test_every_item_is_counted_once_in_the_state_its_chunk_gives_it(tmp_path: Path) -> None:
    path = tmp_path / "states.sqlite3"
    journal_with_every_state(path)
    summary = read_journal(path)
    assert dict(summary.item_counts) == {
        ItemStatus.DONE: 9,
        ItemStatus.NOT_FOUND: 1,
        ItemStatus.UNKNOWN: 20,  # the answer lost, and the one in flight
        ItemStatus.FAILED: 10,
        ItemStatus.PENDING: 10,
        ItemStatus.SKIPPED: 0,
    }
    assert dict(summary.chunk_counts) == {
        ChunkStatus.PENDING: 1,
        ChunkStatus.IN_FLIGHT: 1,
        ChunkStatus.ACCEPTED: 0,
        ChunkStatus.DONE: 1,
        ChunkStatus.FAILED: 1,
        ChunkStatus.UNKNOWN: 1,
    }
    assert [(i.position, i.reason) for i in summary.items(ItemStatus.NOT_FOUND)] == [(9, "gone")]
    assert {i.reason for i in summary.items(ItemStatus.FAILED)} == {"400 bad"}
    assert len(list(summary.items())) == 50
    assert [i.position for i in summary.items()] == list(range(50))


def test_reading_takes_no_lock_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "states.sqlite3"
    journal_with_every_state(path)
    before = path.read_bytes()
    read_journal(path)
    assert path.read_bytes() == before
    # The in-flight chunk is still in flight: only a run (which locks) turns it unknown.
    store = SqliteStore(path)  # and the lock is free
    loaded = store.load()
    store.close()
    assert loaded is not None
    assert loaded[1][3].status is ChunkStatus.IN_FLIGHT


def test_a_read_only_journal_can_be_read(tmp_path: Path) -> None:
    path = tmp_path / "states.sqlite3"
    journal_with_every_state(path)
    path.chmod(0o444)
    try:
        assert read_journal(path).total == 50
    finally:
        path.chmod(0o644)


def test_a_job_name_is_read_from_the_jobs_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INRO_JOBS_DIR", str(tmp_path))
    journal_with_every_state(tmp_path / "spring.sqlite3")
    summary = read_journal("spring")
    assert isinstance(summary, JournalSummary)
    assert summary.path == tmp_path / "spring.sqlite3"


def test_find_journals_lists_journal_files_by_name_without_opening_them(tmp_path: Path) -> None:
    for name in ("b.sqlite3", "a.sqlite3", "a.cli.json", "b.sqlite3.lock", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert find_journals(tmp_path) == [tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"]
    assert find_journals(tmp_path / "nowhere") == []


# -- files that are not journals -----------------------------------------------------------------


def _truncated(path: Path) -> None:
    journal = Journal(
        SqliteStore(path), meta(50_000), [range(i, i + 1_000) for i in range(0, 50_000, 1_000)]
    )
    for index in range(50):
        journal.dispatch(index)
        journal.finish(index, [Outcome(ItemStatus.DONE, "queued " * 3)] * 1_000)
    journal.close()
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(size // 2)


def _execute(path: Path, statement: str) -> None:
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(statement)
    finally:
        db.close()


def _foreign(path: Path) -> None:
    _execute(path, "CREATE TABLE recipes (name TEXT)")


def _created_only(path: Path) -> None:
    SqliteStore(path).close()  # the schema, and not one row: nothing was ever recorded


def _newer_format(path: Path) -> None:
    journal_with_every_state(path)
    _execute(path, "UPDATE meta SET value = '99' WHERE key = 'version'")


def _missing_chunk(path: Path) -> None:
    journal_with_every_state(path)
    _execute(path, "DELETE FROM chunks WHERE idx = 4")


def _missing_meta(path: Path) -> None:
    journal_with_every_state(path)
    _execute(path, "DELETE FROM meta WHERE key = 'total'")


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda p: None, "no job journal at"),
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_bytes(b"id,username\n1,ana\n" * 100), "file is not a database"),
        (_truncated, "malformed"),
        (_foreign, "without the journal's tables"),
        (_created_only, "never written"),
        (_newer_format, "journal format 99"),
        (_missing_chunk, "cover 40 items, not the 50"),
        (_missing_meta, "no 'total'"),
    ],
    ids=[
        "missing",
        "empty",
        "not-sqlite",
        "truncated",
        "foreign",
        "created-only",
        "newer-format",
        "missing-chunk",
        "missing-meta",
    ],
)
def test_a_file_that_is_not_a_readable_journal_raises_a_clear_inro_error(
    tmp_path: Path, damage: Any, fragment: str
) -> None:
    path = tmp_path / "bad.sqlite3"
    damage(path)
    with pytest.raises(JournalUnreadableError, match=fragment) as caught:
        read_journal(path)
    assert isinstance(caught.value, InroError)
    assert str(path) in str(caught.value)
