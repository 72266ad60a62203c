"""Values that JSON cannot carry faithfully are refused before anything is sent (issue 15 #5, #7).

msgspec writes a NaN or an infinity as ``null``, which *clears* a custom property instead of
setting it; a lone surrogate or an ``object()`` used to fail inside the encoder with a raw
``UnicodeEncodeError`` or ``TypeError``. Every way out (an update, a bulk update, a trigger and
its data, a message's text, a filter, the raw ``Client.request``) refuses them with an
``InvalidArgumentError`` naming where the value was, and the server sees no request.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from inro_async import InvalidArgumentError
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

from .conftest import active_contact

NAN, INF = float("nan"), float("inf")

Call = Callable[[Client, int], Awaitable[Any]]


def _update(value: object) -> Call:
    return lambda inro, cid: inro.contacts.update(cid, custom_properties={"budget": value})


CASES: list[tuple[str, Call, str]] = [
    ("update NaN", _update(NAN), "custom_properties.budget"),
    ("update inf", _update(INF), "custom_properties.budget"),
    ("update -inf", _update(-INF), "custom_properties.budget"),
    ("update 1e999", _update(float("1e999")), "custom_properties.budget"),
    ("update object()", _update(object()), "custom_properties.budget"),
    ("update a set", _update({1, 2}), "custom_properties.budget"),
    ("update nested NaN", _update({"low": [1, NAN]}), "custom_properties.budget.low[1]"),
    (
        "update surrogate",
        lambda inro, cid: inro.contacts.update(cid, notes="caf\ud800"),
        "notes",
    ),
    (
        "update contact=",
        lambda inro, cid: inro.contacts.update(cid, contact={"custom_properties": {"budget": NAN}}),
        "contact.custom_properties.budget",
    ),
    (
        "update_by",
        lambda inro, cid: inro.contacts.update_by(id=cid, custom_properties={"budget": INF}),
        "custom_properties.budget",
    ),
    (
        "bulk_update",
        lambda inro, cid: inro.contacts.bulk_update(
            [{"id": cid, "contact": {"custom_properties": {"budget": NAN}}}]
        ),
        "entries[0].contact.custom_properties.budget",
    ),
    (
        "trigger data NaN",
        lambda inro, cid: inro.scenarios.trigger(1, contacts=[{"id": cid}], data={"x": NAN}),
        "data.x",
    ),
    (
        "trigger data object()",
        lambda inro, cid: inro.scenarios.trigger(1, contacts=[{"id": cid}], data={"x": object()}),
        "data.x",
    ),
    (
        "trigger data surrogate key",
        lambda inro, cid: inro.scenarios.trigger(1, contacts=[{"id": cid}], data={"\udc80": 1}),
        "data['\\udc80']",
    ),
    (
        "send text surrogate",
        lambda inro, cid: inro.messages.send(contact_id=cid, text="hi \ud83d"),
        "text",
    ),
    (
        "send caption surrogate",
        lambda inro, cid: inro.messages.send(
            contact_id=cid, image="https://cdn.example/a.png", text="\udfff"
        ),
        "text",
    ),
    (
        "send image URL surrogate",
        lambda inro, cid: inro.messages.send(contact_id=cid, image="https://cdn.example/\ud800"),
        "image",
    ),
    (
        "filter value NaN",
        lambda inro, cid: inro.contacts.filter(
            [{"filter_type": "custom_property", "property": "budget", "value": NAN}]
        ),
        "filters[0].value",
    ),
    (
        "search surrogate",
        lambda inro, cid: inro.contacts.search("\ud800"),
        "query",
    ),
    (
        "raw request",
        lambda inro, cid: inro.request(
            "PUT", f"/contacts/{cid}", json={"contact": {"custom_properties": {"budget": NAN}}}
        ),
        "contact.custom_properties.budget",
    ),
]


@pytest.mark.parametrize(
    ("call", "argument"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
async def test_a_value_json_cannot_carry_is_refused_before_sending(
    inro_server: FakeInro, inro_client: Client, org: Organization, call: Call, argument: str
) -> None:
    contact = active_contact(org)
    budget = contact["custom_properties"].get("budget")
    before = len(inro_server.requests)
    with pytest.raises(InvalidArgumentError) as caught:
        await call(inro_client, contact["id"])
    assert caught.value.argument == argument
    assert len(inro_server.requests) == before  # nothing sent, no quota spent
    assert org.contacts[contact["id"]]["custom_properties"].get("budget") == budget


def test_the_rule_names_the_problem() -> None:
    from inro_async._json_values import json_value_problem

    assert json_value_problem({"budget": NAN}) == (
        ".budget",
        "must be a finite number, got nan: JSON has no NaN or infinity "
        "(it would be sent as null, which clears a value)",
    )
    path, rule = json_value_problem(["ok", "b\ud800"]) or ("", "")
    assert path == "[1]"
    assert "lone surrogate" in rule
    assert "'\\ud800' at index 1" in rule
    path, rule = json_value_problem({"x": object()}) or ("", "")
    assert (path, rule.split(";")[0]) == (".x", "cannot be sent as JSON (a object)")
    path, rule = json_value_problem({1: "one"}) or ("", "")
    assert (path, "string key" in rule) == ("[1]", True)


async def test_bulk_jobs_refuse_the_whole_job_before_the_first_chunk(
    inro_server: FakeInro, inro_client: Client, org: Organization
) -> None:
    cid = active_contact(org)["id"]
    before = len(inro_server.requests)
    with pytest.raises(InvalidArgumentError) as caught:
        inro_client.contacts.update_many(
            [
                (cid, {"custom_properties": {"budget": 5}}),
                (cid + 1, {"custom_properties": {"budget": NAN}}),
            ]
        )
    assert caught.value.argument == "updates[1].contact.custom_properties.budget"
    with pytest.raises(InvalidArgumentError) as caught:
        inro_client.scenarios.trigger_many(1, [cid], data={"when": {"score": -INF}})
    assert caught.value.argument == "data.when.score"
    with pytest.raises(InvalidArgumentError) as caught:
        inro_client.messages.send_many([cid], text="\ud800")
    assert caught.value.argument == "text"
    assert len(inro_server.requests) == before


async def test_finite_numbers_and_ordinary_text_still_go_out_as_given(
    inro_client: Client, org: Organization
) -> None:
    contact = active_contact(org)
    updated = await inro_client.contacts.update(
        contact["id"], notes="café ☕ 😀", custom_properties={"budget": 1e300}
    )
    assert updated.notes == "café ☕ 😀"
    stored = org.contacts[contact["id"]]["custom_properties"]["budget"]
    assert math.isfinite(stored)
    assert stored == 1e300
