"""Which contacts a full walk did not see are really gone: the walk's word, or a lookup each.

Contacts are listed by page number, so a contact created, changed or deleted while a walk reads
the pages shifts every page after it, and a contact that exists can fall between two pages.
A walk's absentees are taken as deleted only when the walk was a snapshot: the count held on
every page, and a probe after it (the newest contacts, one request) shows nothing changed since
the walk began, minus the lag. Otherwise each is looked up (a 404 is gone), up to a budget; the
rest are left for the next walk. A few absentees are always looked up (cheap, and certain).
The mirror and the dlt source share this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from inro_async.errors import NotFoundError
from inro_async.jobs._newest import PROBE_SIZE, changed_since

if TYPE_CHECKING:
    from inro_async.client import Client
    from inro_async.models.contacts import Contact

__all__ = ["LOOKUP_BUDGET", "PROBE_SIZE", "VERIFY_AT_MOST", "Absentees", "confirm_gone"]

VERIFY_AT_MOST = 20
"""Absentees that are each looked up even after a walk that was a snapshot."""
LOOKUP_BUDGET = 500
"""Most absentees one walk looks up when it may have missed some (25 s at 20/s)."""


@dataclass
class Absentees:
    """What became of a walk's absentees."""

    gone: list[int] = field(default_factory=list)
    """Deleted on the server: tombstone them."""
    found: list[Contact] = field(default_factory=list)
    """There after all (the pages had shifted): as they are now."""
    unchecked: list[int] = field(default_factory=list)
    """Past the lookup budget: neither gone nor found; look again on the next walk."""
    requests: int = 0
    """Requests spent: the probe and the lookups."""


async def confirm_gone(
    client: Client,
    absent: list[int],
    *,
    total: int | None,
    steady: bool,
    started: datetime,
    lag: timedelta,
    budget: int = LOOKUP_BUDGET,
) -> Absentees:
    """Sort a complete walk's ``absent`` ids into gone, found and unchecked.

    ``total`` is the count the walk's first page gave, ``steady`` whether every page gave the
    same, ``started`` when the walk began (the client's clock, UTC) and ``lag`` how far the
    server's ``updated_at`` may trail it.
    """
    result = Absentees()
    if not absent:
        return result
    if len(absent) > VERIFY_AT_MOST and steady:
        result.requests += 1
        if await _quiet_since(client, total, started - lag):
            result.gone = list(absent)
            return result
    if len(absent) > VERIFY_AT_MOST:
        absent, result.unchecked = absent[:budget], absent[budget:]
    for contact_id in absent:
        result.requests += 1
        try:
            result.found.append(await client.contacts.get(id=contact_id))
        except NotFoundError:
            result.gone.append(contact_id)
    return result


async def _quiet_since(client: Client, total: int | None, moment: datetime) -> bool:
    """Whether the count is still ``total`` and no contact changed after ``moment``.

    ``False`` when it cannot tell: another count, or a server that ignores the order.
    """
    return await changed_since(client.contacts, moment, total=total) is False
