"""Fixtures for testing the fake server itself, over loopback HTTP with plain aiohttp."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
import pytest_asyncio

from inro_async.testing import FakeInro


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes


class Http:
    """A thin aiohttp wrapper: ``await http.get("/contacts", page=2)`` → Reply."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self.session = session
        self.base_url = base_url
        self.token = token

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        token: str | None = None,
        **params: Any,
    ) -> Reply:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        async with self.session.request(
            method,
            self.base_url + path,
            params={k: str(v) for k, v in params.items()},
            json=json,
            data=data,
            headers=headers,
        ) as response:
            raw = await response.read()
            try:
                body = msgspec.json.decode(raw) if raw else None
            except msgspec.DecodeError:
                body = raw
            return Reply(response.status, body, dict(response.headers), raw)

    async def get(self, path: str, **params: Any) -> Reply:
        return await self.call("GET", path, **params)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, json=json, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, json=json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return await self.call("PATCH", path, json=json, **kwargs)

    async def delete(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return await self.call("DELETE", path, json=json, **kwargs)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeInro]:
    server = FakeInro(batch_delay=0.01)
    server.add_organization("tok", contacts=60, seed=3)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest_asyncio.fixture
async def http(fake: FakeInro) -> AsyncIterator[Http]:
    assert fake.base_url is not None
    async with aiohttp.ClientSession() as session:
        yield Http(session, fake.base_url, "tok")
