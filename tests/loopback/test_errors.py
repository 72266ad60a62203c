"""Errors over loopback HTTP: status → exception, bad bodies, and never the token.

Each failure a user can meet is produced for real against the fake server, and the token is
searched for in the exception's str, repr, args, attributes and formatted traceback, and in the
debug log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from inro_async import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    Contact,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from inro_async.client import Client
from inro_async.testing import FakeInro

from .conftest import FAST_RETRIES, TIMEOUT, assert_no_secret

SECRET = "sk_live_5ecret_T0KEN_do_not_leak"  # distinctive, so any echo of it would be found
FREE_SECRET = "sk_live_free_plan_T0KEN_do_not_leak"


@pytest.fixture
async def secret_client(inro_server: FakeInro) -> AsyncIterator[Client]:
    """A client for a second organization whose token is ``SECRET``."""
    inro_server.add_organization(SECRET, contacts=10, seed=2)
    async with Client(
        token=SECRET, base_url=inro_server.base_url, timeout=TIMEOUT, max_retries=FAST_RETRIES
    ) as inro:
        yield inro


async def test_an_unknown_token_is_an_authentication_error_with_a_hint(
    inro_server: FakeInro,
) -> None:
    async with Client(token=SECRET, base_url=inro_server.base_url) as inro:
        with pytest.raises(AuthenticationError) as caught:
            await inro.me()
    error = caught.value
    assert (error.status, error.method, error.path) == (401, "GET", "/me")
    assert "invalid API token" in str(error)
    assert "check INRO_API_TOKEN" in str(error)
    assert_no_secret(error, SECRET)


async def test_a_free_plan_is_a_permission_error_with_a_hint(inro_server: FakeInro) -> None:
    inro_server.add_organization(FREE_SECRET, plan="free", contacts=1)
    async with Client(token=FREE_SECRET, base_url=inro_server.base_url) as inro:
        with pytest.raises(PermissionDeniedError) as caught:
            await inro.contacts.list()
    assert caught.value.status == 403
    assert str(caught.value) == (
        "403 The Private API requires a Pro or Trial subscription; "
        "this organization is on the Free plan (GET /contacts)"
    )  # the API's message says it all: no hint repeating (or contradicting) it
    assert_no_secret(caught.value, FREE_SECRET)


async def test_an_unknown_path_through_request_is_a_404(inro_client: Client) -> None:
    with pytest.raises(NotFoundError, match="Not found: GET /api/v1/nowhere") as caught:
        await inro_client.request("GET", "/nowhere")
    assert caught.value.body == {"error": "Not found: GET /api/v1/nowhere"}


async def test_an_error_carries_the_response_headers(inro_client: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        await inro_client.contacts.get(id=999_999)
    assert "X-RateLimit-Remaining" in caught.value.headers


async def test_errors_share_one_base_class(inro_client: Client) -> None:
    with pytest.raises(APIError):
        await inro_client.folders.delete(424242)


# -- bodies that cannot be read --------------------------------------------------------------


@pytest.mark.parametrize("fault", ["truncate", "malformed"])
async def test_a_damaged_body_is_a_clear_validation_error(
    fast: Client, inro_server: FakeInro, fault: str
) -> None:
    inro_server.inject(fault, route="contacts.get")
    with pytest.raises(APIResponseValidationError, match="malformed JSON in response") as caught:
        await fast.contacts.get(id=1)
    error = caught.value
    assert (error.status, error.method, error.path) == (200, "GET", "/contact")
    assert isinstance(error.body, bytes)
    assert error.body
    assert len(inro_server.requests_to("contacts.get")) == 1  # a complete answer: not retried
    assert_no_secret(error)


async def test_a_damaged_body_after_a_send_does_not_repeat_it(
    fast: Client, inro_server: FakeInro
) -> None:
    contact_id = next(c for c, v in inro_server.org.contacts.items() if v["status"] == "active")
    inro_server.inject("truncate", route="messages.send")
    with pytest.raises(APIResponseValidationError):
        await fast.messages.send(contact_id=contact_id, text="hi")
    assert inro_server.org.delivery_counts() == {contact_id: 1}
    assert len(inro_server.requests_to("messages.send")) == 1


async def test_a_body_of_the_wrong_shape_names_what_did_not_fit(inro_client: Client) -> None:
    response = await inro_client.request("GET", "/me")
    with pytest.raises(APIResponseValidationError, match="unexpected response body"):
        response.parse(list[Contact])


# -- the token never shows -------------------------------------------------------------------

Failure = Callable[[Client, FakeInro], Awaitable[Any]]


async def _bad_request(inro: Client, server: FakeInro) -> Any:
    return await inro.contacts.filter([{"filter_type": "zodiac"}])


async def _not_found(inro: Client, server: FakeInro) -> Any:
    return await inro.contacts.get(username="nobody.here")


async def _unprocessable(inro: Client, server: FakeInro) -> Any:
    return await inro.contacts.update(1, folder_ids=[424242])


async def _server_error(inro: Client, server: FakeInro) -> Any:
    server.inject("status", route="contacts.list", status=502, times=3)
    return await inro.contacts.list()


async def _post_server_error(inro: Client, server: FakeInro) -> Any:
    server.inject("status", route="messages.send", status=500)
    return await inro.messages.send(contact_id=1, text="x")


async def _timeout(inro: Client, server: FakeInro) -> Any:
    server.inject("latency", route="messages.send", seconds=TIMEOUT + 0.05)
    return await inro.messages.send(contact_id=1, text="x")


async def _reset(inro: Client, server: FakeInro) -> Any:
    server.inject("reset_after", route="scenarios.create")
    return await inro.scenarios.create(prompt="p")


async def _truncated(inro: Client, server: FakeInro) -> Any:
    server.inject("truncate", route="folders.list")
    return await inro.folders.list()


FAILURES: dict[str, tuple[Failure, type[Exception]]] = {
    "400": (_bad_request, BadRequestError),
    "404": (_not_found, NotFoundError),
    "422": (_unprocessable, UnprocessableEntityError),
    "5xx after retries": (_server_error, InternalServerError),
    "5xx on a POST": (_post_server_error, InternalServerError),
    "timeout": (_timeout, APITimeoutError),
    "reset": (_reset, APIConnectionError),
    "truncated body": (_truncated, APIResponseValidationError),
}


@pytest.mark.parametrize("name", list(FAILURES))
async def test_no_error_shows_the_token(
    secret_client: Client,
    inro_server: FakeInro,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    failure, error_class = FAILURES[name]
    with caplog.at_level(logging.DEBUG, logger="inro_async"), pytest.raises(error_class) as caught:
        await failure(secret_client, inro_server)
    assert_no_secret(caught.value, SECRET)
    assert caplog.records  # the debug log did speak…
    assert SECRET not in caplog.text  # …without the token
    assert SECRET not in repr(secret_client)


def test_the_search_would_find_a_leak() -> None:
    leaky = NotFoundError(f"no such token {SECRET}", method="GET", path="/me", status=404)
    with pytest.raises(AssertionError):
        assert_no_secret(leaky, SECRET)
    hidden = NotFoundError("fine", method="GET", path="/me", status=404, body={"t": SECRET})
    with pytest.raises(AssertionError):
        assert_no_secret(hidden, SECRET)  # attributes are searched too
