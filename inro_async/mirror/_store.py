"""The small interface both mirror stores keep (SQLite, PostgreSQL), and which one a URL opens.

A refresh runs inside ``store.transaction()``: every row, event and state change of one
refresh commits together or not at all, so a crash leaves the previous mirror and cursor.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from inro_async.mirror._rows import EncodedEvent, Row

__all__ = ["KIND", "SCHEMA_VERSION", "MirrorStore", "Transaction", "open_store", "redact"]

SCHEMA_VERSION = 1
"""The schema this version writes; a mirror with a newer one is refused."""
KIND = "inro_async contact mirror"
"""What the state table's ``kind`` says, so another program's tables are never mistaken."""


class Transaction(Protocol):
    """The writes and reads of one refresh, committed together."""

    async def first_load(self) -> None:
        """The mirror is empty and this refresh fills it: a store may build indexes at the end."""

    async def rows(self, ids: Sequence[int]) -> dict[int, Row]:
        """The mirror's rows for these ids (those it has)."""

    async def write_rows(self, rows: Sequence[Row], synced_at: str) -> None:
        """Insert or replace rows."""

    async def delete_rows(self, ids: Sequence[int]) -> None:
        """Remove rows."""

    async def all_ids(self) -> set[int]:
        """Every contact id in the mirror."""

    async def count(self) -> int:
        """How many contacts the mirror holds."""

    async def add_events(self, events: Sequence[EncodedEvent]) -> None:
        """Append events, in order (each already encoded: ``encode_event``)."""

    async def write_state(self, state: dict[str, str]) -> None:
        """Set state keys."""


class MirrorStore(Protocol):
    """Where a mirror lives."""

    description: str
    """The database, for messages (never a password)."""

    @property
    def failures(self) -> tuple[type[Exception], ...]:
        """The exceptions this database's driver raises when it fails."""

    async def open(self) -> dict[str, str]:
        """Connect, check (or create) the schema, and return the state table."""

    async def close(self) -> None:
        """Disconnect."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One refresh's writes."""

    async def events_after(self, seq: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` events after position ``seq``, oldest first, with their positions."""

    async def position_of(self, event_id: str) -> int | None:
        """The position of an event, or None when there is no such event."""

    async def position_before(self, time: str) -> int:
        """The position just before the first event at or after ``time`` (ISO-8601 UTC)."""

    async def prune(self, before: str) -> int:
        """Delete events older than ``before`` (ISO-8601 UTC); how many were deleted."""

    async def contacts(self) -> Iterable[Row]:
        """Every row, in id order."""


def redact(url: str) -> str:
    """A database URL without its password."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def open_store(where: str | os.PathLike[str]) -> MirrorStore:
    """The store for a ``postgresql://`` URL, or a SQLite file path."""
    text = os.fspath(where)
    if text.startswith(("postgresql://", "postgres://")):
        from inro_async.mirror._postgres import PostgresStore

        return PostgresStore(text)
    from inro_async.mirror._sqlite import SQLiteStore

    return SQLiteStore(text)
