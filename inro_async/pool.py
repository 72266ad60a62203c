"""``ClientPool``: a ``Client`` per organization, one HTTP connection pool, one ``aclose``.

One Instagram account is one Inrō organization: one token, one quota. An agency or a platform
drives hundreds of them from one process. The pool hands out one ``Client`` per organization,
all sharing one ``aiohttp.ClientSession`` (so one connection pool), each with its own
governor: one organization's 429 pause or spent day quota holds only its own requests.

**Tokens** come from a mapping, or from a function of the organization's name, plain or
``async`` (an OAuth token store, a database of customers). A token is read once, when the
organization's client is made, and kept only inside that client's transport: never in a repr,
a log line or an exception of the pool.

**Bounded memory.** The pool keeps the ``max_clients`` organizations used most recently; an
older one is forgotten (its governor with it), never closed. A client still referenced
anywhere (a task holding it, an ``async with pool.client(...)``) stays the pool's client for
that organization (held weakly), so two governors never pace one organization at once.
A forgotten organization's next client starts with an empty log, as a new process would:
give such organizations ``governor=`` a ``RedisGovernor`` (``redis_governors``) or a state
file when idle ones come back within their longest window.
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp

from inro_async._transport import USE_CLIENT_DEFAULT, UseClientDefault
from inro_async.client import Client
from inro_async.errors import ClientClosedError, InvalidArgumentError
from inro_async.governor._base import INRO_QUOTAS, Governor, Quota
from inro_async.governor.local import LocalGovernor

__all__ = ["ClientPool", "TokenSource", "redis_governors"]

TokenSource = Mapping[str, str] | Callable[[str], str | Awaitable[str]]
"""Where an organization's token comes from: a mapping, or a (maybe async) function of its name."""

GovernorFactory = Callable[[str], Governor]
"""Makes the governor of one organization, given its name."""

DEFAULT_CONNECTIONS = 1000
"""Connections the shared session may open at once (aiohttp's default of 100 is per process)."""


class ClientPool:
    """Clients for many organizations over one connection pool: ``await pool.client("acme")``.

    ``tokens`` maps an organization's name to its token (a mapping, or a plain or async
    function); ``quotas`` are each organization's own (production's by default), or
    ``governor`` makes each one's governor from its name (``redis_governors(url)`` shares
    them across processes); ``max_clients`` bounds the organizations remembered (the least
    recently used beyond it are forgotten, never closed); ``session`` shares your aiohttp
    session instead of the pool's own (``connections`` wide); ``base_url``, ``timeout``,
    ``max_retries`` and ``max_wait`` are every client's defaults.
    """

    def __init__(
        self,
        tokens: TokenSource,
        *,
        base_url: str | None = None,
        quotas: Sequence[Quota] | None = None,
        governor: GovernorFactory | None = None,
        max_clients: int = 10_000,
        session: aiohttp.ClientSession | None = None,
        connections: int = DEFAULT_CONNECTIONS,
        timeout: float | None = 30.0,
        max_retries: int = 2,
        max_wait: float | None = None,
    ) -> None:
        if not (isinstance(tokens, Mapping) or callable(tokens)):
            raise InvalidArgumentError(
                "tokens", f"must be a mapping or a function of the organization, got {tokens!r}"
            )
        if governor is not None and quotas is not None:
            raise InvalidArgumentError("governor", "pass quotas= or governor=, not both")
        if type(max_clients) is not int or max_clients < 1:
            raise InvalidArgumentError("max_clients", f"must be an int >= 1, got {max_clients!r}")
        if type(connections) is not int or connections < 1:
            raise InvalidArgumentError("connections", f"must be an int >= 1, got {connections!r}")
        self._tokens = tokens
        self._quotas = tuple(quotas) if quotas is not None else INRO_QUOTAS
        self._governor = governor
        self.max_clients = max_clients
        self._session = session
        self._own_session = session is None
        self._connections = connections
        self._client_options: dict[str, Any] = {
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "max_wait": max_wait,
        }
        self._recent: OrderedDict[str, Client] = OrderedDict()
        self._held: weakref.WeakValueDictionary[str, Client] = weakref.WeakValueDictionary()
        # A copy (``with_options``) outlives its original: the governor it shares is kept.
        self._governors: weakref.WeakValueDictionary[str, Governor] = weakref.WeakValueDictionary()
        self._closed = False
        self.created = 0
        """Clients made so far (a forgotten organization that comes back counts again)."""

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._recent)} organization(s) remembered"
        return f"<ClientPool {state}; {len(self._held)} client(s) alive>"

    async def __aenter__(self) -> ClientPool:
        if self._closed:
            raise ClientClosedError
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` was called."""
        return self._closed

    def __len__(self) -> int:
        """Organizations whose client is alive (remembered, or still held elsewhere)."""
        return len(self._held)

    def __contains__(self, organization: object) -> bool:
        return organization in self._held

    async def client(
        self,
        organization: str,
        *,
        priority: int | UseClientDefault = USE_CLIENT_DEFAULT,
        max_wait: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Client:
        """The client of ``organization``, made (and its token read) on first use.

        ``priority`` and ``max_wait`` give a copy with those settings for this organization
        (``Client.with_options``): it shares the organization's governor, so its requests
        queue among the others' by priority.
        """
        if self._closed:
            raise ClientClosedError
        if not isinstance(organization, str) or not organization:
            raise InvalidArgumentError(
                "organization", f"must be a non-empty string, got {organization!r}"
            )
        client = self._recent.get(organization)
        if client is None:
            client = self._held.get(organization)
            if client is None:
                client = await self._make(organization)
            self._remember(organization, client)
        else:
            self._recent.move_to_end(organization)
        if priority is USE_CLIENT_DEFAULT and max_wait is USE_CLIENT_DEFAULT:
            return client
        return client.with_options(priority=priority, max_wait=max_wait)

    def forget(self, organization: str) -> None:
        """Drop the pool's hold on one organization (a token revoked or renewed, say).

        Its client is not closed: one still held elsewhere keeps working, and stays the pool's
        client for that organization until nothing holds it.
        """
        self._recent.pop(organization, None)

    async def aclose(self) -> None:
        """Close every client and the pool's own session (a shared one is left open)."""
        if self._closed:
            return
        self._closed = True
        clients = list(self._held.values())
        self._recent.clear()
        for client in clients:
            await client.aclose()
        if self._own_session and self._session is not None:
            await self._session.close()

    # -- internals ---------------------------------------------------------------------------

    def _remember(self, organization: str, client: Client) -> None:
        self._recent[organization] = client
        self._held[organization] = client
        while len(self._recent) > self.max_clients:
            self._recent.popitem(last=False)  # forgotten, not closed: it may still be held

    async def _make(self, organization: str) -> Client:
        token = await self._token(organization)
        if self._closed:
            raise ClientClosedError  # closed while the token source was answering
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections)
            )
        governor = self._governors.get(organization)
        if governor is None:
            governor = (
                self._governor(organization)
                if self._governor is not None
                else LocalGovernor(self._quotas)
            )
            with contextlib.suppress(TypeError):  # a governor that cannot be weakly referenced
                self._governors[organization] = governor
        self.created += 1
        return Client(token, governor=governor, session=self._session, **self._client_options)

    async def _token(self, organization: str) -> str:
        source = self._tokens
        if isinstance(source, Mapping):
            try:
                token: object = source[organization]
            except KeyError:
                raise InvalidArgumentError(
                    "organization", f"{organization!r} has no token in the pool's mapping"
                ) from None
        else:
            token = source(organization)
            if inspect.isawaitable(token):
                token = await token
        if not isinstance(token, str) or not token.strip():
            # The value itself is not shown: it may be a token of the wrong type.
            raise InvalidArgumentError(
                "tokens", f"gave no token (a non-empty string) for {organization!r}"
            )
        return token


def redis_governors(
    url: str, *, quotas: Sequence[Quota] = INRO_QUOTAS, prefix: str = "inro:", **options: Any
) -> GovernorFactory:
    """A ``ClientPool(governor=...)`` factory: one ``RedisGovernor`` per organization.

    Each is keyed ``prefix + organization``, so every process driving that organization
    shares its quota; ``options`` go to each ``RedisGovernor`` (``reserve``, ``max_wait``…).
    """
    from inro_async.governor.redis import RedisGovernor

    def make(organization: str) -> Governor:
        return RedisGovernor(url, key=prefix + organization, quotas=quotas, **options)

    return make
