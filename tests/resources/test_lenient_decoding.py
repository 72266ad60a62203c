"""One odd value never costs a whole answer: null means absent, ids may come as numbers,
timestamps the SDK cannot read are kept as sent. A value of the wrong kind still fails loudly."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from inro_async import APIResponseValidationError
from inro_async.client import Client
from inro_async.models.automation import Scenario
from inro_async.models.batch_tasks import BatchTask
from inro_async.models.contacts import Contact
from inro_async.models.messaging import SendResult

from ._mock import MockAPI, answer, page_headers


def contacts(n: int) -> list[dict[str, object]]:
    return [
        {"id": i, "username": f"u{i}", "created_at": "2026-01-02T03:04:05Z", "folders": []}
        for i in range(1, n + 1)
    ]


async def test_a_null_container_in_one_contact_does_not_lose_the_page(
    api: MockAPI, client: Client
) -> None:
    items = contacts(1000)
    items[500]["custom_properties"] = None
    items[600]["folders"] = None
    items[700]["last_messages"] = None
    api.on("GET", "/contacts", answer(200, items, page_headers(1000, 1, 1000)))
    page = await client.contacts.list(per_page=1000)
    assert [c.id for c in page.items] == list(range(1, 1001))
    odd = page.items[500]
    assert odd.custom_properties == {}
    assert odd.custom_properties.get("plan") is None
    assert page.items[600].folders == []
    assert page.items[600].folder_ids == []
    assert page.items[700].last_messages == []
    assert odd.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_an_accepted_bulk_update_with_a_numeric_task_id_returns_it_as_a_string(
    api: MockAPI, client: Client
) -> None:
    body = {"batch_task_id": 98765, "status": "pending", "accepted_count": 1, "not_found": None}
    api.on("PUT", "/contacts/bulk", answer(202, body))
    result = await client.contacts.bulk_update([{"id": 1, "contact": {"phone": "+1"}}])
    assert result.batch_task_id == "98765"
    assert result.accepted_count == 1
    assert result.not_found == []


async def test_null_scalars_with_a_default_take_the_default(api: MockAPI, client: Client) -> None:
    api.on("GET", "/scenarios/1", answer(200, {"id": 1, "active": None, "triggers": None}))
    api.on("GET", "/batch_tasks/bt_1", answer(200, {"id": "bt_1", "status": None, "errors": None}))
    scenario = await client.scenarios.get(1)
    assert scenario == Scenario(id=1)
    assert scenario.active is False
    task = await client.batch_tasks.get("bt_1")
    assert task == BatchTask(id="bt_1")
    assert task.status == "pending"


async def test_a_numeric_batch_task_id_becomes_a_string(api: MockAPI, client: Client) -> None:
    api.on("GET", "/batch_tasks/42", answer(200, {"id": 42, "status": "completed"}))
    task = await client.batch_tasks.get("42")
    assert (task.id, task.done) == ("42", True)


async def test_a_null_list_in_a_send_result_is_empty(api: MockAPI, client: Client) -> None:
    body = {"status": "queued", "accepted_count": 1, "skipped": None}
    api.on("POST", "/messages", answer(202, body))
    result = await client.messages.send(contact_id=1, text="hi")
    assert result == SendResult(status="queued", accepted_count=1)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("", None),
        ("2024-05-01 10:00:00 UTC", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01 12:00:00 +0200", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.5Z", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("last tuesday", "last tuesday"),
    ],
)
async def test_timestamps_are_read_when_possible_and_kept_as_sent_otherwise(
    api: MockAPI, client: Client, sent: str, kept: datetime | str | None
) -> None:
    items = contacts(3)
    items[1]["created_at"] = sent
    items[1]["last_comments"] = [{"text": "x", "received_at": sent}]
    api.on("GET", "/contacts", answer(200, items, page_headers(3, 1, 20)))
    page = await client.contacts.list()
    odd = page.items[1]
    assert odd.created_at == kept
    assert odd.last_comments[0].received_at == kept
    assert page.items[0].created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_an_identifier_object_echoed_with_a_numeric_username_is_kept(
    api: MockAPI, client: Client
) -> None:
    body = {"status": "queued", "accepted_count": 0, "not_found": [{"username": 1234}]}
    api.on("POST", "/messages", answer(202, body))
    result = await client.messages.send(contact_username="1234", text="hi")
    assert result.not_found[0].username == "1234"


async def test_a_value_of_the_wrong_kind_still_fails_and_names_where(
    api: MockAPI, client: Client
) -> None:
    items = contacts(3)
    items[2]["id"] = "not-a-number"
    items[0]["custom_properties"] = None  # forgiven, but does not hide the real problem
    api.on("GET", "/contacts", answer(200, items, page_headers(3, 1, 20)))
    with pytest.raises(APIResponseValidationError, match=r"\$\[2\]\.id"):
        await client.contacts.list()


async def test_a_body_that_is_null_where_an_object_is_expected_still_fails(
    api: MockAPI, client: Client
) -> None:
    api.on("GET", "/contact", answer(200, b"null"))
    with pytest.raises(APIResponseValidationError):
        await client.contacts.get(id=7)


def test_a_model_built_by_hand_is_unchanged() -> None:
    assert Contact(id=1).custom_properties == {}


def test_the_second_pass_reads_every_other_value_as_the_first_does() -> None:
    from inro_async._transport import decoder_for

    from .test_models import CONTACT

    fast = decoder_for(list[Contact]).decode(b"[" + CONTACT + b"]")
    both = decoder_for(list[Contact]).decode(b"[" + CONTACT + b', {"id": 1, "folders": null}]')
    assert both == [*fast, Contact(id=1)]
    assert repr(both[0]) == repr(fast[0])


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 50_000 + b"]" * 50_000,  # the typed pass gives up
        b'{"id": 1, "custom_properties": {"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}",
    ],
    ids=["as the whole body", "under a field"],
)
def test_a_body_nested_too_deeply_is_a_decode_error_not_a_recursion_error(body: bytes) -> None:
    from inro_async.models._lenient import TOO_DEEP, LenientDecoder

    with pytest.raises(msgspec.DecodeError, match=TOO_DEEP):
        LenientDecoder(Contact).decode(body)
