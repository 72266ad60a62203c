"""The waiter queue both governors share (``governor/_loops.py``)."""

from __future__ import annotations

import asyncio

import pytest

from inro_async import GovernorLoopError
from inro_async.governor._loops import Waiter, WaiterQueue


def queue_of(priorities: list[int]) -> tuple[WaiterQueue[Waiter], list[Waiter]]:
    loop = asyncio.new_event_loop()
    queue: WaiterQueue[Waiter] = WaiterQueue()
    waiters = [Waiter(queue.key(priority), loop.create_future()) for priority in priorities]
    for waiter in waiters:
        queue.push(waiter)
    loop.close()
    return queue, waiters


def test_waiters_are_served_by_priority_then_arrival() -> None:
    queue, waiters = queue_of([0, 10, 0, 10, -5])
    served = [queue.pop() for _ in range(len(waiters))]
    assert served == [waiters[i] for i in (1, 3, 0, 2, 4)]


def test_a_waiter_taken_out_leaves_the_others_in_order() -> None:
    queue, waiters = queue_of([0, 0, 0])
    queue.discard(waiters[1])
    queue.discard(waiters[1])  # no longer queued: nothing happens
    assert [queue.pop(), queue.pop()] == [waiters[0], waiters[2]]
    assert not queue


def test_waiters_left_on_a_stopped_loop_fail_should_it_run_again() -> None:
    loop = asyncio.new_event_loop()
    try:
        queue: WaiterQueue[Waiter] = WaiterQueue()
        waiter = Waiter(queue.key(0), loop.create_future())
        queue.push(waiter)
        queue.strand(loop)
        assert len(queue) == 0
        with pytest.raises(GovernorLoopError, match="another event loop"):
            loop.run_until_complete(waiter.future)
    finally:
        loop.close()
