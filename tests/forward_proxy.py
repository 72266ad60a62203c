"""A tiny HTTP forward proxy on 127.0.0.1, for the proxy tests: it records what it forwards.

It takes absolute-form requests (``GET http://127.0.0.1:PORT/api/v1/me HTTP/1.1``), sends them
on with a plain aiohttp session, and answers with the origin's answer, adding
``X-Request-Id`` (as a gateway in front of an API may). It records each request's method, URL
without its query, and whether it carried ``Authorization`` and ``Proxy-Authorization``: never
a header's value, so a test can show the token went nowhere it should not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)


@dataclass(frozen=True)
class Forwarded:
    """One request the proxy forwarded (no header values: they may hold the token)."""

    method: str
    url: str
    authorization: bool
    proxy_user: str | None
    user_agent: str


@dataclass
class ForwardProxy:
    """Start with ``async with ForwardProxy() as proxy``; ``proxy.url`` is its address."""

    seen: list[Forwarded] = field(default_factory=list)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.BaseRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ForwardProxy:
        self._session = aiohttp.ClientSession(trust_env=False, auto_decompress=False)
        self._runner = web.ServerRunner(web.Server(self._forward))
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        assert self._session is not None
        await self._runner.cleanup()
        await self._session.close()

    async def _forward(self, request: web.BaseRequest) -> web.StreamResponse:
        target = request._message.url  # absolute-form: the URL the client wants
        if not target.is_absolute():
            return web.Response(status=400, text="not a proxy request")
        user = None
        if credentials := request.headers.get("Proxy-Authorization"):
            user = aiohttp.BasicAuth.decode(credentials).login
        self.seen.append(
            Forwarded(
                request.method,
                str(target.with_query(None)),
                "Authorization" in request.headers,
                user,
                request.headers.get("User-Agent", ""),
            )
        )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        assert self._session is not None
        async with self._session.request(
            request.method,
            target,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            out["X-Request-Id"] = f"req_{next(self._ids):04d}"
            return web.Response(status=answer.status, body=body, headers=out)
