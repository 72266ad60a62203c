"""``FakeInro``: the fake Inrō API on 127.0.0.1, with strict quotas, faults and inspection.

Every request passes one middleware, in this order: it is recorded (with its arrival time on
the server's clock), authenticated (unknown token 401, Free plan 403), dropped unprocessed
(``reset_before``), judged by the organization's rate limiter (429 with ``Retry-After``, and no
other fault), delayed (``latency``), failed (``status``: 5xx, counted against the quota but
not processed) or handled (where a list's page may be made to lie: ``ignore_page``,
``lying_total``, ``short_page``); then its body may be damaged (``truncate``, ``malformed``,
``deep_json``), its paging headers dropped, its answer replaced by a 2xx that says nothing of
what was done (``unaccounted``), or, after it took effect, its connection reset
(``reset_after``) or its answer replaced by a redirect (``redirect``) or a gzip bomb
(``huge_body``). Every response of an authenticated request carries
``X-RateLimit-Limit``/``-Remaining``/``-Reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from inro_async._routes import ROUTES
from inro_async.errors import InvalidArgumentError
from inro_async.governor._base import INRO_QUOTAS, Quota
from inro_async.testing._handlers import HANDLERS
from inro_async.testing._http import FAKE_KEY, FAULTS_KEY, ORG_KEY, ApiError, json_response
from inro_async.testing._injected import InjectedFaults, StatusFault, damaged
from inro_async.testing._ratelimit import Mode, Verdict
from inro_async.testing.faults import Faults
from inro_async.testing.store import Organization

__all__ = ["FakeInro", "RecordedRequest"]

API_PREFIX = "/api/v1"
_decode = msgspec.json.Decoder().decode


_FREEZE_AT = 10_000
"""Stores of at least this many contacts are moved out of the cyclic GC's reach."""


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    body: Any
    arrived_at: float
    """Server clock (epoch seconds) at arrival."""
    token: str | None = field(repr=False)
    status: int | None = None
    """The status answered; ``None`` when the connection was reset instead."""
    throttled: bool = False
    faults: tuple[str, ...] = ()
    """The faults this request met (none when it was answered 429)."""


def _page_asked(record: RecordedRequest) -> int:
    """The page a request asks for (its query's, or its JSON body's ``page``); 1 if neither."""
    raw = record.query.get("page")
    if raw is None and isinstance(record.body, dict):
        raw = record.body.get("page")
    try:
        return int(raw) if raw is not None else 1
    except (TypeError, ValueError):
        return 1


def _aiohttp_path(path: str) -> str:
    """The route table's path with regex constraints, so ``/contacts/bulk`` is not an id."""
    if path.startswith("/batch_tasks/"):  # batch task ids are strings ("bt_3f9a…")
        return path.replace("{id}", "{id:[^/]+}")
    return (
        path.replace("{id}", r"{id:\d+}")
        .replace("{type}", "{type:scenario|campaign}")
        .replace("{slug}", r"{slug:[^/]+}")
    )


class FakeInro:
    """The fake Inrō API: ``async with FakeInro() as fake: fake.add_organization("t")``.

    ``mode`` is ``"sliding"`` (strictest) or ``"fixed"`` (epoch-aligned windows counting
    throttled requests); ``quotas`` default to production's; ``clock`` returns epoch seconds
    (a ``ManualClock`` runs a day of quota in a test); ``faults`` are random seeded faults;
    ``wrap_scenarios`` answers ``GET /scenarios`` as ``{"scenarios": [...]}``; background work
    (bulk updates, campaign sends) completes ``batch_delay`` seconds after it is accepted.
    """

    def __init__(
        self,
        *,
        mode: Mode = "sliding",
        quotas: Sequence[Quota] = INRO_QUOTAS,
        clock: Callable[[], float] | None = None,
        faults: Faults | None = None,
        wrap_scenarios: bool = False,
        batch_delay: float = 0.05,
    ) -> None:
        if mode not in ("sliding", "fixed"):
            raise InvalidArgumentError("mode", f"must be 'sliding' or 'fixed', got {mode!r}")
        self.mode: Mode = mode
        self.quotas = tuple(quotas)
        self.clock: Callable[[], float] = clock or time.time
        if faults is not None and faults.routes is not None:
            unknown = sorted(set(faults.routes) - set(ROUTES))
            if unknown:  # a typo would otherwise make the faults silently never fire
                raise InvalidArgumentError("faults", f"unknown route(s): {', '.join(unknown)}")
        self.faults = faults
        self.wrap_scenarios = wrap_scenarios
        self.batch_delay = batch_delay
        self.organizations: dict[str, Organization] = {}
        self.requests: list[RecordedRequest] = []
        self._injected = InjectedFaults()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None
        self.app = self._build_app()

    def __repr__(self) -> str:
        where = self.base_url or "not started"
        return f"<FakeInro {self.mode} {where}; {len(self.organizations)} organization(s)>"

    # -- setup -------------------------------------------------------------------------------

    def add_organization(
        self,
        token: str = "test-token",  # noqa: S107 - the fake's well-known token
        *,
        plan: str = "pro",
        contacts: int = 100,
        seed: int = 0,
        quotas: Sequence[Quota] | None = None,
    ) -> Organization:
        """Register a token as its own organization, populated with ``contacts`` contacts."""
        if token in self.organizations:
            raise InvalidArgumentError("token", "that token already has an organization")
        if plan not in ("pro", "trial", "free"):
            raise InvalidArgumentError("plan", f"must be pro, trial or free, got {plan!r}")
        org = Organization.create(
            token,
            org_id=len(self.organizations) + 1,
            plan=plan,
            quotas=tuple(quotas) if quotas is not None else self.quotas,
            mode=self.mode,
            clock=self.clock,
            contacts=contacts,
            seed=seed,
        )
        self.organizations[token] = org
        if contacts >= _FREEZE_AT:
            # A big store is long-lived: keep it out of the cyclic GC, whose full passes over
            # 100,000 contact dicts stall the loop for ~250 ms, late enough to skew arrival
            # times (and so rate-limit verdicts) of a client sharing the process.
            gc.collect()
            gc.freeze()
        return org

    def inject(self, kind: str, *, route: str | None = None, times: int = 1, **params: Any) -> None:
        """Make the next ``times`` requests (to ``route``, or any) meet fault ``kind``.

        Only requests that get as far as the fault count: ``reset_before`` is met by the next
        authenticated request, throttled or not (it is dropped before the rate limiter judges
        it); every other kind by the next one the rate limiter admits, so a request answered
        429 leaves the fault for the one after it.
        ``inject("reset_after", route="messages.send")``, ``inject("status", status=503)``,
        ``inject("latency", seconds=2.0)``, ``inject("redirect", status=307, location="/x")``,
        ``inject("unaccounted", body={"error": "…"})``;
        the paging lies: ``inject("lying_total", by=-150)``,
        ``inject("short_page", page=2, missing=1)``, ``inject("ignore_page", times=50)``.
        ``page=N`` aims any kind at the requests for page ``N`` only (see ``testing.faults``).
        """
        self._injected.add(kind, route=route, times=times, **params)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("already started")
        if not self.organizations:
            self.add_organization()
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        self.base_url = f"http://{host}:{bound}{API_PREFIX}"
        return self.base_url

    async def close(self) -> None:
        """Stop serving and cancel background work."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeInro:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run server-side background work (batch tasks), cancelled at ``close``."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every background task (bulk updates, campaign sends) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- inspection --------------------------------------------------------------------------

    @property
    def org(self) -> Organization:
        """The first organization (the one the fixtures create)."""
        return next(iter(self.organizations.values()))

    @property
    def token(self) -> str:
        """The first organization's token (``test-token`` unless told otherwise)."""
        return next(iter(self.organizations))

    def window_counts(self, token: str = "test-token") -> dict[Quota, int]:  # noqa: S107
        """Requests counted in each quota's current window for ``token``."""
        return self.organizations[token].limiter.counts(self.clock())

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded requests for one route name (``"messages.send"``)."""
        return [r for r in self.requests if r.route == route]

    @property
    def throttled(self) -> int:
        """How many requests were answered 429."""
        return sum(1 for r in self.requests if r.throttled)

    # -- the app -----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        app[FAKE_KEY] = self
        for name, route in ROUTES.items():
            app.router.add_route(
                route.method, API_PREFIX + _aiohttp_path(route.path), HANDLERS[name], name=name
            )
        return app

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        now = self.clock()
        route = request.match_info.route.name
        parsed: Any = None
        if request.can_read_body and request.content_type == "application/json":
            # Multipart bodies are left unread here: the handler parses them once.
            with contextlib.suppress(msgspec.DecodeError):
                parsed = _decode(await request.read())
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else None
        record = RecordedRequest(
            request.method, request.path, route, dict(request.query), parsed, now, token
        )
        self.requests.append(record)

        if route is None:  # no such path
            record.status = 404
            return json_response(
                {"error": f"Not found: {request.method} {request.path}"}, status=404
            )
        org = self.organizations.get(token or "")
        if org is None:
            record.status = 401
            return json_response(
                {"error": "Unauthorized: missing or invalid API token"}, status=401
            )
        if org.plan == "free":
            record.status = 403
            return json_response(
                {
                    "error": "The Private API requires a Pro or Trial subscription; "
                    "this organization is on the Free plan"
                },
                status=403,
            )
        request[ORG_KEY] = org
        # Random faults are drawn for every request (a seed gives the same sequence whatever
        # is throttled); injected ones wait for a request that gets as far as they act.
        faults = self.faults.draw(route) if self.faults is not None else {}
        page = _page_asked(record)
        faults.update(self._injected.take(route, before_limiter=True, page=page))
        if faults.get("reset_before"):
            record.faults = ("reset_before",)
            return self._reset(request, record)

        verdict = org.limiter.check(now)
        if not verdict.allowed:  # a throttled request meets no fault
            record.status, record.throttled = 429, True
            quota = verdict.quota
            message = (
                f"Rate limit exceeded: {quota.limit} requests per {quota.period:g} s"
                if quota
                else "Rate limit exceeded"
            )
            return self._finish(json_response({"error": message}, status=429), verdict, record)
        faults.update(self._injected.take(route, before_limiter=False, page=page))
        record.faults = tuple(faults)
        if faults:
            request[FAULTS_KEY] = faults  # the paging ones act where the page is made
        if faults.get("latency"):
            await asyncio.sleep(float(faults["latency"]))
        if faults.get("status"):
            fault = faults["status"]
            if not isinstance(fault, StatusFault):
                fault = StatusFault(int(fault))
            return self._finish(fault.response(), verdict, record)
        try:
            response = await handler(request)
        except ApiError as error:
            response = error.response()
        if faults.get("reset_after"):  # processed, then the connection is dropped
            return self._reset(request, record)
        if faults:
            response = damaged(response, faults)
        return self._finish(response, verdict, record)

    @staticmethod
    def _finish(
        response: web.StreamResponse, verdict: Verdict, record: RecordedRequest
    ) -> web.StreamResponse:
        response.headers.update(verdict.headers())
        record.status = response.status
        return response

    @staticmethod
    def _reset(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        record.status = None
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # nothing more can be written on an aborted connection
