"""The journal: every move of the book stored before it is acted on, and where journals live."""

from __future__ import annotations

from pathlib import Path

import pytest

from inro_async.errors import InvalidArgumentError
from inro_async.jobs._items import ItemStatus, Outcome
from inro_async.jobs._journal import (
    ChunkStatus,
    JobMismatchError,
    Journal,
    JournalMeta,
    MemoryStore,
    SqliteStore,
    journal_path,
)

P, F, D, U = ChunkStatus.PENDING, ChunkStatus.IN_FLIGHT, ChunkStatus.DONE, ChunkStatus.UNKNOWN


def meta(
    kind: str = "send_many", payload: str = "p", items: str = "i", total: int = 30
) -> JournalMeta:
    return JournalMeta(kind=kind, payload_fingerprint=payload, items_fingerprint=items, total=total)


def ranges(n: int = 3) -> list[range]:
    return [range(i * 10, i * 10 + 10) for i in range(n)]


def test_a_sqlite_journal_survives_reopening_and_recovers_in_flight_chunks(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite3"
    journal = Journal(SqliteStore(path), meta(), ranges(), name="job")
    assert not journal.resumed
    journal.dispatch(0)
    journal.finish(0, [Outcome(ItemStatus.DONE)] * 10)
    journal.dispatch(1)  # the process "dies" here, mid-request
    journal.close()

    reopened = Journal(SqliteStore(path), meta(), ranges(), name="job")
    assert reopened.resumed
    assert [r.status for r in reopened.book] == [D, U, P]
    assert reopened.book[1].error == "interrupted while in flight"
    assert reopened.book[0].attempts == 1
    reopened.close()


@pytest.mark.parametrize(
    ("changed", "fragment"),
    [
        (meta(payload="other"), "different message"),
        (meta(items="other"), "different list of items"),
        (meta(kind="update_many"), "is a send_many job, not update_many"),
    ],
)
def test_same_name_different_job_refuses_to_resume(
    tmp_path: Path, changed: JournalMeta, fragment: str
) -> None:
    path = tmp_path / "job.sqlite3"
    Journal(SqliteStore(path), meta(), ranges(), name="newsletter").close()
    store = SqliteStore(path)
    with pytest.raises(JobMismatchError, match=fragment):
        Journal(store, changed, ranges(), name="newsletter")
    store.close()


def test_memory_store_keeps_the_same_bookkeeping_without_a_file() -> None:
    store = MemoryStore()
    journal = Journal(store, meta(), ranges())
    journal.dispatch(2)
    assert store.records[2].status is F
    assert store.saves == 1


def test_job_names_go_to_the_jobs_directory_and_paths_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INRO_JOBS_DIR", str(tmp_path))
    assert journal_path("newsletter-2026") == tmp_path / "newsletter-2026.sqlite3"
    assert journal_path("runs/a.db") == Path("runs/a.db")
    assert journal_path(tmp_path / "x") == tmp_path / "x"
    with pytest.raises(InvalidArgumentError, match="job"):
        journal_path("no spaces please")
