"""``inro fake-server --verbose``: one stderr line per request the fake answers, 429s marked.

An outer aiohttp middleware around the fake's own, so it sees the final answer (a 429 from the
rate limiter, a fault, a handler's response) without the fake server knowing about logging. The
token is never printed: only the method, the path with its query, the status and the time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import click
from aiohttp import web

if TYPE_CHECKING:
    from inro_async.testing import FakeInro

__all__ = ["log_requests"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _line(request: web.Request, status: str, started: float) -> str:
    elapsed = (time.perf_counter() - started) * 1000
    stamp = time.strftime("%H:%M:%S")
    return f"{stamp} {request.method} {request.path_qs} -> {status} in {elapsed:.1f} ms"


def log_requests(fake: FakeInro, echo: Callable[[str], None] | None = None) -> None:
    """Log every request ``fake`` answers (call before ``fake.start()``)."""
    write = echo or (lambda line: click.echo(line, err=True))

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except asyncio.CancelledError:
            write(_line(request, "connection reset", started))
            raise
        line = _line(request, str(response.status), started)
        if response.status == 429:
            retry = response.headers.get("Retry-After", "?")
            line += f"  [429 Too Many Requests: retry after {retry} s]"
        write(line)
        return response

    fake.app.middlewares.insert(0, middleware)
