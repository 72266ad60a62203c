"""``GovernorCore.take`` and ``answer``: one call each, the same decisions as the long way.

``LocalGovernor`` grants a request nobody queues ahead of with ``take`` (instead of
``next_free`` then ``record``) and hands an ordinary answer back with ``answer`` (instead of
``heard`` then ``correct``). Two cores are driven through the same random trace, one each way,
and must agree after every step. Both hand answers to the entries ``record`` returned: found by
time instead, an answer can go to a neighbour that shares its timestamp (a correction stamped at
the same instant), which is why the permit carries them.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inro_async.governor import INRO_QUOTAS, GovernorCore, LocalGovernor, Quota
from inro_async.governor._logs import GRACE, UNREPORTED_HOLD

SCALED = (Quota(20, 1.0), Quota(100, 6.0), Quota(250, 18.0), Quota(450, 40.0))


def _state(core: GovernorCore, now: float) -> tuple[object, ...]:
    return (
        core.next_free(now),
        [(u.used, round(u.free_in, 9)) for u in core.usage(now)],
        core.corrected,
        core.probing,
        core.probe_sent,
        core.contended_until,
        core.slowest,
        core.last_view,
        core.memory_entries(),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    quotas=st.sampled_from([SCALED, (Quota(3, 1.0),), INRO_QUOTAS]),
    windows=st.sampled_from(["sliding", "fixed"]),
    shared=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(50, 400),
    foreign=st.sampled_from([0.0, 0.1, 0.4]),
)
def test_take_and_answer_decide_as_next_free_record_heard_and_correct(
    quotas: tuple[Quota, ...], windows: str, shared: bool, seed: int, steps: int, foreign: float
) -> None:
    rng = random.Random(seed)
    fast = GovernorCore(quotas, margin=0.05, windows=windows, shared=shared)  # type: ignore[arg-type]
    slow = GovernorCore(quotas, margin=0.05, windows=windows, shared=shared)  # type: ignore[arg-type]
    fast.start_holding(UNREPORTED_HOLD)
    slow.start_holding(UNREPORTED_HOLD)
    limit = quotas[0].limit
    now = 0.0
    flying: list[tuple[float, object, object]] = []  # (granted at, each core's entries)
    server: list[float] = []  # when the server counted a request, ours or someone else's
    for _ in range(steps):
        now += rng.choice([0.0, 0.001, 0.01, 0.05, 0.2, 1.0, 3.0])
        if rng.random() < foreign:
            server.append(now)  # another user of the token
        if flying and rng.random() < 0.5:
            sent_at, entries, slow_entries = flying.pop(rng.randrange(len(flying)))
            window = quotas[0].period
            counted = sum(1 for t in server if now - window < t <= now)
            remaining = limit - counted if rng.random() < 0.9 else None
            header_limit = limit if remaining is not None else None
            assert fast.answer(sent_at, now, entries, header_limit, remaining) == (  # type: ignore[arg-type]
                slow.heard(sent_at, now, slow_entries)  # type: ignore[arg-type]
                | (
                    header_limit is not None
                    and remaining is not None
                    and slow.correct(header_limit, remaining, now, sent_at=sent_at) > 0
                )
            )
        else:
            taken = fast.take(now)
            may = slow.next_free(now) <= now
            assert (taken is not None) == may
            if taken is not None:
                flying.append((now, taken, slow.record(now)))
                server.append(now)
        assert _state(fast, now) == _state(slow, now)


def test_an_answer_goes_to_the_entry_its_permit_joined() -> None:
    core = GovernorCore([Quota(2, 1.0)])
    core.start_holding(UNREPORTED_HOLD)
    first = core.take(0.0)
    second = core.take(0.3)
    assert first is not None
    assert second is not None
    assert core.next_free(0.4) > 60  # both unanswered: held until answered
    assert core.answer(0.0, 0.5, first, None, None)  # completes the first entry: sooner
    assert core.next_free(0.6) == pytest.approx(1.5, abs=1e-4)


def test_a_late_answer_does_not_bring_back_an_entry_whose_hold_ran_out() -> None:
    core = GovernorCore([Quota(1, 1.0)])
    core.start_holding(1.0)
    taken = core.take(0.0)
    assert taken is not None
    assert core.next_free(0.5) == pytest.approx(2.0)
    assert not core.answer(0.0, 3.0, taken, None, None)  # the slot was counted free at 2.0
    assert core.next_free(3.0) == 3.0


def test_a_response_slower_than_the_grace_forgets_whether_or_not_pruned() -> None:
    # ``expire`` drops entries older than GRACE only every few expiries; the count must not
    # depend on when it last did.
    core = GovernorCore([Quota(3, 1.0)])
    for t in (0.0, 0.5):
        core.record(t)
    assert core.correct(limit=3, remaining=1, now=0.5 + GRACE + 5, sent_at=0.5) == 2


async def test_a_permit_of_another_governor_is_judged_by_time_and_leaves_its_log_alone() -> None:
    clock = [0.0]
    ours = LocalGovernor([Quota(1, 1.0)], margin=0.0, clock=lambda: clock[0])
    theirs = LocalGovernor([Quota(1, 1.0)], margin=0.0, clock=lambda: clock[0])
    ours.expect_reports()
    theirs.expect_reports()
    mine = await ours.acquire()
    foreign = await theirs.acquire()
    clock[0] = 0.2
    await ours.observe(200, {}, permit=foreign)  # found by its time: our request, answered
    # (``next_free``, not ``snapshot``: a snapshot guesses an unanswered request's answer)
    assert ours._core.next_free(0.2) == pytest.approx(1.2, abs=1e-3)
    assert theirs._core.next_free(0.2) > 60  # still unanswered there: held
    await theirs.observe(200, {}, permit=mine)
    assert theirs._core.next_free(0.2) == pytest.approx(1.2, abs=1e-3)
