"""Walks as ordinary iterators: every item in order, the next page fetched in the background."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from inro_async import InternalServerError, NotFoundError, Retries
from inro_async._http import HTTPRequest, HTTPResult, MockBackend
from inro_async.governor import LocalGovernor
from inro_async.sync import Client, Walk
from inro_async.testing import FakeInro

ALL = list(range(1, 101))


def pages_asked(fake: FakeInro, route: str = "contacts.list") -> list[int]:
    return [int(r.query["page"]) for r in fake.requests_to(route)]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_iter_yields_every_contact_in_order_one_request_per_page(
    inro: Client, fake: FakeInro, concurrency: int
) -> None:
    walk = inro.contacts.iter(per_page=30, concurrency=concurrency)
    assert isinstance(walk, Walk)
    assert [c.id for c in walk] == ALL
    assert sorted(pages_asked(fake)) == [1, 2, 3, 4]


def test_iter_pages_gives_each_page_with_the_totals(inro: Client) -> None:
    pages = list(inro.contacts.iter_pages(per_page=30, concurrency=3))
    assert [(p.page, len(p)) for p in pages] == [(1, 30), (2, 30), (3, 30), (4, 10)]
    assert {(p.total, p.total_pages) for p in pages} == {(100, 4)}


def test_every_kind_of_walk_is_an_iterator(inro: Client) -> None:
    assert [c.id for c in inro.contacts.iter_search("a", per_page=10)]
    assert [c.id for c in inro.contacts.iter_filter([{"filter_type": "status", "value": "active"}])]
    assert [f.id for f in inro.folders.iter(concurrency=2)]
    assert list(inro.media_files.iter()) == []


def test_the_next_page_is_fetched_while_the_caller_works_on_this_one(
    inro: Client, fake: FakeInro
) -> None:
    walk = inro.contacts.iter(per_page=10)
    assert pages_asked(fake) == []  # nothing before the first item is asked for
    assert next(walk).id == 1
    time.sleep(0.3)  # the caller "works" on contact 1
    assert pages_asked(fake) == [1, 2]  # page 2 is ready; page 3 waits for the caller
    assert [c.id for c in walk] == ALL[1:]


def test_a_concurrent_walk_keeps_its_window_of_pages_in_flight(
    inro: Client, fake: FakeInro
) -> None:
    walk = inro.contacts.iter(per_page=10, concurrency=4)
    next(walk)
    time.sleep(0.3)
    assert 2 <= len(pages_asked(fake)) <= 1 + 4  # at most one window past the caller
    assert [c.id for c in walk] == ALL[1:]


def test_closing_a_walk_early_cancels_the_pages_in_flight(inro: Client, fake: FakeInro) -> None:
    fake.inject("latency", route="contacts.list", times=20, seconds=0.2)
    governor = inro.governor
    assert isinstance(governor, LocalGovernor)
    with inro.contacts.iter(per_page=10, concurrency=3) as walk:
        assert next(walk).id == 1
    # Counted where they leave, not where the fake records them: under load the fake's thread
    # may record a page sent before the close only after it.
    sent = governor.dispatched
    time.sleep(0.5)
    assert governor.dispatched == sent <= 1 + 3  # nothing went after the close
    assert len(pages_asked(fake)) <= sent
    assert [c.id for c in inro.contacts.iter(per_page=50)] == ALL  # the client is fine


def test_leaving_a_for_loop_early_stops_the_walk(inro: Client, fake: FakeInro) -> None:
    for contact in inro.contacts.iter(per_page=10, concurrency=2):
        assert contact.id == 1
        break
    time.sleep(0.3)
    asked = len(pages_asked(fake))
    time.sleep(0.3)
    assert len(pages_asked(fake)) == asked <= 1 + 2 + 1


def test_a_walk_that_fails_at_once_raises_the_api_error(inro: Client) -> None:
    with pytest.raises(NotFoundError):
        next(inro.contacts.iter_messages(99_999))


def test_a_page_that_fails_raises_after_the_items_before_it() -> None:
    """Page 2 always fails: page 1's items come out first, then the error, never a short list."""

    def answer(request: HTTPRequest) -> HTTPResult:
        if ("page", "2") in request.params:
            return MockBackend.result(503, b'{"error": "down"}')
        items = [{"id": n} for n in range(1, 11)]
        headers = {"X-Total": "30", "X-Total-Pages": "3", "X-Page": "1", "X-Per-Page": "10"}
        return MockBackend.result(200, msgspec.json.encode(items), headers)

    fast = Retries(max_retries=1, backoff_base=0.01, backoff_cap=0.01)
    with Client("t", base_url="http://inro.test/api/v1", backend=MockBackend(answer)) as inro:
        seen = []

        def walk() -> None:
            for contact in inro.with_options(max_retries=fast).contacts.iter(per_page=10):
                seen.append(contact.id)

        with pytest.raises(InternalServerError):
            walk()
        assert seen == list(range(1, 11))


def test_a_walk_from_a_closed_client_raises(fake: FakeInro) -> None:
    inro = Client("test-token", base_url=fake.base_url)
    inro.close()
    with pytest.raises(Exception, match="closed"):
        inro.contacts.iter()


def test_walks_can_run_side_by_side_in_one_thread(inro: Client) -> None:
    first = inro.contacts.iter(per_page=25)
    second = inro.contacts.iter(per_page=40, concurrency=2)
    assert [(a.id, b.id) for a, b in zip(first, second, strict=True)] == [(n, n) for n in ALL]


async def test_a_walk_works_in_a_thread_that_runs_an_event_loop(inro: Client) -> None:
    assert asyncio.get_running_loop().is_running()
    assert [c.id for c in inro.contacts.iter(per_page=40)] == ALL
