"""The SQLite mirror store: stdlib ``sqlite3`` on one worker thread, off the event loop.

Stdlib rather than aiosqlite: nothing to install, and aiosqlite is this same design (one
thread per connection) with a dependency. WAL lets ``inro sync events --follow`` read while a
refresh writes. A new file starts in SQLite's rollback-journal mode and turns to WAL after its
first commit: that first refresh writes every contact, and in WAL mode it would write it twice
(to the log, then the checkpoint copies it into the file, each with an ``fsync``); with a
rollback journal, a new file's pages go straight into the file and the journal keeps only the
few pages that existed before. Both are atomic and durable (``synchronous=FULL``); the cost is
that readers wait while that first refresh commits (there is nothing to read before it).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from inro_async.errors import MirrorMismatchError, MirrorUnavailableError
from inro_async.mirror._rows import COLUMNS, Row
from inro_async.mirror._sqlite_tx import EVENT_INDEXES, Tx, decode_row, done
from inro_async.mirror._store import KIND, SCHEMA_VERSION

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS inro_mirror_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inro_contacts (
    id INTEGER PRIMARY KEY,
    {
    ", ".join(
        f"{c} TEXT"
        if c not in ("is_follower", "follower_count", "follower_growth")
        else f"{c} NUMERIC"
        for c in COLUMNS[1:]
    )
},
    synced_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inro_contact_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    time TEXT NOT NULL,
    body TEXT NOT NULL
);
"""
_SCHEMA += "".join(
    sql.replace("INDEX {}", "INDEX IF NOT EXISTS {}").format(name) + ";\n"
    for name, sql in EVENT_INDEXES.items()
)
_QUEUED_AT_MOST = 4
"""Writes queued on the store's thread before a refresh waits for the oldest."""
_BUSY_SECONDS = 60.0
"""How long a refresh waits for another one writing the same file."""
_WAL_WAIT_MS = 100
"""How long turning a file to WAL waits for other connections (it tries again after a commit)."""


class SQLiteStore:
    """A mirror in a SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.description = str(self.path)
        self.failures: tuple[type[Exception], ...] = (sqlite3.Error, OSError)
        """What this database raises when it fails (``ContactMirror`` turns it into an error)."""
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="inro-mirror-sqlite")
        self._queued: list[asyncio.Future[object]] = []
        self._failed: sqlite3.Error | None = None
        """The error that ended the transaction in progress, if one did."""
        self.variables = 999
        """Placeholders one statement may have (SQLite's limit, read when the file opens)."""

    def in_transaction(
        self, work: Callable[[sqlite3.Connection], T]
    ) -> Callable[[sqlite3.Connection], T]:
        """``work``, refused once the refresh's transaction is gone (on the store's thread).

        After some errors (a full disk, an I/O error) SQLite rolls the transaction back by
        itself; a write queued behind the failed one would then commit on its own, and half a
        refresh would stay. Each write checks first, and repeats the error that ended it.
        """

        def guarded(db: sqlite3.Connection) -> T:
            if not db.in_transaction:
                raise sqlite3.OperationalError(
                    f"{self._failed or 'an earlier error'} (SQLite rolled the refresh's "
                    "transaction back)"
                )
            try:
                return work(db)
            except sqlite3.Error as exc:
                self._failed = exc
                raise

        return guarded

    async def submit(self, work: Callable[[sqlite3.Connection], object]) -> None:
        """Queue a write on the store's thread without waiting for it.

        The thread keeps the order, so a later read sees it; ``drain`` waits, and raises what
        failed. The next page is decoded and compared while this one is written.
        """
        db = self._db
        if db is None:
            raise RuntimeError("the mirror store is not open")
        loop = asyncio.get_running_loop()
        self._queued.append(loop.run_in_executor(self._thread, work, db))
        if len(self._queued) > _QUEUED_AT_MOST:  # memory: a few pages of writes at most
            await self._queued.pop(0)

    async def drain(self) -> None:
        """Wait for every queued write; raise the first that failed."""
        queued, self._queued = self._queued, []
        results = await asyncio.gather(*queued, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` on the store's thread."""
        db = self._db
        if db is None:
            raise RuntimeError("the mirror store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._thread, work, db)

    async def open(self) -> dict[str, str]:
        """Open (or create) the file and check it is a mirror this version can use."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._open)

    def _open(self) -> dict[str, str]:
        if self.path.is_dir():
            raise MirrorUnavailableError(f"{self.path} is a directory, not a mirror file")
        if not self.path.parent.is_dir():
            raise MirrorUnavailableError(
                f"{self.path}: the folder {self.path.parent} does not exist"
            )
        try:
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=_BUSY_SECONDS
            )
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            db.execute("PRAGMA synchronous=FULL").close()  # whatever the build: durable commits
        except sqlite3.DatabaseError as exc:
            raise MirrorMismatchError(f"{self.path} is not a mirror (not SQLite: {exc})") from None
        try:
            state = _check(db, tables, str(self.path))
            if "cursor" in state:  # refreshed before, turned to WAL then (unless it was busy)
                _use_wal(db)
            if not tables:  # rollback-journal mode until the first commit: see the docstring
                db.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
                db.executemany(
                    "INSERT INTO inro_mirror_state (key, value) VALUES (?, ?)",
                    [("kind", KIND), ("schema_version", str(SCHEMA_VERSION))],
                )
                state = {"kind": KIND, "schema_version": str(SCHEMA_VERSION)}
        except BaseException:
            db.close()
            raise
        self.variables = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._db = db
        return state

    async def close(self) -> None:
        """Close the file."""
        if self._db is not None:
            db, self._db = self._db, None
            await asyncio.get_running_loop().run_in_executor(self._thread, db.close)
        self._thread.shutdown(wait=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One refresh: ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error)."""
        self._failed = None
        try:
            await self.run(lambda db: done(db.execute("BEGIN IMMEDIATE")))
        except sqlite3.OperationalError as exc:
            raise MirrorUnavailableError(
                f"{self.path}: {exc} (another refresh has been writing it for "
                f"{_BUSY_SECONDS:g}s); nothing changed"
            ) from None
        tx = Tx(self)
        try:
            yield tx
            await self.drain()
            if tx.indexes_dropped:  # a duplicate event id fails here, before the commit
                await self.run(self.in_transaction(_build_indexes))
        except BaseException:
            await asyncio.shield(self._roll_back())
            raise
        await self.run(lambda db: done(db.execute("COMMIT")))
        await self.run(_use_wal)

    async def _roll_back(self) -> None:
        queued, self._queued = self._queued, []
        await asyncio.gather(*queued, return_exceptions=True)  # the thread runs them in order
        await self.run(_roll_back_if_open)

    async def events_after(self, seq: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` events after position ``seq``."""
        rows = await self.run(
            lambda db: db.execute(
                "SELECT seq, body FROM inro_contact_events WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        )
        return [(int(s), json.loads(body)) for s, body in rows]

    async def position_of(self, event_id: str) -> int | None:
        """The position of an event."""
        row = await self.run(
            lambda db: db.execute(
                "SELECT seq FROM inro_contact_events WHERE id = ?", (event_id,)
            ).fetchone()
        )
        return None if row is None else int(row[0])

    async def position_before(self, time: str) -> int:
        """The position just before the first event at or after ``time``."""
        row = await self.run(
            lambda db: db.execute(
                "SELECT min(seq) FROM inro_contact_events WHERE time >= ?", (time,)
            ).fetchone()
        )
        if row[0] is None:
            last = await self.run(
                lambda db: db.execute("SELECT max(seq) FROM inro_contact_events").fetchone()
            )
            return int(last[0] or 0)
        return int(row[0]) - 1

    async def prune(self, before: str) -> int:
        """Delete events older than ``before``."""
        return await self.run(
            lambda db: done(db.execute("DELETE FROM inro_contact_events WHERE time < ?", (before,)))
        )

    async def contacts(self) -> Iterable[Row]:
        """Every row, in id order."""
        rows = await self.run(
            lambda db: db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM inro_contacts ORDER BY id"  # noqa: S608
            ).fetchall()
        )
        return [decode_row(r) for r in rows]


def _build_indexes(db: sqlite3.Connection) -> None:
    for name, sql in EVENT_INDEXES.items():
        db.execute(sql.format(name)).close()


def _use_wal(db: sqlite3.Connection) -> None:
    """Turn the file to WAL mode if it is not yet; when others hold it, leave it for later."""
    if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    db.execute(f"PRAGMA busy_timeout={_WAL_WAIT_MS}").close()
    try:
        db.execute("PRAGMA journal_mode=WAL").close()
    except sqlite3.OperationalError:  # another connection's transaction: the next commit tries
        pass
    finally:
        db.execute(f"PRAGMA busy_timeout={int(_BUSY_SECONDS * 1000)}").close()


def _check(db: sqlite3.Connection, tables: set[str], where: str) -> dict[str, str]:
    if not tables:
        return {}
    if "inro_mirror_state" not in tables:
        raise MirrorMismatchError(
            f"{where} is another program's SQLite database (no inro_mirror_state table); "
            "it is left untouched: give a new file"
        )
    state = dict(db.execute("SELECT key, value FROM inro_mirror_state").fetchall())
    return check_state(state, where)


def check_state(state: dict[str, str], where: str) -> dict[str, str]:
    """The state table, if it is a mirror's of a schema this version reads."""
    if state.get("kind") != KIND:
        raise MirrorMismatchError(f"{where} is not an inro_async contact mirror")
    version = int(state.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise MirrorMismatchError(
            f"{where} has mirror schema version {version}, newer than this version's "
            f"{SCHEMA_VERSION}: upgrade inro-async"
        )
    return state


def _roll_back_if_open(db: sqlite3.Connection) -> None:
    if db.in_transaction:  # SQLite may have rolled it back already, after a full disk
        db.execute("ROLLBACK")
