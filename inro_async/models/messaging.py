"""The answer to ``POST /messages`` (docs/wire.md, Messages)."""

from __future__ import annotations

from typing import Literal

import msgspec

from inro_async.models._base import Model
from inro_async.models.contacts import ContactIdentifier

__all__ = ["MEDIA_MESSAGE_TYPES", "MESSAGE_TYPES", "MessageType", "SendResult", "SkippedRecipient"]

MessageType = Literal["text", "image", "video", "audio", "share"]
"""What a message carries ([ref] 11.5); ``text`` is the default."""
MESSAGE_TYPES: tuple[str, ...] = ("text", "image", "video", "audio", "share")
"""Every ``MessageType``, for validation."""
MEDIA_MESSAGE_TYPES: tuple[str, ...] = ("image", "video", "audio")
"""Message types whose media travels in the field of the same name."""


class SkippedRecipient(ContactIdentifier, frozen=True):
    """A recipient that was found but not messaged, and why (e.g. ``status is optout``)."""

    reason: str | None = None

    def __str__(self) -> str:
        return f"{super().__str__()} ({self.reason or 'skipped'})"


class SendResult(Model, frozen=True):
    """Messages queued: who was accepted, skipped (not active) or not found.

    Identifiers are echoed as sent. Delivery happens later; a contact named twice is messaged once.
    """

    status: str = "queued"
    accepted_count: int = 0
    skipped_count: int = 0
    skipped: list[SkippedRecipient] = msgspec.field(default_factory=list)
    not_found_count: int = 0
    not_found: list[ContactIdentifier] = msgspec.field(default_factory=list)
