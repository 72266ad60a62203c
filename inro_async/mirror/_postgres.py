"""The PostgreSQL mirror store, over asyncpg (extra ``inro-async[postgres]``).

asyncpg rather than psycopg 3: asyncio-native from the start, pipelined ``executemany`` (a
1,000-row page is one round trip), binary protocol, no libpq to install. Tables are prefixed
``inro_`` so the mirror can share a team's database; JSON columns are ``jsonb``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from inro_async.errors import MirrorUnavailableError
from inro_async.mirror._rows import COLUMNS, JSON_COLUMNS, EncodedEvent, Row
from inro_async.mirror._sqlite import check_state
from inro_async.mirror._store import KIND, SCHEMA_VERSION, redact

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresStore"]

_TYPES = {
    "is_follower": "boolean",
    "follower_count": "bigint",
    "follower_growth": "double precision",
}
_COLUMN_TYPES = ", ".join(
    f"{c} {'jsonb' if c in JSON_COLUMNS else _TYPES.get(c, 'text')}" for c in COLUMNS[1:]
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS inro_mirror_state (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS inro_contacts (
    id bigint PRIMARY KEY,
    {_COLUMN_TYPES},
    synced_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS inro_contact_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    type text NOT NULL,
    subject text NOT NULL,
    time text NOT NULL,
    body jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS inro_contact_events_time ON inro_contact_events (time);
"""
_MARKS = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 2))
_SET = ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "synced_at"))
_UPSERT = (  # column names are constants
    f"INSERT INTO inro_contacts ({', '.join(COLUMNS)}, synced_at) VALUES ({_MARKS}) "  # noqa: S608
    f"ON CONFLICT (id) DO UPDATE SET {_SET}"
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM inro_contacts"  # noqa: S608 - constant


class _Tx:
    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db

    async def first_load(self) -> None:
        """Nothing to prepare: PostgreSQL's indexes stay as they are."""

    async def rows(self, ids: Sequence[int]) -> dict[int, Row]:
        records = await self._db.fetch(_SELECT + " WHERE id = ANY($1::bigint[])", list(ids))
        return {r["id"]: dict(r) for r in records}

    async def write_rows(self, rows: Sequence[Row], synced_at: str) -> None:
        await self._db.executemany(
            _UPSERT, [(*(row[c] for c in COLUMNS), synced_at) for row in rows]
        )

    async def delete_rows(self, ids: Sequence[int]) -> None:
        await self._db.execute("DELETE FROM inro_contacts WHERE id = ANY($1::bigint[])", list(ids))

    async def all_ids(self) -> set[int]:
        return {r[0] for r in await self._db.fetch("SELECT id FROM inro_contacts")}

    async def count(self) -> int:
        return int(await self._db.fetchval("SELECT count(*) FROM inro_contacts"))

    async def add_events(self, events: Sequence[EncodedEvent]) -> None:
        await self._db.executemany(  # the body is JSON text already: cast, not re-encoded
            "INSERT INTO inro_contact_events (id, type, subject, time, body) "
            "VALUES ($1, $2, $3, $4, $5::text::jsonb)",
            events,
        )

    async def write_state(self, state: dict[str, str]) -> None:
        await self._db.executemany(
            "INSERT INTO inro_mirror_state (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(state.items()),
        )


class PostgresStore:
    """A mirror in a PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.description = redact(url)
        self._db: asyncpg.Connection | None = None

    @property
    def failures(self) -> tuple[type[Exception], ...]:
        """What this database raises when it fails (``ContactMirror`` turns it into an error)."""
        try:
            import asyncpg
        except ImportError:  # pragma: no cover - the extra is missing: open() says so
            return (OSError,)
        return (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

    @property
    def db(self) -> asyncpg.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("the mirror store is not open")
        return self._db

    async def open(self) -> dict[str, str]:
        """Connect, create the tables if missing, and check the state."""
        try:
            import asyncpg
        except ImportError:  # pragma: no cover - the extra is missing
            raise MirrorUnavailableError(
                "a postgresql:// mirror needs asyncpg: pip install 'inro-async[postgres]'"
            ) from None
        try:
            db = await asyncpg.connect(self.url, timeout=10)
        except (OSError, TimeoutError, asyncpg.PostgresError, ValueError) as exc:
            raise MirrorUnavailableError(
                f"cannot connect to {self.description}: {type(exc).__name__}: "
                f"{str(exc).replace(self.url, self.description)}"
            ) from None
        try:
            for kind in ("json", "jsonb"):
                await db.set_type_codec(
                    kind, encoder=_dumps, decoder=json.loads, schema="pg_catalog"
                )
            exists = await db.fetchval("SELECT to_regclass('inro_mirror_state') IS NOT NULL")
            if exists:
                rows = await db.fetch("SELECT key, value FROM inro_mirror_state")
                state = check_state({r["key"]: r["value"] for r in rows}, self.description)
            else:
                async with db.transaction():
                    await db.execute(_SCHEMA)
                    await db.executemany(
                        "INSERT INTO inro_mirror_state (key, value) VALUES ($1, $2)",
                        [("kind", KIND), ("schema_version", str(SCHEMA_VERSION))],
                    )
                state = {"kind": KIND, "schema_version": str(SCHEMA_VERSION)}
        except BaseException:
            await db.close()
            raise
        self._db = db
        return state

    async def close(self) -> None:
        """Disconnect."""
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Tx]:
        """One refresh, in one database transaction."""
        async with self.db.transaction():
            # one refresh at a time per database: a second waits, then compares with the first's
            await self.db.execute("SELECT pg_advisory_xact_lock(hashtext('inro_contact_mirror'))")
            yield _Tx(self.db)

    async def events_after(self, seq: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` events after position ``seq``."""
        records = await self.db.fetch(
            "SELECT seq, body FROM inro_contact_events WHERE seq > $1 ORDER BY seq LIMIT $2",
            seq,
            limit,
        )
        return [(int(r["seq"]), r["body"]) for r in records]

    async def position_of(self, event_id: str) -> int | None:
        """The position of an event."""
        seq = await self.db.fetchval("SELECT seq FROM inro_contact_events WHERE id = $1", event_id)
        return None if seq is None else int(seq)

    async def position_before(self, time: str) -> int:
        """The position just before the first event at or after ``time``."""
        first = await self.db.fetchval(
            "SELECT min(seq) FROM inro_contact_events WHERE time >= $1", time
        )
        if first is None:
            return int(
                await self.db.fetchval("SELECT coalesce(max(seq), 0) FROM inro_contact_events")
            )
        return int(first) - 1

    async def prune(self, before: str) -> int:
        """Delete events older than ``before``."""
        status = await self.db.execute("DELETE FROM inro_contact_events WHERE time < $1", before)
        return int(status.rsplit(" ", 1)[-1])

    async def contacts(self) -> Iterable[Row]:
        """Every row, in id order."""
        return [dict(r) for r in await self.db.fetch(_SELECT + " ORDER BY id")]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
