"""pytest fixtures for testing code that uses Inrō, registered through ``pytest11``.

::

    async def test_welcome(inro_server, inro_client):
        await inro_client.messages.send(contact_ids=[1], text="Hi")
        assert inro_server.org.delivery_counts()[1] == 1

Override ``inro_fake_options`` in a ``conftest.py`` to shape the server::

    @pytest.fixture
    def inro_fake_options():
        return {"contacts": 5000, "mode": "fixed", "quotas": [Quota(20, 1)]}

The fixtures are async (pytest-asyncio); they start the server on 127.0.0.1 with a free port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from inro_async.errors import InvalidArgumentError

if TYPE_CHECKING:
    from inro_async.client import Client
    from inro_async.testing.server import FakeInro

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the plugin needs pytest-asyncio for its fixtures
    pytest_asyncio = None  # type: ignore[assignment]

TOKEN = "test-token"
"""The token of the organization ``inro_server`` creates."""

_SERVER_KEYS = ("mode", "quotas", "clock", "faults", "wrap_scenarios", "batch_delay")
_ORG_KEYS = ("contacts", "seed", "plan")


@pytest.fixture
def inro_fake_options() -> dict[str, Any]:
    """Options for ``inro_server`` (contacts, seed, plan, mode, quotas, clock, faults)."""
    return {}


async def _server(options: dict[str, Any]) -> AsyncIterator[FakeInro]:
    from inro_async.testing.server import FakeInro

    unknown = set(options) - set(_SERVER_KEYS) - set(_ORG_KEYS)
    if unknown:
        raise InvalidArgumentError(
            "inro_fake_options", f"unknown keys: {', '.join(sorted(unknown))}"
        )
    fake = FakeInro(**{k: v for k, v in options.items() if k in _SERVER_KEYS})
    fake.add_organization(TOKEN, **{k: v for k, v in options.items() if k in _ORG_KEYS})
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def _client(server: FakeInro) -> AsyncIterator[Client]:
    from inro_async.client import Client

    # Pace for the quotas the fake enforces (``inro_fake_options["quotas"]``), not production's:
    # a client that mirrors other quotas than its server's earns 429s or runs needlessly slow.
    quotas = server.organizations[TOKEN].limiter.quotas
    async with Client(token=TOKEN, base_url=server.base_url, quotas=quotas) as client:
        yield client


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def inro_server(inro_fake_options: dict[str, Any]) -> AsyncIterator[FakeInro]:
        """A started fake Inrō server with one Pro organization (token ``test-token``)."""
        async for fake in _server(inro_fake_options):
            yield fake

    @pytest_asyncio.fixture
    async def inro_client(inro_server: FakeInro) -> AsyncIterator[Client]:
        """An ``inro_async.Client`` pointed at ``inro_server``, paced for the same quotas."""
        async for client in _client(inro_server):
            yield client
