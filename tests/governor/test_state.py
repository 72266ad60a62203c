"""When ``LocalGovernor(state_path=...)`` writes what was spent: all of it, short of a crash."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import pytest

import inro_async
from inro_async import Client
from inro_async.governor import LocalGovernor, Quota
from inro_async.governor import state as state_module

QUOTAS = [Quota(100, 1.0), Quota(30, 3600.0)]


def saved(path: Path) -> int:
    """Dispatches written to the state file, read as another process would."""
    with sqlite3.connect(path) as db:
        total = db.execute("SELECT COALESCE(SUM(count), 0) FROM dispatches").fetchone()[0]
    return int(total)


def used_after_restart(path: Path) -> int:
    """The hour quota's count a fresh governor on ``path`` starts with."""

    async def main() -> int:
        governor = LocalGovernor(QUOTAS, state_path=path)
        used = (await governor.snapshot())[1].used
        await governor.aclose()
        return used

    return asyncio.run(main())


def run_child(code: str) -> None:
    package_root = Path(inro_async.__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=True,
        timeout=60,
        env={"PYTHONPATH": str(package_root)},
    )


def test_a_script_that_returns_without_aclose_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    run_child(
        f"""
        import asyncio
        from inro_async.governor import LocalGovernor, Quota

        async def main():
            governor = LocalGovernor([Quota(100, 1.0), Quota(30, 3600.0)], state_path={str(path)!r})
            for _ in range(25):
                await governor.acquire()

        asyncio.run(main())
        """
    )
    assert used_after_restart(path) == 25


def test_a_governor_kept_until_the_interpreter_exits_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    run_child(
        f"""
        import asyncio
        from inro_async.governor import LocalGovernor, Quota

        governor = LocalGovernor([Quota(100, 1.0), Quota(30, 3600.0)], state_path={str(path)!r})

        async def main():
            for _ in range(7):
                await governor.acquire()

        asyncio.run(main())
        """
    )
    assert used_after_restart(path) == 7


def test_leaving_async_with_writes_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"

    async def main() -> None:
        async with LocalGovernor(QUOTAS, state_path=path) as governor:
            for _ in range(5):
                await governor.acquire()
            assert saved(path) == 0  # still coalescing
        assert saved(path) == 5

    asyncio.run(main())
    assert used_after_restart(path) == 5


def test_closing_a_client_saves_its_governors_state_and_leaves_it_usable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"

    async def main() -> None:
        async with LocalGovernor(QUOTAS, state_path=path) as governor:
            async with Client("t", governor=governor) as inro:
                assert inro.governor is governor
                for _ in range(3):
                    await governor.acquire()
            assert saved(path) == 3
            await governor.acquire()  # another client may still use it
        assert saved(path) == 4

    asyncio.run(main())


def test_a_collected_governor_saves_and_is_not_kept_alive(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"

    async def main() -> weakref.ref[LocalGovernor]:
        governor = LocalGovernor(QUOTAS, state_path=path)
        for _ in range(4):
            await governor.acquire()
        return weakref.ref(governor)

    ref = asyncio.run(main())
    gc.collect()
    assert ref() is None
    assert saved(path) == 4


def test_saving_after_aclose_does_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"

    async def main() -> None:
        governor = LocalGovernor(QUOTAS, state_path=path)
        await governor.acquire()
        await governor.aclose()
        await governor.aclose()
        governor.save_state()

    asyncio.run(main())
    assert saved(path) == 1


def test_a_second_event_loop_still_writes_within_the_flush_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "_FLUSH_EVERY", 0.05)
    path = tmp_path / "state.sqlite3"
    governor = LocalGovernor(QUOTAS, state_path=path)

    async def spend(n: int) -> None:
        for _ in range(n):
            await governor.acquire()

    async def spend_then_wait() -> None:
        await spend(2)
        await asyncio.sleep(0.3)

    asyncio.run(spend(3))  # its flush timer dies with its loop
    asyncio.run(spend_then_wait())
    assert saved(path) == 5  # a crash now would lose nothing
    asyncio.run(governor.aclose())
