"""``inro demo``: the main job end to end against an embedded fake server; no token, no network.

A ``FakeInro`` on 127.0.0.1 (random port) holds a generated organization whose quotas have
production's shape, scaled down (``DEMO_QUOTAS``: 2/s, 100/min, 1,000/h, 10,000/day) so that the
few dozen requests of the demo meet the governor and visibly wait for it. A real ``Client``,
given the same quotas, then exports every contact, updates a few thousand from a generated CSV,
messages a folder and triggers a scenario. The 429 counts come from the server's own records.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from inro_async.cli._common import EXIT_FAILED_ITEMS, EXIT_OK, Settings, progress_for, run
from inro_async.cli._embedded import serve_in_thread
from inro_async.cli._input import read_updates
from inro_async.cli.fake_server import parse_quota
from inro_async.governor._base import INRO_QUOTAS, Quota
from inro_async.jobs import ExportReport, ItemStatus, JobReport, ProgressEvent
from inro_async.jobs._report import format_duration

if TYPE_CHECKING:
    from inro_async.client import Client
    from inro_async.testing import FakeInro

__all__ = ["DEMO_QUOTAS", "DemoStep", "DemoSummary", "demo", "run_demo"]

DEMO_QUOTAS: tuple[Quota, ...] = tuple(Quota(q.limit // 10, q.period) for q in INRO_QUOTAS)
"""Production's four quotas divided by ten: the demo's ~40 requests are paced by the 2/s one."""

_TOKEN = "demo-token"  # noqa: S105 - the embedded fake server's own token, never a real one
_FOLDER = "Customers"
_MESSAGE = "Hi {{contact.name}}, thanks for being a customer!"
_SCENARIO_TEMPLATE = 501  # "Welcome new followers" in every generated organization


@dataclass
class DemoStep:
    """What one step of the demo cost and achieved, measured on the server side."""

    name: str
    unit: str
    requests: int = 0
    throttled: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    not_found: int = 0
    elapsed: float = 0.0
    """Seconds the step took, setup included (finding a folder's members, making a scenario)."""
    job_elapsed: float | None = None
    """Seconds its job took, as its progress bar timed it (``None``: the step ran none)."""
    skip_reasons: dict[str, int] = field(default_factory=dict)
    """Why the API declined the skipped items, with how many each reason covers."""

    @property
    def finished(self) -> int:
        """Items with an outcome."""
        return self.done + self.failed + self.skipped + self.not_found

    @property
    def throughput(self) -> float:
        """Items finished per second of the job: the rate its progress bar ended on."""
        seconds = self.job_elapsed if self.job_elapsed is not None else self.elapsed
        return self.finished / seconds if seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The step as plain JSON-ready values."""
        return {
            "step": self.name,
            "requests": self.requests,
            "throttled": self.throttled,
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "not_found": self.not_found,
            "elapsed": round(self.elapsed, 3),
            "job_elapsed": None if self.job_elapsed is None else round(self.job_elapsed, 3),
            "throughput": round(self.throughput, 1),
            "unit": self.unit,
            "skip_reasons": self.skip_reasons,
        }


@dataclass
class DemoSummary:
    """Every step of one demo run, the quotas it ran under and where its files are."""

    contacts: int
    quotas: tuple[Quota, ...]
    out: Path
    steps: list[DemoStep] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        """Requests the server received, every step together."""
        return sum(step.requests for step in self.steps)

    @property
    def throttled(self) -> int:
        """Requests the server answered 429 (the demo's promise: zero)."""
        return sum(step.throttled for step in self.steps)

    @property
    def failed(self) -> int:
        """Items that failed in any step."""
        return sum(step.failed for step in self.steps)

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready values."""
        return {
            "contacts": self.contacts,
            "quotas": [str(q) for q in self.quotas],
            "steps": [step.as_dict() for step in self.steps],
            "requests": self.requests,
            "throttled": self.throttled,
            "failed": self.failed,
            "elapsed": round(self.elapsed, 3),
            "out": str(self.out),
            "files": self.files,
        }

    def table(self) -> Table:
        """The summary as a rich table."""
        table = Table(
            title=f"inro demo · {self.contacts:,} contacts · quotas {_quotas(self.quotas)}"
        )
        for column in ("step", "requests", "429s", "done", "failed", "skipped", "job time"):
            table.add_column(column, justify="left" if column == "step" else "right")
        table.add_column("items/s", justify="right")
        for step in self.steps:
            table.add_row(*_cells(step), f"{step.throughput:,.0f}")
        table.add_section()
        total = DemoStep(
            "total",
            "",
            requests=self.requests,
            throttled=self.throttled,
            done=sum(s.done for s in self.steps),
            failed=self.failed,
            skipped=sum(s.skipped for s in self.steps),
            not_found=sum(s.not_found for s in self.steps),
            elapsed=self.elapsed,
            job_elapsed=sum(s.job_elapsed or 0.0 for s in self.steps),
        )
        table.add_row(*_cells(total), f"{total.throughput:,.0f}")
        return table

    def notes(self) -> list[str]:
        """What the table's words mean where a reader may wonder: skipped, job time."""
        lines = [
            "job time: each job as its progress bar timed it, setup not included; "
            "items/s = (done + failed + skipped) / job time, the rate its bar ended on"
        ]
        reasons: dict[str, int] = {}
        for step in self.steps:
            for reason, count in step.skip_reasons.items():
                reasons[reason] = reasons.get(reason, 0) + count
        if reasons:
            why = ", ".join(f"{n:,} × {reason}" for reason, n in sorted(reasons.items()))
            lines.append(
                "skipped: contacts that opted out or are not active; the API declines them, "
                f"as it would in production, and nothing failed ({why})"
            )
        return lines


def _cells(step: DemoStep) -> list[str]:
    throttled = f"[red]{step.throttled}[/]" if step.throttled else "0"
    return [
        step.name,
        f"{step.requests:,}",
        throttled,
        f"{step.done:,}",
        f"{step.failed:,}",
        f"{step.skipped:,}",
        format_duration(step.job_elapsed if step.job_elapsed is not None else step.elapsed),
    ]


def _quotas(quotas: Sequence[Quota]) -> str:
    return ", ".join(str(q) for q in quotas)


@contextmanager
def _measure(server: FakeInro, step: DemoStep) -> Iterator[DemoStep]:
    """Count the requests and 429s the server saw while the step ran."""
    requests, throttled = len(server.requests), server.throttled
    started = time.perf_counter()
    try:
        yield step
    finally:
        step.elapsed = time.perf_counter() - started
        step.requests = len(server.requests) - requests
        step.throttled = server.throttled - throttled


def _from_job(step: DemoStep, report: JobReport[Any]) -> None:
    step.done, step.failed = report.done, report.failed + report.unknown + report.pending
    step.skipped, step.not_found = report.skipped, report.not_found
    for _, outcome in report.outcomes():
        if outcome.status is ItemStatus.SKIPPED:
            reason = outcome.reason or "declined"
            step.skip_reasons[reason] = step.skip_reasons.get(reason, 0) + 1


@contextmanager
def _timed(settings: Settings, step: DemoStep) -> Iterator[Callable[[ProgressEvent], None]]:
    """The step's progress bar, also keeping the job's time from its last event.

    The table's items/s is then the very rate the bar (or progress line) ended on.
    """
    with progress_for(settings) as bar:

        def record(event: ProgressEvent) -> None:
            if event.kind == "finished":
                step.job_elapsed = event.elapsed
            if bar is not None:
                bar(event)

        yield record


def write_updates(export_csv: Path, target: Path, count: int, seed: int) -> Path:
    """A CSV of ``count`` updates for contacts picked from an export, by id or by username."""
    with export_csv.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    picked = random.Random(seed).sample(rows, min(count, len(rows)))
    picked.sort(key=lambda row: int(row["id"]))
    languages = ("en", "fr", "de", "es", "pt", "it")
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "username", "language", "notes", "custom_properties.plan"])
        for index, row in enumerate(picked):
            by_username = index % 4 == 3  # a quarter named by username, as spreadsheets do
            writer.writerow(
                [
                    "" if by_username else row["id"],
                    row["username"] if by_username else "",
                    languages[index % len(languages)],
                    "upgraded by inro demo",
                    "pro",
                ]
            )
    return target


async def run_demo(
    settings: Settings,
    server: FakeInro,
    base_url: str,
    *,
    out: Path,
    seed: int,
    updates: int,
) -> DemoSummary:
    """Run the four steps with a real client against a started fake server."""
    from inro_async.client import Client

    quotas = server.org.limiter.quotas
    summary = DemoSummary(contacts=len(server.org.contacts), quotas=quotas, out=out)
    started = time.perf_counter()
    async with Client(server.org.token, base_url=base_url, quotas=quotas) as inro:
        await _steps(settings, server, inro, summary, seed, updates)
    summary.elapsed = time.perf_counter() - started
    return summary


async def _steps(
    settings: Settings,
    server: FakeInro,
    inro: Client,
    summary: DemoSummary,
    seed: int,
    updates: int,
) -> None:
    out = summary.out
    export_csv = out / "contacts.csv"
    settings.info("1/4 export: every contact to contacts.csv")
    with _measure(server, DemoStep("export", "contacts")) as step, _timed(settings, step) as bar:
        exported: ExportReport = await inro.contacts.export(export_csv, on_progress=bar)
        step.done = exported.contacts
    summary.steps.append(step)
    summary.files["export"] = str(export_csv)

    updates_csv = write_updates(export_csv, out / "updates.csv", updates, seed)
    summary.files["updates"] = str(updates_csv)
    entries = read_updates(updates_csv)  # the same reader (and checks) as `contacts update`
    settings.info(f"2/4 update: {len(entries):,} contacts from updates.csv")
    with _measure(server, DemoStep("update", "contacts")) as step, _timed(settings, step) as bar:
        _from_job(step, await inro.contacts.update_many(entries, on_progress=bar))
    summary.steps.append(step)

    with _measure(server, DemoStep("send", "messages")) as step:
        folders = await inro.folders.list()
        folder = next((f for f in folders.items if f.name == _FOLDER), folders.items[0])
        members = [c.id async for c in inro.folders.iter_contacts(folder.id, per_page=1000)]
        settings.info(f"3/4 send: a message to folder {folder.name!r} ({len(members):,} contacts)")
        if members:  # a tiny --contacts may leave the folder empty
            with _timed(settings, step) as bar:
                report = await inro.messages.send_many(members, text=_MESSAGE, on_progress=bar)
            _from_job(step, report)
    summary.steps.append(step)

    upgraded = [entry.identifier for entry in entries]
    with _measure(server, DemoStep("trigger", "contacts")) as step:
        scenario = await inro.scenarios.create(
            template_id=_SCENARIO_TEMPLATE, title="Welcome to Pro", active=True
        )
        settings.info(
            f"4/4 trigger: scenario {scenario.title!r} for the {len(upgraded):,} upgraded contacts"
        )
        with _timed(settings, step) as bar:
            report = await inro.scenarios.trigger_many(
                scenario.id, upgraded, data={"source": "inro demo"}, on_progress=bar
            )
        _from_job(step, report)
    summary.steps.append(step)


@click.command("demo")
@click.option(
    "--contacts",
    type=click.IntRange(1, 1_000_000),
    default=20_000,
    show_default=True,
    help="Contacts in the generated organization.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated data.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the CSV files (default: a new temporary directory).",
)
@click.option(
    "--quota",
    "quota_texts",
    multiple=True,
    metavar="LIMIT/SECONDS",
    help="Replace the demo's quotas (repeatable) [default: 2/1 100/60 1000/3600 10000/86400].",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary on stdout.")
@click.pass_context
def demo(
    ctx: click.Context,
    contacts: int,
    seed: int,
    out: Path | None,
    quota_texts: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run the main job on an embedded fake server: export, update, message, trigger."""
    settings = ctx.find_object(Settings) or Settings(None, None, json=False, quiet=False)
    if as_json:
        settings.json = True
    quotas = tuple(parse_quota(text) for text in quota_texts) or DEMO_QUOTAS
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="inro-demo-"))
    out = out.expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    from inro_async.testing import FakeInro

    started = time.perf_counter()
    settings.info(f"generating an organization of {contacts:,} contacts (seed {seed})…")
    server = FakeInro(quotas=quotas)
    server.add_organization(_TOKEN, contacts=contacts, seed=seed)
    with serve_in_thread(server) as base_url:
        settings.info(f"fake Inrō API at {base_url} · quotas {_quotas(quotas)} · files in {out}")
        updates = max(1, min(3_000, contacts * 15 // 100))
        summary = run(run_demo(settings, server, base_url, out=out, seed=seed, updates=updates))
    summary.elapsed = time.perf_counter() - started

    def human() -> None:
        settings.stdout.print(summary.table())
        for note in summary.notes():
            settings.stdout.print(note, highlight=False, markup=False)
        verdict = (
            "[green]0 × 429[/]" if not summary.throttled else f"[red]{summary.throttled} × 429[/]"
        )
        settings.stdout.print(
            f"{summary.requests:,} requests in {summary.elapsed:.1f} s, {verdict}; "
            f"files in {escape(str(out))}",
            highlight=False,
        )

    settings.emit(summary.as_dict(), human)
    ctx.exit(EXIT_FAILED_ITEMS if summary.throttled or summary.failed else EXIT_OK)
