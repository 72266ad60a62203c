"""A rich progress bar for job events: ``on_progress=RichProgress()``."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from inro_async.jobs._progress import ProgressEvent
from inro_async.jobs._report import format_duration

__all__ = ["RichProgress", "describe_event"]


def describe_event(event: ProgressEvent) -> str:
    """The status text beside the bar: rate, problems, ETA or the quota wait."""
    parts = [f"{event.rate:,.0f}/s"]
    if event.failed:
        parts.append(f"[red]{event.failed:,} failed[/]")
    if event.unknown:
        parts.append(f"[yellow]{event.unknown:,} unknown[/]")
    if event.not_found:
        parts.append(f"{event.not_found:,} not found")
    if event.kind == "waiting" and event.waiting_until is not None:
        parts.append(
            f"[cyan]waiting until {event.waiting_until:%Y-%m-%d %H:%M:%S %Z} ({event.quota})[/]"
        )
    elif event.kind == "paused" and event.waiting_until is not None:
        parts.append(f"[cyan]paused; quota frees {event.waiting_until:%Y-%m-%d %H:%M %Z}[/]")
    elif event.kind == "finished":
        parts.append(event.status or "finished")
    elif event.eta is not None:
        parts.append(f"ETA {format_duration(event.eta)}")
    return " · ".join(parts)


class RichProgress:
    """A progress callback drawing one bar per job: ``on_progress=RichProgress()``.

    It starts drawing on the first event and stops once every job it saw has finished; use it as
    a context manager to be sure it stops when a job raises.
    """

    def __init__(self, console: Console | None = None, *, transient: bool = False) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=transient,
        )
        self._tasks: dict[str, TaskID] = {}
        self._finished: set[str] = set()
        self._started = False

    def __enter__(self) -> RichProgress:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _start(self) -> None:
        if not self._started:
            self._progress.start()
            self._started = True

    def stop(self) -> None:
        """Stop drawing."""
        if self._started:
            self._progress.stop()
            self._started = False

    def __call__(self, event: ProgressEvent) -> None:
        """Update the bar of the event's job."""
        self._start()
        key = f"{event.operation}:{event.job}"
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = self._progress.add_task(
                event.label, total=event.total or None, status=""
            )
        self._progress.update(
            task,
            completed=event.finished,
            total=event.total or None,
            status=describe_event(event),
        )
        if event.kind == "finished":
            self._finished.add(key)
            if self._finished >= self._tasks.keys():
                self.stop()
