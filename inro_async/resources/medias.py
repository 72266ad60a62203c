"""``inro.medias``: the account's Instagram posts and Reels ([ref] [help])."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from inro_async.models.media import Media
from inro_async.pagination import Page
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

__all__ = ["Medias"]


class Medias(Resource):
    """The account's Instagram posts and Reels (their ids are ``media_id`` for shares)."""

    async def list(self, *, page: int = 1, per_page: int | None = None) -> Page[Media]:
        """One page of the account's posts and Reels."""
        return await self._page("medias.list", Media, page=page, per_page=per_page)

    def iter(
        self, *, per_page: int = DEFAULT_ITER_PER_PAGE, concurrency: int = 1
    ) -> AsyncGenerator[Media, None]:
        """Every post and Reel of the account."""
        return self._iter("medias.list", Media, per_page=per_page, concurrency=concurrency)
