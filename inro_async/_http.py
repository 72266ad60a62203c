"""The HTTP seam: one request out, status + headers + bytes back, or a classified failure.

The transport (retries, governor, errors) is written against ``HTTPBackend`` alone, the way
httpx's transports are: ``AiohttpBackend`` is the real one, ``MockBackend`` answers from a
function for unit tests that need no socket. Backends classify failures into ``SendError``
because only they can tell whether any byte of the request left the process.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import msgspec
import yarl
from aiohttp import hdrs
from multidict import CIMultiDict, CIMultiDictProxy

from inro_async._connection import DEFAULT_LIMITS, Limits, ProxyChoice, redact_url
from inro_async._routes import READ_METHODS
from inro_async.errors import ClientClosedError

__all__ = [
    "AiohttpBackend",
    "BodyTooLarge",
    "FilePart",
    "HTTPBackend",
    "HTTPRequest",
    "HTTPResult",
    "MockBackend",
    "Multipart",
    "QueryValue",
    "SendError",
    "encode_query",
]

logger = logging.getLogger("inro_async")


@dataclass(frozen=True, slots=True, repr=False)
class FilePart:
    """One file of a multipart body: the part's ``name``, the file's name, type and bytes."""

    name: str
    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return (
            f"<FilePart {self.name} {self.filename!r} {self.content_type} {len(self.data):,} bytes>"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Multipart:
    """A ``multipart/form-data`` body as plain values: text ``fields`` in order, then ``files``.

    Immutable and library-neutral: the backend encodes it afresh for every attempt, so a
    request repeated after a 429 sends the same bytes again. The repr shows counts only (the
    fields can hold email addresses).
    """

    fields: tuple[tuple[str, str], ...] = ()
    files: tuple[FilePart, ...] = ()

    def __repr__(self) -> str:
        return f"<Multipart {len(self.fields):,} fields, {len(self.files)} files>"


QueryValue = str | int | float | bool | Sequence[str | int] | None
"""A query parameter value; ``None`` is dropped and sequences repeat the key as ``key[]``."""


def encode_query(params: Mapping[str, QueryValue] | None) -> list[tuple[str, str]]:
    """Query parameters as pairs: ``None`` dropped, booleans lower-case, lists as ``key[]``."""
    pairs: list[tuple[str, str]] = []
    if not params:
        return pairs
    for key, value in params.items():
        kind = type(value)
        if kind is str:  # the common cases first, by exact type: this runs on every request
            pairs.append((key, value))  # type: ignore[arg-type]
        elif kind is int:
            pairs.append((key, str(value)))
        elif value is None:
            continue
        elif isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, str | int | float):
            pairs.append((key, str(value)))
        else:
            pairs.extend((f"{key}[]", str(item)) for item in value)
    return pairs


# The values made on every request are msgspec Structs: built in C at a tenth of a frozen
# dataclass's cost, and with ``gc=False`` (they hold no reference back to anything that holds
# them, so they can never be part of a cycle) the collector does not run more often for them.


class HTTPRequest(msgspec.Struct, frozen=True, gc=False):
    """What to send; ``headers`` holds the token, so the repr leaves headers out."""

    method: str
    url: str
    params: Sequence[tuple[str, str]] = ()
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    body: bytes | None = None
    form: Multipart | None = None
    timeout: float | None = None
    max_body: int | None = None
    """The most bytes of response body read (after decompression); ``None``: no limit."""

    def __repr__(self) -> str:
        return f"<HTTPRequest {self.method} {self.url}>"


class HTTPResult(msgspec.Struct, frozen=True, gc=False):
    """A complete response."""

    status: int
    headers: CIMultiDictProxy[str]
    content: bytes


class SendError(Exception):
    """No complete response arrived.

    ``sent`` is False only when nothing of the request left the process (connect failed), so
    repeating it is harmless even for a POST. ``timeout`` marks timeouts, ``permanent`` faults
    that a retry cannot fix (TLS verification, invalid URL).
    """

    def __init__(
        self, description: str, *, sent: bool, timeout: bool = False, permanent: bool = False
    ) -> None:
        self.sent = sent
        self.timeout = timeout
        self.permanent = permanent
        super().__init__(description)


class BodyTooLarge(SendError):
    """The answer's body is longer than ``HTTPRequest.max_body``; reading stopped there.

    ``status`` and ``headers`` are the answer's; ``head`` holds its first bytes (at most
    ``HEAD_BYTES``). The request was sent and answered (``sent``), and a repeat would meet the
    same body (``permanent``).
    """

    HEAD_BYTES = 1024

    def __init__(
        self, *, status: int, headers: CIMultiDictProxy[str], limit: int, head: bytes = b""
    ) -> None:
        self.status = status
        self.headers = headers
        self.limit = limit
        self.head = head[: self.HEAD_BYTES]
        super().__init__(f"response body larger than {limit:,} bytes", sent=True, permanent=True)


class HTTPBackend(Protocol):
    """Sends one request; raises ``SendError`` when no complete response arrived."""

    async def send(self, request: HTTPRequest) -> HTTPResult:
        """Send ``request`` and read the whole response."""
        ...

    async def aclose(self) -> None:
        """Release connections this backend owns."""
        ...


# Raised before a single byte of the request left this process.
_NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)
_PERMANENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorCertificateError,
    aiohttp.ClientSSLError,
    aiohttp.InvalidURL,
)


_URL_QUERY = re.compile(r"(://[^\s?#'\"]*)[?#][^\s'\"]*")


def _describe(exc: BaseException) -> str:
    """``exc`` as text, any URL in it cut before its query (which can hold an email address)."""
    return _URL_QUERY.sub(r"\1", str(exc))


@functools.lru_cache(maxsize=16)
def _client_timeout(total: float | None) -> aiohttp.ClientTimeout:
    """One immutable ``ClientTimeout`` per value, not one per request (it is on the hot path)."""
    return aiohttp.ClientTimeout(total=total)


def _form_data(form: Multipart) -> aiohttp.FormData:
    """``form`` as a fresh aiohttp body (a ``FormData`` can be sent only once)."""
    data = aiohttp.FormData(quote_fields=False, default_to_multipart=True)
    for name, value in form.fields:
        data.add_field(name, value)
    for part in form.files:
        data.add_field(part.name, part.data, filename=part.filename, content_type=part.content_type)
    return data


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, decompressed, as long as it stays within ``limit`` bytes; else ``BodyTooLarge``.

    Read as it arrives (aiohttp decompresses it piecewise), so a gzip bomb costs at most
    ``limit`` bytes of memory before it is refused and its connection closed.
    """
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > limit:
            response.close()  # the rest is never read; the connection is not reused
            head = bytes(body[: BodyTooLarge.HEAD_BYTES])
            raise BodyTooLarge(
                status=response.status, headers=response.headers, limit=limit, head=head
            )
    return bytes(body)


class AiohttpBackend:
    """The real backend: an aiohttp session, created lazily inside the running loop.

    Our own session's pool follows ``limits``; a request goes through ``proxy`` when given,
    else (``trust_env``) through the proxy ``HTTP_PROXY``/``HTTPS_PROXY`` name unless
    ``NO_PROXY`` covers its host (``inro_async._connection.ProxyChoice``). A session shared by
    the caller keeps its own settings, except that ``proxy`` applies to it too.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        proxy: str | None = None,
        trust_env: bool = True,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._limits = limits
        self._proxies = ProxyChoice(proxy, trust_env=trust_env and session is None)
        self._logged_proxies: set[str] = set()
        # Set at the first request (the environment is read then, not at construction): no
        # proxy can apply to any URL, so none is looked up per request.
        self._direct = False
        # The session ``session`` last handed out, until ``aclose``: what each request uses
        # without the property's checks (our own session is closed only by ``aclose``).
        self._ready: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"<AiohttpBackend owns_session={self._owns_session}>"

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session in use (ours, or the one the caller shared); none after ``aclose``."""
        if self._closed:
            raise ClientClosedError  # a new session here would never be closed
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession(
                connector=self._limits.connector(),
                raise_for_status=False,
                # The proxy is chosen here (ProxyChoice), not by aiohttp, which would look it
                # up in a thread per request and read ~/.netrc beside our bearer token.
                trust_env=False,
            )
            # aiohttp repeats a GET/PUT/DELETE once, silently, when a kept-alive connection
            # drops. The transport must see every attempt: the governor counts it against the
            # quota, and a DELETE whose first answer was lost reads its repeat's 404 as done.
            # (A session shared by the caller is theirs; we leave it as it is.)
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
            self._owns_session = True
        self._ready = self._session
        return self._session

    def _proxy_for(self, url: str) -> tuple[yarl.URL | None, dict[str, str] | None]:
        """The proxy of ``url`` and the header with its credentials (never logged)."""
        proxy = self._proxies.for_url(url)
        if proxy is None:
            self._direct = self._proxies.never()
            return None, None
        if logger.isEnabledFor(logging.DEBUG) and (shown := redact_url(proxy)) not in (
            self._logged_proxies
        ):
            self._logged_proxies.add(shown)
            logger.debug("connecting through the proxy %s", shown)
        if proxy.user is None:
            return proxy, None
        credentials = aiohttp.encode_basic_auth(proxy.user, proxy.password or "")
        return proxy.with_user(None).with_password(None), {"Proxy-Authorization": credentials}

    async def send(self, request: HTTPRequest) -> HTTPResult:
        """Send with aiohttp, classifying failures by whether the request may have been sent."""
        proxy: yarl.URL | None = None
        proxy_headers: dict[str, str] | None = None
        if not self._direct:
            proxy, proxy_headers = self._proxy_for(request.url)
        headers, follow = request.headers, request.method in READ_METHODS
        if proxy_headers is not None and request.url.startswith("http:"):
            # A plain-HTTP request carries the proxy's credentials itself (aiohttp sends
            # proxy_headers only in an HTTPS tunnel's CONNECT), and follows no redirect, which
            # would take that header to another origin.
            headers, proxy_headers, follow = {**headers, **proxy_headers}, None, False
        query: Sequence[tuple[str, str]] | dict[str, str] = request.params
        # As a dict when no key repeats (the usual query): yarl encodes a dict on its fast path,
        # into the same text as the pairs', where a list costs two ABC checks first.
        if query and len(unique := dict(query)) == len(query):
            query = unique
        try:
            session = self._ready if self._ready is not None else self.session
            async with session.request(
                request.method,
                request.url,
                params=query,
                proxy=proxy,
                proxy_headers=proxy_headers,
                data=_form_data(request.form) if request.form is not None else request.body,
                headers=headers,
                timeout=_client_timeout(request.timeout),
                # A write is never sent again elsewhere: its 3xx goes back to the transport,
                # which raises it (the request arrived; it may have been processed). A read
                # follows, and aiohttp drops the token when the redirect changes the origin.
                allow_redirects=follow,
                # A shared session may raise on 4xx/5xx by default; the transport maps statuses.
                raise_for_status=False,
            ) as response:
                limit = request.max_body
                if limit is None:
                    content = await response.read()
                elif (
                    length := response.content_length  # of the bytes on the wire
                ) is not None and hdrs.CONTENT_ENCODING not in response.headers:
                    if length > limit:  # refused before a byte of it is read
                        response.close()
                        raise BodyTooLarge(
                            status=response.status, headers=response.headers, limit=limit
                        )
                    content = await response.read()  # the common case: its size is known
                else:
                    content = await _read_at_most(response, limit)
                return HTTPResult(response.status, response.headers, content)
        except BodyTooLarge:
            raise
        except _PERMANENT as exc:
            raise SendError(
                f"cannot connect: {_describe(exc)}", sent=False, permanent=True
            ) from None
        except _NOT_SENT as exc:
            raise SendError(f"cannot connect: {_describe(exc)}", sent=False) from None
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise SendError("timed out", sent=True, timeout=True) from None
        except aiohttp.ClientError as exc:
            description = f"{type(exc).__name__}: {_describe(exc)}".rstrip(": ")
            raise SendError(description, sent=True) from None

    async def aclose(self) -> None:
        """Close the session if this backend created it; the backend sends nothing after."""
        self._closed = True
        self._ready = None
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()


Handler = Callable[[HTTPRequest], Awaitable[HTTPResult] | HTTPResult]


class MockBackend:
    """Answers every request by calling ``handler`` (sync or async); records what was sent.

    For narrow unit tests only; behaviour against the API is tested over loopback HTTP against
    ``inro_async.testing.FakeInro``.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[HTTPRequest] = []

    async def send(self, request: HTTPRequest) -> HTTPResult:
        """Record ``request`` and return (or raise) what the handler gives."""
        self.requests.append(request)
        result = self.handler(request)
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            return await result
        return result

    async def aclose(self) -> None:
        """Nothing to release."""

    @staticmethod
    def result(
        status: int = 200, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> HTTPResult:
        """A response to return from a handler."""
        return HTTPResult(status, CIMultiDictProxy(CIMultiDict(headers or {})), body)
