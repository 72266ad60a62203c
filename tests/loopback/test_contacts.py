"""Contacts and batch tasks over loopback HTTP: lookups, updates, bulk updates to the end."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from inro_async import (
    BadRequestError,
    BatchTask,
    Contact,
    ContactFilter,
    ContactUpdate,
    InvalidArgumentError,
    NotFoundError,
    UnprocessableEntityError,
)
from inro_async.client import Client
from inro_async.resources.batch_tasks import BatchTaskTimeoutError
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

from .conftest import active_contact, contact_where

# -- lists, search, filter -------------------------------------------------------------------


async def test_list_is_one_page_with_the_totals_from_the_headers(inro_client: Client) -> None:
    page = await inro_client.contacts.list(page=2, per_page=30)
    assert [c.id for c in page] == list(range(31, 61))
    assert (page.page, page.per_page, page.total, page.total_pages) == (2, 30, 100, 4)
    assert page.has_next


async def test_list_defaults_to_the_api_page_size_of_20(inro_client: Client) -> None:
    page = await inro_client.contacts.list()
    assert (len(page), page.per_page, page.total_pages) == (20, 20, 5)


async def test_list_orders_by_a_column(inro_client: Client, org: Organization) -> None:
    page = await inro_client.contacts.list(
        per_page=1000, order_column="follower_count", order_direction="desc"
    )
    counts = [c.follower_count or 0 for c in page]
    assert counts == sorted(counts, reverse=True)
    assert len(counts) == len(org.contacts)


async def test_a_contact_decodes_into_typed_fields(inro_client: Client, org: Organization) -> None:
    contact = (await inro_client.contacts.list(per_page=1))[0]
    raw = org.contacts[1]
    assert isinstance(contact, Contact)
    assert (contact.username, contact.status, contact.email) == (
        raw["username"],
        raw["status"],
        raw["email"],
    )
    assert contact.created_at is not None
    assert contact.created_at.tzinfo is not None
    assert contact.folder_ids == [f["id"] for f in raw["folders"]]
    assert contact.custom_properties == raw["custom_properties"]


async def test_search_matches_username_name_email_or_phone(
    inro_client: Client, org: Organization
) -> None:
    target = org.contacts[7]
    page = await inro_client.contacts.search(target["username"].upper())
    assert [c.id for c in page] == [7]
    everyone = [c async for c in inro_client.contacts.iter_search("@", per_page=10)]
    assert {c.id for c in everyone} == {cid for cid, c in org.contacts.items() if c["email"]}


async def test_filter_combines_conditions_with_and_or_or(
    inro_client: Client, org: Organization
) -> None:
    optout = {cid for cid, c in org.contacts.items() if c["status"] == "optout"}
    vip = {cid for cid, c in org.contacts.items() if c["custom_properties"].get("vip")}
    by_status = ContactFilter(filter_type="status", value="optout")
    by_vip = {"filter_type": "custom_property", "property": "vip", "value": True}
    either = await inro_client.contacts.filter([by_status, by_vip], "or", per_page=1000)
    both = await inro_client.contacts.filter([by_status, by_vip], per_page=1000)
    assert {c.id for c in either} == optout | vip
    assert {c.id for c in both} == optout & vip
    walked = [c.id async for c in inro_client.contacts.iter_filter([by_status], per_page=2)]
    assert walked == sorted(optout)


async def test_filter_with_an_unknown_filter_type_is_a_400(inro_client: Client) -> None:
    with pytest.raises(BadRequestError, match="unknown filter_type") as caught:
        await inro_client.contacts.filter([{"filter_type": "zodiac_sign", "value": "leo"}])
    assert (caught.value.status, caught.value.method, caught.value.path) == (
        400,
        "POST",
        "/contacts/filter",
    )


# -- one contact -----------------------------------------------------------------------------


async def test_get_by_id(inro_client: Client, org: Organization) -> None:
    contact = await inro_client.contacts.get(id=42)
    assert (contact.id, contact.username) == (42, org.contacts[42]["username"])


async def test_get_by_username_ignores_case(inro_client: Client, org: Organization) -> None:
    username = org.contacts[13]["username"]
    contact = await inro_client.contacts.get(username=username.upper())
    assert contact.id == 13


async def test_get_by_email(inro_client: Client, org: Organization) -> None:
    target = contact_where(org, lambda c: bool(c["email"]))
    contact = await inro_client.contacts.get(email=target["email"])
    assert contact.id == target["id"]


@pytest.mark.parametrize(
    "identifier", [{"id": 999_999}, {"username": "nobody.here"}, {"email": "no@where.test"}]
)
async def test_get_an_unknown_contact_is_a_404(
    inro_client: Client, identifier: dict[str, object]
) -> None:
    with pytest.raises(NotFoundError, match="Contact not found") as caught:
        await inro_client.contacts.get(**identifier)  # type: ignore[arg-type]
    assert (caught.value.status, caught.value.path) == (404, "/contact")


async def test_update_by_id_changes_only_the_fields_passed(
    inro_client: Client, org: Organization
) -> None:
    before = dict(org.contacts[5])
    contact = await inro_client.contacts.update(
        5, phone="+15550001111", custom_properties={"budget": 900}
    )
    assert contact.phone == org.contacts[5]["phone"] == "+15550001111"
    assert contact.custom_properties["budget"] == 900
    assert (contact.email, contact.language) == (before["email"], before["language"])


async def test_update_with_none_clears_a_field(inro_client: Client, org: Organization) -> None:
    await inro_client.contacts.update(5, language=None)
    assert org.contacts[5]["language"] is None


async def test_update_replaces_folders(inro_client: Client, org: Organization) -> None:
    contact = await inro_client.contacts.update(6, contact=ContactUpdate(folder_ids=[2, 3]))
    assert contact.folder_ids == [2, 3]
    assert [f["id"] for f in org.contacts[6]["folders"]] == [2, 3]


async def test_update_an_unknown_contact_is_a_404(inro_client: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        await inro_client.contacts.update(999_999, phone="+1")
    assert (caught.value.method, caught.value.path) == ("PUT", "/contacts/999999")


async def test_update_with_an_unknown_folder_is_a_422(
    inro_client: Client, org: Organization
) -> None:
    before = list(org.contacts[6]["folders"])
    with pytest.raises(UnprocessableEntityError, match="unknown folder"):
        await inro_client.contacts.update(6, folder_ids=[424242])
    assert org.contacts[6]["folders"] == before


async def test_update_with_an_unknown_property_slug_is_a_422(inro_client: Client) -> None:
    with pytest.raises(UnprocessableEntityError, match="unknown custom property"):
        await inro_client.contacts.update(6, custom_properties={"shoe-size": 44})


async def test_update_by_username_and_by_email(inro_client: Client, org: Organization) -> None:
    target = contact_where(org, lambda c: bool(c["email"]))
    by_name = await inro_client.contacts.update_by(username=target["username"], notes="hi")
    by_mail = await inro_client.contacts.update_by(email=target["email"], status="optout")
    assert by_name.id == by_mail.id == target["id"]
    assert (org.contacts[target["id"]]["notes"], org.contacts[target["id"]]["status"]) == (
        "hi",
        "optout",
    )


async def test_update_by_can_change_the_email_it_was_found_by(
    inro_client: Client, org: Organization
) -> None:
    target = contact_where(org, lambda c: bool(c["email"]))
    contact = await inro_client.contacts.update_by(
        email=target["email"], contact={"email": "new@address.test"}
    )
    assert contact.email == "new@address.test"
    assert (await inro_client.contacts.get(email="new@address.test")).id == target["id"]


async def test_update_by_an_unknown_identifier_is_a_404(inro_client: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        await inro_client.contacts.update_by(username="nobody.here", notes="x")
    assert (caught.value.method, caught.value.path) == ("PUT", "/contact")


# -- a contact's conversation ----------------------------------------------------------------


async def test_messages_lists_what_was_sent_newest_first(
    inro_client: Client, org: Organization
) -> None:
    contact_id = active_contact(org)["id"]
    for text in ("one", "two", "three"):
        await inro_client.messages.send(contact_id=contact_id, text=text)
    page = await inro_client.contacts.messages(contact_id)
    assert [m.content for m in page] == ["three", "two", "one"]
    oldest_first = [
        m.content
        async for m in inro_client.contacts.iter_messages(
            contact_id, per_page=2, order_direction="asc"
        )
    ]
    assert oldest_first == ["one", "two", "three"]


async def test_messages_of_an_unknown_contact_is_a_404(inro_client: Client) -> None:
    with pytest.raises(NotFoundError):
        await inro_client.contacts.messages(999_999)


# -- bulk updates and their batch task -------------------------------------------------------


async def test_bulk_update_reports_misses_at_once_and_applies_the_rest_in_background(
    inro_client: Client, org: Organization
) -> None:
    with_email = contact_where(org, lambda c: bool(c["email"]))
    result = await inro_client.contacts.bulk_update(
        [
            {"id": 1, "contact": {"phone": "+15559990001"}},
            {"username": org.contacts[2]["username"], "contact": {"custom_properties": {"vip": 1}}},
            {"email": with_email["email"], "contact": ContactUpdate(status="optout")},
            {"email": "ghost@nowhere.test", "contact": {"notes": "x"}},
        ]
    )
    assert (result.accepted_count, result.not_found_count) == (3, 1)
    assert [str(miss) for miss in result.not_found] == ["email=ghost@nowhere.test"]
    assert org.contacts[1]["phone"] != "+15559990001"  # not yet: the writes run later

    task = await inro_client.batch_tasks.wait(result.batch_task_id, poll_interval=0.01)
    assert (task.status, task.processed_count, task.failed_count) == ("completed", 3, 0)
    assert task.succeeded
    assert task.done
    assert org.contacts[1]["phone"] == "+15559990001"
    assert org.contacts[2]["custom_properties"]["vip"] == 1
    assert org.contacts[with_email["id"]]["status"] == "optout"


async def test_wait_polls_get_until_the_task_is_done(
    inro_client: Client, inro_server: FakeInro
) -> None:
    result = await inro_client.contacts.bulk_update([{"id": 3, "contact": {"notes": "n"}}])
    task = await inro_client.batch_tasks.wait(result.batch_task_id, poll_interval=0.005)
    polls = inro_server.requests_to("batch_tasks.get")
    assert task.done
    assert len(polls) >= 2
    assert {p.path for p in polls} == {f"/api/v1/batch_tasks/{result.batch_task_id}"}


async def test_a_bulk_entry_the_server_refuses_is_listed_in_the_task_errors(
    inro_client: Client, org: Organization
) -> None:
    result = await inro_client.contacts.bulk_update(
        [
            {"id": 1, "contact": {"folder_ids": [424242]}},
            {"id": 2, "contact": {"notes": "fine"}},
        ]
    )
    task = await inro_client.batch_tasks.wait(result.batch_task_id, poll_interval=0.01)
    assert (task.status, task.failed_count) == ("completed", 1)
    assert task.errors[0].index == 0
    assert "unknown folder" in (task.errors[0].error or "")
    assert org.contacts[2]["notes"] == "fine"


async def test_a_task_where_every_entry_failed_ends_failed(inro_client: Client) -> None:
    result = await inro_client.contacts.bulk_update(
        [{"id": 1, "contact": {"custom_properties": {"shoe-size": 1}}}]
    )
    task = await inro_client.batch_tasks.wait(result.batch_task_id, poll_interval=0.01)
    assert (task.status, task.succeeded) == ("failed", False)


async def test_wait_gives_up_after_its_timeout_with_the_last_state(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.batch_delay = 5.0
    result = await inro_client.contacts.bulk_update([{"id": 1, "contact": {"notes": "slow"}}])
    with pytest.raises(BatchTaskTimeoutError) as caught:
        await inro_client.batch_tasks.wait(result.batch_task_id, poll_interval=0.01, timeout=0.05)
    assert caught.value.task.id == result.batch_task_id
    assert not caught.value.task.done


async def test_batch_tasks_get_list_and_iter(inro_client: Client) -> None:
    first = await inro_client.contacts.bulk_update([{"id": 1, "contact": {"notes": "a"}}])
    second = await inro_client.contacts.bulk_update([{"id": 2, "contact": {"notes": "b"}}])
    task = await inro_client.batch_tasks.get(first.batch_task_id)
    assert isinstance(task, BatchTask)
    assert (task.id, task.task_type, task.total_count) == (
        first.batch_task_id,
        "contacts_bulk_update",
        1,
    )
    page = await inro_client.batch_tasks.list()
    assert [t.id for t in page] == [second.batch_task_id, first.batch_task_id]  # newest first
    walked = [t.id async for t in inro_client.batch_tasks.iter(per_page=1, concurrency=2)]
    assert walked == [second.batch_task_id, first.batch_task_id]


async def test_an_unknown_batch_task_is_a_404(inro_client: Client) -> None:
    with pytest.raises(NotFoundError, match="Batch task not found"):
        await inro_client.batch_tasks.get("bt_doesnotexist")


# -- fan-out over the same server ------------------------------------------------------------


async def test_update_many_applies_every_update_through_bulk_calls(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.batch_delay = 0  # done before the job's first poll (it polls once a second)
    updates = [{"id": cid, "contact": {"notes": f"note {cid}"}} for cid in range(1, 31)]
    report = await inro_client.contacts.update_many(updates)
    assert report.done == 30
    assert all(org.contacts[cid]["notes"] == f"note {cid}" for cid in range(1, 31))
    assert len(inro_server.requests_to("contacts.bulk_update")) == 1


async def test_export_writes_every_contact(
    inro_client: Client, org: Organization, tmp_path: Path
) -> None:
    target = tmp_path / "contacts.csv"
    report = await inro_client.contacts.export(target)
    assert report.contacts == len(org.contacts)
    lines = target.read_text().splitlines()
    assert len(lines) == len(org.contacts) + 1  # a header line


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The process umask set to 0o022 for the test, restored after."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_022")
async def test_export_file_permissions_follow_the_umask_like_open(
    inro_client: Client, tmp_path: Path
) -> None:
    target = tmp_path / "contacts.jsonl"
    await inro_client.contacts.export(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


async def test_export_without_a_known_suffix_asks_for_format(
    inro_client: Client, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgumentError, match=r"'x\.txt'.*pass format="):
        inro_client.contacts.export(tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


async def test_export_format_overrides_the_suffix(
    inro_client: Client, org: Organization, tmp_path: Path
) -> None:
    target = tmp_path / "x.txt"
    report = await inro_client.contacts.export(target, format="csv")
    assert report.format == "csv"
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,username,")
    assert len(lines) == len(org.contacts) + 1
