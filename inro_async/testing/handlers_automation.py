"""Fake handlers: scenarios, campaigns, segments, executions and discovery.

Updates of actions follow the authoritative-list rules of the help article: ``{"id": N}``
keeps, ``{"id": N, ...}`` updates, no ``id`` creates (``action_key`` plus ``parent_key`` xor
``parent_id``), omitted ids are deleted, and every reference is checked before anything is
saved, so one bad reference refuses the whole update.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from inro_async.testing._http import (
    ApiError,
    body,
    fake_of,
    identifier_of,
    int_path,
    json_response,
    org_of,
    paginate,
)
from inro_async.testing.generate import iso
from inro_async.testing.handlers_contacts import evaluate_filters, new_batch_task
from inro_async.testing.store import Organization

__all__ = ["HANDLERS"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ACTION_FIELDS = (
    "action_key",
    "action_type",
    "content",
    "options",
    "parent_id",
    "parent_branch",
    "media_file",
    "conversion_link",
)
TRIGGER_TYPES = ("contact_create", "comment", "dm_keyword", "story_mention", "webhook")
ACTION_TYPES = ("message", "comment", "folder", "update_property", "ab_testing", "wait")
MAX_CONTACTS = 1000
_VARIABLE = re.compile(r"\{\{\s*(\w+)\.(\w+)\s*\}\}")


# -- actions and triggers --------------------------------------------------------------------


def _resolve_actions(
    org: Organization, existing: list[dict[str, Any]], items: Any
) -> list[dict[str, Any]]:
    """The new action list from an authoritative payload; 422 on any bad reference."""
    if not isinstance(items, list):
        raise ApiError(400, "actions must be a list")
    by_id = {a["id"]: a for a in existing}
    keys: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"actions[{index}] must be an object")
        key = item.get("action_key")
        if key is not None:
            if key in keys:
                raise ApiError(422, f"actions[{index}]: action_key {key!r} is used twice")
            keys[key] = index
    kept_ids = {item["id"] for item in items if isinstance(item.get("id"), int)}
    for index, item in enumerate(items):
        where = f"actions[{index}]"
        if "id" in item:
            if item["id"] not in by_id:
                raise ApiError(422, f"{where}: action {item['id']} does not belong here")
        else:
            if not item.get("action_key"):
                raise ApiError(422, f"{where}: a new action needs an action_key")
            if not item.get("action_type"):
                raise ApiError(422, f"{where}: a new action needs an action_type")
        if "parent_key" in item and "parent_id" in item:
            raise ApiError(422, f"{where}: parent_key and parent_id are mutually exclusive")
        if "parent_key" in item and item["parent_key"] not in keys:
            raise ApiError(422, f"{where}: parent_key {item['parent_key']!r} does not resolve")
        if "parent_id" in item and item["parent_id"] not in kept_ids:
            raise ApiError(422, f"{where}: parent_id {item['parent_id']} does not resolve")
    result: list[dict[str, Any]] = []
    ids_by_key: dict[str, int] = {}
    for item in items:
        if "id" in item:
            action = dict(by_id[item["id"]])
            action.update({k: v for k, v in item.items() if k in ACTION_FIELDS})
        else:
            action = {field: item.get(field) for field in ACTION_FIELDS}
            action["id"] = org.next_id()
        if action.get("action_key"):
            ids_by_key[action["action_key"]] = action["id"]
        result.append(action)
    for item, action in zip(items, result, strict=True):
        if "parent_key" in item:
            action["parent_id"] = ids_by_key[item["parent_key"]]
    # A kept action keeps its stored parent; if that parent was left out it is being deleted,
    # and the help article checks every reference before saving, so refuse rather than dangle.
    final_ids = {action["id"] for action in result}
    for index, action in enumerate(result):
        parent = action.get("parent_id")
        if parent is not None and parent not in final_ids:
            raise ApiError(
                422, f"actions[{index}]: parent {parent} is left out, so it would be deleted"
            )
    return result


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


def _render(content: Any, contact: dict[str, Any], data: dict[str, Any]) -> Any:
    if not isinstance(content, str):
        return content

    def value(match: re.Match[str]) -> str:
        namespace, key = match.group(1), match.group(2)
        if namespace == "contact":
            found = contact.get(key, contact["custom_properties"].get(key))
        elif namespace == "trigger":
            found = data.get(key)
        else:
            found = None
        return "" if found is None else str(found)

    return _VARIABLE.sub(value, content)


def _run(
    org: Organization,
    contact: dict[str, Any],
    actions: list[dict[str, Any]],
    *,
    kind: str,
    owner_id: int,
    data: dict[str, Any],
    source: str,
    is_test: bool = False,
) -> dict[str, Any]:
    """Run the message actions for a contact and record the execution."""
    steps = []
    status = "completed"
    reason = None
    for action in actions:
        if action.get("action_type") != "message":
            steps.append(
                {
                    "action_id": action["id"],
                    "status": "completed",
                    "error": None,
                    "retry_count": 0,
                    "action_data": dict(action),
                }
            )
            continue
        if contact["status"] != "active":
            status, reason = "failed", "contact_not_active"
            steps.append(
                {
                    "action_id": action["id"],
                    "status": "failed",
                    "error": f"contact status is {contact['status']}",
                    "retry_count": 0,
                    "action_data": dict(action),
                }
            )
            break
        org.deliver(
            contact,
            message_type="text",
            content=_render(action.get("content"), contact, data),
            media=action.get("media_file"),
            source=source,
        )
        steps.append(
            {
                "action_id": action["id"],
                "status": "completed",
                "error": None,
                "retry_count": 0,
                "action_data": dict(action),
            }
        )
    execution = {
        "id": org.next_id(),
        "execution_type": kind,
        "scenario_id": owner_id if kind == "scenario" else None,
        "campaign_id": owner_id if kind == "campaign" else None,
        "contact_id": contact["id"],
        "status": status,
        "reason_code": reason,
        "is_test": is_test,
        "created_at": iso(org.clock()),
        "steps": steps,
    }
    org.executions.append(execution)
    return execution


def _window(request: web.Request) -> Callable[[dict[str, Any]], bool]:
    """Whether a run was created within ``since``/``until`` (ISO-8601, both inclusive).

    The reference names the two parameters on executions and performance but not their format;
    ISO-8601 (a date, or a time with ``Z`` or an offset; naive means UTC) is our guess.
    """
    bounds: list[datetime | None] = []
    for name in ("since", "until"):
        raw = request.query.get(name)
        if not raw:
            bounds.append(None)
            continue
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise ApiError(
                400, f"{name} must be an ISO-8601 date or time, got {raw!r}", field=name
            ) from None
        bounds.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    since, until = bounds

    def within(run: dict[str, Any]) -> bool:
        at = datetime.fromisoformat(run["created_at"])
        return (since is None or at >= since) and (until is None or at <= until)

    return within


def _performance(
    org: Organization, request: web.Request, kind: str, owner: dict[str, Any]
) -> web.Response:
    within = _window(request)
    runs = [
        e
        for e in org.executions
        if e[f"{kind}_id"] == owner["id"]
        and e["execution_type"] == kind
        and not e["is_test"]
        and within(e)
    ]
    steps = []
    for action in owner["actions"]:
        arrived = sum(1 for e in runs for s in e["steps"] if s["action_id"] == action["id"])
        passed = sum(
            1
            for e in runs
            for s in e["steps"]
            if s["action_id"] == action["id"] and s["status"] == "completed"
        )
        dropped: dict[str, int] = {}
        for e in runs:
            for s in e["steps"]:
                if s["action_id"] == action["id"] and s["status"] != "completed":
                    code = e["reason_code"] or "failed"
                    dropped[code] = dropped.get(code, 0) + 1
        steps.append(
            {
                "action_id": action["id"],
                "action_key": action.get("action_key"),
                "arrived": arrived,
                "passed": passed,
                "dropped": dropped,
            }
        )
    return json_response(
        {
            f"{kind}_id": owner["id"],
            "since": request.query.get("since"),
            "until": request.query.get("until"),
            "steps": steps,
        }
    )


# -- scenarios -------------------------------------------------------------------------------


def _scenario(org: Organization, request: web.Request) -> dict[str, Any]:
    scenario = org.scenarios.get(int_path(request))
    if scenario is None:
        raise ApiError(404, f"Scenario not found: id {int_path(request)}")
    return scenario


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
        template = next(
            (
                t
                for t in org.templates
                if t["id"] == payload["template_id"] and t["kind"] == "scenario"
            ),
            None,
        )
        if template is None:
            raise ApiError(422, f"unknown scenario template {payload['template_id']}")
        triggers = [{"trigger_type": "contact_create"}]
        actions = [
            {
                "action_key": "welcome",
                "action_type": "message",
                "content": f"Hi {{{{contact.name}}}}! ({template['title']})",
            }
        ]
        title = title or template["title"]
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
    resolved_actions = _resolve_actions(org, [], actions)
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
        changes["actions"] = _resolve_actions(org, scenario["actions"], payload["actions"])
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
        _run(
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
    return _performance(org, request, "scenario", _scenario(org, request))


# -- campaigns -------------------------------------------------------------------------------


def _campaign(org: Organization, request: web.Request) -> dict[str, Any]:
    campaign = org.campaigns.get(int_path(request))
    if campaign is None:
        raise ApiError(404, f"Campaign not found: id {int_path(request)}")
    return campaign


def _rules(org: Organization, rules: Any) -> list[dict[str, Any]]:
    if not isinstance(rules, list):
        raise ApiError(400, "campaign_rules must be a list")
    checked = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise ApiError(400, f"campaign_rules[{index}] must be an object")
        list_type = rule.get("list_type")
        rule_type = rule.get("rule_type", "inclusion")
        if list_type not in ("folder", "segment") or rule_type not in ("inclusion", "exclusion"):
            raise ApiError(400, f"campaign_rules[{index}]: bad list_type or rule_type")
        target = rule.get("destination_id")
        known = org.folders if list_type == "folder" else org.segments
        if target not in known:
            raise ApiError(422, f"campaign_rules[{index}]: unknown {list_type} {target}")
        checked.append({"list_type": list_type, "rule_type": rule_type, "destination_id": target})
    return checked


def _audience(org: Organization, campaign: dict[str, Any]) -> list[int]:
    def members(rule: dict[str, Any]) -> set[int]:
        if rule["list_type"] == "folder":
            return set(org.folder_members(rule["destination_id"]))
        segment = org.segments.get(rule["destination_id"])
        if segment is None:
            return set()
        return set(evaluate_filters(org, segment["contact_filters"], segment["filter_logic"]))

    included: set[int] = set()
    excluded: set[int] = set()
    for rule in campaign["campaign_rules"]:
        (included if rule["rule_type"] == "inclusion" else excluded).update(members(rule))
    return sorted(included - excluded)


async def campaigns_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    items = list(org.campaigns.values())
    query = request.query
    if query.get("status"):
        items = [c for c in items if c["status"] == query["status"]]
    if query.get("search"):
        items = [c for c in items if query["search"].lower() in (c["title"] or "").lower()]
    if query.get("campaign_folder_id"):
        items = [
            c for c in items if str(c.get("campaign_folder_id")) == query["campaign_folder_id"]
        ]
    sort_by = query.get("sort_by") or "id"
    if sort_by not in ("id", "title", "created_at", "updated_at"):
        raise ApiError(400, "sort_by must be id, title, created_at or updated_at")
    items.sort(key=lambda c: c.get(sort_by) or "", reverse=query.get("sort_direction") == "desc")
    return paginate(request, items)


async def campaigns_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return json_response(_campaign(org, request))


async def campaigns_create(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    if "template_id" in payload and ("actions" in payload or "campaign_rules" in payload):
        raise ApiError(400, "template_id cannot be combined with actions or campaign_rules")
    actions: list[dict[str, Any]] = []
    title = payload.get("title")
    if "template_id" in payload:
        template = next(
            (
                t
                for t in org.templates
                if t["id"] == payload["template_id"] and t["kind"] == "campaign"
            ),
            None,
        )
        if template is None:
            raise ApiError(422, f"unknown campaign template {payload['template_id']}")
        actions = _resolve_actions(
            org,
            [],
            [{"action_key": "msg1", "action_type": "message", "content": template["title"]}],
        )
        title = title or template["title"]
    elif "actions" in payload:
        actions = _resolve_actions(org, [], payload["actions"])
    rules = _rules(org, payload.get("campaign_rules", []))
    now = iso(org.clock())
    campaign: dict[str, Any] = {
        "id": org.next_id(),
        "title": title or "Untitled campaign",
        "status": "draft",
        "actions": actions,
        "campaign_rules": rules,
        "campaign_folder_id": payload.get("campaign_folder_id"),
        "created_at": now,
        "updated_at": now,
    }
    org.campaigns[campaign["id"]] = campaign
    return json_response(campaign, status=201)


async def campaigns_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    campaign = _campaign(org, request)
    if campaign["status"] != "draft":
        raise ApiError(
            422, f"campaign {campaign['id']} is {campaign['status']}; only drafts can be updated"
        )
    payload = await body(request)
    changes: dict[str, Any] = {}
    if "title" in payload:
        changes["title"] = payload["title"]
    if "actions" in payload:
        changes["actions"] = _resolve_actions(org, campaign["actions"], payload["actions"])
    if "campaign_rules" in payload:
        changes["campaign_rules"] = _rules(org, payload["campaign_rules"])
    campaign.update(changes)
    campaign["updated_at"] = iso(org.clock())
    return json_response(campaign)


async def campaigns_send(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    campaign = _campaign(org, request)
    if campaign["status"] != "draft":
        raise ApiError(422, f"campaign {campaign['id']} is {campaign['status']}, not a draft")
    audience = _audience(org, campaign)
    campaign["status"] = "running"
    task = new_batch_task(org, "campaign_send", len(audience))
    fake_of(request).background(_run_campaign(request, org, campaign, task, audience))
    return json_response({"batch_task_id": task["id"], "status": "running"}, status=202)


async def _run_campaign(
    request: web.Request,
    org: Organization,
    campaign: dict[str, Any],
    task: dict[str, Any],
    audience: list[int],
) -> None:
    await asyncio.sleep(fake_of(request).batch_delay)
    task["status"] = "processing"
    first = [a for a in campaign["actions"] if a.get("action_type") == "message"][:1]
    for contact_id in audience:
        contact = org.contacts.get(contact_id)
        if contact is not None:
            run = _run(
                org,
                contact,
                first,
                kind="campaign",
                owner_id=campaign["id"],
                data={},
                source="campaign",
            )
            if run["status"] == "failed":
                task["failed_count"] += 1
        task["processed_count"] += 1
    task["status"] = "completed"
    task["completed_at"] = iso(org.clock())
    campaign["status"] = "completed"


async def campaigns_test(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    campaign = _campaign(org, request)
    if campaign["status"] not in ("draft", "scheduled"):
        raise ApiError(422, f"campaign {campaign['id']} is {campaign['status']}; test drafts")
    payload = await body(request)
    if not isinstance(payload.get("contact"), dict):
        raise ApiError(400, "'contact' must be an object with one of id, username, email")
    contact = org.find(identifier_of(payload["contact"], where="contact"))
    if contact is None:
        raise ApiError(404, "Contact not found")
    _run(
        org,
        contact,
        campaign["actions"],
        kind="campaign",
        owner_id=campaign["id"],
        data={},
        source="campaign_test",
        is_test=True,
    )
    return json_response({"status": "sent", "contact_id": contact["id"]})


async def campaigns_performance(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return _performance(org, request, "campaign", _campaign(org, request))


async def campaigns_resend(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    campaign = _campaign(org, request)
    if campaign["status"] == "draft":
        raise ApiError(422, f"campaign {campaign['id']} was never sent")
    return json_response({"resent_count": 0}, status=202)


# -- segments --------------------------------------------------------------------------------


def _segment(org: Organization, request: web.Request) -> dict[str, Any]:
    segment = org.segments.get(int_path(request))
    if segment is None:
        raise ApiError(404, f"Segment not found: id {int_path(request)}")
    return segment


def _segment_json(org: Organization, segment: dict[str, Any]) -> dict[str, Any]:
    count = len(evaluate_filters(org, segment["contact_filters"], segment["filter_logic"]))
    return {**segment, "contact_count": count}


async def segments_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return paginate(request, [_segment_json(org, s) for s in org.segments.values()])


async def segments_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return json_response(_segment_json(org, _segment(org, request)))


async def segments_create(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    if not isinstance(payload.get("title"), str) or not payload["title"].strip():
        raise ApiError(400, "title is required", field="title")
    filters = payload.get("contact_filters", [])
    logic = payload.get("filter_logic", "and")
    evaluate_filters(org, filters, logic, "contact_filters")  # validates
    segment = {
        "id": org.next_id(),
        "title": payload["title"],
        "emoji": payload.get("emoji"),
        "filter_logic": logic,
        "contact_filters": filters,
    }
    org.segments[segment["id"]] = segment
    return json_response(_segment_json(org, segment), status=201)


async def segments_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    segment = _segment(org, request)
    payload = await body(request)
    if "title" in payload and (
        not isinstance(payload["title"], str) or not payload["title"].strip()
    ):
        raise ApiError(400, "title must be a non-empty string", field="title")
    merged = {
        **segment,
        **{
            k: v
            for k, v in payload.items()
            if k in ("title", "emoji", "filter_logic", "contact_filters")
        },
    }
    evaluate_filters(org, merged["contact_filters"], merged["filter_logic"], "contact_filters")
    segment.update(merged)
    return json_response(_segment_json(org, segment))


async def segments_delete(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    segment = _segment(org, request)
    del org.segments[segment["id"]]
    return web.Response(status=204)


# -- executions ------------------------------------------------------------------------------


async def executions_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    query = request.query
    within = _window(request)
    runs = [e for e in reversed(org.executions) if within(e)]
    for key in ("scenario_id", "campaign_id", "contact_id"):
        if query.get(key):
            runs = [e for e in runs if str(e[key]) == query[key]]
    for key in ("status", "reason_code", "execution_type"):
        if query.get(key):
            runs = [e for e in runs if e[key] == query[key]]
    if query.get("type"):
        runs = [e for e in runs if e["execution_type"] == query["type"]]
    if query.get("include_test") != "true":
        runs = [e for e in runs if not e["is_test"]]
    return paginate(request, runs)


async def executions_health(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    within = _window(request)
    counts: dict[str, int] = {}
    failing: dict[int, int] = {}
    # Test sends "are kept out of statistics" (reference 7.10), so health ignores them.
    for run in (e for e in org.executions if not e["is_test"] and within(e)):
        counts[run["status"]] = counts.get(run["status"], 0) + 1
        if run["status"] == "failed":
            owner = run["scenario_id"] or run["campaign_id"]
            failing[owner] = failing.get(owner, 0) + 1
    total = sum(counts.values())
    top = sorted(failing.items(), key=lambda kv: -kv[1])[:5]
    return json_response(
        {
            "since": request.query.get("since"),
            "until": request.query.get("until"),
            "counts": counts,
            "failure_ratio": round(counts.get("failed", 0) / total, 4) if total else 0.0,
            "top_failing": [{"id": owner, "failed": n} for owner, n in top],
            "blockers": [],
        }
    )


def _execution(org: Organization, request: web.Request) -> dict[str, Any]:
    kind, run_id = request.match_info["type"], int_path(request)
    run = next(
        (e for e in org.executions if e["id"] == run_id and e["execution_type"] == kind), None
    )
    if run is None:
        raise ApiError(404, f"Execution not found: {kind} {run_id}")
    return run


async def executions_get(request: web.Request) -> web.StreamResponse:
    return json_response(_execution(org_of(request), request))


async def executions_retry(request: web.Request) -> web.StreamResponse:
    run = _execution(org_of(request), request)
    for step in run["steps"]:
        if step["status"] == "failed":
            step["retry_count"] += 1
    return json_response(run, status=202)


# -- discovery -------------------------------------------------------------------------------


async def trigger_types(request: web.Request) -> web.StreamResponse:
    return json_response(
        [{"type": t, "description": t.replace("_", " "), "options": {}} for t in TRIGGER_TYPES]
    )


async def action_types(request: web.Request) -> web.StreamResponse:
    return json_response(
        [{"type": t, "description": t.replace("_", " "), "options": {}} for t in ACTION_TYPES]
    )


async def contact_filter_types(request: web.Request) -> web.StreamResponse:
    kinds = ("status", "folder", "is_follower", "follower_count", "custom_property", "created_at")
    return json_response(
        [
            {
                "type": k,
                "description": k.replace("_", " "),
                "options": {"operators": ["eq", "neq", "gt", "lt", "contains", "in"]},
            }
            for k in kinds
        ]
    )


async def templates(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    query = (request.query.get("query") or "").lower()
    return json_response([t for t in org.templates if query in t["title"].lower()])


HANDLERS: dict[str, Handler] = {
    "scenarios.list": scenarios_list,
    "scenarios.get": scenarios_get,
    "scenarios.create": scenarios_create,
    "scenarios.update": scenarios_update,
    "scenarios.trigger": scenarios_trigger,
    "scenarios.performance": scenarios_performance,
    "campaigns.list": campaigns_list,
    "campaigns.get": campaigns_get,
    "campaigns.create": campaigns_create,
    "campaigns.update": campaigns_update,
    "campaigns.send": campaigns_send,
    "campaigns.test": campaigns_test,
    "campaigns.performance": campaigns_performance,
    "campaigns.resend": campaigns_resend,
    "segments.list": segments_list,
    "segments.get": segments_get,
    "segments.create": segments_create,
    "segments.update": segments_update,
    "segments.delete": segments_delete,
    "executions.health": executions_health,
    "executions.list": executions_list,
    "executions.get": executions_get,
    "executions.retry": executions_retry,
    "discovery.trigger_types": trigger_types,
    "discovery.action_types": action_types,
    "discovery.contact_filter_types": contact_filter_types,
    "discovery.templates": templates,
}
"""Route name → handler for this module's routes."""
