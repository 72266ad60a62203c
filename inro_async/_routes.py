"""The route table: every method and path of the Inrō API in one place.

Both the SDK (``resources/``) and the fake server (``testing/``) read this table, so correcting
a guessed path is a one-line change here. ``source`` says how sure we are of each route, using the
tags of the API reference we compiled (docs/wire.md and ``inro-api.md``):

* ``ref``  - the official v0.0.1 reference;
* ``help`` - a help.inro.social article;
* ``mcp``  - only the MCP tool is documented, the REST method and path are guessed;
* ``guess`` - our own inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Source = Literal["ref", "help", "mcp", "guess"]

DEFAULT_BASE_URL = "https://api.inro.social/api/v1"
"""Production base URL; every path below is relative to it."""

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that only read: a request lost on the way changed nothing, so it has no outcome."""


def is_read(method: str) -> bool:
    """Whether ``method`` only reads (``READ_METHODS``)."""
    return method in READ_METHODS


def is_idempotent(
    method: str, *, reads: bool = False, counts_changes: bool = False, readdresses: bool = False
) -> bool:
    """Whether repeating a request cannot change its outcome, so it may be retried blindly.

    The one rule every retry and resend decision reads (the transport's default, each route's
    ``idempotent``, the per-call exceptions of the resources, the jobs' ``Operation.idempotent``):

    * a read may always be repeated: ``READ_METHODS``, or a read sent as POST (``reads``);
    * PUT and DELETE set a state, so a repeat changes nothing, unless the answer counts what
      the request changed (``counts_changes``: a repeat answers 0, a false outcome) or the
      request is addressed by a value it changes (``readdresses``: an update of the email it
      looks the contact up by; a repeat finds nobody);
    * POST and PATCH create, send or add (a PATCH of a scenario can create actions): never.
    """
    if reads or is_read(method):
        return True
    return method in ("PUT", "DELETE") and not (counts_changes or readdresses)


@dataclass(frozen=True, slots=True)
class Route:
    """One API operation: its method, path template and documented success status."""

    name: str
    method: Method
    path: str
    status: int = 200
    source: Source = "ref"
    counts_changes: bool = False
    """The answer counts what this request changed (``removed_count``): a repeat of a request
    that was already applied changes nothing and would answer 0, a false outcome."""
    reads: bool = False
    """A read sent with another method than GET (a query too big for a URL): repeatable."""

    @property
    def idempotent(self) -> bool:
        """Whether repeating the request cannot change the outcome (``is_idempotent``)."""
        return self.idempotent_for()

    def idempotent_for(self, *, readdresses: bool = False) -> bool:
        """``idempotent`` for one request, which may be addressed by a value it changes."""
        return is_idempotent(
            self.method,
            reads=self.reads,
            counts_changes=self.counts_changes,
            readdresses=readdresses,
        )

    @property
    def removes_resource(self) -> bool:
        """Whether this is a DELETE of the resource at its path (a 404 on a repeat means done)."""
        return self.method == "DELETE" and self.status == 204

    def format(self, **params: object) -> str:
        """The concrete path with ``{placeholders}`` filled in."""
        return self.path.format(**params) if params else self.path


_TABLE: tuple[Route, ...] = (
    # organization
    Route("me", "GET", "/me"),
    # contacts
    Route("contacts.list", "GET", "/contacts"),
    Route("contacts.search", "GET", "/contacts/search"),
    Route("contacts.get", "GET", "/contact"),
    Route("contacts.update_by", "PUT", "/contact"),
    Route("contacts.update", "PUT", "/contacts/{id}"),
    Route("contacts.bulk_update", "PUT", "/contacts/bulk", status=202, source="help"),
    Route("contacts.filter", "POST", "/contacts/filter", source="mcp", reads=True),
    Route("contacts.messages", "GET", "/contacts/{id}/messages", source="mcp"),
    # batch tasks
    Route("batch_tasks.list", "GET", "/batch_tasks", source="help"),
    Route("batch_tasks.get", "GET", "/batch_tasks/{id}", source="help"),
    # folders
    Route("folders.list", "GET", "/folders"),
    Route("folders.create", "POST", "/folders", status=201, source="mcp"),
    Route("folders.update", "PATCH", "/folders/{id}", source="mcp"),
    Route("folders.delete", "DELETE", "/folders/{id}", status=204, source="mcp"),
    Route("folders.contacts", "GET", "/folders/{id}/contacts", source="mcp"),
    Route("folders.add_contacts", "POST", "/folders/{id}/contacts", source="mcp"),
    Route(
        "folders.remove_contacts",
        "DELETE",
        "/folders/{id}/contacts",
        source="mcp",
        counts_changes=True,
    ),
    # contact properties (keyed by slug)
    Route("contact_properties.list", "GET", "/contact_properties"),
    Route("contact_properties.create", "POST", "/contact_properties", status=201, source="help"),
    Route("contact_properties.update", "PUT", "/contact_properties/{slug}", source="help"),
    Route(
        "contact_properties.delete",
        "DELETE",
        "/contact_properties/{slug}",
        status=204,
        source="help",
    ),
    # messages
    Route("messages.send", "POST", "/messages", status=202),
    # instagram posts and uploaded media files
    Route("medias.list", "GET", "/medias"),
    Route("media_files.list", "GET", "/media_files", source="help"),
    Route("media_files.create", "POST", "/media_files", status=201, source="help"),
    Route("media_files.get", "GET", "/media_files/{id}", source="help"),
    # scenarios
    Route("scenarios.list", "GET", "/scenarios", source="guess"),
    Route("scenarios.get", "GET", "/scenarios/{id}", source="guess"),
    Route("scenarios.create", "POST", "/scenarios", status=201, source="help"),
    Route("scenarios.update", "PATCH", "/scenarios/{id}", source="help"),
    Route("scenarios.trigger", "POST", "/scenarios/{id}/trigger", status=202, source="help"),
    Route("scenarios.performance", "GET", "/scenarios/{id}/performance", source="mcp"),
    # campaigns
    Route("campaigns.list", "GET", "/campaigns", source="mcp"),
    Route("campaigns.get", "GET", "/campaigns/{id}", source="mcp"),
    Route("campaigns.create", "POST", "/campaigns", status=201, source="help"),
    Route("campaigns.update", "PATCH", "/campaigns/{id}", source="mcp"),
    Route("campaigns.send", "POST", "/campaigns/{id}/send", status=202, source="mcp"),
    Route("campaigns.test", "POST", "/campaigns/{id}/test", source="mcp"),
    Route("campaigns.performance", "GET", "/campaigns/{id}/performance", source="mcp"),
    Route("campaigns.resend", "POST", "/campaigns/{id}/resend", status=202, source="mcp"),
    # segments
    Route("segments.list", "GET", "/segments", source="mcp"),
    Route("segments.get", "GET", "/segments/{id}", source="mcp"),
    Route("segments.create", "POST", "/segments", status=201, source="mcp"),
    Route("segments.update", "PATCH", "/segments/{id}", source="mcp"),
    Route("segments.delete", "DELETE", "/segments/{id}", status=204, source="mcp"),
    # executions (automation runs)
    Route("executions.health", "GET", "/executions/health", source="mcp"),
    Route("executions.list", "GET", "/executions", source="mcp"),
    Route("executions.get", "GET", "/executions/{type}/{id}", source="mcp"),
    Route("executions.retry", "POST", "/executions/{type}/{id}/retry", status=202, source="mcp"),
    # discovery
    Route("discovery.trigger_types", "GET", "/trigger_types", source="mcp"),
    Route("discovery.action_types", "GET", "/action_types", source="mcp"),
    Route("discovery.contact_filter_types", "GET", "/contact_filter_types", source="mcp"),
    Route("discovery.templates", "GET", "/templates", source="mcp"),
)

ROUTES: dict[str, Route] = {route.name: route for route in _TABLE}
"""Every route by name, e.g. ``ROUTES["contacts.list"]``."""

if len(ROUTES) != len(_TABLE):  # pragma: no cover - guards against a copy-paste slip
    raise RuntimeError("duplicate route name in _routes._TABLE")
