"""A journal belongs to one server and one token: over loopback against two fake servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inro_async.client import Client
from inro_async.jobs._journal import JobMismatchError, Journal, JournalMeta, SqliteStore
from inro_async.testing import FakeInro

TOKEN_A = "identity-test-token-A"
TOKEN_B = "identity-test-token-B"


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeInro, str]]:
    server = FakeInro()
    server.add_organization(TOKEN_A, plan="pro", contacts=100, seed=3)
    server.add_organization(TOKEN_B, plan="pro", contacts=100, seed=3)
    base_url = await server.start()
    try:
        yield server, base_url
    finally:
        await server.close()


def sends(server: FakeInro) -> int:
    return sum(1 for r in server.requests if r.route == "messages.send")


async def test_another_token_on_the_same_server_refuses_to_resume_and_sends_nothing(
    fake: tuple[FakeInro, str], tmp_path: Path
) -> None:
    server, base_url = fake
    journal = tmp_path / "xorg.sqlite3"
    async with Client(TOKEN_A, base_url=base_url) as inro:
        first = await inro.messages.send_many(range(1, 51), text="Hi", job=journal)
    assert first.ok
    assert sends(server) == 1
    async with Client(TOKEN_B, base_url=base_url) as inro:
        with pytest.raises(JobMismatchError, match="a different token") as caught:
            await inro.messages.send_many(range(1, 51), text="Hi", job=journal)
    assert TOKEN_B not in str(caught.value)
    assert TOKEN_A not in str(caught.value)
    assert sends(server) == 1
    assert server.organizations[TOKEN_B].delivery_counts() == {}


async def test_another_server_refuses_to_resume_and_names_both_base_urls(
    fake: tuple[FakeInro, str], tmp_path: Path
) -> None:
    _, base_url = fake
    other = FakeInro()
    other.add_organization(TOKEN_A, plan="pro", contacts=100, seed=3)
    other_url = await other.start()
    try:
        journal = tmp_path / "spring.sqlite3"
        async with Client(TOKEN_A, base_url=base_url) as inro:
            await inro.messages.send_many(range(1, 51), text="Hi", job=journal)
        async with Client(TOKEN_A, base_url=other_url) as inro:
            with pytest.raises(JobMismatchError) as caught:
                await inro.messages.send_many(range(1, 51), text="Hi", job=journal)
        assert base_url in str(caught.value)
        assert other_url in str(caught.value)
        assert sends(other) == 0
    finally:
        await other.close()


async def test_the_same_token_and_server_resume_as_before(
    fake: tuple[FakeInro, str], tmp_path: Path
) -> None:
    server, base_url = fake
    journal = tmp_path / "again.sqlite3"
    async with Client(TOKEN_A, base_url=base_url) as inro:
        first = await inro.messages.send_many(range(1, 51), text="Hi", job=journal)
    async with Client(TOKEN_A, base_url=base_url + "/") as inro:  # a trailing slash is the same
        again = await inro.messages.send_many(range(1, 51), text="Hi", job=journal)
    assert again.ok
    assert again.skipped == 50
    assert again.requests == 0
    assert again.count_earlier == first.done + first.skipped
    assert sends(server) == 1


async def test_the_journal_keeps_a_fingerprint_of_the_token_never_the_token(
    fake: tuple[FakeInro, str], tmp_path: Path
) -> None:
    _, base_url = fake
    journal = tmp_path / "secret.sqlite3"
    async with Client(TOKEN_A, base_url=base_url) as inro:
        await inro.messages.send_many(range(1, 51), text="Hi", job=journal)
    files = sorted(tmp_path.iterdir())  # noqa: ASYNC240 - the test's own small files
    assert len(files) >= 2  # the database and its lock file (and its WAL, if any)
    for path in files:
        assert TOKEN_A.encode() not in path.read_bytes(), path.name
    store = SqliteStore(journal)
    loaded = store.load()
    store.close()
    assert loaded is not None
    assert loaded[0].base_url == base_url
    assert loaded[0].token_fingerprint is not None
    assert len(loaded[0].token_fingerprint) == 16


def meta(base_url: str | None = None, token: str | None = None) -> JournalMeta:
    return JournalMeta(
        kind="send_many",
        payload_fingerprint="p",
        items_fingerprint="i",
        total=10,
        base_url=base_url,
        token_fingerprint=token,
    )


def test_a_journal_older_than_the_identity_adopts_the_first_one_it_is_resumed_with(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    Journal(SqliteStore(path), meta(), [range(10)], name="old").close()  # as older versions wrote

    resumed = Journal(SqliteStore(path), meta("https://a.test", "aaaa"), [range(10)], name="old")
    assert resumed.meta.base_url == "https://a.test"
    resumed.close()
    store = SqliteStore(path)
    with pytest.raises(JobMismatchError, match="a different token"):
        Journal(store, meta("https://a.test", "bbbb"), [range(10)], name="old")
    store.close()
