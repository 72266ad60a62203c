"""One LocalGovernor across event loops: successive loops share it, concurrent ones are refused."""

from __future__ import annotations

import asyncio
import threading

import pytest
from virtual_time import VirtualClockLoop, run_virtual

from inro_async import EventLoopMismatchError, GovernorLoopError
from inro_async.governor import LocalGovernor, Permit, Quota


def now() -> float:
    return asyncio.get_running_loop().time()


def test_the_next_loop_is_served_after_a_loop_ended_with_a_request_queued() -> None:
    # The first loop gives up on a queued request (a deadline, Ctrl-C): the governor's timer
    # was set on that loop, and the next loop's request must not wait on it forever.
    governor = LocalGovernor([Quota(1, 1)], margin=0)

    async def first() -> None:
        await governor.acquire()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(governor.acquire(), 0.2)

    async def second() -> float:
        await asyncio.wait_for(governor.acquire(), 5)
        return now()

    run_virtual(first)
    assert run_virtual(second, start=0.2) == pytest.approx(1.0)
    assert governor.dispatched == 2


def test_the_next_loop_still_counts_what_the_last_one_spent() -> None:
    governor = LocalGovernor([Quota(2, 1)], margin=0)

    async def burst() -> list[float]:
        stamps = []
        for _ in range(3):
            await governor.acquire()
            stamps.append(now())
        return stamps

    assert run_virtual(burst) == [0.0, 0.0, 1.0]
    assert run_virtual(burst, start=1.0) == [1.0, 2.0, 2.0]


def test_a_request_left_waiting_on_a_stopped_loop_fails_instead_of_hanging() -> None:
    governor = LocalGovernor([Quota(1, 1)], margin=0)
    old = VirtualClockLoop()
    try:

        async def leave_one_waiting() -> asyncio.Task[Permit]:
            await governor.acquire()
            task = asyncio.create_task(governor.acquire())
            await asyncio.sleep(0)
            return task

        stranded = old.run_until_complete(leave_one_waiting())  # stopped, not closed

        async def elsewhere() -> float:
            return (await governor.acquire()).queued

        assert run_virtual(elsewhere, start=1.0) == 0.0
        with pytest.raises(GovernorLoopError, match="another event loop"):
            old.run_until_complete(stranded)
    finally:
        old.close()


def test_a_loop_running_in_another_thread_is_refused_with_the_fix_named() -> None:
    governor = LocalGovernor([Quota(5, 1)])
    holding = threading.Event()
    release = threading.Event()

    async def hold() -> None:
        await governor.acquire()
        holding.set()
        await asyncio.to_thread(release.wait, 5)

    thread = threading.Thread(target=asyncio.run, args=(hold(),))
    thread.start()
    try:
        assert holding.wait(5)

        async def meanwhile() -> float:
            return await governor.acquire()

        with pytest.raises(GovernorLoopError, match="RedisGovernor") as caught:
            asyncio.run(meanwhile())
        assert isinstance(caught.value, EventLoopMismatchError)
    finally:
        release.set()
        thread.join(5)

    async def afterwards() -> float:
        return (await governor.acquire()).queued

    assert asyncio.run(afterwards()) == 0.0  # that loop has ended: this one takes over
    assert governor.dispatched == 2
