"""``_accounting.check_accounted``: which answers account for a chunk, as a table (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from inro_async.jobs._accounting import (
    UnaccountedAnswerError,
    check_accounted,
    distinct_at_least,
)
from inro_async.jobs._items import Identifier, PlainIds, outcomes_from_echoes
from inro_async.jobs._operation import may_have_been_processed

IDS = PlainIds([1, 2, 3, 4])
MIXED = [Identifier("id", 1), Identifier("username", "ana"), Identifier("email", "b@x.io")]


def check(sent: Any, echoes: dict[str, Any], counts: dict[str, int]) -> None:
    """``echoes``: the answer's ``not_found``/``skipped`` lists; ``counts``: its counts."""
    outcomes = outcomes_from_echoes(sent, **echoes)
    check_accounted(
        "recipients",
        method="POST",
        path="/messages",
        sent=sent,
        outcomes=outcomes,
        **counts,
    )


@pytest.mark.parametrize(
    ("sent", "echoes", "counts"),
    [
        (IDS, {}, {"accepted": 4}),
        (IDS, {"not_found": [{"id": 2}]}, {"accepted": 3, "not_found": 1}),
        (IDS, {"not_found": [{"id": 2}]}, {"accepted": 3}),  # a count left out: the echo says
        (IDS, {"skipped": [{"id": 1, "reason": "optout"}]}, {"accepted": 3, "skipped": 1}),
        (IDS, {"not_found": [{"id": i} for i in (1, 2, 3, 4)]}, {"accepted": 0, "not_found": 4}),
        # Three names, at most three contacts, at least one: accepted once is possible.
        (MIXED, {}, {"accepted": 1}),
        (MIXED, {}, {"accepted": 3}),
        # Two usernames that differ only by case may be one contact.
        ([Identifier("username", "Ana"), Identifier("username", "ana")], {}, {"accepted": 1}),
    ],
)
def test_answers_that_add_up(
    sent: object, echoes: dict[str, object], counts: dict[str, int]
) -> None:
    check(sent, echoes, counts)


@pytest.mark.parametrize(
    ("sent", "echoes", "counts", "says"),
    [
        (IDS, {}, {"accepted": 0}, "accounts for 0 of the 4 recipients sent"),
        (IDS, {}, {"accepted": 3}, "accounts for 3 of the 4"),  # ids are distinct contacts
        (IDS, {}, {"accepted": 5}, "accounts for 5 of the 4"),
        (IDS, {}, {"accepted": 2, "not_found": 2}, "counts 2 not found but names 0 of them"),
        (IDS, {}, {"accepted": 3, "skipped": 1}, "counts 1 skipped but names 0 of them"),
        (MIXED, {}, {"accepted": 0}, "accounts for 0 of the 3"),
        (
            [Identifier("username", "ana"), Identifier("username", "bo")],
            {},
            {"accepted": 1},
            "1 of",
        ),
    ],
)
def test_answers_that_do_not_add_up_raise_saying_what(
    sent: object, echoes: dict[str, object], counts: dict[str, int], says: str
) -> None:
    with pytest.raises(UnaccountedAnswerError, match=says) as caught:
        check(sent, echoes, counts)
    assert "may have been processed" in str(caught.value)
    assert "(POST /messages)" in str(caught.value)
    assert may_have_been_processed(caught.value)


def test_distinct_at_least_counts_the_largest_kind_case_blind() -> None:
    assert distinct_at_least([]) == 0
    assert distinct_at_least(IDS) == 4
    assert distinct_at_least(MIXED) == 1
    names = [Identifier("username", n) for n in ("Ana", "ana", "bo")]
    assert distinct_at_least([*names, Identifier("id", 7)]) == 2
