"""Redirects: a write is never followed (its outcome is unknown), a read never leaks the token.

The API does not redirect; a redirect comes from a proxy, a load balancer or a wrong base URL.
An answer arrived, so the request was sent, and it may have been processed: a POST, PUT, PATCH
or DELETE answered 3xx raises ``UnexpectedRedirectError`` (``may_have_been_processed``), is not
repeated, and a job's chunk ends ``unknown``. A GET may follow a redirect (same-origin, or to
another origin without the token: aiohttp drops ``Authorization`` when the origin changes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from inro_async import APIStatusError, UnexpectedRedirectError
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN
from inro_async.testing.store import Organization

from .conftest import active_contact, assert_no_secret

UNREACHABLE = "http://127.0.0.1:9/api/v1/messages"
LOCATIONS = {
    "unreachable host": UNREACHABLE,
    "malformed": "http://[::1",
    "same origin": "/api/v1/me",
}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", LOCATIONS.values(), ids=LOCATIONS.keys())
async def test_a_send_answered_with_a_redirect_is_not_followed_and_its_outcome_is_unknown(
    fast: Client, inro_server: FakeInro, org: Organization, status: int, location: str
) -> None:
    jane = active_contact(org)
    inro_server.inject("redirect", route="messages.send", status=status, location=location)
    with pytest.raises(UnexpectedRedirectError) as caught:
        await fast.messages.send(contact_ids=[jane["id"]], text="hi")
    error = caught.value
    assert isinstance(error, APIStatusError)
    assert (error.status, error.location) == (status, location)
    assert error.may_have_been_processed
    assert "outcome is unknown" in str(error)
    assert location.split("?")[0] in str(error)
    assert [r.route for r in inro_server.requests] == ["messages.send"]  # nothing followed
    assert org.delivery_counts() == {jane["id"]: 1}
    assert_no_secret(error)


@pytest.mark.parametrize("status", [302, 307])
async def test_a_put_patch_or_delete_answered_with_a_redirect_is_not_followed_or_repeated(
    fast: Client, inro_server: FakeInro, org: Organization, status: int
) -> None:
    folder = await fast.folders.create("VIP")
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "contacts.update": lambda: fast.contacts.update(1, notes="redirected"),
        "folders.update": lambda: fast.folders.update(folder.id, name="Gold"),
        "folders.delete": lambda: fast.folders.delete(folder.id),
    }
    for route, call in calls.items():
        inro_server.inject("redirect", route=route, status=status, location=UNREACHABLE)
        with pytest.raises(UnexpectedRedirectError, match="outcome is unknown"):
            await call()
        assert len(inro_server.requests_to(route)) == 1, route
    assert org.contacts[1]["notes"] == "redirected"  # each was processed once


async def test_a_send_many_chunk_answered_with_a_redirect_ends_unknown_and_is_not_resent(
    inro_client: Client, inro_server: FakeInro, org: Organization, tmp_path: Any
) -> None:
    recipients = sorted(org.contacts)
    journal = tmp_path / "redirected.journal"
    inro_server.inject("redirect", route="messages.send", status=302, location=UNREACHABLE)
    report = await inro_client.messages.send_many(recipients, text="hi", job=journal)
    assert report.unknown == len(recipients)
    assert report.failed == 0
    assert len(inro_server.requests_to("messages.send")) == 1
    again = await inro_client.messages.send_many(recipients, text="hi", job=journal)
    assert again.unknown == len(recipients)  # a rerun does not send it blindly
    assert len(inro_server.requests_to("messages.send")) == 1
    assert max(org.delivery_counts().values()) == 1


async def test_a_get_answered_with_a_redirect_it_cannot_follow_raises_instead_of_succeeding(
    fast: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("redirect", route="me", status=300, location="/api/v1/me")
    with pytest.raises(UnexpectedRedirectError) as caught:
        await fast.me()
    assert caught.value.status == 300
    assert "outcome is unknown" not in str(caught.value)  # a read has no outcome


# -- reads over a tiny server: same-origin redirects keep the token, others never get it ------


class Recorder:
    """A server on 127.0.0.1 that records the Authorization header of every request."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("Authorization")))
        target = request.query.get("to")
        if target is not None:
            raise web.HTTPFound(target)
        return web.json_response({"id": 1, "name": "Acme", "plan": "pro"})


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Recorder, Recorder]]:
    """Two recorders on different ports: two origins."""
    runners: list[web.AppRunner] = []
    recorders = (Recorder(), Recorder())
    for recorder in recorders:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", recorder.handle)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        recorder.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
        runners.append(runner)
    yield recorders
    for runner in runners:
        await runner.cleanup()


async def test_a_get_follows_a_same_origin_redirect_with_the_token(
    servers: tuple[Recorder, Recorder],
) -> None:
    api, _ = servers
    async with Client(TOKEN, base_url=api.base_url) as inro:
        response = await inro.request("GET", "/me", params={"to": "/api/v1/me-too"})
    assert response.status == 200
    assert api.seen == [("/api/v1/me", f"Bearer {TOKEN}"), ("/api/v1/me-too", f"Bearer {TOKEN}")]


async def test_a_get_redirected_to_another_origin_never_carries_the_token_there(
    servers: tuple[Recorder, Recorder],
) -> None:
    api, elsewhere = servers
    async with Client(TOKEN, base_url=api.base_url) as inro:
        await inro.request("GET", "/me", params={"to": elsewhere.base_url + "/me"})
    assert api.seen == [("/api/v1/me", f"Bearer {TOKEN}")]
    assert elsewhere.seen == [("/api/v1/me", None)]


async def test_a_post_redirected_to_another_origin_goes_nowhere_else(
    servers: tuple[Recorder, Recorder],
) -> None:
    api, elsewhere = servers
    async with Client(TOKEN, base_url=api.base_url) as inro:
        with pytest.raises(UnexpectedRedirectError):
            await inro.request("POST", "/messages", params={"to": elsewhere.base_url + "/x"})
    assert len(api.seen) == 1
    assert elsewhere.seen == []
