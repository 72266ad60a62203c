"""The mirror's fast paths give exactly what the plain ones give (rows, event ids and bodies)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from inro_async.mirror._rows import (
    COLUMNS,
    contact_event,
    created_event,
    encode_event,
    iso,
    row_of,
)
from inro_async.models.contacts import Contact, FolderRef


def plain_row(contact: Contact) -> dict[str, object]:
    """The row as the mirror first built it, field by field (the reference)."""
    values = msgspec.structs.astuple(contact)
    row = dict(zip(COLUMNS, values, strict=False))
    row["created_at"] = iso(contact.created_at)
    row["updated_at"] = iso(contact.updated_at)
    row["folders"] = [{"id": f.id, "name": f.name} for f in contact.folders]
    return row


zones = st.sampled_from([UTC, timezone(timedelta(0)), timezone(timedelta(hours=2)), None])
moments = st.one_of(
    st.none(),
    st.builds(
        lambda moment, zone: moment.replace(tzinfo=zone),
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
        zones,
    ),
)
texts = st.one_of(st.none(), st.text(max_size=8))
contacts = st.builds(
    Contact,
    id=st.integers(1, 2**53),
    username=texts,
    name=texts,
    notes=texts,
    is_follower=st.one_of(st.none(), st.booleans()),
    follower_count=st.one_of(st.none(), st.integers(0, 10**9)),
    follower_growth=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    created_at=moments,
    updated_at=moments,
    custom_properties=st.dictionaries(st.text(max_size=4), st.one_of(texts, st.integers())),
    folders=st.lists(st.builds(FolderRef, id=st.integers(0, 99), name=texts), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(contact=contacts, source=st.text(max_size=12), now=moments.filter(bool))
def test_rows_and_created_events_equal_the_plain_construction(
    contact: Contact, source: str, now: datetime
) -> None:
    row = row_of(contact)
    assert list(row.items()) == list(plain_row(contact).items())
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    event = contact_event(source, None, row, now=now)
    assert event is not None
    fast = created_event(source, row, now=now)
    assert fast == encode_event(event)
    assert json.loads(fast[4]) == event
