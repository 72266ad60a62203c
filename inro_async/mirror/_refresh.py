"""One refresh of a ``ContactMirror``: the rows it saw, the events it made, what it deleted.

``ContactMirror.refresh`` opens the transaction and decides between an incremental read and a
full walk; ``Refresh`` does the work inside it, a page at a time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inro_async._limits import MAX_PER_PAGE
from inro_async.errors import DeleteGuardError, MirrorMismatchError
from inro_async.mirror._absentees import confirm_gone
from inro_async.mirror._rows import (
    EncodedEvent,
    Row,
    contact_event,
    created_event,
    encode_event,
    row_of,
)
from inro_async.resources._contact_changes import FULL_WALK_CONCURRENCY

if TYPE_CHECKING:
    from inro_async.client import Client
    from inro_async.mirror._mirror import ContactMirror
    from inro_async.mirror._store import Transaction
    from inro_async.models.contacts import Contact
    from inro_async.models.organization import Organization

_YIELD_EVERY = 200
"""Contacts compared between two turns of the event loop (a page is a few milliseconds' work)."""


class Refresh:
    """One refresh's bookkeeping: rows seen, events made, counts."""

    def __init__(
        self, mirror: ContactMirror, client: Client, now: datetime, me: asyncio.Future[Organization]
    ) -> None:
        self.mirror = mirror
        self.client = client
        self.now = now
        self._me = me
        self._identity: dict[str, str] | None = None
        self.loading = False
        """Whether the store was told this refresh fills an empty mirror (``first_load``)."""
        self.synced_at = iso_time(now)
        self.source = f"{client.base_url}/contacts"
        self.pending: list[EncodedEvent] = []
        """Events of the batch at hand, appended with it (memory holds one page's worth)."""
        self.counts = {"created": 0, "updated": 0, "deleted": 0}
        self.seen: set[int] = set()
        self.seen_count = 0
        self.requests = 0
        self.cursor: datetime | None = None
        self.empty = False
        self.deferred = ""

    async def identity(self) -> dict[str, str]:
        """The organization and base URL, once ``me()`` answered; refused if not the mirror's.

        Awaited before every write: pages may arrive first, nothing is written before it.
        """
        if self._identity is None:
            organization = await self._me
            identity = {"organization_id": str(organization.id), "base_url": self.client.base_url}
            kept_state = self.mirror._state or {}
            for key, value in identity.items():
                kept = kept_state.get(key)
                if kept is not None and kept != value:
                    raise MirrorMismatchError(
                        f"{self.mirror.store.description} mirrors {key} {kept}, not {value}: "
                        "use another mirror for this organization"
                    )
            self._identity = identity
        return self._identity

    def forget_identity(self) -> None:
        """Cancel the identity check if the refresh ended before it answered."""
        if not self._me.done():
            self._me.cancel()
        elif not self._me.cancelled():
            self._me.exception()  # retrieved: a failure was raised already, or never mattered

    async def apply(self, tx: Transaction, batch: list[Contact]) -> None:
        await self.identity()
        if self.empty and not self.loading:
            await tx.first_load()
            self.loading = True
        rows = [row_of(c) for c in batch]
        held = {} if self.empty else await tx.rows([r["id"] for r in rows])
        changed: list[Row] = []
        created = 0
        for index, row in enumerate(rows):
            if index and not index % _YIELD_EVERY:
                await asyncio.sleep(0)  # let the governor send the next requests on time
            self.seen.add(row["id"])
            before = held.get(row["id"])
            if before is None:  # most of a first mirror: one encoding of the row, no diff
                self.pending.append(created_event(self.source, row, now=self.now))
                created += 1
                changed.append(row)
                continue
            event = contact_event(self.source, before, row, now=self.now)
            if event is not None:
                self._count(event)
                changed.append(row)
        self.counts["created"] += created
        if changed:
            await tx.write_rows(changed, self.synced_at)
            await self.flush(tx)
        self.seen_count += len(rows)
        self.mirror._progress("page", self.seen_count, None)

    async def full_walk(self, tx: Transaction) -> None:
        self.seen.clear()
        self.empty = await tx.count() == 0  # the first mirror: nothing to compare with
        total: int | None = None
        newest: datetime | None = None
        pages = self.client.contacts.iter_pages(
            per_page=MAX_PER_PAGE, concurrency=FULL_WALK_CONCURRENCY
        )
        totals: set[int | None] = set()
        async for page in pages:  # a walk that cannot be complete raises: nothing is written
            self.requests += 1
            if total is None:
                total = page.total
            totals.add(page.total)
            for contact in page.items:
                at = contact.updated_at
                if isinstance(at, datetime) and (newest is None or at > newest):
                    newest = at
            await self.apply(tx, page.items)
        if newest is not None:
            # never past the scan's start minus the lag: writes seen late are read again
            reached = min(newest, self.now - self.mirror.lag)
            self.cursor = reached if self.cursor is None else max(self.cursor, reached)
        await self.delete_absent(tx, total, steady=len(totals) == 1)

    async def delete_absent(
        self, tx: Transaction, total: int | None, *, steady: bool = False
    ) -> None:
        """Tombstone what a complete walk did not see, once it is known to be gone.

        See ``_absentees``: trusted from a walk that was a snapshot (``steady`` and quiet
        since), else looked up; what the lookup budget leaves waits (``deferred``).
        """
        await self.identity()
        if self.empty:  # the first mirror: every row in it was written by this walk
            return
        absent = sorted((await tx.all_ids()) - self.seen)
        if not absent:
            return
        held = await tx.count()
        ratio = len(absent) / held
        if ratio > self.mirror.max_delete_ratio:
            raise DeleteGuardError(
                f"the full walk saw {len(self.seen)} contacts (the server counted {total}); "
                f"deleting the other {len(absent)} of the mirror's {held} ({ratio:.0%}) is past "
                f"max_delete_ratio={self.mirror.max_delete_ratio:g}: refused, nothing changed"
            )
        sorted_out = await confirm_gone(
            self.client, absent, total=total, steady=steady, started=self.now, lag=self.mirror.lag
        )
        self.requests += sorted_out.requests
        if sorted_out.found:
            await self.apply(tx, sorted_out.found)  # there after all: the pages had shifted
        if sorted_out.unchecked:
            self.deferred = (
                f"deletions deferred: the list changed during the walk, and "
                f"{len(sorted_out.unchecked)} unseen contacts are left to look up"
            )
        absent = sorted_out.gone
        before = await tx.rows(absent)
        for contact_id in absent:
            event = contact_event(self.source, before[contact_id], None, now=self.now)
            assert event is not None
            self._count(event)
        await tx.delete_rows(absent)
        await self.flush(tx)

    async def flush(self, tx: Transaction) -> None:
        if self.pending:
            await tx.add_events(self.pending)
            self.pending = []

    def _count(self, event: dict[str, Any]) -> None:
        self.pending.append(encode_event(event))
        self.counts[event["type"].rsplit(".", 1)[-1]] += 1


def parse_time(text: str) -> datetime:
    """A time the mirror stored (ISO-8601, ``Z`` for UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso_time(moment: datetime) -> str:
    """``moment`` as the mirror stores it: ISO-8601 in UTC, with ``Z``."""
    return moment.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
