"""PUTs and DELETEs whose answer was lost: a repeat must never report a false outcome.

A PUT or DELETE is repeated after a lost answer (``_transport.py``) because doing it twice has
the effect of doing it once. Some of them answer with something a repeat cannot reproduce: an
update that changes the email it is addressed by (the repeat finds nobody: 404), a membership
change that counts what it changed (the repeat counts 0). Those are not repeated once they may
have reached the server; the caller gets an error saying the outcome is unknown instead of a
false answer. Deletes report the truth (gone) and stay repeatable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from inro_async import APIConnectionError, InternalServerError
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

from .conftest import contact_where, eventually

NEW_EMAIL = "jane.new@example.com"


def emailed(org: Organization) -> dict[str, Any]:
    """A contact with an email address."""
    return contact_where(org, lambda c: bool(c["email"]))


# -- an update that changes the email it is addressed by --------------------------------------


async def test_an_email_change_addressed_by_that_email_is_not_repeated_after_a_lost_answer(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    jane = emailed(org)
    inro_server.inject("reset_after", route="contacts.update_by")
    with pytest.raises(APIConnectionError, match="outcome is unknown") as caught:
        await fast.contacts.update_by(email=jane["email"], contact={"email": NEW_EMAIL})
    assert caught.value.may_have_been_processed
    assert len(inro_server.requests_to("contacts.update_by")) == 1  # no repeat to 404
    assert org.contacts[jane["id"]]["email"] == NEW_EMAIL  # it was applied, as may be said


async def test_an_email_change_addressed_by_that_email_is_not_repeated_after_a_5xx(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    jane = emailed(org)
    inro_server.inject("status", route="contacts.update_by", status=503)
    with pytest.raises(InternalServerError, match="outcome is unknown"):
        await fast.contacts.update_by(email=jane["email"], contact={"email": NEW_EMAIL})
    assert len(inro_server.requests_to("contacts.update_by")) == 1


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"phone": "+15550001111"}, id="email untouched"),
        pytest.param({"email": None, "phone": "+1"}, id="addressed by id"),
    ],
)
async def test_an_update_by_that_keeps_its_address_is_still_repeated_after_a_lost_answer(
    fast: Client, inro_server: FakeInro, org: Organization, changes: dict[str, Any]
) -> None:
    jane = emailed(org)
    locator = {"id": jane["id"]} if "email" in changes else {"email": jane["email"]}
    inro_server.inject("reset_after", route="contacts.update_by")
    contact = await fast.contacts.update_by(**locator, contact=changes)
    assert contact.phone == changes["phone"]
    assert [r.status for r in inro_server.requests_to("contacts.update_by")] == [None, 200]


async def test_a_bulk_update_changing_an_email_some_entry_is_addressed_by_is_not_repeated(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    jane = emailed(org)
    inro_server.inject("reset_after", route="contacts.bulk_update")
    with pytest.raises(APIConnectionError, match="outcome is unknown"):
        await fast.contacts.bulk_update(
            [
                {"email": jane["email"], "contact": {"email": NEW_EMAIL}},
                {"id": 3, "contact": {"notes": "x"}},
            ]
        )
    assert len(inro_server.requests_to("contacts.bulk_update")) == 1
    await eventually(lambda: org.contacts[jane["id"]]["email"] == NEW_EMAIL)


async def test_a_bulk_update_changing_emails_of_contacts_addressed_by_id_is_repeated(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.inject("reset_after", route="contacts.bulk_update")
    result = await fast.contacts.bulk_update([{"id": 5, "contact": {"email": NEW_EMAIL}}])
    assert (result.accepted_count, result.not_found) == (1, [])
    assert len(inro_server.requests_to("contacts.bulk_update")) == 2


# -- membership changes that count what they changed ------------------------------------------


async def test_removing_contacts_from_a_folder_is_not_repeated_after_a_lost_answer(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    folder = await fast.folders.create("VIP")
    await fast.folders.add_contacts(folder.id, [1, 2, 3])
    inro_server.inject("reset_after", route="folders.remove_contacts")
    with pytest.raises(APIConnectionError, match="outcome is unknown") as caught:
        await fast.folders.remove_contacts(folder.id, [1, 2, 3])  # not "removed_count=0"
    assert caught.value.may_have_been_processed
    assert len(inro_server.requests_to("folders.remove_contacts")) == 1
    assert org.folder_members(folder.id) == []


# -- deletes: a repeat answered 404 reports the truth ("gone") --------------------------------

Call = Callable[[Client, dict[str, Any]], Awaitable[Any]]
DELETES: dict[str, tuple[Call, Callable[[Organization, dict[str, Any]], bool]]] = {
    "folders.delete": (
        lambda i, w: i.folders.delete(w["folder"]),
        lambda org, w: w["folder"] not in org.folders,
    ),
    "segments.delete": (
        lambda i, w: i.segments.delete(w["segment"]),
        lambda org, w: w["segment"] not in org.segments,
    ),
    "contact_properties.delete": (
        lambda i, w: i.contact_properties.delete(w["property"]),
        lambda org, w: w["property"] not in org.properties,
    ),
}


@pytest.mark.parametrize("route", sorted(DELETES))
async def test_a_delete_whose_answer_was_lost_reports_it_gone(
    fast: Client, inro_server: FakeInro, org: Organization, route: str
) -> None:
    world = {
        "folder": (await fast.folders.create("Temp")).id,
        "segment": (await fast.segments.create(title="Temp")).id,
        "property": (await fast.contact_properties.create("Temp")).slug,
    }
    call, gone = DELETES[route]
    inro_server.inject("reset_after", route=route)
    assert await call(fast, world) is None
    assert gone(org, world)
    assert [r.status for r in inro_server.requests_to(route)] == [None, 404]
