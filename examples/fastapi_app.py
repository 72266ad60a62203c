"""A FastAPI app with one Client per worker process, sharing the quota through Redis when it can.

Every uvicorn or gunicorn worker is a process of its own, with its own Client and governor: two
workers pacing for the whole quota each send twice what it allows. With ``INRO_REDIS_URL`` set,
the workers share one ``RedisGovernor`` (``pip install 'inro-async[redis]'``); without it, give
each worker its share (``LocalGovernor(reserve=1 - 1/N)``) or run one worker.

A person waits on each request, so a call waits for a free slot at most ``INRO_MAX_WAIT``
seconds (``max_wait``); past that, the app answers 503 with ``Retry-After`` rather than hang.
``timeout`` bounds only the HTTP exchange with the API, once the slot is granted.

    inro fake-server --port 8081 &     # prints INRO_BASE_URL and INRO_API_TOKEN to export
    uvicorn fastapi_app:app --app-dir examples --port 8000 --workers 2
    curl localhost:8000/contacts/1

Settings (environment): ``INRO_REDIS_URL`` and ``INRO_REDIS_KEY`` (the shared governor),
``INRO_MAX_WAIT`` (seconds; default 3), ``INRO_QUOTAS`` (``20/1,1000/60``: the quotas to pace
by, when the server's differ from Inrō's, as a fake server started with ``--quota``).
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from inro_async import (
    INRO_QUOTAS,
    Client,
    Governor,
    LocalGovernor,
    NotFoundError,
    Priority,
    Quota,
    QuotaWaitTooLongError,
    RateLimitError,
    with_raw_response,
)

MAX_WAIT = float(os.environ.get("INRO_MAX_WAIT", "3"))
"""Seconds a request may wait for a quota slot: about what a person waits for a page."""


def quotas() -> tuple[Quota, ...]:
    text = os.environ.get("INRO_QUOTAS", "")
    if not text:
        return INRO_QUOTAS
    pairs = (item.split("/") for item in text.split(","))
    return tuple(Quota(int(limit), float(period)) for limit, period in pairs)


def governor() -> Governor:
    """Redis when configured (every worker shares the quota), else this process's own."""
    url = os.environ.get("INRO_REDIS_URL")
    if not url:
        return LocalGovernor(quotas=quotas())
    from inro_async.governor import RedisGovernor

    key = os.environ.get("INRO_REDIS_KEY", "inro:my-org")
    # A worker's loop also parses incoming requests: under a burst, a request granted its slot
    # can leave 100 ms or more after it. The Client reports each answer, and the slot stays
    # taken in Redis until then, so no other worker reuses it while the server may count it.
    return RedisGovernor(url, key=key, quotas=quotas())


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One Client per worker, for the worker's lifetime: one session, one governor."""
    pacing = governor()
    try:
        async with Client(governor=pacing, timeout=10) as inro:
            # A person waits on every call made here: ahead of bulk work, never queued long.
            app.state.inro = inro.with_options(priority=Priority.INTERACTIVE, max_wait=MAX_WAIT)
            yield
    finally:
        await pacing.aclose()  # a Client leaves the governor open: it may pace others


app = FastAPI(lifespan=lifespan)


@app.exception_handler(QuotaWaitTooLongError)
async def quota_busy(request: Request, error: QuotaWaitTooLongError) -> JSONResponse:
    """No slot within ``max_wait``: 503, and when to come back."""
    return JSONResponse(
        {"error": "busy: the API quota is used up for now; try again shortly"},
        status_code=503,
        headers={"Retry-After": str(max(1, math.ceil(error.wait)))},
    )


@app.exception_handler(RateLimitError)
async def throttled(request: Request, error: RateLimitError) -> JSONResponse:
    """The API said 429 more often than the client repeats it: also 503 for our caller."""
    retry_after = max(1, math.ceil(error.retry_after or 1))
    return JSONResponse(
        {"error": "busy: the API is throttling us"},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


@app.get("/contacts/{contact_id}")
async def contact(contact_id: int, request: Request) -> Any:
    """One contact, with how its call went (429 repeats, seconds queued, which worker)."""
    inro: Client = request.app.state.inro
    try:
        raw = await with_raw_response(inro.contacts.get, id=contact_id)
    except NotFoundError:
        return JSONResponse({"error": "no such contact"}, status_code=404)
    found = raw.parse()
    return {
        "id": found.id,
        "username": found.username,
        "retries": raw.retries,
        "queued": round(raw.queued, 3),
        "worker": os.getpid(),
    }
