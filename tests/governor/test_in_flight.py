"""Answers find their own log entry, and an unanswered request holds its slot (issue 19).

Many organizations on one busy event loop spread each burst over several milliseconds, so it
lands in several log entries; the answers must complete exactly those entries, and a request
may reach the server long after any round trip seen so far, so its slot waits for its answer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inro_async.governor import GovernorCore, Quota
from inro_async.governor._logs import RESOLUTION, UNREPORTED_HOLD
from inro_async.testing._ratelimit import RateLimiter
from tests.governor.test_corrections import SCALED, bursts, simulate

STEP = 1 / RESOLUTION  # a 1-second quota's entry width


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0.0, STEP / 8, STEP * 0.3, STEP * 0.8, STEP]), max_size=60),
    order=st.randoms(use_true_random=False),
)
def test_every_answer_completes_its_own_entry_whatever_the_spacing_of_the_burst(
    gaps: list[float], order: object
) -> None:
    # A burst of 20 spread over a few entries, answered in any order at 0.3 s: every entry
    # completes, so the slots free one window after the answers, not at the margin's guess.
    core = GovernorCore([Quota(20, 1)], margin=0.05)
    core.start_holding()
    t, sent = 10.0, []
    for gap in [0.0, *gaps][:20]:
        t += gap
        core.record(t)
        sent.append(t)
    order.shuffle(sent)  # type: ignore[attr-defined]
    for at in sent:
        core.heard(at, 10.3)
    log = core._logs[0]
    assert all(entry[3] == entry[2] for entry in log.entries)
    if len(sent) == 20:
        assert core.next_free(10.4) == pytest.approx(11.3, abs=1e-4)


def test_an_answer_in_the_last_quarter_step_of_an_entry_is_its_own() -> None:
    # Before the fix the lookup's slack handed it to the next entry, and the next entry's own
    # answer was then lost: the first entry never completed.
    core = GovernorCore([Quota(20, 1)], margin=0.05)
    core.start_holding()
    early, late = 10.0, 10.0 + STEP * 0.9  # one entry
    nxt = 10.0 + STEP * 1.1  # the next
    for t in (early, late, nxt):
        core.record(t)
    for t in (early, late, nxt):
        core.heard(t, 10.2)
    assert [entry[3] for entry in core._logs[0].entries] == [2, 1]


def test_an_unanswered_request_holds_its_slot_past_the_margin_until_its_answer() -> None:
    core = GovernorCore([Quota(1, 1)], margin=0.05)
    core.start_holding()
    core.record(0.0)
    assert core.next_free(1.5) == pytest.approx(1.05 + UNREPORTED_HOLD)
    assert core.heard(0.0, 1.7)  # it waited 1.7 s in a pool or a queue: counted up to then
    assert core.next_free(1.8) == pytest.approx(2.7, abs=1e-4)


def test_an_attempt_ended_without_an_answer_frees_its_slot_one_window_later() -> None:
    core = GovernorCore([Quota(1, 1)], margin=0.05)
    core.start_holding()
    core.record(0.0)
    assert core.ended(0.0, 3.0)
    assert core.next_free(3.1) == pytest.approx(4.0, abs=1e-4)
    assert core.slowest == 0.0  # a failure says nothing of round trips


def test_holding_starts_with_the_first_report_and_covers_what_is_already_in_flight() -> None:
    core = GovernorCore([Quota(2, 1)], margin=0.05)
    core.record(0.0)
    core.record(0.0)
    assert core.next_free(0.5) == pytest.approx(1.05)  # unreported: the guess
    core.start_holding()
    assert core.next_free(0.5) == pytest.approx(1.05 + UNREPORTED_HOLD)


def test_estimates_still_assume_answers_come_as_fast_as_the_slowest_seen() -> None:
    core = GovernorCore([Quota(20, 1)], margin=0.05)
    core.start_holding()
    for _ in range(20):
        core.record(0.0)
    # Held, the next slot is an answer away; the estimate for 20 more is the next window.
    assert core.estimate(20, 0.1) == pytest.approx(1.05)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wanted=bursts(300),
    late=st.floats(0.05, 2.5, allow_nan=False),
    seed=st.integers(0, 2**16),
)
def test_requests_reaching_the_server_long_after_the_margin_earn_no_429_once_held(
    wanted: list[float], late: float, seed: int
) -> None:
    # Each request waits up to ``late`` seconds (a connection pool, a busy loop, a busy
    # server) before the server counts it, far beyond the 10 ms margin and, for a first
    # burst, before any round trip is known. Guessed instead of held, the slot came free at
    # W + margin and the next burst met the late ones in the server's window (next test).
    core = GovernorCore(SCALED, margin=0.01)
    core.start_holding()
    outcome = simulate(
        core, RateLimiter(SCALED, "sliding"), wanted, latency=0.001, jitter=late, seed=seed
    )
    assert outcome.throttled == 0
    assert len(outcome.dispatched) == len(wanted)


def test_guessing_instead_of_holding_earns_429s_from_late_requests() -> None:
    # The same late arrivals with the guess: what the property above guards against.
    core = GovernorCore(SCALED, margin=0.01)
    outcome = simulate(
        core, RateLimiter(SCALED, "sliding"), [0.0] * 60, latency=0.001, jitter=1.5, seed=1
    )
    assert outcome.throttled > 0


def test_a_clients_governor_holds_from_the_first_burst_before_any_answer() -> None:
    # 200 organizations' first bursts waited ~2 s for a connection, before any answer: a
    # governor that started holding at its first report had already let them go at 1.05 s.
    from inro_async import Client
    from inro_async.governor import LocalGovernor

    governor = LocalGovernor([Quota(1, 1)], clock=lambda: 0.0)
    Client("t", base_url="http://127.0.0.1:9", governor=governor)
    assert governor._core.hold == UNREPORTED_HOLD
