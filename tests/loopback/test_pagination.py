"""Pagination over loopback HTTP: ``list``, ``iter``, ``iter_pages(concurrency=)``, missing headers.

The fixture organization has 100 contacts; the paging headers say so unless a fault drops them.
"""

from __future__ import annotations

import pytest

from inro_async import APIResponseValidationError, InternalServerError, InvalidArgumentError
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

ALL = list(range(1, 101))


def pages_asked(server: FakeInro) -> list[int]:
    return [int(r.query["page"]) for r in server.requests_to("contacts.list")]


async def test_iter_walks_every_contact_in_order(
    inro_client: Client, inro_server: FakeInro
) -> None:
    ids = [c.id async for c in inro_client.contacts.iter(per_page=15)]
    assert ids == ALL
    assert pages_asked(inro_server) == [1, 2, 3, 4, 5, 6, 7]


async def test_iter_defaults_to_pages_of_1000(inro_client: Client, inro_server: FakeInro) -> None:
    ids = [c.id async for c in inro_client.contacts.iter()]
    assert ids == ALL
    (only,) = inro_server.requests_to("contacts.list")
    assert only.query["per_page"] == "1000"


@pytest.mark.parametrize("concurrency", [2, 4, 8])
async def test_a_concurrent_walk_yields_in_order_and_asks_each_page_once(
    inro_client: Client, inro_server: FakeInro, concurrency: int
) -> None:
    ids = [c.id async for c in inro_client.contacts.iter(per_page=9, concurrency=concurrency)]
    assert ids == ALL
    assert sorted(pages_asked(inro_server)) == list(range(1, 13))  # 12 announced pages, no more


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_walk_follows_a_list_that_grows_while_it_runs(
    inro_client: Client, org: Organization, concurrency: int
) -> None:
    # Page one announces 100 contacts (4 pages of 30); 50 arrive before the walk ends, and
    # later pages announce 6 pages: every one of the 150 is walked, once.
    walked: list[int] = []
    async for page in inro_client.contacts.iter_pages(per_page=30, concurrency=concurrency):
        walked += [c.id for c in page]
        if page.page == 1:
            for n in range(50):
                org.add_contact({**org.contacts[1], "id": 10_000 + n, "username": f"new{n}"})
    assert walked == [*ALL, *range(10_000, 10_050)]


async def test_iter_pages_gives_each_page_with_the_totals(inro_client: Client) -> None:
    pages = [p async for p in inro_client.contacts.iter_pages(per_page=30, concurrency=3)]
    assert [(p.page, len(p)) for p in pages] == [(1, 30), (2, 30), (3, 30), (4, 10)]
    assert {(p.total, p.total_pages, p.per_page) for p in pages} == {(100, 4, 30)}
    assert [p.has_next for p in pages] == [True, True, True, False]
    assert pages[0].response is not None
    assert "X-RateLimit-Remaining" in pages[0].response.headers


async def test_pages_are_in_flight_together(inro_client: Client, inro_server: FakeInro) -> None:
    inro_server.inject("latency", route="contacts.list", times=20, seconds=0.2)
    walked = [p.page async for p in inro_client.contacts.iter_pages(per_page=20, concurrency=4)]
    assert walked == [1, 2, 3, 4, 5]
    arrivals = sorted(
        (int(r.query["page"]), r.arrived_at) for r in inro_server.requests_to("contacts.list")
    )
    # Pages 2 to 5 all left before the first of them could have come back (200 ms each).
    window = [at for page, at in arrivals if page >= 2]
    assert max(window) - min(window) < 0.1


async def test_leaving_a_walk_early_cancels_the_pages_in_flight(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("latency", route="contacts.list", times=20, seconds=0.05)
    walk = inro_client.contacts.iter(per_page=10, concurrency=3)
    async for contact in walk:
        assert contact.id == 1
        break
    await walk.aclose()
    assert len(pages_asked(inro_server)) <= 1 + 3
    again = [c.id async for c in inro_client.contacts.iter(per_page=50)]  # the client is fine
    assert again == ALL


async def test_an_empty_list_is_one_request_and_no_items(
    inro_client: Client, inro_server: FakeInro
) -> None:
    assert [f async for f in inro_client.media_files.iter(concurrency=4)] == []
    page = await inro_client.media_files.list()
    assert (len(page), page.total, page.total_pages, page.has_next) == (0, 0, 0, False)
    assert len(inro_server.requests_to("media_files.list")) == 2


async def test_a_page_past_the_end_is_empty(inro_client: Client) -> None:
    page = await inro_client.contacts.list(page=9, per_page=20)
    assert (len(page), page.page, page.total) == (0, 9, 100)
    assert not page.has_next


async def test_per_page_above_the_cap_is_refused_before_sending(
    inro_client: Client, inro_server: FakeInro
) -> None:
    with pytest.raises(InvalidArgumentError, match="per_page"):
        await inro_client.contacts.list(per_page=1001)
    with pytest.raises(InvalidArgumentError, match="page"):
        await inro_client.contacts.list(page=0)
    with pytest.raises(InvalidArgumentError, match="concurrency"):
        inro_client.contacts.iter(concurrency=0)
    assert inro_server.requests == []


# -- when the paging headers are missing -----------------------------------------------------


async def test_without_headers_the_walk_goes_on_until_a_short_page(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("no_pagination_headers", route="contacts.list", times=50)
    page = await inro_client.contacts.list(per_page=30)
    assert (page.total, page.total_pages, page.page, page.per_page) == (None, None, 1, 30)
    ids = [c.id async for c in inro_client.contacts.iter(per_page=30)]
    assert ids == ALL
    assert pages_asked(inro_server) == [1, 1, 2, 3, 4]


async def test_without_headers_an_exact_multiple_ends_on_an_empty_page(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("no_pagination_headers", route="contacts.list", times=50)
    ids = [c.id async for c in inro_client.contacts.iter(per_page=25)]
    assert ids == ALL  # nothing lost, nothing twice
    assert pages_asked(inro_server) == [1, 2, 3, 4, 5]


async def test_without_headers_a_concurrent_walk_overshoots_by_less_than_its_window(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("no_pagination_headers", route="contacts.list", times=50)
    ids = [c.id async for c in inro_client.contacts.iter(per_page=15, concurrency=4)]
    assert ids == ALL
    asked = pages_asked(inro_server)
    assert set(range(1, 8)) <= set(asked)
    assert len(asked) <= 7 + 4 - 1


# -- failures in the middle of a walk --------------------------------------------------------


async def test_a_5xx_on_one_page_is_retried_and_the_walk_completes(
    fast: Client, inro_server: FakeInro
) -> None:
    ids = []
    async for page in fast.contacts.iter_pages(per_page=20):
        if page.page == 1:
            inro_server.inject("status", route="contacts.list", status=502)
        ids += [c.id for c in page]
    assert ids == ALL
    assert [r.status for r in inro_server.requests_to("contacts.list")] == [
        200,
        502,
        200,
        200,
        200,
        200,
    ]


async def test_a_page_that_keeps_failing_stops_the_walk_with_the_error(
    fast: Client, inro_server: FakeInro
) -> None:
    seen: list[int] = []

    async def walk() -> None:
        async for contact in fast.contacts.iter(per_page=40):
            seen.append(contact.id)
            if contact.id == 1:
                inro_server.inject("status", route="contacts.list", status=503, times=3)

    with pytest.raises(InternalServerError) as caught:
        await walk()
    assert seen == list(range(1, 41))  # the first page, then the error: never a silent stop
    assert caught.value.status == 503
    assert "outcome unknown" not in str(caught.value)  # a GET: nothing to be unsure about


async def test_a_truncated_page_is_an_error_not_a_shorter_list(
    fast: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("truncate", route="contacts.list")
    with pytest.raises(APIResponseValidationError, match="malformed JSON") as caught:
        [c async for c in fast.contacts.iter(per_page=50)]
    assert (caught.value.status, caught.value.path) == (200, "/contacts")


@pytest.mark.parametrize("resource", ["scenarios", "campaigns", "segments", "executions"])
@pytest.mark.parametrize("concurrency", [0, 65])
async def test_every_walk_refuses_a_concurrency_outside_1_to_64(
    inro_client: Client, inro_server: FakeInro, resource: str, concurrency: int
) -> None:
    # Raised when the walk is created, like every walk (not at its first page).
    with pytest.raises(InvalidArgumentError, match="concurrency"):
        getattr(inro_client, resource).iter(concurrency=concurrency)
    assert inro_server.requests == []


# -- lists asked by POST ---------------------------------------------------------------------


async def test_a_filter_walk_pages_through_its_body_and_sees_each_contact_once(
    inro_client: Client, org: Organization
) -> None:
    # contacts.filter carries page, per_page and the order in its JSON body (docs/wire.md):
    # a fake that read them from the query answered page 1 to every page of the walk.
    active = sorted(cid for cid, c in org.contacts.items() if c["status"] == "active")
    assert len(active) > 30
    filters = [{"filter_type": "status", "value": "active"}]
    walked = [c.id async for c in inro_client.contacts.iter_filter(filters, per_page=10)]
    assert walked == active
    backwards = [
        c.id
        async for c in inro_client.contacts.iter_filter(
            filters, per_page=10, order_direction="desc"
        )
    ]
    assert backwards == active[::-1]
