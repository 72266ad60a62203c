"""A mirror refuses, with a clear error and nothing changed, what it must not touch."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mirror_support import client_for, started

from inro_async import Client
from inro_async.errors import InvalidArgumentError, MirrorMismatchError, MirrorUnavailableError
from inro_async.mirror import ContactMirror


async def test_a_mirror_of_another_organization_is_refused_unchanged(where: str) -> None:
    fake = await started(50)
    fake.add_organization("other-token", contacts=70, seed=9)
    try:
        async with ContactMirror(where) as mirror:
            async with client_for(fake) as inro:
                await mirror.refresh(inro)
            before = await mirror.contacts()
            async with client_for(fake, "other-token") as other:
                with pytest.raises(MirrorMismatchError, match="organization_id 1, not 2"):
                    await mirror.refresh(other)
            assert await mirror.contacts() == before
    finally:
        await fake.close()


async def test_a_mirror_of_another_base_url_is_refused(where: str) -> None:
    first, second = await started(20), await started(20)
    try:
        async with ContactMirror(where) as mirror:
            async with client_for(first) as inro:
                await mirror.refresh(inro)
            async with client_for(second) as elsewhere:
                with pytest.raises(MirrorMismatchError, match="base_url"):
                    await mirror.refresh(elsewhere)
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("content", [b"hello, not a database\n" * 100, None])
async def test_a_file_of_another_kind_is_refused_and_left_alone(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "crm.sqlite3"
    if content is None:  # another program's SQLite database
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE chunks (id INTEGER)")
    else:
        path.write_bytes(content)
    kept = path.read_bytes()
    with pytest.raises(MirrorMismatchError, match=r"not a mirror|another program"):
        await ContactMirror(path).open()
    assert path.read_bytes() == kept


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    mirror = ContactMirror(path)
    await mirror.open()
    await mirror.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE inro_mirror_state SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(MirrorMismatchError, match="schema version 99, newer"):
        await ContactMirror(path).open()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    url = f"postgresql://inro:s3cret-pw@127.0.0.1:{_closed_port()}/crm"
    with pytest.raises(MirrorUnavailableError, match="cannot connect") as raised:
        await ContactMirror(url).open()
    assert "s3cret-pw" not in str(raised.value)
    assert "inro:***@" in str(raised.value)


async def test_a_database_that_does_not_exist_is_a_clear_error(postgres_url: str) -> None:
    with pytest.raises(MirrorUnavailableError, match="no_such_db"):
        await ContactMirror(postgres_url.rsplit("/", 1)[0] + "/no_such_db").open()


async def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MirrorUnavailableError, match="does not exist"):
        await ContactMirror(tmp_path / "nowhere" / "crm.sqlite3").open()


async def test_events_replay_after_an_id_or_since_a_time(where: str) -> None:
    fake = await started(30)
    try:
        async with client_for(fake) as inro, ContactMirror(where) as mirror:
            await mirror.refresh(inro)
            events = [e async for e in mirror.events()]
            assert [e async for e in mirror.events(after=events[9]["id"])] == events[10:]
            assert [e async for e in mirror.events(after=events[-1]["id"])] == []
            times = sorted(e["time"] for e in events)
            from_time = [e async for e in mirror.events(since=_parse(times[15]))]
            assert {e["id"] for e in from_time} >= {
                e["id"] for e in events if e["time"] >= times[15]
            }
            with pytest.raises(InvalidArgumentError, match="after: no event"):
                [e async for e in mirror.events(after="nope")]
            first = events[0]
            assert first["specversion"] == "1.0"
            assert first["type"] == "inro.contact.created"
            assert first["subject"] == str(first["data"]["contact"]["id"])
    finally:
        await fake.close()


def _parse(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_retention_prunes_older_events(tmp_path: Path) -> None:
    from datetime import timedelta

    fake = await started(30)
    try:
        async with client_for(fake) as inro:
            mirror = ContactMirror(tmp_path / "crm.sqlite3", retention=timedelta(days=1))
            async with mirror:
                await mirror.refresh(inro)  # generated contacts changed weeks ago: pruned
                assert [e async for e in mirror.events()] == []
                assert len(await mirror.contacts()) == 30
    finally:
        await fake.close()


WRITES = {"first_load", "write_rows", "add_events", "delete_rows", "write_state"}


def record_calls(mirror: ContactMirror, inro: Client, log: list[str]) -> None:
    """Log ``me`` when ``inro.me()`` answers and each store call of the mirror's transaction."""
    real_me, real_transaction = inro.me, mirror.store.transaction

    async def me() -> Any:
        answer = await real_me()
        log.append("me")
        return answer

    class Recording:
        def __init__(self, tx: Any) -> None:
            self._tx = tx

        def __getattr__(self, name: str) -> Any:
            log.append(name)
            return getattr(self._tx, name)

    @asynccontextmanager
    async def transaction() -> AsyncIterator[Any]:
        async with real_transaction() as tx:
            yield Recording(tx)

    inro.me = me  # type: ignore[method-assign]
    mirror.store.transaction = transaction  # type: ignore[method-assign]


async def test_the_identity_check_goes_with_the_first_page_and_still_comes_before_any_write(
    where: str,
) -> None:
    fake = await started(3_000)
    fake.add_organization("other-token", contacts=30, seed=9)
    try:
        async with ContactMirror(where) as mirror:
            async with client_for(fake) as inro:
                fake.inject("latency", route="me", seconds=0.5)
                log: list[str] = []
                record_calls(mirror, inro, log)
                await mirror.refresh(inro)
            me, first = (fake.requests_to(r)[0] for r in ("me", "contacts.list"))
            assert first.arrived_at - me.arrived_at < 0.4  # sent while me() was answering
            assert len(fake.requests_to("contacts.list")) == 3  # all three pages meanwhile
            first_write = min(log.index(name) for name in WRITES if name in log)
            assert log.index("me") < first_write
            mirror.store.transaction = type(mirror.store).transaction.__get__(mirror.store)
            before = await mirror.contacts()
            async with client_for(fake, "other-token") as other:
                fake.inject("latency", route="me", seconds=0.5)
                log.clear()
                record_calls(mirror, other, log)
                with pytest.raises(MirrorMismatchError, match="organization_id 1, not 2"):
                    await mirror.refresh(other, full=True)
                assert not WRITES & set(log)  # its pages came first; none was written
            mirror.store.transaction = type(mirror.store).transaction.__get__(mirror.store)
            assert await mirror.contacts() == before
            assert len([e async for e in mirror.events()]) == 3_000
    finally:
        await fake.close()
