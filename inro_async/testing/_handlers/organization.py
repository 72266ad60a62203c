"""Fake handler of ``GET /me``: the organization behind the token."""

from __future__ import annotations

from aiohttp import web

from inro_async.testing._http import Handler, json_response, org_of
from inro_async.testing.generate import iso

__all__ = ["HANDLERS"]


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


HANDLERS: dict[str, Handler] = {"me": me}
"""Route name → handler for this module's routes."""
