"""The ``inro`` command: argument parsing and rendering only; the work is the SDK's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import click
import msgspec
from rich.markup import escape
from rich.table import Table

from inro_async.cli._common import (
    EXIT_USAGE,
    Settings,
    apply_verbosity,
    await_job,
    fail_usage,
    finish_job,
    pass_settings,
    progress_for,
    run,
)
from inro_async.cli._global_options import share_global_options
from inro_async.cli._input import InputFileError, read_recipients, read_updates
from inro_async.cli.fake_server import parse_quota
from inro_async.cli.named_jobs import jobs, remember
from inro_async.cli.sync import sync
from inro_async.errors import InvalidArgumentError
from inro_async.governor._base import Quota
from inro_async.jobs import export_contacts
from inro_async.jobs.export import ExportFormat

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--token",
    envvar="INRO_API_TOKEN",
    show_envvar=True,
    help="API token (default: $INRO_API_TOKEN). Never printed.",
)
@click.option(
    "--base-url",
    envvar="INRO_BASE_URL",
    show_envvar=True,
    help="API root, e.g. a fake server's http://127.0.0.1:8080/api/v1.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--quota",
    "quotas",
    multiple=True,
    metavar="LIMIT/SECONDS",
    callback=lambda ctx, param, texts: tuple(parse_quota(text) for text in texts),
    help="The quotas to pace requests by, e.g. --quota 20/1 --quota 1000/60 (repeatable; "
    "default: Inrō's 20/1, 1000/60, 10000/3600, 100000/86400). Give the server's own when it "
    "allows less, e.g. a fake server started with --quota.",
)
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="Log the SDK's requests on stderr: -v info, -vv debug (every request, its status and "
    "time; the token and query strings are never shown). Same as INRO_LOG=info|debug.",
)
@click.version_option(package_name="inro-async", prog_name="inro")
@click.pass_context
def main(
    ctx: click.Context,
    token: str | None,
    base_url: str | None,
    as_json: bool,
    quiet: bool,
    quotas: tuple[Quota, ...],
    verbose: int,
) -> None:
    """Inrō from the terminal: export, update, message and trigger at the quota's pace."""
    ctx.obj = Settings(token=token, base_url=base_url, json=as_json, quiet=quiet, quotas=quotas)
    ctx.obj.verbose = verbose
    apply_verbosity(verbose)  # now: demo and fake-server make their clients themselves


# -- organization and quota ------------------------------------------------------------------


@main.command()
@pass_settings
def me(settings: Settings) -> None:
    """Show the organization that owns the token."""

    async def work() -> Any:
        async with settings.client() as inro:
            return await inro.me()

    org = run(work())

    def human() -> None:
        table = Table(show_header=False, box=None)
        for key, value in msgspec.structs.asdict(org).items():
            table.add_row(key, escape("" if value is None else str(value)))
        settings.stdout.print(table)

    settings.emit(org, human)


@main.command()
@pass_settings
def quota(settings: Settings) -> None:
    """Show the quotas, what is used and when a slot frees (asks the API once)."""

    async def work() -> tuple[list[Any], dict[str, str]]:
        async with settings.client() as inro:
            response = await inro.request("GET", "/me")
            headers = {
                k: v for k, v in response.headers.items() if k.lower().startswith("x-ratelimit")
            }
            return await inro.governor.snapshot(), headers

    usage, headers = run(work())
    rows = [
        {
            "quota": str(item.quota),
            "limit": item.quota.limit,
            "period_seconds": item.quota.period,
            "used_here": item.used,
            "free_in_seconds": round(item.free_in, 3),
        }
        for item in usage
    ]

    def human() -> None:
        table = Table(title="Quotas (this process's view)")
        for column in ("quota", "used here", "frees in"):
            table.add_column(column)
        for row in rows:
            table.add_row(row["quota"], str(row["used_here"]), f"{row['free_in_seconds']}s")
        settings.stdout.print(table)
        if headers:
            server = ", ".join(f"{k}: {v}" for k, v in sorted(headers.items()))
            settings.stdout.print(f"server says: {server}", highlight=False, markup=False)

    settings.emit({"quotas": rows, "server": headers}, human)


# -- contacts --------------------------------------------------------------------------------


@main.group()
def contacts() -> None:
    """Export and update contacts."""


@contacts.command("export")
@click.option("--search", "query", help="Only contacts matching this text.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    help="Output format (default: from the file name).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (.jsonl or .csv); its directory must exist.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=8,
    show_default=True,
    help="Pages read at once (the quota paces them all the same).",
)
@pass_settings
def contacts_export(
    settings: Settings, query: str | None, fmt: str | None, out: Path, concurrency: int
) -> None:
    """Write every contact (or a search) to JSON Lines or CSV, at exactly the path given."""
    _check_output_directory(out)

    async def work() -> Any:
        async with settings.client() as inro:
            with progress_for(settings) as progress:
                try:
                    job = export_contacts(
                        inro,
                        out,
                        format=cast(ExportFormat | None, fmt),
                        query=query,
                        concurrency=concurrency,
                        on_progress=progress,
                    )
                except InvalidArgumentError as exc:
                    if exc.argument != "format":
                        raise
                    raise click.UsageError(
                        f"cannot tell the format from {out.name!r}: "
                        "name it .jsonl or .csv, or pass --format jsonl|csv"
                    ) from None
                return await job

    report = run(work())
    settings.emit(
        {
            "path": report.path,
            "format": report.format,
            "contacts": report.contacts,
            "total": report.total,
            "total_at_start": report.total_at_start,
            "snapshot": report.snapshot,
            "repeated": report.repeated,
            "pages": report.pages,
            "elapsed": round(report.elapsed, 3),
        },
        lambda: settings.stdout.print(str(report), highlight=False, markup=False),
    )


def _check_output_directory(out: Path) -> None:
    """Refuse a path whose directory does not exist, as ``cp`` does, rather than create it."""
    parent = out.parent
    if not parent.exists():
        fail_usage(f"cannot write {out}: no such directory {parent} (create it first)")
    elif not parent.is_dir():
        fail_usage(f"cannot write {out}: {parent} is not a directory")


@contacts.command("update")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV (id|username|email + columns to set) or JSON Lines of bulk entries.",
)
@click.option("--job", help="Journal name: rerun with the same name to resume.")
@pass_settings
def contacts_update(settings: Settings, source: Path, job: str | None) -> None:
    """Apply a file of contact updates (bulk, 1,000 per call)."""
    updates = _read(read_updates, source)
    remember(job, ["contacts", "update", "--from", str(source.resolve())])

    async def work() -> Any:
        async with settings.client() as inro:
            with progress_for(settings) as progress:
                return await await_job(
                    inro.contacts.update_many(updates, job=job, on_progress=progress),
                    name="contacts-update",
                    retry_flag="--from",
                    idempotent=True,
                )

    sys.exit(
        finish_job(
            settings, run(work()), name="contacts-update", retry_flag="--from", idempotent=True
        )
    )


# -- messages --------------------------------------------------------------------------------


@main.group()
def messages() -> None:
    """Send direct messages."""


@messages.command("send")
@click.option(
    "--to",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Recipients: one id/username/email per line, a CSV, or JSON Lines.",
)
@click.option("--folder", "folder_id", type=int, help="Send to every contact of this folder.")
@click.option("--text", help="The message text (a caption for media).")
@click.option("--image", help="Image URL.")
@click.option("--video", help="Video URL.")
@click.option("--audio", help="Audio URL.")
@click.option("--media-id", type=int, help="Share one of the account's posts (GET /medias).")
@click.option("--job", help="Journal name: rerun with the same name to resume.")
@click.option(
    "--resend-unknown",
    is_flag=True,
    help="Resend chunks whose outcome is unknown (may deliver twice).",
)
@pass_settings
def messages_send(
    settings: Settings,
    source: Path | None,
    folder_id: int | None,
    text: str | None,
    image: str | None,
    video: str | None,
    audio: str | None,
    media_id: int | None,
    job: str | None,
    resend_unknown: bool,
) -> None:
    """Message many contacts, 1,000 per call, at the quota's pace."""
    if (source is None) == (folder_id is None):
        raise click.UsageError("pass exactly one of --to FILE or --folder ID")
    recipients: list[Any] | None = _read(read_recipients, source) if source else None
    argv = ["messages", "send"]
    argv += ["--to", str(source.resolve())] if source else ["--folder", str(folder_id)]
    for flag, value in (
        ("--text", text),
        ("--image", image),
        ("--video", video),
        ("--audio", audio),
        ("--media-id", media_id),
    ):
        if value is not None:
            argv += [flag, str(value)]
    remember(job, argv)

    async def work() -> Any:
        async with settings.client() as inro:
            targets: list[Any] = recipients or []
            if folder_id is not None:
                targets = [c.id async for c in inro.folders.iter_contacts(folder_id)]
                if not targets:
                    raise click.UsageError(f"folder {folder_id} has no contacts")
            with progress_for(settings) as progress:
                sending = inro.messages.send_many(
                    targets,
                    text=text,
                    image=image,
                    video=video,
                    audio=audio,
                    media_id=media_id,
                    job=job,
                    resend_unknown=resend_unknown,
                    on_progress=progress,
                )
                return await await_job(sending, name="messages-send")

    sys.exit(finish_job(settings, run(work()), name="messages-send"))


# -- scenarios -------------------------------------------------------------------------------


@main.group()
def scenarios() -> None:
    """List and trigger scenarios."""


def _data_pairs(pairs: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint="--data")
        data[key] = value
    return data


@scenarios.command("trigger")
@click.argument("scenario_id", type=int)
@click.option(
    "--to",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Contacts: one id/username/email per line, a CSV, or JSON Lines.",
)
@click.option(
    "--data", "data_pairs", multiple=True, help="key=value, available as {{trigger.key}}."
)
@click.option("--job", help="Journal name: rerun with the same name to resume.")
@click.option("--resend-unknown", is_flag=True, help="Retrigger chunks whose outcome is unknown.")
@pass_settings
def scenarios_trigger(
    settings: Settings,
    scenario_id: int,
    source: Path,
    data_pairs: tuple[str, ...],
    job: str | None,
    resend_unknown: bool,
) -> None:
    """Trigger a scenario for every contact of a file."""
    data = _data_pairs(data_pairs)
    contacts_list = _read(read_recipients, source)
    argv = ["scenarios", "trigger", str(scenario_id), "--to", str(source.resolve())]
    for pair in data_pairs:
        argv += ["--data", pair]
    remember(job, argv)

    async def work() -> Any:
        async with settings.client() as inro:
            with progress_for(settings) as progress:
                triggering = inro.scenarios.trigger_many(
                    scenario_id,
                    contacts_list,
                    data=data or None,
                    job=job,
                    resend_unknown=resend_unknown,
                    on_progress=progress,
                )
                return await await_job(triggering, name="scenarios-trigger")

    sys.exit(finish_job(settings, run(work()), name="scenarios-trigger"))


def _read(reader: Any, path: Path) -> Any:
    try:
        return reader(path)
    except InputFileError as exc:
        click.echo(f"Error: {exc} (nothing was sent)", err=True)
        sys.exit(EXIT_USAGE)


def _register_commands() -> None:
    """Commands that live in their own modules."""
    from inro_async.cli.demo import demo
    from inro_async.cli.fake_server import fake_server
    from inro_async.cli.listings import add_list_commands

    main.add_command(demo)
    main.add_command(fake_server)
    main.add_command(jobs)
    main.add_command(sync)
    add_list_commands(main)  # scenarios list, folders list, campaigns list…


_register_commands()
share_global_options(main)  # `inro me --token x` as well as `inro --token x me`
