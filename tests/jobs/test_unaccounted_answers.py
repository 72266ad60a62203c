"""Issue 15 #2: a 2xx that does not account for the items sent makes them unknown, never done.

Over loopback against the fake: its ``unaccounted`` fault processes the request (the messages
*are* delivered, the scenario *is* run, the update *is* written) and then answers 200 with a body
that says nothing of it (``{}``, an error object), or with counts that do not add up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from inro_async.client import Client
from inro_async.jobs import ItemStatus, update_many
from inro_async.jobs import contacts as jobs_contacts
from inro_async.models import Action, Trigger
from inro_async.testing import FakeInro

TOKEN = "accounting-token"
SAYS_NOTHING = [{}, {"error": "upstream timed out"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeInro]:
    server = FakeInro(batch_delay=0.01)
    server.add_organization(TOKEN, plan="pro", contacts=2_500, seed=5)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def inro(fake: FakeInro) -> AsyncIterator[Client]:
    async with Client(TOKEN, base_url=fake.base_url) as client:
        yield client


def reasons(report: Any, status: ItemStatus) -> set[str | None]:
    return {outcome.reason for _, outcome in report.outcomes() if outcome.status is status}


@pytest.mark.parametrize("body", SAYS_NOTHING)
async def test_a_send_answered_with_nothing_leaves_its_chunk_unknown_and_a_rerun_sends_nothing(
    fake: FakeInro, inro: Client, tmp_path: Path, body: dict[str, Any]
) -> None:
    journal = tmp_path / "spring.sqlite3"
    fake.inject("unaccounted", route="messages.send", body=body)
    report = await inro.messages.send_many(
        range(1, 2_001), text="Spring sale", job=journal, concurrency=1
    )
    assert report.unknown == 1_000
    assert report.unknown_items() == list(range(1, 1_001))  # the chunk the answer ignored
    assert report.done + report.skipped + report.not_found == 1_000
    [reason] = reasons(report, ItemStatus.UNKNOWN)
    assert reason is not None
    assert "accounts for 0 of the 1,000 recipients sent" in reason
    assert "may have been processed" in reason
    # It was processed: the server delivered it. A rerun must not send it blindly again.
    sends = len(fake.requests_to("messages.send"))
    again = await inro.messages.send_many(range(1, 2_001), text="Spring sale", job=journal)
    assert len(fake.requests_to("messages.send")) == sends
    assert again.unknown == 1_000
    assert max(fake.org.delivery_counts().values()) == 1


async def test_not_found_counted_but_not_named_leaves_the_chunk_unknown(
    fake: FakeInro, inro: Client
) -> None:
    """Two recipients were not found, says the answer, but it names neither: which ones?"""
    fake.inject(
        "unaccounted",
        route="messages.send",
        body={"status": "queued", "accepted_count": 998, "not_found_count": 2, "not_found": []},
    )
    report = await inro.messages.send_many(range(1, 1_001), text="Hi")
    assert (report.unknown, report.done) == (1_000, 0)
    [reason] = reasons(report, ItemStatus.UNKNOWN)
    assert reason is not None
    assert "2 not found but names 0 of them" in reason


async def test_two_names_of_one_contact_are_both_done_though_it_was_accepted_once(
    fake: FakeInro, inro: Client
) -> None:
    """The API delivers once to a contact named twice: accepted 1 for 2 recipients adds up."""
    contact = next(c for c in fake.org.contacts.values() if c["status"] == "active")
    report = await inro.messages.send_many([contact["id"], contact["username"]], text="Hi")
    assert (report.done, report.unknown) == (2, 0)
    assert fake.org.delivery_counts()[contact["id"]] == 1


@pytest.mark.parametrize("body", SAYS_NOTHING)
async def test_a_trigger_answered_with_nothing_leaves_its_chunk_unknown(
    fake: FakeInro, inro: Client, body: dict[str, Any]
) -> None:
    scenario = await inro.scenarios.create(
        title="Welcome",
        triggers=[Trigger(trigger_type="contact_create")],
        actions=[Action(action_key="hi", action_type="message", content="Hi")],
        active=True,
    )
    fake.inject("unaccounted", route="scenarios.trigger", body=body)
    report = await inro.scenarios.trigger_many(scenario.id, range(1, 1_501), concurrency=1)
    assert report.unknown_items() == list(range(1, 1_001))
    assert report.done + report.not_found == 500
    [reason] = reasons(report, ItemStatus.UNKNOWN)
    assert reason is not None
    assert "accounts for 0 of the 1,000 contacts sent" in reason
    assert len(fake.org.executions) == 1_500  # the ignored chunk ran all the same


@pytest.mark.parametrize("body", SAYS_NOTHING)
async def test_a_bulk_update_answered_with_nothing_is_unknown_not_a_task_to_follow(
    fake: FakeInro, inro: Client, body: dict[str, Any]
) -> None:
    fake.inject("unaccounted", route="contacts.bulk_update", body=body)
    updates = [(i, {"notes": "checked"}) for i in range(1, 1_501)]
    report = await update_many(inro, updates, concurrency=1, poll_interval=0.01)
    assert [entry.identifier.value for entry in report.unknown_items()] == list(range(1, 1_001))
    [reason] = reasons(report, ItemStatus.UNKNOWN)
    assert reason is not None
    assert "accounts for 0 of the 1,000 contacts sent" in reason
    assert report.done == 500


async def test_a_bulk_update_answered_with_another_chunks_task_is_not_done(
    fake: FakeInro, inro: Client
) -> None:
    """A cache replays an earlier answer: its task completed, but it says nothing of this chunk."""
    earlier = await inro.contacts.bulk_update([{"id": 2_001, "contact": {"notes": "old"}}])
    await inro.batch_tasks.wait(earlier.batch_task_id, poll_interval=0.01)
    fake.inject(
        "unaccounted",
        route="contacts.bulk_update",
        body={"batch_task_id": earlier.batch_task_id, "status": "pending"},
    )
    updates = [(i, {"notes": "checked"}) for i in range(1, 1_001)]
    report = await update_many(inro, updates, poll_interval=0.01)
    assert (report.done, report.unknown) == (0, 1_000)


async def test_a_per_contact_update_answered_with_nothing_is_unknown(
    fake: FakeInro, inro: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries with a field only ``PUT /contact`` takes go one by one (none such today).
    monkeypatch.setattr(jobs_contacts, "SINGLE_ONLY_FIELDS", frozenset({"notes"}))
    fake.inject("unaccounted", route="contacts.update_by", body={"error": "try later"})
    report = await inro.contacts.update_many(
        [(1, {"notes": "a"}), (2, {"notes": "b"})], concurrency=1
    )
    statuses = [outcome.status for _, outcome in report.outcomes()]
    assert statuses == [ItemStatus.UNKNOWN, ItemStatus.DONE]
    [reason] = reasons(report, ItemStatus.UNKNOWN)
    assert reason is not None
    assert "names no contact" in reason
    assert fake.org.contacts[1]["notes"] == "a"  # it was written
