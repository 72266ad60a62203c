"""Fake handlers of discovery: trigger, action and contact filter types, and templates."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inro_async.testing._domain import FILTER_OPERATORS, FILTER_TYPES
from inro_async.testing._http import Handler, json_response, org_of

__all__ = ["HANDLERS"]

TRIGGER_TYPES = ("contact_create", "comment", "dm_keyword", "story_mention", "webhook")
ACTION_TYPES = ("message", "comment", "folder", "update_property", "ab_testing", "wait")


def _kinds(kinds: tuple[str, ...], options: dict[str, Any]) -> web.Response:
    return json_response(
        [{"type": k, "description": k.replace("_", " "), "options": options} for k in kinds]
    )


async def trigger_types(request: web.Request) -> web.StreamResponse:
    return _kinds(TRIGGER_TYPES, {})


async def action_types(request: web.Request) -> web.StreamResponse:
    return _kinds(ACTION_TYPES, {})


async def contact_filter_types(request: web.Request) -> web.StreamResponse:
    return _kinds(FILTER_TYPES, {"operators": list(FILTER_OPERATORS)})


async def templates(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    query = (request.query.get("query") or "").lower()
    return json_response([t for t in org.templates if query in t["title"].lower()])


HANDLERS: dict[str, Handler] = {
    "discovery.trigger_types": trigger_types,
    "discovery.action_types": action_types,
    "discovery.contact_filter_types": contact_filter_types,
    "discovery.templates": templates,
}
"""Route name → handler for this module's routes."""
