"""A single ``messages.send`` is held to send_many's accounting rule (issue 15 #2, both paths).

An answer is success only when it accounts for every recipient sent: its counts add up, and
whoever it counts as skipped or not found it names. The fake's ``unaccounted`` fault delivers the
message and then answers 200 with the body given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from inro_async import Client, UnaccountedAnswerError
from inro_async.testing import FakeInro
from loopback.conftest import active_contact

TOKEN = "single-send-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeInro]:
    server = FakeInro()
    server.add_organization(TOKEN, plan="pro", contacts=50, seed=3)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def inro(fake: FakeInro) -> AsyncIterator[Client]:
    async with Client(TOKEN, base_url=fake.base_url) as client:
        yield client


def answer(accepted: int, **more: Any) -> dict[str, Any]:
    return {
        "accepted_count": accepted,
        "skipped_count": more.get("skipped_count", len(more.get("skipped", []))),
        "not_found_count": more.get("not_found_count", len(more.get("not_found", []))),
        "skipped": more.get("skipped", []),
        "not_found": more.get("not_found", []),
    }


@pytest.mark.parametrize(
    "body",
    [
        {},  # a proxy's empty object: accounts for nobody
        answer(2),  # two of the three
        answer(2, not_found_count=1),  # counts one not found but names none
        answer(4),  # more than were sent
    ],
    ids=["nothing", "short", "unnamed-not-found", "too-many"],
)
async def test_an_answer_that_does_not_account_for_every_recipient_raises(
    fake: FakeInro, inro: Client, body: dict[str, Any]
) -> None:
    fake.inject("unaccounted", route="messages.send", body=body)
    with pytest.raises(UnaccountedAnswerError) as caught:
        await inro.messages.send(contact_ids=[1, 2, 3], text="hello")
    assert caught.value.may_have_been_processed
    assert "3 recipients" in str(caught.value) or "names 0" in str(caught.value)


async def test_an_answer_that_names_its_not_found_accounts_for_all(
    fake: FakeInro, inro: Client
) -> None:
    fake.inject("unaccounted", route="messages.send", body=answer(2, not_found=[{"id": 3}]))
    result = await inro.messages.send(contact_ids=[1, 2, 3], text="hello")
    assert result.accepted_count == 2


async def test_a_real_answer_with_a_missing_contact_is_success(inro: Client) -> None:
    result = await inro.messages.send(contact_ids=[1, 2, 999_999], text="hello")
    assert result.accepted_count + result.skipped_count == 2
    assert result.not_found_count == 1


async def test_one_contact_named_twice_may_be_accepted_once(fake: FakeInro, inro: Client) -> None:
    org = fake.add_organization("twice-token", plan="pro", contacts=20, seed=4)
    contact = active_contact(org)
    async with Client("twice-token", base_url=fake.base_url) as client:
        result = await client.messages.send(
            contact_ids=[contact["id"]], contact_usernames=[contact["username"]], text="hello"
        )
    assert result.accepted_count == 1  # delivered once: not unaccounted


async def test_a_single_recipient_send_is_checked_too(fake: FakeInro, inro: Client) -> None:
    fake.inject("unaccounted", route="messages.send", body=answer(0))
    with pytest.raises(UnaccountedAnswerError):
        await inro.messages.send(contact_id=1, text="hello")
