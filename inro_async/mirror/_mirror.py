"""``ContactMirror``: every contact of an organization in a database, and its change events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inro_async._limits import MAX_PER_PAGE
from inro_async.errors import (
    DeleteGuardError,
    InroError,
    MirrorMismatchError,
    MirrorUnavailableError,
)
from inro_async.mirror._absentees import confirm_gone
from inro_async.mirror._rows import (
    EncodedEvent,
    Row,
    contact_event,
    created_event,
    encode_event,
    row_of,
)
from inro_async.mirror._store import MirrorStore, Transaction, open_store
from inro_async.resources._contact_changes import DEFAULT_LAG, FULL_WALK_CONCURRENCY

if TYPE_CHECKING:
    from inro_async.client import Client
    from inro_async.models.contacts import Contact
    from inro_async.models.organization import Organization

__all__ = ["ContactMirror", "RefreshReport"]

_log = logging.getLogger("inro_async.mirror")

_YIELD_EVERY = 200
"""Contacts compared between two turns of the event loop (a page is a few milliseconds' work)."""


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did."""

    created: int
    updated: int
    deleted: int
    requests: int
    """Requests sent (the identity check and every page)."""
    elapsed: float
    """Seconds."""
    full: bool
    """Whether it walked every contact (a reconciliation) rather than the recent changes."""
    reason: str
    """Why it was a full walk (empty for an incremental refresh)."""

    @property
    def events(self) -> int:
        """Events appended."""
        return self.created + self.updated + self.deleted


@dataclass(frozen=True)
class MirrorProgress:
    """A progress event of a refresh: ``phase`` ``started``, ``page`` or ``finished``."""

    phase: str
    contacts: int
    total: int | None


class ContactMirror:
    """A mirror of an organization's contacts: ``ContactMirror("crm.sqlite3")``.

    ``where`` is a SQLite file path or a ``postgresql://`` URL. A refresh reads the changes
    since the cursor (``lag`` before it) and reconciles with a full walk every
    ``reconcile_every`` (deletions are found there, refused past ``max_delete_ratio``);
    ``retention`` prunes older events.
    """

    def __init__(
        self,
        where: str | os.PathLike[str],
        *,
        lag: timedelta = DEFAULT_LAG,
        reconcile_every: timedelta = timedelta(days=1),
        max_delete_ratio: float = 0.25,
        retention: timedelta | None = None,
        clock: Callable[[], float] = time.time,
        on_progress: Callable[[MirrorProgress], None] | None = None,
    ) -> None:
        self.store: MirrorStore = open_store(where)
        self.lag = lag
        self.reconcile_every = reconcile_every
        self.max_delete_ratio = max_delete_ratio
        self.retention = retention
        self._clock = clock
        self._on_progress = on_progress
        self._state: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"ContactMirror({self.store.description!r})"

    async def open(self) -> None:
        """Open the database (``refresh`` and ``events`` do it when needed)."""
        if self._state is None:
            self._state = await self.store.open()

    async def close(self) -> None:
        """Close the database."""
        await self.store.close()
        self._state = None

    async def __aenter__(self) -> ContactMirror:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- refresh -----------------------------------------------------------------------------

    @asynccontextmanager
    async def _database(self, doing: str) -> AsyncIterator[None]:
        """The database's own failures (a lost connection, a full disk) as an ``InroError``.

        The store is closed on the way, so the next call connects again.
        """
        try:
            yield
        except InroError:
            raise
        except self.store.failures as exc:
            with contextlib.suppress(Exception):
                await self.store.close()
            self._state = None
            after = "the refresh rolled back, nothing changed" if doing == "refreshing" else ""
            raise MirrorUnavailableError(
                f"{self.store.description}: the database failed while {doing} "
                f"({type(exc).__name__}: {exc}); {after or 'try again'}"
            ) from None

    async def refresh(self, client: Client, *, full: bool = False) -> RefreshReport:
        """Bring the mirror up to date, in one transaction; append the change events."""
        async with self._database("refreshing"):
            return await self._refresh_reported(client, full=full)

    async def _refresh_reported(self, client: Client, *, full: bool) -> RefreshReport:
        await self.open()
        assert self._state is not None
        started = time.monotonic()
        now = datetime.fromtimestamp(self._clock(), UTC)
        # the identity check's request goes with the first page's; no write comes before it
        run = _Refresh(self, client, now, asyncio.ensure_future(client.me()))
        try:
            state, reason = await self._refresh(run, full=full)
        finally:
            run.forget_identity()
        self._state.update(state)
        if self.retention is not None:
            await self.store.prune(_iso(now - self.retention))
        report = RefreshReport(
            created=run.counts["created"],
            updated=run.counts["updated"],
            deleted=run.counts["deleted"],
            requests=run.requests + 1,
            elapsed=time.monotonic() - started,
            full=bool(reason),
            reason=reason,
        )
        self._progress("finished", run.seen_count, None)
        return report

    async def _refresh(self, run: _Refresh, *, full: bool) -> tuple[dict[str, str], str]:
        assert self._state is not None
        cursor_text = self._state.get("cursor")
        last_full = self._state.get("last_full")
        reason = ""
        if full:
            reason = "a full walk was asked for"
        elif cursor_text is None:
            reason = "the first refresh"
        elif last_full is None or run.now - _parse(last_full) >= self.reconcile_every:
            reason = f"the reconciliation is due (every {self.reconcile_every})"
        async with self.store.transaction() as tx:
            if reason:
                await run.full_walk(tx)
            else:
                changes = run.client.contacts.changes(
                    since=_parse(cursor_text or ""), lag=self.lag, clock=self._clock
                )
                async for batch in changes:
                    await run.apply(tx, batch)
                run.requests += changes.requests
                run.cursor = changes.cursor
                if changes.full:
                    reason = changes.reason
                    await run.delete_absent(tx, changes.total, steady=changes.steady)
                else:
                    held = await tx.count()
                    if changes.total is not None and held != changes.total:
                        reason = (
                            f"the server counts {changes.total} contacts, the mirror "
                            f"{held}: a full walk finds what changed"
                        )
                        await run.full_walk(tx)
            state = dict(await run.identity())
            if run.cursor is not None:
                state["cursor"] = run.cursor.isoformat()
            if reason and run.deferred:
                reason = f"{reason}; {run.deferred}"
            elif reason:
                state["last_full"] = run.now.isoformat()
            await tx.write_state(state)
        return state, reason

    async def run(
        self,
        client: Client,
        *,
        every: timedelta = timedelta(minutes=5),
        on_report: Callable[[RefreshReport], None] | None = None,
    ) -> None:
        """Refresh every ``every`` until cancelled."""
        while True:
            report = await self.refresh(client)
            if on_report is not None:
                on_report(report)
            await asyncio.sleep(every.total_seconds())

    def _progress(self, phase: str, contacts: int, total: int | None) -> None:
        if self._on_progress is not None:
            try:
                self._on_progress(MirrorProgress(phase, contacts, total))
            except Exception:
                _log.exception("progress callback failed")

    # -- events ------------------------------------------------------------------------------

    async def events(
        self,
        *,
        after: str | None = None,
        since: datetime | None = None,
        follow: bool = False,
        poll: float = 1.0,
    ) -> AsyncIterator[dict[str, Any]]:
        """Events after an event id, or from a time, oldest first (``follow``: then wait)."""
        await self.open()
        if after is not None and since is not None:
            from inro_async.errors import InvalidArgumentError

            raise InvalidArgumentError("after", "give after or since, not both")
        position = 0
        if after is not None:
            async with self._database("reading events"):
                found = await self.store.position_of(after)
            if found is None:
                from inro_async.errors import InvalidArgumentError

                raise InvalidArgumentError("after", f"no event {after!r} in this mirror")
            position = found
        elif since is not None:
            async with self._database("reading events"):
                position = await self.store.position_before(_iso(since))
        while True:
            async with self._database("reading events"):
                batch = await self.store.events_after(position, 1000)
            for position, event in batch:  # noqa: B007 - the next batch starts after it
                yield event
            if not batch:
                if not follow:
                    return
                await asyncio.sleep(poll)

    async def contacts(self) -> list[Row]:
        """Every contact in the mirror, in id order."""
        await self.open()
        async with self._database("reading contacts"):
            return list(await self.store.contacts())


class _Refresh:
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
        self.synced_at = _iso(now)
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


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
