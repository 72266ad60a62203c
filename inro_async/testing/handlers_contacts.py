"""Fake handlers: organization, contacts, batch tasks, folders, contact properties."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
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
from inro_async.testing.store import ORDER_COLUMNS, Organization

__all__ = ["HANDLERS", "apply_update", "check_update", "evaluate_filters"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

UPDATE_FIELDS = (
    "email",
    "phone",
    "language",
    "notes",
    "status",
    "folder_ids",
    "custom_properties",
)
STATUSES = ("active", "optout")
COLORS = ("yellow", "red", "green", "blue", "purple", "pink", "orange")
PROPERTY_TYPES = (
    "text",
    "number",
    "date",
    "email",
    "phone",
    "url",
    "boolean",
    "list",
    "single_choice",
    "multiple_choice",
)
MAX_ENTRIES = 1000


# -- organization ----------------------------------------------------------------------------


async def me(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return json_response(
        {
            "id": org.id,
            "name": org.name,
            "instagram_username": f"fake.org{org.id}",
            "plan": org.plan,
            "created_at": iso(org.clock() - 400 * 86_400),
        }
    )


# -- contacts --------------------------------------------------------------------------------


def _order(request: web.Request) -> tuple[str, str]:
    column = request.query.get("order_column", "id")
    direction = request.query.get("order_direction", "asc")
    if column not in ORDER_COLUMNS:
        raise ApiError(
            400, f"order_column must be one of {', '.join(ORDER_COLUMNS)}", field="order_column"
        )
    if direction not in ("asc", "desc"):
        raise ApiError(400, "order_direction must be asc or desc", field="order_direction")
    return column, direction


def _contact_page(request: web.Request, org: Organization, ids: list[int]) -> web.Response:
    return paginate(request, ids, org.encoded)


async def contacts_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return _contact_page(request, org, org.ordered_ids(*_order(request)))


async def contacts_search(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    query = (request.query.get("query") or "").strip().lower()
    if not query:
        raise ApiError(400, "query is required", field="query")
    ids = [
        cid
        for cid in org.ordered_ids(*_order(request))
        if any(
            query in (org.contacts[cid].get(key) or "").lower()
            for key in ("username", "name", "email", "phone")
        )
    ]
    return _contact_page(request, org, ids)


async def contacts_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    identifier = identifier_of(request.query, where="GET /contact")
    contact = org.find(identifier)
    if contact is None:
        raise ApiError(404, f"Contact not found: {identifier}")
    return web.Response(body=org.encoded(contact["id"]), content_type="application/json")


def check_update(org: Organization, changes: Any, where: str) -> tuple[int, str] | None:
    """The (status, message) refusing an update object, or None when it can be applied."""
    if not isinstance(changes, dict) or not changes:
        return 400, f"{where}: 'contact' must be a non-empty object"
    unknown = sorted(set(changes) - set(UPDATE_FIELDS))
    if unknown:
        return 400, f"{where}: unknown field(s) {', '.join(unknown)}"
    if "status" in changes and changes["status"] not in STATUSES:
        return 400, f"{where}: status must be active or optout"
    for key in ("email", "phone", "language", "notes"):
        if key in changes and changes[key] is not None and not isinstance(changes[key], str):
            return 400, f"{where}: {key} must be a string"
    if "folder_ids" in changes:
        ids = changes["folder_ids"]
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            return 400, f"{where}: folder_ids must be a list of integers"
        missing = [i for i in ids if i not in org.folders]
        if missing:
            return 422, f"{where}: unknown folder id(s) {missing}"
    if "custom_properties" in changes:
        props = changes["custom_properties"]
        if not isinstance(props, dict):
            return 400, f"{where}: custom_properties must be an object"
        unknown_slugs = sorted(set(props) - set(org.properties))
        if unknown_slugs:
            return 422, f"{where}: unknown custom property slug(s) {', '.join(unknown_slugs)}"
    return None


def apply_update(org: Organization, contact: dict[str, Any], changes: dict[str, Any]) -> None:
    """Apply a checked update object to a contact."""
    old_email = contact.get("email")
    for key in ("email", "phone", "language", "notes", "status"):
        if key in changes:
            contact[key] = changes[key]
    if "folder_ids" in changes:
        contact["folders"] = [
            {"id": fid, "name": org.folders[fid]["name"]}
            for fid in dict.fromkeys(changes["folder_ids"])
        ]
    if "custom_properties" in changes:
        merged = dict(contact["custom_properties"])
        for slug, value in changes["custom_properties"].items():
            if value is None:
                merged.pop(slug, None)
            else:
                merged[slug] = value
        contact["custom_properties"] = merged
    org.changed(contact, old_email=old_email)


def _update(org: Organization, contact: dict[str, Any], changes: Any) -> web.Response:
    refused = check_update(org, changes, "contact")
    if refused is not None:
        raise ApiError(*refused)
    apply_update(org, contact, changes)
    return web.Response(body=org.encoded(contact["id"]), content_type="application/json")


async def contacts_update_by(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    identifier = identifier_of(payload, where="PUT /contact")
    if "contact" not in payload:
        raise ApiError(400, "'contact' is required", field="contact")
    contact = org.find(identifier)
    if contact is None:
        raise ApiError(404, f"Contact not found: {identifier}")
    return _update(org, contact, payload["contact"])


async def contacts_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    if "contact" not in payload:
        raise ApiError(400, "'contact' is required", field="contact")
    contact = org.contacts.get(int_path(request))
    if contact is None:
        raise ApiError(404, f"Contact not found: id {int_path(request)}")
    return _update(org, contact, payload["contact"])


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


async def contacts_bulk_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    entries = payload.get("contacts")
    if not isinstance(entries, list) or not entries:
        raise ApiError(400, "'contacts' must be a non-empty list", field="contacts")
    if len(entries) > MAX_ENTRIES:
        raise ApiError(400, f"at most {MAX_ENTRIES} contacts per call, got {len(entries)}")
    matched: list[tuple[int, dict[str, Any], dict[str, Any], Any]] = []
    not_found: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ApiError(400, f"contacts[{index}] must be an object", index=index)
        identifier = identifier_of(entry, where=f"contacts[{index}]")
        if not isinstance(entry.get("contact"), dict):
            raise ApiError(400, f"contacts[{index}]: 'contact' is required", index=index)
        contact = org.find(identifier)
        if contact is None:
            not_found.append({k: entry[k] for k in identifier})
        else:
            matched.append((index, identifier, contact, entry["contact"]))
    task = new_batch_task(org, "contacts_bulk_update", len(matched))
    fake_of(request).background(_run_bulk(request, org, task, matched))
    return json_response(
        {
            "batch_task_id": task["id"],
            "status": "pending",
            "accepted_count": len(matched),
            "not_found_count": len(not_found),
            "not_found": not_found,
        },
        status=202,
    )


async def _run_bulk(
    request: web.Request,
    org: Organization,
    task: dict[str, Any],
    matched: list[tuple[int, dict[str, Any], dict[str, Any], Any]],
) -> None:
    delay = fake_of(request).batch_delay
    await asyncio.sleep(delay / 2)
    task["status"] = "processing"
    await asyncio.sleep(delay / 2)
    for index, identifier, contact, changes in matched:
        refused = check_update(org, changes, f"contacts[{index}]")
        if refused is None:
            apply_update(org, contact, changes)
        else:
            task["failed_count"] += 1
            task["errors"].append({"index": index, "identifier": identifier, "error": refused[1]})
        task["processed_count"] += 1
    failed_all = matched and task["failed_count"] == len(matched)
    task["status"] = "failed" if failed_all else "completed"
    task["completed_at"] = iso(org.clock())


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
    if operator not in ("eq", "neq", "gt", "lt", "contains", "in"):
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
    if kind in ("status", "is_follower", "follower_count", "created_at"):
        return lambda c: _compare(operator, c.get(kind), value)
    raise ApiError(400, f"{where}: unknown filter_type {kind!r}")


async def contacts_filter(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    if "filters" not in payload:
        raise ApiError(400, "'filters' is required", field="filters")
    ids = evaluate_filters(org, payload["filters"], payload.get("filter_logic", "and"))
    column, direction = _order(request)
    if (column, direction) != ("id", "asc"):
        keep = set(ids)
        ids = [cid for cid in org.ordered_ids(column, direction) if cid in keep]
    return _contact_page(request, org, ids)


async def contacts_messages(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    contact_id = int_path(request)
    if contact_id not in org.contacts:
        raise ApiError(404, f"Contact not found: id {contact_id}")
    history = list(reversed(org.conversations.get(contact_id, [])))
    if request.query.get("order_direction") == "asc":
        history.reverse()
    return paginate(request, history)


# -- batch tasks -----------------------------------------------------------------------------


async def batch_tasks_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return paginate(request, list(reversed(org.batch_tasks.values())))


async def batch_tasks_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    task = org.batch_tasks.get(request.match_info["id"])
    if task is None:
        raise ApiError(404, f"Batch task not found: {request.match_info['id']}")
    return json_response(task)


# -- folders ---------------------------------------------------------------------------------


def _folder_json(org: Organization, folder: dict[str, Any]) -> dict[str, Any]:
    return {**folder, "contacts_count": len(org.folder_members(folder["id"]))}


def _folder(org: Organization, request: web.Request) -> dict[str, Any]:
    folder = org.folders.get(int_path(request))
    if folder is None:
        raise ApiError(404, f"Folder not found: id {int_path(request)}")
    return folder


def _check_color(color: Any) -> None:
    if color is not None and color not in COLORS:
        raise ApiError(400, f"color must be one of {', '.join(COLORS)}", field="color")


async def folders_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return paginate(request, [_folder_json(org, f) for f in org.folders.values()])


async def folders_create(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required", field="name")
    _check_color(payload.get("color"))
    folder_id = org.next_id()
    org.folders[folder_id] = {"id": folder_id, "name": name, "color": payload.get("color")}
    return json_response(_folder_json(org, org.folders[folder_id]), status=201)


async def folders_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    folder = _folder(org, request)
    payload = await body(request)
    if "name" in payload:
        if not isinstance(payload["name"], str) or not payload["name"].strip():
            raise ApiError(400, "name must be a non-empty string", field="name")
        folder["name"] = payload["name"]
        for cid in org.folder_members(folder["id"]):
            contact = org.contacts[cid]
            contact["folders"] = [
                {"id": f["id"], "name": folder["name"] if f["id"] == folder["id"] else f["name"]}
                for f in contact["folders"]
            ]
            org.changed(contact)
    if "color" in payload:
        _check_color(payload["color"])
        folder["color"] = payload["color"]
    return json_response(_folder_json(org, folder))


async def folders_delete(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    folder = _folder(org, request)
    for cid in org.folder_members(folder["id"]):
        contact = org.contacts[cid]
        contact["folders"] = [f for f in contact["folders"] if f["id"] != folder["id"]]
        org.changed(contact)
    del org.folders[folder["id"]]
    return web.Response(status=204)


async def folders_contacts(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    folder = _folder(org, request)
    members = set(org.folder_members(folder["id"]))
    # Sorted like every contact list: order_column / order_direction apply here too.
    ids = [cid for cid in org.ordered_ids(*_order(request)) if cid in members]
    return _contact_page(request, org, ids)


async def _membership(request: web.Request, add: bool) -> web.StreamResponse:
    org = org_of(request)
    folder = _folder(org, request)
    payload = await body(request)
    ids = payload.get("contact_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise ApiError(400, "contact_ids must be a non-empty list of integers")
    if len(ids) > MAX_ENTRIES:
        raise ApiError(400, f"at most {MAX_ENTRIES} contact_ids per call")
    changed = 0
    not_found = []
    for cid in dict.fromkeys(ids):
        contact = org.contacts.get(cid)
        if contact is None:
            not_found.append(cid)
            continue
        inside = any(f["id"] == folder["id"] for f in contact["folders"])
        if add and not inside:
            contact["folders"] = [*contact["folders"], {"id": folder["id"], "name": folder["name"]}]
        elif not add and inside:
            contact["folders"] = [f for f in contact["folders"] if f["id"] != folder["id"]]
        else:
            continue
        changed += 1
        org.changed(contact)
    key = "added_count" if add else "removed_count"
    return json_response({key: changed, "not_found": not_found})


async def folders_add_contacts(request: web.Request) -> web.StreamResponse:
    return await _membership(request, add=True)


async def folders_remove_contacts(request: web.Request) -> web.StreamResponse:
    return await _membership(request, add=False)


# -- contact properties ----------------------------------------------------------------------


def slugify(title: str) -> str:
    """``"Subscription Plan"`` → ``subscription-plan``."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _check_property(spec: dict[str, Any], *, creating: bool) -> None:
    kind = spec.get("property_type", "text" if creating else None)
    if kind is not None and kind not in PROPERTY_TYPES:
        raise ApiError(400, f"property_type must be one of {', '.join(PROPERTY_TYPES)}")
    if kind in ("single_choice", "multiple_choice"):
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ApiError(422, f"choices are required for {kind} properties", field="choices")


def _property_payload(payload: dict[str, Any]) -> dict[str, Any]:
    spec = payload.get("contact_property")
    if not isinstance(spec, dict):
        raise ApiError(400, "'contact_property' object is required", field="contact_property")
    return spec


async def contact_properties_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return paginate(request, list(org.properties.values()))


async def contact_properties_create(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    spec = _property_payload(await body(request))
    title = spec.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ApiError(400, "title is required", field="title")
    _check_property(spec, creating=True)
    slug = slugify(title)
    if not slug:
        raise ApiError(422, "the title gives an empty slug", field="title")
    if slug in org.properties:
        raise ApiError(422, f"a property with slug {slug!r} already exists", field="title")
    prop = {
        "slug": slug,
        "title": title,
        "property_type": spec.get("property_type", "text"),
        "choices": list(spec.get("choices") or []),
        "description": spec.get("description"),
        "agent_active": bool(spec.get("agent_active", False)),
    }
    org.properties[slug] = prop
    return json_response(prop, status=201)


async def contact_properties_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    slug = request.match_info["slug"]
    prop = org.properties.get(slug)
    if prop is None:
        raise ApiError(404, f"Contact property not found: {slug}")
    spec = _property_payload(await body(request))
    merged = {**prop, **{k: v for k, v in spec.items() if k in prop and k != "slug"}}
    _check_property(merged, creating=False)
    prop.update(merged)
    return json_response(prop)


async def contact_properties_delete(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    slug = request.match_info["slug"]
    if slug not in org.properties:
        raise ApiError(404, f"Contact property not found: {slug}")
    del org.properties[slug]
    for contact in org.contacts.values():
        if slug in contact["custom_properties"]:
            contact["custom_properties"] = {
                k: v for k, v in contact["custom_properties"].items() if k != slug
            }
            org.changed(contact)
    return web.Response(status=204)


HANDLERS: dict[str, Handler] = {
    "me": me,
    "contacts.list": contacts_list,
    "contacts.search": contacts_search,
    "contacts.get": contacts_get,
    "contacts.update_by": contacts_update_by,
    "contacts.update": contacts_update,
    "contacts.bulk_update": contacts_bulk_update,
    "contacts.filter": contacts_filter,
    "contacts.messages": contacts_messages,
    "batch_tasks.list": batch_tasks_list,
    "batch_tasks.get": batch_tasks_get,
    "folders.list": folders_list,
    "folders.create": folders_create,
    "folders.update": folders_update,
    "folders.delete": folders_delete,
    "folders.contacts": folders_contacts,
    "folders.add_contacts": folders_add_contacts,
    "folders.remove_contacts": folders_remove_contacts,
    "contact_properties.list": contact_properties_list,
    "contact_properties.create": contact_properties_create,
    "contact_properties.update": contact_properties_update,
    "contact_properties.delete": contact_properties_delete,
}
"""Route name → handler for this module's routes."""
