"""``inro.contacts.changes(since=…)``: the incremental read over loopback against the fake."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from inro_async import Client
from inro_async.errors import InvalidArgumentError
from inro_async.governor._base import Quota
from inro_async.testing import FakeInro
from inro_async.testing.churn import update_contact

FAST = (Quota(100_000, 1),)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def walk(inro: Client, **options: object) -> tuple[list[int], object]:
    changes = inro.contacts.changes(**options)  # type: ignore[arg-type]
    ids = [c.id async for batch in changes for c in batch]
    return ids, changes


async def test_only_contacts_changed_since_the_cursor_minus_the_lag_are_read() -> None:
    clock = Clock()
    async with FakeInro(clock=clock, quotas=FAST) as fake:
        org = fake.add_organization("t", contacts=3_000)
        clock.now += 3600
        cursor = moment(clock.now)
        clock.now += 60
        for contact_id in (5, 1_500, 2_999):
            update_contact(org, contact_id, notes="x")
        clock.now += 600
        async with Client(token="t", base_url=fake.base_url, quotas=FAST) as inro:
            ids, changes = await walk(inro, since=cursor, lag=timedelta(minutes=5), clock=clock)
            assert sorted(ids) == [5, 1_500, 2_999]
            assert changes.requests == 1  # type: ignore[attr-defined]
            assert not changes.full  # type: ignore[attr-defined]
            assert changes.total == 3_000  # type: ignore[attr-defined]
            # the newest change (60 s after the cursor) is older than now minus the lag
            assert changes.cursor == cursor + timedelta(seconds=60)  # type: ignore[attr-defined]


async def test_the_cursor_never_passes_the_scan_start_minus_the_lag() -> None:
    clock = Clock()
    async with FakeInro(clock=clock, quotas=FAST) as fake:
        org = fake.add_organization("t", contacts=100)
        cursor = moment(clock.now)
        clock.now += 30
        update_contact(org, 9, notes="just now")
        async with Client(token="t", base_url=fake.base_url, quotas=FAST) as inro:
            ids, changes = await walk(inro, since=cursor, lag=timedelta(minutes=5), clock=clock)
            assert 9 in ids
            assert changes.cursor == cursor  # type: ignore[attr-defined]  # start - lag < cursor
            again, _ = await walk(inro, since=cursor, lag=timedelta(minutes=5), clock=clock)
            assert 9 in again  # read again next time: the caller dedupes by content


async def test_a_server_that_ignores_order_is_read_in_full_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    async with FakeInro(clock=clock, quotas=FAST) as fake:
        org = fake.add_organization("t", contacts=2_500)
        org.ignore_order = True
        cursor = moment(clock.now)
        clock.now += 60
        update_contact(org, 2_400, notes="late in id order")
        async with Client(token="t", base_url=fake.base_url, quotas=FAST) as inro:
            with caplog.at_level(logging.WARNING, "inro_async.contacts"):
                ids, changes = await walk(inro, since=cursor, clock=clock)
            assert changes.full  # type: ignore[attr-defined]
            assert "ignored order_column" in changes.reason  # type: ignore[attr-defined]
            assert sorted(ids) == list(range(1, 2_501))  # every contact, each once
            assert "ignored order_column" in caplog.text


async def test_a_negative_lag_is_refused_before_any_request() -> None:
    async with FakeInro(quotas=FAST) as fake:
        fake.add_organization("t", contacts=10)
        async with Client(token="t", base_url=fake.base_url, quotas=FAST) as inro:
            with pytest.raises(InvalidArgumentError, match="lag"):
                inro.contacts.changes(since=None, lag=timedelta(seconds=-1))
        assert fake.requests == []
