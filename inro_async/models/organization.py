"""The organization that owns the token (``GET /me``)."""

from __future__ import annotations

from inro_async.models._base import Model, Timestamp


class Organization(Model, frozen=True):
    """The organization behind the token; one organization is one Instagram account."""

    id: int | None = None
    name: str | None = None
    instagram_username: str | None = None
    plan: str | None = None
    """``pro``, ``trial`` or ``free`` (the API itself refuses Free plans with 403)."""
    created_at: Timestamp = None
