from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from postgres_server import postgres_server

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def where(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty mirror location on each store: a SQLite path, a PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "crm.sqlite3")
        return
    yield await new_database(request.getfixturevalue("postgres_url"), tmp_path)


@pytest_asyncio.fixture
async def postgres_where(postgres_url: str, tmp_path: Path) -> str:
    """A new, empty PostgreSQL database for a mirror (the PostgreSQL-only tests)."""
    return await new_database(postgres_url, tmp_path)


async def new_database(url: str, tmp_path: Path) -> str:
    name = f"mirror_{next(_names)}_{tmp_path.name.lower().replace('-', '_')[-30:]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.rsplit("/", 1)[0] + "/" + name
