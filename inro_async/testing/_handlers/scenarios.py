"""Fake handlers of scenarios: create, read, update, trigger for contacts, performance.

A scenario is created from a template, a prompt, or a definition (``triggers`` + ``actions``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inro_async.testing._domain import performance, record_run, resolve_actions, template
from inro_async.testing._http import (
    ApiError,
    Handler,
    body,
    fake_of,
    found,
    identifier_of,
    int_path,
    json_response,
    org_of,
    paginate,
    time_window,
)
from inro_async.testing.generate import iso
from inro_async.testing.store import Organization

__all__ = ["HANDLERS"]

MAX_CONTACTS = 1000


def _resolve_triggers(
    org: Organization, existing: list[dict[str, Any]], items: Any
) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise ApiError(400, "triggers must be a list")
    by_id = {t["id"]: t for t in existing}
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"triggers[{index}] must be an object")
        if "id" in item:
            if item["id"] not in by_id:
                raise ApiError(422, f"triggers[{index}]: trigger {item['id']} does not belong here")
            trigger = {**by_id[item["id"]], **{k: v for k, v in item.items() if k != "id"}}
        else:
            if not item.get("trigger_type"):
                raise ApiError(422, f"triggers[{index}]: a new trigger needs a trigger_type")
            trigger = {
                "id": org.next_id(),
                "trigger_type": item["trigger_type"],
                "options": item.get("options") or {},
            }
        result.append(trigger)
    return result


def _scenario(org: Organization, request: web.Request) -> dict[str, Any]:
    return found(org.scenarios, int_path(request), "Scenario")


def _scenario_json(org: Organization, scenario: dict[str, Any]) -> dict[str, Any]:
    runs = [e for e in org.executions if e["scenario_id"] == scenario["id"]]
    return {
        **scenario,
        "metrics": {
            "executions": {"total": len(runs), "last_7_days": len(runs)},
            "conversions": {"total": 0, "last_7_days": 0},
        },
    }


async def scenarios_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    items = [_scenario_json(org, s) for s in org.scenarios.values()]
    response = paginate(request, items)
    if fake_of(request).wrap_scenarios:
        assert isinstance(response.body, bytes)
        response.body = b'{"scenarios":' + response.body + b"}"
    return response


async def scenarios_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return json_response(_scenario_json(org, _scenario(org, request)))


async def scenarios_create(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    modes = [
        name
        for name, given in (
            ("template_id", "template_id" in payload),
            ("prompt", "prompt" in payload),
            ("triggers+actions", "triggers" in payload or "actions" in payload),
        )
        if given
    ]
    if len(modes) != 1:
        raise ApiError(
            400,
            f"use exactly one creation mode: template_id, prompt, or "
            f"triggers + actions (got {', '.join(modes) or 'none'})",
        )
    title = payload.get("title")
    if modes == ["template_id"]:
        chosen = template(org, payload["template_id"], "scenario")
        triggers = [{"trigger_type": "contact_create"}]
        actions = [
            {
                "action_key": "welcome",
                "action_type": "message",
                "content": f"Hi {{{{contact.name}}}}! ({chosen['title']})",
            }
        ]
        title = title or chosen["title"]
    elif modes == ["prompt"]:
        prompt = payload["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            raise ApiError(400, "prompt must be a non-empty string")
        triggers = [{"trigger_type": "contact_create"}]
        actions = [{"action_key": "msg1", "action_type": "message", "content": prompt[:500]}]
        title = title or prompt[:60]
    else:
        if "triggers" not in payload or "actions" not in payload:
            raise ApiError(400, "a JSON definition needs both triggers and actions")
        triggers, actions = payload["triggers"], payload["actions"]
    resolved_triggers = _resolve_triggers(org, [], triggers)
    resolved_actions = resolve_actions(org, [], actions)
    now = iso(org.clock())
    scenario: dict[str, Any] = {
        "id": org.next_id(),
        "title": title or "Untitled scenario",
        "active": bool(payload.get("active", False)),
        "scenario_type": payload.get("scenario_type"),
        "triggers": resolved_triggers,
        "actions": resolved_actions,
        "created_at": now,
        "updated_at": now,
    }
    org.scenarios[scenario["id"]] = scenario
    return json_response(_scenario_json(org, scenario), status=201)


async def scenarios_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    scenario = _scenario(org, request)
    payload = await body(request)
    changes: dict[str, Any] = {}
    if "title" in payload:
        changes["title"] = payload["title"]
    if "active" in payload:
        changes["active"] = bool(payload["active"])
    if "triggers" in payload:
        changes["triggers"] = _resolve_triggers(org, scenario["triggers"], payload["triggers"])
    if "actions" in payload:
        changes["actions"] = resolve_actions(org, scenario["actions"], payload["actions"])
    scenario.update(changes)  # only after every check passed: all or nothing
    scenario["updated_at"] = iso(org.clock())
    return json_response(_scenario_json(org, scenario))


def _contacts_payload(payload: dict[str, Any]) -> list[dict[str, Any]]:
    contacts = payload.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise ApiError(400, "'contacts' must be a non-empty list")
    if len(contacts) > MAX_CONTACTS:
        raise ApiError(400, f"at most {MAX_CONTACTS} contacts per call, got {len(contacts)}")
    return [
        identifier_of(c if isinstance(c, dict) else {}, where=f"contacts[{i}]")
        for i, c in enumerate(contacts)
    ]


async def scenarios_trigger(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    scenario = _scenario(org, request)
    payload = await body(request)
    identifiers = _contacts_payload(payload)
    data = payload.get("data")
    if data is None:  # optional, so that older calls without it still work
        data = {}
    if not isinstance(data, dict):
        raise ApiError(400, "data must be an object", field="data")
    if not scenario["active"]:
        raise ApiError(422, f"scenario {scenario['id']} is not active")
    accepted = 0
    not_found = []
    seen: set[int] = set()
    for identifier in identifiers:
        contact = org.find(identifier)
        if contact is None:
            not_found.append(identifier)
            continue
        if contact["id"] in seen:  # named twice: one run, counted once (as POST /messages)
            continue
        seen.add(contact["id"])
        accepted += 1
        record_run(
            org,
            contact,
            scenario["actions"],
            kind="scenario",
            owner_id=scenario["id"],
            data=data,
            source="scenario",
        )
    return json_response(
        {
            "status": "queued",
            "accepted_count": accepted,
            "not_found_count": len(not_found),
            "not_found": not_found,
        },
        status=202,
    )


async def scenarios_performance(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    owner = _scenario(org, request)
    return json_response(performance(org, "scenario", owner, time_window(request)))


HANDLERS: dict[str, Handler] = {
    "scenarios.list": scenarios_list,
    "scenarios.get": scenarios_get,
    "scenarios.create": scenarios_create,
    "scenarios.update": scenarios_update,
    "scenarios.trigger": scenarios_trigger,
    "scenarios.performance": scenarios_performance,
}
"""Route name → handler for this module's routes."""
