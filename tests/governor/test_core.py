"""The sans-I/O governor core: the guarantee, greedy use of the quota, bounded memory."""

from __future__ import annotations

import bisect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inro_async.governor import INRO_QUOTAS, GovernorCore, Quota
from inro_async.governor._base import effective_quotas
from inro_async.governor._logs import RESOLUTION

# -- helpers ----------------------------------------------------------------------------------


def dispatch_greedily(core: GovernorCore, arrivals: list[float]) -> list[float]:
    """Each request goes as soon as the core allows, in arrival order (what the governor does)."""
    dispatched: list[float] = []
    last = float("-inf")
    for arrival in arrivals:
        t = core.next_free(max(arrival, last))
        core.record(t)
        dispatched.append(t)
        last = t
    return dispatched


def assert_guarantee(dispatched: list[float], quota: Quota, margin: float = 0.0) -> None:
    """No interval of length period + margin holds more than limit dispatches."""
    span = quota.period + margin
    for i in range(len(dispatched) - quota.limit):
        assert dispatched[i + quota.limit] - dispatched[i] >= span - 1e-9, (
            f"{quota}: {quota.limit + 1} dispatches within {span}s starting at {dispatched[i]}"
        )


def assert_work_conserving(
    dispatched: list[float], arrivals: list[float], quotas: tuple[Quota, ...]
) -> None:
    """A request that waited did so because some quota's window was full (within resolution)."""
    for i, (t, arrival) in enumerate(zip(dispatched, arrivals, strict=True)):
        earliest = max(arrival, dispatched[i - 1] if i else arrival)
        if t <= earliest + 1e-9:
            continue
        justified = False
        for quota in quotas:
            slack = quota.period / RESOLUTION
            start = bisect.bisect_right(dispatched, t - quota.period - slack - 1e-9, 0, i)
            if i - start >= quota.limit:
                justified = True
                break
        assert justified, f"request {i} waited from {earliest} to {t} with room in every window"


def bursts() -> st.SearchStrategy[list[float]]:
    """Random arrival patterns: bursts of requests separated by random gaps."""
    step = st.tuples(st.floats(min_value=0.0, max_value=30.0, allow_nan=False), st.integers(1, 60))
    return st.lists(step, min_size=1, max_size=80).map(_expand)


def _expand(steps: list[tuple[float, int]]) -> list[float]:
    t = 0.0
    arrivals: list[float] = []
    for gap, count in steps:
        t += gap
        arrivals.extend([t] * count)
    return arrivals


SCALED = (Quota(20, 1), Quota(100, 6), Quota(250, 18), Quota(450, 40))
"""The issue's scaled-down stack: same shape as production, windows in seconds."""


# -- unit behaviour ---------------------------------------------------------------------------


def test_a_full_burst_goes_at_once() -> None:
    core = GovernorCore([Quota(20, 1)])
    for _ in range(20):
        assert core.next_free(0.0) == 0.0
        core.record(0.0)
    assert core.next_free(0.0) == pytest.approx(1.0)


def test_the_next_slot_frees_when_the_oldest_request_leaves_the_window() -> None:
    core = GovernorCore([Quota(3, 10)])
    for t in (0.0, 2.0, 4.0):
        core.record(t)
    assert core.next_free(5.0) == pytest.approx(10.0)
    core.record(10.0)
    assert core.next_free(10.0) == pytest.approx(12.0)


def test_the_margin_widens_every_window() -> None:
    core = GovernorCore([Quota(1, 1)], margin=0.05)
    core.record(0.0)
    assert core.next_free(0.5) == pytest.approx(1.05)


def test_the_tightest_quota_binds() -> None:
    core = GovernorCore([Quota(20, 1), Quota(30, 60)])
    core.record(0.0, 20)
    core.record(1.0, 10)
    decision = core.decide(2.0)
    assert decision.quota == Quota(30, 60)
    assert decision.at == pytest.approx(60.0)


def test_coalesced_requests_expire_with_their_latest_member() -> None:
    quota = Quota(2, 2000)  # resolution step: 1 second
    core = GovernorCore([quota])
    core.record(0.0)
    core.record(0.5)  # joins the first entry
    assert core.memory_entries() == 1
    assert core.next_free(1.0) == pytest.approx(2000.5)  # late by at most one step


def test_memory_stays_bounded_through_a_day_of_requests() -> None:
    core = GovernorCore(INRO_QUOTAS)
    t = 0.0
    for _ in range(100_000):
        t = core.next_free(t)
        core.record(t)
    # ~RESOLUTION entries per quota at most, whatever the request count.
    assert core.memory_entries() <= len(INRO_QUOTAS) * (RESOLUTION + 2)


def test_a_pause_holds_every_request_and_is_never_shortened() -> None:
    core = GovernorCore([Quota(20, 1)])
    core.pause_until(5.0)
    core.pause_until(3.0)
    assert core.next_free(1.0) == 5.0
    assert core.available(4.9) == 0
    assert core.decide(1.0).paused


def test_server_headers_add_the_requests_others_spent() -> None:
    core = GovernorCore([Quota(20, 1), Quota(1000, 60)])
    core.record(0.0, 100)
    added = core.correct(limit=1000, remaining=600, now=0.5)
    assert added == 300
    assert core.usage(0.5)[1].used == 400


def test_server_headers_never_lower_the_local_count() -> None:
    core = GovernorCore([Quota(1000, 60)])
    core.record(0.0, 50)  # in flight: the server has seen none of them yet
    assert core.correct(limit=1000, remaining=1000, now=0.1) == 0
    assert core.usage(0.1)[0].used == 50


def test_headers_for_an_unknown_limit_are_ignored() -> None:
    core = GovernorCore([Quota(20, 1)])
    assert core.correct(limit=77, remaining=0, now=0.0) == 0


def test_the_reserved_share_is_not_counted_against_us() -> None:
    original = (Quota(1000, 60),)
    core = GovernorCore(effective_quotas(original, 0.1), server_limits=[q.limit for q in original])
    core.record(0.0, 100)
    # Others used exactly their 10% share: nothing to correct.
    assert core.correct(limit=1000, remaining=800, now=0.1) == 0
    # They used 150: 50 more than their share come out of ours.
    assert core.correct(limit=1000, remaining=750, now=0.2) == 50


def test_the_estimate_matches_dispatching_greedily() -> None:
    core = GovernorCore(SCALED)
    core.record(0.0, 15)
    shadow = GovernorCore(SCALED)
    shadow.record(0.0, 15)
    times = dispatch_greedily(shadow, [0.0] * 400)
    assert core.estimate(400, 0.0) == pytest.approx(times[-1])
    assert core.usage(0.0)[0].used == 15  # the estimate did not touch the real log


def test_usage_reports_used_and_time_to_a_free_slot() -> None:
    core = GovernorCore([Quota(2, 10)])
    core.record(1.0, 2)
    (usage,) = core.usage(4.0)
    assert (usage.used, usage.remaining) == (2, 0)
    assert usage.free_in == pytest.approx(7.0)


# -- properties -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals=bursts(), margin=st.sampled_from([0.0, 0.05, 0.5]))
def test_random_arrivals_never_break_any_quota_and_never_wait_needlessly(
    arrivals: list[float], margin: float
) -> None:
    core = GovernorCore(SCALED, margin=margin)
    dispatched = dispatch_greedily(core, arrivals)
    for quota in SCALED:
        assert_guarantee(dispatched, quota, margin)
    widened = tuple(Quota(q.limit, q.period + margin) for q in SCALED)
    assert_work_conserving(dispatched, arrivals, widened)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gaps=st.lists(
        st.floats(min_value=0.0, max_value=3.0, allow_nan=False), min_size=1, max_size=30
    ),
    burst=st.integers(1, 5000),
)
def test_a_simulated_day_holds_every_production_quota(gaps: list[float], burst: int) -> None:
    # More requests than the day allows, arriving in bursts: the day quota must bind.
    arrivals: list[float] = []
    t = 0.0
    while len(arrivals) < 110_000:
        for gap in gaps:
            t += gap
            arrivals.extend([t] * burst)
    arrivals = arrivals[:110_000]
    core = GovernorCore(INRO_QUOTAS)
    dispatched = dispatch_greedily(core, arrivals)
    for quota in INRO_QUOTAS:
        assert_guarantee(dispatched, quota)
    # The 100,001st request waits for the first to leave the day window.
    assert dispatched[100_000] >= dispatched[0] + 86_400 - 1e-6
    assert_work_conserving(dispatched, arrivals, INRO_QUOTAS)


def test_an_estimate_names_the_quota_that_holds_the_last_request_back() -> None:
    core = GovernorCore([Quota(20, 1), Quota(3, 60)], margin=0.0)
    core.record(0.0, 2)
    assert core.decide(0.0).quota is None  # one more may go now…
    at, binding = core.estimate_binding(3, 0.0)
    assert binding == Quota(3, 60)  # …but the third of three waits for the minute quota
    assert at == pytest.approx(60.0, abs=0.1)
    assert core.estimate_binding(1, 0.0) == (0.0, None)
