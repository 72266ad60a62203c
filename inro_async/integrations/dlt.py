"""A dlt source of Inrō contacts (extra ``inro-async[dlt]``): load them anywhere dlt loads.

    import dlt
    from inro_async.integrations.dlt import inro

    pipeline = dlt.pipeline("crm", destination="duckdb", dataset_name="inro")
    pipeline.run(inro())                   # merge on id, incremental on updated_at
    pipeline.run(inro(deletions=True))     # a full walk: contacts gone are hard-deleted

The ``contacts`` resource merges on ``id`` and reads incrementally on ``updated_at`` (through
``inro.contacts.changes``, with its lag window, which dlt's ``lag`` keeps too). Deletions need
a full walk: with ``deletions=True`` every contact is read, and those the last full walk saw but
this one did not are loaded as ``{"id": …, "deleted": True}``, which the ``hard_delete`` column
removes. dlt runs async generators on its own event loop, so the client is built inside it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import dlt

from inro_async.client import Client
from inro_async.mirror._absentees import confirm_gone
from inro_async.mirror._rows import COLUMNS, row_of
from inro_async.resources._contact_changes import DEFAULT_LAG

__all__ = ["contacts", "inro"]

_TYPES = {
    "id": "bigint",
    "is_follower": "bool",
    "follower_count": "bigint",
    "follower_growth": "double",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "custom_properties": "json",  # one column each, not a table per property or folder
    "folders": "json",
}
_HINTS: Any = {
    **{name: {"data_type": _TYPES.get(name, "text"), "nullable": True} for name in COLUMNS},
    "id": {"data_type": "bigint", "nullable": False},
    "deleted": {"data_type": "bool", "hard_delete": True},
}


_UPDATED_AT: Any = dlt.sources.incremental(
    "updated_at", lag=DEFAULT_LAG.total_seconds(), on_cursor_value_missing="include"
)
"""The incremental cursor (dlt copies it per pipeline), with the same lag as the read's."""


def _rows(batch: list[Any]) -> list[dict[str, Any]]:
    return [{**row_of(contact), "deleted": False} for contact in batch]


@dlt.resource(name="contacts", primary_key="id", write_disposition="merge", columns=_HINTS)
async def contacts(
    token: str | None = None,
    base_url: str | None = None,
    deletions: bool = False,
    updated_at: Any = _UPDATED_AT,
    client_options: dict[str, Any] | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every contact changed since the last load (``deletions``: every contact, and the gone)."""
    state = dlt.current.resource_state()
    since = None if deletions or updated_at.last_value is None else _parse(updated_at.last_value)
    async with Client(token, base_url=base_url, **(client_options or {})) as inro:
        seen: set[int] = set()
        started = datetime.now(UTC)
        changes = inro.contacts.changes(since=since, lag=DEFAULT_LAG, clock=time.time)
        async for batch in changes:
            seen.update(contact.id for contact in batch)
            yield _rows(batch)
        if changes.full:
            known = set(state.get("ids", []))
            absent = sorted(known - seen)
            # A contact unseen may only have fallen between two shifting pages: gone when the
            # walk was a snapshot or a lookup says 404; found ones are loaded as they are now.
            sorted_out = await confirm_gone(
                inro,
                absent,
                total=changes.total,
                steady=changes.steady,
                started=started,
                lag=DEFAULT_LAG,
            )
            if sorted_out.found:
                seen.update(contact.id for contact in sorted_out.found)
                yield _rows(sorted_out.found)
            if sorted_out.gone:
                yield [
                    {"id": contact_id, "deleted": True, "updated_at": None}
                    for contact_id in sorted_out.gone
                ]
            state["ids"] = sorted(seen | set(sorted_out.unchecked))  # unchecked: look again


@dlt.source(name="inro")
def inro(
    token: str | None = None,
    base_url: str | None = None,
    deletions: bool = False,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """The Inrō source: its ``contacts`` resource (token from ``INRO_API_TOKEN`` if not given)."""
    return contacts(
        token=token, base_url=base_url, deletions=deletions, client_options=client_options
    )


def _parse(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
