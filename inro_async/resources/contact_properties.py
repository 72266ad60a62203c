"""``inro.contact_properties``: custom contact fields, addressed by slug ([help])."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any
from urllib.parse import quote

import msgspec
from msgspec import UNSET, UnsetType

from inro_async._validate import (
    check_choice,
    check_list,
    check_offset,
    check_text,
)
from inro_async.errors import InvalidArgumentError
from inro_async.models.contact_properties import (
    CHOICE_TYPES,
    PROPERTY_TYPES,
    ContactProperty,
    PropertyType,
)
from inro_async.pagination import Page
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

__all__ = ["ContactProperties"]


def _choices(choices: object, property_type: object) -> list[str] | None:
    """``choices`` as a list of non-empty strings; required for the two choice types."""
    if choices is None or choices is msgspec.UNSET:
        if property_type in CHOICE_TYPES:
            raise InvalidArgumentError(
                "choices", f"a {property_type} property needs a non-empty list of choices"
            )
        return None
    values = check_list("choices", choices)
    if not values and property_type in CHOICE_TYPES:
        raise InvalidArgumentError(
            "choices", f"a {property_type} property needs a non-empty list of choices"
        )
    for index, value in enumerate(values):
        check_text(f"choices[{index}]", value)
    return values


def _slug(slug: str) -> str:
    """The slug, checked and escaped for the path."""
    return quote(check_text("slug", slug), safe="")


class ContactProperties(Resource):
    """Custom contact properties, addressed by slug."""

    async def list(
        self, *, page: int = 1, per_page: int | None = None, offset: int | None = None
    ) -> Page[ContactProperty]:
        """One page of the account's contact properties."""
        check_offset(offset)
        return await self._page(
            "contact_properties.list",
            ContactProperty,
            page=page,
            per_page=per_page,
            params={"offset": offset},
        )

    def iter(
        self, *, per_page: int = DEFAULT_ITER_PER_PAGE, concurrency: int = 1
    ) -> AsyncGenerator[ContactProperty, None]:
        """Every contact property."""
        return self._iter(
            "contact_properties.list",
            ContactProperty,
            per_page=per_page,
            concurrency=concurrency,
        )

    async def create(
        self,
        title: str,
        *,
        property_type: PropertyType = "text",
        choices: Sequence[str] | None = None,
        description: str | None = None,
        agent_active: bool | None = None,
    ) -> ContactProperty:
        """A new property; its slug is the title slugified (``"Plan Tier"`` → ``plan-tier``).

        ``single_choice`` and ``multiple_choice`` need ``choices``.
        """
        check_text("title", title)
        check_choice("property_type", property_type, PROPERTY_TYPES)
        fields: dict[str, Any] = {
            "title": title,
            "property_type": property_type,
            "choices": _choices(choices, property_type),
            "description": description,
            "agent_active": agent_active,
        }
        body = {"contact_property": {k: v for k, v in fields.items() if v is not None}}
        return await self._call("contact_properties.create", ContactProperty, json=body)

    async def update(
        self,
        slug: str,
        *,
        title: str | UnsetType = UNSET,
        property_type: PropertyType | UnsetType = UNSET,
        choices: Sequence[str] | UnsetType = UNSET,
        description: str | UnsetType | None = UNSET,
        agent_active: bool | UnsetType = UNSET,
    ) -> ContactProperty:
        """Change only the fields passed; the slug stays the same even when the title changes.

        Repeated after a lost answer or a 5xx: the slug it is addressed by never changes.
        """
        path = {"slug": _slug(slug)}
        fields: dict[str, Any] = {}
        if title is not msgspec.UNSET:
            fields["title"] = check_text("title", title)
        if property_type is not msgspec.UNSET:
            check_choice("property_type", property_type, PROPERTY_TYPES)
            fields["property_type"] = property_type
        if choices is not msgspec.UNSET:
            fields["choices"] = _choices(choices, property_type)
        if description is not msgspec.UNSET:
            fields["description"] = description
        if agent_active is not msgspec.UNSET:
            fields["agent_active"] = agent_active
        if not fields:
            raise InvalidArgumentError("update", "pass at least one field to change")
        return await self._call(
            "contact_properties.update",
            ContactProperty,
            path=path,
            json={"contact_property": fields},
        )

    async def delete(self, slug: str) -> None:
        """Delete a property and its value on every contact (irreversible).

        Repeated after a lost answer or a 5xx; a repeat answered 404 means an earlier attempt
        deleted it, and returns normally.
        """
        await self._request("contact_properties.delete", path={"slug": _slug(slug)})
