"""``inro.folders``: folders and their membership (docs/wire.md, Folders)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable

from inro_async._limits import MAX_IDS_PER_FOLDER_CHANGE
from inro_async._validate import check_choice, check_offset, check_text
from inro_async._validate_contacts import check_id, check_ids, contact_order
from inro_async.errors import InvalidArgumentError
from inro_async.models.contacts import Contact, OrderColumn, OrderDirection
from inro_async.models.folders import FOLDER_COLORS, Folder, FolderColor, MembershipResult
from inro_async.pagination import Page
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

__all__ = ["Folders"]


class Folders(Resource):
    """Folders and their membership."""

    async def list(
        self, *, page: int = 1, per_page: int | None = None, offset: int | None = None
    ) -> Page[Folder]:
        """One page of folders."""
        check_offset(offset)
        return await self._page(
            "folders.list", Folder, page=page, per_page=per_page, params={"offset": offset}
        )

    def iter(
        self, *, per_page: int = DEFAULT_ITER_PER_PAGE, concurrency: int = 1
    ) -> AsyncGenerator[Folder, None]:
        """Every folder."""
        return self._iter("folders.list", Folder, per_page=per_page, concurrency=concurrency)

    async def create(self, name: str, *, color: FolderColor | None = None) -> Folder:
        """A new folder (``color``: yellow, red, green, blue, purple, pink or orange)."""
        body = {"name": check_text("name", name)}
        if color is not None:
            check_choice("color", color, FOLDER_COLORS)
            body["color"] = color
        return await self._call("folders.create", Folder, json=body)

    async def update(
        self, folder_id: int, *, name: str | None = None, color: FolderColor | None = None
    ) -> Folder:
        """Rename and/or recolour a folder."""
        check_id("folder_id", folder_id)
        body: dict[str, str] = {}
        if name is not None:
            body["name"] = check_text("name", name)
        if color is not None:
            check_choice("color", color, FOLDER_COLORS)
            body["color"] = color
        if not body:
            raise InvalidArgumentError("name/color", "pass a new name, a new color, or both")
        return await self._call("folders.update", Folder, path={"id": folder_id}, json=body)

    async def delete(self, folder_id: int) -> None:
        """Delete a folder; its contacts are kept.

        Repeated after a lost answer or a 5xx; a repeat answered 404 means an earlier attempt
        deleted it, and returns normally.
        """
        check_id("folder_id", folder_id)
        await self._request("folders.delete", path={"id": folder_id})

    async def contacts(
        self,
        folder_id: int,
        *,
        page: int = 1,
        per_page: int | None = None,
        offset: int | None = None,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> Page[Contact]:
        """One page of the folder's contacts."""
        check_id("folder_id", folder_id)
        params = contact_order(offset, order_column, order_direction)
        return await self._page(
            "folders.contacts",
            Contact,
            page=page,
            per_page=per_page,
            path={"id": folder_id},
            params=params,
        )

    def iter_contacts(
        self,
        folder_id: int,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        order_column: OrderColumn | None = None,
        order_direction: OrderDirection | None = None,
    ) -> AsyncGenerator[Contact, None]:
        """Every contact in the folder."""
        check_id("folder_id", folder_id)
        params = contact_order(None, order_column, order_direction)
        return self._iter(
            "folders.contacts",
            Contact,
            per_page=per_page,
            concurrency=concurrency,
            path={"id": folder_id},
            params=params,
        )

    async def add_contacts(self, folder_id: int, contact_ids: Iterable[int]) -> MembershipResult:
        """Put up to 1,000 contacts (by id) in the folder; unknown ids are in ``not_found``.

        Not repeated once it may have reached the server (a repeat would count 0 added): an
        ``APIConnectionError`` with ``may_have_been_processed``, or a 5xx, means the outcome is
        unknown; ``iter_contacts`` shows the members.
        """
        check_id("folder_id", folder_id)
        body = {
            "contact_ids": check_ids("contact_ids", contact_ids, maximum=MAX_IDS_PER_FOLDER_CHANGE)
        }
        return await self._call(
            "folders.add_contacts", MembershipResult, path={"id": folder_id}, json=body
        )

    async def remove_contacts(self, folder_id: int, contact_ids: Iterable[int]) -> MembershipResult:
        """Take up to 1,000 contacts (by id) out of the folder; the contacts are kept.

        Not repeated once it may have reached the server, though removing twice is harmless: a
        repeat would count 0 removed. An ``APIConnectionError`` with ``may_have_been_processed``,
        or a 5xx, means the outcome is unknown; ``iter_contacts`` shows the members.
        """
        check_id("folder_id", folder_id)
        body = {
            "contact_ids": check_ids("contact_ids", contact_ids, maximum=MAX_IDS_PER_FOLDER_CHANGE)
        }
        return await self._call(
            "folders.remove_contacts", MembershipResult, path={"id": folder_id}, json=body
        )
