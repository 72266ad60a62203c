"""``Client``: owns the session, the governor and the resources; an async context manager."""

from __future__ import annotations

import os
import platform
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

import aiohttp

from inro_async import _routes
from inro_async._connection import DEFAULT_LIMITS, Limits, check_proxy
from inro_async._http import AiohttpBackend, FilePart, HTTPBackend
from inro_async._json_values import check_request_values
from inro_async._logging import configure_logging
from inro_async._transport import (
    NO_OVERRIDES,
    USE_CLIENT_DEFAULT,
    APIResponse,
    DispatchHook,
    Multipart,
    NoEffectHook,
    QueryValue,
    RequestOptions,
    Retries,
    Transport,
    UseClientDefault,
)
from inro_async._version import __version__ as _VERSION
from inro_async.errors import ClientClosedError, InroError, InvalidArgumentError
from inro_async.governor._base import INRO_QUOTAS, Governor, Quota
from inro_async.governor.local import LocalGovernor
from inro_async.models.organization import Organization
from inro_async.resources.batch_tasks import BatchTasks
from inro_async.resources.campaigns import Campaigns
from inro_async.resources.contact_properties import ContactProperties
from inro_async.resources.contacts import Contacts
from inro_async.resources.discovery import Discovery
from inro_async.resources.executions import Executions
from inro_async.resources.folders import Folders
from inro_async.resources.media_files import MediaFiles
from inro_async.resources.medias import Medias
from inro_async.resources.messages import Messages
from inro_async.resources.scenarios import Scenarios
from inro_async.resources.segments import Segments

__all__ = ["Client"]

TOKEN_ENV = "INRO_API_TOKEN"  # noqa: S105 - a variable name, not a secret
"""Where the token is read from when none is passed."""
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""The longest response body read, after decompression (a 1,000-contact page is about 1.5 MB)."""
BASE_URL_ENV = "INRO_BASE_URL"
"""Overrides the base URL when set (useful to point scripts at the fake server)."""


def _clean_token(token: str | None) -> str:
    """The token without surrounding whitespace (a file's trailing newline); checked, never shown.

    A character that cannot go into an HTTP header would otherwise fail the first request, after
    it took a quota slot, with aiohttp's ``ValueError`` instead of an ``InroError``.
    """
    source = "token" if token is not None else TOKEN_ENV
    if token is not None and not isinstance(token, str):
        raise InvalidArgumentError("token", f"must be a string, not {type(token).__name__}")
    token = (token if token is not None else os.environ.get(TOKEN_ENV, "")).strip()
    if not token:
        raise InroError(
            f"no API token: pass Client(token=...) or set {TOKEN_ENV} "
            "(Integrations & API → Private API in the Inrō dashboard)"
        )
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in token):
        raise InvalidArgumentError(
            source,
            "contains whitespace or control characters (the token is not shown); "
            "copy it again from Integrations & API → Private API",
        )
    return token


class Client:
    """The Inrō API, typed and paced: ``async with Client() as inro: await inro.me()``.

    The token comes from ``token=`` or the ``INRO_API_TOKEN`` environment variable, stripped of
    surrounding whitespace, and never appears in a repr, a log line or an exception. Every
    request goes through one governor that mirrors the organization's quotas, so fan-out work
    runs at full speed without earning 429s.
    ``session`` shares an aiohttp session you own; ``backend`` replaces HTTP altogether (for
    unit tests: ``inro_async._http.MockBackend``). ``max_response_bytes`` bounds a response's
    body after decompression (32 MiB, a 1,000-contact page many times over; ``None``: no limit).

    Like requests and httpx, the client goes through the proxy ``HTTPS_PROXY``/``HTTP_PROXY``
    (or ``ALL_PROXY``) name unless ``NO_PROXY`` covers the API's host; ``trust_env=False``
    ignores them, and ``proxy="http://proxy.example:3128"`` names one (credentials in its URL
    are sent to the proxy, never logged). ``limits=Limits(max_connections=...,
    keepalive_expiry=...)`` sizes the connection pool. Every request carries
    ``User-Agent: inro-async/VERSION aiohttp/... python/...``. ``INRO_LOG=info`` or ``debug``
    sends the SDK's log lines to stderr, the token and query strings cut out.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = 30.0,
        max_retries: int | Retries = 2,
        quotas: Sequence[Quota] | None = None,
        governor: Governor | None = None,
        max_wait: float | None = None,
        session: aiohttp.ClientSession | None = None,
        backend: HTTPBackend | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        proxy: str | None = None,
        trust_env: bool = True,
        limits: Limits | None = None,
    ) -> None:
        token = _clean_token(token)
        configure_logging()  # INRO_LOG=info|debug: the SDK's lines on stderr, redacted
        backend = _backend(backend, session, proxy=proxy, trust_env=trust_env, limits=limits)
        if governor is not None and quotas is not None:
            raise InroError("pass quotas= or governor=, not both (a governor has its quotas)")
        if governor is None:
            governor = LocalGovernor(quotas=tuple(quotas) if quotas else INRO_QUOTAS)
        expect_reports = getattr(governor, "expect_reports", None)  # Local and Redis governors
        if callable(expect_reports):
            expect_reports()  # the transport reports every attempt's end
        retries = _retries(max_retries)
        self._transport = Transport.create(
            token=token,
            base_url=base_url or os.environ.get(BASE_URL_ENV) or _routes.DEFAULT_BASE_URL,
            governor=governor,
            defaults=RequestOptions(
                timeout=timeout,
                retries=retries,
                max_wait=max_wait,
                max_response_bytes=max_response_bytes,
            ),
            backend=backend,
            user_agent=(
                f"inro-async/{_VERSION} aiohttp/{aiohttp.__version__} "
                f"python/{platform.python_version()}"
            ),
        )
        self._options = NO_OVERRIDES

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        if self._transport.closed:
            raise ClientClosedError
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if the client created it (a shared session is left open).

        The client (and its ``with_options`` copies) cannot send afterwards: a request raises
        ``ClientClosedError``. Calling ``aclose`` again does nothing. A ``LocalGovernor`` with
        ``state_path=`` gets its pending dispatches written, but is not closed: it may pace
        other clients (its own ``aclose``, or ``async with`` it, closes it).
        """
        if isinstance(self._transport.governor, LocalGovernor):
            self._transport.governor.save_state()
        await self._transport.aclose()

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` was called (directly or by leaving ``async with``)."""
        return self._transport.closed

    def __repr__(self) -> str:
        return f"Client(base_url={self._transport.base_url!r}, token='***')"

    # -- configuration -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root every path is appended to."""
        return self._transport.base_url

    @property
    def governor(self) -> Governor:
        """The governor pacing this client's requests (shared with its ``with_options`` copies)."""
        return self._transport.governor

    def with_options(
        self,
        *,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | Retries | UseClientDefault = USE_CLIENT_DEFAULT,
        priority: int | UseClientDefault = USE_CLIENT_DEFAULT,
        max_wait: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        on_dispatch: DispatchHook | UseClientDefault | None = USE_CLIENT_DEFAULT,
        on_no_effect: NoEffectHook | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_response_bytes: int | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Client:
        """A copy for a few calls with other settings; it shares the session and governor.

        ``inro.with_options(timeout=5, max_retries=0).contacts.get(id=1)``. An argument left out
        keeps this client's setting; ``timeout=None`` turns the timeout off and
        ``max_wait=None`` waits as long as the quota needs. ``on_dispatch`` is called each time
        the governor grants one of the copy's requests its slot, before it is sent, and
        ``on_no_effect`` when one of them certainly did nothing and is sent again, with the
        status answered (429) or ``None`` when nothing of it was sent.
        ``max_response_bytes=None`` lifts the limit on a response's size.
        """
        copy = object.__new__(Client)
        copy._transport = self._transport
        retries = max_retries if max_retries is USE_CLIENT_DEFAULT else _retries(max_retries)
        copy._options = self._options.merged(
            RequestOptions(
                timeout=timeout,
                retries=retries,
                priority=priority,
                max_wait=max_wait,
                on_dispatch=on_dispatch,
                on_no_effect=on_no_effect,
                max_response_bytes=max_response_bytes,
            )
        )
        return copy

    # -- calls -------------------------------------------------------------------------------

    async def me(self) -> Organization:
        """The organization that owns the token."""
        response = await self.request("GET", _routes.ROUTES["me"].path)
        result: Organization = response.parse(Organization)
        return result

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        form: Multipart | Callable[[], aiohttp.FormData] | None = None,
    ) -> APIResponse:
        """Call any endpoint, wrapped or not, through the same auth, governor, retries and errors.

        ``path`` is relative to the base URL (``"/contacts"``). The response gives the status,
        headers and bytes; ``.json()`` or ``.parse(Model)`` decodes it. POST and PATCH are not
        retried once they may have reached the server. ``form`` is a multipart body: a
        ``Multipart`` (``inro_async._http``), or (deprecated) a function returning an
        ``aiohttp.FormData``, which is built once and sent as ``multipart/form-data``.
        """
        method = method.upper()
        if form is not None and not isinstance(form, Multipart):
            form = await _multipart_of(form)
        check_request_values(params, json, form)  # a NaN would go as null: refused instead
        return await self._transport.request(
            method, path, params=params, json=json, form=form, options=self._options
        )

    # -- resources ---------------------------------------------------------------------------
    # Each resource is created on first use; ``with_options`` copies get their own.

    @cached_property
    def contacts(self) -> Contacts:
        """Contacts: list, search, filter, get, update, bulk update, messages."""
        return Contacts(self)

    @cached_property
    def batch_tasks(self) -> BatchTasks:
        """Background jobs started by bulk updates and campaign sends."""
        return BatchTasks(self)

    @cached_property
    def folders(self) -> Folders:
        """Folders and their membership."""
        return Folders(self)

    @cached_property
    def contact_properties(self) -> ContactProperties:
        """Custom contact properties, addressed by slug."""
        return ContactProperties(self)

    @cached_property
    def messages(self) -> Messages:
        """Direct messages: text, image, video, audio and shared posts."""
        return Messages(self)

    @cached_property
    def medias(self) -> Medias:
        """The account's Instagram posts and Reels (ids for ``share`` messages)."""
        return Medias(self)

    @cached_property
    def media_files(self) -> MediaFiles:
        """Uploaded media files."""
        return MediaFiles(self)

    @cached_property
    def scenarios(self) -> Scenarios:
        """Scenarios (automations): create, update, trigger, performance."""
        return Scenarios(self)

    @cached_property
    def campaigns(self) -> Campaigns:
        """Campaigns: drafts, send, test, performance, resend."""
        return Campaigns(self)

    @cached_property
    def segments(self) -> Segments:
        """Saved contact filters that campaigns can target."""
        return Segments(self)

    @cached_property
    def executions(self) -> Executions:
        """Automation runs: health, list, get, retry."""
        return Executions(self)

    @cached_property
    def discovery(self) -> Discovery:
        """Trigger, action and filter types, and templates."""
        return Discovery(self)


def _backend(
    backend: HTTPBackend | None,
    session: aiohttp.ClientSession | None,
    *,
    proxy: str | None,
    trust_env: bool,
    limits: Limits | None,
) -> HTTPBackend:
    """The backend to send through: ``backend``, or aiohttp (over ``session`` if given)."""
    proxy = check_proxy(proxy)
    if not isinstance(trust_env, bool):
        raise InvalidArgumentError("trust_env", f"must be True or False; got {trust_env!r}")
    if limits is not None and not isinstance(limits, Limits):
        raise InvalidArgumentError(
            "limits", f"must be a Limits(max_connections=..., keepalive_expiry=...); got {limits!r}"
        )
    if backend is not None:
        if proxy is not None or limits is not None or not trust_env:
            raise InroError(
                "proxy=, limits= and trust_env= configure the SDK's aiohttp session; "
                "a backend= sends by its own means"
            )
        return backend
    if session is not None and limits is not None:
        raise InroError(
            "limits= sizes the SDK's own session; set the limits on your session's connector "
            "(aiohttp.TCPConnector(limit=...)) instead"
        )
    return AiohttpBackend(
        session, limits=limits or DEFAULT_LIMITS, proxy=proxy, trust_env=trust_env
    )


def _retries(max_retries: int | Retries) -> Retries:
    """``max_retries=`` as a ``Retries``: one given as is, a whole number as its count."""
    if isinstance(max_retries, Retries):
        return max_retries
    try:
        return Retries(max_retries)
    except InvalidArgumentError as exc:  # named as the caller spelled it
        raise InvalidArgumentError(
            "max_retries", f"must be a whole number >= 0, or a Retries; got {max_retries!r}"
        ) from exc


async def _multipart_of(factory: Callable[[], aiohttp.FormData]) -> Multipart:
    """The deprecated ``form=`` (a ``FormData`` factory) read back into a ``Multipart``."""
    import email  # only this deprecated path needs a MIME parser: not paid at import
    import email.policy
    import urllib.parse

    payload = factory()()
    data = await payload.as_bytes()
    if not payload.content_type.startswith("multipart/"):  # url-encoded: text fields only
        pairs = urllib.parse.parse_qsl(data.decode(), keep_blank_values=True)
        return Multipart(fields=tuple(pairs))
    head = f"Content-Type: {payload.content_type}\r\n\r\n".encode()
    message = email.message_from_bytes(head + data, policy=email.policy.HTTP)
    fields: list[tuple[str, str]] = []
    files: list[FilePart] = []
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload_bytes = part.get_payload(decode=True)
        content = payload_bytes if isinstance(payload_bytes, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields.append((name, content.decode(part.get_content_charset() or "utf-8")))
        else:
            files.append(FilePart(name, filename, part.get_content_type(), content))
    return Multipart(tuple(fields), tuple(files))
