"""``ClientPool`` over loopback against the fake: many organizations, one connection pool."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable

import pytest

from inro_async import (
    ClientPool,
    InvalidArgumentError,
    Priority,
    Quota,
    QuotaWaitTooLongError,
)
from inro_async.errors import ClientClosedError
from inro_async.testing import FakeInro

QUOTAS = (Quota(5, 1), Quota(20, 6))


async def served(organizations: int) -> FakeInro:
    fake = FakeInro(quotas=QUOTAS)
    for i in range(1, organizations + 1):
        fake.add_organization(f"token-{i}", contacts=20, quotas=QUOTAS)
    await fake.start()
    return fake


async def test_each_organization_gets_its_own_client_over_one_shared_session() -> None:
    fake = await served(30)
    try:
        tokens = {f"org-{i}": f"token-{i}" for i in range(1, 31)}
        async with ClientPool(tokens, base_url=fake.base_url, quotas=QUOTAS) as pool:
            clients = [await pool.client(name) for name in tokens]
            names = await asyncio.gather(*(client.me() for client in clients))
            assert [n.name for n in names] == [f"Fake Organization {i}" for i in range(1, 31)]
            assert await pool.client("org-7") is clients[6]  # the same client, not a new one
            sessions = {id(c._transport.backend._session) for c in clients}  # type: ignore[attr-defined]
            assert len(sessions) == 1
            assert len({id(c.governor) for c in clients}) == 30
        assert all(client.closed for client in clients)
        assert fake.throttled == 0
    finally:
        await fake.close()


async def test_tokens_come_from_an_async_source_read_once_per_organization() -> None:
    fake = await served(3)
    asked: list[str] = []

    async def token_store(organization: str) -> str:
        asked.append(organization)
        await asyncio.sleep(0)
        return "token-" + organization.removeprefix("customer-")

    try:
        async with ClientPool(token_store, base_url=fake.base_url, quotas=QUOTAS) as pool:
            for _ in range(3):
                for i in (1, 2, 3):
                    await (await pool.client(f"customer-{i}")).me()
        assert asked == ["customer-1", "customer-2", "customer-3"]
    finally:
        await fake.close()


async def test_one_organizations_429_pause_never_slows_another() -> None:
    fake = await served(2)
    try:
        tokens = {"busy": "token-1", "quiet": "token-2"}
        async with ClientPool(tokens, base_url=fake.base_url, quotas=QUOTAS) as pool:
            busy, quiet = await pool.client("busy"), await pool.client("quiet")
            # Someone else spent the busy organization's second: its next call earns a 429.
            for _ in range(5):
                fake.organizations["token-1"].limiter.check(fake.clock())
            loop = asyncio.get_running_loop()
            started = loop.time()

            async def timed(call: Awaitable[object]) -> float:
                await call
                return loop.time() - started

            busy_took, *quiet_took = await asyncio.gather(
                timed(busy.me()), *(timed(quiet.me()) for _ in range(5))
            )
            assert busy_took > 0.5  # paused by its 429 until the server's window moved on
            # The quiet one's burst went at once meanwhile: nobody queued in its governor (no
            # timer ever ran) and every call ended before the busy one's. Judged by order, not
            # a real-time bound, which a stalled CI process broke once (0.768 s for all five).
            assert max(quiet_took) < busy_took
            assert quiet.governor.wakeups == 0  # type: ignore[attr-defined]
            assert (await quiet.governor.snapshot())[0].free_in == 0.0
            assert fake.throttled == 1
            assert busy.governor is not quiet.governor
    finally:
        await fake.close()


async def test_idle_organizations_are_forgotten_but_a_held_client_is_never_replaced() -> None:
    fake = await served(5)
    try:
        tokens = {f"org-{i}": f"token-{i}" for i in range(1, 6)}
        async with ClientPool(tokens, base_url=fake.base_url, quotas=QUOTAS, max_clients=2) as pool:
            held = await pool.client("org-1")
            for name in ("org-2", "org-3", "org-4"):
                await (await pool.client(name)).me()
            gc.collect()
            assert "org-2" not in pool  # least recently used, held by nobody: forgotten
            assert await pool.client("org-1") is held  # forgotten by the LRU, still held
            assert not held.closed
            await held.me()
            copy = (await pool.client("org-5")).with_options(priority=Priority.INTERACTIVE)
            for name in ("org-2", "org-3"):
                await pool.client(name)
            gc.collect()
            # Only the copy is left of org-5's client: the next one shares its governor.
            assert (await pool.client("org-5")).governor is copy.governor
            assert len(pool) <= 4
    finally:
        await fake.close()


async def test_priority_and_max_wait_per_organization_share_its_governor() -> None:
    fake = await served(1)
    try:
        async with ClientPool({"a": "token-1"}, base_url=fake.base_url, quotas=QUOTAS) as pool:
            base = await pool.client("a")
            urgent = await pool.client("a", priority=Priority.INTERACTIVE, max_wait=2.0)
            assert urgent.governor is base.governor
            await asyncio.gather(*(base.me() for _ in range(5)))
            with pytest.raises(QuotaWaitTooLongError):
                await (await pool.client("a", max_wait=0.1)).me()
            await urgent.me()  # waits for the next slot, within its 2 s
    finally:
        await fake.close()


async def test_no_token_appears_in_a_repr_an_error_or_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = await served(1)
    caplog.set_level(logging.DEBUG, logger="inro_async")
    secret = "token-1"
    try:
        pool = ClientPool({"a": secret, "bad": 12345}, base_url=fake.base_url, quotas=QUOTAS)  # type: ignore[dict-item]
        client = await pool.client("a")
        await client.me()
        with pytest.raises(InvalidArgumentError) as bad:
            await pool.client("bad")
        with pytest.raises(InvalidArgumentError, match="no token"):
            await pool.client("missing")
        texts = [repr(pool), repr(client), str(bad.value), caplog.text]
        assert all(secret not in text and "12345" not in text for text in texts), texts
        await pool.aclose()
        assert client.closed
        with pytest.raises(ClientClosedError):
            await pool.client("a")
    finally:
        await fake.close()


def test_bad_arguments_are_refused_before_any_request() -> None:
    with pytest.raises(InvalidArgumentError, match="tokens"):
        ClientPool(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="max_clients"):
        ClientPool({}, max_clients=0)
    with pytest.raises(InvalidArgumentError, match="not both"):
        ClientPool({}, quotas=QUOTAS, governor=lambda name: None)  # type: ignore[arg-type,return-value]
