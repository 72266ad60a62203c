"""Pages and walks: headers trusted only as far as they can be, order kept under concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
import random

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from resources._mock import MockAPI, answer, page_headers

from inro_async._http import HTTPRequest, HTTPResult
from inro_async._transport import APIResponse
from inro_async.client import Client
from inro_async.errors import InvalidArgumentError, PaginationError
from inro_async.pagination import Page, PageInfo, iter_pages


def contacts_server(
    total: int, *, headers: bool = True, jitter: bool = False
) -> tuple[MockAPI, list[int]]:
    """A mock ``GET /contacts`` over ``total`` contacts; returns it and the pages asked for."""
    api = MockAPI()
    asked: list[int] = []

    async def handle(request: HTTPRequest) -> HTTPResult:
        query = dict(request.params)
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
        asked.append(page)
        if jitter:  # answers arrive out of order
            await asyncio.sleep(random.uniform(0, 0.005))
        start = (page - 1) * per_page
        items = [{"id": i + 1} for i in range(start, min(total, start + per_page))]
        return answer(200, items, page_headers(total, page, per_page) if headers else None)

    api.on("GET", "/contacts", handle)  # type: ignore[arg-type]
    return api, asked


async def test_iter_walks_every_page_in_order() -> None:
    api, asked = contacts_server(2_500)
    async with api.client() as inro:
        ids = [c.id async for c in inro.contacts.iter()]
    assert ids == list(range(1, 2_501))
    assert asked == [1, 2, 3]


async def test_iter_defaults_to_1000_per_page() -> None:
    api, _ = contacts_server(10)
    async with api.client() as inro:
        [c async for c in inro.contacts.iter()]
    assert ("per_page", "1000") in api.requests[0].params


async def test_missing_headers_walk_to_the_end_instead_of_stopping_at_page_one() -> None:
    api, asked = contacts_server(250, headers=False)
    async with api.client() as inro:
        ids = [c.id async for c in inro.contacts.iter(per_page=100)]
    assert ids == list(range(1, 251))
    assert asked == [1, 2, 3]


async def test_missing_headers_with_an_exact_multiple_stop_at_the_empty_page() -> None:
    api, asked = contacts_server(200, headers=False)
    async with api.client() as inro:
        ids = [c.id async for c in inro.contacts.iter(per_page=100)]
    assert ids == list(range(1, 201))
    assert asked == [1, 2, 3]


async def test_concurrency_8_yields_pages_in_order_and_fetches_exactly_the_announced_pages() -> (
    None
):
    api, asked = contacts_server(20_000, jitter=True)
    async with api.client() as inro:
        pages = [p async for p in inro.contacts.iter_pages(per_page=1000, concurrency=8)]
    assert [p.page for p in pages] == list(range(1, 21))
    assert [c.id for p in pages for c in p] == list(range(1, 20_001))
    assert sorted(asked) == list(range(1, 21))


async def test_concurrency_without_headers_still_yields_in_order_and_stops() -> None:
    api, asked = contacts_server(950, headers=False, jitter=True)
    async with api.client() as inro:
        ids = [c.id async for c in inro.contacts.iter(per_page=100, concurrency=8)]
    assert ids == list(range(1, 951))
    assert max(asked) <= 10 + 7  # at most concurrency - 1 pages past the end


async def test_breaking_out_of_a_walk_cancels_the_pages_in_flight() -> None:
    api, asked = contacts_server(100_000)
    async with api.client() as inro:
        walk = inro.contacts.iter(per_page=100, concurrency=4)
        async for contact in walk:
            if contact.id == 150:
                break
        await walk.aclose()
    assert len(asked) <= 2 + 4


async def test_list_returns_one_page_with_header_facts() -> None:
    api, _ = contacts_server(45)
    async with api.client() as inro:
        page = await inro.contacts.list(page=2, per_page=20)
    assert (page.page, page.per_page, page.total, page.total_pages) == (2, 20, 45, 3)
    assert [c.id for c in page.items] == list(range(21, 41))
    assert page.has_next
    assert len(page) == 20
    assert page[0].id == 21


async def test_page_repr_is_short() -> None:
    api, _ = contacts_server(45)
    async with api.client() as inro:
        page = await inro.contacts.list(per_page=20)
    assert repr(page) == (
        "Page(page=1/3, per_page=20, total=45, items=[Contact(id=1), Contact(id=2), … 18 more])"
    )


def test_a_short_page_ends_the_list_when_the_headers_agree_or_are_missing() -> None:
    assert not Page(items=[1, 2], page=10, per_page=10, total=92, total_pages=10).has_next
    assert not Page(items=[1, 2], page=1, per_page=10).has_next


def test_a_short_page_the_headers_count_more_after_has_a_next() -> None:
    # 2 items where the headers count 100: the list shrank as it was read, or the server left
    # items out; only the pages after it can tell (the walk checks the count at its end).
    assert Page(items=[1, 2], page=1, per_page=10, total=100, total_pages=10).has_next
    assert Page(items=[1, 2], page=1, per_page=10, total_pages=10).has_next


def test_an_empty_page_is_always_the_last() -> None:
    assert not Page(items=[], page=3, per_page=10, total=100, total_pages=10).has_next


def test_a_full_last_page_ends_the_list_when_the_headers_say_so() -> None:
    page = Page(items=[1, 2], page=3, per_page=2, total=6, total_pages=3)
    assert not page.has_next


def test_a_full_page_has_a_next_when_the_total_counts_items_past_it() -> None:
    # The headers contradict each other (3 pages announced, 7 items counted): trust the count.
    page = Page(items=[1, 2], page=3, per_page=2, total=7, total_pages=3)
    assert page.has_next


async def test_a_walk_asks_one_more_page_when_the_headers_contradict_each_other() -> None:
    api = MockAPI()

    async def handle(request: HTTPRequest) -> HTTPResult:
        page = int(dict(request.params)["page"])
        items = [{"id": i} for i in range((page - 1) * 10 + 1, min(15, page * 10) + 1)]
        # X-Total-Pages stuck at 1 while X-Total says 15: page 2 exists.
        return answer(200, items, {**page_headers(15, page, 10), "X-Total-Pages": "1"})

    api.on("GET", "/contacts", handle)  # type: ignore[arg-type]
    async with api.client() as inro:
        ids = [c.id async for c in inro.contacts.iter(per_page=10, concurrency=4)]
    assert ids == list(range(1, 16))


def test_garbage_headers_are_treated_as_missing() -> None:
    info = PageInfo.from_headers({"X-Total": "lots", "X-Page": " 2 "})
    assert (info.total, info.total_pages, info.page, info.per_page) == (None, None, 2, None)


def test_a_page_from_a_response_is_the_frozen_page_its_headers_and_arguments_describe() -> None:
    headers = {"X-Total": "15", "X-Total-Pages": "2", "X-Page": "2"}
    response = APIResponse(
        "GET", "/contacts", 200, CIMultiDictProxy(CIMultiDict(headers)), b"[]", 0.01
    )
    page = Page.from_response([11, 12], response, page=9, per_page=10)
    # X-Page wins over the page asked for; without X-Per-Page the argument stands
    expected = Page(items=[11, 12], page=2, per_page=10, total=15, total_pages=2)
    assert page == expected
    assert page.response is response
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.page = 3  # type: ignore[misc]


async def test_iter_pages_rejects_zero_concurrency() -> None:
    async def fetch(number: int) -> Page[int]:
        return Page(items=[], page=number, per_page=1)

    with pytest.raises(ValueError, match="concurrency"):
        [p async for p in iter_pages(fetch, concurrency=0)]


@pytest.mark.parametrize(
    "kwargs",
    [{"per_page": 1001}, {"per_page": 0}, {"concurrency": 0}, {"offset": -1}],
)
async def test_walk_arguments_are_checked_when_the_walk_is_created(kwargs: dict[str, int]) -> None:
    api, asked = contacts_server(10)
    async with api.client() as inro:
        with pytest.raises(InvalidArgumentError):
            inro.contacts.iter(**kwargs)  # type: ignore[arg-type]
    assert asked == []


async def test_a_page_past_the_end_is_empty() -> None:
    api, _ = contacts_server(5)
    client: Client
    async with api.client() as client:
        page = await client.contacts.list(page=9, per_page=5)
    assert page.items == []
    assert not page.has_next


async def test_a_count_that_grows_while_the_pages_stay_short_cannot_keep_a_walk_going() -> None:
    # One item a page, and an X-Total (no X-Total-Pages) that always counts 100 more: the walk
    # follows the count of the page before the first short one, no further, then reports.
    api = MockAPI()
    asked: list[int] = []

    async def handle(request: HTTPRequest) -> HTTPResult:
        page = int(dict(request.params)["page"])
        asked.append(page)
        headers = {"X-Total": str(page * 10 + 100), "X-Page": str(page), "X-Per-Page": "10"}
        return answer(200, [{"id": page}], headers)

    api.on("GET", "/contacts", handle)  # type: ignore[arg-type]
    seen: list[int] = []

    async def walk(inro: Client) -> None:
        async for contact in inro.contacts.iter(per_page=10, concurrency=4):
            seen.append(contact.id)

    async with api.client() as inro:
        with pytest.raises(PaginationError, match="page 1 held 1 of the 10") as caught:
            await walk(inro)
    assert seen == asked == list(range(1, 12))  # page 1 announced 11 pages
    assert caught.value.page == 1


async def test_a_custom_fetch_is_checked_like_any_walk() -> None:
    async def fetch(number: int) -> Page[int]:
        return Page(items=[1, 2, 3], page=number, per_page=3)  # the same items, every page

    with pytest.raises(PaginationError, match="page 2 holds the same 3 items as page 1") as caught:
        [p async for p in iter_pages(fetch)]
    assert (caught.value.page, caught.value.method, caught.value.path) == (2, "GET", "(page walk)")


def test_paging_headers_read_before_are_not_parsed_again_and_memory_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inro_async.pagination import _page

    monkeypatch.setattr(_page, "_KNOWN", {})
    monkeypatch.setattr(_page, "_KNOWN_MAX", 8)
    headers = {"X-Total": "42", "X-Total-Pages": " 5 ", "X-Page": "2", "X-Per-Page": "x"}
    first = PageInfo.from_headers(headers)
    assert first == PageInfo(total=42, total_pages=5, page=2, per_page=None)
    assert _page._KNOWN == {"42": 42, " 5 ": 5, "2": 2}  # garbage is not remembered
    assert PageInfo.from_headers(headers) == first
    assert PageInfo.from_headers({**headers, "X-Per-Page": "10"}).per_page == 10
    for number in range(100):
        text = str(number)
        info = PageInfo.from_headers({"X-Total": text, "X-Total-Pages": text, "X-Page": text})
        assert (info.total, info.total_pages, info.page, info.per_page) == (number,) * 3 + (None,)
        assert len(_page._KNOWN) <= 8
