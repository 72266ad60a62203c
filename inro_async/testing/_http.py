"""Request and response helpers shared by the fake server's handlers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from aiohttp import web

if TYPE_CHECKING:
    from inro_async.testing.server import FakeInro
    from inro_async.testing.store import Organization

__all__ = [
    "FAKE_KEY",
    "ORG_KEY",
    "ApiError",
    "body",
    "fake_of",
    "identifier_of",
    "json_response",
    "org_of",
    "paginate",
    "pagination",
]

T = TypeVar("T")

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

IDENTIFIER_KEYS = ("id", "username", "email")
MAX_PER_PAGE = 1000


FAKE_KEY: web.AppKey[FakeInro] = web.AppKey("inro_fake")
"""Where the app keeps its FakeInro."""
ORG_KEY: web.RequestKey[Organization] = web.RequestKey("inro_org")
"""Where a request keeps its organization."""


class ApiError(Exception):
    """An error answer: ``{"error": message, **extra}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        """The JSON error response."""
        return json_response({"error": self.message, **self.extra}, status=self.status)


def json_response(payload: Any, *, status: int = 200) -> web.Response:
    """A JSON response encoded with msgspec."""
    return web.Response(body=_encode(payload), status=status, content_type="application/json")


def org_of(request: web.Request) -> Organization:
    """The organization behind the request's token (set by the middleware)."""
    return request[ORG_KEY]


def fake_of(request: web.Request) -> FakeInro:
    """The FakeInro serving the request."""
    return request.app[FAKE_KEY]


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON object body; 400 when it is missing, not JSON, or not an object."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        parsed = _decode(raw)
    except msgspec.DecodeError:
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return parsed


def _int_param(request: web.Request, name: str, default: int, minimum: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {raw!r}", field=name) from None
    if value < minimum:
        raise ApiError(400, f"{name} must be >= {minimum}, got {value}", field=name)
    return value


def pagination(request: web.Request) -> tuple[int, int, int]:
    """``page`` (1-based), ``per_page`` (default 20, clamped to 1,000) and ``offset``."""
    page = _int_param(request, "page", 1, 1)
    per_page = min(_int_param(request, "per_page", 20, 1), MAX_PER_PAGE)
    offset = _int_param(request, "offset", 0, 0)
    return page, per_page, offset


def paginate(
    request: web.Request,
    items: Sequence[T],
    encode_item: Callable[[T], bytes] | None = None,
) -> web.Response:
    """One page of ``items`` as a bare JSON array with the four ``X-*`` paging headers."""
    page, per_page, offset = pagination(request)
    remaining = items[offset:] if offset else items
    total = len(remaining)
    start = (page - 1) * per_page
    chunk = remaining[start : start + per_page]
    if encode_item is not None:
        payload = b"[" + b",".join(encode_item(item) for item in chunk) + b"]"
    else:
        payload = _encode(list(chunk))
    response = web.Response(body=payload, content_type="application/json")
    response.headers["X-Total"] = str(total)
    response.headers["X-Total-Pages"] = str(math.ceil(total / per_page) if total else 0)
    response.headers["X-Page"] = str(page)
    response.headers["X-Per-Page"] = str(per_page)
    return response


def identifier_of(
    source: Mapping[str, Any], *, where: str = "request", allow_extra: bool = True
) -> dict[str, Any]:
    """Exactly one of id/username/email from ``source``; 400 for zero or several."""
    given = {k: source[k] for k in IDENTIFIER_KEYS if source.get(k) not in (None, "")}
    if len(given) != 1:
        found = ", ".join(given) or "none"
        raise ApiError(400, f"{where}: pass exactly one of id, username or email (got {found})")
    key, value = next(iter(given.items()))
    if key == "id":
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"{where}: id must be an integer, got {value!r}") from None
    elif not isinstance(value, str):
        raise ApiError(400, f"{where}: {key} must be a string")
    return {key: value}


def int_path(request: web.Request, name: str = "id") -> int:
    """An integer path parameter (the route's regex already checked the digits)."""
    return int(request.match_info[name])
