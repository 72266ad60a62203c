"""``inro sync contacts --to …`` and ``inro sync events --from …``: the contact mirror."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import datetime, timedelta
from typing import Any

import click
import msgspec

from inro_async.cli._common import Settings, fail_usage, pass_settings, run
from inro_async.mirror import ContactMirror, RefreshReport

__all__ = ["sync"]

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_every(text: str) -> timedelta:
    """``30s``, ``5m``, ``2h`` or ``1d`` as a ``timedelta``; exit 2 otherwise."""
    match = _DURATION.match(text.strip())
    if match is None or float(match[1]) <= 0:
        fail_usage(f"--every: expected a duration like 30s, 5m, 1h or 1d, got {text!r}")
        raise AssertionError  # unreachable: fail_usage exits
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail_usage(f"--since: expected an ISO-8601 time like 2026-12-01T08:00:00Z, got {text!r}")
        raise AssertionError from None
    return moment if moment.tzinfo else moment.astimezone()


@click.group("sync")
def sync() -> None:
    """Keep a database (SQLite file or postgresql:// URL) in sync with Inrō's contacts."""


@sync.command("contacts")
@click.option("--to", "where", required=True, help="A SQLite file, or a postgresql:// URL.")
@click.option("--every", "every", help="Keep running, refreshing this often (e.g. 5m).")
@click.option("--full", is_flag=True, help="Reconcile with a full walk (finds deletions).")
@pass_settings
def sync_contacts(settings: Settings, where: str, every: str | None, full: bool) -> None:
    """Mirror every contact into a database and record change events."""
    interval = parse_every(every) if every is not None else None

    async def work() -> None:
        async with settings.client() as inro, ContactMirror(where) as mirror:
            force = full
            while True:
                report = await mirror.refresh(inro, full=force)
                _show(settings, report, mirror)
                if interval is None:
                    return
                force = False
                await asyncio.sleep(interval.total_seconds())

    run(work())


def _show(settings: Settings, report: RefreshReport, mirror: ContactMirror) -> None:
    payload = {**dataclasses.asdict(report), "mirror": str(mirror)}

    def human() -> None:
        how = f"full walk: {report.reason}" if report.full else "incremental"
        settings.stdout.print(
            f"{report.created} created, {report.updated} updated, {report.deleted} deleted "
            f"({how}; {report.requests} requests, {report.elapsed:.1f}s)",
            highlight=False,
            markup=False,
        )

    settings.emit(payload, human)


@sync.command("events")
@click.option("--from", "where", required=True, help="The mirror: a SQLite file or a URL.")
@click.option("--after", help="Only events after this event id.")
@click.option("--since", help="Events from this time on (ISO-8601).")
@click.option("--follow", is_flag=True, help="Then wait for new events (Ctrl-C to stop).")
def sync_events(where: str, after: str | None, since: str | None, follow: bool) -> None:
    """Print the mirror's change events as JSON Lines (CloudEvents 1.0), oldest first."""
    if after is not None and since is not None:
        fail_usage("give --after or --since, not both")
    moment = _since(since) if since is not None else None
    encode = msgspec.json.Encoder().encode

    async def work() -> None:
        async with ContactMirror(where) as mirror:
            events: Any = mirror.events(after=after, since=moment, follow=follow)
            async for event in events:
                click.echo(encode(event).decode())

    run(work())
