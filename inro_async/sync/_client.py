"""What every sync client shares: the async Client it drives on the portal, and its lifecycle.

``ClientBase`` is written by hand; the calls (``me``, ``request``, ``with_options``, every
resource method) are generated into ``_generated/`` from the async classes and forward to
``_async_client()`` through ``_call``. A ``with_options`` copy shares its parent's ``_Binding``
(the root async client) and remembers how it was derived, so that a forked child can derive it
again from the child's own root client.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Self, TypeVar

from inro_async.errors import ClientClosedError
from inro_async.sync._process import current, generation, rebuild_lock

if TYPE_CHECKING:
    from inro_async.client import Client as AsyncClient
    from inro_async.governor import Governor, QuotaUsage

__all__ = ["ClientBase", "Facade"]

R = TypeVar("R")

AsyncClientFactory = Callable[[], "AsyncClient"]
Derivation = Callable[["AsyncClient"], "AsyncClient"]


async def _construct(factory: AsyncClientFactory) -> AsyncClient:
    return factory()


class _Binding:
    """The async Client behind one sync Client and its ``with_options`` copies.

    It is built on the portal (where its session, governor and journals live) from the same
    arguments the sync client was given, and built again from them in a forked child.
    """

    __slots__ = ("_factory", "client", "closed", "generation")

    def __init__(self, factory: AsyncClientFactory) -> None:
        self._factory = factory
        self.closed = False
        self.generation = generation()
        self.client = self._build()

    def _build(self) -> AsyncClient:
        portal = current()
        client = portal.call(_construct(self._factory))
        portal.clients.add(client)
        return client

    def current(self) -> AsyncClient:
        """The async client of this process: in a forked child, a new one (not the parent's)."""
        if self.closed:
            raise ClientClosedError
        if self.generation != generation():
            with rebuild_lock():
                if self.generation != generation():
                    self.client = self._build()
                    self.generation = generation()
        return self.client

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.generation == generation():
            portal = current()
            portal.clients.discard(self.client)
            portal.call(self.client.aclose())

    def __del__(self) -> None:
        # Collected without close(): close the session on the portal, without waiting.
        with contextlib.suppress(Exception):  # also during interpreter shutdown
            if not self.closed and self.generation == generation():
                current().close_soon(self.client)


class ClientBase:
    """Lifecycle and plumbing of ``inro_async.sync.Client``; its calls are generated."""

    _binding: _Binding
    _derivations: tuple[Derivation, ...]
    _async: AsyncClient
    _generation: int

    def _open(self, factory: AsyncClientFactory) -> None:
        """Build the async client on the portal (bad arguments raise here, as they would there)."""
        self._binding = _Binding(factory)
        self._derivations = ()
        self._async = self._binding.client
        self._generation = self._binding.generation

    def _derive(self, make: Derivation) -> Self:
        """A copy sharing this client's async one, through ``make`` (``with_options``)."""
        copy = object.__new__(type(self))
        copy._binding = self._binding
        copy._derivations = (*self._derivations, make)
        copy._async = make(self._async_client())
        copy._generation = self._generation
        return copy

    def _async_client(self) -> AsyncClient:
        """The async client to call (raises ``ClientClosedError`` once closed)."""
        if self._generation != generation() or self._binding.closed:
            self._refresh()
        return self._async

    def _refresh(self) -> None:
        client = self._binding.current()
        for make in self._derivations:
            client = make(client)
        self._async = client
        self._generation = self._binding.generation

    def _call(self, coro: Coroutine[Any, Any, R]) -> R:
        """Run ``coro`` on the portal and wait for it (``PortalThreadError`` from the portal)."""
        return current().call(coro)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._binding.closed:
            raise ClientClosedError
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session and save the governor's state file, if it has one.

        The client (and its ``with_options`` copies) cannot send afterwards: a call raises
        ``ClientClosedError``. Calling ``close`` again does nothing. Clients left open are
        closed at interpreter exit.
        """
        self._binding.close()

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called (directly or by leaving ``with``)."""
        return self._binding.closed

    def __repr__(self) -> str:
        return f"inro_async.sync.Client(base_url={self.base_url!r}, token='***')"

    # -- configuration -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root every path is appended to."""
        return self._async.base_url

    @property
    def governor(self) -> Governor:
        """The governor pacing this client's requests (its methods are the async ones).

        Pass it to another client (``Client(governor=inro.governor)``) to share the pace;
        ``quota()`` reads it from here.
        """
        return self._async.governor

    def quota(self) -> list[QuotaUsage]:
        """Per quota: what this process used in the trailing window and when a slot frees."""
        return self._call(self._async_client().governor.snapshot())


class Facade:
    """Base of the generated resource groups (``inro.contacts``…): the client they belong to."""

    __slots__ = ("_client",)

    def __init__(self, client: ClientBase) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
