"""The account's Instagram posts (``/medias``) and uploaded media files (``/media_files``)."""

from __future__ import annotations

from typing import Literal

from inro_async.models._base import Model, Timestamp

__all__ = ["MEDIA_FILE_TYPES", "Media", "MediaFile", "MediaFileType"]

MediaFileType = Literal["image", "video", "audio", "file"]
"""What an uploaded media file holds."""
MEDIA_FILE_TYPES: tuple[str, ...] = ("image", "video", "audio", "file")
"""Every ``MediaFileType``, for validation."""


class Media(Model, frozen=True):
    """An Instagram post or Reel of the account; its ``id`` is the ``media_id`` of a share."""

    id: int = 0
    media_type: str | None = None
    """``IMAGE``, ``VIDEO``, ``CAROUSEL_ALBUM`` or ``REEL``."""
    caption: str | None = None
    permalink: str | None = None
    timestamp: Timestamp = None


class MediaFile(Model, frozen=True):
    """A file stored by Inrō for use in messages and actions."""

    id: int = 0
    media_type: str | None = None
    """``image``, ``video``, ``audio`` or ``file``."""
    caption: str | None = None
    url: str | None = None
    filename: str | None = None
    size: int | None = None
    """Bytes."""
    created_at: Timestamp = None
