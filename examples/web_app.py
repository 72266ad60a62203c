"""An aiohttp.web app sharing one Client across requests (its governor paces them all).

The client is opened once in a cleanup context and closed on shutdown; handlers use it
concurrently. A person waits on each request, so a call waits at most ``MAX_WAIT`` seconds for
a quota slot (``max_wait``) and then answers 503 with ``Retry-After``; ``timeout`` bounds only
the HTTP exchange once the slot is granted. Run it, then try
``curl 'localhost:8000/contacts?q=jane'``:

    inro fake-server &      # on port 8080; prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/web_app.py    # on port 8000 (PORT=...)

One process only: for several workers (gunicorn, uvicorn --workers) see fastapi_app.py.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from aiohttp import web

from inro_async import (
    Client,
    InvalidArgumentError,
    NotFoundError,
    Priority,
    QuotaWaitTooLongError,
)

CLIENT = web.AppKey("inro", Client)
MAX_WAIT = 3.0
"""Seconds a request may wait for a quota slot: about what a person waits for a page."""


async def inro_client(app: web.Application) -> AsyncIterator[None]:
    """One Client for the app's lifetime: one session, one governor, one quota."""
    async with Client() as inro:
        # A person is waiting on every call made here: jump ahead of any bulk work.
        app[CLIENT] = inro.with_options(
            priority=Priority.INTERACTIVE, timeout=10, max_wait=MAX_WAIT
        )
        yield


def json_response(data: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(data), status=status,
                        content_type="application/json")


async def search(request: web.Request) -> web.Response:
    query = request.query.get("q", "")
    try:
        page = await request.app[CLIENT].contacts.search(query, per_page=20)
    except InvalidArgumentError as error:
        return json_response({"error": str(error)}, status=400)
    return json_response({"total": page.total, "contacts": page.items})


async def contact(request: web.Request) -> web.Response:
    try:
        found = await request.app[CLIENT].contacts.get(username=request.match_info["username"])
    except NotFoundError:
        return json_response({"error": "no such contact"}, status=404)
    return json_response(found)


@web.middleware
async def quota_busy(request: web.Request, handler: Any) -> web.StreamResponse:
    """No quota slot within ``MAX_WAIT``: 503, and when to come back."""
    try:
        response: web.StreamResponse = await handler(request)
    except QuotaWaitTooLongError as error:
        response = json_response({"error": "busy: the API quota is used up for now"}, 503)
        response.headers["Retry-After"] = str(max(1, math.ceil(error.wait)))
    return response


def make_app() -> web.Application:
    app = web.Application(middlewares=[quota_busy])
    app.cleanup_ctx.append(inro_client)
    app.router.add_get("/contacts", search)
    app.router.add_get("/contacts/{username}", contact)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
