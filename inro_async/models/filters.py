"""Contact filters: the vocabulary shared by ``contacts.filter`` and segments."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from inro_async.models._base import Model

FilterType = Literal[
    "status", "folder", "is_follower", "follower_count", "custom_property", "created_at"
]
"""What a filter looks at (``GET /contact_filter_types`` lists what the server knows)."""
FilterOperator = Literal["eq", "neq", "gt", "lt", "contains", "in"]
"""How a filter compares."""


class ContactFilter(Model, frozen=True):
    """One condition on contacts, e.g. ``ContactFilter(filter_type="status", value="active")``.

    ``property`` names the custom property's slug when ``filter_type`` is ``custom_property``.
    """

    filter_type: str = "status"
    operator: str = "eq"
    value: Any = None
    property: str | msgspec.UnsetType | None = msgspec.UNSET
