"""LocalGovernor under virtual time: order, cancellation, feedback from the server, persistence."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from virtual_time import run_virtual

from inro_async import QuotaWaitTooLongError
from inro_async.governor import LocalGovernor, Priority, Quota
from inro_async.governor._core import PROBE_TIMEOUT


def now() -> float:
    return asyncio.get_running_loop().time()


def test_a_free_slot_is_taken_without_waiting() -> None:
    async def main() -> float:
        governor = LocalGovernor([Quota(5, 1)], margin=0)
        return (await governor.acquire()).queued

    assert run_virtual(main) == 0.0


def test_waiters_are_served_in_arrival_order() -> None:
    async def main() -> list[int]:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        order: list[int] = []

        async def call(i: int) -> None:
            await governor.acquire()
            order.append(i)

        await asyncio.gather(*(call(i) for i in range(10)))
        return order

    assert run_virtual(main) == list(range(10))


def test_each_request_is_stamped_when_it_actually_goes() -> None:
    async def main() -> list[float]:
        governor = LocalGovernor([Quota(2, 1)], margin=0)
        stamps: list[float] = []

        async def call() -> None:
            await governor.acquire()
            stamps.append(now())

        await asyncio.gather(*(call() for _ in range(6)))
        return stamps

    assert run_virtual(main) == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]


def test_a_waiter_goes_w_after_the_response_not_w_plus_margin_after_dispatch() -> None:
    # The waiter's timer is first set while the request is unanswered (dispatch + W + margin);
    # the response must bring it forward to response + W.
    async def main() -> float:
        governor = LocalGovernor([Quota(1, 1)], margin=0.5)
        await governor.acquire()

        async def answer() -> None:
            await asyncio.sleep(0.1)
            await governor.observe(200, {}, elapsed=0.1)

        responder = asyncio.ensure_future(answer())
        await governor.acquire()
        await responder
        return now()

    assert run_virtual(main) == pytest.approx(1.1, abs=1e-3)


def test_a_higher_priority_jumps_the_queue() -> None:
    async def main() -> list[str]:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        order: list[str] = []

        async def call(name: str, priority: int) -> None:
            await governor.acquire(priority=priority)
            order.append(name)

        bulk = [asyncio.create_task(call(f"bulk{i}", Priority.BULK)) for i in range(3)]
        await asyncio.sleep(0)
        interactive = asyncio.create_task(call("interactive", Priority.INTERACTIVE))
        await asyncio.gather(*bulk, interactive)
        return order

    assert run_virtual(main) == ["bulk0", "interactive", "bulk1", "bulk2"]


def test_a_waiter_cancelled_before_its_turn_leaks_no_slot() -> None:
    async def main() -> tuple[list[float], int]:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        await governor.acquire()  # t=0
        doomed = asyncio.create_task(governor.acquire())
        stamps: list[float] = []

        async def survivor() -> None:
            await governor.acquire()
            stamps.append(now())

        task = asyncio.create_task(survivor())
        await asyncio.sleep(0.5)
        doomed.cancel()
        await task
        return stamps, governor.dispatched

    stamps, dispatched = run_virtual(main)
    assert stamps == [1.0]  # the survivor took the slot the cancelled waiter would have had
    assert dispatched == 2


def test_a_waiter_cancelled_after_being_woken_passes_the_slot_on() -> None:
    async def main() -> tuple[list[float], int]:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        await governor.acquire()
        first = asyncio.create_task(governor.acquire())
        stamps: list[float] = []

        async def second() -> None:
            await governor.acquire()
            stamps.append(now())

        other = asyncio.create_task(second())
        wake = governor._wake_head

        def wake_then_cancel() -> None:
            # The first waiter is woken at t=1 and cancelled before it can resume.
            wake()
            governor._wake_head = wake  # type: ignore[method-assign]
            first.cancel()

        governor._wake_head = wake_then_cancel  # type: ignore[method-assign]
        await asyncio.gather(first, return_exceptions=True)
        await other
        return stamps, governor.dispatched

    stamps, dispatched = run_virtual(main)
    assert dispatched == 2  # the cancelled waiter recorded nothing
    assert stamps == [1.0]  # and its slot went to the next waiter at once


def test_ten_thousand_waiters_cost_about_one_wakeup_per_freed_slot() -> None:
    async def main() -> tuple[int, int, float]:
        governor = LocalGovernor([Quota(100, 1)], margin=0)
        started = time.process_time()
        await asyncio.gather(*(governor.acquire() for _ in range(10_000)))
        return governor.wakeups, governor.dispatched, time.process_time() - started

    wakeups, dispatched, cpu = run_virtual(main)
    assert dispatched == 10_000
    # One timer per second of virtual time (a burst of 100 frees at once): ~99 wakeups,
    # not one per waiter per poll interval.
    assert wakeups <= 110
    assert cpu < 2.0


def test_a_429_pauses_every_waiter_until_retry_after() -> None:
    async def main() -> list[float]:
        governor = LocalGovernor([Quota(100, 1)], margin=0)
        await governor.acquire()
        await governor.observe(429, {"Retry-After": "3"})
        stamps: list[float] = []

        async def call() -> None:
            await governor.acquire()
            stamps.append(now())

        await asyncio.gather(*(call() for _ in range(5)))
        return stamps

    # The first goes alone; with no response to it, the rest go after PROBE_TIMEOUT.
    assert run_virtual(main) == [3.0] + [3.0 + PROBE_TIMEOUT] * 4


def test_after_a_pause_the_first_response_releases_the_rest() -> None:
    async def main() -> list[float]:
        governor = LocalGovernor([Quota(100, 1)], margin=0)
        await governor.acquire()
        await governor.observe(429, {"Retry-After": "3"})
        stamps: list[float] = []

        async def call(i: int) -> None:
            await governor.acquire()
            stamps.append(now())
            if i == 0:  # the probe: its response comes back 0.2 s later
                await asyncio.sleep(0.2)
                await governor.observe(200, {}, elapsed=0.2)

        await asyncio.gather(*(call(i) for i in range(5)))
        return stamps

    assert run_virtual(main) == pytest.approx([3.0] + [3.2] * 4)


def test_a_response_sent_before_the_pause_does_not_release_the_rest() -> None:
    async def main() -> list[float]:
        governor = LocalGovernor([Quota(100, 1)], margin=0)
        await governor.observe(429, {"Retry-After": "1"})
        stamps: list[float] = []

        async def call(i: int) -> None:
            await governor.acquire()
            stamps.append(now())
            if i == 0:  # an old request, sent 5 s ago, answers meanwhile
                await governor.observe(200, {}, elapsed=5.0)

        await asyncio.gather(*(call(i) for i in range(3)))
        return stamps

    assert run_virtual(main) == [1.0] + [1.0 + PROBE_TIMEOUT] * 2


def test_a_fixed_window_429_pauses_until_the_window_ends_not_a_second_more() -> None:
    async def main() -> float:
        clock = asyncio.get_running_loop().time
        governor = LocalGovernor([Quota(5, 1)], margin=0, windows="fixed", clock=clock)
        await asyncio.sleep(10.3)
        await governor.observe(
            429, {"Retry-After": "1", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"}
        )
        await governor.acquire()
        return now()

    assert run_virtual(main) == pytest.approx(11.0)


def test_the_throttled_request_goes_first_after_the_pause() -> None:
    async def main() -> list[str]:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        await governor.acquire()
        order: list[str] = []

        async def call(name: str, priority: int) -> None:
            await governor.acquire(priority=priority)
            order.append(name)

        waiting = [asyncio.create_task(call(f"queued{i}", Priority.NORMAL)) for i in range(2)]
        await asyncio.sleep(0)
        await governor.observe(429, {"Retry-After": "2"})
        retry = asyncio.create_task(call("retry", Priority.RETRY))
        await asyncio.gather(*waiting, retry)
        return order

    assert run_virtual(main) == ["retry", "queued0", "queued1"]


def test_a_429_without_retry_after_pauses_one_second() -> None:
    async def main() -> float:
        governor = LocalGovernor([Quota(100, 1)], margin=0)
        await governor.observe(429, {})
        await governor.acquire()
        return now()

    assert run_virtual(main) == 1.0


def test_rate_limit_headers_count_what_others_spent() -> None:
    async def main() -> tuple[int, float]:
        governor = LocalGovernor([Quota(10, 60)], margin=0)
        await governor.acquire()
        await governor.observe(
            200,
            {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "30"},
        )
        usage = (await governor.snapshot())[0]
        await governor.acquire()
        await governor.acquire()
        await governor.acquire()  # the window is full: waits for the first to expire
        return usage.used, now()

    used, finished = run_virtual(main)
    assert used == 8
    assert finished == pytest.approx(60.0)


def test_rate_limit_headers_sent_as_decimals_count_and_non_numbers_are_ignored() -> None:
    async def main() -> list[int]:
        governor = LocalGovernor([Quota(10, 60)], margin=0)
        used = []
        for remaining in ("inf", "nan", "many", "2.0"):
            await governor.acquire()
            headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": remaining}
            await governor.observe(200, headers)
            used.append((await governor.snapshot())[0].used)
        return used

    assert run_virtual(main) == [1, 2, 3, 8]


def test_max_wait_raises_at_once_with_the_earliest_time() -> None:
    async def main() -> tuple[QuotaWaitTooLongError, float]:
        governor = LocalGovernor([Quota(2, 3600)], margin=0)
        await governor.acquire()
        await governor.acquire()
        before = time.time()
        with pytest.raises(QuotaWaitTooLongError) as caught:
            await governor.acquire(max_wait=60)
        assert now() == 0.0  # nothing slept
        return caught.value, before

    error, before = run_virtual(main)
    assert error.wait == pytest.approx(3600)
    assert error.available_at == pytest.approx(before + 3600, abs=5)
    assert error.quota == Quota(2, 3600)
    assert "max_wait=60" in str(error)


def test_a_governor_wide_max_wait_applies_to_every_call() -> None:
    async def main() -> None:
        governor = LocalGovernor([Quota(1, 100)], margin=0, max_wait=10)
        await governor.acquire()
        with pytest.raises(QuotaWaitTooLongError):
            await governor.acquire()
        # A per-call bound overrides it.
        await governor.acquire(max_wait=200)
        assert now() == pytest.approx(100)

    run_virtual(main)


def test_a_queued_request_fails_at_once_when_a_pause_puts_its_slot_past_max_wait() -> None:
    async def main() -> tuple[QuotaWaitTooLongError, float]:
        governor = LocalGovernor([Quota(1, 1)], margin=0, max_wait=2)
        await governor.acquire()
        waiter = asyncio.create_task(governor.acquire())  # its slot is 1 s away: it queues
        await asyncio.sleep(0.1)
        await governor.observe(429, {"Retry-After": "30"})
        with pytest.raises(QuotaWaitTooLongError) as caught:
            await waiter
        return caught.value, now()

    error, failed_at = run_virtual(main)
    assert failed_at == pytest.approx(0.1)  # as soon as the pause was known, not 30 s later
    assert error.wait == pytest.approx(30)
    assert error.quota == "a 429 pause"
    assert error.max_wait == 2


def test_a_correction_that_moves_the_next_slot_past_max_wait_fails_the_queued() -> None:
    async def main() -> tuple[QuotaWaitTooLongError, float, int]:
        governor = LocalGovernor([Quota(2, 1), Quota(3, 10)], margin=0, max_wait=2)
        await governor.acquire()
        await governor.acquire()
        waiter = asyncio.create_task(governor.acquire())  # 1 s away: it queues
        await asyncio.sleep(0.5)
        # Someone else spent the third request of the 10-s window.
        await governor.observe(
            200, {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0"}, elapsed=0.5
        )
        with pytest.raises(QuotaWaitTooLongError) as caught:
            await waiter
        return caught.value, now(), governor._live

    error, failed_at, live = run_virtual(main)
    assert failed_at == pytest.approx(0.5)
    assert error.quota == Quota(3, 10)
    assert error.wait == pytest.approx(9.5)  # when our own first two leave the 10-s window
    assert live == 0


def test_a_pause_fails_only_the_queued_requests_it_makes_wait_too_long() -> None:
    async def main() -> list[str]:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        await governor.acquire()
        outcomes: list[str] = []

        async def call(max_wait: float) -> None:
            try:
                await governor.acquire(max_wait=max_wait)
                outcomes.append(f"{max_wait:g} went at {now():g}")
            except QuotaWaitTooLongError:
                outcomes.append(f"{max_wait:g} refused at {now():g}")

        calls = [asyncio.create_task(call(w)) for w in (2, 60)]
        await asyncio.sleep(0.5)
        await governor.observe(429, {"Retry-After": "10"})
        await asyncio.gather(*calls)
        return outcomes

    assert run_virtual(main) == ["2 refused at 0.5", "60 went at 10.5"]


def test_requests_that_jump_the_queue_cannot_stretch_a_wait_past_max_wait() -> None:
    async def main() -> list[str]:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        await governor.acquire()
        outcomes: list[str] = []

        async def call(name: str, priority: Priority, max_wait: float | None) -> None:
            try:
                await governor.acquire(priority=priority, max_wait=max_wait)
                outcomes.append(f"{name} went at {now():g}")
            except QuotaWaitTooLongError:
                outcomes.append(f"{name} refused at {now():g}")

        bulk = asyncio.create_task(call("bulk", Priority.BULK, 1.5))  # 1 s away: it queues
        await asyncio.sleep(0)
        urgent = asyncio.create_task(call("urgent", Priority.INTERACTIVE, None))
        await asyncio.gather(bulk, urgent)
        return outcomes

    # Once the urgent request has taken the 1-s slot, the next is at 2 s: past 1.5, known at 1.
    assert run_virtual(main) == ["urgent went at 1", "bulk refused at 1"]


def test_a_reserve_leaves_part_of_the_quota_unused() -> None:
    async def main() -> float:
        governor = LocalGovernor([Quota(10, 1)], reserve=0.3, margin=0)
        for _ in range(8):
            await governor.acquire()
        return now()

    assert run_virtual(main) == 1.0  # 7 at t=0, the 8th waits


def test_the_estimate_counts_queued_requests_and_the_quotas() -> None:
    async def main() -> tuple[float, float]:
        governor = LocalGovernor([Quota(10, 1)], margin=0)
        first = await governor.estimate(25)
        for _ in range(10):
            await governor.acquire()
        return first, await governor.estimate(1)

    assert run_virtual(main) == (2.0, 1.0)


def test_a_restarted_governor_remembers_what_was_spent(tmp_path: Path) -> None:
    state = tmp_path / "governor.sqlite"

    async def spend() -> None:
        governor = LocalGovernor([Quota(5, 3600)], margin=0, state_path=state)
        for _ in range(5):
            await governor.acquire()
        await governor.aclose()

    async def restart() -> QuotaWaitTooLongError:
        governor = LocalGovernor([Quota(5, 3600)], margin=0, state_path=state)
        with pytest.raises(QuotaWaitTooLongError) as caught:
            await governor.acquire(max_wait=1)
        await governor.aclose()
        return caught.value

    asyncio.run(spend())
    error = asyncio.run(restart())
    assert error.wait == pytest.approx(3600, abs=5)


def test_the_repr_shows_usage_and_waiters() -> None:
    async def main() -> str:
        governor = LocalGovernor([Quota(1, 1)], margin=0)
        await governor.acquire()
        task = asyncio.create_task(governor.acquire())
        await asyncio.sleep(0)
        text = repr(governor)
        await task
        return text

    assert run_virtual(main) == "<LocalGovernor 1/1s: 1/1; 1 waiting>"
