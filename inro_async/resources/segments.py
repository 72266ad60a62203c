"""Segments: saved contact filters that campaigns can target."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import msgspec

from inro_async._validate_contacts import check_id
from inro_async.errors import InvalidArgumentError
from inro_async.models.filters import ContactFilter
from inro_async.models.segments import Segment
from inro_async.pagination import Page
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

__all__ = ["Segments", "filter_payloads"]


def filter_payloads(
    filters: Sequence[ContactFilter | Mapping[str, Any]], argument: str = "contact_filters"
) -> list[dict[str, Any]]:
    """Contact filters as JSON objects; each needs a ``filter_type``."""
    if isinstance(filters, str | bytes) or not isinstance(filters, Sequence):
        raise InvalidArgumentError(argument, "must be a list of filters")
    payloads: list[dict[str, Any]] = []
    for index, item in enumerate(filters):
        if isinstance(item, ContactFilter):
            payload = msgspec.to_builtins(item)
        elif isinstance(item, Mapping):
            payload = dict(item)
        else:
            raise InvalidArgumentError(
                f"{argument}[{index}]", f"expected a ContactFilter or mapping, got {item!r}"
            )
        if not isinstance(payload.get("filter_type"), str) or not payload["filter_type"]:
            raise InvalidArgumentError(f"{argument}[{index}].filter_type", "is required")
        payloads.append(payload)
    return payloads


def _logic(filter_logic: str | None) -> str | None:
    if filter_logic is not None and filter_logic not in ("and", "or"):
        raise InvalidArgumentError("filter_logic", f"must be 'and' or 'or', got {filter_logic!r}")
    return filter_logic


class Segments(Resource):
    """``inro.segments``: list, get, create, update, delete."""

    async def list(self, *, page: int = 1, per_page: int | None = None) -> Page[Segment]:
        """One page of segments (with their filters)."""
        return await self._page("segments.list", Segment, page=page, per_page=per_page)

    def iter(
        self, *, per_page: int = DEFAULT_ITER_PER_PAGE, concurrency: int = 1
    ) -> AsyncGenerator[Segment, None]:
        """Every segment, page after page."""
        return self._iter("segments.list", Segment, per_page=per_page, concurrency=concurrency)

    async def get(self, segment_id: int) -> Segment:
        """One segment with its filters and contact count."""
        check_id("segment_id", segment_id)
        return await self._call("segments.get", Segment, path={"id": segment_id})

    async def create(
        self,
        *,
        title: str,
        contact_filters: Sequence[ContactFilter | Mapping[str, Any]] = (),
        filter_logic: str = "and",
        emoji: str | None = None,
    ) -> Segment:
        """Save a set of filters as a segment."""
        if not title or not title.strip():
            raise InvalidArgumentError("title", "must not be empty")
        body: dict[str, Any] = {
            "title": title,
            "filter_logic": _logic(filter_logic),
            "contact_filters": filter_payloads(contact_filters),
        }
        if emoji is not None:
            body["emoji"] = emoji
        return await self._call("segments.create", Segment, json=body)

    async def update(
        self,
        segment_id: int,
        *,
        title: str | None = None,
        contact_filters: Sequence[ContactFilter | Mapping[str, Any]] | None = None,
        filter_logic: str | None = None,
        emoji: str | None = None,
    ) -> Segment:
        """Change a segment; ``contact_filters`` replaces the whole list."""
        check_id("segment_id", segment_id)
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if contact_filters is not None:
            body["contact_filters"] = filter_payloads(contact_filters)
        if filter_logic is not None:
            body["filter_logic"] = _logic(filter_logic)
        if emoji is not None:
            body["emoji"] = emoji
        if not body:
            raise InvalidArgumentError("update", "nothing to change: pass at least one field")
        return await self._call("segments.update", Segment, path={"id": segment_id}, json=body)

    async def delete(self, segment_id: int) -> None:
        """Delete a segment (its contacts are kept).

        Repeated after a lost answer or a 5xx; a repeat answered 404 means an earlier attempt
        deleted it, and returns normally.
        """
        check_id("segment_id", segment_id)
        await self._request("segments.delete", path={"id": segment_id})
