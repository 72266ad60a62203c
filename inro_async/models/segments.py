"""Segments: saved contact filters that campaigns can target."""

from __future__ import annotations

import msgspec

from inro_async.models._base import Model
from inro_async.models.filters import ContactFilter


class Segment(Model, frozen=True):
    """A saved set of contact filters, combined with ``filter_logic`` (``and`` / ``or``)."""

    id: int = 0
    title: str | None = None
    emoji: str | None = None
    filter_logic: str = "and"
    contact_filters: list[ContactFilter] = msgspec.field(default_factory=list)
    contact_count: int | None = None
