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

from inro_async.errors import (
    InroError,
    MirrorUnavailableError,
)
from inro_async.mirror._refresh import Refresh, iso_time, parse_time
from inro_async.mirror._rows import (
    Row,
)
from inro_async.mirror._store import MirrorStore, open_store
from inro_async.resources._contact_changes import DEFAULT_LAG

if TYPE_CHECKING:
    from inro_async.client import Client

__all__ = ["ContactMirror", "RefreshReport"]

_log = logging.getLogger("inro_async.mirror")


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
        run = Refresh(self, client, now, asyncio.ensure_future(client.me()))
        try:
            state, reason = await self._refresh(run, full=full)
        finally:
            run.forget_identity()
        self._state.update(state)
        if self.retention is not None:
            await self.store.prune(iso_time(now - self.retention))
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

    async def _refresh(self, run: Refresh, *, full: bool) -> tuple[dict[str, str], str]:
        assert self._state is not None
        cursor_text = self._state.get("cursor")
        last_full = self._state.get("last_full")
        reason = ""
        if full:
            reason = "a full walk was asked for"
        elif cursor_text is None:
            reason = "the first refresh"
        elif last_full is None or run.now - parse_time(last_full) >= self.reconcile_every:
            reason = f"the reconciliation is due (every {self.reconcile_every})"
        async with self.store.transaction() as tx:
            if reason:
                await run.full_walk(tx)
            else:
                changes = run.client.contacts.changes(
                    since=parse_time(cursor_text or ""), lag=self.lag, clock=self._clock
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
                position = await self.store.position_before(iso_time(since))
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
