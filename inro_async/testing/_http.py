"""What the fake server's handlers share over HTTP: request parsing, checks, errors, pages.

Errors are Grape-style ``{"error": message}`` bodies raised as ``ApiError``; lists are bare
JSON arrays with the four ``X-*`` paging headers.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import msgspec
from aiohttp import web

from inro_async.testing.store import ORDER_COLUMNS

if TYPE_CHECKING:
    from inro_async.testing.server import FakeInro
    from inro_async.testing.store import Organization

__all__ = [
    "FAKE_KEY",
    "FAULTS_KEY",
    "ORG_KEY",
    "ApiError",
    "Handler",
    "TimeWindow",
    "body",
    "contact_page",
    "fake_of",
    "find_contact",
    "found",
    "identifier_of",
    "int_path",
    "json_response",
    "optional_text",
    "order",
    "org_of",
    "paginate",
    "pagination",
    "require_text",
    "time_window",
]

T = TypeVar("T")
K = TypeVar("K")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
"""An aiohttp handler of one route."""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

IDENTIFIER_KEYS = ("id", "username", "email")
MAX_PER_PAGE = 1000


FAKE_KEY: web.AppKey[FakeInro] = web.AppKey("inro_fake")
"""Where the app keeps its FakeInro."""
ORG_KEY: web.RequestKey[Organization] = web.RequestKey("inro_org")
"""Where a request keeps its organization."""
FAULTS_KEY: web.RequestKey[dict[str, Any]] = web.RequestKey("inro_faults")
"""The faults a request met (set by the middleware); ``paginate`` acts on the paging ones."""


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


def _int_param(params: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        if isinstance(raw, bool | float):
            raise ValueError(raw)
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f"{name} must be an integer, got {raw!r}", field=name) from None
    if value < minimum:
        raise ApiError(400, f"{name} must be >= {minimum}, got {value}", field=name)
    return value


def pagination(
    request: web.Request, params: Mapping[str, Any] | None = None
) -> tuple[int, int, int]:
    """``page`` (1-based), ``per_page`` (default 20, clamped to 1,000) and ``offset``.

    Read from the query string, or from ``params`` (a JSON body's, for lists asked by POST).
    """
    source: Mapping[str, Any] = request.query if params is None else params
    page = _int_param(source, "page", 1, 1)
    per_page = min(_int_param(source, "per_page", 20, 1), MAX_PER_PAGE)
    offset = _int_param(source, "offset", 0, 0)
    return page, per_page, offset


def paginate(
    request: web.Request,
    items: Sequence[T],
    encode_item: Callable[[T], bytes] | None = None,
    params: Mapping[str, Any] | None = None,
) -> web.Response:
    """One page of ``items`` as a bare JSON array with the four ``X-*`` paging headers.

    ``params``: where ``page`` and ``per_page`` come from when not the query (see ``pagination``).
    The paging faults act here (``testing.faults``): ``ignore_page`` answers page 1 whatever was
    asked, headers included; ``lying_total`` shifts ``X-Total`` (and ``X-Total-Pages`` with
    it); ``short_page`` leaves the page's last items out and its headers as they were.
    """
    page, per_page, offset = pagination(request, params)
    faults = request.get(FAULTS_KEY)
    if faults and faults.get("ignore_page"):
        page = 1  # a cache keyed without the query: page 1's answer, to every page
    remaining = items[offset:] if offset else items
    total = len(remaining)
    start = (page - 1) * per_page
    chunk = remaining[start : start + per_page]
    if faults:
        missing = int(faults.get("short_page", 0))
        if missing:
            chunk = chunk[: max(0, len(chunk) - missing)]
        total = max(0, total + int(faults.get("lying_total", 0)))
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


def _describe(identifier: Mapping[str, Any]) -> str:
    """``{"username": "ana"}`` as people write it: ``username ana`` (no Python repr)."""
    return ", ".join(f"{key} {value}" for key, value in identifier.items())


def found(table: Mapping[K, T], key: K, what: str, *, prefix: str = "id ") -> T:
    """``table[key]``, or a 404 ``"<what> not found: id <key>"``."""
    value = table.get(key)
    if value is None:
        raise ApiError(404, f"{what} not found: {prefix}{key}")
    return value


def find_contact(org: Organization, identifier: Mapping[str, Any]) -> dict[str, Any]:
    """The contact named by ``{"id"|"username"|"email": …}``, or a 404 naming it."""
    contact = org.find(identifier)
    if contact is None:
        raise ApiError(404, f"Contact not found: {_describe(identifier)}")
    return contact


def require_text(payload: Mapping[str, Any], name: str) -> str:
    """A required non-empty string field (``name is required``)."""
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{name} is required", field=name)
    return value


def optional_text(payload: Mapping[str, Any], name: str) -> str | None:
    """A non-empty string field when given (``name must be a non-empty string``), else None."""
    if name not in payload:
        return None
    value = payload[name]
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{name} must be a non-empty string", field=name)
    return value


def order(request: web.Request, params: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """The contact lists' ``order_column`` and ``order_direction`` (default ``id``, ``asc``).

    Read from the query string, or from ``params`` (a JSON body's, for lists asked by POST).
    """
    source: Mapping[str, Any] = request.query if params is None else params
    column = source.get("order_column", "id")
    direction = source.get("order_direction", "asc")
    if column not in ORDER_COLUMNS:
        raise ApiError(
            400, f"order_column must be one of {', '.join(ORDER_COLUMNS)}", field="order_column"
        )
    if direction not in ("asc", "desc"):
        raise ApiError(400, "order_direction must be asc or desc", field="order_direction")
    return column, direction


def contact_page(
    request: web.Request,
    org: Organization,
    ids: Sequence[int],
    params: Mapping[str, Any] | None = None,
) -> web.Response:
    """One page of contacts (given by id), joined from their cached JSON."""
    return paginate(request, ids, org.encoded, params)


class TimeWindow(NamedTuple):
    """A request's ``since``/``until`` (ISO-8601, both inclusive): as given, and as moments.

    The reference names the two parameters on executions and performance but not their format;
    ISO-8601 (a date, or a time with ``Z`` or an offset; naive means UTC) is our guess.
    """

    since: str | None
    until: str | None
    start: datetime | None
    end: datetime | None

    def holds(self, run: Mapping[str, Any]) -> bool:
        """Whether a run (an execution) was created within the window."""
        at = datetime.fromisoformat(run["created_at"])
        return (self.start is None or at >= self.start) and (self.end is None or at <= self.end)

    def echo(self) -> dict[str, str | None]:
        """``since`` and ``until`` as the answer repeats them."""
        return {"since": self.since, "until": self.until}


def time_window(request: web.Request) -> TimeWindow:
    """The request's ``since``/``until``; 400 when either is not ISO-8601."""
    bounds: list[datetime | None] = []
    for name in ("since", "until"):
        raw = request.query.get(name)
        if not raw:
            bounds.append(None)
            continue
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise ApiError(
                400, f"{name} must be an ISO-8601 date or time, got {raw!r}", field=name
            ) from None
        bounds.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return TimeWindow(request.query.get("since"), request.query.get("until"), *bounds)
