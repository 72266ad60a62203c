"""Whether any contact changed after a moment: the newest contacts, one request.

Contacts are listed by page number, so a contact created, changed or deleted while a walk
reads the pages shifts every page after it, and one can be missed. The export (whether its
file is a snapshot) and the mirror and dlt source (whether a full walk's absentees are really
gone) both ask this after a walk, and answer it here the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["PROBE_SIZE", "changed_since"]

PROBE_SIZE = 20
"""Contacts the probe reads, newest first: enough to see that the order holds."""

_NEWEST_FIRST: dict[str, Any] = {"order_column": "updated_at", "order_direction": "desc"}


async def changed_since(
    contacts: Any, moment: datetime, *, total: int | None, query: Any = None
) -> bool | None:
    """True if a contact changed after ``moment`` or the count is no longer ``total``.

    ``contacts`` is a client's ``contacts`` resource; ``query`` a search to probe instead of
    the whole list. ``None`` when the server cannot tell: it ignores the order (the newest may
    be anywhere). Errors of the request propagate.
    """
    if query is not None:
        probe = await contacts.search(query, per_page=PROBE_SIZE, **_NEWEST_FIRST)
    else:
        probe = await contacts.list(per_page=PROBE_SIZE, **_NEWEST_FIRST)
    moments = [c.updated_at for c in probe.items if isinstance(c.updated_at, datetime)]
    if len(moments) != len(probe.items) or sorted(moments, reverse=True) != moments:
        return None
    if probe.total != total:
        return True
    return bool(moments) and moments[0] >= moment
