"""The fake server's sans-I/O rate limiter: exact sliding windows, epoch-aligned fixed ones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inro_async.governor import Quota
from inro_async.testing import RateLimiter


def test_a_burst_of_25_in_one_second_gets_exactly_5_throttled_in_sliding_mode() -> None:
    limiter = RateLimiter([Quota(20, 1)], "sliding")
    verdicts = [limiter.check(1000.0 + i * 0.01) for i in range(25)]
    assert sum(not v.allowed for v in verdicts) == 5
    assert all(v.allowed for v in verdicts[:20])


def test_sliding_mode_frees_a_slot_exactly_one_window_after_the_oldest_request() -> None:
    limiter = RateLimiter([Quota(2, 10)], "sliding")
    assert limiter.check(0.0).allowed
    assert limiter.check(3.0).allowed
    assert not limiter.check(9.999).allowed
    assert limiter.check(10.0).allowed  # the request at 0.0 left (10.0 - 10, 10.0]
    assert not limiter.check(12.0).allowed


def test_sliding_mode_does_not_count_throttled_requests() -> None:
    limiter = RateLimiter([Quota(1, 1)], "sliding")
    assert limiter.check(0.0).allowed
    for t in (0.2, 0.4, 0.6, 0.8):
        assert not limiter.check(t).allowed
    assert limiter.check(1.0).allowed


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    limiter = RateLimiter([Quota(1, 60)], "sliding")
    limiter.check(0.0)
    verdict = limiter.check(0.5)
    assert verdict.retry_after == 60  # 59.5 s rounded up
    assert verdict.headers()["Retry-After"] == "60"
    assert limiter.check(59.2).retry_after == 1  # 0.8 s rounds up to 1


def test_the_headers_describe_the_most_constrained_window() -> None:
    limiter = RateLimiter([Quota(20, 1), Quota(30, 60)], "sliding")
    for i in range(25):
        limiter.check(i * 0.1)  # 25 accepted over 2.5 s: 5 left in the minute, 10+ per second
    verdict = limiter.check(2.6)
    assert (verdict.limit, verdict.remaining) == (30, 4)
    assert verdict.reset == 58  # the first request (t=0) leaves at t=60


def test_fixed_windows_align_to_epoch_multiples() -> None:
    limiter = RateLimiter([Quota(3, 60)], "fixed")
    assert all(limiter.check(t).allowed for t in (119.0, 119.5, 119.9))
    assert not limiter.check(119.95).allowed
    assert limiter.check(120.0).allowed  # a new window starts at 2 x 60


def test_fixed_mode_counts_throttled_requests() -> None:
    limiter = RateLimiter([Quota(2, 10)], "fixed")
    limiter.check(0.0)
    limiter.check(1.0)
    assert not limiter.check(2.0).allowed
    assert limiter.counts(3.0)[Quota(2, 10)] == 3


def test_fixed_mode_retry_after_points_at_the_window_end() -> None:
    limiter = RateLimiter([Quota(1, 60)], "fixed")
    limiter.check(100.0)
    verdict = limiter.check(100.2)
    assert not verdict.allowed
    assert verdict.retry_after == 20  # the window [60, 120) ends in 19.8 s


def test_a_fixed_window_lets_through_two_limits_across_its_edge() -> None:
    # The weakness the governor must defend against: 2L requests within a short span.
    limiter = RateLimiter([Quota(5, 10)], "fixed")
    accepted = [limiter.check(t).allowed for t in (9.9,) * 5 + (10.0,) * 5]
    assert all(accepted)


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        RateLimiter([Quota(1, 1)], "leaky")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=0.5, allow_nan=False), min_size=1, max_size=300))
def test_sliding_mode_never_accepts_more_than_the_limit_in_any_window(gaps: list[float]) -> None:
    quota = Quota(7, 1.0)
    limiter = RateLimiter([quota], "sliding")
    t = 0.0
    accepted: list[float] = []
    for gap in gaps:
        t += gap
        if limiter.check(t).allowed:
            accepted.append(t)
    for i in range(len(accepted) - quota.limit):
        assert accepted[i + quota.limit] - accepted[i] >= quota.period
