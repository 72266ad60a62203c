"""What is repeated after a failure, proven from what the fake server saw and delivered.

From ``_transport.py``: a request is repeated after a 5xx, a timeout or a broken connection
only when it is idempotent (GET, PUT, DELETE, and ``contacts.filter``, a read sent as POST) or
when the connection failed before a byte was sent. A POST or PATCH that may have reached the
server is never repeated, even after ``reset_before``: the client cannot tell a connection
dropped before processing from one dropped after. A 429 is always repeated, after Retry-After,
and does not count against ``max_retries``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from inro_async import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    NotFoundError,
    Quota,
    RateLimitError,
    Retries,
)
from inro_async._routes import ROUTES
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN
from inro_async.testing.store import Organization

from .conftest import FAST_RETRIES, TIMEOUT, active_contact, assert_no_secret, eventually

Call = Callable[[Client], Awaitable[Any]]


async def world(inro: Client, org: Organization) -> dict[str, Any]:
    """One of everything, so that every route has something real to act on."""
    scenario = await inro.scenarios.create(
        title="w",
        triggers=[{"trigger_type": "contact_create"}],
        actions=[{"action_key": "m", "action_type": "message", "content": "hi"}],
        active=True,
    )
    contact = active_contact(org, with_email=True)
    await inro.scenarios.trigger(scenario.id, contacts=[{"id": contact["id"]}])
    campaign = await inro.campaigns.create(
        title="c",
        actions=[{"action_key": "m", "action_type": "message", "content": "yo"}],
        campaign_rules=[{"list_type": "folder", "destination_id": 2}],
    )
    segment = await inro.segments.create(title="s", contact_filters=[])
    media_file = await inro.media_files.create_from_url("https://cdn.example/a.png")
    bulk = await inro.contacts.bulk_update([{"id": 1, "contact": {"notes": "w"}}])
    prop = await inro.contact_properties.create("Temp")
    folder = await inro.folders.create("Temp")
    return {
        "contact": contact,
        "scenario": scenario.id,
        "campaign": campaign.id,
        "segment": segment.id,
        "media_file": media_file.id,
        "task": bulk.batch_task_id,
        "execution": org.executions[-1]["id"],
        "property": prop.slug,
        "folder": folder.id,
    }


def calls(w: dict[str, Any]) -> dict[str, Call]:
    """One SDK call per route name."""
    contact = w["contact"]
    return {
        "me": lambda i: i.me(),
        "contacts.list": lambda i: i.contacts.list(),
        "contacts.search": lambda i: i.contacts.search("a"),
        "contacts.get": lambda i: i.contacts.get(email=contact["email"]),
        "contacts.update_by": lambda i: i.contacts.update_by(id=1, notes="n"),
        "contacts.update": lambda i: i.contacts.update(1, notes="n"),
        "contacts.bulk_update": lambda i: i.contacts.bulk_update(
            [{"id": 1, "contact": {"notes": "b"}}]
        ),
        "contacts.filter": lambda i: i.contacts.filter([{"filter_type": "status"}]),
        "contacts.messages": lambda i: i.contacts.messages(contact["id"]),
        "batch_tasks.list": lambda i: i.batch_tasks.list(),
        "batch_tasks.get": lambda i: i.batch_tasks.get(w["task"]),
        "folders.list": lambda i: i.folders.list(),
        "folders.create": lambda i: i.folders.create("New"),
        "folders.update": lambda i: i.folders.update(w["folder"], name="Renamed"),
        "folders.delete": lambda i: i.folders.delete(w["folder"]),
        "folders.contacts": lambda i: i.folders.contacts(2),
        "folders.add_contacts": lambda i: i.folders.add_contacts(w["folder"], [1]),
        "folders.remove_contacts": lambda i: i.folders.remove_contacts(w["folder"], [1]),
        "contact_properties.list": lambda i: i.contact_properties.list(),
        "contact_properties.create": lambda i: i.contact_properties.create("Another"),
        "contact_properties.update": lambda i: i.contact_properties.update(
            w["property"], title="T"
        ),
        "contact_properties.delete": lambda i: i.contact_properties.delete(w["property"]),
        "messages.send": lambda i: i.messages.send(contact_id=contact["id"], text="x"),
        "medias.list": lambda i: i.medias.list(),
        "media_files.list": lambda i: i.media_files.list(),
        "media_files.create": lambda i: i.media_files.upload(b"GIF89a", media_type="image"),
        "media_files.get": lambda i: i.media_files.get(w["media_file"]),
        "scenarios.list": lambda i: i.scenarios.list(),
        "scenarios.get": lambda i: i.scenarios.get(w["scenario"]),
        "scenarios.create": lambda i: i.scenarios.create(prompt="p"),
        "scenarios.update": lambda i: i.scenarios.update(w["scenario"], title="t"),
        "scenarios.trigger": lambda i: i.scenarios.trigger(
            w["scenario"], contacts=[{"id": contact["id"]}]
        ),
        "scenarios.performance": lambda i: i.scenarios.performance(w["scenario"]),
        "campaigns.list": lambda i: i.campaigns.list(),
        "campaigns.get": lambda i: i.campaigns.get(w["campaign"]),
        "campaigns.create": lambda i: i.campaigns.create(title="t"),
        "campaigns.update": lambda i: i.campaigns.update(w["campaign"], title="t"),
        "campaigns.send": lambda i: i.campaigns.send(w["campaign"]),
        "campaigns.test": lambda i: i.campaigns.test(w["campaign"], id=contact["id"]),
        "campaigns.performance": lambda i: i.campaigns.performance(w["campaign"]),
        "campaigns.resend": lambda i: i.campaigns.resend(w["campaign"]),
        "segments.list": lambda i: i.segments.list(),
        "segments.get": lambda i: i.segments.get(w["segment"]),
        "segments.create": lambda i: i.segments.create(title="t"),
        "segments.update": lambda i: i.segments.update(w["segment"], title="t"),
        "segments.delete": lambda i: i.segments.delete(w["segment"]),
        "executions.health": lambda i: i.executions.health(),
        "executions.list": lambda i: i.executions.list(),
        "executions.get": lambda i: i.executions.get("scenario", w["execution"]),
        "executions.retry": lambda i: i.executions.retry("scenario", w["execution"]),
        "discovery.trigger_types": lambda i: i.discovery.trigger_types(),
        "discovery.action_types": lambda i: i.discovery.action_types(),
        "discovery.contact_filter_types": lambda i: i.discovery.contact_filter_types(),
        "discovery.templates": lambda i: i.discovery.templates(),
    }


READS_SENT_AS_POST = {"contacts.filter"}
REPEATABLE = sorted(n for n, r in ROUTES.items() if r.idempotent or n in READS_SENT_AS_POST)
NOT_REPEATABLE = sorted(set(ROUTES) - set(REPEATABLE))


def test_every_route_has_a_call_here() -> None:
    assert set(calls({"contact": {"email": "", "id": 1}})) == set(ROUTES)
    assert "messages.send" in NOT_REPEATABLE
    assert "scenarios.update" in NOT_REPEATABLE  # PATCH can create actions


# -- 5xx ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", REPEATABLE)
async def test_an_idempotent_route_is_retried_after_a_503(
    fast: Client, inro_server: FakeInro, org: Organization, route: str
) -> None:
    call = calls(await world(fast, org))[route]
    before = len(inro_server.requests_to(route))
    inro_server.inject("status", route=route, status=503)
    await call(fast)
    statuses = [r.status for r in inro_server.requests_to(route)[before:]]
    assert statuses == [503, ROUTES[route].status]


@pytest.mark.parametrize("route", NOT_REPEATABLE)
async def test_a_post_or_patch_is_never_repeated_after_a_5xx(
    fast: Client, inro_server: FakeInro, org: Organization, route: str
) -> None:
    call = calls(await world(fast, org))[route]
    before = len(inro_server.requests_to(route))
    deliveries = len(org.deliveries)
    inro_server.inject("status", route=route, status=500)
    with pytest.raises(InternalServerError, match="outcome is unknown") as caught:
        await call(fast)
    assert [r.status for r in inro_server.requests_to(route)[before:]] == [500]
    assert len(org.deliveries) == deliveries
    assert caught.value.method == ROUTES[route].method
    assert_no_secret(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_get_gives_up_after_max_retries_with_the_last_status(
    fast: Client, inro_server: FakeInro, status: int
) -> None:
    inro_server.inject("status", route="contacts.get", status=status, times=3)
    with pytest.raises(InternalServerError) as caught:
        await fast.contacts.get(id=1)
    assert caught.value.status == status
    assert len(inro_server.requests_to("contacts.get")) == 1 + FAST_RETRIES.max_retries
    assert "outcome" not in str(caught.value)


async def test_max_retries_zero_sends_a_get_once(fast: Client, inro_server: FakeInro) -> None:
    inro_server.inject("status", route="contacts.list", status=502)
    with pytest.raises(InternalServerError):
        await fast.with_options(max_retries=0).contacts.list()
    assert len(inro_server.requests_to("contacts.list")) == 1


# -- timeouts and dropped connections on reads and PUTs ----------------------------------------


async def test_a_get_slower_than_the_timeout_is_retried(
    fast: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("latency", route="contacts.get", seconds=TIMEOUT * 2)
    contact = await fast.contacts.get(id=3)
    assert contact.id == 3
    assert len(inro_server.requests_to("contacts.get")) == 2


@pytest.mark.parametrize("fault", ["reset_before", "reset_after"])
async def test_a_get_is_retried_after_a_dropped_connection(
    fast: Client, inro_server: FakeInro, fault: str
) -> None:
    inro_server.inject(fault, route="contacts.list")
    page = await fast.contacts.list(per_page=5)
    assert len(page) == 5
    assert [r.status for r in inro_server.requests_to("contacts.list")] == [None, 200]


async def test_a_put_dropped_after_processing_is_repeated_harmlessly(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.inject("reset_after", route="contacts.update")
    contact = await fast.contacts.update(4, phone="+15551234567", custom_properties={"vip": True})
    assert len(inro_server.requests_to("contacts.update")) == 2  # applied twice, same result
    assert contact.phone == org.contacts[4]["phone"] == "+15551234567"
    assert org.contacts[4]["custom_properties"]["vip"] is True


async def test_a_bulk_update_dropped_after_processing_is_repeated_harmlessly(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.inject("reset_after", route="contacts.bulk_update")
    result = await fast.contacts.bulk_update([{"id": 8, "contact": {"notes": "once or twice"}}])
    await fast.batch_tasks.wait(result.batch_task_id, poll_interval=0.01)
    assert len(inro_server.requests_to("contacts.bulk_update")) == 2
    assert org.contacts[8]["notes"] == "once or twice"


async def test_a_put_timed_out_is_retried(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.inject("latency", route="contacts.update_by", seconds=TIMEOUT * 2)
    contact = await fast.contacts.update_by(id=9, language="pt")
    assert (contact.language, org.contacts[9]["language"]) == ("pt", "pt")
    assert len(inro_server.requests_to("contacts.update_by")) == 2


# -- sends: never repeated once they may have reached the server -------------------------------

SENDS = ["messages.send", "scenarios.trigger", "campaigns.send", "campaigns.test"]


async def send_setup(inro: Client, org: Organization, route: str) -> tuple[Call, set[int]]:
    """The call for a send-like route, and who it reaches when the server processes it."""
    contact = active_contact(org)
    if route == "messages.send":
        return lambda i: i.messages.send(contact_id=contact["id"], text="x"), {contact["id"]}
    action = [{"action_key": "m", "action_type": "message", "content": "x"}]
    if route == "scenarios.trigger":
        scenario = await inro.scenarios.create(
            triggers=[{"trigger_type": "contact_create"}], actions=action, active=True
        )
        return (
            lambda i: i.scenarios.trigger(scenario.id, contacts=[{"id": contact["id"]}]),
            {contact["id"]},
        )
    rules = [{"list_type": "folder", "destination_id": 4}]
    campaign = await inro.campaigns.create(actions=action, campaign_rules=rules)
    if route == "campaigns.test":
        return lambda i: i.campaigns.test(campaign.id, id=contact["id"]), {contact["id"]}
    audience = {c for c in org.folder_members(4) if org.contacts[c]["status"] == "active"}
    return lambda i: i.campaigns.send(campaign.id), audience


@pytest.mark.parametrize("route", SENDS)
async def test_a_send_dropped_before_processing_is_not_repeated(
    fast: Client, inro_server: FakeInro, org: Organization, route: str
) -> None:
    call, _ = await send_setup(fast, org, route)
    inro_server.inject("reset_before", route=route)
    with pytest.raises(APIConnectionError) as caught:
        await call(fast)
    assert caught.value.may_have_been_processed  # the client cannot tell it was not
    assert "outcome is unknown" in str(caught.value)
    assert len(inro_server.requests_to(route)) == 1
    await inro_server.drain()
    assert org.delivery_counts() == {}
    assert_no_secret(caught.value)


@pytest.mark.parametrize("route", SENDS)
async def test_a_send_dropped_after_processing_is_delivered_once(
    fast: Client, inro_server: FakeInro, org: Organization, route: str
) -> None:
    call, reached = await send_setup(fast, org, route)
    inro_server.inject("reset_after", route=route)
    with pytest.raises(APIConnectionError) as caught:
        await call(fast)
    assert caught.value.may_have_been_processed
    assert len(inro_server.requests_to(route)) == 1
    await inro_server.drain()
    assert org.delivery_counts() == dict.fromkeys(reached, 1)


@pytest.mark.parametrize("route", SENDS)
async def test_a_send_that_timed_out_is_not_repeated_though_it_was_delivered(
    fast: Client, inro_server: FakeInro, org: Organization, route: str
) -> None:
    call, reached = await send_setup(fast, org, route)
    inro_server.inject("latency", route=route, seconds=TIMEOUT + 0.1)
    with pytest.raises(APITimeoutError, match=f"timed out after {TIMEOUT:g}s") as caught:
        await call(fast)
    assert caught.value.may_have_been_processed
    await eventually(lambda: inro_server.requests_to(route)[0].status is not None)
    await inro_server.drain()
    assert len(inro_server.requests_to(route)) == 1
    assert org.delivery_counts() == dict.fromkeys(reached, 1)  # a repeat would have doubled it


async def test_a_dropped_campaign_send_leaves_it_running_so_a_manual_repeat_is_refused(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    call, reached = await send_setup(fast, org, "campaigns.send")
    inro_server.inject("reset_after", route="campaigns.send")
    with pytest.raises(APIConnectionError):
        await call(fast)
    with pytest.raises(Exception, match="not a draft"):
        await call(fast)
    await inro_server.drain()
    assert org.delivery_counts() == dict.fromkeys(reached, 1)


async def test_a_send_whose_connection_was_refused_is_retried_until_it_goes(
    org: Organization,
) -> None:
    with socket.socket() as probe:  # a free port, closed again: connections to it are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeInro()
    fake.add_organization(TOKEN, contacts=5, seed=11)
    contact = active_contact(fake.org)
    retries = Retries(max_retries=200, backoff_base=0.005, backoff_cap=0.01)
    async with Client(
        token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/v1", max_retries=retries
    ) as inro:
        sending = asyncio.create_task(inro.messages.send(contact_id=contact["id"], text="hi"))
        await asyncio.sleep(0.1)
        assert not sending.done()
        await fake.start(port=port)
        try:
            result = await sending
        finally:
            await fake.close()
    assert result.accepted_count == 1
    assert len(fake.requests_to("messages.send")) == 1
    assert fake.org.delivery_counts() == {contact["id"]: 1}


async def test_a_refused_connection_that_never_heals_says_nothing_was_processed(
    inro_client: Client,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Client(
        token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/v1", max_retries=FAST_RETRIES
    ) as inro:
        with pytest.raises(APIConnectionError, match="cannot connect") as caught:
            await inro.messages.send(contact_id=1, text="hi")
    assert not caught.value.may_have_been_processed
    assert "outcome is unknown" not in str(caught.value)
    assert_no_secret(caught.value)


# -- 429: always repeated, after Retry-After ---------------------------------------------------

TWO_PER_SECOND = {"contacts": 20, "seed": 11, "quotas": [Quota(2, 1.0)]}
"""A server far stricter than production's quotas (20/s), so the server answers 429."""


@pytest.fixture
async def production_paced(inro_server: FakeInro) -> AsyncIterator[Client]:
    """A client paced for production's quotas, unlike ``inro_client`` (paced for the server's)."""
    async with Client(token=TOKEN, base_url=inro_server.base_url) as client:
        yield client


@pytest.mark.parametrize("inro_fake_options", [TWO_PER_SECOND])
async def test_a_throttled_send_is_repeated_after_retry_after_and_delivered_once(
    production_paced: Client, inro_server: FakeInro, org: Organization
) -> None:
    contact = active_contact(org)
    await production_paced.me()
    await production_paced.me()  # the server's two per second are spent
    once = production_paced.with_options(max_retries=0)  # a 429 is not a "retry"
    result = await once.messages.send(contact_id=contact["id"], text="hello")
    assert result.accepted_count == 1
    throttled, accepted = inro_server.requests_to("messages.send")
    assert (throttled.status, throttled.throttled, accepted.status) == (429, True, 202)
    assert accepted.arrived_at - throttled.arrived_at >= 1.0 - 0.01  # Retry-After: 1
    assert org.delivery_counts() == {contact["id"]: 1}


@pytest.mark.parametrize("inro_fake_options", [TWO_PER_SECOND])
async def test_a_throttled_upload_is_repeated_with_the_whole_file(
    production_paced: Client, inro_server: FakeInro, org: Organization
) -> None:
    data = b"\x89PNG" + b"p" * 50_000
    await production_paced.me()
    await production_paced.me()
    media_file = await production_paced.media_files.upload(data, media_type="image")
    assert media_file.size == len(data)
    assert [r.status for r in inro_server.requests_to("media_files.create")] == [429, 201]
    assert list(org.media_files) == [media_file.id]


@pytest.mark.parametrize("inro_fake_options", [TWO_PER_SECOND])
async def test_a_burst_against_a_stricter_server_all_succeeds(
    production_paced: Client, inro_server: FakeInro
) -> None:
    started = time.monotonic()
    contacts = await asyncio.gather(*(production_paced.contacts.get(id=n) for n in range(1, 6)))
    assert [c.id for c in contacts] == [1, 2, 3, 4, 5]
    answered = [r.status for r in inro_server.requests_to("contacts.get")]
    assert answered.count(200) == 5
    assert answered.count(429) >= 1
    assert time.monotonic() - started >= 1.0  # the 429s paused the client


@pytest.mark.parametrize("inro_fake_options", [TWO_PER_SECOND])
async def test_when_429s_may_not_be_absorbed_the_error_carries_retry_after(
    production_paced: Client, inro_server: FakeInro
) -> None:
    await production_paced.me()
    await production_paced.me()
    strict = production_paced.with_options(max_retries=Retries(max_throttled=0))
    with pytest.raises(RateLimitError) as caught:
        await strict.contacts.list()
    assert (caught.value.status, caught.value.retry_after) == (429, 1.0)
    assert "Rate limit exceeded: 2 requests per 1 s" in str(caught.value)
    assert len(inro_server.requests_to("contacts.list")) == 1
    assert_no_secret(caught.value)


async def test_a_delete_whose_answer_was_lost_reports_success(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.inject("reset_after", route="folders.delete")
    await fast.folders.delete(1)
    assert 1 not in org.folders
    # the repeat was sent and answered 404; the first attempt had done the deleting
    assert [r.status for r in inro_server.requests_to("folders.delete")][-1] == 404


async def test_a_delete_after_a_503_that_then_finds_nothing_reports_success(
    fast: Client, inro_server: FakeInro, org: Organization
) -> None:
    inro_server.inject("status", route="folders.delete", status=503, times=1)
    await fast.folders.delete(1)
    assert 1 not in org.folders


async def test_a_delete_of_a_missing_folder_is_still_not_found(
    fast: Client, inro_server: FakeInro
) -> None:
    with pytest.raises(NotFoundError):
        await fast.folders.delete(999_999)
    assert len(inro_server.requests_to("folders.delete")) == 1


async def test_a_lost_answer_then_404_counts_as_gone_even_for_a_folder_that_never_existed(
    fast: Client, inro_server: FakeInro
) -> None:
    # The client cannot tell a reset before processing from one after it; either way no folder
    # 999999 exists now, which is what a delete asks for. Documented in the transport.
    inro_server.inject("reset_before", route="folders.delete")
    await fast.folders.delete(999_999)
    assert [r.status for r in inro_server.requests_to("folders.delete")][-1] == 404
