"""The ETA rule shared by fan-out jobs and export (``jobs/_eta.py``), as a table."""

from __future__ import annotations

import pytest

from inro_async.jobs._eta import RoundTrip, seconds_left

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
