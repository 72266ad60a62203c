"""Scenarios, campaigns, segments, executions and discovery over loopback HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from inro_async import (
    Action,
    BadRequestError,
    CampaignRule,
    ContactFilter,
    NotFoundError,
    Scenario,
    Trigger,
    UnprocessableEntityError,
)
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

from .conftest import active_contact, contact_where

WELCOME = [Trigger(trigger_type="contact_create")]
GREETING = [
    Action(action_key="hi", action_type="message", content="Hi {{contact.name}}, {{trigger.code}}")
]


async def active_scenario(inro: Client) -> Scenario:
    return await inro.scenarios.create(
        title="Welcome", triggers=WELCOME, actions=GREETING, active=True
    )


# -- scenarios -------------------------------------------------------------------------------


async def test_create_from_json_resolves_parent_keys(inro_client: Client) -> None:
    scenario = await inro_client.scenarios.create(
        title="Two steps",
        triggers=[{"trigger_type": "dm_keyword", "options": {"keywords": ["price"]}}],
        actions=[
            {"action_key": "a", "action_type": "message", "content": "first"},
            {"action_key": "b", "action_type": "message", "content": "then", "parent_key": "a"},
        ],
        scenario_type="dm_to_dm",
    )
    first, second = scenario.actions
    assert (scenario.title, scenario.active, scenario.scenario_type) == (
        "Two steps",
        False,
        "dm_to_dm",
    )
    assert second.parent_id == first.id
    assert scenario.triggers[0].options == {"keywords": ["price"]}


async def test_create_from_a_template_or_a_prompt(inro_client: Client) -> None:
    (template,) = await inro_client.discovery.templates("welcome")
    from_template = await inro_client.scenarios.create(template_id=template.id)
    from_prompt = await inro_client.scenarios.create(prompt="Thank people who mention us")
    assert from_template.title == "Welcome new followers"
    assert from_prompt.actions[0].content == "Thank people who mention us"


async def test_create_from_an_unknown_template_is_a_422(inro_client: Client) -> None:
    with pytest.raises(UnprocessableEntityError, match="unknown scenario template"):
        await inro_client.scenarios.create(template_id=999)


async def test_get_list_and_iter(inro_client: Client) -> None:
    created = [await inro_client.scenarios.create(prompt=f"flow {n}") for n in range(3)]
    fetched = await inro_client.scenarios.get(created[1].id)
    assert fetched.title == "flow 1"
    assert fetched.metrics is not None
    assert fetched.metrics.executions.total == 0
    page = await inro_client.scenarios.list(per_page=2)
    assert ([s.id for s in page], page.total) == ([s.id for s in created[:2]], 3)
    walked = [s.id async for s in inro_client.scenarios.iter(per_page=2, concurrency=2)]
    assert walked == [s.id for s in created]


@pytest.mark.parametrize("inro_fake_options", [{"contacts": 5, "wrap_scenarios": True}])
async def test_a_wrapped_scenario_list_is_read_the_same(inro_client: Client) -> None:
    created = await inro_client.scenarios.create(prompt="wrapped")
    page = await inro_client.scenarios.list()
    assert [s.id for s in page] == [created.id]
    assert page.total == 1


@pytest.mark.parametrize("call", ["get", "update", "trigger", "performance"])
async def test_an_unknown_scenario_is_a_404(inro_client: Client, call: str) -> None:
    scenarios = inro_client.scenarios
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "get": lambda: scenarios.get(424242),
        "update": lambda: scenarios.update(424242, title="x"),
        "trigger": lambda: scenarios.trigger(424242, contacts=[{"id": 1}]),
        "performance": lambda: scenarios.performance(424242),
    }
    with pytest.raises(NotFoundError, match="Scenario not found"):
        await calls[call]()


async def test_update_keeps_listed_actions_and_deletes_the_rest(inro_client: Client) -> None:
    scenario = await inro_client.scenarios.create(
        triggers=WELCOME,
        actions=[
            Action(action_key="a", action_type="message", content="one"),
            Action(action_key="b", action_type="message", content="two"),
        ],
    )
    first, second = scenario.actions
    updated = await inro_client.scenarios.update(
        scenario.id,
        title="Renamed",
        active=True,
        actions=[
            Action(id=first.id, content="ONE"),
            Action(action_key="c", action_type="wait", parent_id=first.id),
        ],
    )
    assert (updated.title, updated.active) == ("Renamed", True)
    assert [a.content for a in updated.actions] == ["ONE", None]
    assert second.id not in [a.id for a in updated.actions]
    assert updated.actions[1].parent_id == first.id


async def test_an_update_with_a_foreign_action_id_changes_nothing(
    inro_client: Client, org: Organization
) -> None:
    scenario = await active_scenario(inro_client)
    with pytest.raises(UnprocessableEntityError, match="does not belong here"):
        await inro_client.scenarios.update(
            scenario.id, title="never saved", actions=[Action(id=999_999)]
        )
    assert org.scenarios[scenario.id]["title"] == "Welcome"


async def test_update_replaces_triggers(inro_client: Client) -> None:
    scenario = await active_scenario(inro_client)
    updated = await inro_client.scenarios.update(
        scenario.id, triggers=[Trigger(trigger_type="story_mention")]
    )
    assert [t.trigger_type for t in updated.triggers] == ["story_mention"]


async def test_trigger_runs_the_scenario_with_the_data(
    inro_client: Client, org: Organization
) -> None:
    scenario = await active_scenario(inro_client)
    contact = active_contact(org, with_email=True)
    result = await inro_client.scenarios.trigger(
        scenario.id,
        contacts=[{"email": contact["email"]}, {"username": "no.such.user"}],
        data={"code": "SPRING"},
    )
    assert (result.accepted_count, result.not_found_count) == (1, 1)
    assert result.not_found == [{"username": "no.such.user"}]
    (delivery,) = org.deliveries
    assert delivery.content == f"Hi {contact['name']}, SPRING"
    assert delivery.source == "scenario"


async def test_triggering_an_inactive_scenario_is_a_422(
    inro_client: Client, org: Organization
) -> None:
    scenario = await inro_client.scenarios.create(triggers=WELCOME, actions=GREETING)
    with pytest.raises(UnprocessableEntityError, match="not active"):
        await inro_client.scenarios.trigger(scenario.id, contacts=[{"id": 1}])
    assert org.deliveries == []


async def test_trigger_many_runs_it_once_per_contact(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    scenario = await active_scenario(inro_client)
    active = [cid for cid, c in org.contacts.items() if c["status"] == "active"][:10]
    report = await inro_client.scenarios.trigger_many(
        scenario.id, [*active, active[0]], data={"code": "X"}
    )
    assert (report.done, report.duplicates) == (10, 1)
    assert org.delivery_counts() == {cid: 1 for cid in active}
    assert len(inro_server.requests_to("scenarios.trigger")) == 1


async def test_performance_counts_each_step(inro_client: Client, org: Organization) -> None:
    scenario = await active_scenario(inro_client)
    optout = contact_where(org, lambda c: c["status"] == "optout")
    await inro_client.scenarios.trigger(
        scenario.id, contacts=[{"id": active_contact(org)["id"]}, {"id": optout["id"]}]
    )
    now = datetime.now(UTC)
    funnel = await inro_client.scenarios.performance(
        scenario.id, since=now - timedelta(days=1), until=now + timedelta(days=1)
    )
    (step,) = funnel.steps
    assert (funnel.scenario_id, step.arrived, step.passed) == (scenario.id, 2, 1)
    assert step.dropped == {"contact_not_active": 1}


# -- campaigns -------------------------------------------------------------------------------


async def test_campaign_create_get_list_iter(inro_client: Client) -> None:
    draft = await inro_client.campaigns.create(
        title="Spring promo",
        actions=[Action(action_key="m", action_type="message", content="20% off")],
        campaign_rules=[CampaignRule(list_type="folder", destination_id=3)],
    )
    assert (draft.status, draft.campaign_rules[0].destination_id) == ("draft", 3)
    blank = await inro_client.campaigns.create()
    templated = await inro_client.campaigns.create(template_id=601, campaign_folder_id=9)
    assert (blank.title, templated.title, templated.campaign_folder_id) == (
        "Untitled campaign",
        "Black Friday broadcast",
        9,
    )
    assert (await inro_client.campaigns.get(draft.id)).title == "Spring promo"
    page = await inro_client.campaigns.list(search="promo")
    assert [c.id for c in page] == [draft.id]
    newest = [c.id async for c in inro_client.campaigns.iter(sort_direction="desc", per_page=1)]
    assert newest == [templated.id, blank.id, draft.id]
    filed = await inro_client.campaigns.list(campaign_folder_id=9, status="draft")
    assert [c.id for c in filed] == [templated.id]


async def test_a_rule_naming_an_unknown_folder_is_a_422(inro_client: Client) -> None:
    with pytest.raises(UnprocessableEntityError, match="unknown folder"):
        await inro_client.campaigns.create(
            campaign_rules=[{"list_type": "folder", "destination_id": 424242}]
        )


async def test_a_list_sorted_by_an_unknown_column_is_a_400(inro_client: Client) -> None:
    with pytest.raises(BadRequestError, match="sort_by must be") as caught:
        await inro_client.campaigns.list(sort_by="colour")
    assert caught.value.body == {"error": "sort_by must be id, title, created_at or updated_at"}


@pytest.mark.parametrize("call", ["get", "update", "send", "test", "performance", "resend"])
async def test_an_unknown_campaign_is_a_404(inro_client: Client, call: str) -> None:
    campaigns = inro_client.campaigns
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "get": lambda: campaigns.get(424242),
        "update": lambda: campaigns.update(424242, title="x"),
        "send": lambda: campaigns.send(424242),
        "test": lambda: campaigns.test(424242, id=1),
        "performance": lambda: campaigns.performance(424242),
        "resend": lambda: campaigns.resend(424242),
    }
    with pytest.raises(NotFoundError, match="Campaign not found"):
        await calls[call]()


async def test_send_delivers_to_the_audience_through_a_batch_task(
    inro_client: Client, org: Organization
) -> None:
    members = org.folder_members(3)
    campaign = await inro_client.campaigns.create(
        title="VIP",
        actions=[Action(action_key="m", action_type="message", content="Thanks!")],
        campaign_rules=[CampaignRule(list_type="folder", destination_id=3)],
    )
    started = await inro_client.campaigns.send(campaign.id)
    assert started.status == "running"
    assert started.batch_task_id is not None
    task = await inro_client.batch_tasks.wait(started.batch_task_id, poll_interval=0.01)
    assert (task.task_type, task.total_count, task.processed_count) == (
        "campaign_send",
        len(members),
        len(members),
    )
    reached = {cid for cid in members if org.contacts[cid]["status"] == "active"}
    assert org.delivery_counts() == {cid: 1 for cid in reached}
    assert (await inro_client.campaigns.get(campaign.id)).status == "completed"
    funnel = await inro_client.campaigns.performance(campaign.id)
    assert (funnel.campaign_id, funnel.steps[0].passed) == (campaign.id, len(reached))
    assert (await inro_client.campaigns.resend(campaign.id)).resent_count == 0


async def test_a_segment_rule_and_an_exclusion(inro_client: Client, org: Organization) -> None:
    segment = await inro_client.segments.create(
        title="Followers", contact_filters=[ContactFilter(filter_type="is_follower", value=True)]
    )
    campaign = await inro_client.campaigns.create(
        actions=[Action(action_key="m", action_type="message", content="x")],
        campaign_rules=[
            CampaignRule(list_type="segment", destination_id=segment.id),
            CampaignRule(list_type="folder", rule_type="exclusion", destination_id=1),
        ],
    )
    started = await inro_client.campaigns.send(campaign.id)
    task = await inro_client.batch_tasks.wait(started.batch_task_id or "", poll_interval=0.01)
    excluded = set(org.folder_members(1))
    expected = {cid for cid, c in org.contacts.items() if c["is_follower"] and cid not in excluded}
    assert task.total_count == len(expected)


async def test_only_drafts_can_be_updated_or_sent(inro_client: Client) -> None:
    campaign = await inro_client.campaigns.create(title="Once")
    renamed = await inro_client.campaigns.update(
        campaign.id,
        title="Only once",
        actions=[{"action_key": "m", "action_type": "message", "content": "hey"}],
        campaign_rules=[{"list_type": "folder", "destination_id": 2}],
    )
    assert (renamed.title, len(renamed.actions), len(renamed.campaign_rules)) == (
        "Only once",
        1,
        1,
    )
    await inro_client.campaigns.send(campaign.id)
    with pytest.raises(UnprocessableEntityError, match="only drafts"):
        await inro_client.campaigns.update(campaign.id, title="too late")
    with pytest.raises(UnprocessableEntityError, match="not a draft"):
        await inro_client.campaigns.send(campaign.id)


async def test_resending_a_draft_is_a_422(inro_client: Client) -> None:
    campaign = await inro_client.campaigns.create(title="Never sent")
    with pytest.raises(UnprocessableEntityError, match="never sent"):
        await inro_client.campaigns.resend(campaign.id)


async def test_test_delivers_to_one_contact_outside_the_statistics(
    inro_client: Client, org: Organization
) -> None:
    contact = active_contact(org)
    campaign = await inro_client.campaigns.create(
        actions=[Action(action_key="m", action_type="message", content="preview")]
    )
    result = await inro_client.campaigns.test(campaign.id, username=contact["username"])
    assert (result.status, result.contact_id) == ("sent", contact["id"])
    assert [d.source for d in org.deliveries] == ["campaign_test"]
    assert (await inro_client.campaigns.performance(campaign.id)).steps[0].arrived == 0
    with pytest.raises(NotFoundError, match="Contact not found"):
        await inro_client.campaigns.test(campaign.id, email="ghost@nowhere.test")


# -- segments --------------------------------------------------------------------------------


async def test_segment_create_get_update_delete(inro_client: Client, org: Organization) -> None:
    segment = await inro_client.segments.create(
        title="Opted out",
        emoji="🚫",
        contact_filters=[{"filter_type": "status", "value": "optout"}],
    )
    optout = sum(1 for c in org.contacts.values() if c["status"] == "optout")
    assert (segment.emoji, segment.contact_count) == ("🚫", optout)
    fetched = await inro_client.segments.get(segment.id)
    assert fetched.contact_filters[0].value == "optout"
    widened = await inro_client.segments.update(
        segment.id,
        title="Not active",
        filter_logic="or",
        emoji="💤",
        contact_filters=[
            ContactFilter(filter_type="status", value="optout"),
            ContactFilter(filter_type="status", value="inactive"),
        ],
    )
    inactive = sum(1 for c in org.contacts.values() if c["status"] != "active")
    assert (widened.title, widened.filter_logic, widened.contact_count) == (
        "Not active",
        "or",
        inactive,
    )
    await inro_client.segments.delete(segment.id)
    assert segment.id not in org.segments


async def test_segment_list_and_iter(inro_client: Client) -> None:
    made = [await inro_client.segments.create(title=f"s{n}", contact_filters=[]) for n in range(3)]
    page = await inro_client.segments.list(per_page=2)
    assert ([s.id for s in page], page.total_pages) == ([s.id for s in made[:2]], 2)
    assert [s.id async for s in inro_client.segments.iter(per_page=2)] == [s.id for s in made]


async def test_a_segment_with_an_unknown_filter_is_a_400(inro_client: Client) -> None:
    with pytest.raises(BadRequestError, match="unknown filter_type"):
        await inro_client.segments.create(
            title="bad", contact_filters=[{"filter_type": "horoscope"}]
        )


@pytest.mark.parametrize("call", ["get", "update", "delete"])
async def test_an_unknown_segment_is_a_404(inro_client: Client, call: str) -> None:
    segments = inro_client.segments
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "get": lambda: segments.get(424242),
        "update": lambda: segments.update(424242, title="x"),
        "delete": lambda: segments.delete(424242),
    }
    with pytest.raises(NotFoundError, match="Segment not found"):
        await calls[call]()


# -- executions ------------------------------------------------------------------------------


async def test_executions_record_every_run(inro_client: Client, org: Organization) -> None:
    scenario = await active_scenario(inro_client)
    active = active_contact(org)
    optout = contact_where(org, lambda c: c["status"] == "optout")
    await inro_client.scenarios.trigger(scenario.id, contacts=[{"id": active["id"]}])
    await inro_client.scenarios.trigger(scenario.id, contacts=[{"id": optout["id"]}])

    page = await inro_client.executions.list(scenario_id=scenario.id)
    assert [e.contact_id for e in page] == [optout["id"], active["id"]]  # newest first
    (failed,) = await inro_client.executions.list(status="failed", execution_type="scenario")
    assert (failed.reason_code, failed.steps[0].status) == ("contact_not_active", "failed")
    walked = [e.id async for e in inro_client.executions.iter(contact_id=active["id"])]
    assert walked == [page[1].id]

    run = await inro_client.executions.get("scenario", failed.id)
    assert run.steps[0].error == "contact status is optout"
    retried = await inro_client.executions.retry("scenario", failed.id)
    assert retried.steps[0].retry_count == 1

    health = await inro_client.executions.health()
    assert (health.counts, health.failure_ratio) == ({"completed": 1, "failed": 1}, 0.5)
    assert health.top_failing == [{"id": scenario.id, "failed": 1}]


async def test_test_runs_are_listed_only_when_asked(inro_client: Client, org: Organization) -> None:
    campaign = await inro_client.campaigns.create(
        actions=[Action(action_key="m", action_type="message", content="t")]
    )
    await inro_client.campaigns.test(campaign.id, id=active_contact(org)["id"])
    assert len(await inro_client.executions.list(campaign_id=campaign.id)) == 0
    shown = await inro_client.executions.list(campaign_id=campaign.id, include_test=True)
    assert [e.is_test for e in shown] == [True]


@pytest.mark.parametrize("call", ["get", "retry"])
async def test_an_unknown_execution_is_a_404(inro_client: Client, call: str) -> None:
    executions = inro_client.executions
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "get": lambda: executions.get("campaign", 424242),
        "retry": lambda: executions.retry("campaign", 424242),
    }
    with pytest.raises(NotFoundError, match="Execution not found"):
        await calls[call]()


# -- discovery -------------------------------------------------------------------------------


async def test_discovery_vocabularies(inro_client: Client) -> None:
    triggers = await inro_client.discovery.trigger_types()
    actions = await inro_client.discovery.action_types()
    filters = await inro_client.discovery.contact_filter_types()
    assert "contact_create" in [t.type for t in triggers]
    assert "message" in [a.type for a in actions]
    status = next(f for f in filters if f.type == "status")
    assert "eq" in status.options["operators"]


async def test_templates_are_searchable(inro_client: Client) -> None:
    everything = await inro_client.discovery.templates()
    found = await inro_client.discovery.templates("black friday")
    assert len(everything) == 3
    assert [(t.id, t.kind) for t in found] == [(601, "campaign")]
