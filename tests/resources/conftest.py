"""Fixtures of the resource tests: a scripted mock API (socket-free) and its client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from inro_async.client import Client

from ._mock import MockAPI


@pytest.fixture
def api() -> MockAPI:
    """A scripted API: ``api.on("GET", "/contacts", answer(...))``."""
    return MockAPI()


@pytest.fixture
async def client(api: MockAPI) -> AsyncIterator[Client]:
    """A client talking to ``api``."""
    async with api.client() as inro:
        yield inro
