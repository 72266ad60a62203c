"""Recipient normalization, dedupe, chunking and answer mapping: pure functions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inro_async.errors import InvalidArgumentError
from inro_async.jobs._items import (
    MAX_CHUNK,
    Identifier,
    ItemStatus,
    Outcome,
    PlainIds,
    chunk_ranges,
    dedupe,
    identifier_keys_text,
    normalize_recipient,
    normalize_recipients,
    outcomes_from_echoes,
    recipient_lists,
)


@dataclass
class FakeContact:
    id: int
    username: str = "someone"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (42, Identifier("id", 42)),
        ("ana.silva", Identifier("username", "ana.silva")),
        ("ana@example.com", Identifier("email", "ana@example.com")),
        ({"id": 7}, Identifier("id", 7)),
        ({"username": "bo"}, Identifier("username", "bo")),
        ({"email": "x@y.io", "id": None}, Identifier("email", "x@y.io")),
        (FakeContact(id=9), Identifier("id", 9)),
        (Identifier("email", "a@b.c"), Identifier("email", "a@b.c")),
    ],
)
def test_recipient_forms_normalize_to_one_identifier(item: object, expected: Identifier) -> None:
    assert normalize_recipient(item) == expected


def test_numeric_string_stays_a_username_because_ids_are_integers() -> None:
    assert normalize_recipient("12345") == Identifier("username", "12345")


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ("@ana", "without '@'"),
        ("", "non-empty"),
        (0, "positive integer"),
        (-3, "positive integer"),
        (True, "expected an id"),
        ({"id": 1, "email": "a@b.c"}, "exactly one"),
        ({}, "exactly one"),
        ({"user": "ana"}, "unexpected key 'user'"),
        ({"email": "not-an-email"}, "not an email"),
        ({"username": "a@b"}, "cannot contain '@'"),
        ({"id": "7"}, "id must be a positive integer, got '7'"),
        ("  ana  ", "cannot contain spaces"),
        ("ana\n", "control characters"),
        ({"email": "@x.com"}, "not an email address"),
        ("a b@x.com", "cannot contain spaces"),
        ("-1", "only letters, digits"),
        (3.5, "got float"),
        (None, "got NoneType"),
    ],
)
def test_bad_recipient_is_refused_with_a_clear_rule(item: object, fragment: str) -> None:
    with pytest.raises(InvalidArgumentError, match=fragment):
        normalize_recipient(item)


def test_error_names_the_index_of_the_bad_item() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        normalize_recipients([1, 2, "ok", "@bad", 5])
    assert caught.value.argument == "recipients[3]"


def test_empty_recipient_list_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        normalize_recipients([])


def test_a_recipient_listed_twice_is_kept_once_with_its_first_form() -> None:
    unique = normalize_recipients([1, "ana", {"id": 1}, "ana", "b@c.d"])
    assert unique.keys == [
        Identifier("id", 1),
        Identifier("username", "ana"),
        Identifier("email", "b@c.d"),
    ]
    assert unique.originals == [1, "ana", "b@c.d"]
    assert unique.duplicates == 2


def test_id_and_username_of_one_contact_cannot_be_merged_client_side() -> None:
    unique = normalize_recipients([1, "ana"])
    assert len(unique.keys) == 2


def test_25000_recipients_make_25_chunks_of_1000() -> None:
    ranges = chunk_ranges(25_000)
    assert len(ranges) == 25
    assert {len(r) for r in ranges} == {1000}


@given(
    count=st.integers(min_value=0, max_value=20_000),
    size=st.integers(min_value=1, max_value=MAX_CHUNK),
)
def test_chunking_never_loses_or_duplicates_an_item(count: int, size: int) -> None:
    ranges = chunk_ranges(count, size)
    positions = [p for r in ranges for p in r]
    assert positions == list(range(count))
    assert all(1 <= len(r) <= size for r in ranges)
    assert len(ranges) == math.ceil(count / size)


@given(
    st.lists(
        st.one_of(st.integers(1, 50), st.sampled_from(["a", "b", "c@d.e", "f"])),
        min_size=1,
        max_size=300,
    )
)
def test_dedupe_then_chunk_covers_each_distinct_recipient_exactly_once(items: list[object]) -> None:
    unique = normalize_recipients(items)
    chunks = [unique.keys[r.start : r.stop] for r in chunk_ranges(len(unique.keys), 7)]
    flat = [ident for chunk in chunks for ident in chunk]
    assert len(flat) == len(set(flat)) == len({normalize_recipient(i) for i in items})


@pytest.mark.parametrize("size", [0, 1001, -1])
def test_chunk_size_over_the_api_cap_is_impossible(size: int) -> None:
    with pytest.raises(InvalidArgumentError, match="chunk_size"):
        chunk_ranges(10, size)


def test_one_call_combines_the_three_plural_lists() -> None:
    idents = [
        Identifier("id", 1),
        Identifier("email", "a@b.c"),
        Identifier("username", "u"),
        Identifier("id", 2),
    ]
    assert recipient_lists(idents) == {
        "contact_ids": [1, 2],
        "contact_usernames": ["u"],
        "contact_emails": ["a@b.c"],
    }


def test_dedupe_counts_repeats() -> None:
    unique = dedupe(["a", "b", "a", "a"], [1, 2, 3, 4])
    assert (unique.keys, unique.originals, unique.duplicates) == (["a", "b"], [1, 2], 2)


def test_answer_echoes_map_back_to_each_item() -> None:
    sent = [
        Identifier("id", 1),
        Identifier("username", "bo"),
        Identifier("email", "c@d.e"),
        Identifier("id", 4),
    ]
    outcomes = outcomes_from_echoes(
        sent,
        not_found=[{"id": 4}, {"email": "nobody@x.y"}],
        skipped=[{"username": "bo", "reason": "status is optout"}],
    )
    assert outcomes == [
        Outcome(ItemStatus.DONE),
        Outcome(ItemStatus.SKIPPED, "status is optout"),
        Outcome(ItemStatus.DONE),
        Outcome(ItemStatus.NOT_FOUND),
    ]


def test_echoes_may_be_model_objects_and_ids_may_come_back_as_strings() -> None:
    @dataclass
    class Echo:
        id: str | None = None
        username: str | None = None
        reason: str | None = None

    outcomes = outcomes_from_echoes(
        [Identifier("id", 5), Identifier("username", "z")],
        not_found=[Echo(id="5")],
        skipped=[Echo(username="z", reason="inactive")],
    )
    assert [o.status for o in outcomes] == [ItemStatus.NOT_FOUND, ItemStatus.SKIPPED]


def test_send_many_checks_the_whole_input_before_any_request() -> None:
    from inro_async.jobs import send_many

    client: object = None  # never used: validation comes first
    with pytest.raises(InvalidArgumentError, match="text"):
        send_many(client, [1, 2], text=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError) as caught:
        send_many(client, [1, 2, "@ana"], text="hi")  # type: ignore[arg-type]
    assert caught.value.argument == "recipients[2]"
    with pytest.raises(InvalidArgumentError, match="not a single one"):
        send_many(client, "ana", text="hi")  # type: ignore[arg-type]


# -- the C-speed paths for plain ids agree with the general ones ------------------------------


def _general_recipient_lists(idents: list[Identifier]) -> dict[str, list[int | str]]:
    fields = {"id": "contact_ids", "username": "contact_usernames", "email": "contact_emails"}
    lists: dict[str, list[int | str]] = {}
    for ident in idents:
        lists.setdefault(fields[ident.kind], []).append(ident.value)
    return lists


@given(
    st.lists(
        st.one_of(st.integers(1, 10**12), st.sampled_from(["ana", "bo", "c@d.e"])),
        min_size=1,
        max_size=60,
    )
)
def test_plain_ids_take_the_fast_path_to_the_same_answer(items: list[object]) -> None:
    unique = normalize_recipients(items)
    assert unique.keys == [normalize_recipient(i) for i in dict.fromkeys(items)]
    assert all(type(key) is Identifier for key in unique.keys)
    assert recipient_lists(unique.keys) == _general_recipient_lists(unique.keys)
    echoes = [{"id": key.value} for key in unique.keys[::3] if key.kind == "id"]
    outcomes = outcomes_from_echoes(unique.keys, not_found=echoes)
    expected_missing = {Identifier("id", e["id"]) for e in echoes}
    assert [o.status for o in outcomes] == [
        ItemStatus.NOT_FOUND if key in expected_missing else ItemStatus.DONE for key in unique.keys
    ]


@pytest.mark.parametrize(
    ("items", "index"), [([1, 2, 0], 2), ([5, True, 6], 1), ([3, -4], 1), ([1, 2.0], 1)]
)
def test_a_bad_id_among_plain_ints_is_still_named(items: list[object], index: int) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"recipients\[{index}\]"):
        normalize_recipients(items)


@given(st.lists(st.integers(1, 10**15), min_size=1, max_size=80))
def test_plain_ids_read_exactly_like_a_list_of_identifiers(ids: list[int]) -> None:
    unique = normalize_recipients(ids)
    assert isinstance(unique.keys, PlainIds)
    as_list = [Identifier("id", i) for i in dict.fromkeys(ids)]
    assert list(unique.keys) == as_list
    assert unique.keys == as_list
    assert unique.keys[1:4] == as_list[1:4]
    assert unique.keys[-1] == as_list[-1]
    assert unique.duplicates == len(ids) - len(as_list)
    assert list(unique.originals) == list(dict.fromkeys(ids))
    # A journal written from either form matches the other on resume.
    assert identifier_keys_text(unique.keys) == identifier_keys_text(as_list)
    assert recipient_lists(unique.keys[:7]) == recipient_lists(as_list[:7])
