"""One set of identifier rules: resources and jobs refuse the same ids, usernames and emails.

Every way of naming a contact (``contacts.get``, ``messages.send``, a bulk entry, a trigger,
``send_many``, ``update_many``, ``trigger_many``) refuses a bad value with
``InvalidArgumentError`` before anything is sent, naming where the value was and giving the
same rule in the same words.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from inro_async import InvalidArgumentError
from inro_async._validate_contacts import one_identifier
from inro_async.client import Client
from inro_async.jobs._items import Identifier, normalize_recipient

from ._mock import MockAPI

BAD_IDS = ["42", 0, -1, True, 1.5]
BAD_USERNAMES = [
    "",
    "@jane",
    "ja ne",
    " jane",
    "jane\n",
    "ja\x00ne",
    "ja\tne",
    "jane\u200b",  # a zero-width space: invisible, and not in any handle
    "ja\ud800ne",  # a lone surrogate: not text at all
    "jane@x",
    "ja-ne",
    "j" * 31,
]
BAD_EMAILS = [
    "",
    "a b@x.com",
    "@x.com",
    "a@",
    "nope",
    "a@b@x.com",
    "a@x.com\n",
    "a\x00@x.com",
    "a\udc80@x.com",
    " a@x.com",
    f"{'a' * 250}@x.com",
]
BAD = [
    *(("id", value) for value in BAD_IDS),
    *(("username", value) for value in BAD_USERNAMES),
    *(("email", value) for value in BAD_EMAILS),
]

Call = Callable[[Client, str, Any], Any]
"""A call naming one contact by ``kind`` (``"id"``, ``"username"``, ``"email"``) = ``value``."""

CONTACT = {"notes": "x"}
PLURAL = {"id": "contact_ids", "username": "contact_usernames", "email": "contact_emails"}

ENTRY_POINTS: dict[str, tuple[Call, Callable[[str], str]]] = {
    # name: (the call, the argument its error names, from the kind)
    "contacts.get": (lambda c, k, v: c.contacts.get(**{k: v}), lambda k: k),
    "contacts.update_by": (
        lambda c, k, v: c.contacts.update_by(**{k: v}, phone="+1"),
        lambda k: k,
    ),
    "contacts.bulk_update": (
        lambda c, k, v: c.contacts.bulk_update([{k: v, "contact": CONTACT}]),
        lambda k: f"entries[0].{k}",
    ),
    "messages.send, singular": (
        lambda c, k, v: c.messages.send(**{f"contact_{k}": v}, text="hi"),
        lambda k: f"contact_{k}",
    ),
    "messages.send, plural": (
        lambda c, k, v: c.messages.send(**{PLURAL[k]: [v]}, text="hi"),
        lambda k: f"{PLURAL[k]}[0]",
    ),
    "scenarios.trigger": (
        lambda c, k, v: c.scenarios.trigger(1, contacts=[{k: v}]),
        lambda k: "contacts[0]",
    ),
    "campaigns.test": (lambda c, k, v: c.campaigns.test(1, **{k: v}), lambda k: k),
    "messages.send_many": (
        lambda c, k, v: c.messages.send_many([{k: v}], text="hi"),
        lambda k: "recipients[0]",
    ),
    "contacts.update_many": (
        lambda c, k, v: c.contacts.update_many([{k: v, "contact": CONTACT}]),
        lambda k: "updates[0]",
    ),
    "scenarios.trigger_many": (
        lambda c, k, v: c.scenarios.trigger_many(1, [{k: v}]),
        lambda k: "contacts[0]",
    ),
}


async def attempt(client: Client, call: Call, kind: str, value: object) -> None:
    """Make the call, and await it when it is a coroutine (jobs return a ``Job`` at once)."""
    result = call(client, kind, value)
    if inspect.isawaitable(result):
        await result


async def refusal(client: Client, call: Call, kind: str, value: object) -> InvalidArgumentError:
    """The error ``call`` raises, whether it raises at once (jobs) or when awaited."""
    with pytest.raises(InvalidArgumentError) as caught:
        await attempt(client, call, kind, value)
    return caught.value


@pytest.mark.parametrize(("kind", "value"), BAD)
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
async def test_every_entry_point_refuses_a_bad_identifier_with_the_same_rule_unsent(
    api: MockAPI, client: Client, entry_point: str, kind: str, value: object
) -> None:
    call, argument = ENTRY_POINTS[entry_point]
    reference = await refusal(client, ENTRY_POINTS["contacts.get"][0], kind, value)
    error = await refusal(client, call, kind, value)
    assert argument(kind) == error.argument
    assert error.rule.endswith(reference.rule)  # jobs say "username cannot…", trigger "username: …"
    assert api.requests == []


@pytest.mark.parametrize(
    "value", ["@jane", " jane", "jane\n", "ja ne", "ja-ne", " a@x.com", "a b@x.com", "a@x.com\n"]
)
async def test_a_bare_string_recipient_is_held_to_the_same_rules(
    api: MockAPI, client: Client, value: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        client.messages.send_many([1, value], text="hi")
    assert caught.value.argument == "recipients[1]"
    assert api.requests == []


GOOD = [
    ("id", 42),
    ("id", 2**31 - 1),
    ("username", "jane"),
    ("username", "jane.doe_99"),
    ("username", "1234"),  # digits only: still a handle, never an id
    ("username", "j" * 30),
    ("email", "ana@example.com"),
    ("email", "ana+crm@mail.example.co.uk"),
    ("email", "zoë@exämple.de"),  # internationalized addresses are printable text
]


@pytest.mark.parametrize(("kind", "value"), GOOD)
def test_resources_and_jobs_accept_the_same_good_identifiers_unchanged(
    kind: str, value: int | str
) -> None:
    assert one_identifier(**{kind: value}) == {kind: value}
    assert normalize_recipient({kind: value}) == Identifier(kind, value)  # type: ignore[arg-type]
