"""``inro scenarios list``, ``folders list``, ``campaigns list``, ``segments``, ``properties``.

The ids that ``scenarios trigger ID``, ``messages send --folder ID`` and a campaign's rules need,
found from the terminal. Each command walks every page of its list (``--per-page`` items a
request) and prints a table of the columns a person picks by; ``--json`` prints every field of
every item, one JSON array.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
import msgspec
from rich.markup import escape
from rich.table import Table

from inro_async.cli._common import Settings, pass_settings, run
from inro_async.client import Client
from inro_async.models.automation import Campaign, Scenario
from inro_async.models.contact_properties import ContactProperty
from inro_async.models.folders import Folder
from inro_async.models.segments import Segment
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE

__all__ = ["LISTINGS", "Listing", "add_list_commands"]

Cell = Callable[[Any], object]


@dataclass(frozen=True)
class Listing:
    """One ``inro GROUP list`` command: what it walks and the table it prints."""

    group: str
    """The command group (``scenarios``); created when ``inro`` has none of that name."""
    group_help: str
    noun: str
    """What the table counts, plural (``scenarios``)."""
    walk: Callable[[Client, int, dict[str, Any]], AsyncIterator[Any]]
    columns: Sequence[tuple[str, Cell]]
    options: Sequence[click.Option] = ()
    """Filters of this list only (``campaigns list --status``), passed on to ``walk``."""


def _count(values: Sequence[object] | None) -> int:
    return len(values or ())


def _yes(value: bool | None) -> str:
    return "yes" if value else "no"


def _scenarios(inro: Client, per_page: int, _: dict[str, Any]) -> AsyncIterator[Scenario]:
    return inro.scenarios.iter(per_page=per_page)


def _folders(inro: Client, per_page: int, _: dict[str, Any]) -> AsyncIterator[Folder]:
    return inro.folders.iter(per_page=per_page)


def _campaigns(inro: Client, per_page: int, filters: dict[str, Any]) -> AsyncIterator[Campaign]:
    return inro.campaigns.iter(per_page=per_page, **filters)


def _segments(inro: Client, per_page: int, _: dict[str, Any]) -> AsyncIterator[Segment]:
    return inro.segments.iter(per_page=per_page)


def _properties(inro: Client, per_page: int, _: dict[str, Any]) -> AsyncIterator[ContactProperty]:
    return inro.contact_properties.iter(per_page=per_page)


def _executions(scenario: Scenario) -> object:
    return scenario.metrics.executions.total if scenario.metrics is not None else "-"


def _optional(value: object) -> object:
    return "-" if value is None else value


LISTINGS: tuple[Listing, ...] = (
    Listing(
        "scenarios",
        "Run scenarios.",
        "scenarios",
        _scenarios,
        (
            ("id", lambda s: s.id),
            ("title", lambda s: s.title or ""),
            ("active", lambda s: _yes(s.active)),
            ("type", lambda s: s.scenario_type or ""),
            ("triggers", lambda s: _count(s.triggers)),
            ("actions", lambda s: _count(s.actions)),
            ("executions", _executions),
        ),
    ),
    Listing(
        "folders",
        "Folders of contacts (their ids are what --folder takes).",
        "folders",
        _folders,
        (
            ("id", lambda f: f.id),
            ("name", lambda f: f.name or ""),
            ("color", lambda f: f.color or ""),
            ("contacts", lambda f: _optional(f.contacts_count)),
        ),
    ),
    Listing(
        "campaigns",
        "Campaigns: DM sequences sent once to folders and segments.",
        "campaigns",
        _campaigns,
        (
            ("id", lambda c: c.id),
            ("title", lambda c: c.title or ""),
            ("status", lambda c: c.status or ""),
            ("actions", lambda c: _count(c.actions)),
            ("rules", lambda c: _count(c.campaign_rules)),
            ("campaign folder", lambda c: _optional(c.campaign_folder_id)),
        ),
        (
            click.Option(
                ["--status"], help="Only campaigns in this status (draft, running, completed…)."
            ),
            click.Option(["--search"], help="Only campaigns whose title matches this text."),
        ),
    ),
    Listing(
        "segments",
        "Segments: saved contact filters that campaigns can target.",
        "segments",
        _segments,
        (
            ("id", lambda s: s.id),
            ("title", lambda s: f"{s.emoji} {s.title or ''}" if s.emoji else s.title or ""),
            ("logic", lambda s: s.filter_logic),
            ("filters", lambda s: _count(s.contact_filters)),
            ("contacts", lambda s: _optional(s.contact_count)),
        ),
    ),
    Listing(
        "properties",
        "Custom contact properties (their slugs are the custom_properties keys).",
        "properties",
        _properties,
        (
            ("slug", lambda p: p.slug),
            ("title", lambda p: p.title or ""),
            ("type", lambda p: p.property_type),
            ("choices", lambda p: ", ".join(p.choices or ())),
            ("agent fills it", lambda p: _yes(p.agent_active)),
        ),
    ),
)
"""Every list command, in the order ``inro --help`` shows their groups."""


def _list_command(listing: Listing) -> click.Command:
    @pass_settings
    def command(settings: Settings, /, per_page: int, **filters: Any) -> None:
        wanted = {key: value for key, value in filters.items() if value is not None}

        async def work() -> list[Any]:
            async with settings.client() as inro:
                return [item async for item in listing.walk(inro, per_page, wanted)]

        items = run(work())

        def human() -> None:
            if not items:
                settings.stdout.print(f"no {listing.noun}", highlight=False, markup=False)
                return
            table = Table(title=f"{len(items):,} {listing.noun}")
            for title, _ in listing.columns:
                table.add_column(title)
            for item in items:
                table.add_row(*(escape(str(cell(item))) for _, cell in listing.columns))
            settings.stdout.print(table)

        settings.emit([msgspec.to_builtins(item) for item in items], human)

    per_page = click.Option(
        ["--per-page"],
        type=click.IntRange(1, DEFAULT_ITER_PER_PAGE),
        default=DEFAULT_ITER_PER_PAGE,
        show_default=True,
        help="Items per request; every page is read, this only sets how many requests.",
    )
    return click.Command(
        "list",
        callback=command,
        params=[per_page, *listing.options],
        help=f"Every one of the account's {listing.noun}, read page after page.",
    )


def add_list_commands(root: click.Group) -> None:
    """Give ``root`` a ``GROUP list`` command per listing, creating the groups it lacks."""
    for listing in LISTINGS:
        group = root.commands.get(listing.group)
        if group is None:
            group = click.Group(listing.group, help=listing.group_help)
            root.add_command(group)
        if not isinstance(group, click.Group):
            raise TypeError(f"inro {listing.group} is a command, not a group")
        group.add_command(_list_command(listing))
