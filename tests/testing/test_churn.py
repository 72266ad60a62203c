"""The fake's contacts change over time: create, update, delete; ordered by updated_at."""

from __future__ import annotations

import asyncio

import pytest

from inro_async import Client
from inro_async.testing import FakeInro
from inro_async.testing.churn import (
    churn,
    create_contact,
    delete_contact,
    parse_rate,
    random_changes,
    update_contact,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_changes_bump_updated_at_and_lists_by_updated_at_show_them_first() -> None:
    clock = Clock()
    async with FakeInro(clock=clock) as fake:
        fake.add_organization("t", contacts=50)
        org = fake.organizations["t"]
        clock.now += 10
        update_contact(org, 7, notes="called back")
        clock.now += 10
        created = create_contact(org, notes="new")
        delete_contact(org, 3)
        async with Client(token="t", base_url=fake.base_url) as inro:
            page = await inro.contacts.list(
                per_page=5, order_column="updated_at", order_direction="desc"
            )
            assert [c.id for c in page.items[:2]] == [created["id"], 7]
            assert page.items[1].notes == "called back"
            assert page.total == 50
            ids = [c.id async for c in inro.contacts.iter()]
            assert 3 not in ids
            assert created["id"] == 51


async def test_a_deleted_contact_id_is_never_given_again() -> None:
    async with FakeInro() as fake:
        org = fake.add_organization("t", contacts=10)
        delete_contact(org, 10)
        assert create_contact(org)["id"] == 11


async def test_an_organization_that_ignores_order_answers_in_id_order() -> None:
    async with FakeInro() as fake:
        org = fake.add_organization("t", contacts=30)
        org.ignore_order = True
        async with Client(token="t", base_url=fake.base_url) as inro:
            page = await inro.contacts.list(
                per_page=30, order_column="updated_at", order_direction="desc"
            )
            assert [c.id for c in page.items] == list(range(1, 31))


def test_random_changes_touch_each_contact_once_and_are_seeded() -> None:
    first, second = FakeInro(), FakeInro()
    a, b = first.add_organization("t", contacts=100), second.add_organization("t", contacts=100)
    changes = random_changes(a, 60, seed=5)
    assert changes == random_changes(b, 60, seed=5)
    assert len({c.contact_id for c in changes}) == 60
    deleted = {c.contact_id for c in changes if c.kind == "deleted"}
    assert not deleted & set(a.contacts)


def test_a_churn_rate_reads_as_changes_per_second() -> None:
    assert parse_rate("60/min") == 1.0
    assert parse_rate("5/s") == 5.0
    assert parse_rate("360/h") == 0.1
    for bad in ("60", "x/min", "0/min", "5/week"):
        with pytest.raises(ValueError, match=r"expected|positive"):
            parse_rate(bad)


async def test_churn_changes_contacts_at_its_rate_until_cancelled() -> None:
    fake = FakeInro()
    org = fake.add_organization("t", contacts=20)
    before = {cid: dict(c) for cid, c in org.contacts.items()}
    task = asyncio.create_task(churn(org, 200.0, seed=1))
    await asyncio.sleep(0.1)
    task.cancel()
    changed = {cid for cid, c in org.contacts.items() if before.get(cid) != c}
    assert 3 <= len(changed) + len(set(before) - set(org.contacts)) <= 25
