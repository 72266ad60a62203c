"""Fake handlers of segments: saved contact filters, with their live contact count."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inro_async.testing._domain import evaluate_filters
from inro_async.testing._http import (
    Handler,
    body,
    found,
    int_path,
    json_response,
    optional_text,
    org_of,
    paginate,
    require_text,
)
from inro_async.testing.store import Organization

__all__ = ["HANDLERS"]


def _segment(org: Organization, request: web.Request) -> dict[str, Any]:
    return found(org.segments, int_path(request), "Segment")


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
    title = require_text(payload, "title")
    filters = payload.get("contact_filters", [])
    logic = payload.get("filter_logic", "and")
    evaluate_filters(org, filters, logic, "contact_filters")  # validates
    segment = {
        "id": org.next_id(),
        "title": title,
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
    optional_text(payload, "title")
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


HANDLERS: dict[str, Handler] = {
    "segments.list": segments_list,
    "segments.get": segments_get,
    "segments.create": segments_create,
    "segments.update": segments_update,
    "segments.delete": segments_delete,
}
"""Route name → handler for this module's routes."""
