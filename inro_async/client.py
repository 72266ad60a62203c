"""``Client``: owns the session, the governor and the resources; an async context manager."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from inro_async import _routes
from inro_async._transport import (
    APIResponse,
    BodyFactory,
    QueryValue,
    RequestOptions,
    Retries,
    Transport,
)
from inro_async.errors import InroError
from inro_async.governor._base import INRO_QUOTAS, Governor, Quota
from inro_async.models.organization import Organization

__all__ = ["Client"]

TOKEN_ENV = "INRO_API_TOKEN"  # noqa: S105 - a variable name, not a secret
"""Where the token is read from when none is passed."""
BASE_URL_ENV = "INRO_BASE_URL"
"""Overrides the base URL when set (useful to point scripts at the fake server)."""

_VERSION = "0.1.0"


class Client:
    """The Inrō API, typed and paced: ``async with Client() as inro: await inro.me()``.

    The token comes from ``token=`` or the ``INRO_API_TOKEN`` environment variable and never
    appears in a repr, a log line or an exception. Every request goes through one governor that
    mirrors the organization's quotas, so fan-out work runs at full speed without earning 429s.
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
    ) -> None:
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        if not token:
            raise InroError(
                f"no API token: pass Client(token=...) or set {TOKEN_ENV} "
                "(Integrations & API → Private API in the Inrō dashboard)"
            )
        if governor is not None and quotas is not None:
            raise InroError("pass quotas= or governor=, not both (a governor has its quotas)")
        if governor is None:
            from inro_async.governor.local import LocalGovernor

            governor = LocalGovernor(quotas=tuple(quotas) if quotas else INRO_QUOTAS)
        retries = max_retries if isinstance(max_retries, Retries) else Retries(max_retries)
        self._transport = Transport.create(
            token=token,
            base_url=base_url or os.environ.get(BASE_URL_ENV) or _routes.DEFAULT_BASE_URL,
            governor=governor,
            defaults=RequestOptions(timeout=timeout, retries=retries, max_wait=max_wait),
            session=session,
            user_agent=(
                f"inro-async/{_VERSION} aiohttp/{aiohttp.__version__} "
                f"python/{platform.python_version()}"
            ),
        )
        self._options = RequestOptions()

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if the client created it (a shared session is left open)."""
        await self._transport.aclose()

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
        timeout: float | None = None,
        max_retries: int | Retries | None = None,
        priority: int | None = None,
        max_wait: float | None = None,
    ) -> Client:
        """A copy for a few calls with other settings; it shares the session and governor.

        ``inro.with_options(timeout=5, max_retries=0).contacts.get(id=1)``
        """
        copy = object.__new__(Client)
        copy._transport = self._transport
        retries = Retries(max_retries) if isinstance(max_retries, int) else max_retries
        copy._options = self._options.merged(
            RequestOptions(timeout=timeout, retries=retries, priority=priority, max_wait=max_wait)
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
        form: BodyFactory | None = None,
    ) -> APIResponse:
        """Call any endpoint, wrapped or not, through the same auth, governor, retries and errors.

        ``path`` is relative to the base URL (``"/contacts"``). The response gives the status,
        headers and bytes; ``.json()`` or ``.parse(Model)`` decodes it. POST and PATCH are not
        retried once they may have reached the server.
        """
        method = method.upper()
        return await self._transport.request(
            method, path, params=params, json=json, form=form, options=self._options
        )
