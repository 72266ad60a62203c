"""The fault matrix (issue 15): every kind of server fault × every kind of call, over loopback.

Each cell starts a fresh ``FakeInro``, injects one fault on the call's route (on page 2 for the
walks), runs the call, and checks

* the outcome the table below expects: ``ok`` (absorbed: retried, or harmless), ``unknown`` (a
  job's items whose request may have been processed), or the ``InroError`` class raised;
* and what must hold in every cell, whatever the fault:
  - the call ends, with a result or an ``InroError``, never another exception;
  - nothing is delivered (a message, a scenario run) twice;
  - a job's items each end in exactly one state; nothing ``done`` that the server did not
    account for; ``unknown`` only for items whose request reached the server;
  - a walk or export yields each contact at most once, and all of them when it succeeds;
  - the SDK never counts more requests than the server received.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from inro_async import Quota
from inro_async.client import Client
from inro_async.errors import InroError
from inro_async.jobs import JobReport, export_contacts, trigger_many, update_many
from inro_async.jobs._items import ItemStatus
from inro_async.models.automation import Action, Trigger
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

TOKEN = "matrix-token"
CONTACTS = 450
"""Contacts ``update_many`` changes (three chunks of 200)."""
PER_PAGE = 500
"""Five pages of 500 for the walks and the export (the organization has 2,500 contacts)."""
RECIPIENTS = range(1, 2_501)
"""Three chunks of at most 1,000 for the jobs."""
TIMEOUT = 1.5
"""The client's timeout; the ``timeout`` fault holds an answer back longer."""
FAST = (Quota(10_000, 1),)  # the quotas never bind: this is about faults, not pacing


# -- the faults ---------------------------------------------------------------------------------

FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "500": ("status", {"status": 500}),
    "502 html": ("status", {"status": 502, "html": True}),
    "503 retry-after": ("status", {"status": 503, "retry_after": 0.2}),
    "reset before": ("reset_before", {}),
    "reset after": ("reset_after", {}),
    "timeout": ("latency", {"seconds": TIMEOUT * 2.5}),
    "truncated body": ("truncate", {}),
    "malformed json": ("malformed", {}),
    "2xx unaccounted": ("unaccounted", {}),
    "redirect": ("redirect", {"status": 302, "location": "http://127.0.0.1:9/elsewhere"}),
    "lying total": ("lying_total", {"by": 1_000, "times": 100, "page": None}),  # every page
    "repeated page": ("ignore_page", {}),
}


# -- the calls ----------------------------------------------------------------------------------


@dataclass
class World:
    """One cell's server, organization and client."""

    server: FakeInro
    org: Organization
    inro: Client
    tmp: Path
    scenario_id: int = 0
    notes: str = "matrix"


@dataclass
class Seen:
    """What a call returned, or raised."""

    value: Any = None
    error: BaseException | None = None
    report: JobReport[Any] | None = None
    ids: list[int] = field(default_factory=list)
    """The contact ids a walk or an export yielded, in order."""

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return type(self.error).__name__
        if self.report is not None and self.report.unknown:
            return "unknown"
        return "ok"


async def do_get(world: World) -> Seen:
    contact = await world.inro.contacts.get(id=5)
    assert contact.id == 5
    return Seen(contact)


async def do_iter(world: World) -> Seen:
    ids = [c.id async for c in world.inro.contacts.iter(per_page=PER_PAGE, concurrency=2)]
    return Seen(ids=ids)


async def do_update(world: World) -> Seen:
    contact = await world.inro.contacts.update(5, notes=world.notes)
    return Seen(contact)


async def do_send(world: World) -> Seen:
    return Seen(await world.inro.messages.send(contact_ids=[1, 2, 3], text="hi"))


async def do_send_many(world: World) -> Seen:
    report = await world.inro.messages.send_many(RECIPIENTS, text="hi", concurrency=2)
    return Seen(report=report)


async def do_update_many(world: World) -> Seen:
    updates = [{"id": cid, "contact": {"notes": world.notes}} for cid in range(1, CONTACTS + 1)]
    report = await update_many(
        world.inro, updates, chunk_size=200, concurrency=2, poll_interval=0.02
    )
    return Seen(report=report)


async def do_trigger_many(world: World) -> Seen:
    report = await trigger_many(world.inro, world.scenario_id, RECIPIENTS, concurrency=2)
    return Seen(report=report)


async def do_export(world: World) -> Seen:
    path = world.tmp / "contacts.jsonl"
    report = await export_contacts(world.inro, path, per_page=PER_PAGE, concurrency=2)
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    return Seen(report, ids=ids)


@dataclass(frozen=True)
class Call:
    run: Callable[[World], Awaitable[Seen]]
    route: str
    page: int | None = None
    """The page the fault is aimed at (walks: page 2, so page 1 has gone well)."""
    lists: bool = False


CALLS: dict[str, Call] = {
    "get": Call(do_get, "contacts.get"),
    "iter": Call(do_iter, "contacts.list", page=2, lists=True),
    "update": Call(do_update, "contacts.update"),
    "send": Call(do_send, "messages.send"),
    "send_many": Call(do_send_many, "messages.send"),
    "update_many": Call(do_update_many, "contacts.bulk_update"),
    "trigger_many": Call(do_trigger_many, "scenarios.trigger"),
    "export": Call(do_export, "contacts.list", page=2, lists=True),
}

# -- what each cell must end with ---------------------------------------------------------------

OK, UNKNOWN = "ok", "unknown"
CALL_ORDER = ("get", "iter", "update", "send", "send_many", "update_many", "trigger_many", "export")
_ = None  # a paging lie on a call that reads no list: not a cell

# Reads are repeated after any fault a repeat can cure; so are PUTs (an update by id, a bulk
# update: doing them twice changes nothing). A POST that may have reached the server is never
# repeated: a single call raises with may_have_been_processed, a job's chunk is unknown. A body
# that cannot be read is raised (a read's caller may simply call again; a write's outcome is
# unknown, and the error says so). "reset before" is a reset before the server answered: the
# client cannot tell it from one after, so a POST's outcome is unknown there too.
EXPECTED_ROWS: dict[str, tuple[str | None, ...]] = {
    #                 get  iter  update  send  send_many  update_many  trigger_many  export
    "500": (OK, OK, OK, "InternalServerError", UNKNOWN, OK, UNKNOWN, OK),
    "502 html": (OK, OK, OK, "InternalServerError", UNKNOWN, OK, UNKNOWN, OK),
    "503 retry-after": (OK, OK, OK, "InternalServerError", UNKNOWN, OK, UNKNOWN, OK),
    "reset before": (OK, OK, OK, "APIConnectionError", UNKNOWN, OK, UNKNOWN, OK),
    "reset after": (OK, OK, OK, "APIConnectionError", UNKNOWN, OK, UNKNOWN, OK),
    "timeout": (OK, OK, OK, "APITimeoutError", UNKNOWN, OK, UNKNOWN, OK),
    "truncated body": (*["APIResponseValidationError"] * 4, UNKNOWN, UNKNOWN, UNKNOWN,
                       "APIResponseValidationError"),
    "malformed json": (*["APIResponseValidationError"] * 4, UNKNOWN, UNKNOWN, UNKNOWN,
                       "APIResponseValidationError"),
    "2xx unaccounted": ("UnaccountedAnswerError", "APIResponseValidationError",
                        "UnaccountedAnswerError", "UnaccountedAnswerError", UNKNOWN, UNKNOWN,
                        UNKNOWN, "APIResponseValidationError"),
    "redirect": (OK, OK, "UnexpectedRedirectError", "UnexpectedRedirectError", UNKNOWN, UNKNOWN,
                 UNKNOWN, OK),
    "lying total": (_, "PaginationError", _, _, _, _, _, "PaginationError"),
    "repeated page": (_, "PaginationError", _, _, _, _, _, "PaginationError"),
}  # fmt: skip
EXPECTED: dict[str, dict[str, str | None]] = {
    fault: dict(zip(CALL_ORDER, row, strict=True)) for fault, row in EXPECTED_ROWS.items()
}


def expected(fault: str, call: str) -> str | None:
    return EXPECTED[fault][call]


def cells() -> list[Any]:
    params = []
    for fault in FAULTS:
        for call in CALLS:
            if expected(fault, call) is None:  # a paging lie on a call that reads no list
                continue
            params.append(pytest.param(fault, call, id=f"{fault}-{call}"))
    return params


# -- one cell -----------------------------------------------------------------------------------


async def world_for(tmp: Path) -> World:
    server = FakeInro(quotas=FAST, batch_delay=0.02)
    org = server.add_organization(TOKEN, plan="pro", contacts=max(CONTACTS, len(RECIPIENTS)))
    await server.start()
    inro = Client(TOKEN, base_url=server.base_url, quotas=FAST, timeout=TIMEOUT)
    world = World(server, org, inro, tmp)
    scenario = await inro.with_options(timeout=30).scenarios.create(
        title="Matrix",
        triggers=[Trigger(trigger_type="contact_create")],
        actions=[Action(action_key="hi", action_type="message", content="Hi")],
        active=True,
    )
    world.scenario_id = scenario.id
    return world


@pytest.mark.parametrize(("fault", "call"), cells())
async def test_cell(fault: str, call: str, tmp_path: Path) -> None:
    spec = CALLS[call]
    world = await world_for(tmp_path)
    try:
        kind, params = FAULTS[fault]
        page = {"page": spec.page} if spec.page is not None else {}
        before = len(world.server.requests)
        options = {"times": 1, **page, **params}
        world.server.inject(kind, route=spec.route, **options)
        seen = await run_cell(spec, world)
        check_invariants(world, call, seen, before)
        assert seen.outcome == expected(fault, call), seen.error or seen.report
    finally:
        await world.inro.aclose()
        await world.server.close()


async def run_cell(spec: Call, world: World) -> Seen:
    try:
        return await asyncio.wait_for(spec.run(world), timeout=30)
    except InroError as exc:
        return Seen(error=exc)
    # Anything else (TimeoutError included: a call that hangs) fails the cell as it is.


# -- what holds in every cell -------------------------------------------------------------------


def check_invariants(world: World, call: str, seen: Seen, before: int) -> None:
    server, org = world.server, world.org
    counts = org.delivery_counts()
    assert all(n == 1 for n in counts.values()), "a message was delivered twice"
    ours = [r for r in server.requests[before:] if r.token == TOKEN]
    dispatched = world.inro.governor.dispatched  # type: ignore[attr-defined]
    assert dispatched - world_setup_requests(world) <= len(ours)
    if seen.ids or (call in ("iter", "export") and seen.error is None):
        assert len(seen.ids) == len(set(seen.ids)), "a contact was yielded twice"
        if seen.error is None:
            assert sorted(seen.ids) == sorted(org.contacts), "a walk that succeeded missed some"
    if seen.report is not None:
        check_report(world, call, seen.report, before)


def world_setup_requests(world: World) -> int:
    return 1  # the scenario's creation


def check_report(world: World, call: str, report: JobReport[Any], before: int) -> None:
    total = (
        sum((report.done, report.failed, report.not_found, report.skipped, report.unknown))
        + report.pending
    )
    assert total == report.total, "an item without exactly one state"
    org = world.org
    route = CALLS[call].route
    reached = {
        cid
        for r in world.server.requests[before:]
        if r.route == route and not r.throttled and isinstance(r.body, dict)
        for cid in sent_ids(r.body)
    }
    unknown = {ident(i) for i in report.items(ItemStatus.UNKNOWN)}
    assert unknown <= reached, "unknown items that never reached the server"
    done = {ident(i) for i in report.items(ItemStatus.DONE)}
    if call == "send_many":
        assert done <= set(org.delivery_counts()), "done, but never delivered"
    elif call == "trigger_many":
        ran = {e["contact_id"] for e in org.executions if e["scenario_id"] == world.scenario_id}
        assert done <= ran, "done, but the scenario never ran for it"
    elif call == "update_many":
        changed = {cid for cid, c in org.contacts.items() if c.get("notes") == world.notes}
        assert done <= changed, "done, but never updated"


def ident(item: Any) -> int:
    if hasattr(item, "identifier"):  # an update_many entry
        return int(item.identifier.value)
    if isinstance(item, dict):
        return int(item.get("id") or item.get("contact", {}).get("id"))
    return int(item)


def sent_ids(body: dict[str, Any]) -> list[int]:
    if "contact_ids" in body:
        return [int(i) for i in body["contact_ids"]]
    return [int(c["id"]) for c in body.get("contacts", ()) if isinstance(c, dict) and "id" in c]
