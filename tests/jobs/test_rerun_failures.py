"""A rerun retries what failed without effect, never what may have been done; over loopback."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from inro_async.client import Client
from inro_async.errors import APIStatusError
from inro_async.jobs import ItemStatus
from inro_async.testing import FakeInro

TOKEN = "rerun-test-token"


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeInro, Any, str]]:
    server = FakeInro()
    org = server.add_organization(TOKEN, plan="pro", contacts=3_000, seed=3)
    base_url = await server.start()
    try:
        yield server, org, base_url
    finally:
        await server.close()


def bulk_bodies(server: FakeInro, since: int = 0) -> list[list[dict[str, Any]]]:
    return [
        r.body["contacts"] for r in server.requests[since:] if r.route == "contacts.bulk_update"
    ]


def message_sends(server: FakeInro) -> int:
    return Counter(r.route for r in server.requests)["messages.send"]


UPDATES = [(1, {"notes": "a"}), (2, {"folder_ids": [424242]})]


async def test_a_rerun_retries_only_the_failed_update_and_reports_it_failed_again(
    fake: tuple[FakeInro, Any, str], tmp_path: Path
) -> None:
    server, _, base_url = fake
    journal = tmp_path / "rf1.sqlite3"
    async with Client(TOKEN, base_url=base_url) as inro:
        first = await inro.contacts.update_many(UPDATES, job=journal)
        assert (first.done, first.failed) == (1, 1)
        before = len(server.requests)
        again = await inro.contacts.update_many(UPDATES, job=journal)
    assert [[entry["id"] for entry in body] for body in bulk_bodies(server, before)] == [[2]]
    assert again.requests >= 1
    assert (again.skipped, again.failed) == (1, 1)
    assert not again.ok
    assert [entry.identifier.value for entry in again.failed_items()] == [2]
    assert dict(again.earlier) == {ItemStatus.DONE: 1}
    assert "unknown folder" in str(again)


async def test_a_retried_update_that_now_succeeds_is_done_and_the_job_ok(
    fake: tuple[FakeInro, Any, str], tmp_path: Path
) -> None:
    server, org, base_url = fake
    journal = tmp_path / "rf2.sqlite3"
    async with Client(TOKEN, base_url=base_url) as inro:
        first = await inro.contacts.update_many(UPDATES, job=journal)
        assert first.failed == 1
        org.folders[424242] = {"id": 424242, "name": "Late", "color": "red"}  # fixed meanwhile
        before = len(server.requests)
        again = await inro.contacts.update_many(UPDATES, job=journal)
        third = await inro.contacts.update_many(UPDATES, job=journal)
    assert [[entry["id"] for entry in body] for body in bulk_bodies(server, before)] == [[2]]
    assert again.ok
    assert (again.done, again.skipped) == (1, 1)
    assert 424242 in [f["id"] for f in org.contacts[2]["folders"]]
    assert third.ok
    assert third.requests == 0  # everything finished: nothing is sent again
    assert third.skipped == 2
    assert dict(third.earlier) == {ItemStatus.DONE: 2}


async def test_a_send_rerun_skips_declined_and_unknown_recipients_and_sends_nothing(
    fake: tuple[FakeInro, Any, str], tmp_path: Path
) -> None:
    server, org, base_url = fake
    journal = tmp_path / "promo.sqlite3"
    recipients = [*range(1, 2_001), 99_999]  # inactive ones are skipped; 99,999 is not found
    async with Client(TOKEN, base_url=base_url) as inro:
        first = await inro.messages.send_many(recipients, text="Hi", job=journal)
        again = await inro.messages.send_many(recipients, text="Hi", job=journal)
    assert first.skipped > 0
    assert first.not_found == 1
    assert first.ok
    assert again.ok
    assert again.requests == 0
    assert again.skipped == len(recipients)
    assert message_sends(server) == 3  # 2,001 recipients, once
    assert set(org.delivery_counts().values()) == {1}


async def test_a_send_chunk_refused_outright_is_sent_on_the_rerun_and_delivered_once(
    fake: tuple[FakeInro, Any, str], tmp_path: Path
) -> None:
    server, org, base_url = fake
    journal = tmp_path / "refused.sqlite3"
    server.inject("status", route="messages.send", status=400)
    async with Client(TOKEN, base_url=base_url) as inro:
        with pytest.raises(APIStatusError):
            await inro.messages.send_many(range(1, 1_001), text="Hi", job=journal)
        assert org.delivery_counts() == {}
        again = await inro.messages.send_many(range(1, 1_001), text="Hi", job=journal)
    assert again.ok
    assert again.done > 0
    assert set(org.delivery_counts().values()) == {1}


async def test_a_failed_send_item_is_reported_again_never_resent(
    fake: tuple[FakeInro, Any, str], tmp_path: Path
) -> None:
    server, org, base_url = fake
    journal = tmp_path / "failed-item.sqlite3"
    async with Client(TOKEN, base_url=base_url) as inro:
        await inro.messages.send_many(range(1, 11), text="Hi", job=journal)
        # No send answer marks one recipient failed today; a journal that says so (a future
        # reason, or an older version) must not make a message go twice.
        with sqlite3.connect(journal) as db:
            db.execute("UPDATE chunks SET outcomes = 'F' || substr(outcomes, 2)")
        delivered = org.delivery_counts()
        again = await inro.messages.send_many(range(1, 11), text="Hi", job=journal)
    assert message_sends(server) == 1
    assert org.delivery_counts() == delivered
    assert again.requests == 0
    assert not again.ok
    assert again.failed_items() == [1]
    assert again.skipped == 9
    assert again.rate == 0.0  # nothing was finished by this run


async def test_the_rate_of_a_rerun_counts_no_item_carried_over_from_the_journal(
    fake: tuple[FakeInro, Any, str], tmp_path: Path
) -> None:
    server, _, base_url = fake
    journal = tmp_path / "rate.sqlite3"
    server.inject("reset_after", route="messages.send")
    async with Client(TOKEN, base_url=base_url) as inro:
        first = await inro.messages.send_many(range(1, 3_001), text="Hi", job=journal)
        again = await inro.messages.send_many(range(1, 3_001), text="Hi", job=journal)
    assert first.unknown == 1_000
    assert first.rate > 0
    assert again.unknown == 1_000
    assert again.carried_over == 1_000
    assert again.requests == 0
    assert again.rate == 0.0
    assert "0.0 items/s" in str(again)
