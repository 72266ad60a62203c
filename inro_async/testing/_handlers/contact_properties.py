"""Fake handlers of contact properties (custom fields): list, create, update, delete."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from inro_async.testing._http import (
    ApiError,
    Handler,
    body,
    found,
    json_response,
    org_of,
    paginate,
    require_text,
)

__all__ = ["HANDLERS", "slugify"]

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
    title = require_text(spec, "title")
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
    prop = found(org.properties, request.match_info["slug"], "Contact property", prefix="")
    spec = _property_payload(await body(request))
    merged = {**prop, **{k: v for k, v in spec.items() if k in prop and k != "slug"}}
    _check_property(merged, creating=False)
    prop.update(merged)
    return json_response(prop)


async def contact_properties_delete(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    slug = request.match_info["slug"]
    found(org.properties, slug, "Contact property", prefix="")
    del org.properties[slug]
    for contact in org.contacts.values():
        if slug in contact["custom_properties"]:
            contact["custom_properties"] = {
                k: v for k, v in contact["custom_properties"].items() if k != slug
            }
            org.changed(contact)
    return web.Response(status=204)


HANDLERS: dict[str, Handler] = {
    "contact_properties.list": contact_properties_list,
    "contact_properties.create": contact_properties_create,
    "contact_properties.update": contact_properties_update,
    "contact_properties.delete": contact_properties_delete,
}
"""Route name → handler for this module's routes."""
