"""The transport: retries only where a repeat is harmless, errors with context, never the token."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from resources._mock import FAST_RETRIES, HIGH_QUOTAS, TOKEN, MockAPI, answer

from inro_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InroError,
    InternalServerError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from inro_async._http import SendError
from inro_async._transport import RequestOptions, Retries, encode_query, parse_retry_after
from inro_async.client import Client
from inro_async.models.contacts import Contact


@pytest.fixture
def api() -> MockAPI:
    return MockAPI()


@pytest.fixture
async def client(api: MockAPI) -> Client:
    async with api.client() as inro:
        yield inro  # type: ignore[misc]


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
        (500, InternalServerError),
    ],
)
async def test_error_status_maps_to_its_exception_with_message_method_and_path(
    api: MockAPI, client: Client, status: int, error_class: type[Exception]
) -> None:
    api.on("GET", "/contact", answer(status, {"error": "the API's own words", "field": "id"}))
    with pytest.raises(error_class) as caught:
        await client.contacts.get(id=5)
    error = caught.value
    assert error.status == status  # type: ignore[attr-defined]
    assert error.method == "GET"  # type: ignore[attr-defined]
    assert error.path == "/contact"  # type: ignore[attr-defined]
    assert "the API's own words" in str(error)
    assert error.body == {"error": "the API's own words", "field": "id"}  # type: ignore[attr-defined]


async def test_a_403_that_does_not_name_the_plan_gets_the_plan_hint(
    api: MockAPI, client: Client
) -> None:
    api.on("GET", "/contact", answer(403, {"error": "Forbidden"}))
    with pytest.raises(PermissionDeniedError) as caught:
        await client.contacts.get(id=5)
    assert str(caught.value) == (
        "403 Forbidden (the Private API needs a Pro or Trial plan) (GET /contact)"
    )


async def test_get_is_retried_after_a_5xx(api: MockAPI, client: Client) -> None:
    api.on("GET", "/contact", answer(503, {"error": "busy"}), answer(200, {"id": 5}))
    contact = await client.contacts.get(id=5)
    assert contact.id == 5
    assert len(api.requests) == 2


async def test_a_5xx_retry_after_within_the_cap_is_waited_out(api: MockAPI, client: Client) -> None:
    api.on("GET", "/contact", answer(503, {}, {"Retry-After": "0.2"}), answer(200, {"id": 5}))
    started = asyncio.get_running_loop().time()
    await client.contacts.get(id=5)
    assert asyncio.get_running_loop().time() - started >= 0.2
    assert len(api.requests) == 2


@pytest.mark.parametrize(
    ("retry_after", "options", "longest"),
    [("3600", {}, "60s"), ("3", {"max_wait": 1.0}, "1s")],
)
async def test_a_5xx_retry_after_beyond_the_cap_or_max_wait_raises_at_once(
    api: MockAPI, retry_after: str, options: dict[str, float], longest: str
) -> None:
    api.on(
        "GET",
        "/contact",
        answer(503, {"error": "maintenance"}, {"Retry-After": retry_after}),
        answer(200, {"id": 5}),
    )
    async with api.client(**options) as inro:
        with pytest.raises(InternalServerError) as caught:
            async with asyncio.timeout(0.5):
                await inro.contacts.get(id=5)
    assert len(api.requests) == 1
    assert f"Retry-After {retry_after}s is longer than the {longest} a retry may wait" in str(
        caught.value
    )


async def test_put_is_retried_after_a_broken_connection(api: MockAPI, client: Client) -> None:
    api.on("PUT", "/contacts/5", SendError("reset", sent=True), answer(200, {"id": 5}))
    await client.contacts.update(5, phone="+1")
    assert len(api.requests) == 2


async def test_post_is_not_retried_after_a_5xx(api: MockAPI, client: Client) -> None:
    api.on("POST", "/messages", answer(502, {"error": "bad gateway"}), answer(202, {}))
    with pytest.raises(InternalServerError, match="outcome is unknown"):
        await client.messages.send(contact_id=1, text="hi")
    assert len(api.requests) == 1


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_5xx_says_the_request_may_have_been_processed(
    api: MockAPI, client: Client, method: str
) -> None:
    # As for a connection lost after sending: the request reached the server.
    api.on(method, "/anything", answer(502, {"error": "bad gateway"}))
    with pytest.raises(InternalServerError) as caught:
        await client.request(method, "/anything")
    assert caught.value.may_have_been_processed
    assert ("outcome is unknown" in str(caught.value)) == (method == "POST")


async def test_post_reset_after_sending_is_not_repeated_and_says_outcome_unknown(
    api: MockAPI, client: Client
) -> None:
    api.on("POST", "/messages", SendError("connection reset", sent=True), answer(202, {}))
    with pytest.raises(APIConnectionError) as caught:
        await client.messages.send(contact_id=1, text="hi")
    assert caught.value.may_have_been_processed
    assert "outcome is unknown" in str(caught.value)
    assert len(api.requests) == 1


async def test_post_that_never_left_is_retried(api: MockAPI, client: Client) -> None:
    api.on(
        "POST", "/messages", SendError("refused", sent=False), answer(202, {"accepted_count": 1})
    )
    result = await client.messages.send(contact_id=1, text="hi")
    assert result.accepted_count == 1
    assert len(api.requests) == 2


async def test_timeout_of_a_post_is_not_retried(api: MockAPI, client: Client) -> None:
    api.on("POST", "/messages", SendError("timed out", sent=True, timeout=True))
    with pytest.raises(APITimeoutError) as caught:
        await client.messages.send(contact_id=1, text="hi")
    assert caught.value.may_have_been_processed
    assert len(api.requests) == 1


async def test_retries_stop_after_max_retries(api: MockAPI, client: Client) -> None:
    api.on("GET", "/contact", answer(500, {"error": "boom"}))
    with pytest.raises(InternalServerError):
        await client.contacts.get(id=1)
    assert len(api.requests) == 3  # the first attempt and 2 retries


async def test_max_retries_zero_sends_once(api: MockAPI) -> None:
    api.on("GET", "/contact", answer(500, {"error": "boom"}))
    async with api.client(max_retries=Retries(max_retries=0)) as inro:
        with pytest.raises(InternalServerError):
            await inro.contacts.get(id=1)
    assert len(api.requests) == 1


async def test_a_429_is_repeated_after_retry_after_even_for_a_post(
    api: MockAPI, client: Client
) -> None:
    api.on(
        "POST",
        "/messages",
        answer(429, {"error": "Rate limit exceeded"}, {"Retry-After": "0"}),
        answer(202, {"accepted_count": 1}),
    )
    result = await client.messages.send(contact_id=1, text="hi")
    assert result.accepted_count == 1
    assert len(api.requests) == 2


async def test_too_many_429s_raise_rate_limit_error_with_retry_after(api: MockAPI) -> None:
    api.on("GET", "/contact", answer(429, {"error": "slow down"}, {"Retry-After": "0"}))
    async with api.client(max_retries=Retries(max_throttled=1)) as inro:
        with pytest.raises(RateLimitError) as caught:
            await inro.contacts.get(id=1)
    assert caught.value.retry_after == 0
    assert len(api.requests) == 2


async def test_a_malformed_body_raises_a_validation_error_with_the_bytes(
    api: MockAPI, client: Client
) -> None:
    api.on("GET", "/contact", answer(200, b'{"id": 1, "userna'))
    with pytest.raises(APIResponseValidationError) as caught:
        await client.contacts.get(id=1)
    assert caught.value.body == b'{"id": 1, "userna'
    assert caught.value.path == "/contact"


async def test_a_body_of_the_wrong_shape_raises_a_validation_error(
    api: MockAPI, client: Client
) -> None:
    api.on("GET", "/contact", answer(200, {"id": "not a number"}))
    with pytest.raises(APIResponseValidationError, match=r"\$\.id"):
        await client.contacts.get(id=1)


async def test_the_token_goes_only_into_the_authorization_header(
    api: MockAPI, client: Client
) -> None:
    api.on("GET", "/contact", answer(200, {"id": 1}))
    await client.contacts.get(id=1)
    request = api.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(request)
    assert TOKEN not in request.url


@pytest.mark.parametrize(
    "failure",
    [
        answer(401, {"error": "Unauthorized: missing or invalid API token"}),
        answer(500, {"error": "boom"}),
        SendError("connection reset", sent=True),
        SendError("timed out", sent=True, timeout=True),
        answer(200, b"{not json"),
    ],
)
async def test_the_token_never_appears_in_errors_or_debug_logs(
    api: MockAPI, client: Client, caplog: pytest.LogCaptureFixture, failure: object
) -> None:
    api.on("GET", "/contact", failure)  # type: ignore[arg-type]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any error; its text is the point
        await client.contacts.get(id=1)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert TOKEN not in repr(vars(caught.value))
    assert TOKEN not in caplog.text
    assert caplog.records, "requests are logged at DEBUG"


async def test_debug_log_names_method_path_status_and_retries(
    api: MockAPI, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("GET", "/contact", answer(503, {}), answer(200, {"id": 1}))
    caplog.set_level(logging.DEBUG, logger="inro_async")
    await client.contacts.get(id=1)
    assert "GET /contact -> 503" in caplog.text
    assert "retrying in" in caplog.text
    assert "GET /contact -> 200" in caplog.text


async def test_response_parse_decodes_any_type(api: MockAPI, client: Client) -> None:
    api.on("GET", "/contacts", answer(200, [{"id": 1}, {"id": "2"}]))
    response = await client.request("GET", "/contacts")
    assert [c.id for c in response.parse(list[Contact])] == [1, 2]
    assert response.json() == [{"id": 1}, {"id": "2"}]
    assert TOKEN not in repr(response)


def test_query_drops_none_lowercases_booleans_and_repeats_lists() -> None:
    assert encode_query({"a": None, "b": True, "c": [1, 2], "d": "x"}) == [
        ("b", "true"),
        ("c[]", "1"),
        ("c[]", "2"),
        ("d", "x"),
    ]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("0", 0.0), ("-2", 0.0), ("soon", None), (None, None), ("nan", None)],
)
def test_retry_after_parsing(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_accepts_an_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now=1767225600.0) == 10.0


def test_backoff_is_full_jitter_capped() -> None:
    import random

    retries = Retries(backoff_base=1.0, backoff_cap=4.0)
    rng = random.Random(1)
    assert all(0 <= retries.backoff(10, rng) <= 4.0 for _ in range(100))


def test_retries_reject_negative_settings() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        Retries(max_retries=-1)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        *[(name, bad) for name in ("max_retries", "max_throttled") for bad in (1.5, "2", True)],
        *[
            (name, bad)
            for name in (
                "backoff_base",
                "backoff_cap",
                "max_retry_after",
                "max_throttled_wait",
            )
            for bad in (-1, "x", float("nan"), True)
        ],
        ("backoff_base", float("inf")),
    ],
)
def test_retries_refuse_a_setting_that_is_not_a_number_naming_it(
    argument: str, value: object
) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"^{argument}: "):
        Retries(**{argument: value})  # type: ignore[arg-type]


def test_retries_accept_an_infinite_cap() -> None:
    retries = Retries(backoff_cap=float("inf"), max_retry_after=float("inf"))
    assert retries.longest_retry_after(None) == float("inf")


def test_request_options_refuse_retries_that_are_not_retries() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^retries: "):
        RequestOptions(retries=3)  # type: ignore[arg-type]


async def test_a_read_sent_as_post_is_retried_and_its_error_does_not_claim_unknown_outcome(
    api: MockAPI, client: Client
) -> None:
    api.on("POST", "/contacts/filter", answer(500, {"error": "boom"}))
    with pytest.raises(InternalServerError) as caught:
        await client.contacts.filter([{"filter_type": "status", "value": "active"}])
    assert len(api.requests) == 3
    assert "outcome is unknown" not in str(caught.value)


# -- over real loopback sockets: how the aiohttp backend classifies broken exchanges -----------

Fault = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Loopback:
    """A tiny HTTP server on 127.0.0.1 whose next answers are scripted faults."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.received: list[tuple[str, str, bytes]] = []
        self.processed: list[tuple[str, str]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults:
            return await self.faults.pop(0)(request)
        body = await request.read()
        self.received.append((request.method, request.path, body))
        self.processed.append((request.method, request.path))
        status = 202 if request.method == "POST" else 200
        return web.json_response({"id": 1, "accepted_count": 1}, status=status)


async def reset_before_processing(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.close()
    return web.Response()


def reset_after_processing(server: Loopback) -> Fault:
    async def fault(request: web.Request) -> web.StreamResponse:
        server.received.append((request.method, request.path, await request.read()))
        server.processed.append((request.method, request.path))  # the API acted on it
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    return fault


async def truncate(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Length": "100"})
    await response.prepare(request)
    await response.write(b'{"id": 1')
    assert request.transport is not None
    request.transport.close()
    return response


def slow(seconds: float) -> Fault:
    async def fault(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.json_response({"id": 1})

    return fault


def status(code: int) -> Fault:
    async def fault(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.json_response({"error": f"status {code}"}, status=code)

    return fault


@pytest.fixture
async def loopback() -> AsyncIterator[tuple[Loopback, str]]:
    server = Loopback()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield server, f"http://127.0.0.1:{port}/api/v1"
    await runner.cleanup()


def loopback_client(base_url: str, timeout: float = 5.0) -> Client:
    return Client(
        token=TOKEN,
        base_url=base_url,
        quotas=HIGH_QUOTAS,
        max_retries=FAST_RETRIES,
        timeout=timeout,
    )


async def test_post_reset_after_processing_is_not_repeated(
    loopback: tuple[Loopback, str],
) -> None:
    server, base_url = loopback
    server.faults.append(reset_after_processing(server))
    async with loopback_client(base_url) as inro:
        with pytest.raises(APIConnectionError) as caught:
            await inro.messages.send(contact_id=1, text="hi")
    assert caught.value.may_have_been_processed
    assert "outcome is unknown" in str(caught.value)
    assert server.processed == [("POST", "/api/v1/messages")]


async def test_post_reset_before_processing_is_not_repeated_either(
    loopback: tuple[Loopback, str],
) -> None:
    # From the client's side the two resets look alike: the request left, no answer came.
    server, base_url = loopback
    server.faults.append(reset_before_processing)
    async with loopback_client(base_url) as inro:
        with pytest.raises(APIConnectionError) as caught:
            await inro.messages.send(contact_id=1, text="hi")
    assert caught.value.may_have_been_processed
    assert server.processed == []
    assert server.faults == []  # exactly one attempt reached the server


@pytest.mark.parametrize("fault", [reset_before_processing, truncate, status(503), status(500)])
async def test_get_is_retried_after_a_reset_a_truncation_or_a_5xx(
    loopback: tuple[Loopback, str], fault: Fault
) -> None:
    server, base_url = loopback
    server.faults.append(fault)
    async with loopback_client(base_url) as inro:
        contact = await inro.contacts.get(id=1)
    assert contact.id == 1
    assert server.processed == [("GET", "/api/v1/contact")]


async def test_put_is_retried_after_a_reset_after_processing(
    loopback: tuple[Loopback, str],
) -> None:
    server, base_url = loopback
    server.faults.append(reset_after_processing(server))
    async with loopback_client(base_url) as inro:
        await inro.contacts.update(1, phone="+1555")
    assert server.processed == [("PUT", "/api/v1/contacts/1")] * 2  # harmless: same result


async def test_post_5xx_is_not_repeated(loopback: tuple[Loopback, str]) -> None:
    server, base_url = loopback
    server.faults.append(status(502))
    async with loopback_client(base_url) as inro:
        with pytest.raises(InternalServerError, match="outcome is unknown"):
            await inro.messages.send(contact_ids=[1, 2], text="hi")
    assert server.faults == []
    assert server.processed == []


async def test_get_timeout_is_retried_then_succeeds(loopback: tuple[Loopback, str]) -> None:
    server, base_url = loopback
    server.faults.append(slow(0.5))
    async with loopback_client(base_url, timeout=0.1) as inro:
        contact = await inro.contacts.get(id=1)
    assert contact.id == 1


async def test_post_timeout_is_not_repeated(loopback: tuple[Loopback, str]) -> None:
    server, base_url = loopback
    server.faults.append(slow(0.5))
    async with loopback_client(base_url, timeout=0.1) as inro:
        with pytest.raises(APITimeoutError) as caught:
            await inro.messages.send(contact_id=1, text="hi")
    assert caught.value.may_have_been_processed
    assert "timed out after 0.1s" in str(caught.value)
    assert server.faults == []
    assert server.processed == []


async def test_a_refused_connection_is_retried_then_reported_as_not_processed() -> None:
    async with loopback_client("http://127.0.0.1:9/api/v1") as inro:
        with pytest.raises(APIConnectionError) as caught:
            await inro.messages.send(contact_id=1, text="hi")
    assert not caught.value.may_have_been_processed
    assert "outcome is unknown" not in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_an_error_from_aiohttp_names_no_query_string(
    loopback: tuple[Loopback, str],
) -> None:
    # aiohttp's text for a redirect loop names the URL, query (an email here) included.
    async def redirect_to_itself(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.path_qs)

    server, base_url = loopback
    server.faults.extend([redirect_to_itself] * 100)
    async with loopback_client(base_url) as inro:
        with pytest.raises(InroError) as caught:
            await inro.request("GET", "/contacts/search", params={"q": "jane@example.com"})
    assert "/contacts/search" in str(caught.value)
    assert "jane" not in str(caught.value)


async def test_query_parameters_reach_the_server_exactly_as_given(
    loopback: tuple[Loopback, str],
) -> None:
    # Spaces, reserved characters, non-ASCII text and repeated key[] parameters all survive.
    seen: list[list[tuple[str, str]]] = []

    async def echo(request: web.Request) -> web.StreamResponse:
        seen.append(list(request.query.items()))
        return web.json_response([])

    server, base_url = loopback
    server.faults.append(echo)
    text = "ana & bo/ü+1 %20 #x?y=z"
    async with loopback_client(base_url) as inro:
        await inro._transport.request(
            "GET",
            "/contacts/search",
            params={"q": text, "tags": ["vip client", "a&b"], "page": 2, "flag": True},
        )
    assert seen == [
        [
            ("q", text),
            ("tags[]", "vip client"),
            ("tags[]", "a&b"),
            ("page", "2"),
            ("flag", "true"),
        ]
    ]
