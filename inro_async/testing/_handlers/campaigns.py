"""Fake handlers of campaigns: drafts, sends to their audience, tests, performance, resends.

A campaign's audience is its inclusion rules' folders and segments minus its exclusion
rules'; a send runs in the background as a batch task.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from inro_async.testing._domain import (
    evaluate_filters,
    new_batch_task,
    performance,
    record_run,
    resolve_actions,
    template,
)
from inro_async.testing._http import (
    ApiError,
    Handler,
    body,
    fake_of,
    find_contact,
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


def _campaign(org: Organization, request: web.Request) -> dict[str, Any]:
    return found(org.campaigns, int_path(request), "Campaign")


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
        chosen = template(org, payload["template_id"], "campaign")
        actions = resolve_actions(
            org,
            [],
            [{"action_key": "msg1", "action_type": "message", "content": chosen["title"]}],
        )
        title = title or chosen["title"]
    elif "actions" in payload:
        actions = resolve_actions(org, [], payload["actions"])
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
        changes["actions"] = resolve_actions(org, campaign["actions"], payload["actions"])
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
            run = record_run(
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
    contact = find_contact(org, identifier_of(payload["contact"], where="contact"))
    record_run(
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
    owner = _campaign(org, request)
    return json_response(performance(org, "campaign", owner, time_window(request)))


async def campaigns_resend(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    campaign = _campaign(org, request)
    if campaign["status"] == "draft":
        raise ApiError(422, f"campaign {campaign['id']} was never sent")
    return json_response({"resent_count": 0}, status=202)


HANDLERS: dict[str, Handler] = {
    "campaigns.list": campaigns_list,
    "campaigns.get": campaigns_get,
    "campaigns.create": campaigns_create,
    "campaigns.update": campaigns_update,
    "campaigns.send": campaigns_send,
    "campaigns.test": campaigns_test,
    "campaigns.performance": campaigns_performance,
    "campaigns.resend": campaigns_resend,
}
"""Route name → handler for this module's routes."""
