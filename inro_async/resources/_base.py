"""What every resource shares: route lookup, decoding, pages and walks.

A resource method reads like the API documentation: validate the arguments (raising before
anything is sent), name the route, decode the answer. Everything else happens here and in the
transport.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from inro_async._http import FilePart
from inro_async._json_values import check_request_values
from inro_async._limits import DEFAULT_PER_PAGE, MAX_PER_PAGE
from inro_async._response import decoder_for
from inro_async._routes import ROUTES
from inro_async._transport import APIResponse, Multipart, QueryValue
from inro_async._validate import check_concurrency, check_page, check_per_page
from inro_async.models._lenient import LenientDecoder
from inro_async.pagination import Page, iter_pages

if TYPE_CHECKING:
    from inro_async.client import Client

__all__ = ["Resource", "multipart"]

T = TypeVar("T")

DEFAULT_ITER_PER_PAGE = MAX_PER_PAGE
"""Walks default to the largest page: 50 times fewer requests than the API's default of 20."""


class _RouteFacts(NamedTuple):
    """What the transport needs of a route, read once (``Route``'s properties cost calls)."""

    method: str
    path: str
    idempotent: bool
    gone_is_done: bool


_FACTS: dict[str, _RouteFacts] = {
    name: _RouteFacts(route.method, route.path, route.idempotent, route.removes_resource)
    for name, route in ROUTES.items()
}


_LIST_DECODERS: dict[type, LenientDecoder[Any]] = {}
"""The ``list[item_type]`` decoder per item type, looked up once (not an alias built per page)."""


def multipart(fields: Mapping[str, object], files: Sequence[FilePart] = ()) -> Multipart:
    """A multipart body of the API's form: scalars as text, lists as repeated ``name[]`` fields.

    (docs/wire.md, Messages.) Booleans are ``true``/``false``; ``None`` values are left out.
    """
    parts: list[tuple[str, str]] = []
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            parts.extend((f"{name}[]", str(item)) for item in value)
        elif isinstance(value, bool):
            parts.append((name, "true" if value else "false"))
        else:
            parts.append((name, str(value)))
    return Multipart(tuple(parts), tuple(files))


class Resource:
    """Base of the resource groups hanging off a ``Client`` (``inro.contacts``…)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _request(
        self,
        route: str,
        *,
        path: Mapping[str, object] | None = None,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        form: Multipart | None = None,
        idempotent: bool | None = None,
        checked: bool = False,
    ) -> APIResponse:
        """Send the named route through the client's transport (governor, retries, errors).

        ``idempotent`` overrides the route's default: true for reads sent as POST, false for a
        PUT whose repeat could answer falsely (an update changing the email it is addressed by).
        Every value sent is checked to be JSON the API receives as given (``_json_values``)
        unless ``checked`` says the caller built it from values checked already (a job's
        chunks: checked once for the whole job, not once per request).
        """
        if not checked:
            check_request_values(params, json, form)
        facts = _FACTS[route]
        return await self._client._transport.request(
            facts.method,
            facts.path.format(**path) if path else facts.path,
            params=params,
            json=json,
            form=form,
            idempotent=facts.idempotent if idempotent is None else idempotent,
            gone_is_done=facts.gone_is_done,
            options=self._client._options,
        )

    async def _call(
        self,
        route: str,
        type_: type[T] | Any,
        *,
        path: Mapping[str, object] | None = None,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        form: Multipart | None = None,
        idempotent: bool | None = None,
        checked: bool = False,
    ) -> T:
        """Send the named route and decode the body into ``type_``."""
        response = await self._request(
            route,
            path=path,
            params=params,
            json=json,
            form=form,
            idempotent=idempotent,
            checked=checked,
        )
        result: T = response.parse(type_)
        return result

    async def _page(
        self,
        route: str,
        item_type: type[T],
        *,
        page: int = 1,
        per_page: int | None = None,
        path: Mapping[str, object] | None = None,
        params: Mapping[str, QueryValue] | None = None,
    ) -> Page[T]:
        """One page of a list route, decoded into ``item_type`` items in one msgspec call."""
        # This runs on every page: the checks' usual case inline, the page's own parameters
        # encoded here (after the route's, as the API documents them), one coroutine fewer.
        if type(page) is not int or page < 1:
            check_page(page)
        query = [("page", str(page))]
        if per_page is not None:
            if type(per_page) is not int or not 1 <= per_page <= MAX_PER_PAGE:
                check_per_page(per_page)
            query.append(("per_page", str(per_page)))
        if params:
            check_request_values(params, None, None)
        facts = _FACTS[route]
        response = await self._client._transport.request(
            facts.method,
            facts.path.format(**path) if path else facts.path,
            params=params,
            query=query,
            idempotent=facts.idempotent,
            gone_is_done=facts.gone_is_done,
            options=self._client._options,
        )
        items = self._items(response, item_type)
        return Page.from_response(items, response, page=page, per_page=per_page or DEFAULT_PER_PAGE)

    def _items(self, response: APIResponse, item_type: type[T]) -> list[T]:
        """A list response's items; a resource whose lists come wrapped overrides this."""
        decoder = _LIST_DECODERS.get(item_type)
        if decoder is None:
            list_type = list[item_type]  # type: ignore[valid-type]
            decoder = _LIST_DECODERS[item_type] = decoder_for(list_type)
        items: list[T] = response._decoded(decoder)
        return items

    def _iter_pages(
        self,
        route: str,
        item_type: type[T],
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        path: Mapping[str, object] | None = None,
        params: Mapping[str, QueryValue] | None = None,
    ) -> AsyncGenerator[Page[T], None]:
        """Every page of a list route, in order (see ``pagination.iter_pages``).

        The arguments are checked here, when the walk is created, not at its first page.
        """
        check_per_page(per_page)
        check_concurrency(concurrency)  # the same 1..64 rule for every walk, not only contacts'

        async def fetch(number: int) -> Page[T]:
            return await self._page(
                route, item_type, page=number, per_page=per_page, path=path, params=params
            )

        async def walk() -> AsyncGenerator[Page[T], None]:
            async with aclosing(iter_pages(fetch, concurrency=concurrency)) as pages:
                async for page in pages:
                    yield page

        return walk()

    def _iter(
        self,
        route: str,
        item_type: type[T],
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        path: Mapping[str, object] | None = None,
        params: Mapping[str, QueryValue] | None = None,
    ) -> AsyncGenerator[T, None]:
        """Every item of a list route, in order (arguments checked when the walk is created)."""
        pages = self._iter_pages(
            route, item_type, per_page=per_page, concurrency=concurrency, path=path, params=params
        )

        async def walk() -> AsyncGenerator[T, None]:
            async with aclosing(pages):
                async for page in pages:
                    for item in page.items:
                        yield item

        return walk()
