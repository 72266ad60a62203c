"""Fault injection over loopback: one-shot ``inject`` and seeded random ``Faults``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from inro_async import Quota
from inro_async.testing import FakeInro, Faults, ManualClock

TOKEN = "faults-token"


@pytest.fixture
async def start() -> AsyncIterator[Callable[..., Any]]:
    """Start a FakeInro (options as keywords) and return (server, session, base_url)."""
    servers: list[FakeInro] = []
    session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"})

    async def _start(**options: Any) -> tuple[FakeInro, aiohttp.ClientSession, str]:
        server = FakeInro(**options)
        server.add_organization(TOKEN, contacts=30, seed=1)
        servers.append(server)
        return server, session, await server.start()

    try:
        yield _start
    finally:
        await session.close()
        for server in servers:
            await server.close()


async def send(session: aiohttp.ClientSession, base_url: str, contact_id: int) -> int:
    async with session.post(
        base_url + "/messages",
        json={"contact_id": contact_id, "message_type": "text", "content": "hi"},
    ) as response:
        await response.read()
        return response.status


async def test_reset_before_drops_the_connection_and_delivers_nothing(
    start: Callable[..., Any],
) -> None:
    server, session, base_url = await start()
    server.inject("reset_before", route="messages.send")
    with pytest.raises(aiohttp.ClientError):
        await send(session, base_url, 1)
    assert server.org.delivery_counts() == {}
    assert server.window_counts(TOKEN) == dict.fromkeys(server.quotas, 0)  # not counted
    assert server.requests[-1].status is None
    assert server.requests[-1].faults == ("reset_before",)


async def test_reset_after_delivers_then_drops_the_connection(start: Callable[..., Any]) -> None:
    server, session, base_url = await start()
    server.inject("reset_after", route="messages.send")
    with pytest.raises(aiohttp.ClientError):
        await send(session, base_url, 1)
    assert server.org.delivery_counts() == {1: 1}  # it *was* sent: the client cannot know
    assert await send(session, base_url, 2) == 202  # one-shot: the next one is normal


async def test_injected_status_answers_without_processing_but_counts(
    start: Callable[..., Any],
) -> None:
    server, session, base_url = await start()
    server.inject("status", route="messages.send", status=503, times=2)
    assert [await send(session, base_url, 1) for _ in range(3)] == [503, 503, 202]
    assert server.org.delivery_counts() == {1: 1}
    assert server.window_counts(TOKEN)[server.quotas[0]] == 3


async def test_an_injected_fault_waits_for_its_route(start: Callable[..., Any]) -> None:
    server, session, base_url = await start()
    server.inject("status", route="messages.send", status=500)
    async with session.get(base_url + "/me") as response:
        assert response.status == 200
    assert await send(session, base_url, 1) == 500


async def test_latency_delays_the_response(start: Callable[..., Any]) -> None:
    server, session, base_url = await start()
    server.inject("latency", seconds=0.3)
    started = time.perf_counter()
    async with session.get(base_url + "/me") as response:
        assert response.status == 200
    assert time.perf_counter() - started >= 0.3


async def test_truncated_and_malformed_bodies_do_not_parse(start: Callable[..., Any]) -> None:
    server, session, base_url = await start()
    server.inject("truncate", route="contacts.list")
    async with session.get(base_url + "/contacts") as response:
        with pytest.raises(ValueError, match=r"."):
            await response.json()
    server.inject("malformed", route="contacts.list")
    async with session.get(base_url + "/contacts") as response:
        assert await response.read() == b'{"this is": not json'


async def test_unaccounted_processes_then_answers_a_2xx_that_says_nothing(
    start: Callable[..., Any],
) -> None:
    server, session, base_url = await start()
    server.inject("unaccounted", route="messages.send")
    server.inject("unaccounted", route="messages.send", body={"error": "proxy said no"})
    replies = []
    for contact_id in (1, 2, 3):
        async with session.post(
            base_url + "/messages",
            json={"contact_id": contact_id, "message_type": "text", "content": "hi"},
        ) as response:
            replies.append((response.status, await response.json()))
    # Each was delivered, whatever the answer said; both faults were met by the first send.
    assert replies[0] == (200, {"error": "proxy said no"})
    assert replies[1][0] == 202
    assert server.org.delivery_counts() == {1: 1, 2: 1, 3: 1}
    assert server.requests[0].faults == ("unaccounted",)


async def test_unaccounted_takes_a_2xx_status_and_an_object_body_only() -> None:
    server = FakeInro()
    with pytest.raises(ValueError, match="2xx"):
        server.inject("unaccounted", status=500)
    with pytest.raises(ValueError, match="JSON object"):
        server.inject("unaccounted", body=[])


async def test_random_unaccounted_faults_answer_200_with_an_empty_or_error_object(
    start: Callable[..., Any],
) -> None:
    server, session, base_url = await start(
        faults=Faults(seed=4, unaccounted_rate=1.0, routes=["messages.send"])
    )
    bodies = []
    for contact_id in range(1, 9):
        async with session.post(
            base_url + "/messages",
            json={"contact_id": contact_id, "message_type": "text", "content": "hi"},
        ) as response:
            assert response.status == 200
            bodies.append(await response.json())
    assert {} in bodies
    assert {"error": "injected: an answer that accounts for nothing"} in bodies
    active = {i for i in range(1, 9) if server.org.contacts[i]["status"] == "active"}
    assert set(server.org.delivery_counts()) == active  # processed, every one


async def test_missing_pagination_headers(start: Callable[..., Any]) -> None:
    server, session, base_url = await start()
    server.inject("no_pagination_headers", route="contacts.list")
    async with session.get(base_url + "/contacts") as response:
        assert len(await response.json()) == 20
        assert not {"X-Total", "X-Total-Pages", "X-Page", "X-Per-Page"} & set(response.headers)
    async with session.get(base_url + "/contacts") as response:
        assert response.headers["X-Total"] == "30"


async def page_of(
    session: aiohttp.ClientSession, url: str, **query: Any
) -> tuple[list[int], dict[str, str]]:
    """The ids on one page and its four paging headers."""
    async with session.get(url, params={k: str(v) for k, v in query.items()}) as response:
        ids = [item["id"] for item in await response.json()]
        names = ("X-Total", "X-Total-Pages", "X-Page", "X-Per-Page")
        return ids, {name: response.headers[name] for name in names}


async def test_ignore_page_answers_page_one_to_every_page(start: Callable[..., Any]) -> None:
    server, session, base_url = await start()
    first, _ = await page_of(session, base_url + "/contacts", page=1, per_page=10)
    server.inject("ignore_page", route="contacts.list", times=2)
    for asked in (2, 3):
        ids, headers = await page_of(session, base_url + "/contacts", page=asked, per_page=10)
        assert ids == first  # a cache keyed without the query: page 1, headers and all
        assert headers == {"X-Total": "30", "X-Total-Pages": "3", "X-Page": "1", "X-Per-Page": "10"}
    ids, headers = await page_of(session, base_url + "/contacts", page=3, per_page=10)
    assert (ids[0], headers["X-Page"]) == (first[0] + 20, "3")


@pytest.mark.parametrize(("by", "total", "pages"), [(25, "55", "6"), (-15, "15", "2")])
async def test_lying_total_shifts_the_counts_not_the_items(
    start: Callable[..., Any], by: int, total: str, pages: str
) -> None:
    server, session, base_url = await start()
    server.inject("lying_total", route="contacts.list", by=by)
    ids, headers = await page_of(session, base_url + "/contacts", page=3, per_page=10)
    assert len(ids) == 10  # the true third page
    assert (headers["X-Total"], headers["X-Total-Pages"]) == (total, pages)


async def test_short_page_leaves_items_out_of_the_page_it_aims_at(
    start: Callable[..., Any],
) -> None:
    server, session, base_url = await start()
    server.inject("short_page", route="contacts.list", missing=3)  # page 2 unless told
    whole, _ = await page_of(session, base_url + "/contacts", page=1, per_page=10)
    assert len(whole) == 10  # page 1 passed the fault by, unspent
    ids, headers = await page_of(session, base_url + "/contacts", page=2, per_page=10)
    assert ids == list(range(whole[0] + 10, whole[0] + 17))
    assert (headers["X-Total"], headers["X-Total-Pages"]) == ("30", "3")  # still counted
    ids, _ = await page_of(session, base_url + "/contacts", page=2, per_page=10)
    assert len(ids) == 10  # spent
    assert [r.faults for r in server.requests] == [(), ("short_page",), ()]


async def test_any_injected_fault_can_aim_at_one_page(start: Callable[..., Any]) -> None:
    server, session, base_url = await start()
    server.inject("status", route="contacts.list", status=503, page=3)
    statuses = []
    for asked in (1, 2, 3):
        async with session.get(base_url + "/contacts", params={"page": str(asked)}) as response:
            statuses.append(response.status)
    assert statuses == [200, 200, 503]


async def test_redirect_processes_the_request_then_answers_with_a_location(
    start: Callable[..., Any],
) -> None:
    server, session, base_url = await start()
    active = min(i for i, c in server.org.contacts.items() if c["status"] == "active")
    server.inject("redirect", route="messages.send", status=307, location="http://[::1")
    async with session.post(
        base_url + "/messages",
        json={"contact_id": active, "message_type": "text", "content": "hi"},
        allow_redirects=False,
    ) as response:
        assert (response.status, response.headers["Location"]) == (307, "http://[::1")
    assert server.requests_to("messages.send")[0].status == 307
    assert server.org.delivery_counts() == {active: 1}  # processed before the redirect
    server.inject("redirect")  # the defaults: 302 to where nothing listens
    async with session.get(base_url + "/me", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"].startswith("http://127.0.0.1:9/")


async def test_unknown_faults_and_routes_are_refused() -> None:
    server = FakeInro()
    with pytest.raises(ValueError, match="unknown fault"):
        server.inject("explode")
    with pytest.raises(ValueError, match="unknown route"):
        server.inject("status", route="messages.sendd")
    with pytest.raises(ValueError, match="unknown route"):
        FakeInro(faults=Faults(error_rate=1.0, routes=["me.get"]))


async def run_seeded(start: Callable[..., Any], seed: int) -> list[int | None]:
    _server, session, base_url = await start(
        faults=Faults(seed=seed, error_rate=0.3, reset_before_rate=0.1, routes=["me"])
    )
    outcomes: list[int | None] = []
    for _ in range(40):
        try:
            async with session.get(base_url + "/me") as response:
                outcomes.append(response.status)
        except aiohttp.ClientError:
            outcomes.append(None)
    return outcomes


async def test_seeded_faults_are_deterministic(start: Callable[..., Any]) -> None:
    first = await run_seeded(start, seed=11)
    second = await run_seeded(start, seed=11)
    other = await run_seeded(start, seed=12)
    assert first == second
    assert first != other
    assert {500, 502, 503} & set(first)
    assert None in first
    assert 200 in first


async def test_latency_can_be_a_distribution(start: Callable[..., Any]) -> None:
    _server, session, base_url = await start(
        faults=Faults(seed=3, latency=lambda rng: rng.uniform(0.05, 0.15))
    )
    started = time.perf_counter()
    await asyncio.gather(*(session.get(base_url + "/me") for _ in range(5)))
    elapsed = time.perf_counter() - started
    assert 0.05 <= elapsed < 1.0


async def test_faults_can_be_limited_to_routes(start: Callable[..., Any]) -> None:
    _server, session, base_url = await start(
        faults=Faults(seed=1, error_rate=1.0, routes=["messages.send"])
    )
    async with session.get(base_url + "/me") as response:
        assert response.status == 200
    assert await send(session, base_url, 1) in (500, 502, 503)


@pytest.mark.parametrize(
    ("kind", "params"),
    [("status", {"status": 503}), ("latency", {"seconds": 0.01}), ("reset_after", {})],
)
async def test_an_injected_fault_waits_for_a_request_the_rate_limiter_admits(
    start: Callable[..., Any], kind: str, params: dict[str, Any]
) -> None:
    clock = ManualClock()
    server, session, base_url = await start(quotas=[Quota(1, 1)], clock=clock)
    assert await send(session, base_url, 1) == 202
    server.inject(kind, route="messages.send", **params)

    assert await send(session, base_url, 2) == 429
    assert server.requests[-1].faults == ()

    clock.advance(1.5)
    expected = {"status": 503, "latency": 202}.get(kind)
    if expected is None:
        with pytest.raises(aiohttp.ClientError):
            await send(session, base_url, 3)
    else:
        assert await send(session, base_url, 3) == expected
    assert server.requests[-1].faults == (kind,)
    assert await send(session, base_url, 4) == 429  # and it was used up there


async def test_reset_before_is_met_by_the_next_request_even_one_over_quota(
    start: Callable[..., Any],
) -> None:
    server, session, base_url = await start(quotas=[Quota(1, 1)], clock=ManualClock())
    assert await send(session, base_url, 1) == 202
    server.inject("reset_before", route="messages.send")
    with pytest.raises(aiohttp.ClientError):
        await send(session, base_url, 2)
    assert server.requests[-1].faults == ("reset_before",)
    assert await send(session, base_url, 3) == 429
