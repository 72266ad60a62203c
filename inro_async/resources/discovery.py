"""Discovery: the trigger, action and filter vocabularies, and templates."""

from __future__ import annotations

from inro_async.models.discovery import Template, TypeInfo
from inro_async.resources._base import Resource

__all__ = ["Discovery"]


class Discovery(Resource):
    """``inro.discovery``: what the API accepts in triggers, actions, filters and templates."""

    async def trigger_types(self) -> list[TypeInfo]:
        """Valid ``trigger_type`` values and their options."""
        return await self._call("discovery.trigger_types", list[TypeInfo])

    async def action_types(self) -> list[TypeInfo]:
        """Valid ``action_type`` values and their fields."""
        return await self._call("discovery.action_types", list[TypeInfo])

    async def contact_filter_types(self) -> list[TypeInfo]:
        """The filter vocabulary for ``contacts.filter`` and segments."""
        return await self._call("discovery.contact_filter_types", list[TypeInfo])

    async def templates(self, query: str | None = None) -> list[Template]:
        """Templates usable as ``template_id``, optionally searched."""
        return await self._call("discovery.templates", list[Template], params={"query": query})
