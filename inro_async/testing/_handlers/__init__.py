"""The fake server's handlers, one module per resource family of the route table.

Each module maps its route names (``"contacts.list"``) to aiohttp handlers in ``HANDLERS``;
what they share lives in ``testing._http`` (request parsing, checks, errors, pages) and
``testing._domain`` (rules over the organization's data in ``testing.store``).
"""

from __future__ import annotations

from types import ModuleType

from inro_async.testing._handlers import (
    batch_tasks,
    campaigns,
    contact_properties,
    contacts,
    discovery,
    executions,
    folders,
    media,
    messages,
    organization,
    scenarios,
    segments,
)
from inro_async.testing._http import Handler

__all__ = ["HANDLERS", "MODULES"]

MODULES: tuple[ModuleType, ...] = (
    organization,
    contacts,
    batch_tasks,
    folders,
    contact_properties,
    messages,
    media,
    scenarios,
    campaigns,
    segments,
    executions,
    discovery,
)
"""Every handler module, in the order of the route table's families."""

HANDLERS: dict[str, Handler] = {
    name: handler for module in MODULES for name, handler in module.HANDLERS.items()
}
"""Route name → handler, for every route the fake serves."""
