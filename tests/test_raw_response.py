"""``with_raw_response``: a typed call's result with its HTTP response, over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import assert_type

import pytest
from forward_proxy import ForwardProxy

from inro_async import (
    Client,
    Contact,
    InvalidArgumentError,
    NotFoundError,
    Page,
    Quota,
    RawResponse,
    Retries,
    with_raw_response,
)
from inro_async.testing import FakeInro

TOKEN = "tok_raw_0b5e"


@pytest.fixture
async def fake() -> AsyncIterator[FakeInro]:
    server = FakeInro()
    server.add_organization(TOKEN, contacts=10, seed=2)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def inro(fake: FakeInro) -> AsyncIterator[Client]:
    retries = Retries(max_retries=2, backoff_base=0.0)
    async with Client(token=TOKEN, base_url=fake.base_url, max_retries=retries) as client:
        yield client


async def test_the_result_is_the_calls_own_with_status_headers_and_timings(
    inro: Client, fake: FakeInro
) -> None:
    contact_id = min(fake.organizations[TOKEN].contacts)
    raw = await with_raw_response(inro.contacts.get, id=contact_id)
    assert_type(raw, RawResponse[Contact])
    assert raw.parse() == await inro.contacts.get(id=contact_id)
    assert raw.status_code == 200
    assert raw.headers["X-RateLimit-Limit"].isdigit()
    assert raw.http.path == "/contact"
    assert (raw.retries, raw.request_id) == (0, None)
    assert raw.queued >= 0
    assert raw.elapsed > 0


async def test_a_page_comes_with_its_paging_headers(inro: Client) -> None:
    raw = await with_raw_response(inro.contacts.list, per_page=3)
    assert_type(raw, RawResponse[Page[Contact]])
    assert len(raw.parse().items) == 3
    assert raw.headers["X-Total"] == "10"


async def test_retries_count_the_repeats_the_call_needed(inro: Client, fake: FakeInro) -> None:
    fake.inject("status", status=503, times=1)
    raw = await with_raw_response(inro.me)
    assert raw.retries == 1
    assert raw.status_code == 200
    assert len(raw.responses) == 1  # the failed attempt is not a response


async def test_queued_is_the_time_spent_waiting_for_the_quota(fake: FakeInro) -> None:
    quotas = [Quota(1, 0.15)]
    async with Client(token=TOKEN, base_url=fake.base_url, quotas=quotas) as inro:
        first = await with_raw_response(inro.me)
        second = await with_raw_response(inro.me)
    assert first.queued < 0.05
    assert 0.08 < second.queued < 1.0


async def test_request_id_is_read_from_the_answer(fake: FakeInro) -> None:
    async with (
        ForwardProxy() as proxy,
        Client(token=TOKEN, base_url=fake.base_url, proxy=proxy.url) as inro,
    ):
        raw = await with_raw_response(inro.me)
    assert raw.request_id == "req_0001"


async def test_an_error_is_raised_as_the_call_raises_it(inro: Client) -> None:
    with pytest.raises(NotFoundError):
        await with_raw_response(inro.contacts.get, id=10**9)


async def test_a_walk_or_a_job_is_refused_and_nothing_is_sent(inro: Client, fake: FakeInro) -> None:
    with pytest.raises(InvalidArgumentError, match="single async call"):
        await with_raw_response(inro.contacts.iter)  # type: ignore[arg-type]
    org = fake.organizations[TOKEN]
    ids, before = list(org.contacts)[:2], dict(org.conversations)
    with pytest.raises(InvalidArgumentError, match="single async call"):
        await with_raw_response(inro.messages.send_many, ids, text="hi")
    assert org.conversations == before


async def test_the_copy_keeps_the_options_of_the_client_the_call_belongs_to(
    inro: Client, fake: FakeInro
) -> None:
    fake.inject("status", status=503, times=1)
    from inro_async import InternalServerError

    with pytest.raises(InternalServerError):  # max_retries=0 kept: the 503 is not retried
        await with_raw_response(inro.with_options(max_retries=0).me)


async def test_a_function_that_is_no_clients_method_is_refused(inro: Client) -> None:
    async def elsewhere() -> int:
        return 1

    with pytest.raises(InvalidArgumentError, match="method of a Client"):
        await with_raw_response(elsewhere)
