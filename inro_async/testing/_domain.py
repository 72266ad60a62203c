"""The rules over an organization's data that several of the fake's resources share.

Contact filters (``POST /contacts/filter``, segments, campaign audiences), batch tasks (bulk
updates, campaign sends), and automation runs (scenarios and campaigns): their actions, the
messages they deliver, the executions they record and the performance read from those.

Updates of actions follow the authoritative-list rules of the help article: ``{"id": N}``
keeps, ``{"id": N, ...}`` updates, no ``id`` creates (``action_key`` plus ``parent_key`` xor
``parent_id``), omitted ids are deleted, and every reference is checked before anything is
saved, so one bad reference refuses the whole update.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from inro_async.testing._http import ApiError, TimeWindow
from inro_async.testing.generate import iso
from inro_async.testing.store import Organization

__all__ = [
    "FILTER_OPERATORS",
    "FILTER_TYPES",
    "evaluate_filters",
    "new_batch_task",
    "performance",
    "record_run",
    "resolve_actions",
    "template",
]

FILTER_TYPES = (
    "status",
    "folder",
    "is_follower",
    "follower_count",
    "custom_property",
    "created_at",
)
"""The ``filter_type`` values a contact filter accepts."""
FILTER_OPERATORS = ("eq", "neq", "gt", "lt", "contains", "in")
"""The operators a contact filter accepts."""
_PLAIN_FILTERS = ("status", "is_follower", "follower_count", "created_at")
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
_VARIABLE = re.compile(r"\{\{\s*(\w+)\.(\w+)\s*\}\}")


# -- contact filters -------------------------------------------------------------------------


def evaluate_filters(
    org: Organization, filters: Any, logic: str, where: str = "filters"
) -> list[int]:
    """Ids of the contacts matching ``filters`` combined with ``logic`` (``and``/``or``)."""
    if not isinstance(filters, list):
        raise ApiError(400, f"{where} must be a list")
    if logic not in ("and", "or"):
        raise ApiError(400, "filter_logic must be and or or")
    checks = [_filter_check(f, f"{where}[{i}]") for i, f in enumerate(filters)]
    combine = all if logic == "and" else any
    return [
        cid
        for cid in org.ordered_ids()
        if not checks or combine(check(org.contacts[cid]) for check in checks)
    ]


def _compare(operator: str, actual: Any, expected: Any) -> bool:
    try:
        if operator == "eq":
            return bool(actual == expected)
        if operator == "neq":
            return bool(actual != expected)
        if operator == "gt":
            return actual is not None and actual > expected
        if operator == "lt":
            return actual is not None and actual < expected
        if operator == "contains":
            return expected is not None and str(expected).lower() in str(actual or "").lower()
        if operator == "in":
            return actual in expected
    except TypeError:
        return False
    raise ApiError(400, f"unknown operator {operator!r}")


def _filter_check(spec: Any, where: str) -> Callable[[dict[str, Any]], bool]:
    if not isinstance(spec, dict) or not isinstance(spec.get("filter_type"), str):
        raise ApiError(400, f"{where} needs a filter_type")
    kind, operator, value = spec["filter_type"], spec.get("operator", "eq"), spec.get("value")
    if operator not in FILTER_OPERATORS:
        raise ApiError(400, f"{where}: unknown operator {operator!r}")
    if kind == "folder":
        wanted = value if isinstance(value, list) else [value]
        inside = operator != "neq"
        return lambda c: any(f["id"] in wanted for f in c["folders"]) == inside
    if kind == "custom_property":
        slug = spec.get("property")
        if not slug:
            raise ApiError(400, f"{where}: custom_property filters need 'property'")
        return lambda c: _compare(operator, c["custom_properties"].get(slug), value)
    if kind in _PLAIN_FILTERS:
        return lambda c: _compare(operator, c.get(kind), value)
    raise ApiError(400, f"{where}: unknown filter_type {kind!r}")


# -- batch tasks -----------------------------------------------------------------------------


def new_batch_task(org: Organization, task_type: str, total: int) -> dict[str, Any]:
    """A pending batch task, registered with the organization."""
    task_id = "bt_" + secrets.token_hex(6)
    task = {
        "id": task_id,
        "task_type": task_type,
        "status": "pending",
        "total_count": total,
        "processed_count": 0,
        "failed_count": 0,
        "errors": [],
        "created_at": iso(org.clock()),
        "completed_at": None,
    }
    org.batch_tasks[task_id] = task
    return task


# -- automations -----------------------------------------------------------------------------


def template(org: Organization, template_id: Any, kind: str) -> dict[str, Any]:
    """The ``kind`` (``scenario``/``campaign``) template with that id; 422 when unknown."""
    for candidate in org.templates:
        if candidate["id"] == template_id and candidate["kind"] == kind:
            return candidate
    raise ApiError(422, f"unknown {kind} template {template_id}")


def resolve_actions(
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


def _step(action: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    return {
        "action_id": action["id"],
        "status": "completed" if error is None else "failed",
        "error": error,
        "retry_count": 0,
        "action_data": dict(action),
    }


def record_run(
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
            steps.append(_step(action))
            continue
        if contact["status"] != "active":
            status, reason = "failed", "contact_not_active"
            steps.append(_step(action, f"contact status is {contact['status']}"))
            break
        org.deliver(
            contact,
            message_type="text",
            content=_render(action.get("content"), contact, data),
            media=action.get("media_file"),
            source=source,
        )
        steps.append(_step(action))
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


def performance(
    org: Organization, kind: str, owner: dict[str, Any], window: TimeWindow
) -> dict[str, Any]:
    """Per action of a scenario or campaign: how many real runs arrived, passed, dropped why."""
    runs = [
        e
        for e in org.executions
        if e[f"{kind}_id"] == owner["id"]
        and e["execution_type"] == kind
        and not e["is_test"]
        and window.holds(e)
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
    return {f"{kind}_id": owner["id"], **window.echo(), "steps": steps}
