"""Fake handlers of contacts: lists, search, lookup, updates, filters and conversations.

An update names a contact by path id, by identifier (``PUT /contact``) or in bulk (a batch
task applying each entry in the background).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from inro_async.testing._domain import evaluate_filters, new_batch_task
from inro_async.testing._http import (
    ApiError,
    Handler,
    body,
    contact_page,
    fake_of,
    find_contact,
    found,
    identifier_of,
    int_path,
    json_response,
    order,
    org_of,
    paginate,
)
from inro_async.testing.generate import iso
from inro_async.testing.store import Organization

__all__ = ["HANDLERS", "apply_update", "check_update"]

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
MAX_ENTRIES = 1000


async def contacts_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    column, direction = order(request)  # checked even when the organization ignores it
    if org.ignore_order:
        column, direction = "id", "asc"
    return contact_page(request, org, org.ordered_ids(column, direction))


async def contacts_search(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    query = (request.query.get("query") or "").strip().lower()
    if not query:
        raise ApiError(400, "query is required", field="query")
    ids = [
        cid
        for cid in org.ordered_ids(*order(request))
        if any(
            query in (org.contacts[cid].get(key) or "").lower()
            for key in ("username", "name", "email", "phone")
        )
    ]
    return contact_page(request, org, ids)


async def contacts_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    contact = find_contact(org, identifier_of(request.query, where="GET /contact"))
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
    return _update(org, find_contact(org, identifier), payload["contact"])


async def contacts_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    if "contact" not in payload:
        raise ApiError(400, "'contact' is required", field="contact")
    contact = found(org.contacts, int_path(request), "Contact")
    return _update(org, contact, payload["contact"])


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


async def contacts_filter(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    if "filters" not in payload:
        raise ApiError(400, "'filters' is required", field="filters")
    ids = evaluate_filters(org, payload["filters"], payload.get("filter_logic", "and"))
    # A list asked by POST: its paging and order travel in the body (docs/wire.md, Contacts).
    column, direction = order(request, payload)
    if (column, direction) != ("id", "asc"):
        keep = set(ids)
        ids = [cid for cid in org.ordered_ids(column, direction) if cid in keep]
    return contact_page(request, org, ids, payload)


async def contacts_messages(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    contact_id = found(org.contacts, int_path(request), "Contact")["id"]
    history = list(reversed(org.conversations.get(contact_id, [])))
    if request.query.get("order_direction") == "asc":
        history.reverse()
    return paginate(request, history)


HANDLERS: dict[str, Handler] = {
    "contacts.list": contacts_list,
    "contacts.search": contacts_search,
    "contacts.get": contacts_get,
    "contacts.update_by": contacts_update_by,
    "contacts.update": contacts_update,
    "contacts.bulk_update": contacts_bulk_update,
    "contacts.filter": contacts_filter,
    "contacts.messages": contacts_messages,
}
"""Route name → handler for this module's routes."""
