"""``inro jobs``: named jobs (``--job NAME``), read through the journal reader, and resumed.

A command started with ``--job NAME`` stores its command line next to the journal
(``NAME.cli.json``), so ``inro jobs resume NAME`` reruns it under the current settings.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from inro_async.cli._common import Settings, pass_settings
from inro_async.errors import InvalidArgumentError, JobLockedError, JournalUnreadableError
from inro_async.jobs import (
    JournalSummary,
    delete_journal,
    find_journals,
    jobs_directory,
    journal_path,
    read_journal,
)

__all__ = ["jobs", "remember"]


@click.group()
def jobs() -> None:
    """List, resume, locate and delete named jobs (--job NAME)."""


def _sidecar(job: str, param_hint: str = "--job") -> Path:
    try:
        path = journal_path(job)
    except InvalidArgumentError as exc:
        raise click.BadParameter(exc.rule, param_hint=param_hint) from None
    return path.with_name(path.name.removesuffix(".sqlite3") + ".cli.json")


def remember(job: str | None, argv: list[str]) -> None:
    """Store the command line of a named job so ``inro jobs resume NAME`` can rerun it."""
    if job is None:
        return
    sidecar = _sidecar(job)
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    sidecar.write_text(json.dumps({"argv": [*argv, "--job", job]}), encoding="utf-8")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _row(summary: JournalSummary) -> dict[str, Any]:
    """One named job for ``jobs list``: its kind, item and chunk counts, and whether it resumes."""
    return {
        "name": summary.name,
        "kind": summary.kind,
        "total": summary.total,
        "created_at": _iso(summary.created_at),
        "updated_at": _iso(summary.updated_at),
        "items": {status.label: n for status, n in summary.item_counts.items()},
        "chunks": {str(status): n for status, n in summary.chunk_counts.items()},
        "resumable": _sidecar_exists(summary.path),
        "error": None,
    }


def _unreadable_row(path: Path, error: JournalUnreadableError) -> dict[str, Any]:
    """A file in the jobs directory that is not a readable journal: listed, not fatal."""
    return {
        "name": path.name.removesuffix(".sqlite3"),
        "kind": None,
        "total": None,
        "created_at": None,
        "updated_at": None,
        "items": {},
        "chunks": {},
        "resumable": False,
        "error": str(error),
    }


def _sidecar_exists(path: Path) -> bool:
    return path.with_name(path.name.removesuffix(".sqlite3") + ".cli.json").exists()


def _list_row(path: Path) -> dict[str, Any]:
    try:
        return _row(read_journal(path))
    except JournalUnreadableError as exc:
        return _unreadable_row(path, exc)


_COUNTED = (
    ("done", "done"),
    ("not_found", "not found"),
    ("skipped", "skipped"),
    ("failed", "failed"),
    ("unknown", "unknown"),
    ("pending", "pending"),
)
"""Item statuses as ``jobs list`` counts them (JSON key, words): together they make the total."""


def _outcomes(items: dict[str, int]) -> str:
    """``44 done · 1 not found · 6 skipped``: every status with items, so they add up."""
    parts = [f"{items[key]:,} {words}" for key, words in _COUNTED if items.get(key)]
    return " · ".join(parts) or "-"


@jobs.command("list")
@pass_settings
def jobs_list(settings: Settings) -> None:
    """Named jobs and how far each got; a damaged journal is listed as unreadable."""
    directory = jobs_directory()
    rows = [_list_row(path) for path in find_journals(directory)]

    def human() -> None:
        if not rows:
            settings.stdout.print(f"no named jobs in {directory}", highlight=False, markup=False)
            return
        # One "items" cell per job, its counts adding up to the total, keeps the table inside
        # 80 columns; --json has every count under its own key.
        table = Table(title=escape(f"Jobs in {directory}"), box=box.SIMPLE_HEAD)
        table.add_column("name", overflow="fold")
        table.add_column("kind")
        table.add_column("total", justify="right")
        table.add_column("items")
        table.add_column("created")
        for row in rows:
            if row["error"] is not None:
                table.add_row(escape(row["name"]), "unreadable", "-", "-", "-")
                continue
            table.add_row(
                escape(row["name"]),
                row["kind"],
                f"{row['total']:,}",
                _outcomes(row["items"]),
                row["created_at"][:16].replace("T", " "),
            )
        settings.stdout.print(table)
        for row in rows:
            if row["error"] is not None:
                settings.stdout.print(
                    f"{row['name']}: {row['error']} (inro jobs delete {shlex.quote(row['name'])})",
                    highlight=False,
                    markup=False,
                )

    settings.emit(rows, human)


@jobs.command("resume")
@click.argument("name")
@click.option("--resend-unknown", is_flag=True, help="Also resend chunks whose outcome is unknown.")
@click.pass_context
def jobs_resume(ctx: click.Context, name: str, resend_unknown: bool) -> None:
    """Rerun a named job's command; what finished is skipped."""
    sidecar = _sidecar(name, param_hint="NAME")
    if not sidecar.exists():
        raise click.UsageError(
            f"no resumable job {name!r} (started from the CLI with --job) in {sidecar.parent}"
        )
    argv: list[str] = json.loads(sidecar.read_text(encoding="utf-8"))["argv"]
    try:
        read_journal(name)
    except JournalUnreadableError as exc:
        # Rerun without its journal, the job would start over and send everything again.
        raise click.ClickException(
            f"job {name!r} cannot be resumed: {exc}. Without its journal a rerun starts over "
            "and may send twice what went before; to start over on purpose: "
            f"inro {shlex.join(argv)}"
        ) from None
    if resend_unknown and argv[:2] != ["contacts", "update"]:
        argv.append("--resend-unknown")
    settings: Settings = ctx.obj
    settings.info(f"resuming {name}: inro {shlex.join(argv)}")
    # Run the stored command under this invocation's settings (token, URL, --json) rather than
    # rebuilding a command line: the token must never be put on an argv.
    root = ctx.find_root()
    group = root.command
    assert isinstance(group, click.Group)
    command_name, command, rest = group.resolve_command(root, argv)
    if command is None or command_name is None:
        raise click.UsageError(f"job {name!r} stored an unknown command: {shlex.join(argv)}")
    with command.make_context(command_name, rest, parent=root) as sub:
        command.invoke(sub)


@jobs.command("path")
@click.argument("name")
@pass_settings
def jobs_path(settings: Settings, name: str) -> None:
    """Print where the journal of job NAME is (exit 1, saying so, when there is none yet)."""
    path = _journal(name)
    payload = {"name": name, "path": str(path), "exists": path.exists()}
    settings.emit(payload, lambda: click.echo(str(path)))
    if not path.exists():
        click.echo(f"no journal for job {name!r} yet: a run with --job {name} writes it", err=True)
        raise SystemExit(1)


@jobs.command("delete")
@click.argument("name")
@pass_settings
def jobs_delete(settings: Settings, name: str) -> None:
    """Delete job NAME's journal (never one a running job holds), saying what was deleted.

    Its finished items are forgotten: a rerun with --job NAME starts over.
    """
    path = _journal(name)
    sidecar = _sidecar(name, param_hint="NAME")
    deleted: list[Path] = []
    try:
        deleted = delete_journal(path)
    except JobLockedError as exc:
        raise click.ClickException(f"job {name!r} is running: {exc}; nothing was deleted") from None
    except JournalUnreadableError:
        if not sidecar.exists():
            raise click.UsageError(f"no job {name!r} in {path.parent}") from None
    if sidecar.exists():
        sidecar.unlink()
        deleted.append(sidecar)
    files = [str(file) for file in deleted]

    def human() -> None:
        settings.stdout.print(f"deleted job {name!r}:", highlight=False, markup=False)
        for file in files:
            settings.stdout.print(f"  {file}", highlight=False, markup=False)

    settings.emit({"name": name, "deleted": files}, human)


def _journal(name: str) -> Path:
    try:
        return journal_path(name)
    except InvalidArgumentError as exc:
        raise click.BadParameter(exc.rule, param_hint="NAME") from None
