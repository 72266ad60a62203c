"""``inro.contacts``: list, search, filter, get, update, bulk update, a contact's messages."""

from __future__ import annotations

import builtins
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from msgspec import UNSET, UnsetType

from inro_async._limits import DEFAULT_PER_PAGE
from inro_async._routes import ROUTES
from inro_async._validate import (
    check_choice,
    check_concurrency,
    check_page,
    check_per_page,
    check_text,
)
from inro_async._validate_contacts import (
    ORDER_DIRECTIONS,
    bulk_entries,
    check_id,
    contact_order,
    one_identifier,
)
from inro_async.errors import InvalidArgumentError, UnaccountedAnswerError
from inro_async.jobs import export_contacts, update_many
from inro_async.models.contacts import (
    BulkUpdateResult,
    Contact,
    ContactMessage,
    ContactUpdate,
    OrderColumn,
    OrderDirection,
)
from inro_async.models.filters import ContactFilter
from inro_async.pagination import Page, iter_pages
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource
from inro_async.resources._contact_changes import DEFAULT_LAG, ContactChanges
from inro_async.resources._contact_filters import filter_body
from inro_async.resources._contact_updates import readdresses, update_object

if TYPE_CHECKING:
    import os

    from inro_async.jobs import ExportReport, Job, JobReport, ProgressCallback
    from inro_async.jobs.export import ExportFormat

__all__ = ["Contacts"]


def _walk(per_page: int, concurrency: int) -> None:
    check_per_page(per_page)
    check_concurrency(concurrency)


def _a_contact(contact: Contact, method: str, path: str = "/contact") -> Contact:
    """``contact``, unless the answer held no contact at all (``{}`` from a proxy, say)."""
    if contact.id <= 0:
        raise UnaccountedAnswerError(
            "the 2xx answer names no contact (no id); "
            + ("the update may have been applied" if method != "GET" else "nothing to return"),
            method=method,
            path=path,
        )
    return contact


class Contacts(Resource):
    """Contacts: list, search, filter, get, update, bulk update, messages."""

    # -- lists -------------------------------------------------------------------------------

    def changes(
        self,
        *,
        since: datetime | None,
        lag: timedelta = DEFAULT_LAG,
        clock: Callable[[], float] = time.time,
    ) -> ContactChanges:
        """The contacts changed since a cursor, in batches: ``async for batch in changes``.

        See ``ContactChanges``: after the walk, ``changes.cursor`` is the next cursor to keep,
        and ``changes.full`` says it fell back to a full walk (every contact handed out).
        """
        if lag < timedelta(0):
            raise InvalidArgumentError("lag", "must not be negative")
        return ContactChanges(self, since=since, lag=lag, clock=clock)

    async def list(
        self,
        *,
        page: int = 1,
        per_page: int | None = None,
        offset: int | None = None,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> Page[Contact]:
        """One page of contacts (``per_page`` defaults to the API's 20, at most 1,000)."""
        params = contact_order(offset, order_column, order_direction)
        return await self._page(
            "contacts.list", Contact, page=page, per_page=per_page, params=params
        )

    def iter(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        offset: int | None = None,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> AsyncGenerator[Contact, None]:
        """Every contact, page after page (``concurrency`` pages in flight, yielded in order)."""
        _walk(per_page, concurrency)
        params = contact_order(offset, order_column, order_direction)
        return self._iter(
            "contacts.list", Contact, per_page=per_page, concurrency=concurrency, params=params
        )

    def iter_pages(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        offset: int | None = None,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> AsyncGenerator[Page[Contact], None]:
        """Every page of contacts, in order (for progress: each page knows the total)."""
        _walk(per_page, concurrency)
        params = contact_order(offset, order_column, order_direction)
        return self._iter_pages(
            "contacts.list", Contact, per_page=per_page, concurrency=concurrency, params=params
        )

    async def search(
        self,
        query: str,
        *,
        page: int = 1,
        per_page: int | None = None,
        offset: int | None = None,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> Page[Contact]:
        """Contacts whose username, name, email or phone contains ``query`` (case-insensitive)."""
        params = {
            "query": check_text("query", query),
            **contact_order(offset, order_column, order_direction),
        }
        return await self._page(
            "contacts.search", Contact, page=page, per_page=per_page, params=params
        )

    def iter_search(
        self,
        query: str,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        offset: int | None = None,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> AsyncGenerator[Contact, None]:
        """Every contact matching ``query``, page after page."""
        _walk(per_page, concurrency)
        params = {
            "query": check_text("query", query),
            **contact_order(offset, order_column, order_direction),
        }
        return self._iter(
            "contacts.search", Contact, per_page=per_page, concurrency=concurrency, params=params
        )

    async def filter(
        self,
        filters: Sequence[ContactFilter | Mapping[str, Any]],
        filter_logic: str = "and",
        *,
        page: int = 1,
        per_page: int | None = None,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> Page[Contact]:
        """Contacts matching structured ``filters``, combined with ``and`` (default) or ``or``."""
        check_page(page)
        if per_page is not None:
            check_per_page(per_page)
        body = filter_body(filters, filter_logic, order_column, order_direction)
        return await self._filter_page(body, page, per_page)

    def iter_filter(
        self,
        filters: Sequence[ContactFilter | Mapping[str, Any]],
        filter_logic: str = "and",
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> AsyncGenerator[Contact, None]:
        """Every contact matching ``filters``, page after page."""
        _walk(per_page, concurrency)
        body = filter_body(filters, filter_logic, order_column, order_direction)

        async def fetch(number: int) -> Page[Contact]:
            return await self._filter_page(body, number, per_page)

        async def walk() -> AsyncGenerator[Contact, None]:
            async with aclosing(iter_pages(fetch, concurrency=concurrency)) as pages:
                async for page in pages:
                    for contact in page.items:
                        yield contact

        return walk()

    async def _filter_page(
        self, body: Mapping[str, Any], page: int, per_page: int | None
    ) -> Page[Contact]:
        query = {**body, "page": page}
        if per_page is not None:
            query["per_page"] = per_page
        # A read sent as POST (its route says reads=True): retried like a GET.
        response = await self._request("contacts.filter", json=query)
        items: builtins.list[Contact] = response.parse(builtins.list[Contact])
        return Page.from_response(items, response, page=page, per_page=per_page or DEFAULT_PER_PAGE)

    # -- one contact -------------------------------------------------------------------------

    async def get(
        self, *, id: int | None = None, username: str | None = None, email: str | None = None
    ) -> Contact:
        """The contact with this id, username (no ``@``) or email: exactly one of them."""
        identifier = one_identifier(id=id, username=username, email=email)
        return _a_contact(await self._call("contacts.get", Contact, params=identifier), "GET")

    async def update(
        self,
        contact_id: int,
        *,
        contact: ContactUpdate | Mapping[str, Any] | None = None,
        email: str | UnsetType | None = UNSET,
        phone: str | UnsetType | None = UNSET,
        language: str | UnsetType | None = UNSET,
        notes: str | UnsetType | None = UNSET,
        status: str | UnsetType = UNSET,
        folder_ids: Sequence[int] | UnsetType = UNSET,
        custom_properties: Mapping[str, Any] | UnsetType = UNSET,
    ) -> Contact:
        """Change a contact by id and return it: only the fields passed are sent.

        ``None`` clears a field; ``folder_ids`` replaces the contact's folders;
        ``custom_properties`` is merged by slug (``None`` clears one). Or pass ``contact=``.
        Repeated after a lost answer or a 5xx: addressed by id, a repeat does the same again.
        """
        check_id("contact_id", contact_id)
        update = update_object(
            contact,
            email=email,
            phone=phone,
            language=language,
            notes=notes,
            status=status,
            folder_ids=folder_ids,
            custom_properties=custom_properties,
        )
        updated: Contact = await self._call(
            "contacts.update", Contact, path={"id": contact_id}, json={"contact": update}
        )
        return _a_contact(updated, "PUT", f"/contacts/{contact_id}")

    async def update_by(
        self,
        *,
        id: int | None = None,
        username: str | None = None,
        email: str | None = None,
        contact: ContactUpdate | Mapping[str, Any] | None = None,
        phone: str | UnsetType | None = UNSET,
        language: str | UnsetType | None = UNSET,
        notes: str | UnsetType | None = UNSET,
        status: str | UnsetType = UNSET,
        folder_ids: Sequence[int] | UnsetType = UNSET,
        custom_properties: Mapping[str, Any] | UnsetType = UNSET,
    ) -> Contact:
        """Change the contact found by exactly one of id, username or email, and return it.

        Here ``email=`` finds the contact; to change a contact's email pass
        ``contact={"email": ...}`` (or use ``update(contact_id, email=...)``).

        Repeated after a lost answer or a 5xx like any PUT, except when it changes the email it
        is addressed by: a repeat would look up the old email and find nobody. That call raises
        instead (``APIConnectionError`` with ``may_have_been_processed``, or a 5xx saying the
        outcome is unknown); ``get(email=new)`` tells whether it was applied.
        """
        identifier = one_identifier(id=id, username=username, email=email)
        update = update_object(
            contact,
            phone=phone,
            language=language,
            notes=notes,
            status=status,
            folder_ids=folder_ids,
            custom_properties=custom_properties,
        )
        entry = {**identifier, "contact": update}
        repeatable = ROUTES["contacts.update_by"].idempotent_for(readdresses=readdresses([entry]))
        updated: Contact = await self._call(
            "contacts.update_by", Contact, json=entry, idempotent=repeatable
        )
        return _a_contact(updated, "PUT")

    async def bulk_update(self, entries: Iterable[Mapping[str, Any]]) -> BulkUpdateResult:
        """Update up to 1,000 contacts in one call; the writes run in a background batch task.

        Each entry is ``{"id"|"username"|"email": …, "contact": {…}}`` (the ``contact`` may be a
        ``ContactUpdate``). Unknown identifiers come back in ``not_found`` at once; follow the
        writes with ``inro.batch_tasks.wait(result.batch_task_id)``. For more than 1,000 (and
        resumable progress) use ``update_many``.

        Repeated after a lost answer or a 5xx like any PUT, except when an entry writes an email
        while some entry is addressed by email: a repeat could miss a contact whose address the
        first attempt changed and report it in ``not_found``. That call raises instead
        (``APIConnectionError`` with ``may_have_been_processed``, or a 5xx saying the outcome is
        unknown).
        """
        return await self._bulk_update_checked(bulk_entries(entries))

    async def _bulk_update_checked(self, entries: Sequence[Mapping[str, Any]]) -> BulkUpdateResult:
        """Send bulk entries already checked (``update_many``'s chunks) without checking again."""
        return await self._call(
            "contacts.bulk_update",
            BulkUpdateResult,
            json={"contacts": entries},
            checked=True,
            idempotent=ROUTES["contacts.bulk_update"].idempotent_for(
                readdresses=readdresses(entries)
            ),
        )

    # -- a contact's conversation ------------------------------------------------------------

    async def messages(
        self,
        contact_id: int,
        *,
        page: int = 1,
        per_page: int | None = None,
        order_direction: OrderDirection | None = None,
    ) -> Page[ContactMessage]:
        """One page of the contact's messages, newest first."""
        check_id("contact_id", contact_id)
        check_choice("order_direction", order_direction, ORDER_DIRECTIONS)
        return await self._page(
            "contacts.messages",
            ContactMessage,
            page=page,
            per_page=per_page,
            path={"id": contact_id},
            params={"order_direction": order_direction},
        )

    def iter_messages(
        self,
        contact_id: int,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        order_direction: OrderDirection | None = None,
    ) -> AsyncGenerator[ContactMessage, None]:
        """Every message of the contact, page after page."""
        check_id("contact_id", contact_id)
        check_choice("order_direction", order_direction, ORDER_DIRECTIONS)
        _walk(per_page, concurrency)
        return self._iter(
            "contacts.messages",
            ContactMessage,
            per_page=per_page,
            concurrency=concurrency,
            path={"id": contact_id},
            params={"order_direction": order_direction},
        )

    # -- fan-out jobs (inro_async.jobs) ------------------------------------------------------

    def update_many(
        self,
        updates: Iterable[object],
        *,
        job: str | os.PathLike[str] | None = None,
        concurrency: int | None = None,
        resend_unknown: bool = True,
        stop_when_blocked_over: timedelta | float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Job[JobReport[Any]]:
        """Apply any number of updates, 1,000 per bulk call, following each batch task.

        See ``inro_async.jobs.update_many``; ``report = await inro.contacts.update_many(...)``.
        """
        extra: dict[str, Any] = {} if concurrency is None else {"concurrency": concurrency}
        return update_many(
            self._client,
            updates,
            job=job,
            resend_unknown=resend_unknown,
            stop_when_blocked_over=stop_when_blocked_over,
            on_progress=on_progress,
            **extra,
        )

    def export(
        self,
        path: str | os.PathLike[str],
        *,
        format: ExportFormat | None = None,
        query: str | None = None,
        concurrency: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Job[ExportReport]:
        """Write every contact (or a search) to JSON Lines or CSV.

        The format follows the suffix (``.jsonl``/``.ndjson``/``.json`` or ``.csv``) unless
        ``format="jsonl"`` or ``format="csv"`` says. See ``inro_async.jobs.export_contacts``;
        ``report = await inro.contacts.export(...)``.
        """
        extra: dict[str, Any] = {} if concurrency is None else {"concurrency": concurrency}
        return export_contacts(
            self._client, path, format=format, query=query, on_progress=on_progress, **extra
        )
