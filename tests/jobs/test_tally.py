"""A run's live tally: statuses, counts and reasons per item, written one at a time or in bulk."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inro_async.jobs._items import ItemStatus, Outcome
from inro_async.jobs._tally import Tally

_OUTCOMES = [
    Outcome(ItemStatus.DONE),
    Outcome(ItemStatus.SKIPPED, "status is inactive"),
    Outcome(ItemStatus.NOT_FOUND),
    Outcome(ItemStatus.FAILED, "422 bad"),
    Outcome(ItemStatus.UNKNOWN),
    Outcome(ItemStatus.PENDING),
]


def test_chunk_errors_are_stored_once_but_read_per_item() -> None:
    tally = Tally(6, [0, 3])
    tally.set_range(range(3, 6), ItemStatus.FAILED, "503 try later")
    assert tally.reason(4) == "503 try later"
    assert tally.reason(1) is None
    assert tally.counts[ItemStatus.FAILED] == 3


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=40),
    writes=st.lists(
        st.tuples(st.integers(0, 39), st.integers(0, 39), st.lists(st.sampled_from(_OUTCOMES))),
        max_size=8,
    ),
)
def test_set_many_is_set_for_each_in_bulk(
    size: int, writes: list[tuple[int, int, list[Outcome]]]
) -> None:
    bulk, single = Tally(size, [0]), Tally(size, [0])
    for a, b, pool in writes:
        start, stop = sorted((a % size, b % size))
        positions = range(start, stop + 1)
        outcomes = [pool[i % len(pool)] if pool else _OUTCOMES[0] for i in range(len(positions))]
        bulk.set_many(positions, outcomes)
        for position, outcome in zip(positions, outcomes, strict=True):
            single.set(position, outcome)
    assert bulk.statuses == single.statuses
    assert bulk.reasons == single.reasons
    assert +bulk.counts == +single.counts  # unary + drops zero entries
    assert sum(bulk.counts.values()) == size


def test_set_many_refuses_a_gapped_range_or_a_short_list() -> None:
    tally = Tally(10, [0])
    with pytest.raises(ValueError, match="contiguous"):
        tally.set_many(range(0, 10, 2), [Outcome(ItemStatus.DONE)] * 5)
    with pytest.raises(ValueError, match="one outcome per position"):
        tally.set_many(range(0, 3), [Outcome(ItemStatus.DONE)])
