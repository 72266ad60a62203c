"""Where a journal's records live: the ``Store`` protocol, in memory, and in one SQLite file.

A store keeps a ``JournalMeta`` and the ``ChunkRecord``s of one job and nothing else: it knows
no rule of the chunk book (``_book.py``) and the book knows no store. The SQLite schema lives
here only; a store for another database implements the same five methods, plus a way to read a
journal without locking it (``read_sqlite_journal`` for this one).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Protocol

from inro_async.errors import JobLockedError, JournalUnreadableError, JournalWriteError
from inro_async.jobs._book import ChunkRecord, ChunkStatus, JournalMeta, record_problem

__all__ = ["MemoryStore", "SqliteStore", "Store", "read_sqlite_journal"]


class Store(Protocol):
    """Where a journal's records live."""

    def load(self) -> tuple[JournalMeta, list[ChunkRecord]] | None:
        """The stored meta and chunks, or ``None`` for a new journal."""
        ...

    def create(self, meta: JournalMeta, records: Sequence[ChunkRecord]) -> None:
        """Store a new journal in one transaction."""
        ...

    def save(self, records: Sequence[ChunkRecord]) -> None:
        """Durably store changed records, in one transaction."""
        ...

    def adopt_identity(self, meta: JournalMeta) -> None:
        """Record ``meta``'s base URL and token fingerprint in a journal that had none."""
        ...

    def close(self) -> None:
        """Release the file and the lock."""
        ...


class MemoryStore:
    """A store that forgets: unnamed jobs keep their bookkeeping in memory only."""

    def __init__(self) -> None:
        self.meta: JournalMeta | None = None
        self.records: dict[int, ChunkRecord] = {}
        self.saves = 0

    def load(self) -> tuple[JournalMeta, list[ChunkRecord]] | None:
        """``None`` until ``create`` was called."""
        if self.meta is None:
            return None
        return self.meta, list(self.records.values())

    def create(self, meta: JournalMeta, records: Sequence[ChunkRecord]) -> None:
        """Keep the meta and records."""
        self.meta = meta
        self.records = {r.index: r for r in records}

    def save(self, records: Sequence[ChunkRecord]) -> None:
        """Keep the changed records."""
        self.saves += 1
        for record in records:
            self.records[record.index] = record

    def adopt_identity(self, meta: JournalMeta) -> None:
        """Keep ``meta``'s identity."""
        if self.meta is not None:
            self.meta = replace(
                self.meta, base_url=meta.base_url, token_fingerprint=meta.token_fingerprint
            )

    def close(self) -> None:
        """Nothing to release."""


# -- SQLite ------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    idx INTEGER PRIMARY KEY,
    start INTEGER NOT NULL,
    stop INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    checkpoint TEXT,
    outcomes TEXT,
    reasons TEXT,
    error TEXT,
    updated_at REAL NOT NULL
);
"""

_COLUMNS = "idx, start, stop, status, attempts, checkpoint, outcomes, reasons, error, updated_at"
# Built from the constant column list above, never from input.
_INSERT = f"INSERT INTO chunks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_REPLACE = f"INSERT OR REPLACE INTO chunks ({_COLUMNS}) VALUES ({', '.join('?' * 10)})"  # noqa: S608
_SELECT = f"SELECT {_COLUMNS} FROM chunks ORDER BY idx"  # noqa: S608


def _identity_rows(meta: JournalMeta) -> list[tuple[str, str]]:
    rows = [("base_url", meta.base_url), ("token_fingerprint", meta.token_fingerprint)]
    return [(key, value) for key, value in rows if value is not None]


def _row(record: ChunkRecord) -> tuple[object, ...]:
    return (
        record.index,
        record.start,
        record.stop,
        record.status.value,
        record.attempts,
        record.checkpoint,
        record.outcomes,
        record.reasons,
        record.error,
        record.updated_at,
    )


def _unreadable(path: Path, problem: str) -> JournalUnreadableError:
    return JournalUnreadableError(
        f"{str(path)!r} is not a readable job journal ({problem}); "
        "use another job name or delete the file"
    )


def _meta(path: Path, rows: Mapping[str, str]) -> JournalMeta:
    try:
        return JournalMeta(
            kind=rows["kind"],
            payload_fingerprint=rows["payload_fingerprint"],
            items_fingerprint=rows["items_fingerprint"],
            total=int(rows["total"]),
            created_at=float(rows["created_at"]),
            version=int(rows["version"]),
            # Absent from journals written before the identity was recorded.
            base_url=rows.get("base_url"),
            token_fingerprint=rows.get("token_fingerprint"),
        )
    except KeyError as exc:
        raise _unreadable(path, f"no {exc.args[0]!r} in its meta table") from None
    except (TypeError, ValueError) as exc:
        raise _unreadable(path, f"a bad value in its meta table: {exc}") from None


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not an integer")
    return value


def _text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def _record(path: Path, row: Sequence[object]) -> ChunkRecord:
    """One chunk row, checked: a damaged row is refused here, not misread later."""
    try:
        index, start, stop, status, attempts, checkpoint, outcomes, reasons, error, at = row
        if not isinstance(at, int | float):
            raise ValueError(f"{at!r} is not a time")
        record = ChunkRecord(
            index=_int(index),
            start=_int(start),
            stop=_int(stop),
            status=ChunkStatus(str(status)),
            attempts=_int(attempts),
            checkpoint=_text(checkpoint),
            outcomes=_text(outcomes),
            reasons=_text(reasons),
            error=_text(error),
            updated_at=float(at),
        )
    except ValueError as exc:
        raise _unreadable(path, f"a damaged chunk row: {exc}") from None
    problem = record_problem(record)
    if problem is not None:
        raise _unreadable(path, f"chunk {record.index} has {problem}")
    return record


def _read(path: Path, db: sqlite3.Connection) -> tuple[JournalMeta, list[ChunkRecord]] | None:
    meta_rows: dict[str, str] = dict(db.execute("SELECT key, value FROM meta"))
    if not meta_rows:
        return None
    return _meta(path, meta_rows), [_record(path, row) for row in db.execute(_SELECT)]


def read_sqlite_journal(path: Path) -> tuple[JournalMeta, list[ChunkRecord]]:
    """A journal file's meta and chunks, read without taking its lock (the job may be running).

    Raises ``JournalUnreadableError`` for a missing, empty, corrupt or foreign file.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise JournalUnreadableError(f"no job journal at {str(path)!r}") from None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    if size == 0:
        raise _unreadable(path, "the file is empty: truncated, or never written")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _unreadable(path, str(exc)) from None
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        if not {"meta", "chunks"} <= tables:
            raise _unreadable(path, "an SQLite file without the journal's tables")
        loaded = _read(path, db)
    except sqlite3.Error as exc:
        raise _unreadable(path, f"SQLite says: {exc}") from None
    finally:
        db.close()
    if loaded is None:
        raise _unreadable(path, "it was created but never written: nothing was sent")
    return loaded


def lock_journal(path: Path) -> IO[str]:
    """Take the advisory lock of the journal at ``path``; the open lock file holds it.

    Raises ``JobLockedError`` when another process holds it (a job running this journal).
    Closing the returned file releases the lock.
    """
    lock_file = open(lock_path(path), "a+")  # noqa: SIM115 - held open
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock, documented
        return lock_file
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.seek(0)
        owner = lock_file.read().strip() or "another process"
        lock_file.close()
        raise JobLockedError(
            f"the job journal {str(path)!r} is in use by {owner}; wait for it to finish "
            "(a killed process releases it at once)"
        ) from None
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(f"pid {os.getpid()}")
    lock_file.flush()
    return lock_file


def lock_path(path: Path) -> Path:
    """The lock file beside the journal at ``path``."""
    return path.with_name(path.name + ".lock")


class SqliteStore:
    """One SQLite file per job, locked against a second process running the same job.

    Each ``save`` is one transaction committed with ``synchronous=FULL`` (fsync on commit), so a
    record that was saved survives a killed process and a power cut. The lock is an advisory
    ``flock`` on ``<journal>.lock``: the OS drops it when the process dies, so a crash never
    leaves a job locked.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_file = lock_journal(path)
        except OSError as exc:
            raise _write_failed(path, exc) from None
        try:
            self._db = self._open(path)
        except BaseException:
            self._lock_file.close()
            raise

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        """Connect, refusing a file that exists but is not a journal.

        Such a file is neither taken for a new job (which would resend what it had recorded)
        nor given a journal's tables.
        """
        if path.exists() and path.stat().st_size == 0:
            raise _unreadable(path, "the file is empty: truncated, or never written")
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per save.
        db = sqlite3.connect(path, isolation_level=None)
        try:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
            if tables and not {"meta", "chunks"} <= tables:
                raise _unreadable(path, "an SQLite file without the journal's tables")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            db.close()
            if isinstance(exc, sqlite3.OperationalError):  # locked, read-only, disk full
                raise _write_failed(path, exc) from None
            raise _unreadable(path, f"SQLite says: {exc}") from None
        except BaseException:
            db.close()
            raise
        return db

    def __repr__(self) -> str:
        return f"<SqliteStore {str(self.path)!r}>"

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite's failures to write become ``JournalWriteError``."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have rolled back
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            raise _write_failed(self.path, exc) from None

    def load(self) -> tuple[JournalMeta, list[ChunkRecord]] | None:
        """The stored meta and chunks, or ``None`` for a new file."""
        try:
            return _read(self.path, self._db)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise _write_failed(self.path, exc) from None
            raise _unreadable(self.path, f"SQLite says: {exc}") from None

    def create(self, meta: JournalMeta, records: Sequence[ChunkRecord]) -> None:
        """Write the meta and every chunk in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("kind", meta.kind),
                    ("payload_fingerprint", meta.payload_fingerprint),
                    ("items_fingerprint", meta.items_fingerprint),
                    ("total", str(meta.total)),
                    ("created_at", repr(meta.created_at)),
                    ("version", str(meta.version)),
                    *_identity_rows(meta),
                ],
            )
            db.executemany(_INSERT, _rows(records))

    def save(self, records: Sequence[ChunkRecord]) -> None:
        """Replace the given chunks' rows in one durable transaction."""
        if not records:
            return
        with self._transaction() as db:
            db.executemany(_REPLACE, _rows(records))

    def adopt_identity(self, meta: JournalMeta) -> None:
        """Write ``meta``'s base URL and token fingerprint, in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", _identity_rows(meta)
            )

    def close(self) -> None:
        """Close the database and release the lock."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._lock_file.close()


def _write_failed(path: Path, exc: BaseException) -> JournalWriteError:
    """Why the journal at ``path`` could not be used, with what to do about it."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return JournalWriteError(
        f"the job journal {str(path)!r} could not be written ({reason}); the job stopped. "
        "Nothing that may have been sent is forgotten: free some space or fix the file's "
        "permissions and run the job again to resume it"
    )


def _rows(records: Iterable[ChunkRecord]) -> list[tuple[object, ...]]:
    return [_row(r) for r in records]
