"""``LocalGovernor.grant_now`` / ``observe_now``: the coroutines' common cases, or nothing.

The transport tries these before awaiting ``acquire`` / ``observe`` (``FastGovernor``). Each
must either do exactly what the coroutine would have done, or do nothing at all and say so;
two governors driven through the same random trace, one each way, must agree at every step.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from inro_async.governor import LocalGovernor, Quota
from inro_async.governor._base import NO_ANSWER, FastGovernor, Governor, Permit

SCALED = (Quota(20, 1.0), Quota(100, 6.0))


def _headers(limit: int, remaining: int) -> CIMultiDictProxy[str]:
    values = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
    return CIMultiDictProxy(CIMultiDict(values))


def test_the_local_governor_is_a_fast_governor() -> None:
    governor = LocalGovernor(SCALED)
    assert isinstance(governor, FastGovernor)
    assert isinstance(governor, Governor)


def test_a_governor_whose_coroutines_are_replaced_is_always_awaited() -> None:
    class Recording(LocalGovernor):
        async def observe(self, *args: Any, **kwargs: Any) -> None:
            await super().observe(*args, **kwargs)

    assert LocalGovernor(SCALED).takes_sync_calls()
    assert not Recording(SCALED).takes_sync_calls()
    patched = LocalGovernor(SCALED)
    patched.acquire = patched.acquire  # type: ignore[method-assign]
    assert not patched.takes_sync_calls()


async def test_a_first_call_from_a_loop_is_left_to_acquire() -> None:
    governor = LocalGovernor(SCALED)
    loop = asyncio.get_running_loop()
    assert governor.grant_now(loop) is None  # not yet this loop's: acquire adopts it
    assert governor.dispatched == 0
    permit = await governor.acquire()
    assert governor.grant_now(loop) is not None
    assert governor.dispatched == 2
    assert permit.queued == 0.0


async def test_nothing_is_granted_while_anyone_waits_or_when_the_log_is_full() -> None:
    now = [0.0]
    governor = LocalGovernor((Quota(2, 1.0),), clock=lambda: now[0])
    loop = asyncio.get_running_loop()
    await governor.acquire()
    assert governor.grant_now(loop) is not None
    assert governor.grant_now(loop) is None  # full: acquire queues it
    assert governor.dispatched == 2
    waiter = asyncio.ensure_future(governor.acquire())
    await asyncio.sleep(0)
    now[0] = 5.0  # the window has passed, but a waiter is ahead
    assert governor.grant_now(loop) is None
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_another_loop_is_left_to_the_coroutines() -> None:
    governor = LocalGovernor(SCALED)
    await governor.acquire()
    other = asyncio.new_event_loop()
    try:
        assert governor.grant_now(other) is None
        permit = await governor.acquire()
        assert not governor.observe_now(other, 200, _headers(20, 18), permit)
    finally:
        other.close()


async def test_observe_now_takes_only_ordinary_answers_to_its_own_reported_permits() -> None:
    governor = LocalGovernor(SCALED)
    loop = asyncio.get_running_loop()
    permit = await governor.acquire()
    # Before the first report, slots are not held for answers: the long way turns that on.
    assert not governor.observe_now(loop, 200, _headers(20, 19), permit)
    await governor.observe(200, _headers(20, 19), permit=permit)
    permit = await governor.acquire()
    assert not governor.observe_now(loop, 429, _headers(20, 0), permit)
    assert not governor.observe_now(loop, NO_ANSWER, _headers(20, 0), permit)
    foreign = Permit(permit.granted_at, 0.0, ("someone else's", None))
    assert not governor.observe_now(loop, 200, _headers(20, 18), foreign)
    assert not governor.observe_now(loop, 200, _headers(20, 18), Permit(permit.granted_at))
    assert governor.observe_now(loop, 200, _headers(20, 18), permit)
    assert governor.observe_now(loop, 404, _headers(20, 18), await governor.acquire())


@pytest.mark.parametrize("seed", range(12))
async def test_the_sync_calls_decide_as_the_coroutines(seed: int) -> None:
    rng = random.Random(seed)
    now = [0.0]
    fast = LocalGovernor(SCALED, clock=lambda: now[0])
    slow = LocalGovernor(SCALED, clock=lambda: now[0])
    fast.expect_reports()
    slow.expect_reports()
    loop = asyncio.get_running_loop()
    await fast.snapshot()  # both serve this loop from here on
    await slow.snapshot()
    flying: list[tuple[Permit, Permit]] = []
    server: list[float] = []  # when the server counted a request (ours, or a neighbour's)
    for _ in range(600):
        now[0] += rng.choice([0.0, 0.001, 0.01, 0.05, 0.2])
        if rng.random() < 0.1:
            server.append(now[0])  # a neighbour spends from the same quota
        action = rng.random()
        if action < 0.5:
            granted = fast.grant_now(loop)
            if granted is None:
                assert await slow.snapshot() == await fast.snapshot()
                continue  # acquire would queue: nothing was recorded on either side
            flying.append((granted, await slow.acquire()))
            server.append(now[0])
        elif flying:
            mine, theirs = flying.pop(rng.randrange(len(flying)))
            used = sum(1 for t in server if t > now[0] - 1.0)
            status = rng.choice([200, 200, 200, 404, 500])
            headers = _headers(20, max(0, 20 - used))
            assert fast.observe_now(loop, status, headers, mine)
            await slow.observe(status, headers, permit=theirs)
        assert await fast.snapshot() == await slow.snapshot()
        assert fast.corrected == slow.corrected
    assert fast.dispatched == slow.dispatched > 0


async def test_the_callers_reading_of_the_loop_clock_stands_unless_the_governor_has_its_own() -> (
    None
):
    loop = asyncio.get_running_loop()
    on_loop = LocalGovernor(SCALED)
    on_loop.expect_reports()
    await on_loop.snapshot()  # serves this loop from here on
    at = loop.time() - 0.25  # the transport read the clock a moment ago
    permit = on_loop.grant_now(loop, at)
    assert permit is not None
    assert permit.granted_at == at
    assert on_loop.observe_now(loop, 200, _headers(20, 19), permit, at + 0.1)
    assert on_loop._core.slowest == pytest.approx(0.1)  # the answer came at the time given

    own = [100.0]
    clocked = LocalGovernor(SCALED, clock=lambda: own[0])
    clocked.expect_reports()
    await clocked.snapshot()
    permit = clocked.grant_now(loop, at)
    assert permit is not None
    assert permit.granted_at == 100.0  # its own clock, not the loop's
    own[0] = 100.5
    assert clocked.observe_now(loop, 200, _headers(20, 19), permit, at + 0.1)
    assert clocked._core.slowest == pytest.approx(0.5)
