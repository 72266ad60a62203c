"""What a job did: one outcome per distinct input item, counts, timing, and the items to retry.

Outcomes are kept compactly (one byte per item plus a sparse map of reasons, the ``Tally`` of
``jobs/_tally.py``) so a 100,000-item report costs about 100 KB, not 100,000 objects.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from inro_async._html import table
from inro_async.jobs._items import ItemStatus, Outcome
from inro_async.jobs._tally import ORDER as _ORDER
from inro_async.jobs._tally import Tally

__all__ = ["ExportReport", "JobReport", "JobStatus", "format_duration"]

T = TypeVar("T")


class JobStatus(StrEnum):
    """How a run ended."""

    COMPLETED = "completed"
    """Every item has an outcome (some may be failed or unknown)."""
    PAUSED = "paused"
    """Stopped because the quota was spent for longer than ``stop_when_blocked_over``."""
    STOPPED = "stopped"
    """``job.stop()`` was called; in-flight chunks were finished first."""
    CANCELLED = "cancelled"
    """The task running the job was cancelled (Ctrl-C)."""
    ABORTED = "aborted"
    """An error that no chunk could get past (bad token, inactive scenario…)."""


def format_duration(seconds: float) -> str:
    """``0.42 s``, ``12.3 s``, ``4m 05s``, ``3h 02m``, ``1d 02h``."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


@dataclass(frozen=True, eq=False)
class JobReport(Generic[T]):
    """The outcome of one run of a fan-out job; ``print(report)`` gives a readable summary.

    Every distinct input item has exactly one status (``done``, ``failed``, ``not_found``,
    ``skipped``, ``unknown``, or ``pending`` when the run ended early), and
    ``failed_items()`` / ``unknown_items()`` hand the items back in the form they were given,
    ready to be passed to a new job.
    """

    operation: str
    """``send_many``, ``update_many`` or ``trigger_many``."""
    job: str | None
    """The job's name or journal path (``None`` when not journaled)."""
    status: JobStatus
    total: int
    """Distinct items (input items minus ``duplicates``)."""
    duplicates: int
    """Input items dropped because they repeated an earlier one."""
    started_at: datetime
    elapsed: float
    """Seconds this run took."""
    requests: int
    """Requests this run sent (chunks, retries, 429 repeats, batch-task polls)."""
    counts: Mapping[ItemStatus, int]
    earlier: Mapping[ItemStatus, int] = field(default_factory=dict)
    """Outcomes earlier runs recorded for the items this run skipped."""
    carried_over: int = 0
    """Items reported ``unknown`` or ``failed`` as an earlier run left them, not sent this run."""
    resume_at: datetime | None = None
    """For a paused job: when the quota frees again."""
    error: str | None = None
    """For an aborted job: the error that stopped it."""
    refused: bool = False
    """For an aborted job: the API refused the job as a whole (a bad token, a missing scenario…)
    or could not be reached at all, before any item had an outcome of its own. The items it
    tried failed with ``error`` alone; nothing was done, so there is nothing to list by item."""
    throttled: int = 0
    """This run's requests the server answered 429 (each had no effect and was sent again, but
    for one that ended its chunk as ``RateLimitError``)."""
    waited: float = 0.0
    """Seconds of this run during which a chunk was ready to go but held back by quota: waiting
    for a slot in the governor, for a 429 to be repeated, or out a spent quota. Counted once
    however many chunks waited together, so never more than ``elapsed``."""
    _items: Sequence[T] = field(default=(), repr=False)
    _statuses: bytes = field(default=b"", repr=False)
    _tally: Tally | None = field(default=None, repr=False)

    # -- counts ------------------------------------------------------------------------------

    def count(self, status: ItemStatus) -> int:
        """Items with this status."""
        return self.counts.get(status, 0)

    @property
    def done(self) -> int:
        """Items the API accepted in this run."""
        return self.count(ItemStatus.DONE)

    @property
    def failed(self) -> int:
        """Items whose call failed or that the API reported an error for."""
        return self.count(ItemStatus.FAILED)

    @property
    def not_found(self) -> int:
        """Items no contact matched."""
        return self.count(ItemStatus.NOT_FOUND)

    @property
    def skipped(self) -> int:
        """Items finished in an earlier run, or declined by the API (contact not active)."""
        return self.count(ItemStatus.SKIPPED)

    @property
    def unknown(self) -> int:
        """Items sent without a usable answer."""
        return self.count(ItemStatus.UNKNOWN)

    @property
    def pending(self) -> int:
        """Items not attempted in this run."""
        return self.count(ItemStatus.PENDING)

    @property
    def rate(self) -> float:
        """Items this run finished per second (items taken over from earlier runs not counted)."""
        finished = self.total - self.pending - self.count_earlier - self.carried_over
        return finished / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def count_earlier(self) -> int:
        """Items skipped because an earlier run finished them."""
        return sum(self.earlier.values())

    @property
    def ok(self) -> bool:
        """Completed with nothing failed, unknown or pending (not-found items are fine)."""
        return (
            self.status is JobStatus.COMPLETED
            and self.failed == 0
            and self.unknown == 0
            and self.pending == 0
        )

    # -- items -------------------------------------------------------------------------------

    def status_of(self, position: int) -> ItemStatus:
        """The status of the distinct item at ``position``."""
        return ItemStatus(chr(self._statuses[position]))

    def outcomes(self) -> Iterator[tuple[T, Outcome]]:
        """Every distinct item, in input order, with its outcome."""
        for position, item in enumerate(self._items):
            reason = self._tally.reason(position) if self._tally is not None else None
            yield item, Outcome(self.status_of(position), reason)

    def items(self, status: ItemStatus) -> list[T]:
        """The items with ``status``, as they were given."""
        code = ord(status.value)
        return [item for item, s in zip(self._items, self._statuses, strict=True) if s == code]

    def failed_items(self) -> list[T]:
        """Items to try again: failed in this run, in their input form."""
        return self.items(ItemStatus.FAILED)

    def unknown_items(self) -> list[T]:
        """Items sent without a usable answer: check before sending them again."""
        return self.items(ItemStatus.UNKNOWN)

    def not_found_items(self) -> list[T]:
        """Items no contact matched."""
        return self.items(ItemStatus.NOT_FOUND)

    def pending_items(self) -> list[T]:
        """Items this run did not get to."""
        return self.items(ItemStatus.PENDING)

    def errors(self) -> Counter[str]:
        """How many items each distinct error or API reason accounts for.

        Covers failed and unknown items and those the API skipped; items finished in earlier
        runs are not listed.
        """
        found: Counter[str] = Counter()
        for _, outcome in self.outcomes():
            if outcome.status in (ItemStatus.FAILED, ItemStatus.UNKNOWN):
                found[outcome.reason or outcome.status.label] += 1
            elif outcome.status is ItemStatus.SKIPPED and outcome.reason:
                found[outcome.reason] += 1
        return found

    # -- display -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        counts = ", ".join(f"{s.label}={self.count(s)}" for s in _ORDER if self.count(s))
        return (
            f"<JobReport {self.operation} {self.job or ''} {self.status.value}: "
            f"{self.total} items, {counts}>"
        ).replace("  ", " ")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """The report in a notebook: a table of outcomes, then the summary's other lines."""
        head, _, *rest = self.summary().splitlines()
        rows = [(s.label.replace("_", " "), self.count(s)) for s in _ORDER if self.count(s)]
        rows.append(("total", self.total))
        lines = "".join(f"<li>{html.escape(line.strip())}</li>" for line in rest)
        return table(("items", "count"), rows, caption=head) + (
            f"<ul>{lines}</ul>" if lines else ""
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text display: the summary, not the one-line repr."""
        printer.text(self.summary())

    def __rich__(self) -> Any:
        """``rich.print(report)``: the summary's first line, a table of outcomes, the rest."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        head, _, *rest = self.summary().splitlines()
        outcomes = Table("items", "count")
        for status in _ORDER:
            if self.count(status):
                outcomes.add_row(status.label.replace("_", " "), f"{self.count(status):,}")
        outcomes.add_row("total", f"{self.total:,}", style="bold")
        return Group(Text(head), outcomes, *(Text(line) for line in rest))

    def summary(self, *, hints: bool = True) -> str:
        """The readable summary ``str(report)`` gives; ``hints=False`` leaves out its Python advice.

        The hints name Python calls (``resend_unknown=True``, ``report.not_found_items()``); a
        program that gives its own advice (the ``inro`` command names its flags) turns them off.
        """
        name = f" {self.job!r}" if self.job else ""
        lines = [f"{self.operation}{name}: {self.status.value} in {format_duration(self.elapsed)}"]
        dupes = f" ({self.duplicates:,} duplicates dropped)" if self.duplicates else ""
        parts = " · ".join(
            f"{self.count(s):,} {s.label.replace('_', ' ')}" for s in _ORDER if self.count(s)
        )
        lines.append(f"  {self.total:,} items{dupes}: {parts or 'nothing to do'}")
        if self.earlier:
            earlier = ", ".join(
                f"{n:,} {s.label.replace('_', ' ')}" for s, n in self.earlier.items() if n
            )
            lines.append(f"  finished in earlier runs: {earlier}")
        requests = f"{self.requests:,} requests"
        if self.throttled:
            requests += f" ({self.throttled:,} answered 429)"
        figures = [requests, f"{self.rate:,.1f} items/s"]
        if self.waited >= 0.01:
            figures.append(f"{format_duration(self.waited)} waiting for quota")
        lines.append(f"  {' · '.join(figures)}")
        if self.status is JobStatus.PAUSED and self.resume_at is not None:
            lines.append(
                f"  paused: the quota frees at {self.resume_at:%Y-%m-%d %H:%M:%S %Z}; "
                "run the job again then to resume"
            )
        if self.error:
            lines.append(f"  aborted: {self.error}")
        for reason, n in self.errors().most_common(3):
            lines.append(f"  {n:,} × {reason}")
        if self.not_found:
            named = [_name(item) for item in self.not_found_items()[:NAMED]]
            more = self.not_found - len(named)
            listed = ", ".join(named)
            if more:
                listed += f" and {more:,} more" + (" (report.not_found_items())" if hints else "")
            lines.append(f"  {self.not_found:,} not found: {listed}")
        if self.unknown and hints:
            lines.append(
                "  unknown items were sent but no answer said what became of them; check them, "
                "then rerun with resend_unknown=True to send them again"
            )
        return "\n".join(lines)


NAMED = 3
"""Items ``str(report)`` names in a list (not-found recipients); ``report.items()`` has all."""


def _name(item: object) -> str:
    """An input item as a person reads it: ``42``, ``ana``, ``b@x.io`` (not a repr)."""
    for attribute in ("identifier", "value"):  # an UpdateEntry, then an Identifier
        inner = getattr(item, attribute, None)
        if inner is not None and not isinstance(item, Mapping | str):
            return _name(inner)
    if isinstance(item, Mapping):
        for kind in ("id", "username", "email"):
            if item.get(kind) is not None:
                return str(item[kind])
    contact_id = getattr(item, "id", None)
    if isinstance(contact_id, int) and not isinstance(item, int):
        return str(contact_id)
    return str(item)


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote, and how many contacts the server counted.

    An export that wrote fewer contacts than the server's last count fails (the walk raises a
    ``PaginationError``), except for the few a count read as the last page changed may be
    ahead by (``missing``, said in the summary). A list that changed during the export is no
    failure; ``changed`` and the summary say so.
    """

    path: str
    format: str
    """``jsonl`` or ``csv``."""
    contacts: int
    """Contacts written."""
    pages: int
    elapsed: float
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    total: int | None = None
    """Contacts the server counted at the end (the last page's ``X-Total``); ``None`` if unsaid."""
    total_at_start: int | None = None
    """Contacts the server counted at the start (the first page's ``X-Total``)."""
    steady: bool = True
    """Whether every page gave the same count."""
    repeated: int = 0
    """Rows left out because the page before had already given them (the pages shifted)."""
    changed_since_start: bool | None = False
    """Whether a contact was created, changed or deleted while the export read the pages
    (by a probe of the newest after the walk); ``None``: the server could not tell."""

    @property
    def rate(self) -> float:
        """Contacts written per second."""
        return self.contacts / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def missing(self) -> int:
        """Contacts the server's last count has beyond those written (0 when it sent none)."""
        return max(0, self.total - self.contacts) if self.total is not None else 0

    @property
    def changed(self) -> bool:
        """Whether the server's count changed between the first page and the last."""
        return (
            self.total is not None
            and self.total_at_start is not None
            and self.total != self.total_at_start
        )

    @property
    def snapshot(self) -> bool:
        """Whether the file is every contact as of one moment: nothing changed as it was read.

        When not, the pages may have shifted under the walk: a contact that existed the whole
        time can be missing. ``ContactMirror`` keeps an exact copy instead.
        """
        return (
            self.steady
            and not self.changed
            and not self.repeated
            and self.changed_since_start is False
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text display: the summary line, not the dataclass repr."""
        printer.text(str(self))

    def __str__(self) -> str:
        of = f" of {self.total:,}" if self.total is not None else ""
        text = (
            f"export: {self.contacts:,}{of} contacts ({self.pages:,} pages) to {self.path} "
            f"[{self.format}] in {format_duration(self.elapsed)} · {self.rate:,.0f} contacts/s"
        )
        if self.changed:
            text += (
                f"\n  the list changed while it was read: {self.total_at_start:,} contacts at "
                f"the start, {self.total:,} at the end"
            )
        elif not self.snapshot:
            why = (
                "the server could not tell whether contacts changed while it was read"
                if self.changed_since_start is None
                else "contacts changed while it was read"
            )
            text += f"\n  not a snapshot: {why}"
        if not self.snapshot:
            repeated = f"; {self.repeated:,} repeated rows left out" if self.repeated else ""
            text += (
                f"\n  pages may have shifted under the walk, so a contact can be missing"
                f"{repeated} (ContactMirror keeps an exact copy)"
            )
        if self.missing:
            text += (
                f"\n  {self.missing:,} fewer than the server counts: the count moved as the "
                "last page was read"
            )
        return text
