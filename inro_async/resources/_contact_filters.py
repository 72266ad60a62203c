"""The body of ``inro.contacts.filter``: filters checked, combined by ``and`` or ``or``, ordered.

Filters come as ``ContactFilter`` objects or mappings of the same keys; each is checked here,
before any request: it has a ``filter_type``, converts to a ``ContactFilter``, and a
``custom_property`` filter names the property's slug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from inro_async._validate import check_choice, check_list
from inro_async._validate_contacts import contact_order
from inro_async.errors import InvalidArgumentError
from inro_async.models.filters import ContactFilter

__all__ = ["FILTER_LOGIC", "check_filters", "filter_body"]

FILTER_LOGIC = ("and", "or")


def check_filters(filters: object) -> list[ContactFilter]:
    """Filters given as ``ContactFilter`` objects or mappings of the same keys, checked."""
    items = check_list("filters", filters)
    if not items:
        raise InvalidArgumentError("filters", "must hold at least one filter")
    checked: list[ContactFilter] = []
    for index, item in enumerate(items):
        argument = f"filters[{index}]"
        if isinstance(item, Mapping):
            if "filter_type" not in item:
                raise InvalidArgumentError(argument, "needs a filter_type")
            try:
                item = msgspec.convert(dict(item), ContactFilter)
            except msgspec.ValidationError as exc:
                raise InvalidArgumentError(argument, str(exc)) from None
        if not isinstance(item, ContactFilter):
            raise InvalidArgumentError(
                argument, f"must be a ContactFilter or a mapping, got {type(item).__name__}"
            )
        if item.filter_type == "custom_property" and not item.property:
            raise InvalidArgumentError(
                f"{argument}.property", "a custom_property filter names the property's slug"
            )
        checked.append(item)
    return checked


def filter_body(
    filters: object,
    filter_logic: str,
    order_column: str | None,
    order_direction: str | None,
) -> dict[str, Any]:
    """The JSON body of ``POST /contacts/filter`` without its page: every argument checked."""
    check_choice("filter_logic", filter_logic, FILTER_LOGIC)
    body: dict[str, Any] = {"filters": check_filters(filters), "filter_logic": filter_logic}
    order = contact_order(None, order_column, order_direction)
    body.update((key, value) for key, value in order.items() if value is not None)
    return body
