"""A response's body is capped while it is read: a gzip bomb never fills the memory.

``Client(max_response_bytes=...)`` (32 MiB by default, ``None``: no cap) bounds the body after
decompression. Past it the call raises ``APIResponseValidationError`` saying the limit and how
to raise it, and is not repeated (the answer would be as big again). A write whose answer was
too big to read was processed: its outcome is unknown, and a job's chunk ends ``unknown``.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from inro_async import APIResponseValidationError, InvalidArgumentError, RequestOptions
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN
from inro_async.testing.store import Organization

from .conftest import active_contact

MIB = 1 << 20
DEFAULT_LIMIT = 32 * MIB


async def test_a_gzip_bomb_stops_at_the_default_limit_and_is_not_retried(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("huge_body", route="contacts.list", times=3)  # 200 MB, 200 KB on the wire
    with pytest.raises(APIResponseValidationError) as caught:
        await inro_client.contacts.list()
    message = str(caught.value)
    assert f"{DEFAULT_LIMIT:,}" in message
    assert "max_response_bytes" in message  # how to raise it
    assert caught.value.status == 200
    assert len(caught.value.body) <= 1024  # a prefix to look at, not the bomb
    assert len(inro_server.requests_to("contacts.list")) == 1


async def test_reading_a_gzip_bomb_keeps_memory_near_the_limit(
    inro_client: Client, inro_server: FakeInro
) -> None:
    small = inro_client.with_options(max_response_bytes=MIB)
    inro_server.inject("huge_body", route="me")
    tracemalloc.start()
    try:
        with pytest.raises(APIResponseValidationError, match=f"{MIB:,}-byte"):
            await small.me()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MIB, f"peak {peak:,} bytes"  # read whole, the bomb would be 200 MB


async def test_a_send_whose_answer_is_too_big_is_not_repeated_and_its_outcome_is_unknown(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    jane = active_contact(org)
    inro_server.inject("huge_body", route="messages.send", size=64 * MIB)
    with pytest.raises(APIResponseValidationError, match="outcome is unknown"):
        await inro_client.messages.send(contact_ids=[jane["id"]], text="hi")
    assert len(inro_server.requests_to("messages.send")) == 1
    assert org.delivery_counts() == {jane["id"]: 1}


async def test_a_send_many_chunk_whose_answer_is_too_big_ends_unknown(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.inject("huge_body", route="messages.send", size=64 * MIB)
    report = await inro_client.messages.send_many(sorted(org.contacts), text="hi")
    assert (report.unknown, report.failed) == (len(org.contacts), 0)
    assert len(inro_server.requests_to("messages.send")) == 1


async def test_the_limit_applies_to_a_plain_body_and_can_be_raised_or_lifted(
    inro_client: Client, inro_server: FakeInro
) -> None:
    tiny = inro_client.with_options(max_response_bytes=100)
    with pytest.raises(APIResponseValidationError, match="100-byte"):
        await tiny.contacts.list()  # 20 contacts: some kilobytes, with a Content-Length
    page = await tiny.with_options(max_response_bytes=None).contacts.list()
    assert len(page.items) == 20
    async with Client(TOKEN, base_url=inro_server.base_url, max_response_bytes=100) as inro:
        with pytest.raises(APIResponseValidationError, match="100-byte"):
            await inro.me()


@pytest.fixture
async def streamer() -> AsyncIterator[str]:
    """A server that streams 1 MiB of JSON in chunks, without a Content-Length."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"[")
        for _ in range(1023):
            await response.write(b"0," * 512)
        await response.write(b"0]")
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
    await runner.cleanup()


async def test_a_chunked_body_is_cut_at_the_limit_too(streamer: str) -> None:
    async with Client(TOKEN, base_url=streamer, max_response_bytes=100_000) as inro:
        with pytest.raises(APIResponseValidationError, match="100,000-byte"):
            await inro.request("GET", "/numbers")
        response = await inro.with_options(max_response_bytes=2 * MIB).request("GET", "/numbers")
    assert len(response.json()) == 1023 * 512 + 1


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "32MB", float("nan")])
def test_a_bad_limit_is_refused_naming_it(value: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="max_response_bytes"):
        RequestOptions(max_response_bytes=value)
    with pytest.raises(InvalidArgumentError, match="max_response_bytes"):
        Client(TOKEN, max_response_bytes=value)


@pytest.fixture
async def sized() -> AsyncIterator[str]:
    """A server whose ``/bytes/N`` answers a JSON string of exactly N bytes, Content-Length set."""

    async def handle(request: web.Request) -> web.Response:
        size = int(request.match_info["size"])
        return web.Response(body=b'"' + b"x" * (size - 2) + b'"', content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v1/bytes/{size}", handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
    await runner.cleanup()


@pytest.mark.parametrize(
    ("limit", "size", "refused"),
    [
        (1000, 999, False),  # fewer digits than the limit: within it, whatever they say
        (1000, 1000, False),  # as many digits: compared as numbers
        (1000, 1001, True),
        (999, 1000, True),  # more digits than the limit
        (999, 999, False),
        (10, 9, False),
    ],
)
async def test_a_content_length_is_compared_with_the_limit_to_the_byte(
    sized: str, limit: int, size: int, refused: bool
) -> None:
    async with Client(TOKEN, base_url=sized, max_response_bytes=limit) as inro:
        if refused:
            with pytest.raises(APIResponseValidationError, match=f"{limit:,}-byte"):
                await inro.request("GET", f"/bytes/{size}")
        else:
            response = await inro.request("GET", f"/bytes/{size}")
            assert len(response.content) == size
