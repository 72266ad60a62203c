"""Fake handlers of batch tasks: the background work of bulk updates and campaign sends."""

from __future__ import annotations

from aiohttp import web

from inro_async.testing._http import Handler, found, json_response, org_of, paginate

__all__ = ["HANDLERS"]


async def batch_tasks_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return paginate(request, list(reversed(org.batch_tasks.values())))


async def batch_tasks_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return json_response(found(org.batch_tasks, request.match_info["id"], "Batch task", prefix=""))


HANDLERS: dict[str, Handler] = {
    "batch_tasks.list": batch_tasks_list,
    "batch_tasks.get": batch_tasks_get,
}
"""Route name → handler for this module's routes."""
