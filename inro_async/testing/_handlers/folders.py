"""Fake handlers of folders: list, create, rename or recolour, delete, and their members."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inro_async.testing._http import (
    ApiError,
    Handler,
    body,
    contact_page,
    found,
    int_path,
    json_response,
    optional_text,
    order,
    org_of,
    paginate,
    require_text,
)
from inro_async.testing.store import Organization

__all__ = ["HANDLERS"]

COLORS = ("yellow", "red", "green", "blue", "purple", "pink", "orange")
MAX_CONTACT_IDS = 1000


def _folder_json(org: Organization, folder: dict[str, Any]) -> dict[str, Any]:
    return {**folder, "contacts_count": len(org.folder_members(folder["id"]))}


def _folder(org: Organization, request: web.Request) -> dict[str, Any]:
    return found(org.folders, int_path(request), "Folder")


def _check_color(color: Any) -> None:
    if color is not None and color not in COLORS:
        raise ApiError(400, f"color must be one of {', '.join(COLORS)}", field="color")


async def folders_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return paginate(request, [_folder_json(org, f) for f in org.folders.values()])


async def folders_create(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    payload = await body(request)
    name = require_text(payload, "name")
    _check_color(payload.get("color"))
    folder_id = org.next_id()
    org.folders[folder_id] = {"id": folder_id, "name": name, "color": payload.get("color")}
    return json_response(_folder_json(org, org.folders[folder_id]), status=201)


async def folders_update(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    folder = _folder(org, request)
    payload = await body(request)
    name = optional_text(payload, "name")
    if name is not None:
        folder["name"] = name
        for cid in org.folder_members(folder["id"]):
            contact = org.contacts[cid]
            contact["folders"] = [
                {"id": f["id"], "name": name if f["id"] == folder["id"] else f["name"]}
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
    ids = [cid for cid in org.ordered_ids(*order(request)) if cid in members]
    return contact_page(request, org, ids)


async def _membership(request: web.Request, add: bool) -> web.StreamResponse:
    org = org_of(request)
    folder = _folder(org, request)
    payload = await body(request)
    ids = payload.get("contact_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise ApiError(400, "contact_ids must be a non-empty list of integers")
    if len(ids) > MAX_CONTACT_IDS:
        raise ApiError(400, f"at most {MAX_CONTACT_IDS} contact_ids per call")
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


HANDLERS: dict[str, Handler] = {
    "folders.list": folders_list,
    "folders.create": folders_create,
    "folders.update": folders_update,
    "folders.delete": folders_delete,
    "folders.contacts": folders_contacts,
    "folders.add_contacts": folders_add_contacts,
    "folders.remove_contacts": folders_remove_contacts,
}
"""Route name → handler for this module's routes."""
