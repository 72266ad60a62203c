"""The journal: its state machine (pure) and its SQLite store (a real file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inro_async.errors import InvalidArgumentError
from inro_async.jobs._items import ItemStatus, Outcome
from inro_async.jobs._journal import (
    ChunkBook,
    ChunkStatus,
    IllegalTransitionError,
    JobLockedError,
    JobMismatchError,
    Journal,
    JournalMeta,
    MemoryStore,
    SqliteStore,
    decode_outcomes,
    encode_outcomes,
    journal_path,
)

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


def meta(
    kind: str = "send_many", payload: str = "p", items: str = "i", total: int = 30
) -> JournalMeta:
    return JournalMeta(kind=kind, payload_fingerprint=payload, items_fingerprint=items, total=total)


def ranges(n: int = 3) -> list[range]:
    return [range(i * 10, i * 10 + 10) for i in range(n)]


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


# -- the SQLite store --------------------------------------------------------------------------


def test_a_sqlite_journal_survives_reopening_and_recovers_in_flight_chunks(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite3"
    journal = Journal(SqliteStore(path), meta(), ranges(), name="job")
    assert not journal.resumed
    journal.dispatch(0)
    journal.finish(0, [Outcome(ItemStatus.DONE)] * 10)
    journal.dispatch(1)  # the process "dies" here, mid-request
    journal.close()

    reopened = Journal(SqliteStore(path), meta(), ranges(), name="job")
    assert reopened.resumed
    assert [r.status for r in reopened.book] == [D, U, P]
    assert reopened.book[1].error == "interrupted while in flight"
    assert reopened.book[0].attempts == 1
    reopened.close()


def test_a_second_process_cannot_open_a_running_job(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite3"
    first = SqliteStore(path)
    try:
        with pytest.raises(JobLockedError, match="in use by pid"):
            SqliteStore(path)
    finally:
        first.close()
    SqliteStore(path).close()  # released on close


@pytest.mark.parametrize(
    ("changed", "fragment"),
    [
        (meta(payload="other"), "different message"),
        (meta(items="other"), "different list of items"),
        (meta(kind="update_many"), "is a send_many job, not update_many"),
    ],
)
def test_same_name_different_job_refuses_to_resume(
    tmp_path: Path, changed: JournalMeta, fragment: str
) -> None:
    path = tmp_path / "job.sqlite3"
    Journal(SqliteStore(path), meta(), ranges(), name="newsletter").close()
    store = SqliteStore(path)
    with pytest.raises(JobMismatchError, match=fragment):
        Journal(store, changed, ranges(), name="newsletter")
    store.close()


def test_memory_store_keeps_the_same_bookkeeping_without_a_file() -> None:
    store = MemoryStore()
    journal = Journal(store, meta(), ranges())
    journal.dispatch(2)
    assert store.records[2].status is F
    assert store.saves == 1


def test_job_names_go_to_the_jobs_directory_and_paths_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INRO_JOBS_DIR", str(tmp_path))
    assert journal_path("newsletter-2026") == tmp_path / "newsletter-2026.sqlite3"
    assert journal_path("runs/a.db") == Path("runs/a.db")
    assert journal_path(tmp_path / "x") == tmp_path / "x"
    with pytest.raises(InvalidArgumentError, match="job"):
        journal_path("no spaces please")


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
