"""The HTTP response behind a typed call: ``await with_raw_response(inro.contacts.get, id=1)``.

A typed call returns its model and keeps the HTTP exchange to itself. When the headers, the
status, the server's request id, or how long the call queued in the governor matter (a support
ticket, a dashboard), ``with_raw_response`` runs the same call and returns both, typed:

    raw = await with_raw_response(inro.contacts.get, id=1)
    contact = raw.parse()          # the Contact the call returned
    raw.status_code, raw.headers["X-RateLimit-Remaining"], raw.request_id, raw.retries, raw.queued

It is one function rather than a ``with_raw_response`` twin of every resource (as in openai's
SDK): the call's arguments and result type pass through ``ParamSpec``, so mypy checks them as
it checks the call itself. The call runs on a copy of its client (``with_options``: the same
session, governor and settings) whose ``on_response`` hook keeps the responses: nothing is
carried in hidden state. It serves the async client; the blocking ``inro_async.sync.Client``
runs its calls on another thread and has no equivalent yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, ParamSpec, TypeVar

from multidict import CIMultiDictProxy

from inro_async._transport import APIResponse, RequestOptions
from inro_async.client import Client
from inro_async.errors import InroError, InvalidArgumentError
from inro_async.jobs import Job
from inro_async.resources._base import Resource

__all__ = ["RawResponse", "with_raw_response"]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RawResponse(Generic[T]):
    """A typed call's result together with its HTTP response.

    ``http`` is the last successful response the call received (``responses`` holds them all,
    in order, for the few calls that send more than one request).
    """

    parsed: T
    """What the call returned."""
    http: APIResponse
    responses: tuple[APIResponse, ...]

    def parse(self) -> T:
        """The call's result (a ``Contact``, a ``Page``, …): the typed call's own return value."""
        return self.parsed

    @property
    def status_code(self) -> int:
        """The HTTP status of the answer."""
        return self.http.status

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The answer's headers (case-insensitive)."""
        return self.http.headers

    @property
    def request_id(self) -> str | None:
        """The answer's ``X-Request-Id`` when the server sent one (quote it to support)."""
        return self.http.request_id

    @property
    def retries(self) -> int:
        """Retries and 429 repeats the request needed."""
        return self.http.retries

    @property
    def queued(self) -> float:
        """Seconds the request waited in the governor for a free slot, over every attempt."""
        return self.http.queued

    @property
    def elapsed(self) -> float:
        """Seconds of the final HTTP exchange."""
        return self.http.elapsed

    def __repr__(self) -> str:
        return f"<RawResponse {self.http!r} -> {type(self.parsed).__name__}>"


async def with_raw_response(
    call: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> RawResponse[T]:
    """Run ``call(*args, **kwargs)``, a client's async call; return its result and response.

    ``call`` is the method itself, not called: ``with_raw_response(inro.contacts.get, id=1)``.
    Errors are raised as the call raises them (an ``APIStatusError`` carries its status,
    headers and ``request_id`` already). A walk (``inro.contacts.iter``) or a bulk job is not a
    single call: it is refused.
    """
    collected: list[APIResponse] = []
    rebound = _on_a_recording_copy(call, collected.append)
    awaitable = rebound(*args, **kwargs)
    if (
        not isinstance(awaitable, Awaitable)
        or isinstance(awaitable, Job)
        or hasattr(awaitable, "__aiter__")
    ):
        close = getattr(awaitable, "aclose", None)
        if close is not None:
            await close()
        raise InvalidArgumentError(
            "call",
            "must be a single async call (awaited once, like inro.contacts.get); "
            f"{_name(call)} returned {type(awaitable).__name__}",
        )
    result = await awaitable
    if not collected:
        raise InroError(f"{_name(call)} sent no request, so it has no response")
    return RawResponse(result, collected[-1], tuple(collected))


def _name(call: object) -> str:
    return repr(getattr(call, "__qualname__", call))


def _on_a_recording_copy(
    call: Callable[P, Awaitable[T]], record: Callable[[APIResponse], None]
) -> Callable[P, Awaitable[T]]:
    """``call`` bound to a copy of its client that hands ``record`` every response."""
    owner, function = getattr(call, "__self__", None), getattr(call, "__func__", None)
    if isinstance(owner, Resource):
        client = owner._client
    elif isinstance(owner, Client):
        client = owner
    else:
        raise InvalidArgumentError(
            "call",
            f"must be a method of a Client or of one of its resources, like "
            f"inro.contacts.get (not called); got {_name(call)}",
        )
    assert function is not None  # a bound method has one
    copy = client.with_options()
    copy._options = copy._options.merged(RequestOptions(on_response=record))
    bound: object = type(owner)(copy) if isinstance(owner, Resource) else copy
    rebound: Callable[P, Awaitable[T]] = function.__get__(bound)
    return rebound
