"""What the contact methods put on the wire (socket-free)."""

from __future__ import annotations

from inro_async.client import Client
from inro_async.models.contacts import ContactUpdate
from inro_async.models.filters import ContactFilter

from ._mock import MockAPI, answer, page_headers, sent_json


async def test_update_sends_only_the_fields_given_and_none_clears(
    api: MockAPI, client: Client
) -> None:
    api.on("PUT", "/contacts/7", answer(200, {"id": 7}))
    await client.contacts.update(7, email=None, folder_ids=(1, 2), custom_properties={"plan": None})
    assert sent_json(api.requests[0]) == {
        "contact": {"email": None, "folder_ids": [1, 2], "custom_properties": {"plan": None}}
    }


async def test_update_by_takes_the_identifier_and_the_change_apart(
    api: MockAPI, client: Client
) -> None:
    api.on("PUT", "/contact", answer(200, {"id": 7, "email": "new@x.test"}))
    contact = await client.contacts.update_by(
        email="old@x.test", contact=ContactUpdate(email="new@x.test")
    )
    assert contact.email == "new@x.test"
    assert sent_json(api.requests[0]) == {
        "email": "old@x.test",
        "contact": {"email": "new@x.test"},
    }


async def test_bulk_update_sends_entries_as_given(api: MockAPI, client: Client) -> None:
    api.on(
        "PUT",
        "/contacts/bulk",
        answer(202, {"batch_task_id": "bt_1", "accepted_count": 1, "not_found": [{"id": 9}]}),
    )
    result = await client.contacts.bulk_update(
        [
            {"id": 1, "contact": {"status": "optout"}},
            {"username": "ana", "contact": ContactUpdate(phone="+1")},
        ]
    )
    assert result.batch_task_id == "bt_1"
    assert str(result.not_found[0]) == "id=9"
    assert sent_json(api.requests[0]) == {
        "contacts": [
            {"id": 1, "contact": {"status": "optout"}},
            {"username": "ana", "contact": {"phone": "+1"}},
        ]
    }


async def test_filter_posts_paging_in_the_body_and_is_retried_like_a_read(
    api: MockAPI, client: Client
) -> None:
    api.on(
        "POST",
        "/contacts/filter",
        answer(503, {"error": "busy"}),
        answer(200, [{"id": 1}], page_headers(1, 1, 50)),
    )
    page = await client.contacts.filter(
        [
            ContactFilter(filter_type="status", value="active"),
            {"filter_type": "is_follower", "value": True},
        ],
        "or",
        per_page=50,
        order_column="follower_count",
    )
    assert [c.id for c in page] == [1]
    assert len(api.requests) == 2
    assert sent_json(api.requests[1]) == {
        "filters": [
            {"filter_type": "status", "operator": "eq", "value": "active"},
            {"filter_type": "is_follower", "operator": "eq", "value": True},
        ],
        "filter_logic": "or",
        "order_column": "follower_count",
        "page": 1,
        "per_page": 50,
    }


async def test_iter_filter_walks_every_page(api: MockAPI, client: Client) -> None:
    api.on(
        "POST",
        "/contacts/filter",
        answer(200, [{"id": 1}, {"id": 2}], page_headers(3, 1, 2)),
        answer(200, [{"id": 3}], page_headers(3, 2, 2)),
    )
    walk = client.contacts.iter_filter([{"filter_type": "status", "value": "active"}], per_page=2)
    assert [c.id async for c in walk] == [1, 2, 3]
    assert [sent_json(r)["page"] for r in api.requests] == [1, 2]


async def test_folder_contacts_and_messages_address_their_parent(
    api: MockAPI, client: Client
) -> None:
    api.on("GET", "/folders/4/contacts", answer(200, [{"id": 1}], page_headers(1, 1, 20)))
    api.on("GET", "/contacts/1/messages", answer(200, [{"id": 8, "content": "hi"}]))
    assert [c.id for c in await client.folders.contacts(4)] == [1]
    messages = await client.contacts.messages(1, order_direction="desc")
    assert messages.items[0].content == "hi"
    assert ("order_direction", "desc") in api.requests[1].params
