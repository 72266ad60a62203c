"""Contacts (docs/wire.md, Contacts; [ref] 11.1), their update object and bulk results."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from inro_async.models._base import Model, Payload, Timestamp

__all__ = [
    "BulkUpdateResult",
    "Contact",
    "ContactIdentifier",
    "ContactMessage",
    "ContactUpdate",
    "FolderRef",
    "LastComment",
    "LastMention",
    "LastMessage",
    "OrderColumn",
    "OrderDirection",
]

OrderColumn = Literal["id", "created_at", "updated_at", "username", "name", "follower_count"]
"""What contact lists can be sorted by (default ``id``)."""
OrderDirection = Literal["asc", "desc"]
"""Sort direction (default ``asc``)."""


class FolderRef(Model, frozen=True):
    """A folder a contact belongs to, as embedded in the contact."""

    id: int = 0
    name: str | None = None


class LastMessage(Model, frozen=True):
    """One of a contact's latest direct messages (at most 10 are embedded)."""

    content: str | None = None
    received_at: Timestamp = None
    received: bool | None = None
    """True for a message the contact sent, False for one sent to them."""


class LastComment(Model, frozen=True):
    """One of a contact's latest comments on the account's posts."""

    text: str | None = None
    received_at: Timestamp = None


class LastMention(Model, frozen=True):
    """One of a contact's latest mentions of the account."""

    text: str | None = None
    received_at: Timestamp = None


class Contact(Model, frozen=True):
    """An Instagram user known to the account: profile, CRM fields and recent activity.

    ``status`` stays a free string (``active``, ``optout``, ``inactive`` today) so a new status
    never breaks decoding; only ``active`` contacts receive messages.
    """

    id: int = 0
    username: str | None = None
    name: str | None = None
    status: str | None = None
    email: str | None = None
    phone: str | None = None
    real_name: str | None = None
    language: str | None = None
    notes: str | None = None
    is_follower: bool | None = None
    follower_count: int | None = None
    follower_growth: float | None = None
    bio: str | None = None
    website: str | None = None
    instagram_url: str | None = None
    profile_picture: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    custom_properties: dict[str, Any] = msgspec.field(default_factory=dict)
    """Custom property values by property slug."""
    folders: list[FolderRef] = msgspec.field(default_factory=list)
    last_messages: list[LastMessage] = msgspec.field(default_factory=list)
    last_comments: list[LastComment] = msgspec.field(default_factory=list)
    last_mentions: list[LastMention] = msgspec.field(default_factory=list)

    @property
    def folder_ids(self) -> list[int]:
        """The ids of the contact's folders."""
        return [folder.id for folder in self.folders]


class ContactMessage(Model, frozen=True):
    """A message in a contact's conversation (``GET /contacts/{id}/messages``), newest first."""

    id: int = 0
    content: str | None = None
    message_type: str | None = None
    received: bool | None = None
    """True for a message the contact sent, False for one sent to them."""
    received_at: Timestamp = None


class ContactUpdate(Payload):
    """The ``contact`` object of an update: only fields that are set are sent.

    A field left unset is not touched; ``None`` clears it. ``folder_ids`` replaces the contact's
    folders; ``custom_properties`` is merged by slug (a ``None`` value clears that property).
    """

    email: str | msgspec.UnsetType | None = msgspec.UNSET
    phone: str | msgspec.UnsetType | None = msgspec.UNSET
    language: str | msgspec.UnsetType | None = msgspec.UNSET
    notes: str | msgspec.UnsetType | None = msgspec.UNSET
    status: str | msgspec.UnsetType = msgspec.UNSET
    """``active`` or ``optout``."""
    folder_ids: list[int] | msgspec.UnsetType = msgspec.UNSET
    custom_properties: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET

    def is_empty(self) -> bool:
        """Whether no field is set (the update would change nothing)."""
        return all(getattr(self, name) is msgspec.UNSET for name in self.__struct_fields__)


class ContactIdentifier(Model, frozen=True):
    """An identifier object as the API echoes it back: one of ``id``, ``username``, ``email``."""

    id: int | None = None
    username: str | None = None
    email: str | None = None

    def __str__(self) -> str:
        for name in ("id", "username", "email"):
            value = getattr(self, name)
            if value is not None:
                return f"{name}={value}"
        return "(no identifier)"


class BulkUpdateResult(Model, frozen=True):
    """The 202 answer to ``PUT /contacts/bulk``: identifiers matched now, writes in background.

    Follow the writes with ``inro.batch_tasks.wait(result.batch_task_id)``.
    """

    batch_task_id: str = ""
    status: str = "pending"
    accepted_count: int = 0
    not_found_count: int = 0
    not_found: list[ContactIdentifier] = msgspec.field(default_factory=list)
    """The identifiers that matched no contact, echoed as sent."""
