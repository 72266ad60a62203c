"""Models decode from bytes leniently: unknown fields, missing fields, numbers as strings."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from inro_async._transport import decoder_for
from inro_async.models.batch_tasks import BatchTask
from inro_async.models.contact_properties import ContactProperty
from inro_async.models.contacts import BulkUpdateResult, Contact, ContactUpdate
from inro_async.models.folders import Folder, MembershipResult
from inro_async.models.media import Media, MediaFile
from inro_async.models.messaging import SendResult

CONTACT = b"""{
  "id": 42, "name": "Jane", "username": "jane_example", "instagram_url": null,
  "profile_picture": "https://cdn.example/jane.jpg", "status": "active", "notes": null,
  "is_follower": true, "email": "jane@example.com", "real_name": null, "phone": "+15550100",
  "language": "en", "follower_count": 1200, "follower_growth": 1.5, "bio": "hi",
  "website": null, "created_at": "2026-11-23T04:20:59Z", "updated_at": "2026-11-24T00:00:00Z",
  "custom_properties": {"plan": "pro", "score": 7},
  "folders": [{"id": 3, "name": "VIP"}],
  "last_messages": [{"content": "hey", "received_at": "2026-11-23T05:00:00Z", "received": true}],
  "last_comments": [{"text": "nice", "received_at": null}],
  "last_mentions": [{"text": "@acme", "received_at": "2026-11-22T00:00:00Z"}]
}"""


def test_contact_decodes_every_documented_field() -> None:
    contact = decoder_for(Contact).decode(CONTACT)
    assert contact.id == 42
    assert contact.username == "jane_example"
    assert contact.is_follower is True
    assert contact.follower_growth == 1.5
    assert contact.created_at == datetime(2026, 11, 23, 4, 20, 59, tzinfo=UTC)
    assert contact.custom_properties == {"plan": "pro", "score": 7}
    assert contact.folder_ids == [3]
    assert contact.last_messages[0].received is True
    assert contact.last_comments[0].received_at is None
    assert contact.last_mentions[0].text == "@acme"


def test_unknown_fields_are_ignored_at_every_level() -> None:
    raw = (
        b'{"id": 1, "brand_new": {"x": [1]}, "folders": [{"id": 2, "name": "a", "emoji": "*"}],'
        b' "last_messages": [{"content": "c", "attachments": []}]}'
    )
    contact = decoder_for(Contact).decode(raw)
    assert contact.id == 1
    assert contact.folders[0].id == 2
    assert contact.last_messages[0].content == "c"


def test_missing_fields_take_their_defaults() -> None:
    contact = decoder_for(Contact).decode(b'{"id": 5}')
    assert contact.username is None
    assert contact.custom_properties == {}
    assert contact.folders == []
    assert contact.created_at is None


def test_numbers_and_booleans_sent_as_strings_are_accepted() -> None:
    raw = b'{"id": "9", "follower_count": "1200", "follower_growth": "0.25", "is_follower": "true"}'
    contact = decoder_for(Contact).decode(raw)
    assert (contact.id, contact.follower_count, contact.follower_growth) == (9, 1200, 0.25)
    assert contact.is_follower is True


def test_a_bare_array_decodes_into_a_list_of_contacts_in_one_call() -> None:
    contacts = decoder_for(list[Contact]).decode(b"[" + b",".join([CONTACT] * 3) + b"]")
    assert [c.id for c in contacts] == [42, 42, 42]


def test_models_are_immutable() -> None:
    contact = Contact(id=1)
    with pytest.raises(AttributeError):
        contact.id = 2  # type: ignore[misc]


def test_repr_shows_only_what_the_model_holds() -> None:
    assert repr(Contact(id=7, username="jane")) == "Contact(id=7, username='jane')"


def test_contact_update_sends_only_set_fields_and_null_to_clear() -> None:
    update = ContactUpdate(email=None, custom_properties={"plan": None})
    assert msgspec.json.decode(msgspec.json.encode(update)) == {
        "email": None,
        "custom_properties": {"plan": None},
    }
    assert msgspec.json.encode(ContactUpdate()) == b"{}"
    assert ContactUpdate().is_empty()


def test_batch_task_is_done_only_in_a_terminal_status() -> None:
    decode = decoder_for(BatchTask).decode
    assert not decode(b'{"id": "bt_1", "status": "pending"}').done
    assert not decode(b'{"id": "bt_1", "status": "processing"}').done
    assert decode(b'{"id": "bt_1", "status": "completed"}').done
    failed = decode(
        b'{"id": "bt_1", "status": "failed", "failed_count": "1",'
        b' "errors": [{"index": 0, "identifier": {"email": "a@b.c"}, "error": "unknown slug"}]}'
    )
    assert failed.done
    assert not failed.succeeded
    assert failed.errors[0].identifier is not None
    assert str(failed.errors[0].identifier) == "email=a@b.c"


def test_send_result_keeps_skip_reasons_and_echoed_identifiers() -> None:
    result = decoder_for(SendResult).decode(
        b'{"status": "queued", "accepted_count": 2, "skipped_count": 1,'
        b' "skipped": [{"username": "bob", "reason": "status is optout"}],'
        b' "not_found_count": 1, "not_found": [{"id": 99}]}'
    )
    assert result.skipped[0].username == "bob"
    assert str(result.skipped[0]) == "username=bob (status is optout)"
    assert result.not_found[0].id == 99


@pytest.mark.parametrize(
    ("model", "raw"),
    [
        (BulkUpdateResult, b'{"batch_task_id": "bt_9", "accepted_count": "2", "not_found": []}'),
        (Folder, b'{"id": "3", "name": "VIP", "color": "red", "contacts_count": "10"}'),
        (MembershipResult, b'{"added_count": 2, "not_found": ["5"]}'),
        (ContactProperty, b'{"slug": "plan", "title": "Plan", "choices": null}'),
        (Media, b'{"id": 1, "media_type": "REEL", "timestamp": "2026-01-01T00:00:00Z"}'),
        (MediaFile, b'{"id": 1, "media_type": "image", "size": "2048", "future": true}'),
    ],
)
def test_every_model_decodes_leniently(model: type[msgspec.Struct], raw: bytes) -> None:
    decoded = decoder_for(model).decode(raw)
    assert isinstance(decoded, model)
