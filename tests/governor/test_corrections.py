"""Server corrections: none when this process is alone, whatever the latency; others' spend is.

The judge is the fake server's own rate limiter (``inro_async.testing._ratelimit``), which shares
no code with the governor. A small discrete-event simulation plays one process against it:
requests queue, the core dispatches them, each reaches the server after a one-way latency, and
its response comes back later still, when ``correct`` sees the headers with the dispatch time.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inro_async.governor import GovernorCore, Quota
from inro_async.governor._core import PROBE_TIMEOUT
from inro_async.governor._logs import GRACE
from inro_async.testing._ratelimit import Mode, RateLimiter

SCALED = (Quota(20, 1), Quota(100, 6), Quota(250, 18), Quota(450, 40))


@dataclass
class Outcome:
    """What one simulated run did."""

    phantoms: int = 0
    throttled: int = 0
    dispatched: list[float] = field(default_factory=list)


def simulate(
    core: GovernorCore,
    server: RateLimiter,
    wanted: list[float],
    *,
    latency: float,
    jitter: float,
    seed: int,
    foreign: Sequence[float] = (),
    service: float = 0.0,
) -> Outcome:
    """Play ``wanted`` requests (arrival times at the client) and ``foreign`` ones at the server.

    Each of ours reaches the server ``latency + U(0, jitter)`` after dispatch and its response
    comes back ``latency + U(0, jitter)`` later; a 429 pauses the core until ``Retry-After`` and
    the request queues again. ``foreign`` requests hit the server directly (another process).
    With ``service`` the server is one worker taking ``U(0, service)`` per request: a request
    waits in its inbound queue and is counted only when the worker takes it up, so a burst
    queues, and by a different amount each time.
    """
    rng = random.Random(seed)
    seq = itertools.count()
    events: list[tuple[float, int, str, tuple[float, ...]]] = []
    for t in wanted:
        heapq.heappush(events, (t, next(seq), "want", ()))
    for t in foreign:
        heapq.heappush(events, (t, next(seq), "foreign", ()))
    outcome = Outcome()
    worker_free = -float("inf")
    queued = 0
    now = min([*wanted, *foreign], default=0.0)
    while events or queued:
        dispatch_at = core.next_free(now) if queued else float("inf")
        if events and events[0][0] < dispatch_at:
            now, _, kind, data = heapq.heappop(events)
            if kind == "want":
                queued += 1
            elif kind == "foreign":
                server.check(now)
            elif kind == "arrive":
                if service and now < worker_free:  # busy: wait in the inbound queue
                    heapq.heappush(events, (worker_free, next(seq), "arrive", data))
                    continue
                took = rng.uniform(0, service) if service else 0.0
                worker_free = now + took
                verdict = server.check(now)
                back = now + took + latency + rng.uniform(0, jitter)
                payload = (data[0], verdict.limit, verdict.remaining, verdict.retry_after or 0)
                heapq.heappush(events, (back, next(seq), "response", payload))
                if not verdict.allowed:
                    outcome.throttled += 1
            else:  # response
                sent_at, limit, remaining, retry_after = data
                core.heard(sent_at, now)
                if retry_after:
                    core.throttled(now, retry_after, int(limit))
                    queued += 1
                outcome.phantoms += core.correct(
                    int(limit), int(remaining), now, sent_at=sent_at, throttled=bool(retry_after)
                )
            continue
        now = dispatch_at
        core.record(now)
        queued -= 1
        outcome.dispatched.append(now)
        arrive = now + latency + rng.uniform(0, jitter)
        heapq.heappush(events, (arrive, next(seq), "arrive", (now,)))
    return outcome


def bursts(max_requests: int) -> st.SearchStrategy[list[float]]:
    """Random demand: bursts of requests separated by random gaps."""
    step = st.tuples(st.floats(0.0, 8.0, allow_nan=False), st.integers(1, 60))

    def expand(steps: list[tuple[float, int]]) -> list[float]:
        t, times = 0.0, []
        for gap, count in steps:
            t += gap
            times.extend([t] * count)
        return times[:max_requests]

    return st.lists(step, min_size=1, max_size=20).map(expand)


# -- unit behaviour ---------------------------------------------------------------------------


def test_requests_that_left_the_window_during_the_round_trip_are_not_someone_elses() -> None:
    core = GovernorCore([Quota(3, 1)])
    core.record(0.0)
    core.record(0.9)
    # The request sent at 0.9 arrived at once; the server counted both (remaining 1). Its
    # response comes back at 1.2, after the first left the local window.
    assert core.correct(limit=3, remaining=1, now=1.2, sent_at=0.9) == 0
    assert core.next_free(1.2) == pytest.approx(1.2)


def test_without_the_dispatch_time_the_same_response_looks_like_a_foreign_spend() -> None:
    core = GovernorCore([Quota(3, 1)])
    core.record(0.0)
    core.record(0.9)
    assert core.correct(limit=3, remaining=1, now=1.2) == 1  # the old behaviour, kept as is


def test_a_foreign_spend_is_learned_from_a_response_with_its_dispatch_time() -> None:
    core = GovernorCore([Quota(10, 1)])
    core.record(0.0)
    # Someone else sent 5 just before; the server counts 6 when ours arrives.
    assert core.correct(limit=10, remaining=4, now=0.3, sent_at=0.0) == 5
    assert core.usage(0.3)[0].used == 6


def test_a_response_slower_than_the_grace_can_only_overcount() -> None:
    core = GovernorCore([Quota(3, 1)])
    core.record(0.0)
    core.record(0.5)
    late = 0.5 + GRACE + 5
    # The log forgot both; a phantom is added, which only slows this process down.
    assert core.correct(limit=3, remaining=1, now=late, sent_at=0.5) == 2


def test_a_fixed_window_response_straddling_a_boundary_corrects_nothing() -> None:
    core = GovernorCore([Quota(5, 1)], windows="fixed")
    core.record(10.99)
    assert core.correct(limit=5, remaining=0, now=11.01, sent_at=10.99) == 0


def test_a_fixed_window_foreign_spend_fills_the_current_window_only() -> None:
    core = GovernorCore([Quota(5, 1)], windows="fixed")
    core.record(10.2)
    assert core.correct(limit=5, remaining=0, now=10.3, sent_at=10.2) == 4
    assert core.next_free(10.3) == pytest.approx(11.0)
    assert core.available(11.0) == 5


# -- properties -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wanted=bursts(600),
    latency=st.floats(0.0, 3.0, allow_nan=False),
    jitter=st.sampled_from([0.0, 0.01, 0.05]),
    seed=st.integers(0, 2**16),
)
def test_alone_on_a_sliding_server_no_phantom_and_no_429_whatever_the_latency(
    wanted: list[float], latency: float, jitter: float, seed: int
) -> None:
    core = GovernorCore(SCALED, margin=jitter + 1e-6)
    outcome = simulate(
        core, RateLimiter(SCALED, "sliding"), wanted, latency=latency, jitter=jitter, seed=seed
    )
    assert outcome.phantoms == 0
    assert outcome.throttled == 0
    assert len(outcome.dispatched) == len(wanted)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wanted=bursts(400),
    latency=st.floats(0.0, 0.2, allow_nan=False),
    service=st.floats(0.005, 0.025, allow_nan=False),
    seed=st.integers(0, 2**16),
)
def test_a_burst_queued_in_a_busy_server_earns_no_429(
    wanted: list[float], latency: float, service: float, seed: int
) -> None:
    # A burst of 20 to a one-worker server: the last is counted up to 20 x 25 ms after it was
    # sent, far beyond the 10 ms margin, and the next burst may queue less. (Trusting the
    # margin, or crediting the round trip beyond the fastest seen, this earned 429s.)
    # Known limit: before its first response the governor cannot know the server queues, so a
    # first burst still unanswered W + margin after it went (here: 20 x 55 ms + 2 x 190 ms) can
    # earn a 429; the bounds above keep the first burst's answers within W.
    core = GovernorCore(SCALED, margin=0.01)
    outcome = simulate(
        core,
        RateLimiter(SCALED, "sliding"),
        wanted,
        latency=latency,
        jitter=0.005,
        seed=seed,
        service=service,
    )
    assert outcome.throttled == 0
    assert len(outcome.dispatched) == len(wanted)


def test_a_queued_request_holds_its_slot_until_one_window_after_its_response() -> None:
    core = GovernorCore([Quota(1, 1)], margin=0.05)
    core.record(10.0)
    core.heard(10.0, 10.06)
    core.record(11.1)
    core.heard(11.1, 11.36)  # 200 ms slower: it may have queued that long before being counted
    assert core.next_free(11.5) == pytest.approx(12.36, abs=1e-3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wanted=bursts(600),
    start=st.floats(0.0, 1000.0, allow_nan=False),
    one_way=st.floats(0.0, 0.04, allow_nan=False),
    seed=st.integers(0, 2**16),
)
def test_alone_on_a_fixed_window_server_no_phantom_and_no_429(
    wanted: list[float], start: float, one_way: float, seed: int
) -> None:
    # Fixed windows are judged at arrival: the margin covers one-way latency plus jitter.
    core = GovernorCore(SCALED, margin=0.05, windows="fixed")
    outcome = simulate(
        core,
        RateLimiter(SCALED, "fixed"),
        [start + t for t in wanted],
        latency=one_way,
        jitter=0.01,
        seed=seed,
    )
    assert outcome.phantoms == 0
    assert outcome.throttled == 0


@pytest.mark.parametrize("mode", ["sliding", "fixed"])
def test_a_fixed_window_governor_uses_twice_the_limit_across_a_boundary(mode: Mode) -> None:
    core = GovernorCore([Quota(20, 1)], margin=0.05, windows=mode)
    outcome = simulate(
        core, RateLimiter([Quota(20, 1)], mode), [0.5] * 40, latency=0.001, jitter=0, seed=0
    )
    assert outcome.throttled == 0
    # Sliding: the first burst leaves the window W after its responses (1 ms each way).
    assert outcome.dispatched[-1] == pytest.approx(1.0 if mode == "fixed" else 1.502, abs=1e-3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wanted=bursts(600),
    foreign=st.lists(st.floats(0.0, 60.0, allow_nan=False), min_size=1, max_size=80),
    latency=st.floats(0.0, 0.5, allow_nan=False),
    mode=st.sampled_from(["sliding", "fixed"]),
    seed=st.integers(0, 2**16),
)
def test_each_request_another_process_spends_costs_at_most_one_429(
    wanted: list[float], foreign: list[float], latency: float, mode: Mode, seed: int
) -> None:
    margin = 0.01 + (latency if mode == "fixed" else 0.0)
    core = GovernorCore(SCALED, margin=margin, windows=mode)
    outcome = simulate(
        core,
        RateLimiter(SCALED, mode),
        wanted,
        latency=latency,
        jitter=0.005,
        seed=seed,
        foreign=sorted(foreign),
    )
    assert outcome.throttled <= len(foreign)


def test_a_second_process_spend_is_learned_and_not_paid_for_twice() -> None:
    # 30% of every window goes to another process, spread evenly; we want 400 at once.
    foreign = [0.05 + i * (1 / 6) for i in range(6 * 30)]
    core = GovernorCore(SCALED, margin=0.01)
    outcome = simulate(
        core,
        RateLimiter(SCALED, "sliding"),
        [0.0] * 400,
        latency=0.02,
        jitter=0.005,
        seed=1,
        foreign=foreign,
    )
    assert len(outcome.dispatched) - outcome.throttled == 400
    assert outcome.phantoms > 0  # it was learned from the headers…
    assert outcome.throttled <= len(foreign)  # …and each foreign request cost at most one 429


# -- responses and probes -----------------------------------------------------------------------


def test_an_answered_request_frees_its_slot_one_window_after_its_response() -> None:
    core = GovernorCore([Quota(1, 1)], margin=0.05)
    core.record(0.0)
    core.heard(0.0, 0.002)
    assert core.next_free(0.5) == pytest.approx(1.002, abs=1e-4)


def test_an_unanswered_request_keeps_the_margin() -> None:
    core = GovernorCore([Quota(1, 1)], margin=0.05)
    core.record(0.0)
    assert core.next_free(0.5) == pytest.approx(1.05)


def test_a_response_slower_than_the_margin_holds_the_slot_until_w_after_it() -> None:
    # It may have waited in a queue before the server counted it: only the response bounds that.
    core = GovernorCore([Quota(1, 1)], margin=0.05)
    core.record(0.0)
    core.heard(0.0, 0.3)
    assert core.next_free(0.5) == pytest.approx(1.3, abs=1e-4)


def test_an_answered_request_waits_for_an_older_unanswered_one() -> None:
    core = GovernorCore([Quota(2, 1)], margin=0.5)
    core.record(0.0)  # never answered: leaves at 1.5
    core.record(0.1)
    core.heard(0.1, 0.101)  # could leave at 1.101, but the log stays a queue (conservative)
    assert core.next_free(0.5) == pytest.approx(1.5)


def test_alone_on_the_quota_bursts_never_wait_for_a_probe() -> None:
    core = GovernorCore([Quota(20, 1)])
    core.record(0.0)
    core.heard(0.0, 0.001)
    assert not core.probing
    core.record(5.0)
    assert not core.probing
    assert core.available(5.0) == 19


def test_once_others_are_seen_spending_a_blind_burst_starts_with_one_request() -> None:
    core = GovernorCore([Quota(20, 1)])
    core.record(0.0)
    assert core.correct(20, 15, 0.001, sent_at=0.0) == 4  # someone else spent 4
    core.heard(0.0, 0.001)
    core.record(5.0)  # a burst after a silence: this one goes alone
    assert core.probing
    assert core.next_free(5.0) == pytest.approx(5.0 + PROBE_TIMEOUT)
    core.heard(5.0, 5.002)
    assert core.next_free(5.002) == 5.002


def test_a_shared_quota_starts_every_blind_burst_with_one_request() -> None:
    core = GovernorCore([Quota(20, 1)], shared=True)
    core.record(0.0)
    assert core.probing
    assert core.available(0.0) == 0
    core.heard(0.0, 0.001)
    assert core.available(0.001) == 19


@pytest.mark.parametrize("mode", ["sliding", "fixed"])
def test_a_shared_quota_meets_a_neighbour_with_at_most_one_429_per_second(mode: Mode) -> None:
    neighbour = [-5.0 + i / 3.375 for i in range(120)]  # 30% of the 40-second quota
    core = GovernorCore(SCALED, margin=0.05, windows=mode, shared=True)
    outcome = simulate(
        core,
        RateLimiter(SCALED, mode),
        [0.0] * 400,
        latency=0.001,
        jitter=0.0005,
        seed=3,
        foreign=neighbour,
    )
    assert len(outcome.dispatched) - outcome.throttled == 400
    assert outcome.throttled <= 2


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.floats(0.0, 0.004), min_size=30, max_size=300),
    trips=st.lists(st.floats(0.0, 0.03), min_size=1, max_size=300),
    back=st.floats(0.0, 0.2),
    offset=st.integers(-8, 3),
)
def test_counting_what_the_server_could_have_seen_stops_at_enough_and_is_exact_below(
    gaps: list[float], trips: list[float], back: float, offset: int
) -> None:
    # A response's correction only asks whether the server counted more than the log held, so
    # the count may stop once it reaches that; below it, it must be the whole count.
    core = GovernorCore([Quota(10_000, 0.1)], margin=0.005)  # a short window: entries expire
    t, now = 100.0, 100.0
    sent = []
    for i, gap in enumerate(gaps):
        t += gap
        core.record(t)
        sent.append(t)
        now = max(now, t + trips[i % len(trips)])
        core.heard(t, now)
    now += back / 4
    since = max(sent[0], now - back)
    log = core._logs[0]
    full = log.held_since(since, now)
    assert full is not None
    enough = max(0, full + offset)  # near the whole count, where stopping early could go wrong
    stopped = log.held_since(since, now, enough=enough)
    assert stopped is not None
    if full < enough:
        assert stopped == full
    else:
        assert enough <= stopped <= full
