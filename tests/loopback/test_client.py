"""The client itself over loopback HTTP: ``me()``, ``request()``, per-call options, isolation."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from inro_async import (
    APIResponse,
    APITimeoutError,
    BadRequestError,
    ClientClosedError,
    EventLoopMismatchError,
    InternalServerError,
    Organization,
)
from inro_async._http import AiohttpBackend, FilePart, Multipart
from inro_async.cli._embedded import serve_in_thread
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN

from .conftest import FAST_RETRIES, TIMEOUT


async def test_me_describes_the_tokens_organization(inro_client: Client) -> None:
    me = await inro_client.me()
    assert isinstance(me, Organization)
    assert (me.id, me.name, me.plan, me.instagram_username) == (
        1,
        "Fake Organization 1",
        "pro",
        "fake.org1",
    )
    assert me.created_at is not None


async def test_request_reaches_any_path_with_auth_and_query(
    inro_client: Client, inro_server: FakeInro
) -> None:
    response = await inro_client.request(
        "get", "/contacts", params={"per_page": 3, "page": 2, "offset": None}
    )
    assert isinstance(response, APIResponse)
    assert (response.method, response.path, response.status) == ("GET", "/contacts", 200)
    assert [c["id"] for c in response.json()] == [4, 5, 6]
    assert response.headers["X-Total"] == "100"
    (recorded,) = inro_server.requests
    assert recorded.query == {"per_page": "3", "page": "2"}
    assert recorded.token == "test-token"
    assert "GET /contacts 200" in repr(response)


async def test_request_sends_json_and_decodes_into_a_model(
    inro_client: Client, inro_server: FakeInro
) -> None:
    response = await inro_client.request("POST", "/folders", json={"name": "Raw", "color": "red"})
    assert response.status == 201
    assert response.json()["name"] == "Raw"
    (recorded,) = inro_server.requests_to("folders.create")
    assert recorded.body == {"name": "Raw", "color": "red"}


async def test_request_sends_a_multipart_value_and_can_send_it_again(
    inro_client: Client, inro_server: FakeInro
) -> None:
    form = Multipart(
        fields=(("caption", "Raw"),), files=(FilePart("file", "a.png", "image/png", b"PNG!"),)
    )
    for _ in range(2):  # a plain value: encoded afresh for each request
        response = await inro_client.request("POST", "/media_files", form=form)
        assert response.status == 201
        assert (response.json()["caption"], response.json()["size"]) == ("Raw", 4)
    assert len(inro_server.org.media_files) == 2


async def test_request_still_takes_a_formdata_factory_url_encoded_or_multipart(
    inro_client: Client, inro_server: FakeInro
) -> None:
    def with_file() -> aiohttp.FormData:
        form = aiohttp.FormData()
        form.add_field("caption", "Old style")
        form.add_field("file", b"PNG!", filename="a.png", content_type="image/png")
        return form

    response = await inro_client.request("POST", "/media_files", form=with_file)
    assert (response.status, response.json()["caption"]) == (201, "Old style")
    text_only = aiohttp.FormData({"name": "Raw folder"})  # url-encoded by aiohttp
    with pytest.raises(BadRequestError, match="multipart uploads need a 'file' part"):
        await inro_client.request("POST", "/media_files", form=lambda: text_only)


def test_a_multipart_repr_shows_counts_not_values() -> None:
    form = Multipart(
        fields=(("contact_emails[]", "ana@example.com"),),
        files=(FilePart("image", "a.png", "image/png", b"PNG!"),),
    )
    assert "ana@" not in repr(form)
    assert repr(form) == "<Multipart 1 fields, 1 files>"


async def test_a_204_has_an_empty_body(inro_client: Client) -> None:
    response = await inro_client.request("DELETE", "/folders/1")
    assert (response.status, response.content, response.json()) == (204, b"", None)


async def test_request_repeats_a_get_but_never_a_post_after_a_5xx(
    inro_client: Client, inro_server: FakeInro
) -> None:
    fast = inro_client.with_options(max_retries=FAST_RETRIES)
    inro_server.inject("status", status=503)
    assert (await fast.request("GET", "/me")).retries == 1
    inro_server.inject("status", status=503)
    with pytest.raises(InternalServerError, match="outcome is unknown"):
        await fast.request("POST", "/folders", json={"name": "Once"})
    assert [r.status for r in inro_server.requests] == [503, 200, 503]


async def test_with_options_applies_only_to_the_copy(
    inro_client: Client, inro_server: FakeInro
) -> None:
    hasty = inro_client.with_options(timeout=TIMEOUT, max_retries=0)
    inro_server.inject("latency", route="me", seconds=TIMEOUT + 0.1, times=2)
    with pytest.raises(APITimeoutError) as caught:
        await hasty.me()
    assert "outcome" not in str(caught.value)  # a lost GET changed nothing: no worry to report
    assert (await inro_client.me()).id == 1  # the original waits as long as it takes
    assert hasty.governor is inro_client.governor


async def test_two_tokens_are_two_organizations(inro_server: FakeInro) -> None:
    inro_server.add_organization("second-token", contacts=3, seed=5)
    async with (
        Client(token="test-token", base_url=inro_server.base_url) as first,
        Client(token="second-token", base_url=inro_server.base_url) as second,
    ):
        mine, theirs = await first.contacts.list(per_page=1000), await second.contacts.list()
        assert (len(mine), len(theirs)) == (100, 3)
        await second.folders.create("Only theirs")
        assert "Only theirs" not in [f.name for f in await first.folders.list()]
        assert ((await first.me()).id, (await second.me()).id) == (1, 2)


# -- lifecycle: a closed client stays closed; one event loop per client ----------------------


async def test_a_client_used_without_async_with_works_until_aclose(
    inro_server: FakeInro,
) -> None:
    inro = Client(token=TOKEN, base_url=inro_server.base_url)
    assert (await inro.me()).id == 1
    assert not inro.closed
    await inro.aclose()
    assert inro.closed
    await inro.aclose()  # a second close does nothing


async def test_a_closed_client_refuses_to_send_instead_of_reopening(
    inro_server: FakeInro,
) -> None:
    inro = Client(token=TOKEN, base_url=inro_server.base_url)
    await inro.me()
    await inro.aclose()
    backend = inro._transport.backend
    assert isinstance(backend, AiohttpBackend)
    session = backend._session
    sent = len(inro_server.requests)
    for call in (inro.me, inro.with_options(timeout=5).me, inro.contacts.list):
        with pytest.raises(ClientClosedError, match=r"this Client is closed; create a new one"):
            await call()
    assert len(inro_server.requests) == sent  # nothing reached the server
    assert backend._session is session  # no new session to leak
    assert session is not None
    assert session.closed


async def test_entering_a_closed_client_again_is_an_error(inro_server: FakeInro) -> None:
    async with Client(token=TOKEN, base_url=inro_server.base_url) as inro:
        await inro.me()
    with pytest.raises(ClientClosedError):
        async with inro:
            pass


def test_a_client_used_from_a_second_event_loop_says_so() -> None:
    server = FakeInro()
    server.add_organization(TOKEN, contacts=1)
    with serve_in_thread(server) as base_url:
        inro = Client(token=TOKEN, base_url=base_url)
        first = asyncio.new_event_loop()
        try:
            first.run_until_complete(inro.me())
            with pytest.raises(EventLoopMismatchError, match=r"second asyncio\.run"):
                asyncio.run(inro.me())
            assert isinstance(EventLoopMismatchError(), RuntimeError)
            assert len(server.requests) == 1  # the second call sent nothing
        finally:
            first.run_until_complete(inro.aclose())
            first.close()
