"""HTTP as users' other clients do it: proxies from the environment, pool limits, User-Agent, and
the server's ``X-Request-Id`` on responses, errors and log lines.

Over loopback: the SDK against ``FakeInro``, through a forward proxy (``forward_proxy.py``)
that records what it forwards (never header values) and stamps an ``X-Request-Id``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import yarl
from aiohttp import web
from forward_proxy import ForwardProxy

from inro_async import Client, InroError, InvalidArgumentError, Limits, NotFoundError, __version__
from inro_async._http import AiohttpBackend, HTTPRequest
from inro_async.testing import FakeInro

TOKEN = "tok_live_PROXYSECRET_4f1c2e9a"
PROXY_VARIABLES = (
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
    "NO_PROXY", "no_proxy",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable from the machine running the suite leaks into these tests."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeInro]:
    server = FakeInro()
    server.add_organization(TOKEN, contacts=5, seed=3)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    async with ForwardProxy() as running:
        yield running


async def test_http_proxy_from_the_environment_carries_every_request(
    fake: FakeInro, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with Client(token=TOKEN, base_url=fake.base_url) as inro:
        await inro.me()
        await inro.contacts.list(per_page=2)
    assert [(seen.method, seen.url) for seen in proxy.seen] == [
        ("GET", f"{fake.base_url}/me"),
        ("GET", f"{fake.base_url}/contacts"),
    ]
    assert all(seen.authorization for seen in proxy.seen)  # the API still gets its token


async def test_no_proxy_covering_the_host_goes_direct(
    fake: FakeInro, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.org,127.0.0.1")
    async with Client(token=TOKEN, base_url=fake.base_url) as inro:
        assert (await inro.me()).name
    assert proxy.seen == []


async def test_trust_env_false_ignores_the_environment(
    fake: FakeInro, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with Client(token=TOKEN, base_url=fake.base_url, trust_env=False) as inro:
        await inro.me()
    assert proxy.seen == []


async def test_explicit_proxy_sends_its_credentials_to_the_proxy_and_logs_none_of_them(
    fake: FakeInro, proxy: ForwardProxy, caplog: pytest.LogCaptureFixture
) -> None:
    with_credentials = proxy.url.replace("http://", "http://alice:pr0xy-pa55@")
    caplog.set_level(logging.DEBUG, logger="inro_async")
    async with Client(token=TOKEN, base_url=fake.base_url, proxy=with_credentials) as inro:
        await inro.me()
    assert [(seen.url, seen.proxy_user) for seen in proxy.seen] == [
        (f"{fake.base_url}/me", "alice")
    ]
    assert f"connecting through the proxy {proxy.url}" in caplog.text
    assert "pr0xy-pa55" not in caplog.text
    assert TOKEN not in caplog.text


async def test_request_id_of_the_answer_is_on_the_response_the_error_and_the_log(
    fake: FakeInro, proxy: ForwardProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="inro_async")
    async with Client(token=TOKEN, base_url=fake.base_url, proxy=proxy.url) as inro:
        response = await inro.request("GET", "/me")
        with pytest.raises(NotFoundError) as caught:
            await inro.contacts.get(id=999_999)
    assert response.request_id == "req_0001"
    assert caught.value.request_id == "req_0002"
    assert "[request id req_0002]" in str(caught.value)
    assert "GET /me -> 200" in caplog.text
    assert "[request id req_0001]" in caplog.text


async def test_without_a_request_id_nothing_is_added(fake: FakeInro) -> None:
    async with Client(token=TOKEN, base_url=fake.base_url) as inro:
        response = await inro.request("GET", "/me")
        with pytest.raises(NotFoundError) as caught:
            await inro.contacts.get(id=999_999)
    assert response.request_id is None
    assert caught.value.request_id is None
    assert "request id" not in str(caught.value)


async def test_user_agent_names_the_sdk_and_its_version(
    fake: FakeInro, proxy: ForwardProxy
) -> None:
    async with Client(token=TOKEN, base_url=fake.base_url, proxy=proxy.url) as inro:
        await inro.me()
    assert proxy.seen[0].user_agent.startswith(f"inro-async/{__version__} aiohttp/")


async def test_limits_bound_the_connections_of_the_pool(fake: FakeInro) -> None:
    limits = Limits(max_connections=3, keepalive_expiry=2.5)
    async with Client(token=TOKEN, base_url=fake.base_url, limits=limits) as inro:
        await inro.me()
        connector = inro._transport.backend.session.connector  # type: ignore[attr-defined]
        assert connector.limit == 3
        assert connector._keepalive_timeout == 2.5


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"max_connections": 0}, "max_connections"),
        ({"max_connections": 2.5}, "max_connections"),
        ({"keepalive_expiry": -1}, "keepalive_expiry"),
        ({"keepalive_expiry": float("inf")}, "keepalive_expiry"),
    ],
)
def test_limits_refuse_what_a_pool_cannot_be(arguments: dict[str, float], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        Limits(**arguments)  # type: ignore[arg-type]
    assert caught.value.argument == argument


def test_a_proxy_that_is_not_an_http_url_is_refused_without_showing_its_password() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        Client(token=TOKEN, proxy="socks5://bob:s3cret@proxy.example:1080")
    assert caught.value.argument == "proxy"
    assert "s3cret" not in str(caught.value)


def test_connection_settings_beside_a_backend_are_refused() -> None:
    from inro_async._http import MockBackend

    with pytest.raises(InroError, match="backend"):
        Client(token=TOKEN, backend=MockBackend(lambda r: MockBackend.result()), limits=Limits())


async def test_no_proxy_may_name_the_host_with_its_port(
    fake: FakeInro, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert fake.base_url is not None
    port = fake.base_url.split(":")[2].split("/")[0]
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", f"127.0.0.1:{port}")
    async with Client(token=TOKEN, base_url=fake.base_url) as inro:
        await inro.me()
    assert proxy.seen == []


async def test_keepalive_expiry_zero_closes_each_connection_after_its_answer(
    fake: FakeInro,
) -> None:
    async with Client(
        token=TOKEN, base_url=fake.base_url, limits=Limits(keepalive_expiry=0)
    ) as inro:
        await inro.me()
        connector = inro._transport.backend.session.connector  # type: ignore[attr-defined]
        assert connector.force_close


async def test_limits_beside_a_session_of_ones_own_are_refused() -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        with pytest.raises(InroError, match="your session's connector"):
            Client(token=TOKEN, session=session, limits=Limits())


async def test_the_query_reaches_the_server_in_order_with_repeated_keys_and_escapes() -> None:
    """The backend hands aiohttp a dict when no key repeats (yarl's fast path): the text sent is
    the pairs' own, in their order, and a query whose keys repeat (``ids[]``) keeps every pair."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.raw_path.partition("?")[2])  # as it came, still encoded
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/q", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/q"
    queries = [
        [("query", "ana+b@x.io & co"), ("page", "2"), ("per_page", "1000")],
        [("ids[]", "1"), ("ids[]", "2"), ("q", "é/?#")],
    ]
    backend = AiohttpBackend(trust_env=False)
    try:
        for query in queries:
            result = await backend.send(HTTPRequest("GET", url, query))
            assert result.status == 200
    finally:
        await backend.aclose()
        await runner.cleanup()
    assert seen == [yarl.URL(url).extend_query(query).raw_query_string for query in queries]
    assert seen[0] == "query=ana%2Bb@x.io+%26+co&page=2&per_page=1000"
    assert seen[1].startswith("ids%5B%5D=1&ids%5B%5D=2&q=")


async def test_the_environment_is_read_at_the_first_request_not_at_construction(
    fake: FakeInro, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client made at import time, before the process configures its proxy, still uses it;
    # and once a first request found no proxy anywhere, none is looked up per request.
    inro = Client(token=TOKEN, base_url=fake.base_url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with inro:
        await inro.me()
    assert [seen.url for seen in proxy.seen] == [f"{fake.base_url}/me"]
    async with Client(token=TOKEN, base_url=fake.base_url, proxy=proxy.url) as explicit:
        await explicit.me()
        await explicit.me()
    assert len(proxy.seen) == 3  # an explicit proxy carries every request, not just the first


async def test_only_no_proxy_in_the_environment_connects_directly(
    fake: FakeInro, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "example.org")
    async with Client(token=TOKEN, base_url=fake.base_url) as inro:
        await inro.me()
        assert inro._transport.backend._direct  # type: ignore[attr-defined]
        await inro.me()
    assert proxy.seen == []
