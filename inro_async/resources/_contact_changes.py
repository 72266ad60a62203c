"""``inro.contacts.changes(since=…)``: the contacts changed since a cursor, newest first.

Walks contacts by ``updated_at`` descending and stops at the first row older than the cursor
minus ``lag`` (clock skew, writes that become visible late). Whether the real API honours
``order_column=updated_at`` is unknown (``shared/inro-api.md`` question 18): every page is
checked before any of its rows is handed out, and at the first row out of order the walk
falls back to a full walk (``full`` becomes True, with a warning) that hands out every contact
not already handed out, so the caller can diff and never misses a change.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from inro_async._limits import MAX_PER_PAGE
from inro_async.models.contacts import Contact
from inro_async.pagination import Page

if TYPE_CHECKING:
    from inro_async.resources.contacts import Contacts

__all__ = ["DEFAULT_LAG", "ContactChanges"]

DEFAULT_LAG = timedelta(minutes=5)
"""How far before the cursor a walk reaches back (clock skew, late-visible writes)."""

FULL_WALK_CONCURRENCY = 8
"""Pages in flight during a fallback full walk (as ``contacts.export``)."""

_log = logging.getLogger("inro_async.contacts")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(contact: Contact) -> datetime:
    at = contact.updated_at
    return at.astimezone(UTC) if isinstance(at, datetime) else _EPOCH


class ContactChanges:
    """An async iterator of batches (``list[Contact]``) changed since a cursor.

    After the walk: ``cursor`` is the next cursor to store (never past the scan's start minus
    ``lag``), ``full`` whether it fell back to a full walk (then every contact was handed out
    and ``reason`` says why), ``total`` the count the server's first page gave, ``requests``
    the pages fetched.
    """

    def __init__(
        self,
        contacts: Contacts,
        *,
        since: datetime | None,
        lag: timedelta = DEFAULT_LAG,
        clock: Callable[[], float] = time.time,
        concurrency: int = FULL_WALK_CONCURRENCY,
    ) -> None:
        self._contacts = contacts
        self.since = since
        self.lag = lag
        self._clock = clock
        self._concurrency = concurrency
        self.full = since is None
        self.reason = "no cursor yet" if since is None else ""
        self.total: int | None = None
        self.steady = True
        """Whether every page of the full walk gave the same count as its first (``total``)."""
        self.requests = 0
        self.cursor: datetime | None = since

    def __aiter__(self) -> AsyncIterator[list[Contact]]:
        return self._walk()

    async def _walk(self) -> AsyncGenerator[list[Contact], None]:
        start = datetime.fromtimestamp(self._clock(), UTC)
        ceiling = start - self.lag
        newest: datetime | None = None
        handed: set[int] = set()
        if self.since is not None:
            floor = self.since.astimezone(UTC) - self.lag
            previous: datetime | None = None
            pages = self._contacts.iter_pages(
                per_page=MAX_PER_PAGE, order_column="updated_at", order_direction="desc"
            )
            async with aclosing(pages) as walk:
                async for page in walk:
                    self._count(page)
                    moments = [_moment(c) for c in page.items]
                    if _out_of_order(previous, moments):
                        self.full = True
                        self.reason = (
                            f"the server ignored order_column=updated_at (page {page.page} "
                            "is not newest first): a full walk instead"
                        )
                        _log.warning("contacts.changes: %s", self.reason)
                        break
                    keep = [c for c, at in zip(page.items, moments, strict=True) if at >= floor]
                    if keep:
                        newest = max(newest or _EPOCH, moments[0])
                        handed.update(c.id for c in keep)
                        yield keep
                    if moments:
                        previous = moments[-1]
                    if len(keep) < len(page.items):
                        break
        if self.full:
            self.total = None  # the full walk's own count
            self.steady = True
            pages = self._contacts.iter_pages(per_page=MAX_PER_PAGE, concurrency=self._concurrency)
            async with aclosing(pages) as walk:
                async for page in walk:
                    self._count(page)
                    if page.items:
                        newest = max(newest or _EPOCH, *(_moment(c) for c in page.items))
                    batch = [c for c in page.items if c.id not in handed]
                    if batch:
                        yield batch
        if newest is not None:
            advanced = min(newest, ceiling)
            self.cursor = advanced if self.since is None else max(self.since, advanced)

    def _count(self, page: Page[Contact]) -> None:
        self.requests += 1
        if self.total is None:
            self.total = page.total
        elif page.total != self.total:
            self.steady = False


def _out_of_order(previous: datetime | None, moments: list[datetime]) -> bool:
    """Whether a page (after the page before's last row) is not newest first."""
    chain = ([previous] if previous is not None else []) + moments
    return any(later > earlier for earlier, later in itertools.pairwise(chain))
