"""The ETA rule shared by fan-out jobs and export (``jobs/_eta.py``), as a table."""

from __future__ import annotations

import pytest

from inro_async.jobs._eta import FinishedChunks, Pace, RoundTrip, seconds_left

BASE = {"left": 10, "concurrency": 2, "last_sent_at": 100.0, "now": 101.0}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # Nothing answered yet: the quota's wait if any, else no figure (0 would be a promise).
        ({"quota_wait": 0.0, "unsent": 5, "took": None}, None),
        ({"quota_wait": 30.0, "unsent": 5, "took": None}, 30.0),
        # Units still to send: the quota's wait plus the last one's trip ...
        ({"quota_wait": 30.0, "unsent": 5, "took": 2.0}, 32.0),
        # ... unless the workers, not the quota, set the pace: 10 units x 2 s / 2 workers.
        ({"quota_wait": 1.0, "unsent": 5, "took": 2.0}, 10.0),
        # Everything on its way, the quota free: what is left of the latest unit's trip.
        ({"quota_wait": 0.0, "unsent": 0, "took": 2.0}, 1.0),
        ({"quota_wait": 0.0, "unsent": 0, "took": 0.5}, 0.0),
        # Everything sent, but requests still queued in the governor (follow-ups, 429 repeats).
        ({"quota_wait": 4.0, "unsent": 0, "took": 2.0}, 10.0),
    ],
)
def test_seconds_left(facts: dict[str, float | None], expected: float | None) -> None:
    assert seconds_left(**BASE, **facts) == expected  # type: ignore[arg-type]


def test_with_nothing_sent_yet_the_latest_trip_counts_from_now() -> None:
    facts = {**BASE, "last_sent_at": None}
    assert seconds_left(quota_wait=0.0, unsent=0, took=2.0, **facts) == 2.0  # type: ignore[arg-type]


def test_round_trips_are_smoothed() -> None:
    trip = RoundTrip()
    assert trip.seconds is None
    trip.add(1.0)
    assert trip.seconds == 1.0
    trip.add(2.0)
    assert trip.seconds == pytest.approx(1.3)


def test_the_pace_is_a_floor_on_the_estimate() -> None:
    facts = {**BASE, "quota_wait": 0.0, "unsent": 0, "took": 0.5}
    assert seconds_left(**facts, paced=3.0) == 3.0  # type: ignore[arg-type]
    assert seconds_left(**{**facts, "took": None}, paced=3.0) == 3.0  # type: ignore[arg-type]
    assert seconds_left(**{**facts, "took": 20.0}, paced=3.0) == 19.0  # type: ignore[arg-type]


def test_no_pace_before_a_429_nor_before_two_units_finished_after_it() -> None:
    pace = Pace()
    pace.finished(1.0, sent_at=0.5)
    assert pace.seconds_left(10, now=1.0) is None  # no 429 yet: the governor's view holds
    pace.throttled(2.0)
    pace.finished(2.1, sent_at=1.9)  # on its way before the 429: not at the server's pace
    pace.finished(3.0, sent_at=2.5)
    assert pace.seconds_left(10, now=3.0) is None  # one unit alone says little
    pace.finished(4.0, sent_at=3.5)
    assert pace.seconds_left(10, now=4.0) == pytest.approx(10.0)  # 1 s per unit


def test_a_server_letting_two_through_per_second_is_read_as_bursts() -> None:
    """Finishes come in pairs one second apart: 2 per second, whichever of a pair came last."""
    pace = Pace()
    pace.throttled(0.0)
    finishes = [1.00, 1.02, 2.00, 2.02, 3.00, 3.02]
    expected_end = 6.0  # 6 units left after the last pair: 3 more pairs, at 4, 5 and 6 s
    for done, at in enumerate(finishes, start=1):
        pace.finished(at, sent_at=at - 0.01)
        left = 12 - done
        eta = pace.seconds_left(left, now=at)
        if done >= 3:  # two groups seen
            assert eta == pytest.approx(expected_end - at, abs=0.05)


def test_a_spent_quota_restarts_the_pace() -> None:
    pace = Pace()
    pace.throttled(0.0)
    pace.finished(1.0, sent_at=0.5)
    pace.finished(2.0, sent_at=1.5)
    pace.restart()
    assert pace.seconds_left(5, now=2.0) is None


def test_finished_chunks_time_only_answered_ones_and_count_every_request() -> None:
    chunks = FinishedChunks()
    assert chunks.requests_per_chunk(1.5) == 1.5  # nothing finished: the operation's figure
    chunks.finished(10.0, 8.0, 3, answered=True)
    chunks.finished(11.0, 5.0, 1, answered=False)  # a failure's trip says nothing of the rest
    assert (chunks.count, chunks.requests, chunks.round_trip.seconds) == (2, 4, 2.0)
    assert chunks.requests_per_chunk(1.0) == 2.0
    assert chunks.requests_per_chunk(3.0) == 3.0  # never below the planned figure
    # 4 chunks in all, 2 left, nothing queued: what is left of the latest one's 2 s trip.
    left = chunks.seconds_left(
        quota_wait=0.0, unsent=0, chunks=4, concurrency=2, last_sent_at=10.5, now=11.0
    )
    assert left == 1.5
