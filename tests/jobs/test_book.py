"""The chunk book: every chunk's state, the legal moves, and what each item's state is. Pure."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inro_async.jobs._book import (
    ChunkBook,
    ChunkRecord,
    ChunkStatus,
    IllegalTransitionError,
    decode_outcomes,
    encode_outcomes,
    item_counts,
    item_outcomes,
    record_problem,
    records_problem,
)
from inro_async.jobs._items import ItemStatus, Outcome

P, F, A, D, X, U = (
    ChunkStatus.PENDING,
    ChunkStatus.IN_FLIGHT,
    ChunkStatus.ACCEPTED,
    ChunkStatus.DONE,
    ChunkStatus.FAILED,
    ChunkStatus.UNKNOWN,
)


def book(n: int = 3) -> ChunkBook:
    return ChunkBook.from_ranges([range(i * 10, i * 10 + 10) for i in range(n)])


def test_a_fresh_book_is_all_pending_and_all_to_run() -> None:
    b = book()
    assert [r.status for r in b] == [P, P, P]
    assert b.to_run(resend_unknown=False) == [0, 1, 2]


def test_dispatch_moves_to_in_flight_once_and_counts_the_attempt() -> None:
    b = book()
    first = b.dispatch(0, now=1.0)
    assert first is not None
    assert first.status is F
    assert first.attempts == 1
    assert b.dispatch(0, now=2.0) is None  # a transport retry of the same chunk changes nothing


def test_only_an_in_flight_chunk_can_be_released_back_to_pending() -> None:
    b = book()
    assert b.release(0, now=1.0) is None
    b.dispatch(0, now=1.0)
    released = b.release(0, now=2.0)
    assert released is not None
    assert released.status is P


def test_finish_stores_one_outcome_per_item() -> None:
    b = book(1)
    b.dispatch(0, now=1.0)
    outcomes = [Outcome(ItemStatus.DONE)] * 9 + [Outcome(ItemStatus.SKIPPED, "status is optout")]
    record = b.finish(0, outcomes, now=2.0)
    assert record.status is D
    assert decode_outcomes(record.outcomes or "", record.reasons) == outcomes


def test_finish_with_the_wrong_number_of_outcomes_is_a_bug() -> None:
    b = book(1)
    b.dispatch(0, now=1.0)
    with pytest.raises(ValueError, match="10 items but 2 outcomes"):
        b.finish(0, [Outcome(ItemStatus.DONE)] * 2, now=2.0)


@pytest.mark.parametrize(
    ("moves", "illegal"),
    [
        ([], "finish"),  # pending → done without being sent
        ([], "accept"),
        (["dispatch", "finish"], "dispatch"),  # done is final
        (["dispatch", "finish"], "fail"),
    ],
)
def test_illegal_moves_are_refused(moves: list[str], illegal: str) -> None:
    b = book(1)
    done = [Outcome(ItemStatus.DONE)] * 10
    actions = {
        "dispatch": lambda: b.dispatch(0, 1.0) or b[0],
        "finish": lambda: b.finish(0, done, 1.0),
        "accept": lambda: b.accept(0, "{}", 1.0),
        "fail": lambda: b.fail(0, "x", 1.0, unknown=True),
    }
    for move in moves:
        actions[move]()
    with pytest.raises(IllegalTransitionError):
        actions[illegal]()


def test_a_dispatch_of_a_finished_chunk_is_refused() -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    b.finish(0, [Outcome(ItemStatus.DONE)] * 10, 2.0)
    with pytest.raises(IllegalTransitionError, match="from done to in_flight"):
        b.dispatch(0, 3.0)


def test_after_a_crash_in_flight_chunks_become_unknown_and_are_not_rerun() -> None:
    b = book()
    b.dispatch(0, 1.0)
    b.dispatch(1, 1.0)
    b.finish(1, [Outcome(ItemStatus.DONE)] * 10, 2.0)
    recovered = b.recover(now=3.0)
    assert [r.index for r in recovered] == [0]
    assert b[0].status is U
    assert b.to_run(resend_unknown=False) == [2]
    assert b.to_run(resend_unknown=True) == [0, 2]


def test_accepted_and_failed_chunks_are_picked_up_again() -> None:
    b = book()
    b.dispatch(0, 1.0)
    b.accept(0, '{"batch_task_id": "bt_1"}', 2.0)
    b.dispatch(1, 1.0)
    b.fail(1, "400", 2.0, unknown=False)
    assert b.dispatch(0, 3.0) is None  # polling an accepted chunk is not a new dispatch
    assert b.to_run(resend_unknown=False) == [0, 1, 2]


_moves = st.lists(
    st.tuples(
        st.sampled_from(["dispatch", "release", "accept", "finish", "fail", "recover"]),
        st.integers(0, 2),
        st.booleans(),
    ),
    max_size=40,
)


@given(_moves)
def test_no_sequence_of_moves_reaches_an_undeclared_state(
    moves: list[tuple[str, int, bool]],
) -> None:
    """Whatever happens, done chunks stay done and recover() leaves nothing in flight."""
    b = book()
    done_once: set[int] = set()
    for action, index, flag in moves:
        try:
            if action == "dispatch":
                b.dispatch(index, 1.0)
            elif action == "release":
                b.release(index, 1.0)
            elif action == "accept":
                b.accept(index, "{}", 1.0)
            elif action == "finish":
                b.finish(index, [Outcome(ItemStatus.DONE)] * 10, 1.0)
            elif action == "fail":
                b.fail(index, "e", 1.0, unknown=flag)
            else:
                b.recover(1.0)
        except IllegalTransitionError:
            pass
        for record in b:
            if record.index in done_once:
                assert record.status is D
            if record.status is D:
                done_once.add(record.index)
    b.recover(2.0)
    assert all(r.status is not F for r in b)
    assert not set(b.to_run(resend_unknown=True)) & done_once


def test_outcome_encoding_round_trips() -> None:
    outcomes = [
        Outcome(ItemStatus.DONE),
        Outcome(ItemStatus.NOT_FOUND),
        Outcome(ItemStatus.FAILED, "unknown custom property 'tier'"),
    ]
    letters, reasons = encode_outcomes(outcomes)
    assert letters == "DNF"
    assert decode_outcomes(letters, reasons) == outcomes


def test_a_done_chunk_retries_only_its_failed_items_and_keeps_the_other_outcomes() -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    b.finish(0, [Outcome(ItemStatus.DONE)] * 8 + [Outcome(ItemStatus.FAILED, "bad")] * 2, 2.0)
    assert b.to_run(resend_unknown=True) == []
    assert b.to_run(resend_unknown=False, retry_failed_items=True) == [0]
    b.dispatch(0, 3.0)
    assert b[0].to_send == [8, 9]
    b.recover(4.0)  # a crash during the retry: only the retried items are in doubt
    assert b[0].status is U
    assert b[0].to_send == [8, 9]
    b.dispatch(0, 5.0)
    record = b.finish(0, [Outcome(ItemStatus.DONE), Outcome(ItemStatus.FAILED, "still")], 6.0)
    assert record.outcomes == "DDDDDDDDDF"
    assert decode_outcomes(record.outcomes, record.reasons)[9].reason == "still"


# -- what each item's state is, from its chunk's record ----------------------------------------


def labels(record: ChunkRecord) -> str:
    return "".join(outcome.status.value for outcome in item_outcomes(record))


def test_the_items_of_a_chunk_not_sent_yet_are_pending() -> None:
    assert labels(book(1)[0]) == "P" * 10


def test_the_items_of_a_done_chunk_have_their_recorded_outcomes_and_reasons() -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    outcomes = [Outcome(ItemStatus.DONE)] * 8 + [
        Outcome(ItemStatus.NOT_FOUND),
        Outcome(ItemStatus.SKIPPED, "status is optout"),
    ]
    assert item_outcomes(b.finish(0, outcomes, 2.0)) == outcomes


@pytest.mark.parametrize(
    ("unknown", "expected"),
    [
        (True, Outcome(ItemStatus.UNKNOWN, "timeout")),
        (False, Outcome(ItemStatus.FAILED, "timeout")),
    ],
)
def test_the_items_of_a_failed_or_unknown_chunk_carry_the_chunks_error(
    unknown: bool, expected: Outcome
) -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    assert item_outcomes(b.fail(0, "timeout", 2.0, unknown=unknown)) == [expected] * 10


def test_the_items_of_a_chunk_in_flight_are_unknown_since_they_may_have_been_processed() -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    [outcome] = set(item_outcomes(b[0]))
    assert outcome.status is ItemStatus.UNKNOWN
    assert outcome.reason is not None
    assert "in flight" in outcome.reason


def test_the_items_of_an_accepted_chunk_are_pending_until_a_rerun_follows_it_up() -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    [outcome] = set(item_outcomes(b.accept(0, '{"batch_task_id": "bt_1"}', 2.0)))
    assert outcome.status is ItemStatus.PENDING
    assert outcome.reason is not None
    assert "accepted" in outcome.reason


def test_a_retry_of_failed_items_puts_only_those_in_doubt() -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    b.finish(0, [Outcome(ItemStatus.DONE)] * 8 + [Outcome(ItemStatus.FAILED, "bad")] * 2, 2.0)
    b.dispatch(0, 3.0)
    assert labels(b[0]) == "D" * 8 + "UU"
    assert labels(b.fail(0, "400", 4.0, unknown=False)) == "D" * 8 + "FF"
    assert item_outcomes(b[0])[9] == Outcome(ItemStatus.FAILED, "400")


@given(_moves)
def test_item_counts_always_count_item_outcomes(moves: list[tuple[str, int, bool]]) -> None:
    b = book()
    for action, index, flag in moves:
        try:
            if action == "dispatch":
                b.dispatch(index, 1.0)
            elif action == "release":
                b.release(index, 1.0)
            elif action == "accept":
                b.accept(index, "{}", 1.0)
            elif action == "finish":
                sent = len(b[index].to_send)
                b.finish(
                    index, [Outcome(ItemStatus.FAILED if flag else ItemStatus.DONE)] * sent, 1.0
                )
            elif action == "fail":
                b.fail(index, "e", 1.0, unknown=flag)
            else:
                b.recover(1.0)
        except IllegalTransitionError:
            pass
        for record in b:
            counted = Counter(o.status for o in item_outcomes(record))
            assert item_counts(record) == {s: counted[s] for s in ItemStatus}
            assert sum(item_counts(record).values()) == record.size


# -- records that no journal can contain: a damaged file ---------------------------------------


def test_a_sound_record_has_no_problem() -> None:
    b = book(1)
    b.dispatch(0, 1.0)
    assert record_problem(b.finish(0, [Outcome(ItemStatus.DONE, "ok")] * 10, 2.0)) is None
    assert records_problem(list(book(3)), total=30) is None


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        (ChunkRecord(0, 5, 2), "impossible positions"),
        (ChunkRecord(0, 0, 3, D, outcomes="DD"), "2 outcomes for 3 items"),
        (ChunkRecord(0, 0, 3, D, outcomes="DZD"), "unknown outcome letters"),
        (ChunkRecord(0, 0, 3, D), "no outcomes though it is done"),
        (ChunkRecord(0, 0, 3, D, outcomes="DDD", reasons="[1]"), "not a JSON object"),
        (ChunkRecord(0, 0, 3, D, outcomes="DDD", reasons="{"), "not a JSON object"),
    ],
)
def test_an_impossible_record_is_named(record: ChunkRecord, fragment: str) -> None:
    problem = record_problem(record)
    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize(
    ("ranges", "total", "fragment"),
    [
        ([range(0, 10), range(20, 30)], 30, "starts at item 20, not 10"),
        ([range(0, 10), range(10, 20)], 30, "cover 20 items, not the 30"),
    ],
)
def test_chunks_that_do_not_cover_the_items_once_are_named(
    ranges: list[range], total: int, fragment: str
) -> None:
    problem = records_problem(list(ChunkBook.from_ranges(ranges)), total)
    assert problem is not None
    assert fragment in problem


def test_a_missing_chunk_is_named() -> None:
    records = list(book(3))
    problem = records_problem([records[0], records[2]], total=30)
    assert problem == "chunk 1 is missing"
