"""The contact mirror against the fake over loopback, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import pytest
from mirror_support import client_for, server_rows, shift_between_pages, started

from inro_async.errors import DeleteGuardError, PaginationError
from inro_async.mirror import ContactMirror
from inro_async.testing.churn import delete_contact, random_changes


async def events_of(mirror: ContactMirror) -> list[dict]:
    return [event async for event in mirror.events()]


async def test_initial_mirror_of_20000_contacts_equals_the_server(where: str) -> None:
    fake = await started(20_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            report = await mirror.refresh(inro)
            assert (report.created, report.updated, report.deleted) == (20_000, 0, 0)
            assert report.full
            assert report.reason == "the first refresh"
            assert report.requests == 21  # the identity check and 20 pages of 1,000
            assert await mirror.contacts() == server_rows(fake)
            events = await events_of(mirror)
            assert len({e["id"] for e in events}) == 20_000
            assert {e["type"] for e in events} == {"inro.contact.created"}
    finally:
        await fake.close()


async def test_updates_and_creates_are_read_incrementally_as_exactly_one_event_each(
    where: str,
) -> None:
    fake = await started(3_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            changes = random_changes(fake.org, 400, seed=1, kinds=("created", "updated"))
            report = await mirror.refresh(inro)
            assert not report.full, report.reason
            assert report.requests <= 3
            assert report.created + report.updated == 400
            kinds = sorted((c.kind, c.contact_id) for c in changes)
            events = (await events_of(mirror))[3_000:]
            got = sorted((e["type"].rsplit(".", 1)[1], int(e["subject"])) for e in events)
            assert got == kinds
            assert await mirror.contacts() == server_rows(fake)
            again = await mirror.refresh(inro)  # the lag window is read again: no new event
            assert again.events == 0
    finally:
        await fake.close()


@pytest.mark.parametrize("ignore_order", [False, True])
async def test_n_random_changes_make_exactly_n_events(where: str, ignore_order: bool) -> None:
    fake = await started(3_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            fake.org.ignore_order = ignore_order
            changes = random_changes(fake.org, 300, seed=2)
            report = await mirror.refresh(inro)
            if ignore_order:
                assert report.full
                assert "ignored order_column" in report.reason
            # Deletions show in a full walk: this one, or the daily one forced here.
            reconcile = await mirror.refresh(inro, full=True)
            assert report.events + reconcile.events == 300
            events = (await events_of(mirror))[3_000:]
            assert sorted((e["type"].rsplit(".", 1)[1], int(e["subject"])) for e in events) == (
                sorted((c.kind, c.contact_id) for c in changes)
            )
            assert await mirror.contacts() == server_rows(fake)
    finally:
        await fake.close()


@pytest.mark.parametrize(
    ("kind", "params"),
    [("status", {"status": 500, "times": 20}), ("short_page", {"missing": 5})],
)
async def test_a_partial_walk_changes_nothing(where: str, kind: str, params: dict) -> None:
    fake = await started(5_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            before, events_before = await mirror.contacts(), await events_of(mirror)
            random_changes(fake.org, 50, seed=3)
            fake.inject(kind, route="contacts.list", page=3, **params)
            with pytest.raises((PaginationError, Exception)) as raised:
                await mirror.refresh(inro, full=True)
            assert not isinstance(raised.value, AssertionError)
            assert await mirror.contacts() == before
            assert await events_of(mirror) == events_before
    finally:
        await fake.close()


async def test_a_mass_delete_past_the_guard_is_refused_and_changes_nothing(where: str) -> None:
    fake = await started(1_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            before = await mirror.contacts()
            for contact_id in list(fake.org.contacts)[:400]:
                fake.org.remove_contact(contact_id)
            with pytest.raises(DeleteGuardError, match="400 of the mirror's 1000"):
                await mirror.refresh(inro)
            assert await mirror.contacts() == before
    finally:
        await fake.close()


async def test_run_refreshes_until_cancelled_and_reports_progress(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    from datetime import timedelta

    fake = await started(1_500)
    progress, reports = [], []
    three = asyncio.Event()

    def on_report(report) -> None:  # type: ignore[no-untyped-def]
        reports.append(report)
        if len(reports) == 3:
            three.set()

    try:
        async with client_for(fake) as inro:
            mirror = ContactMirror(tmp_path / "crm.sqlite3", on_progress=progress.append)
            async with mirror:
                task = asyncio.create_task(
                    mirror.run(inro, every=timedelta(milliseconds=20), on_report=on_report)
                )
                await asyncio.wait_for(three.wait(), 30)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
        assert reports[0].created == 1_500
        assert all(r.events == 0 for r in reports[1:])
        assert [p.contacts for p in progress if p.phase == "page"][:2] == [1_000, 1_500]
        assert any(p.phase == "finished" for p in progress)
    finally:
        await fake.close()


async def test_the_cursor_never_passes_the_scan_start_minus_the_lag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    fake = await started(100)
    try:
        async with client_for(fake) as inro:
            update_at_now = random_changes(fake.org, 1, seed=1, kinds=("updated",))
            assert update_at_now
            mirror = ContactMirror(tmp_path / "crm.sqlite3", lag=timedelta(minutes=5))
            async with mirror:
                await mirror.refresh(inro)
                cursor = mirror._state["cursor"]  # type: ignore[index]
                newest = max(c["updated_at"] for c in fake.org.contacts.values())
                assert cursor < newest.replace("Z", "+00:00")  # held back by the lag
    finally:
        await fake.close()


async def test_a_contact_a_walk_missed_is_looked_up_before_it_is_tombstoned(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await started(1_200)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            listed = fake.org.ordered_ids
            # contact 7 shifted out of the pages (as when one before it is deleted mid-walk)
            monkeypatch.setattr(
                fake.org, "ordered_ids", lambda *a: [i for i in listed(*a) if i != 7]
            )
            fake.org.remove_contact(900)
            report = await mirror.refresh(inro, full=True)
            assert (report.deleted, report.updated) == (1, 0)
            assert 7 in {row["id"] for row in await mirror.contacts()}
            assert len(fake.requests_to("contacts.get")) == 2  # both looked up
    finally:
        await fake.close()


async def test_pages_that_shift_during_a_full_walk_never_tombstone_a_contact_that_exists(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await started(3_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            shift_between_pages(fake.org, monkeypatch, 1_000)
            report = await mirror.refresh(inro, full=True)
            monkeypatch.undo()
            kept = {row["id"] for row in await mirror.contacts()}
            assert set(fake.org.contacts) - kept <= set(range(3_001, 3_051))  # new, not yet seen
            deleted = [
                int(e["subject"]) async for e in mirror.events() if e["type"].endswith("deleted")
            ]
            assert not set(deleted) & set(fake.org.contacts), "a contact that exists, tombstoned"
            assert report.deleted == len(deleted)
            assert fake.requests_to("contacts.get"), "the unseen were looked up"
            again = await mirror.refresh(inro, full=True)  # a quiet walk: it all adds up
            assert await mirror.contacts() == server_rows(fake)
            assert again.deleted + report.deleted == 50
    finally:
        await fake.close()


async def test_a_quiet_full_walk_tombstones_many_deletions_without_a_lookup_each(
    where: str,
) -> None:
    fake = await started(3_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            for contact_id in range(100, 400, 5):  # 60 deleted before the walk
                delete_contact(fake.org, contact_id)
            report = await mirror.refresh(inro, full=True)
            assert report.deleted == 60
            assert not fake.requests_to("contacts.get")
            assert report.requests == 1 + 3 + 1  # me, three pages, the probe
            assert await mirror.contacts() == server_rows(fake)
    finally:
        await fake.close()


async def test_a_full_walk_of_a_server_ignoring_the_order_looks_up_whom_it_did_not_see(
    where: str,
) -> None:
    fake = await started(3_000)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            fake.org.ignore_order = True  # the probe cannot tell "quiet": every absentee is checked
            for contact_id in range(100, 400, 5):
                delete_contact(fake.org, contact_id)
            report = await mirror.refresh(inro, full=True)
            assert report.deleted == 60
            assert len(fake.requests_to("contacts.get")) == 60
            assert await mirror.contacts() == server_rows(fake)
    finally:
        await fake.close()
