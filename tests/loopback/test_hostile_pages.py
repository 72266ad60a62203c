"""Page walks against a server that lies about its pages (issue 15, defect 4), over loopback.

The fixture organization has 100 contacts; walked 20 a page, that is 5 pages. The fake's paging
faults (``testing.faults``): ``ignore_page`` answers page 1 to every page (a cache keyed
without the query), ``lying_total`` shifts ``X-Total``, ``short_page`` leaves items out of one
page. A walk stops with a ``PaginationError`` naming the page rather than loop, stop early or
report a shorter list as the whole; a list that merely changes while walked is no error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest

from inro_async import APIResponseValidationError, PaginationError
from inro_async.client import Client
from inro_async.jobs import ProgressEvent, export_contacts
from inro_async.models.contacts import Contact
from inro_async.pagination import Page
from inro_async.testing import FakeInro
from inro_async.testing.churn import create_contact, delete_contact
from inro_async.testing.store import Organization

ALL = list(range(1, 101))
PER_PAGE = 20


async def walk_pages(
    pages: AsyncGenerator[Page[Contact], None],
) -> tuple[list[Page[Contact]], PaginationError | None]:
    """The pages a walk yielded before it ended, and the error it ended with, if any."""
    seen: list[Page[Contact]] = []
    async with asyncio.timeout(10):  # a walk that never ends fails here instead of hanging
        try:
            async for page in pages:
                seen.append(page)
        except PaginationError as error:
            return seen, error
    return seen, None


async def walk_items(
    items: AsyncGenerator[Contact, None],
) -> tuple[list[int], PaginationError | None]:
    """The ids a walk yielded before it ended, and the error it ended with, if any."""
    seen: list[int] = []
    async with asyncio.timeout(10):
        try:
            async for contact in items:
                seen.append(contact.id)
        except PaginationError as error:
            return seen, error
    return seen, None


def pages_asked(server: FakeInro) -> list[int]:
    return [int(r.query["page"]) for r in server.requests_to("contacts.list")]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- a server that ignores ?page= ------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_server_answering_page_one_to_every_page_stops_the_walk_at_page_two(
    inro_client: Client, inro_server: FakeInro, concurrency: int
) -> None:
    inro_server.inject("ignore_page", route="contacts.list", times=100)
    walk = inro_client.contacts.iter_pages(per_page=PER_PAGE, concurrency=concurrency)
    pages, error = await walk_pages(walk)
    assert [p.page for p in pages] == [1]
    assert isinstance(error, APIResponseValidationError)  # a 2xx the SDK cannot use
    assert error.page == 2
    assert "page 2 was asked for and the server answered page 1" in str(error)
    assert len(pages_asked(inro_server)) <= 1 + concurrency


async def test_without_headers_a_server_ignoring_page_is_caught_by_its_repeated_items(
    inro_client: Client, inro_server: FakeInro
) -> None:
    # No X-Page, no X-Total: before, the walk took every full page as "more to come" forever.
    inro_server.inject("ignore_page", route="contacts.list", times=1_000)
    inro_server.inject("no_pagination_headers", route="contacts.list", times=1_000)
    seen, error = await walk_items(inro_client.contacts.iter(per_page=PER_PAGE))
    assert seen == ALL[:20]  # page 1, once
    assert error is not None
    assert error.page == 2
    assert "page 2 holds the same 20 items as page 1" in str(error)
    assert pages_asked(inro_server) == [1, 2]


# -- a short page in the middle --------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_short_page_in_the_middle_is_fetched_past_then_reported(
    inro_client: Client, inro_server: FakeInro, concurrency: int
) -> None:
    # Page 2 holds 19 of its 20 while X-Total says 100: the walk does not end there, it reads
    # pages 3-5 (already fetched ahead with concurrency 4) and then says what is missing.
    inro_server.inject("short_page", route="contacts.list", page=2, missing=1)
    walk = inro_client.contacts.iter_pages(per_page=PER_PAGE, concurrency=concurrency)
    pages, error = await walk_pages(walk)
    assert [(p.page, len(p)) for p in pages] == [(1, 20), (2, 19), (3, 20), (4, 20), (5, 20)]
    assert error is not None
    assert error.page == 2
    assert "99 items, 1 fewer than X-Total counts (100)" in str(error)
    assert "page 2 held 19 of the 20" in str(error)
    assert sorted(pages_asked(inro_server)) == [1, 2, 3, 4, 5]  # each page once


async def test_contacts_iter_over_a_short_page_yields_the_rest_then_raises(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("short_page", route="contacts.list", page=3, missing=5)
    seen, error = await walk_items(inro_client.contacts.iter(per_page=PER_PAGE))
    assert seen == [*ALL[:55], *ALL[60:]]  # page 3 lost its last 5; nothing else
    assert error is not None
    assert error.page == 3
    assert "95 items, 5 fewer than X-Total counts (100)" in str(error)


# -- a lying X-Total -------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_an_overstated_total_is_an_error_at_the_empty_page_it_counts_items_on(
    inro_client: Client, inro_server: FakeInro, concurrency: int
) -> None:
    inro_server.inject("lying_total", route="contacts.list", times=100, by=30)  # "130"
    walk = inro_client.contacts.iter_pages(per_page=PER_PAGE, concurrency=concurrency)
    pages, error = await walk_pages(walk)
    assert [p.page for p in pages] == [1, 2, 3, 4, 5]
    assert error is not None
    assert error.page == 6
    assert "page 6 is empty, but its headers place 20 items on it" in str(error)


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_an_understated_total_is_an_error_at_the_page_that_goes_past_it(
    inro_client: Client, inro_server: FakeInro, concurrency: int
) -> None:
    # "65" contacts, 4 pages: page 4 brings the walk to 80. Before, it ended there quietly.
    inro_server.inject("lying_total", route="contacts.list", times=100, by=-35)
    walk = inro_client.contacts.iter_pages(per_page=PER_PAGE, concurrency=concurrency)
    pages, error = await walk_pages(walk)
    assert [p.page for p in pages] == [1, 2, 3]
    assert error is not None
    assert error.page == 4
    assert "brings the walk to 80 items, more than the 65 X-Total counts" in str(error)


async def test_a_count_off_by_one_is_forgiven_as_a_list_read_while_it_changed(
    inro_client: Client, inro_server: FakeInro
) -> None:
    # "101": the count and the page are read in two steps; one contact off is no lie.
    inro_server.inject("lying_total", route="contacts.list", times=100, by=1)
    ids = [c.id async for c in inro_client.contacts.iter(per_page=PER_PAGE, concurrency=4)]
    assert ids == ALL


# -- a list that changes while it is walked --------------------------------------------------


async def test_contacts_deleted_during_a_walk_are_no_error(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    # Offset paging: 5 contacts deleted from page 1 after it was read shift the rest back by 5,
    # so the 5 after the pages already read are skipped and the walk ends with the 95 the server
    # now counts. The async walk (concurrency 1) asks for page 2 only when the loop comes back
    # for it; the blocking client's walk fetches the next page while the caller works through
    # this one, so page 2 may already have been read, unshifted, by the time of the deletion.
    # The fake reads its store in the same step as it records a request, so the log says which.
    seen: list[int] = []
    read_ahead = False
    async for page in inro_client.contacts.iter_pages(per_page=PER_PAGE):
        seen += [c.id for c in page]
        if page.page == 1:
            read_ahead = any(
                r.query["page"] == "2" and not r.throttled
                for r in inro_server.requests_to("contacts.list")
            )
            for contact_id in ALL[:5]:
                org.remove_contact(contact_id)
    if isinstance(inro_client, Client):
        assert not read_ahead  # nothing is fetched before it is asked for
    read = 40 if read_ahead else 20
    assert seen == [*ALL[:read], *ALL[read + 5 :]]
    assert page.total == 95


async def test_a_list_shrinking_by_pages_under_a_concurrent_walk_keeps_what_was_fetched(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    # Pages 4 and 5 arrive with their items; then 50 contacts go, and page 3 (slow) says the
    # list ends there. Before, the walk ended at page 3 and dropped pages 4 and 5 unseen.
    inro_server.inject("latency", route="contacts.list", page=3, seconds=0.3)

    async def shrink_after_page_2() -> AsyncGenerator[Page[Contact], None]:
        async for page in inro_client.contacts.iter_pages(per_page=PER_PAGE, concurrency=4):
            yield page
            if page.page == 2:
                await asyncio.sleep(0.15)  # pages 4 and 5 are back by now
                for contact_id in ALL[50:]:
                    org.remove_contact(contact_id)

    pages, error = await walk_pages(shrink_after_page_2())
    assert [(p.page, len(p)) for p in pages] == [(1, 20), (2, 20), (3, 10)]
    assert error is not None
    assert error.page == 3
    assert "page 4, already fetched, holds 20 items" in str(error)


# -- export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
@pytest.mark.parametrize("concurrency", [1, 4])
async def test_an_export_over_a_short_page_fails_and_leaves_no_file(
    inro_client: Client, inro_server: FakeInro, tmp_path: Path, suffix: str, concurrency: int
) -> None:
    # Before: "export: 39 contacts (2 pages)", a success with 39 of 100, pages 3-5 dropped.
    inro_server.inject("short_page", route="contacts.list", page=2, missing=1)
    target = tmp_path / f"contacts.{suffix}"
    job = export_contacts(inro_client, target, per_page=PER_PAGE, concurrency=concurrency)
    with pytest.raises(PaginationError, match="99 items, 1 fewer than X-Total") as caught:
        await job
    assert caught.value.page == 2
    assert leftovers(tmp_path) == []  # no file, no temporary file


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
async def test_an_export_behind_a_cache_that_ignores_page_fails_at_page_two(
    inro_client: Client, inro_server: FakeInro, tmp_path: Path, suffix: str
) -> None:
    inro_server.inject("ignore_page", route="contacts.list", times=100)
    job = export_contacts(inro_client, tmp_path / f"contacts.{suffix}", per_page=PER_PAGE)
    with pytest.raises(PaginationError) as caught:
        await job
    assert caught.value.page == 2
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
async def test_an_export_report_says_how_many_the_server_counted(
    inro_client: Client, tmp_path: Path, suffix: str
) -> None:
    report = await export_contacts(
        inro_client, tmp_path / f"contacts.{suffix}", per_page=PER_PAGE, concurrency=4
    )
    assert (report.contacts, report.total, report.total_at_start) == (100, 100, 100)
    assert (report.missing, report.changed) == (0, False)
    assert "100 of 100 contacts" in str(report)
    assert report.snapshot  # nothing changed as it was read: the probe says so
    assert "may have shifted" not in str(report)


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
async def test_an_export_of_a_list_that_shrank_says_so(
    inro_client: Client, org: Organization, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"contacts.{suffix}"

    def delete_after_the_first_page(event: ProgressEvent) -> None:
        if event.kind == "progress" and event.done == PER_PAGE and 1 in org.contacts:
            for contact_id in ALL[:5]:
                org.remove_contact(contact_id)

    job = export_contacts(
        inro_client,
        target,
        per_page=PER_PAGE,
        concurrency=1,
        on_progress=delete_after_the_first_page,
    )
    report = await job
    assert (report.contacts, report.total, report.total_at_start) == (95, 95, 100)
    assert report.changed
    assert report.missing == 0
    assert "the list changed while it was read: 100 contacts at the start, 95 at the end" in str(
        report
    )
    rows = target.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 95 + (suffix == "csv")  # the header row
    if suffix == "jsonl":
        ids = [json.loads(row)["id"] for row in rows]
        assert ids == [*ALL[:20], *ALL[25:]]


async def test_an_export_while_contacts_come_and_go_is_no_snapshot_and_says_so(
    inro_client: Client, inro_server: FakeInro, org: Organization, tmp_path: Path
) -> None:
    """Deleted and created in pairs, the count holds, yet every later page shifts."""

    def churn_after_each_page(event: ProgressEvent) -> None:
        if event.kind == "progress" and event.done < 100:
            for contact_id in sorted(org.contacts)[:3]:
                delete_contact(org, contact_id)
                create_contact(org)

    report = await export_contacts(
        inro_client,
        tmp_path / "contacts.jsonl",
        per_page=PER_PAGE,
        concurrency=1,
        on_progress=churn_after_each_page,
    )
    assert (report.total, report.total_at_start, report.changed) == (100, 100, False)
    assert report.changed_since_start is True
    assert not report.snapshot
    assert "not a snapshot: contacts changed while it was read" in str(report)
    assert "a contact can be missing" in str(report)
    assert len(inro_server.requests_to("contacts.list")) == 5 + 1  # the pages, the probe


async def test_rows_a_shifted_page_repeats_are_left_out_and_counted(
    inro_client: Client, org: Organization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Newest first, a contact created mid-walk pushes the last rows of a page onto the next."""
    listed = org.ordered_ids
    monkeypatch.setattr(org, "ordered_ids", lambda *a: list(reversed(listed(*a))))

    def create_after_each_page(event: ProgressEvent) -> None:
        if event.kind == "progress" and event.done in (PER_PAGE, 2 * PER_PAGE - 2):
            for _ in range(2):
                create_contact(org)

    target = tmp_path / "contacts.jsonl"
    report = await export_contacts(
        inro_client, target, per_page=PER_PAGE, concurrency=1, on_progress=create_after_each_page
    )
    ids = [json.loads(row)["id"] for row in target.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == report.contacts
    assert report.repeated == 4
    assert not report.snapshot
    assert "4 repeated rows left out" in str(report)
