"""One refresh's reads and writes on a SQLite mirror, run on the store's worker thread.

``SQLiteStore.transaction`` hands a ``Tx`` to the refresh; every statement it runs checks that the
transaction is still open (``SQLiteStore.in_transaction``), so a write can never commit alone.
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from inro_async.mirror._rows import COLUMNS, JSON_COLUMNS, EncodedEvent, Row, canonical_json

if TYPE_CHECKING:
    from inro_async.mirror._sqlite import SQLiteStore

EVENT_INDEXES = {
    "inro_contact_events_id": "CREATE UNIQUE INDEX {} ON inro_contact_events (id)",
    "inro_contact_events_time": "CREATE INDEX {} ON inro_contact_events (time)",
}
"""The events' indexes, by name. A file made by an earlier development version has the id's as
``UNIQUE`` in the table (``sqlite_autoindex_…``): the same constraint, but it cannot be dropped."""

_UPSERT = (  # column names are constants
    f"INSERT OR REPLACE INTO inro_contacts ({', '.join(COLUMNS)}, synced_at) VALUES "  # noqa: S608
)
_INSERT_EVENTS = "INSERT INTO inro_contact_events (id, type, subject, time, body) VALUES "


def done(cursor: sqlite3.Cursor) -> int:
    """Close a cursor on the store's thread (never let another thread finalize it): rowcount."""
    count = cursor.rowcount
    cursor.close()
    return count


@functools.lru_cache(maxsize=32)
def _values(width: int, count: int) -> str:
    """``(?, …), …``: ``count`` rows of ``width`` placeholders."""
    return ", ".join(["(" + ", ".join("?" * width) + ")"] * count)


def _insert(
    head: str, rows: Sequence[Sequence[Any]], variables: int
) -> Callable[[sqlite3.Connection], int]:
    """Work for the store's thread: ``rows`` in a few multi-row ``INSERT``s.

    Not one statement per row (``executemany``): each statement gives the GIL back while
    SQLite works and takes it again after, and every taking waits for the event loop's thread
    to let go (up to ``sys.getswitchinterval()``, 5 ms) while it decodes pages. A row at a
    time, that wait was most of a first mirror's writing. Statements hold a power of two of
    rows (a page of 1,000 is six), so the connection's statement cache keeps a few shapes.
    """
    parts: list[tuple[str, list[Any]]] = []
    if rows:
        width = len(rows[0])
        size = 1 << (max(1, variables // width).bit_length() - 1)
        start = 0
        while start < len(rows):
            while size > len(rows) - start:
                size //= 2
            part = rows[start : start + size]
            parts.append((head + _values(width, size), list(itertools.chain.from_iterable(part))))
            start += size

    def work(db: sqlite3.Connection) -> int:
        return sum(done(db.execute(sql, values)) for sql, values in parts)

    return work


def decode_row(values: Sequence[Any]) -> Row:
    row = dict(zip(COLUMNS, values, strict=False))
    for name in JSON_COLUMNS:
        row[name] = json.loads(row[name])
    if row["is_follower"] is not None:
        row["is_follower"] = bool(row["is_follower"])
    if row["follower_growth"] is not None:
        row["follower_growth"] = float(row["follower_growth"])
    return row


def _encode_row(row: Row, synced_at: str) -> tuple[Any, ...]:
    values = list(row.values())  # a row's keys are COLUMNS, in order (row_of)
    return (*values[:-2], canonical_json(values[-2]), canonical_json(values[-1]), synced_at)


class Tx:
    """One refresh's transaction on the SQLite file (``Transaction``)."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self.indexes_dropped = False

    async def first_load(self) -> None:
        """Drop the events' indexes until the commit (``_build_indexes``), if they can be.

        100,000 ids in random order cost their index about 1 s of CPU one at a time, a
        tenth of that sorted at the end; the commit's transaction holds the drop too, so a
        crash or a refusal leaves the indexes as they were.
        """

        def drop(db: sqlite3.Connection) -> bool:
            names = {
                r[0]
                for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'inro_contact_events'"
                )
            }
            if not names >= EVENT_INDEXES.keys():
                return False  # an older file: the id's index is the table's own
            for name in EVENT_INDEXES:
                db.execute(f"DROP INDEX {name}").close()
            return True

        self.indexes_dropped = self.indexes_dropped or await self._store.run(
            self._store.in_transaction(drop)
        )

    async def rows(self, ids: Sequence[int]) -> dict[int, Row]:
        def read(db: sqlite3.Connection) -> dict[int, Row]:
            found: dict[int, Row] = {}
            for start in range(0, len(ids), 500):
                part = list(ids[start : start + 500])
                marks = ", ".join("?" * len(part))
                query = f"SELECT {', '.join(COLUMNS)} FROM inro_contacts WHERE id IN ({marks})"  # noqa: S608 - placeholders only
                for values in db.execute(query, part):
                    found[values[0]] = decode_row(values)
            return found

        return await self._store.run(self._store.in_transaction(read))

    async def write_rows(self, rows: Sequence[Row], synced_at: str) -> None:
        encoded = [_encode_row(row, synced_at) for row in rows]
        await self._store.submit(
            self._store.in_transaction(_insert(_UPSERT, encoded, self._store.variables))
        )

    async def delete_rows(self, ids: Sequence[int]) -> None:
        await self._store.run(
            self._store.in_transaction(
                lambda db: done(
                    db.executemany("DELETE FROM inro_contacts WHERE id = ?", [(i,) for i in ids])
                )
            )
        )

    async def all_ids(self) -> set[int]:
        return await self._store.run(
            self._store.in_transaction(
                lambda db: {r[0] for r in db.execute("SELECT id FROM inro_contacts")}
            )
        )

    async def count(self) -> int:
        return await self._store.run(
            self._store.in_transaction(
                lambda db: int(db.execute("SELECT count(*) FROM inro_contacts").fetchone()[0])
            )
        )

    async def add_events(self, events: Sequence[EncodedEvent]) -> None:
        await self._store.submit(
            self._store.in_transaction(_insert(_INSERT_EVENTS, events, self._store.variables))
        )

    async def write_state(self, state: dict[str, str]) -> None:
        await self._store.run(
            self._store.in_transaction(
                lambda db: done(
                    db.executemany(
                        "INSERT OR REPLACE INTO inro_mirror_state (key, value) VALUES (?, ?)",
                        list(state.items()),
                    )
                )
            )
        )
