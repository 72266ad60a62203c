"""A base URL without ``/api/v1`` gets a 404 that says so (issue 15 #11).

Every route lives under ``/api/v1``; pointing a client at ``http://host:port`` (the fake server's
address as a user might copy it) made every call a bare 404. The error now names the mistake,
only for a known route (a path the API has), and only when the base URL lacks ``/api/v1``.
"""

from __future__ import annotations

import pytest

from inro_async import NotFoundError
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN

HINT = "the API's routes are under /api/v1"


def _without_prefix(server: FakeInro) -> str:
    assert server.base_url is not None
    assert server.base_url.endswith("/api/v1")
    return server.base_url.removesuffix("/api/v1")


@pytest.mark.parametrize("suffix", ["", "/", "/api", "/v1", "/api/v2"])
async def test_a_known_route_answered_404_says_the_base_url_lacks_api_v1(
    inro_server: FakeInro, suffix: str
) -> None:
    base_url = _without_prefix(inro_server) + suffix
    async with Client(token=TOKEN, base_url=base_url) as inro:
        with pytest.raises(NotFoundError) as me:
            await inro.me()
        with pytest.raises(NotFoundError) as contact:
            await inro.contacts.get(id=5)
    for error in (me.value, contact.value):
        assert HINT in str(error)
        assert "like https://api.inro.social/api/v1" in str(error)
        assert TOKEN not in str(error)


async def test_a_real_404_under_api_v1_has_no_such_hint(inro_client: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        await inro_client.contacts.get(id=999_999)
    assert HINT not in str(caught.value)
    assert "Contact not found: id 999999" in str(caught.value)


async def test_an_unknown_path_is_not_blamed_on_the_base_url(inro_server: FakeInro) -> None:
    async with Client(token=TOKEN, base_url=_without_prefix(inro_server)) as inro:
        with pytest.raises(NotFoundError) as caught:
            await inro.request("GET", "/no/such/thing")
    assert HINT not in str(caught.value)
