"""Reading a named job's journal: how far it got, and which items failed and why.

A journal holds positions, not identifiers: item ``position`` is the item's place in the job's
list of distinct items, in the order they were first given (duplicates removed). Reading takes
no lock and writes nothing, so a running job can be inspected too::

    from inro_async.jobs import ItemStatus, find_journals, read_journal

    summary = read_journal("spring")
    print(summary.kind, summary.item_counts[ItemStatus.DONE], "of", summary.total)
    for item in summary.items(ItemStatus.FAILED, ItemStatus.UNKNOWN):
        print(item.position, item.status.label, item.reason)

A file that is not a journal this version can read (missing, empty, corrupt, another program's)
raises ``JournalUnreadableError``; ``find_journals`` lists files without opening them, so one bad
file never hides the others. ``delete_journal`` removes a job's journal, never one a running
job holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from inro_async.errors import JournalUnreadableError
from inro_async.jobs._book import (
    JOURNAL_FORMAT,
    ChunkRecord,
    ChunkStatus,
    JournalMeta,
    item_counts,
    item_outcomes,
    records_problem,
)
from inro_async.jobs._items import ItemStatus
from inro_async.jobs._journal import JOURNAL_SUFFIX, jobs_directory, journal_path
from inro_async.jobs._stores import lock_journal, lock_path, read_sqlite_journal

__all__ = ["JournalItem", "JournalSummary", "delete_journal", "find_journals", "read_journal"]


class JournalItem(NamedTuple):
    """One item as its job's journal has it."""

    position: int
    """Its place in the job's list of distinct items, in first-given order (from 0)."""
    status: ItemStatus
    reason: str | None
    """The API's reason or the error, when there is one."""
    chunk: int
    """The chunk (request) that carries it."""


@dataclass(frozen=True, slots=True)
class JournalSummary:
    """A job's journal as read from disk: what it was for and where each chunk and item stands."""

    path: Path
    meta: JournalMeta
    """What the journal was created for (kind, fingerprints, total, where it ran)."""
    chunk_counts: Mapping[ChunkStatus, int]
    """Chunks per status, every status present (0 when none)."""
    item_counts: Mapping[ItemStatus, int]
    """Items per status, every status present; they add up to ``total``."""
    updated_at: float
    """When the journal last changed (epoch seconds)."""
    _records: tuple[ChunkRecord, ...] = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        """The job's name: the file name without ``.sqlite3``."""
        return self.path.name.removesuffix(JOURNAL_SUFFIX)

    @property
    def kind(self) -> str:
        """The operation: ``send_many``, ``update_many`` or ``trigger_many``."""
        return self.meta.kind

    @property
    def total(self) -> int:
        """Distinct items in the job."""
        return self.meta.total

    @property
    def created_at(self) -> float:
        """When the job first ran (epoch seconds)."""
        return self.meta.created_at

    def items(self, *statuses: ItemStatus) -> Iterator[JournalItem]:
        """The items in one of ``statuses`` (every item when none is given), in order."""
        wanted = set(statuses) or set(ItemStatus)
        for record in self._records:
            counts = item_counts(record)
            if not any(counts[status] for status in wanted):
                continue
            for offset, outcome in enumerate(item_outcomes(record)):
                if outcome.status in wanted:
                    yield JournalItem(
                        record.start + offset, outcome.status, outcome.reason, record.index
                    )


def read_journal(job: str | os.PathLike[str]) -> JournalSummary:
    """Read a job's journal without locking it: ``job`` is a name or a path, as for ``job=``.

    Raises ``JournalUnreadableError`` when there is no journal there, or the file is empty,
    corrupt, truncated, another program's, or in a format this version does not read.
    """
    path = journal_path(job)
    meta, records = read_sqlite_journal(path)
    if meta.version != JOURNAL_FORMAT:
        raise JournalUnreadableError(
            f"{str(path)!r} was written in journal format {meta.version}; this version of "
            f"inro_async reads format {JOURNAL_FORMAT}"
        )
    problem = records_problem(records, meta.total)
    if problem is not None:
        raise JournalUnreadableError(f"{str(path)!r} is a damaged job journal: {problem}")
    chunks = dict.fromkeys(ChunkStatus, 0)
    items = dict.fromkeys(ItemStatus, 0)
    for record in records:
        chunks[record.status] += 1
        for status, count in item_counts(record).items():
            items[status] += count
    updated = max((r.updated_at for r in records), default=meta.created_at)
    return JournalSummary(
        path=path,
        meta=meta,
        chunk_counts=chunks,
        item_counts=items,
        updated_at=max(updated, meta.created_at),
        _records=tuple(records),
    )


def find_journals(directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """The journal files of named jobs in ``directory`` (default: the jobs directory), by name.

    Nothing is opened: read each with ``read_journal``, which may refuse a damaged one.
    """
    where = Path(directory) if directory is not None else jobs_directory()
    if not where.is_dir():
        return []
    return sorted(p for p in where.glob(f"*{JOURNAL_SUFFIX}") if p.is_file())


_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite may keep beside a database: its write-ahead log, shared memory, rollback."""


def delete_journal(job: str | os.PathLike[str]) -> list[Path]:
    """Delete a job's journal and the files SQLite and its lock keep beside it; what was deleted.

    ``job`` is a name or a path, as for ``job=``. The journal's lock is taken first, so the
    journal of a job running right now is left alone (``JobLockedError``). A damaged journal is
    deleted like any other. Raises ``JournalUnreadableError`` when there is no journal there.
    """
    path = journal_path(job)
    files = [path, *(path.with_name(path.name + suffix) for suffix in _SQLITE_COMPANIONS)]
    if not any(file.exists() for file in files):
        raise JournalUnreadableError(f"no job journal at {str(path)!r}")
    lock = lock_journal(path)
    deleted: list[Path] = []
    try:
        for file in files:
            try:
                file.unlink()
            except FileNotFoundError:
                continue
            deleted.append(file)
        lock_path(path).unlink(missing_ok=True)
        deleted.append(lock_path(path))
    finally:
        lock.close()
    return deleted
