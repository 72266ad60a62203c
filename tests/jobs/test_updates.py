"""update_many's pure parts: entry forms, validation, merging repeats, batch-task mapping."""

from __future__ import annotations

import pytest

from inro_async.errors import InvalidArgumentError
from inro_async.jobs._items import Identifier, ItemStatus, Outcome
from inro_async.jobs.contacts import (
    UpdateEntry,
    normalize_update,
    normalize_updates,
    outcomes_from_batch,
    update_ranges,
)


def test_bulk_entries_and_pairs_are_both_accepted() -> None:
    wire = normalize_update({"email": "a@b.co", "contact": {"phone": "+1 555"}}, 0)
    pair = normalize_update(("a@b.co", {"phone": "+1 555"}), 1)
    assert wire == pair == UpdateEntry(Identifier("email", "a@b.co"), {"phone": "+1 555"})
    assert wire.as_entry() == {"email": "a@b.co", "contact": {"phone": "+1 555"}}


@pytest.mark.parametrize(
    ("item", "argument", "fragment"),
    [
        ({"id": 1}, "updates[0]", "expected"),
        ({"id": 1, "contact": {}}, "updates[0].contact", "nothing to update"),
        ({"id": 1, "contact": {"name": "Bo"}}, "updates[0].contact.name", "not updatable"),
        ({"id": 1, "contact": {"status": "inactive"}}, "updates[0].contact.status", "optout"),
        ({"id": 1, "contact": {"folder_ids": [0]}}, "updates[0].contact.folder_ids[0]", "positive"),
        ({"id": 1, "contact": {"phone": 5}}, "updates[0].contact", r"\$\.phone"),
        ({"id": 1, "username": "x", "contact": {"phone": "1"}}, "updates[0]", "exactly one"),
        (("@handle", {"phone": "1"}), "updates[0]", "without '@'"),
        ("just a string", "updates[0]", "got str"),
    ],
)
def test_bad_updates_are_refused_before_anything_is_sent(
    item: object, argument: str, fragment: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=fragment) as caught:
        normalize_updates([item])
    assert caught.value.argument == argument


def test_two_updates_of_one_contact_merge_as_if_applied_in_order() -> None:
    unique = normalize_updates(
        [
            (1, {"phone": "1", "custom_properties": {"tier": "gold", "city": "Oslo"}}),
            (2, {"notes": "x"}),
            (1, {"phone": "2", "custom_properties": {"tier": None}}),
        ]
    )
    assert unique.duplicates == 1
    assert unique.keys[0].contact == {
        "phone": "2",
        "custom_properties": {"tier": None, "city": "Oslo"},
    }


def test_the_models_contact_update_is_accepted_as_the_change() -> None:
    from inro_async.models.contacts import ContactUpdate

    entry = normalize_update((7, ContactUpdate(phone="+1 555", notes=None)), 0)
    assert entry.contact == {"phone": "+1 555", "notes": None}  # None clears, unset is left out


def test_per_contact_updates_go_after_the_bulk_chunks_one_per_chunk() -> None:
    single_only = frozenset({"name"})
    unique = normalize_updates(
        [(1, {"name": "A"}), (2, {"phone": "2"}), (3, {"phone": "3"}), (4, {"name": "D"})],
        single_only,
    )
    assert [u.identifier.value for u in unique.keys] == [2, 3, 1, 4]
    assert update_ranges(unique.keys, 1000) == [range(0, 2), range(2, 3), range(3, 4)]


def test_batch_task_errors_and_not_found_map_back_per_entry() -> None:
    sent = [
        UpdateEntry(Identifier("id", 1), {"notes": "a"}),
        UpdateEntry(Identifier("email", "gone@x.io"), {"notes": "b"}),
        UpdateEntry(Identifier("username", "cy"), {"custom_properties": {"nope": 1}}),
        UpdateEntry(Identifier("id", 4), {"notes": "d"}),
    ]
    outcomes = outcomes_from_batch(
        sent,
        not_found=[{"email": "gone@x.io"}],
        task_status="completed",
        errors=[
            {"index": 2, "identifier": {"username": "cy"}, "error": "unknown custom property"},
            {"index": 3, "error": "phone is invalid"},
        ],
    )
    assert outcomes == [
        Outcome(ItemStatus.DONE),
        Outcome(ItemStatus.NOT_FOUND),
        Outcome(ItemStatus.FAILED, "unknown custom property"),
        Outcome(ItemStatus.FAILED, "phone is invalid"),
    ]


def test_a_failed_task_without_itemised_errors_fails_every_accepted_entry() -> None:
    sent = [UpdateEntry(Identifier("id", i), {"notes": "n"}) for i in (1, 2)]
    outcomes = outcomes_from_batch(sent, not_found=[{"id": 2}], task_status="failed", errors=[])
    assert [o.status for o in outcomes] == [ItemStatus.FAILED, ItemStatus.NOT_FOUND]


def test_a_reason_names_the_input_items_of_a_merged_entry_not_the_request_index() -> None:
    sent = [UpdateEntry(Identifier("id", i), {"folder_ids": [9]}) for i in (1, 2)]
    outcomes = outcomes_from_batch(
        sent,
        not_found=[],
        task_status="completed",
        errors=[
            {"index": 1, "error": "contacts[1]: unknown folder id(s) [9]"},
            {"index": 0, "error": "phone is invalid"},
        ],
        inputs={Identifier("id", 1): [1_500], Identifier("id", 2): [3, 1_800]},
    )
    assert [o.reason for o in outcomes] == [
        "phone is invalid",  # names no index: nothing to translate
        "updates[3] and updates[1800]: unknown folder id(s) [9]",
    ]
