"""What the API can tell about itself: trigger, action and filter types, templates."""

from __future__ import annotations

from typing import Any

import msgspec

from inro_async.models._base import Model


class TypeInfo(Model, frozen=True):
    """A trigger, action or contact-filter type and the options it takes."""

    type: str = ""
    description: str | None = None
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class Template(Model, frozen=True):
    """A template usable as ``template_id`` when creating a scenario or campaign."""

    id: int = 0
    title: str | None = None
    kind: str | None = None
    """``scenario`` or ``campaign``."""
    description: str | None = None
