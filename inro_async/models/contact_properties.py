"""Custom contact properties, addressed by slug (docs/wire.md; [help] contact properties)."""

from __future__ import annotations

from typing import Literal

from inro_async.models._base import Model

__all__ = ["CHOICE_TYPES", "PROPERTY_TYPES", "ContactProperty", "PropertyType"]

PropertyType = Literal[
    "text",
    "number",
    "date",
    "email",
    "phone",
    "url",
    "boolean",
    "list",
    "single_choice",
    "multiple_choice",
]
"""What a property holds ([help] 11.4); ``text`` is the default."""
PROPERTY_TYPES: tuple[str, ...] = (
    "text",
    "number",
    "date",
    "email",
    "phone",
    "url",
    "boolean",
    "list",
    "single_choice",
    "multiple_choice",
)
"""Every ``PropertyType``, for validation."""
CHOICE_TYPES: frozenset[str] = frozenset({"single_choice", "multiple_choice"})
"""Property types that need a non-empty ``choices`` list."""


class ContactProperty(Model, frozen=True):
    """A custom field on contacts; ``slug`` (from the title at creation) addresses it."""

    slug: str = ""
    title: str | None = None
    property_type: str = "text"
    choices: list[str] | None = None
    """The preset options of ``single_choice`` and ``multiple_choice`` properties."""
    description: str | None = None
    agent_active: bool | None = None
    """Whether the AI agent may detect and fill the property from conversations."""
