"""What every command shares: the token, output (bars on a terminal, lines elsewhere), exit codes.

Exit codes: 0 everything done; 1 not everything done: some items failed or are unknown (written
to files the output names), or the API refused the command as a whole or could not be reached
before any item had an outcome of its own (one ``Error:`` line, no file); 2 bad usage or a bad
input file (nothing was sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import click
import msgspec
from rich.console import Console

from inro_async._logging import configure_logging
from inro_async.client import Client
from inro_async.errors import (
    AuthenticationError,
    InroError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from inro_async.governor._base import Quota
from inro_async.jobs import Job, JobReport, ProgressEvent, RichProgress

__all__ = [
    "EXIT_FAILED_ITEMS",
    "EXIT_OK",
    "EXIT_USAGE",
    "Settings",
    "apply_verbosity",
    "finish_job",
    "pass_settings",
    "progress_for",
    "run",
]

EXIT_OK = 0
EXIT_FAILED_ITEMS = 1
EXIT_USAGE = 2

T = TypeVar("T")


def apply_verbosity(verbose: int) -> None:
    """``-v`` given ``verbose`` times: the SDK's log lines on stderr (1: info, 2+: debug)."""
    if verbose:
        configure_logging(logging.DEBUG if verbose > 1 else logging.INFO)


@dataclass
class Settings:
    """Options of the ``inro`` group, handed to every command."""

    token: str | None
    base_url: str | None
    json: bool
    quiet: bool
    quotas: tuple[Quota, ...] = ()
    """The client's quotas (``--quota``); empty: Inrō's production quotas."""
    verbose: int = 0
    """``-v`` given this many times: 1 logs the SDK at INFO, 2 or more at DEBUG (stderr)."""
    stdout: Console = field(default_factory=lambda: Console(soft_wrap=True))
    stderr: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))

    def __repr__(self) -> str:  # never show the token
        quotas = ", ".join(map(str, self.quotas)) or "default"
        return (
            f"Settings(base_url={self.base_url!r}, json={self.json}, quotas={quotas}, token='***')"
        )

    def client(self, **kwargs: Any) -> Client:
        """A client for this invocation (token from --token or INRO_API_TOKEN)."""
        if not (self.token or os.environ.get("INRO_API_TOKEN") or "").strip():
            raise click.UsageError(
                "no API token: pass --token or set INRO_API_TOKEN "
                "(Integrations & API → Private API in the Inrō dashboard)"
            )
        if self.quotas:
            kwargs.setdefault("quotas", self.quotas)
        client = Client(self.token, base_url=self.base_url, **kwargs)
        apply_verbosity(self.verbose)  # after Client(), which applies INRO_LOG: the flag wins
        return client

    @property
    def interactive(self) -> bool:
        """Whether progress bars can be drawn (stderr is a terminal and not --json/--quiet)."""
        return self.stderr.is_terminal and not self.json and not self.quiet

    def info(self, message: str) -> None:
        """A status line on stderr (silent with --quiet)."""
        if not self.quiet:
            self.stderr.print(message, highlight=False, markup=False)

    def emit(self, payload: Any, human: Callable[[], None]) -> None:
        """The command's result: JSON on stdout with --json, else the human rendering."""
        if self.json:
            click.echo(msgspec.json.encode(payload).decode())
        else:
            human()


pass_settings = click.make_pass_decorator(Settings)
"""Inject the group's ``Settings`` into a command."""


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, turning SDK errors into clean messages and exit codes."""
    try:
        return asyncio.run(coroutine)
    except (InvalidArgumentError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    except (AuthenticationError, PermissionDeniedError) as exc:
        raise click.ClickException(str(exc)) from None
    except InroError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("interrupted; a named job (--job) resumes where it stopped", err=True)
        raise SystemExit(130) from None


class _PlainProgress:
    """Progress as log lines, for cron and pipes: one line every ``interval`` seconds."""

    def __init__(self, settings: Settings, interval: float = 5.0) -> None:
        self._settings = settings
        self._interval = interval
        self._last: dict[str, float] = {}

    def __call__(self, event: ProgressEvent) -> None:
        key = f"{event.operation}:{event.job}"
        now = time.monotonic()
        final = event.kind in ("finished", "waiting", "paused")
        if final or now - self._last.get(key, 0.0) >= self._interval:
            self._last[key] = now
            self._settings.info(str(event))


@contextlib.contextmanager
def progress_for(settings: Settings) -> Iterator[Callable[[ProgressEvent], None] | None]:
    """A progress callback: rich bars on a terminal, plain lines otherwise, none with --quiet."""
    if settings.quiet or settings.json:
        yield None
    elif settings.interactive:
        with RichProgress(settings.stderr) as bars:
            yield bars
    else:
        yield _PlainProgress(settings)


def _leftovers_path(name: str, kind: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(f"{name}-{kind}-{stamp}.jsonl")


def _jsonable(item: Any) -> Any:
    if hasattr(item, "as_dict"):
        return item.as_dict()
    if hasattr(item, "as_entry"):
        return item.as_entry()
    return msgspec.to_builtins(item)


def _write_items(items: list[Any], name: str, kind: str) -> str | None:
    """Write ``items`` as JSON Lines to ``NAME-KIND-STAMP.jsonl``; its path, or None if empty."""
    if not items:
        return None
    path = _leftovers_path(name, kind)
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(_jsonable(item)) + "\n")
    return str(path)


def _unknown_advice(report: JobReport[Any], *, retry_flag: str, idempotent: bool) -> str:
    """What to do with items whose outcome is unknown (they were sent; the answer was lost)."""
    if idempotent:
        return (
            "they may already have been applied; applying them again changes nothing, "
            f"so feed the file back with {retry_flag} to make sure"
        )
    advice = "they may already have been processed: check them before sending anything again"
    if report.job:
        return (
            f"{advice}; to resend them anyway (may deliver twice): "
            f"inro jobs resume {shlex.quote(report.job)} --resend-unknown"
        )
    return f"{advice}, then send the ones that did not arrive with {retry_flag}"


class Leftovers(NamedTuple):
    """The files a job's items were written to (``None``: no such item), and lines saying so."""

    failed: str | None
    unknown: str | None
    not_found: str | None
    lines: list[str]


def _save_leftovers(
    report: JobReport[Any], *, name: str, retry_flag: str, idempotent: bool
) -> Leftovers:
    """Write the failed, unknown and not-found items to a file each; where, and lines saying so."""
    failed = report.failed_items()
    unknown = report.unknown_items()
    not_found = report.not_found_items()
    failed_file = _write_items(failed, report.job or name, "failed")
    unknown_file = _write_items(unknown, report.job or name, "unknown")
    not_found_file = _write_items(not_found, report.job or name, "not-found")
    lines: list[str] = []
    if failed_file:
        lines.append(
            f"{len(failed):,} failed items written to {failed_file} "
            f"(they were not processed: feed it back with {retry_flag} to retry them)"
        )
    if unknown_file:
        advice = _unknown_advice(report, retry_flag=retry_flag, idempotent=idempotent)
        lines.append(
            f"{len(unknown):,} items with an unknown outcome written to {unknown_file} "
            f"(they were sent, but no answer said what became of them; {advice})"
        )
    if not_found_file:
        lines.append(
            f"{len(not_found):,} items matched no contact, written to {not_found_file} "
            "(nothing was done for them: check the identifiers)"
        )
    return Leftovers(failed_file, unknown_file, not_found_file, lines)


def finish_job(
    settings: Settings,
    report: JobReport[Any],
    *,
    name: str,
    retry_flag: str = "--to",
    idempotent: bool = False,
) -> int:
    """Print a report, write failed, unknown and not-found items to a file each; the exit code.

    Failed items were certainly not processed, so their file can be fed back with
    ``retry_flag``. Unknown ones were sent and their answer lost: unless the operation is
    ``idempotent``, resending them may act twice, so they get a file of their own. Not-found
    ones matched no contact (no failure: the exit code does not count them).
    """
    saved = _save_leftovers(report, name=name, retry_flag=retry_flag, idempotent=idempotent)
    summary = {
        "operation": report.operation,
        "job": report.job,
        "status": str(report.status),
        "total": report.total,
        "done": report.done,
        "failed": report.failed,
        "not_found": report.not_found,
        "skipped": report.skipped,
        "unknown": report.unknown,
        "requests": report.requests,
        "throttled": report.throttled,
        "waited": round(report.waited, 3),
        "elapsed": round(report.elapsed, 3),
        "errors": dict(report.errors()),
        "failed_items_file": saved.failed,
        "unknown_items_file": saved.unknown,
        "not_found_items_file": saved.not_found,
    }

    def human() -> None:
        # The report's own hints name Python arguments; the lines below name the CLI's flags.
        settings.stdout.print(report.summary(hints=False), highlight=False, markup=False)
        for line in saved.lines:
            settings.stdout.print(line, highlight=False, markup=False)

    settings.emit(summary, human)
    return EXIT_FAILED_ITEMS if saved.failed or saved.unknown else EXIT_OK


async def await_job(
    job: Job[JobReport[Any]], *, name: str, retry_flag: str = "--to", idempotent: bool = False
) -> JobReport[Any]:
    """Await a fan-out job; when an API error stops it, first save what it leaves, on stderr.

    The error still ends the command (one ``Error:`` line, exit 1), but the items of chunks
    already sent whose answer never came are not lost from sight: they go to the unknown file,
    as they would at the end of a job. A job the API refused as a whole (a bad token, a missing
    scenario) before any item had an outcome of its own leaves nothing to list: no file.
    """
    try:
        return await job
    except InroError:
        report = job.report
        if report is not None and not report.refused:
            saved = _save_leftovers(report, name=name, retry_flag=retry_flag, idempotent=idempotent)
            for line in saved.lines:
                click.echo(line, err=True)
        raise


async def with_client(settings: Settings, work: Callable[[Client], Awaitable[T]]) -> T:
    """Open a client, run ``work`` with it, close it."""
    async with settings.client() as client:
        return await work(client)


def fail_usage(message: str) -> None:
    """Exit 2 with a message (bad input: nothing was sent)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)
