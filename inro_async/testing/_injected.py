"""The faults a test injects (``FakeInro.inject``), and what an answer's faults do to it.

An injected fault is parsed once when it is injected, waits in a queue, and is spent by the
requests that get as far as it acts (``testing.faults`` says where each kind acts). Once the
handler has answered, ``damaged`` applies the faults that change the answer itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from inro_async._routes import ROUTES
from inro_async.errors import InvalidArgumentError
from inro_async.testing._http import json_response
from inro_async.testing.faults import (
    DEEP_JSON,
    FAULT_KINDS,
    HUGE_BODY,
    REDIRECT_TO,
    Injected,
    gzip_bomb,
    unaccounted_answer,
)

__all__ = ["InjectedFaults", "StatusFault", "damaged"]

_PAGING_HEADERS = ("X-Total", "X-Total-Pages", "X-Page", "X-Per-Page")


@dataclass(frozen=True)
class StatusFault:
    """An injected error answer, sent before the handler runs (nothing is processed).

    ``status`` as JSON, or as a proxy's HTML page (``html``), maybe with a ``Retry-After``.
    """

    status: int
    html: bool = False
    retry_after: float | None = None

    def response(self) -> web.Response:
        """The answer to send."""
        if self.html:
            page = f"<html><body><h1>{self.status} Bad Gateway</h1><hr>nginx</body></html>"
            response = web.Response(text=page, status=self.status, content_type="text/html")
        else:
            response = json_response({"error": f"injected {self.status}"}, status=self.status)
        if self.retry_after is not None:
            response.headers["Retry-After"] = f"{self.retry_after:g}"
        return response


def _value(kind: str, params: dict[str, Any]) -> Any:
    """What fault ``kind`` does, from ``inject``'s keyword arguments (``True``: it just acts)."""
    if kind == "status":
        status = int(params.get("status", 500))
        if params.get("html") or params.get("retry_after") is not None:
            return StatusFault(status, bool(params.get("html")), params.get("retry_after"))
        return status
    if kind == "latency":
        return float(params.get("seconds", 1.0))
    if kind == "lying_total":
        return int(params.get("by", 1000))
    if kind == "short_page":
        return int(params.get("missing", 1))
    if kind == "redirect":
        return int(params.get("status", 302)), str(params.get("location", REDIRECT_TO))
    if kind == "huge_body":
        return int(params.get("size", HUGE_BODY))
    if kind == "deep_json":
        return int(params.get("depth", DEEP_JSON))
    if kind == "unaccounted":
        return unaccounted_answer(params.get("status", 200), params.get("body"))
    return True


class InjectedFaults:
    """The injected faults not yet spent, in the order they were injected."""

    def __init__(self) -> None:
        self._waiting: list[Injected] = []

    def __repr__(self) -> str:
        return f"<InjectedFaults {len(self._waiting)} waiting>"

    def add(self, kind: str, *, route: str | None, times: int, **params: Any) -> None:
        """Queue fault ``kind`` for the next ``times`` requests to ``route`` (``inject``)."""
        if kind not in FAULT_KINDS:
            raise InvalidArgumentError(
                "kind", f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}"
            )
        if route is not None and route not in ROUTES:
            raise InvalidArgumentError("route", f"unknown route {route!r}")
        if kind == "short_page":
            params.setdefault("page", 2)
        page = params.get("page")
        self._waiting.append(
            Injected(kind, route, times, _value(kind, params), None if page is None else int(page))
        )

    def take(self, route: str | None, *, before_limiter: bool, page: int = 1) -> dict[str, Any]:
        """Use up the injected faults met at this point by a request to ``route`` for ``page``.

        ``reset_before`` is met before the rate limiter; every other kind only by a request the
        limiter admits, so a 429 leaves them waiting for the next admitted one. One aimed at a
        page waits for a request for that page.
        """
        chosen: dict[str, Any] = {}
        for injected in list(self._waiting):
            if (injected.kind == "reset_before") != before_limiter:
                continue
            if injected.page is not None and injected.page != page:
                continue
            if injected.route is None or injected.route == route:
                chosen[injected.kind] = injected.value
                injected.times -= 1
                if injected.times <= 0:
                    self._waiting.remove(injected)
        return chosen


def damaged(response: web.StreamResponse, faults: dict[str, Any]) -> web.StreamResponse:
    """The handler's ``response`` as the faults a request met leave it (``testing.faults``).

    ``reset_after`` is not one of them: the server drops the connection instead of answering.
    """
    if faults.get("no_pagination_headers"):
        for name in _PAGING_HEADERS:
            response.headers.pop(name, None)
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        if faults.get("truncate") and response.body:
            response.body = response.body[: max(1, len(response.body) // 2)]
        elif faults.get("malformed"):
            response.body = b'{"this is": not json'
        elif faults.get("deep_json"):
            response.body = b"[" * faults["deep_json"] + b"]" * faults["deep_json"]
    if faults.get("unaccounted"):  # processed, but the answer says nothing of it
        status, answer = faults["unaccounted"]
        response = json_response(answer, status=status)
    if faults.get("redirect"):  # processed, but the answer points elsewhere
        status, location = faults["redirect"]
        response = web.Response(status=status, headers={"Location": location})
    elif faults.get("huge_body"):  # processed, answered with a gzip bomb
        response = web.Response(
            body=gzip_bomb(faults["huge_body"]),
            content_type="application/json",
            headers={"Content-Encoding": "gzip"},
        )
    return response
