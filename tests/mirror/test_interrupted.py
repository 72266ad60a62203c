"""A refresh interrupted at any point and run again gives exactly the uninterrupted events."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mirror_support import client_for, started

from inro_async.mirror import ContactMirror
from inro_async.testing.churn import random_changes

NOW = time.time()
CHILD = Path(__file__).with_name("refresh_child.py")


def fixed_clock() -> float:
    return NOW


class Crash(Exception):
    """The injected crash."""


def crash_after(mirror: ContactMirror, calls: int) -> None:
    """Make the mirror's next transaction raise at its ``calls``-th store call."""
    real = mirror.store.transaction
    left = [calls]

    @asynccontextmanager
    async def transaction():  # type: ignore[no-untyped-def]
        async with real() as tx:
            yield _Crashing(tx, left)

    mirror.store.transaction = transaction  # type: ignore[method-assign]


class _Crashing:
    def __init__(self, tx: Any, left: list[int]) -> None:
        self._tx, self._left = tx, left

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tx, name)

        async def call(*args: Any) -> Any:
            self._left[0] -= 1
            if self._left[0] < 0:
                raise Crash(name)
            return await method(*args)

        return call


async def events_of(mirror: ContactMirror) -> list[dict[str, Any]]:
    return [event async for event in mirror.events()]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    count=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    crash_at=st.integers(0, 30),
    full=st.booleans(),
)
def test_a_crash_anywhere_then_a_rerun_gives_the_uninterrupted_events(
    tmp_path_factory: pytest.TempPathFactory, count: int, seed: int, crash_at: int, full: bool
) -> None:
    folder = tmp_path_factory.mktemp("crash")
    asyncio.run(_crash_and_rerun(folder, count, seed, crash_at, full))


async def _crash_and_rerun(folder: Path, count: int, seed: int, crash_at: int, full: bool) -> None:
    fake = await started(1_100)  # two pages
    try:
        async with client_for(fake) as inro:
            async with ContactMirror(folder / "crashed.sqlite3", clock=fixed_clock) as first:
                await first.refresh(inro)
            shutil.copy(folder / "crashed.sqlite3", folder / "calm.sqlite3")
            crashed = ContactMirror(folder / "crashed.sqlite3", clock=fixed_clock)
            calm = ContactMirror(folder / "calm.sqlite3", clock=fixed_clock)
            async with crashed, calm:
                random_changes(fake.org, count, seed=seed)
                before = await events_of(crashed)
                crash_after(crashed, crash_at)
                try:
                    await crashed.refresh(inro, full=full)
                except Crash:
                    assert await events_of(crashed) == before  # nothing of it was kept
                    crashed.store.transaction = type(crashed.store).transaction.__get__(
                        crashed.store
                    )
                    await crashed.refresh(inro, full=full)
                await calm.refresh(inro, full=full)
                assert await events_of(crashed) == await events_of(calm)
                assert await crashed.contacts() == await calm.contacts()
    finally:
        await fake.close()


@pytest.mark.parametrize("kill_after_pages", [1, 3])
async def test_sigkill_mid_refresh_then_a_rerun_gives_the_uninterrupted_events(
    where: str, tmp_path: Path, kill_after_pages: int
) -> None:
    fake = await started(6_000)
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            fake.base_url or "",
            where,
            repr(NOW),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert child.stdout is not None
        pages = 0
        while pages < kill_after_pages:
            line = await asyncio.wait_for(child.stdout.readline(), 30)
            assert line, "the child ended before the kill"
            pages += line.startswith(b"page")
        child.send_signal(signal.SIGKILL)  # mid-transaction: the child sleeps after each page
        assert await child.wait() == -signal.SIGKILL
        async with client_for(fake) as inro:
            killed = ContactMirror(where, clock=fixed_clock)
            calm = ContactMirror(tmp_path / "calm.sqlite3", clock=fixed_clock)
            async with killed, calm:
                assert await events_of(killed) == []
                assert await killed.contacts() == []
                await killed.refresh(inro)
                await calm.refresh(inro)
                assert await events_of(killed) == await events_of(calm)
                assert await killed.contacts() == await calm.contacts()
    finally:
        await fake.close()
