"""Folders and their membership (docs/wire.md, Folders; [mcp])."""

from __future__ import annotations

from typing import Literal

import msgspec

from inro_async.models._base import Model

__all__ = ["FOLDER_COLORS", "Folder", "FolderColor", "MembershipResult"]

FolderColor = Literal["yellow", "red", "green", "blue", "purple", "pink", "orange"]
"""The colours a folder can have."""
FOLDER_COLORS: tuple[str, ...] = ("yellow", "red", "green", "blue", "purple", "pink", "orange")
"""Every ``FolderColor``, for validation."""


class Folder(Model, frozen=True):
    """A named, coloured group of contacts."""

    id: int = 0
    name: str | None = None
    color: str | None = None
    contacts_count: int | None = None


class MembershipResult(Model, frozen=True):
    """The answer to adding contacts to a folder or removing them from it.

    ``added_count`` is set by ``add_contacts``, ``removed_count`` by ``remove_contacts``;
    ``not_found`` lists the ids that matched no contact.
    """

    added_count: int = 0
    removed_count: int = 0
    not_found: list[int] = msgspec.field(default_factory=list)
