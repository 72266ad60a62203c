"""What the mirror keeps of a contact (a row), how two rows differ, and the events they make.

Pure: a ``Contact`` in, a row out; two rows in, an event out. Event ids are derived from the
change itself (kind, contact, ``updated_at`` before and after, a hash of the new content), so
a refresh that is killed and run again produces exactly the events of an uninterrupted one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from inro_async.models.contacts import Contact

__all__ = [
    "COLUMNS",
    "JSON_COLUMNS",
    "EncodedEvent",
    "EventType",
    "Row",
    "changed_fields",
    "contact_event",
    "created_event",
    "encode_event",
    "row_of",
]

Row = dict[str, Any]
"""One contact as the mirror keeps it: the scalar fields, two JSON fields."""

SCALAR_COLUMNS = (
    "username",
    "name",
    "status",
    "email",
    "phone",
    "real_name",
    "language",
    "notes",
    "is_follower",
    "follower_count",
    "follower_growth",
    "bio",
    "website",
    "instagram_url",
    "profile_picture",
    "created_at",
    "updated_at",
)
JSON_COLUMNS = ("custom_properties", "folders")
COLUMNS = ("id", *SCALAR_COLUMNS, *JSON_COLUMNS)
"""Every column of the ``contacts`` table but ``synced_at``, in table order."""

EncodedEvent = tuple[str, str, str, str, str]
"""An event as the stores write it: ``(id, type, subject, time, body)``, body canonical JSON."""

EventType = Literal["inro.contact.created", "inro.contact.updated", "inro.contact.deleted"]

_canonical = msgspec.json.Encoder().encode
"""Deterministic for the same input (rows are built in one field order): enough for ids."""
_builtins = msgspec.to_builtins
_CREATED_AT, _UPDATED_AT = (COLUMNS.index(c) for c in ("created_at", "updated_at"))
if Contact.__struct_fields__[: len(COLUMNS)] != COLUMNS:  # pragma: no cover - a model change
    raise ImportError("mirror columns must follow Contact's field order (row_of reads a tuple)")


def iso(moment: datetime | str | None) -> str | None:
    """A timestamp as ISO-8601 UTC text ending in ``Z`` (a string the API sent stays as is)."""
    if moment is None or isinstance(moment, str):
        return moment
    if moment.tzinfo is UTC:  # what the decoder gives for "…Z": no conversion needed
        return moment.isoformat()[:-6] + "Z"
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def iso_now(moment: datetime) -> str:
    """``iso`` of a datetime (never None)."""
    return moment.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def row_of(contact: Contact) -> Row:
    """The mirror's row for a contact."""
    values = msgspec.structs.astuple(contact)[: len(COLUMNS)]
    # one C call: timestamps to ISO text ("…Z" for UTC, as iso() writes), folders to dicts
    row: Row = dict(zip(COLUMNS, _builtins(values), strict=True))
    for name, index in (("created_at", _CREATED_AT), ("updated_at", _UPDATED_AT)):
        text = row[name]
        if text is not None and not text.endswith("Z"):  # an offset or a naive time
            row[name] = iso(values[index])
    return row


def changed_fields(before: Row, after: Row) -> dict[str, dict[str, Any]]:
    """``{field: {"before": …, "after": …}}`` for every column whose value differs."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in COLUMNS
        if not _same(before.get(name), after.get(name))
    }


def _same(kept: Any, seen: Any) -> bool:
    # Python equality: a store may give -0.0 back as 0, or 2.0 as 2 (SQLite's NUMERIC).
    return bool(kept == seen)


def event_id(kind: str, contact_id: int, before: Row | None, after: Row | None) -> str:
    """A stable id for one change: the same change always gets the same id."""
    content = _canonical(after) if after is not None else b""
    head = f"{kind}|{contact_id}|{(before or {}).get('updated_at')}|"
    head += f"{(after or {}).get('updated_at')}|"
    return hashlib.sha256(head.encode() + content).hexdigest()[:32]


def contact_event(
    source: str, before: Row | None, after: Row | None, *, now: datetime
) -> dict[str, Any] | None:
    """The CloudEvents 1.0 event for a row's change, or None when nothing changed."""
    if before is None and after is None:
        return None
    data: dict[str, Any]
    if before is None:
        assert after is not None
        kind, contact_id, data = "created", after["id"], {"contact": after}
        when = after.get("updated_at")
    elif after is None:
        kind, contact_id, data = "deleted", before["id"], {"contact": before}
        when = iso(now)
    else:
        changes = changed_fields(before, after)
        if not changes:
            return None
        kind, contact_id = "updated", after["id"]
        data = {"contact": after, "changed": changes}
        when = after.get("updated_at")
    return {
        "specversion": "1.0",
        "id": event_id(kind, contact_id, before, after),
        "source": source,
        "type": f"inro.contact.{kind}",
        "subject": str(contact_id),
        "time": when or iso(now),
        "datacontenttype": "application/json",
        "data": data,
    }


def canonical_json(value: Any) -> str:
    """JSON text (what the stores write)."""
    return _canonical(value).decode()


def encode_event(event: dict[str, Any]) -> EncodedEvent:
    """An event as the stores write it."""
    body = canonical_json(event)
    return (event["id"], event["type"], event["subject"], event["time"], body)


def created_event(source: str, row: Row, *, now: datetime) -> EncodedEvent:
    """``encode_event(contact_event(source, None, row, now=now))``, with one encoding of the row.

    The first mirror makes one of these per contact: the row is encoded once, for the id's
    hash and the body alike, and the body is spliced around it (the same bytes).
    """
    content = _canonical(row)
    contact_id = row["id"]
    updated = row.get("updated_at")
    head = f"created|{contact_id}|None|{updated}|"
    event_id = hashlib.sha256(head.encode() + content).hexdigest()[:32]
    subject = str(contact_id)
    when: str = updated or iso_now(now)
    body = b"".join(
        (
            b'{"specversion":"1.0","id":"',
            event_id.encode(),
            b'","source":',
            _canonical(source),
            b',"type":"inro.contact.created","subject":"',
            subject.encode(),
            b'","time":',
            _canonical(when),
            b',"datacontenttype":"application/json","data":{"contact":',
            content,
            b"}}",
        )
    )
    return (event_id, "inro.contact.created", subject, when, body.decode())
