"""One request, start to finish: governor slot, auth, send, retries, error mapping.

This is the only place retries happen; the bytes go through an ``HTTPBackend`` (``_http.py``),
whether to send again is decided by ``_retry_policy.RetryPolicy`` (which says what is retried and
why), and errors are built by ``inro_async.errors``. ``request`` only does the waiting: the
governor's slot, the dispatch hook, the send, the governor's ``observe``, the backoff sleeps.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import yarl

from inro_async._headers import parse_retry_after
from inro_async._http import (
    AiohttpBackend,
    BodyTooLarge,
    HTTPBackend,
    HTTPRequest,
    HTTPResult,
    Multipart,
    QueryValue,
    SendError,
    encode_query,
)
from inro_async._request_options import (
    NO_OVERRIDES,
    USE_CLIENT_DEFAULT,
    DispatchHook,
    NoEffectHook,
    RequestOptions,
    ResolvedOptions,
    ResponseHook,
    UseClientDefault,
)
from inro_async._response import APIResponse, decoder_for
from inro_async._retry_policy import (
    DEFAULT_RETRIES,
    NOTHING_YET,
    Answered,
    Failed,
    Outcome,
    Raise,
    Retries,
    RetryPolicy,
    SendAgain,
    had_no_effect,
)
from inro_async._routes import DEFAULT_BASE_URL, is_idempotent
from inro_async._token_pause import TokenPause
from inro_async.errors import (
    APITimeoutError,
    ClientClosedError,
    EventLoopMismatchError,
    InvalidArgumentError,
    body_too_large,
    connection_error,
    error_from_response,
    request_id_of,
)
from inro_async.governor._base import (
    NO_ANSWER,
    FastGovernor,
    Governor,
    GrantNow,
    ObserveNow,
    Permit,
    Priority,
)

__all__ = [
    "NO_OVERRIDES",
    "USE_CLIENT_DEFAULT",
    "APIResponse",
    "DispatchHook",
    "Multipart",
    "NoEffectHook",
    "QueryValue",
    "RequestOptions",
    "ResolvedOptions",
    "ResponseHook",
    "Retries",
    "Transport",
    "UseClientDefault",
    "decoder_for",
    "encode_query",
    "token_fingerprint",
]
"""Re-exported: the options live in ``_request_options.py``, the response in ``_response.py``,
the query's encoding in ``_http.py``."""

logger = logging.getLogger("inro_async")

T = TypeVar("T")


def _checked_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash, if it is an absolute http(s) URL without a query."""
    if not isinstance(base_url, str):
        raise InvalidArgumentError(
            "base_url", f"must be a string like {DEFAULT_BASE_URL!r}, got {base_url!r}"
        )
    base_url = base_url.strip()
    url = yarl.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise InvalidArgumentError(
            "base_url",
            f"must be an http(s) URL like {DEFAULT_BASE_URL!r} (no query), got {base_url!r}",
        )
    return base_url.rstrip("/")


_NO_HEADERS: Mapping[str, str] = {}
_NORMAL = Priority.NORMAL
_running_loop = asyncio.get_running_loop


def token_fingerprint(token: str) -> str:
    """The first 16 hex digits of the token's SHA-256: safe to store, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass(slots=True, repr=False, eq=False)
class Transport:
    """Sends requests for one token through one governor; shared by a Client and its copies."""

    base_url: str
    governor: Governor
    defaults: RequestOptions
    backend: HTTPBackend
    _auth: dict[str, str] = field(repr=False)
    token_fingerprint: str = ""
    """``token_fingerprint(token)``: tells tokens apart (job journals) without holding one."""
    _rng: random.Random = field(default_factory=random.Random)
    _encoder: msgspec.json.Encoder = field(default_factory=msgspec.json.Encoder)
    _resolved: ResolvedOptions = field(init=False)
    _closed: bool = field(init=False, default=False)
    # The loop of the first request: the session and the governor's waiters belong to it.
    _loop: asyncio.AbstractEventLoop | None = field(init=False, default=None)
    # The latest 429 pause: when it ends and the answer that asked for it.
    _pause: TokenPause = field(init=False, default_factory=TokenPause)
    _reports: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    # The governor's synchronous common cases, if it has them (``FastGovernor``).
    _grant_now: GrantNow | None = field(init=False, default=None)
    _observe_now: ObserveNow | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._resolved = self.defaults.resolved()  # most requests override nothing
        if isinstance(self.governor, FastGovernor) and self.governor.takes_sync_calls():
            self._grant_now = self.governor.grant_now
            self._observe_now = self.governor.observe_now

    def options_for(self, options: RequestOptions | None) -> ResolvedOptions:
        """The settings for a request: the client's defaults with ``options`` taking precedence."""
        if options is None or options is NO_OVERRIDES:
            return self._resolved
        merged = self.defaults.merged(options)
        return self._resolved if merged is self.defaults else merged.resolved()

    @classmethod
    def create(
        cls,
        *,
        token: str,
        base_url: str,
        governor: Governor,
        defaults: RequestOptions,
        backend: HTTPBackend | None,
        user_agent: str,
    ) -> Transport:
        """A transport; the token is kept only inside the per-request header mapping."""
        return cls(
            base_url=_checked_base_url(base_url),
            governor=governor,
            defaults=defaults,
            backend=backend or AiohttpBackend(),
            token_fingerprint=token_fingerprint(token),
            _auth={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": user_agent,
            },
        )

    def __repr__(self) -> str:
        return f"<Transport {self.base_url} token=***>"

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` was called: no request is sent after it."""
        return self._closed

    def check_usable(self) -> None:
        """Raise unless requests may be sent from the running loop (open, and the same loop)."""
        self._usable_loop()

    def _usable_loop(self) -> asyncio.AbstractEventLoop:
        """``check_usable``, returning the running loop."""
        if self._closed:
            raise ClientClosedError
        loop = _running_loop()
        if loop is not self._loop:
            self._bind(loop)
        return loop

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Tie the transport to ``loop``, its first request's (the session's, the waiters')."""
        if self._loop is not None:
            raise EventLoopMismatchError
        self._loop = loop

    async def aclose(self) -> None:
        """Release the backend's connections (a session shared by the caller is left open)."""
        self._closed = True
        await self.backend.aclose()

    def encode(self, payload: Any) -> bytes:
        """A JSON request body, encoded with msgspec (Structs, dicts, lists…)."""
        return self._encoder.encode(payload)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        query: list[tuple[str, str]] | None = None,
        json: Any = None,
        form: Multipart | None = None,
        idempotent: bool | None = None,
        gone_is_done: bool = False,
        options: RequestOptions | None = None,
    ) -> APIResponse:
        """Send one API request (with retries) and return the successful response.

        ``query`` holds parameters encoded already (``encode_query``), sent after ``params``.

        With ``gone_is_done``, a 404 to a repeat of a request that may already have been
        processed is returned as a success (a DELETE whose first answer was lost).
        Raises an ``APIStatusError`` subclass for 3xx/4xx/5xx, ``APIConnectionError`` or
        ``APITimeoutError`` when no response arrived, ``QuotaWaitTooLongError`` from the governor.
        """
        # What every request does costs every request (benchmarks/decode.py): the usual case is
        # tested first and inline, and the retry policy is built only when an attempt failed.
        if self._closed:
            raise ClientClosedError
        loop = _running_loop()
        if loop is not self._loop:
            self._bind(loop)
        if options is None or options is NO_OVERRIDES:
            opts = self._resolved
        else:
            opts = self.options_for(options)
        if idempotent is None:
            idempotent = is_idempotent(method)
        pairs = encode_query(params) if params else []
        if query:
            pairs += query
        url, headers, body = self.base_url + path, self._auth, None
        if json is not None:
            body = self.encode(json)
            headers = {**self._auth, "Content-Type": "application/json"}
        request = HTTPRequest(
            method, url, pairs, headers, body, form, opts.timeout, opts.max_response_bytes
        )
        priority = _NORMAL if opts.priority is None else opts.priority
        policy: RetryPolicy | None = None
        if self._pause.until:  # a 429 paused the token: refuse rather than hang silently
            policy = self._policy(opts, idempotent, gone_is_done)
            self._pause.refuse_if_paused(policy, loop.time(), method, path)
        progress = NOTHING_YET
        queued = 0.0
        grant_now, observe_now = self._grant_now, self._observe_now
        while True:
            # The governor's common case needs no coroutine (``FastGovernor``): nobody queued.
            # One clock for everything timed here: the loop's, which the governor and the jobs
            # read too (a test's simulated clock included); read once where nothing runs between.
            sent_at = loop.time()
            permit = grant_now(loop, sent_at) if grant_now is not None else None
            if permit is None:
                permit = await self.governor.acquire(priority=priority, max_wait=opts.max_wait)
                sent_at = loop.time()
            queued += permit.queued
            if opts.on_dispatch is not None:
                opts.on_dispatch()  # journal before wire: may stop the request here
                sent_at = loop.time()
            try:
                result: HTTPResult | SendError = await self.backend.send(request)
            except SendError as exc:
                result = exc
            except asyncio.CancelledError:
                self._ended_unanswered(loop, permit)
                raise
            ended = loop.time()
            elapsed = ended - sent_at
            if isinstance(result, SendError):
                if isinstance(result, BodyTooLarge):  # answered: the permit goes back
                    await self.governor.observe(result.status, result.headers, permit=permit)
                else:  # no answer: its slot frees a window from now, not when it is answered
                    await self.governor.observe(NO_ANSWER, _NO_HEADERS, permit=permit)
                outcome: Outcome = Failed(result.sent, result.timeout, result.permanent)
                retry_after, what = None, type(result).__name__
            else:
                if observe_now is None or not observe_now(
                    loop, result.status, result.headers, permit, ended
                ):
                    await self.governor.observe(result.status, result.headers, permit=permit)
                if result.status < 300:  # what the policy decides for any success: return it
                    if logger.isEnabledFor(logging.DEBUG):
                        self._log(
                            method, path, str(result.status), elapsed, progress.repeats, queued,
                            request_id=request_id_of(result.headers),
                        )  # fmt: skip
                    response = APIResponse(
                        method, path, result.status, result.headers, result.content, elapsed,
                        0 if progress is NOTHING_YET else progress.repeats, queued,
                    )  # fmt: skip
                    if opts.on_response is not None:
                        opts.on_response(response)
                    return response
                retry_after = parse_retry_after(result.headers.get("Retry-After"))
                outcome, what = Answered(result.status, retry_after), str(result.status)
                if result.status == 429 and retry_after is not None:
                    retries = opts.retries or DEFAULT_RETRIES
                    self._pause.note(loop.time(), retry_after, retries, method, path, result)
            if policy is None:
                policy = self._policy(opts, idempotent, gone_is_done)
            decision = policy.decide(outcome, progress, self._rng)
            log = (method, path, what, elapsed, progress.repeats, queued)
            answer_id = None if isinstance(result, SendError) else request_id_of(result.headers)
            if isinstance(decision, SendAgain):
                self._log(*log, decision.delay, request_id=answer_id)
                if opts.on_no_effect is not None and had_no_effect(outcome):
                    # A job's chunk waits to be sent again: pending (and a 429 is counted).
                    opts.on_no_effect(outcome.status if isinstance(outcome, Answered) else None)
                progress = decision.then
                priority = priority if decision.priority is None else decision.priority
                if decision.delay is not None:
                    await asyncio.sleep(decision.delay)
                continue
            self._log(*log, request_id=answer_id)
            if isinstance(decision, Raise):
                if isinstance(result, BodyTooLarge):
                    raise body_too_large(
                        method, path, result.status, result.limit, result.head
                    ) from None
                if isinstance(result, SendError):
                    raise connection_error(
                        method, path, str(result), timed_out=decision.error is APITimeoutError,
                        timeout=opts.timeout, sent=decision.may_have_been_processed,
                    ) from None  # fmt: skip
                raise error_from_response(
                    method, path, result.status, result.headers, result.content,
                    retry_after, idempotent, decision.note, base_url=self.base_url,
                )  # fmt: skip
            assert isinstance(result, HTTPResult)  # only an answer is returned
            response = APIResponse(
                method=method,
                path=path,
                status=result.status,
                headers=result.headers,
                content=result.content,
                elapsed=elapsed,
                retries=progress.repeats,
                queued=queued,
            )
            if opts.on_response is not None:
                opts.on_response(response)
            return response

    def _ended_unanswered(self, loop: asyncio.AbstractEventLoop, permit: Permit) -> None:
        """Tell the governor a cancelled attempt ended (a task: this one is being cancelled)."""
        if loop.is_closed():
            return
        task = loop.create_task(self.governor.observe(NO_ANSWER, _NO_HEADERS, permit=permit))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    @staticmethod
    def _policy(opts: ResolvedOptions, idempotent: bool, gone_is_done: bool) -> RetryPolicy:
        """The retry rules of a request sent with ``opts``."""
        retries = opts.retries or DEFAULT_RETRIES
        return RetryPolicy(retries, idempotent, opts.max_wait, gone_is_done)

    @staticmethod
    def _log(
        method: str,
        path: str,
        outcome: str,
        elapsed: float,
        retries: int,
        queued: float,
        retry_in: float | None = None,
        *,
        request_id: str | None = None,
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            retrying = "" if retry_in is None else f"; retrying in {retry_in:.2f} s"
            named = "" if request_id is None else f" [request id {request_id}]"
            logger.debug(
                "%s %s -> %s in %.1f ms (retries=%d, queued=%.3f s)%s%s",
                *(method, path, outcome, elapsed * 1000, retries, queued, named, retrying),
            )
