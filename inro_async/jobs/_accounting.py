"""Sans-I/O: whether an answer accounts for every item a chunk sent, before any is called done.

A 2xx alone proves only that the request arrived: a proxy, a cache or a gateway can answer 200
with ``{}`` or ``{"error": "…"}`` for a request the API did process. An item is ``done`` only
when the answer accounts for it: its counts (accepted + skipped + not found) add up to what was
sent, and every item it counts as skipped or not found it also names. Otherwise the chunk raises
``UnaccountedAnswerError``, which the engine records as ``unknown`` (the request was processed or
may have been): never ``done``, and never sent again blindly by a rerun.

One allowance: the API delivers once to a contact named twice in one call (its id and its
username, say), so ``accepted`` may fall short of the recipients left, but never below the
number of them that are certainly distinct contacts.
"""

from __future__ import annotations

from collections.abc import Sequence

from inro_async.errors import UnaccountedAnswerError
from inro_async.jobs._items import Identifier, ItemStatus, Outcome

__all__ = ["UnaccountedAnswerError", "check_accounted", "distinct_at_least"]

_DONE = Outcome(ItemStatus.DONE)
_NOT_FOUND = Outcome(ItemStatus.NOT_FOUND)


def distinct_at_least(identifiers: Sequence[Identifier]) -> int:
    """How many different contacts ``identifiers`` name at the very least.

    Ids that differ are different contacts, and so are usernames (or emails) that differ other
    than by case; an id and a username may name one contact, so only the largest kind counts.
    """
    values: dict[str, set[object]] = {}
    for kind, value in identifiers:
        values.setdefault(kind, set()).add(value.casefold() if isinstance(value, str) else value)
    return max(map(len, values.values()), default=0)


def check_accounted(
    what: str,
    *,
    method: str,
    path: str,
    sent: Sequence[Identifier],
    outcomes: Sequence[Outcome],
    accepted: int,
    skipped: int = 0,
    not_found: int = 0,
) -> None:
    """Raise ``UnaccountedAnswerError`` unless the answer's counts account for ``sent``.

    ``outcomes`` are what the answer's echoes made of the items (``not_found``/``skipped`` where
    an echo named one, ``done`` otherwise: no other status); ``accepted``, ``skipped`` and
    ``not_found`` are the answer's counts; ``what`` names the items (``recipients``). A count
    smaller than the items echoed is read as the echoes (a count may be left out); a count
    larger than them means items were counted that the answer does not name.
    """
    # Counted by equality, in C: Enum hashing would cost ~1 ms per 1,000-item chunk.
    left = outcomes.count(_DONE)
    named_not_found = outcomes.count(_NOT_FOUND) if left < len(outcomes) else 0
    named_skipped = len(outcomes) - left - named_not_found
    not_found, skipped = max(not_found, named_not_found), max(skipped, named_skipped)
    problem: str | None = None
    if not_found > named_not_found or skipped > named_skipped:
        counted, named, label = (
            (not_found, named_not_found, "not found")
            if not_found > named_not_found
            else (skipped, named_skipped, "skipped")
        )
        problem = f"counts {counted:,} {label} but names {named:,} of them"
    elif accepted != left and not (accepted < left and accepted >= _distinct_left(sent, outcomes)):
        problem = (
            f"accounts for {accepted + skipped + not_found:,} of the {len(sent):,} {what} "
            f"sent ({accepted:,} accepted, {skipped:,} skipped, {not_found:,} not found)"
        )
    if problem is not None:
        raise UnaccountedAnswerError(
            f"the 2xx answer {problem}, so which of them it acted on cannot be told; it may "
            f"have been processed: check before sending them again",
            method=method,
            path=path,
        )


def _distinct_left(sent: Sequence[Identifier], outcomes: Sequence[Outcome]) -> int:
    """``distinct_at_least`` of the items the answer's echoes left ``done``."""
    done = ItemStatus.DONE  # looked up once: an Enum member lookup per item costs ~1 µs
    return distinct_at_least([i for i, o in zip(sent, outcomes, strict=True) if o.status is done])
