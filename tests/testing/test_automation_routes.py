"""Every automation route of the fake server over loopback HTTP: scenarios, campaigns, segments,
executions and discovery, each happy path and each documented error.

Sections of ``/work/shared/inro-api.md`` are cited as "ref 7.9" etc. Where the reference leaves a
shape or status open, the test pins the answer recorded in ``docs/wire.md`` and says so; where
the reference marks a route as guessed ([mcp]/[inferred]), the test pins what the fake does.
"""

from __future__ import annotations

from typing import Any

import pytest

from inro_async._routes import ROUTES
from inro_async.testing import FakeInro
from inro_async.testing._handlers import campaigns, discovery, executions, scenarios, segments

from .conftest import Http

WELCOME: dict[str, Any] = {
    "title": "Welcome flow",
    "triggers": [{"trigger_type": "contact_create"}],
    "actions": [{"action_key": "msg1", "action_type": "message", "content": "Hi"}],
}
"""The help article's minimal ``triggers`` + ``actions`` body (ref 7.9)."""

TREE: list[dict[str, Any]] = [
    {"action_key": "hello", "action_type": "message", "content": "Hello"},
    {
        "action_key": "tag",
        "action_type": "folder",
        "options": {"folder_ids": [1], "folder_action": "add"},
        "parent_key": "hello",
    },
    {"action_key": "bye", "action_type": "message", "content": "Bye", "parent_key": "tag"},
]
"""Three chained actions: hello → tag → bye."""

FAR_FUTURE = "2999-01-01T00:00:00Z"
LONG_AGO = "2000-01-01T00:00:00Z"


# -- helpers ----------------------------------------------------------------------------------


async def create_scenario(http: Http, **body: Any) -> dict[str, Any]:
    reply = await http.post("/scenarios", {**WELCOME, "active": True, **body})
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def create_tree(http: Http) -> tuple[dict[str, Any], dict[str, int]]:
    """A scenario with the three chained actions, and its action ids by key."""
    scenario = await create_scenario(http, actions=TREE)
    return scenario, {a["action_key"]: a["id"] for a in scenario["actions"]}


async def create_folder(http: Http, contact_ids: list[int]) -> int:
    created = await http.post("/folders", {"name": f"Audience {contact_ids}", "color": "blue"})
    folder_id = int(created.body["id"])
    await http.post(f"/folders/{folder_id}/contacts", {"contact_ids": contact_ids})
    return folder_id


async def create_campaign(http: Http, **body: Any) -> dict[str, Any]:
    payload = {
        "title": "Spring promo",
        "actions": [{"action_key": "msg1", "action_type": "message", "content": "Spring!"}],
        **body,
    }
    reply = await http.post("/campaigns", payload)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def finished_task(fake: FakeInro, http: Http, task_id: str) -> dict[str, Any]:
    """The batch task once the server's background work is done (polling would hit 20/s)."""
    await fake.drain()
    reply = await http.get(f"/batch_tasks/{task_id}")
    assert reply.status == 200, reply.body
    return dict(reply.body)


async def send_campaign(fake: FakeInro, http: Http, campaign_id: int) -> dict[str, Any]:
    sent = await http.post(f"/campaigns/{campaign_id}/send")
    assert sent.status == 202, sent.body
    return await finished_task(fake, http, sent.body["batch_task_id"])


def active_ids(fake: FakeInro, count: int) -> list[int]:
    return [cid for cid, c in fake.org.contacts.items() if c["status"] == "active"][:count]


def inactive_id(fake: FakeInro) -> int:
    return next(cid for cid, c in fake.org.contacts.items() if c["status"] != "active")


async def template_id(http: Http, kind: str) -> int:
    reply = await http.get("/templates")
    return int(next(t["id"] for t in reply.body if t["kind"] == kind))


# -- coverage guard ---------------------------------------------------------------------------

COVERED = {
    "scenarios.list", "scenarios.get", "scenarios.create", "scenarios.update",
    "scenarios.trigger", "scenarios.performance",
    "campaigns.list", "campaigns.get", "campaigns.create", "campaigns.update",
    "campaigns.send", "campaigns.test", "campaigns.performance", "campaigns.resend",
    "segments.list", "segments.get", "segments.create", "segments.update", "segments.delete",
    "executions.health", "executions.list", "executions.get", "executions.retry",
    "discovery.trigger_types", "discovery.action_types", "discovery.contact_filter_types",
    "discovery.templates",
}  # fmt: skip


def test_this_file_covers_every_automation_route() -> None:
    modules = (scenarios, campaigns, segments, executions, discovery)
    assert {name for module in modules for name in module.HANDLERS} == COVERED
    assert set(ROUTES) >= COVERED


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/scenarios/99999"),
        ("PATCH", "/scenarios/99999"),
        ("POST", "/scenarios/99999/trigger"),
        ("GET", "/scenarios/99999/performance"),
        ("GET", "/campaigns/99999"),
        ("PATCH", "/campaigns/99999"),
        ("POST", "/campaigns/99999/send"),
        ("POST", "/campaigns/99999/test"),
        ("GET", "/campaigns/99999/performance"),
        ("POST", "/campaigns/99999/resend"),
        ("GET", "/segments/99999"),
        ("PATCH", "/segments/99999"),
        ("DELETE", "/segments/99999"),
        ("GET", "/executions/scenario/99999"),
        ("POST", "/executions/campaign/99999/retry"),
        ("GET", "/executions/story/1"),  # only scenario and campaign runs exist
    ],
)
async def test_an_unknown_id_is_a_json_404(http: Http, method: str, path: str) -> None:
    reply = await http.call(method, path, json={})
    assert reply.status == 404
    assert "error" in reply.body


# -- scenarios: list and get (ref 7.9, [inferred]) --------------------------------------------


async def test_scenarios_are_listed_as_a_bare_array_with_paging_headers(http: Http) -> None:
    first = await create_scenario(http, title="One")
    await create_scenario(http, title="Two")
    reply = await http.get("/scenarios", per_page=1)
    assert reply.status == 200
    assert [s["id"] for s in reply.body] == [first["id"]]
    assert (reply.headers["X-Total"], reply.headers["X-Total-Pages"]) == ("2", "2")


async def test_wrap_scenarios_answers_the_list_under_a_scenarios_key(
    fake: FakeInro, http: Http
) -> None:
    # Ref section 4: third-party code reads {"scenarios": [...]}; the fake makes it an option.
    created = await create_scenario(http)
    fake.wrap_scenarios = True
    reply = await http.get("/scenarios")
    assert reply.status == 200
    assert [s["id"] for s in reply.body["scenarios"]] == [created["id"]]
    assert reply.headers["X-Total"] == "1"


async def test_listed_scenarios_carry_the_metrics_third_party_code_reads(http: Http) -> None:
    await create_scenario(http)
    metrics = (await http.get("/scenarios")).body[0]["metrics"]
    assert set(metrics) == {"executions", "conversions"}
    assert set(metrics["executions"]) == {"total", "last_7_days"}


async def test_a_scenario_is_fetched_by_id(http: Http) -> None:
    created = await create_scenario(http)
    reply = await http.get(f"/scenarios/{created['id']}")
    assert reply.status == 200
    assert reply.body == created


async def test_a_scenarios_metrics_count_its_runs(http: Http) -> None:
    scenario = await create_scenario(http)
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": 1}, {"id": 2}]})
    reply = await http.get(f"/scenarios/{scenario['id']}")
    assert reply.body["metrics"]["executions"]["total"] == 2


# -- scenarios: create, three exclusive modes (ref 7.9) ---------------------------------------


async def test_a_scenario_is_created_from_triggers_and_actions(http: Http) -> None:
    reply = await http.post("/scenarios", WELCOME)
    assert reply.status == 201
    # The REST body is not documented (MCP code reads result.scenario.id); wire.md: bare.
    scenario = reply.body
    assert (scenario["title"], scenario["active"]) == ("Welcome flow", False)
    assert [t["trigger_type"] for t in scenario["triggers"]] == ["contact_create"]
    action = scenario["actions"][0]
    assert (action["action_key"], action["content"]) == ("msg1", "Hi")
    assert isinstance(action["id"], int)
    assert isinstance(scenario["triggers"][0]["id"], int)


async def test_a_scenario_is_cloned_from_a_scenario_template(http: Http) -> None:
    reply = await http.post("/scenarios", {"template_id": await template_id(http, "scenario")})
    assert reply.status == 201
    # What a clone holds is the fake's invention: the template's title and one message.
    assert reply.body["title"] == "Welcome new followers"
    assert reply.body["actions"]


async def test_a_campaign_template_cannot_create_a_scenario(http: Http) -> None:
    reply = await http.post("/scenarios", {"template_id": await template_id(http, "campaign")})
    assert reply.status == 422


async def test_an_unknown_template_is_422(http: Http) -> None:
    assert (await http.post("/scenarios", {"template_id": 99999})).status == 422


async def test_a_scenario_is_generated_from_a_prompt(http: Http) -> None:
    reply = await http.post("/scenarios", {"prompt": "Thank people who comment on my reels"})
    assert reply.status == 201
    # The AI generation is out of reach; the fake turns the prompt into one message action.
    assert reply.body["triggers"]
    assert reply.body["actions"][0]["content"] == "Thank people who comment on my reels"


async def test_an_empty_prompt_is_400(http: Http) -> None:
    assert (await http.post("/scenarios", {"prompt": "  "})).status == 400


async def test_creating_a_scenario_without_a_mode_is_400(http: Http) -> None:
    reply = await http.post("/scenarios", {"title": "Nothing"})
    assert reply.status == 400
    assert "exactly one creation mode" in reply.body["error"]


@pytest.mark.parametrize(
    "modes",
    [
        {"template_id": 501, "prompt": "hello"},
        {"template_id": 501, **WELCOME},
        {"prompt": "hello", **WELCOME},
        {"template_id": 501, "prompt": "hello", **WELCOME},
        {"template_id": 501, "actions": WELCOME["actions"]},
    ],
    ids=["template+prompt", "template+json", "prompt+json", "all-three", "template+actions"],
)
async def test_creating_a_scenario_with_several_modes_is_400(
    http: Http, modes: dict[str, Any]
) -> None:
    reply = await http.post("/scenarios", modes)
    assert reply.status == 400
    assert (await http.get("/scenarios")).body == []


@pytest.mark.parametrize("missing", ["triggers", "actions"])
async def test_a_json_definition_needs_both_triggers_and_actions(http: Http, missing: str) -> None:
    body = {k: v for k, v in WELCOME.items() if k != missing}
    assert (await http.post("/scenarios", body)).status == 400


async def test_new_actions_link_to_their_parent_by_key(http: Http) -> None:
    _, ids = await create_tree(http)
    scenario = (await http.get("/scenarios")).body[0]
    parents = {a["action_key"]: a["parent_id"] for a in scenario["actions"]}
    assert parents == {"hello": None, "tag": ids["hello"], "bye": ids["tag"]}


@pytest.mark.parametrize(
    "action",
    [
        {"action_type": "message", "content": "no key"},
        {"action_key": "k", "content": "no type"},
        {"action_key": "msg1", "action_type": "message"},  # msg1 is already used
        {"action_key": "k", "action_type": "message", "parent_key": "nowhere"},
        {"action_key": "k", "action_type": "message", "parent_id": 1},
        {"action_key": "k", "action_type": "message", "parent_key": "msg1", "parent_id": 1},
        {"id": 1, "action_key": "k"},  # no existing action to name on create
    ],
    ids=["no-key", "no-type", "duplicate-key", "bad-parent-key", "bad-parent-id",
         "both-parents", "foreign-id"],
)  # fmt: skip
async def test_a_scenario_with_a_bad_action_is_422_and_not_created(
    http: Http, action: dict[str, Any]
) -> None:
    body = {**WELCOME, "actions": [*WELCOME["actions"], action]}
    assert (await http.post("/scenarios", body)).status == 422
    assert (await http.get("/scenarios")).body == []


async def test_a_new_trigger_needs_a_trigger_type(http: Http) -> None:
    body = {**WELCOME, "triggers": [{"options": {}}]}
    assert (await http.post("/scenarios", body)).status == 422


@pytest.mark.parametrize(
    "body",
    [{**WELCOME, "actions": {"msg1": {}}}, {**WELCOME, "triggers": "contact_create"},
     {**WELCOME, "actions": ["msg1"]}],
    ids=["actions-object", "triggers-string", "action-not-object"],
)  # fmt: skip
async def test_a_malformed_definition_is_400(http: Http, body: dict[str, Any]) -> None:
    assert (await http.post("/scenarios", body)).status == 400


# -- scenarios: PATCH, the authoritative lists (ref 7.9) --------------------------------------


async def test_patching_title_and_active_leaves_triggers_and_actions_alone(http: Http) -> None:
    scenario, _ = await create_tree(http)
    reply = await http.patch(f"/scenarios/{scenario['id']}", {"title": "Renamed", "active": False})
    assert reply.status == 200
    assert (reply.body["title"], reply.body["active"]) == ("Renamed", False)
    assert reply.body["actions"] == scenario["actions"]
    assert reply.body["triggers"] == scenario["triggers"]


async def test_an_action_named_by_id_alone_is_kept_unchanged(http: Http) -> None:
    scenario, ids = await create_tree(http)
    body = {"actions": [{"id": ids[key]} for key in ("hello", "tag", "bye")]}
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    assert reply.status == 200
    assert reply.body["actions"] == scenario["actions"]


async def test_an_action_with_id_and_fields_is_partially_updated(http: Http) -> None:
    scenario, ids = await create_tree(http)
    body = {
        "actions": [
            {"id": ids["hello"], "content": "Hello again"},
            {"id": ids["tag"]},
            {"id": ids["bye"]},
        ]
    }
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    hello = reply.body["actions"][0]
    assert (hello["id"], hello["content"]) == (ids["hello"], "Hello again")
    assert (hello["action_key"], hello["action_type"]) == ("hello", "message")


async def test_an_action_without_id_is_created_under_an_existing_parent(http: Http) -> None:
    scenario, ids = await create_tree(http)
    new = {"action_key": "ps", "action_type": "message", "content": "PS", "parent_id": ids["bye"]}
    body = {"actions": [{"id": ids[key]} for key in ("hello", "tag", "bye")] + [new]}
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    assert reply.status == 200
    created = reply.body["actions"][-1]
    assert created["id"] not in ids.values()
    assert (created["action_key"], created["parent_id"]) == ("ps", ids["bye"])


async def test_a_new_action_can_hang_under_another_new_action_by_key(http: Http) -> None:
    scenario, ids = await create_tree(http)
    body = {
        "actions": [
            {"id": ids["hello"]},
            {"action_key": "ask", "action_type": "message", "parent_id": ids["hello"]},
            {"action_key": "thanks", "action_type": "message", "parent_key": "ask"},
        ]
    }
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    ask, thanks = reply.body["actions"][1:]
    assert thanks["parent_id"] == ask["id"]


async def test_actions_left_out_of_the_list_are_deleted(http: Http) -> None:
    scenario, ids = await create_tree(http)
    reply = await http.patch(f"/scenarios/{scenario['id']}", {"actions": [{"id": ids["hello"]}]})
    assert reply.status == 200
    assert [a["id"] for a in reply.body["actions"]] == [ids["hello"]]
    fetched = await http.get(f"/scenarios/{scenario['id']}")
    assert [a["id"] for a in fetched.body["actions"]] == [ids["hello"]]


async def test_an_empty_action_list_deletes_every_action(http: Http) -> None:
    scenario, _ = await create_tree(http)
    reply = await http.patch(f"/scenarios/{scenario['id']}", {"actions": []})
    assert reply.body["actions"] == []


async def test_a_kept_action_cannot_lose_its_parent(http: Http) -> None:
    # "tag" is left out (deleted) while its child "bye" is kept and still points at it: every
    # reference is checked before saving (ref 7.9), so the fake refuses the dangling parent.
    scenario, ids = await create_tree(http)
    body = {"actions": [{"id": ids["hello"]}, {"id": ids["bye"]}]}
    assert (await http.patch(f"/scenarios/{scenario['id']}", body)).status == 422


async def test_a_kept_action_can_be_moved_to_another_parent(http: Http) -> None:
    scenario, ids = await create_tree(http)
    body = {"actions": [{"id": ids["hello"]}, {"id": ids["bye"], "parent_id": ids["hello"]}]}
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    assert reply.status == 200
    assert reply.body["actions"][1]["parent_id"] == ids["hello"]


async def test_a_parent_id_that_is_being_deleted_does_not_resolve(http: Http) -> None:
    scenario, ids = await create_tree(http)
    new = {"action_key": "ps", "action_type": "message", "parent_id": ids["bye"]}
    body = {"actions": [{"id": ids["hello"]}, {"id": ids["tag"]}, new]}  # bye is left out
    assert (await http.patch(f"/scenarios/{scenario['id']}", body)).status == 422


async def test_a_new_action_cannot_name_both_parent_key_and_parent_id(http: Http) -> None:
    scenario, ids = await create_tree(http)
    new = {"action_key": "ps", "action_type": "message", "parent_key": "x", "parent_id": ids["bye"]}
    body = {"actions": [{"id": ids[key]} for key in ("hello", "tag", "bye")] + [new]}
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    assert reply.status == 422
    assert "mutually exclusive" in reply.body["error"]


async def test_an_action_of_another_scenario_cannot_be_kept(http: Http) -> None:
    scenario, _ = await create_tree(http)
    other = await create_scenario(http)
    body = {"actions": [{"id": other["actions"][0]["id"]}]}
    assert (await http.patch(f"/scenarios/{scenario['id']}", body)).status == 422


async def test_triggers_left_out_are_deleted_and_new_ones_created(http: Http) -> None:
    scenario = await create_scenario(http)
    old = scenario["triggers"][0]["id"]
    comment = {"trigger_type": "comment", "options": {"comment_options": {"allow_replies": True}}}
    reply = await http.patch(f"/scenarios/{scenario['id']}", {"triggers": [comment]})
    assert reply.status == 200
    (trigger,) = reply.body["triggers"]
    assert trigger["id"] != old
    assert (trigger["trigger_type"], trigger["options"]) == ("comment", comment["options"])


async def test_a_trigger_named_by_id_is_kept(http: Http) -> None:
    scenario = await create_scenario(http)
    body = {"triggers": [{"id": scenario["triggers"][0]["id"]}, {"trigger_type": "webhook"}]}
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    assert reply.body["triggers"][0] == scenario["triggers"][0]
    assert reply.body["triggers"][1]["trigger_type"] == "webhook"


async def test_a_trigger_of_another_scenario_cannot_be_kept(http: Http) -> None:
    scenario = await create_scenario(http)
    other = await create_scenario(http)
    body = {"triggers": [{"id": other["triggers"][0]["id"]}]}
    assert (await http.patch(f"/scenarios/{scenario['id']}", body)).status == 422


async def test_a_failing_patch_changes_nothing(http: Http) -> None:
    scenario, ids = await create_tree(http)
    before = (await http.get(f"/scenarios/{scenario['id']}")).body
    body = {
        "title": "Should not stick",
        "active": False,
        "triggers": [{"trigger_type": "comment"}],
        "actions": [
            {"id": ids["hello"], "content": "changed"},
            {"action_key": "new", "action_type": "message", "parent_key": "missing"},
        ],
    }
    reply = await http.patch(f"/scenarios/{scenario['id']}", body)
    assert reply.status == 422
    assert "missing" in reply.body["error"]
    assert (await http.get(f"/scenarios/{scenario['id']}")).body == before


# -- scenarios: trigger (ref 7.9) -------------------------------------------------------------


async def test_trigger_data_becomes_trigger_variables(fake: FakeInro, http: Http) -> None:
    content = "Hi {{contact.username}}, your {{ trigger.plan }} plan starts {{trigger.day}}"
    scenario = await create_scenario(
        http, actions=[{"action_key": "m", "action_type": "message", "content": content}]
    )
    (contact_id,) = active_ids(fake, 1)
    body = {"contacts": [{"id": contact_id}], "data": {"plan": "Pro", "day": "Monday"}}
    reply = await http.post(f"/scenarios/{scenario['id']}/trigger", body)
    assert reply.status == 202
    username = fake.org.contacts[contact_id]["username"]
    (delivery,) = fake.org.deliveries_to(contact_id)
    assert delivery.content == f"Hi {username}, your Pro plan starts Monday"
    assert delivery.source == "scenario"


async def test_trigger_without_data_still_works(fake: FakeInro, http: Http) -> None:
    scenario = await create_scenario(http)
    (contact_id,) = active_ids(fake, 1)
    reply = await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": 1}]})
    assert reply.status == 202
    assert reply.body["accepted_count"] == 1
    assert fake.org.deliveries_to(contact_id)[0].content == "Hi"


async def test_trigger_finds_contacts_by_id_username_or_email_and_reports_misses(
    fake: FakeInro, http: Http
) -> None:
    scenario = await create_scenario(http)
    a, b, c = (fake.org.contacts[cid] for cid in active_ids(fake, 3))
    contacts = [
        {"id": a["id"]},
        {"username": b["username"]},
        {"email": c["email"]},
        {"email": "ghost@nowhere.test"},
    ]
    reply = await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": contacts})
    # The reply is undocumented (ref 7.9); wire.md: like the bulk update's.
    assert reply.body == {
        "status": "queued",
        "accepted_count": 3,
        "not_found_count": 1,
        "not_found": [{"email": "ghost@nowhere.test"}],
    }
    assert set(fake.org.delivery_counts()) == {a["id"], b["id"], c["id"]}


async def test_a_contact_named_twice_is_run_and_counted_once(fake: FakeInro, http: Http) -> None:
    scenario = await create_scenario(http)
    contact = fake.org.contacts[active_ids(fake, 1)[0]]
    contacts = [{"id": contact["id"]}, {"username": contact["username"]}]
    reply = await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": contacts})
    assert reply.body["accepted_count"] == 1
    assert fake.org.delivery_counts() == {contact["id"]: 1}


async def test_triggering_an_inactive_scenario_is_422(fake: FakeInro, http: Http) -> None:
    scenario = await create_scenario(http, active=False)
    reply = await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": 1}]})
    assert reply.status == 422  # wire.md's decision; the reference is silent
    assert fake.org.deliveries == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"contacts": []},
        {"contacts": {"id": 1}},
        {"contacts": [{}]},
        {"contacts": [{"id": 1, "email": "a@b.test"}]},
        {"contacts": [{"id": "one"}]},
        {"contacts": [{"id": 1}], "data": ["plan", "Pro"]},
        {"contacts": [{"id": 1}], "data": "plan=Pro"},
        {"contacts": [{"id": 1}], "data": []},
        {"contacts": [{"id": 1}] * 1001},  # no cap is documented; 1,000 is inferred
    ],
    ids=["no-contacts", "empty", "not-a-list", "no-identifier", "two-identifiers", "bad-id",
         "data-list", "data-string", "data-empty-list", "over-1000"],
)  # fmt: skip
async def test_a_malformed_trigger_is_400_and_runs_nothing(
    fake: FakeInro, http: Http, body: dict[str, Any]
) -> None:
    scenario = await create_scenario(http)
    assert (await http.post(f"/scenarios/{scenario['id']}/trigger", body)).status == 400
    assert fake.org.executions == []


async def test_a_trigger_for_a_contact_who_is_not_active_records_a_failed_run(
    fake: FakeInro, http: Http
) -> None:
    scenario = await create_scenario(http)
    contact_id = inactive_id(fake)
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": contact_id}]})
    assert fake.org.deliveries == []
    (run,) = (await http.get("/executions", contact_id=contact_id)).body
    assert (run["status"], run["reason_code"]) == ("failed", "contact_not_active")


async def test_scenario_performance_is_a_funnel_per_step(fake: FakeInro, http: Http) -> None:
    scenario, ids = await create_tree(http)
    contacts = [{"id": cid} for cid in [*active_ids(fake, 2), inactive_id(fake)]]
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": contacts})
    reply = await http.get(f"/scenarios/{scenario['id']}/performance")
    assert reply.status == 200
    hello = reply.body["steps"][0]
    assert hello["action_id"] == ids["hello"]
    assert (hello["arrived"], hello["passed"]) == (3, 2)
    assert hello["dropped"] == {"contact_not_active": 1}
    assert reply.body["steps"][2]["arrived"] == 2  # the failed run stopped at the first step


# -- campaigns (ref 7.10, all paths [mcp]) ----------------------------------------------------


async def test_a_campaign_without_a_definition_is_a_blank_draft(http: Http) -> None:
    reply = await http.post("/campaigns", {"title": "Later"})
    assert reply.status == 201
    assert (reply.body["status"], reply.body["actions"], reply.body["campaign_rules"]) == (
        "draft",
        [],
        [],
    )


async def test_a_campaign_is_created_from_actions_and_rules(http: Http) -> None:
    rules = [
        {"list_type": "folder", "rule_type": "inclusion", "destination_id": 1},
        {"list_type": "folder", "rule_type": "exclusion", "destination_id": 2},
    ]
    campaign = await create_campaign(http, campaign_rules=rules)
    assert campaign["status"] == "draft"
    assert campaign["campaign_rules"] == rules
    assert [a["action_key"] for a in campaign["actions"]] == ["msg1"]


async def test_a_campaign_is_cloned_from_a_campaign_template(http: Http) -> None:
    reply = await http.post("/campaigns", {"template_id": await template_id(http, "campaign")})
    assert reply.status == 201
    assert reply.body["title"] == "Black Friday broadcast"  # the clone's content is the fake's


async def test_a_scenario_template_cannot_create_a_campaign(http: Http) -> None:
    reply = await http.post("/campaigns", {"template_id": await template_id(http, "scenario")})
    assert reply.status == 422


@pytest.mark.parametrize("extra", ["actions", "campaign_rules"])
async def test_template_id_cannot_be_combined_with_a_definition(http: Http, extra: str) -> None:
    body = {"template_id": await template_id(http, "campaign"), extra: []}
    assert (await http.post("/campaigns", body)).status == 400
    assert (await http.get("/campaigns")).body == []


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ({"list_type": "folder", "destination_id": 99999}, 422),
        ({"list_type": "segment", "destination_id": 1}, 422),  # folder 1 is not a segment
        ({"list_type": "tag", "destination_id": 1}, 400),
        ({"list_type": "folder", "rule_type": "maybe", "destination_id": 1}, 400),
    ],
    ids=["unknown-folder", "unknown-segment", "bad-list-type", "bad-rule-type"],
)
async def test_a_campaign_rule_must_name_a_known_folder_or_segment(
    http: Http, rule: dict[str, Any], status: int
) -> None:
    assert (await http.post("/campaigns", {"campaign_rules": [rule]})).status == status


async def test_a_rule_without_rule_type_is_an_inclusion(http: Http) -> None:
    campaign = await create_campaign(
        http, campaign_rules=[{"list_type": "folder", "destination_id": 1}]
    )
    assert campaign["campaign_rules"][0]["rule_type"] == "inclusion"


async def test_a_campaign_action_reference_that_does_not_resolve_is_422(http: Http) -> None:
    actions = [{"action_key": "a", "action_type": "message", "parent_key": "nowhere"}]
    assert (await http.post("/campaigns", {"actions": actions})).status == 422


async def test_a_campaign_is_fetched_by_id(http: Http) -> None:
    campaign = await create_campaign(http)
    reply = await http.get(f"/campaigns/{campaign['id']}")
    assert (reply.status, reply.body) == (200, campaign)


async def test_campaigns_are_filtered_by_status_and_search(fake: FakeInro, http: Http) -> None:
    spring = await create_campaign(http, title="Spring promo")
    summer = await create_campaign(http, title="Summer promo")
    await send_campaign(fake, http, summer["id"])
    drafts = await http.get("/campaigns", status="draft")
    assert [c["id"] for c in drafts.body] == [spring["id"]]
    found = await http.get("/campaigns", search="SUMMER")
    assert [c["id"] for c in found.body] == [summer["id"]]
    assert found.headers["X-Total"] == "1"


async def test_campaigns_are_filtered_by_campaign_folder(http: Http) -> None:
    filed = await create_campaign(http, campaign_folder_id=7)
    await create_campaign(http)
    reply = await http.get("/campaigns", campaign_folder_id=7)
    assert [c["id"] for c in reply.body] == [filed["id"]]


async def test_campaigns_are_sorted_by_sort_by_and_sort_direction(http: Http) -> None:
    for title in ("Beta", "Alpha", "Gamma"):
        await create_campaign(http, title=title)
    reply = await http.get("/campaigns", sort_by="title", sort_direction="desc")
    assert [c["title"] for c in reply.body] == ["Gamma", "Beta", "Alpha"]
    # Allowed sort_by values are undocumented; the fake takes id, title, created_at, updated_at.
    assert (await http.get("/campaigns", sort_by="password")).status == 400


async def test_a_draft_campaign_can_be_updated(http: Http) -> None:
    campaign = await create_campaign(http)
    kept = campaign["actions"][0]["id"]
    body = {
        "title": "Spring promo v2",
        "actions": [
            {"id": kept, "content": "Spring is here"},
            {"action_key": "msg2", "action_type": "message", "content": "PS", "parent_id": kept},
        ],
        "campaign_rules": [{"list_type": "folder", "rule_type": "inclusion", "destination_id": 3}],
    }
    reply = await http.patch(f"/campaigns/{campaign['id']}", body)
    assert reply.status == 200
    assert reply.body["title"] == "Spring promo v2"
    assert [a["content"] for a in reply.body["actions"]] == ["Spring is here", "PS"]
    assert [r["destination_id"] for r in reply.body["campaign_rules"]] == [3]


async def test_a_campaign_update_follows_the_authoritative_actions_rules(http: Http) -> None:
    campaign = await create_campaign(http)
    new = {"action_key": "only", "action_type": "message", "content": "Only"}
    reply = await http.patch(f"/campaigns/{campaign['id']}", {"actions": [new]})
    assert [a["action_key"] for a in reply.body["actions"]] == ["only"]  # msg1 was deleted


async def test_a_failing_campaign_update_changes_nothing(http: Http) -> None:
    campaign = await create_campaign(http)
    body = {
        "title": "Should not stick",
        "actions": [{"id": campaign["actions"][0]["id"], "content": "changed"}],
        "campaign_rules": [{"list_type": "folder", "destination_id": 99999}],
    }
    assert (await http.patch(f"/campaigns/{campaign['id']}", body)).status == 422
    assert (await http.get(f"/campaigns/{campaign['id']}")).body == campaign


async def test_a_sent_campaign_can_no_longer_be_updated(http: Http) -> None:
    campaign = await create_campaign(http)
    await http.post(f"/campaigns/{campaign['id']}/send")
    reply = await http.patch(f"/campaigns/{campaign['id']}", {"title": "Too late"})
    assert reply.status == 422
    assert "draft" in reply.body["error"]
    assert (await http.get(f"/campaigns/{campaign['id']}")).body["title"] == "Spring promo"


async def test_sending_a_campaign_returns_a_batch_task_that_goes_pending_to_completed(
    fake: FakeInro, http: Http
) -> None:
    fake.batch_delay = 0.2  # long enough to see the task pending
    folder = await create_folder(http, active_ids(fake, 3))
    campaign = await create_campaign(
        http, campaign_rules=[{"list_type": "folder", "destination_id": folder}]
    )
    sent = await http.post(f"/campaigns/{campaign['id']}/send")
    assert sent.status == 202
    assert sent.body["status"] == "running"
    assert (await http.get(f"/campaigns/{campaign['id']}")).body["status"] == "running"
    pending = await http.get(f"/batch_tasks/{sent.body['batch_task_id']}")
    assert (pending.body["status"], pending.body["task_type"]) == ("pending", "campaign_send")
    task = await finished_task(fake, http, sent.body["batch_task_id"])
    assert (task["status"], task["total_count"], task["processed_count"]) == ("completed", 3, 3)
    assert (await http.get(f"/campaigns/{campaign['id']}")).body["status"] == "completed"


async def test_a_sent_campaign_reaches_inclusions_minus_exclusions_who_are_active(
    fake: FakeInro, http: Http
) -> None:
    a, b = active_ids(fake, 2)
    c = inactive_id(fake)
    everyone = await create_folder(http, [a, b, c])
    left_out = await create_folder(http, [b])
    rules = [
        {"list_type": "folder", "rule_type": "inclusion", "destination_id": everyone},
        {"list_type": "folder", "rule_type": "exclusion", "destination_id": left_out},
    ]
    campaign = await create_campaign(http, campaign_rules=rules)
    task = await send_campaign(fake, http, campaign["id"])
    assert fake.org.delivery_counts() == {a: 1}
    assert fake.org.deliveries_to(a)[0].source == "campaign"
    assert (task["total_count"], task["failed_count"]) == (2, 1)  # c was skipped: not active


async def test_a_campaign_can_target_a_segment(fake: FakeInro, http: Http) -> None:
    a, b = active_ids(fake, 2)
    folder = await create_folder(http, [a, b])
    segment = await http.post(
        "/segments",
        {"title": "In folder", "contact_filters": [{"filter_type": "folder", "value": folder}]},
    )
    rules = [{"list_type": "segment", "destination_id": segment.body["id"]}]
    campaign = await create_campaign(http, campaign_rules=rules)
    await send_campaign(fake, http, campaign["id"])
    assert fake.org.delivery_counts() == {a: 1, b: 1}


async def test_a_campaign_can_be_sent_only_once(fake: FakeInro, http: Http) -> None:
    campaign = await create_campaign(http)
    await send_campaign(fake, http, campaign["id"])
    assert (await http.post(f"/campaigns/{campaign['id']}/send")).status == 422


async def test_a_test_send_reaches_one_contact_and_leaves_the_campaign_a_draft(
    fake: FakeInro, http: Http
) -> None:
    campaign = await create_campaign(http)
    contact = fake.org.contacts[active_ids(fake, 1)[0]]
    body = {"contact": {"username": contact["username"]}}
    reply = await http.post(f"/campaigns/{campaign['id']}/test", body)
    assert reply.status == 200
    assert reply.body == {"status": "sent", "contact_id": contact["id"]}
    (delivery,) = fake.org.deliveries
    assert (delivery.contact_id, delivery.source) == (contact["id"], "campaign_test")
    assert (await http.get(f"/campaigns/{campaign['id']}")).body["status"] == "draft"


async def test_a_test_send_to_a_missing_contact_is_a_404_naming_it(http: Http) -> None:
    campaign = await create_campaign(http)
    body = {"contact": {"username": "nobody"}}
    reply = await http.post(f"/campaigns/{campaign['id']}/test", body)
    assert reply.status == 404
    assert reply.body == {"error": "Contact not found: username nobody"}


async def test_a_test_send_is_kept_out_of_statistics(fake: FakeInro, http: Http) -> None:
    campaign = await create_campaign(http)
    await http.post(f"/campaigns/{campaign['id']}/test", {"contact": {"id": 1}})
    performance = await http.get(f"/campaigns/{campaign['id']}/performance")
    assert performance.body["steps"][0]["arrived"] == 0
    assert (await http.get("/executions")).body == []
    assert (await http.get("/executions/health")).body["counts"] == {}
    (run,) = (await http.get("/executions", include_test="true")).body
    assert (run["campaign_id"], run["is_test"]) == (campaign["id"], True)


async def test_a_scheduled_campaign_can_still_be_test_sent(fake: FakeInro, http: Http) -> None:
    # No route schedules a campaign (the reference names no schedule call), so set it directly.
    campaign = await create_campaign(http)
    fake.org.campaigns[campaign["id"]]["status"] = "scheduled"
    reply = await http.post(f"/campaigns/{campaign['id']}/test", {"contact": {"id": 1}})
    assert reply.status == 200


async def test_a_sent_campaign_cannot_be_test_sent(fake: FakeInro, http: Http) -> None:
    campaign = await create_campaign(http)
    await send_campaign(fake, http, campaign["id"])
    reply = await http.post(f"/campaigns/{campaign['id']}/test", {"contact": {"id": 1}})
    assert reply.status == 422


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"contact": 1}, 400),
        ({"contact": {}}, 400),
        ({"contact": {"id": 1, "username": "x"}}, 400),
        ({"contact": {"email": "ghost@nowhere.test"}}, 404),
    ],
    ids=["no-contact", "bare-id", "no-identifier", "two-identifiers", "unknown-contact"],
)
async def test_a_test_send_needs_exactly_one_known_contact(
    fake: FakeInro, http: Http, body: dict[str, Any], status: int
) -> None:
    campaign = await create_campaign(http)
    assert (await http.post(f"/campaigns/{campaign['id']}/test", body)).status == status
    assert fake.org.deliveries == []


async def test_campaign_performance_explains_drop_offs_with_reason_codes(
    fake: FakeInro, http: Http
) -> None:
    folder = await create_folder(http, [*active_ids(fake, 2), inactive_id(fake)])
    campaign = await create_campaign(
        http, campaign_rules=[{"list_type": "folder", "destination_id": folder}]
    )
    await send_campaign(fake, http, campaign["id"])
    reply = await http.get(f"/campaigns/{campaign['id']}/performance")
    assert reply.status == 200
    assert reply.body["campaign_id"] == campaign["id"]
    step = reply.body["steps"][0]
    assert (step["action_key"], step["arrived"], step["passed"]) == ("msg1", 3, 2)
    assert step["dropped"] == {"contact_not_active": 1}


async def test_performance_counts_only_runs_inside_since_and_until(
    fake: FakeInro, http: Http
) -> None:
    # The format of since/until is undocumented; the fake takes ISO-8601.
    folder = await create_folder(http, active_ids(fake, 2))
    campaign = await create_campaign(
        http, campaign_rules=[{"list_type": "folder", "destination_id": folder}]
    )
    await send_campaign(fake, http, campaign["id"])
    path = f"/campaigns/{campaign['id']}/performance"
    inside = await http.get(path, since=LONG_AGO, until=FAR_FUTURE)
    assert inside.body["steps"][0]["arrived"] == 2
    assert (inside.body["since"], inside.body["until"]) == (LONG_AGO, FAR_FUTURE)
    assert (await http.get(path, since=FAR_FUTURE)).body["steps"][0]["arrived"] == 0
    assert (await http.get(path, until="2000-01-01")).body["steps"][0]["arrived"] == 0
    assert (await http.get(path, since="last tuesday")).status == 400


async def test_a_sent_campaign_can_be_resent(fake: FakeInro, http: Http) -> None:
    campaign = await create_campaign(http)
    await send_campaign(fake, http, campaign["id"])
    reply = await http.post(f"/campaigns/{campaign['id']}/resend")
    assert reply.status == 202
    # Resend pushes sends paused by a broken connection or the activation quota (ref 7.10);
    # the fake never pauses a send, so there is never anything to push.
    assert reply.body == {"resent_count": 0}


async def test_a_draft_campaign_cannot_be_resent(http: Http) -> None:
    campaign = await create_campaign(http)
    assert (await http.post(f"/campaigns/{campaign['id']}/resend")).status == 422


# -- segments (ref 7.6, all paths [mcp]) ------------------------------------------------------


async def test_a_segment_is_created_with_its_filters_and_contact_count(
    fake: FakeInro, http: Http
) -> None:
    filters = [{"filter_type": "status", "operator": "neq", "value": "active"}]
    body = {"title": "Lost", "emoji": "👋", "filter_logic": "and", "contact_filters": filters}
    reply = await http.post("/segments", body)
    assert reply.status == 201
    expected = sum(1 for c in fake.org.contacts.values() if c["status"] != "active")
    assert (reply.body["title"], reply.body["emoji"]) == ("Lost", "👋")
    assert reply.body["contact_filters"] == filters
    assert reply.body["contact_count"] == expected


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "  "},
        {"title": "x", "contact_filters": [{"filter_type": "shoe_size", "value": 44}]},
        {"title": "x", "contact_filters": {"filter_type": "status"}},
        {"title": "x", "filter_logic": "xor"},
    ],
    ids=["no-title", "blank-title", "unknown-filter", "filters-not-a-list", "bad-logic"],
)
async def test_a_malformed_segment_is_400(http: Http, body: dict[str, Any]) -> None:
    assert (await http.post("/segments", body)).status == 400
    assert (await http.get("/segments")).body == []


async def test_segments_are_listed_with_their_filters(http: Http) -> None:
    filters = [{"filter_type": "is_follower", "value": True}]
    created = await http.post("/segments", {"title": "Fans", "contact_filters": filters})
    reply = await http.get("/segments")
    assert reply.status == 200
    assert reply.body == [created.body]
    assert reply.headers["X-Total"] == "1"


async def test_a_segment_is_fetched_with_its_contact_count(http: Http) -> None:
    created = await http.post("/segments", {"title": "Everyone"})
    reply = await http.get(f"/segments/{created.body['id']}")
    assert (reply.status, reply.body["contact_count"]) == (200, 60)


async def test_a_segment_update_replaces_the_whole_filter_list(http: Http) -> None:
    filters = [
        {"filter_type": "status", "value": "active"},
        {"filter_type": "is_follower", "value": True},
    ]
    created = await http.post("/segments", {"title": "Fans", "contact_filters": filters})
    replacement = [{"filter_type": "follower_count", "operator": "gt", "value": 0}]
    reply = await http.patch(f"/segments/{created.body['id']}", {"contact_filters": replacement})
    assert reply.status == 200
    assert reply.body["contact_filters"] == replacement
    assert reply.body["title"] == "Fans"


async def test_a_failing_segment_update_changes_nothing(http: Http) -> None:
    created = await http.post("/segments", {"title": "Fans"})
    path = f"/segments/{created.body['id']}"
    for body in (
        {"title": "Renamed", "contact_filters": [{"filter_type": "shoe_size"}]},
        {"title": "Renamed", "filter_logic": "xor"},
        {"title": ""},
    ):
        assert (await http.patch(path, body)).status == 400
    assert (await http.get(path)).body == created.body


async def test_a_deleted_segment_is_gone_and_its_contacts_are_kept(http: Http) -> None:
    created = await http.post("/segments", {"title": "Everyone"})
    reply = await http.delete(f"/segments/{created.body['id']}")
    assert (reply.status, reply.raw) == (204, b"")
    assert (await http.get(f"/segments/{created.body['id']}")).status == 404
    assert (await http.get("/contacts")).headers["X-Total"] == "60"


# -- executions (ref 7.11, all paths [mcp]) ---------------------------------------------------


async def test_executions_are_listed_newest_first(fake: FakeInro, http: Http) -> None:
    scenario = await create_scenario(http)
    a, b = active_ids(fake, 2)
    for contact_id in (a, b):
        await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": contact_id}]})
    reply = await http.get("/executions")
    assert reply.status == 200
    assert [e["contact_id"] for e in reply.body] == [b, a]
    assert reply.headers["X-Total"] == "2"


async def test_executions_are_filtered_by_automation_contact_status_and_type(
    fake: FakeInro, http: Http
) -> None:
    scenario = await create_scenario(http)
    a, b = active_ids(fake, 2)
    c = inactive_id(fake)
    contacts = [{"id": a}, {"id": c}]
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": contacts})
    campaign = await create_campaign(
        http,
        campaign_rules=[{"list_type": "folder", "destination_id": await create_folder(http, [b])}],
    )
    await send_campaign(fake, http, campaign["id"])

    async def contacts_of(**query: Any) -> list[int]:
        return sorted(e["contact_id"] for e in (await http.get("/executions", **query)).body)

    assert await contacts_of(scenario_id=scenario["id"]) == sorted([a, c])
    assert await contacts_of(campaign_id=campaign["id"]) == [b]
    assert await contacts_of(contact_id=c) == [c]
    assert await contacts_of(status="failed") == [c]
    assert await contacts_of(reason_code="contact_not_active") == [c]
    assert await contacts_of(type="campaign") == [b]
    assert await contacts_of(execution_type="scenario") == sorted([a, c])


async def test_executions_are_filtered_by_since_and_until(fake: FakeInro, http: Http) -> None:
    scenario = await create_scenario(http)
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": 1}]})
    assert len((await http.get("/executions", since=LONG_AGO, until=FAR_FUTURE)).body) == 1
    assert (await http.get("/executions", since=FAR_FUTURE)).body == []
    assert (await http.get("/executions", until=LONG_AGO)).body == []
    assert (await http.get("/executions", until="not a date")).status == 400


async def test_an_execution_keeps_a_snapshot_of_each_steps_settings(
    fake: FakeInro, http: Http
) -> None:
    scenario = await create_scenario(http)
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": 1}]})
    action_id = scenario["actions"][0]["id"]
    await http.patch(
        f"/scenarios/{scenario['id']}", {"actions": [{"id": action_id, "content": "New"}]}
    )
    run_id = (await http.get("/executions")).body[0]["id"]
    reply = await http.get(f"/executions/scenario/{run_id}")
    assert reply.status == 200
    (step,) = reply.body["steps"]
    assert (step["action_id"], step["status"], step["retry_count"]) == (action_id, "completed", 0)
    assert step["action_data"]["content"] == "Hi"  # taken at run time, not the current "New"


async def test_an_execution_is_addressed_by_its_type(http: Http) -> None:
    scenario = await create_scenario(http)
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": 1}]})
    run_id = (await http.get("/executions")).body[0]["id"]
    assert (await http.get(f"/executions/campaign/{run_id}")).status == 404


async def test_retrying_a_failed_run_counts_a_retry_on_its_failed_step(
    fake: FakeInro, http: Http
) -> None:
    scenario = await create_scenario(http)
    await http.post(
        f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": inactive_id(fake)}]}
    )
    run_id = (await http.get("/executions")).body[0]["id"]
    reply = await http.post(f"/executions/scenario/{run_id}/retry")
    assert reply.status == 202
    # Retry details are unknown (ref 7.11); the fake only counts the attempt on the failed step.
    assert (reply.body["id"], reply.body["steps"][0]["retry_count"]) == (run_id, 1)
    fetched = await http.get(f"/executions/scenario/{run_id}")
    assert fetched.body["steps"][0]["retry_count"] == 1


async def test_health_counts_runs_by_status_and_names_the_failing_automations(
    fake: FakeInro, http: Http
) -> None:
    scenario = await create_scenario(http)
    contacts = [{"id": cid} for cid in [*active_ids(fake, 2), inactive_id(fake)]]
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": contacts})
    reply = await http.get("/executions/health")
    assert reply.status == 200
    assert reply.body["counts"] == {"completed": 2, "failed": 1}
    assert reply.body["failure_ratio"] == pytest.approx(1 / 3, abs=1e-4)
    assert reply.body["top_failing"] == [{"id": scenario["id"], "failed": 1}]
    assert reply.body["blockers"] == []  # the fake has no broken connection or spent quota


async def test_health_counts_only_runs_inside_since_and_until(http: Http) -> None:
    scenario = await create_scenario(http)
    await http.post(f"/scenarios/{scenario['id']}/trigger", {"contacts": [{"id": 1}]})
    reply = await http.get("/executions/health", since=FAR_FUTURE)
    assert (reply.body["counts"], reply.body["failure_ratio"]) == ({}, 0.0)
    assert reply.body["since"] == FAR_FUTURE


# -- discovery (ref 7.12, REST paths unknown) -------------------------------------------------


async def test_trigger_types_include_the_documented_ones(http: Http) -> None:
    reply = await http.get("/trigger_types")
    assert reply.status == 200
    assert {"contact_create", "comment"} <= {t["type"] for t in reply.body}
    assert all(set(t) == {"type", "description", "options"} for t in reply.body)


async def test_action_types_include_the_documented_ones(http: Http) -> None:
    reply = await http.get("/action_types")
    assert reply.status == 200
    documented = {"message", "comment", "folder", "update_property", "ab_testing"}
    assert documented <= {t["type"] for t in reply.body}


async def test_every_contact_filter_type_is_accepted_by_segments(http: Http) -> None:
    reply = await http.get("/contact_filter_types")
    assert reply.status == 200
    for kind in (t["type"] for t in reply.body):
        spec = {"filter_type": kind, "operator": "eq", "value": 1, "property": "plan"}
        created = await http.post("/segments", {"title": kind, "contact_filters": [spec]})
        assert created.status == 201, (kind, created.body)


async def test_templates_are_searched_by_title(http: Http) -> None:
    everything = await http.get("/templates")
    assert {t["kind"] for t in everything.body} == {"scenario", "campaign"}
    found = await http.get("/templates", query="BLACK friday")
    assert [t["title"] for t in found.body] == ["Black Friday broadcast"]
