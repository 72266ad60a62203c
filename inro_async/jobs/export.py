"""``export``: every contact (or a search) to JSON Lines or CSV, streamed in constant memory.

Pages of 1,000 are fetched ``concurrency`` at a time in a lookahead window and written in order
as they arrive, so memory holds at most ``concurrency`` pages whatever the size of the account.
The file is written under a temporary name in the target directory and renamed into place only
when the last page is written: a failed or cancelled export leaves no half file behind.

CSV layout: one column per scalar field of the contact, ``folder_ids`` (a JSON list of ids),
then one ``custom_properties.<slug>`` column per property the account defines (asked once, at the
start), then ``custom_properties.other`` holding, as JSON, any value whose slug appeared during
the export. Cells holding a list or an object are JSON; booleans are ``true``/``false``; ``null``
is an empty cell. The message and comment previews stay out of CSV (they are in JSON Lines).

The API offers no snapshot: a walk ordered by id (the default) sees contacts created meanwhile at
the end, and may miss one deleted while the walk is under way. The report says how many the
server counted at the start and at the end (``ExportReport.total``, ``total_at_start``), leaves
out rows the page before already gave (``repeated``), and after the last page one probe of the
newest contacts tells whether any changed while it read: only then is it a ``snapshot``. An
export never succeeds with fewer contacts than the last count beyond what a list changing as
it is read explains: the walk's checks (``inro_async.pagination``) raise a ``PaginationError``
for a page that repeats the one before, a count the pages overrun, or a page that left contacts
out, and the file is not written.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import math
import os
import secrets
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from inro_async._validate import check_concurrency, check_per_page
from inro_async.errors import InroError, InvalidArgumentError, QuotaWaitTooLongError
from inro_async.jobs._eta import RoundTrip, seconds_left
from inro_async.jobs._job import EXPORT_CONCURRENCY, NOTICE_AFTER, Job
from inro_async.jobs._newest import changed_since
from inro_async.jobs._operation import paced_client
from inro_async.jobs._progress import EventKind, ProgressCallback, ProgressEvent, ProgressHub
from inro_async.jobs._quota_wait import QuotaWait
from inro_async.jobs._report import ExportReport
from inro_async.pagination import MAX_PER_PAGE, Page, iter_pages

if TYPE_CHECKING:
    from inro_async.client import Client

__all__ = ["CSV_FIELDS", "ExportFormat", "csv_header", "csv_rows", "export_contacts"]

CLOCK_SLACK = timedelta(seconds=2)
"""How far before the first page's ``Date`` a change still counts as during the export."""
DEFAULT_LAG = timedelta(minutes=5)
"""Without a ``Date`` header: how far the server's clock may trail ours."""

ExportFormat = Literal["jsonl", "csv"]

CSV_FIELDS: tuple[str, ...] = (
    "id",
    "username",
    "name",
    "real_name",
    "email",
    "phone",
    "language",
    "status",
    "is_follower",
    "follower_count",
    "follower_growth",
    "bio",
    "website",
    "instagram_url",
    "profile_picture",
    "notes",
    "created_at",
    "updated_at",
)
"""The contact's scalar fields, in CSV column order."""
_OTHER = "custom_properties.other"
_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_SUFFIXES: dict[str, ExportFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return msgspec.json.encode(value).decode()


def csv_header(property_slugs: Sequence[str]) -> list[str]:
    """The CSV columns for an account with these custom property slugs."""
    return [
        *CSV_FIELDS,
        "folder_ids",
        *(f"custom_properties.{slug}" for slug in property_slugs),
        _OTHER,
    ]


def csv_rows(
    contacts: Iterable[Mapping[str, Any]], property_slugs: Sequence[str]
) -> list[list[str]]:
    """Rows for contacts given as plain mappings (``msgspec.to_builtins`` of the models)."""
    known = set(property_slugs)
    rows = []
    for contact in contacts:
        folders = contact.get("folders") or []
        properties = contact.get("custom_properties") or {}
        other = {k: v for k, v in properties.items() if k not in known}
        rows.append(
            [
                *(_cell(contact.get(name)) for name in CSV_FIELDS),
                _cell([folder.get("id") for folder in folders if isinstance(folder, Mapping)]),
                *(_cell(properties.get(slug)) for slug in property_slugs),
                _cell(other) if other else "",
            ]
        )
    return rows


def _csv_text(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


class _AtomicFile:
    """A file written under a temporary name beside ``path``, renamed over it on ``commit``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not ``tempfile.mkstemp``: it creates 0600, and the renamed file would keep that.
        # ``os.open`` with 0666 lets the umask decide, as ``open()`` does.
        while True:
            temp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
            except FileExistsError:
                continue
            break
        self.temp = temp
        self.file = os.fdopen(fd, "wb")

    def write(self, text: str) -> None:
        """Append text (UTF-8)."""
        self.file.write(text.encode())

    def write_bytes(self, data: bytes) -> None:
        """Append bytes."""
        self.file.write(data)

    def commit(self) -> None:
        """Flush to disk and move into place atomically."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp, self.path)

    def discard(self) -> None:
        """Drop the temporary file (nothing is left at ``path``)."""
        self.file.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


def _server_time(page: Page[Any]) -> datetime | None:
    """When the server answered ``page``, by its ``Date`` header (``None`` if absent or odd)."""
    if page.response is None:
        return None
    value = page.response.headers.get("Date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _format_of(path: Path, format: ExportFormat | None) -> ExportFormat:
    if format is not None:
        if format not in ("jsonl", "csv"):
            raise InvalidArgumentError("format", f"must be 'jsonl' or 'csv', got {format!r}")
        return format
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise InvalidArgumentError(
            "format", f"cannot tell from {path.name!r}: name it .jsonl or .csv, or pass format="
        ) from None


class _Export:
    """One export run."""

    def __init__(
        self,
        client: Client,
        path: Path,
        format: ExportFormat,
        query: str | None,
        per_page: int,
        concurrency: int,
        hub: ProgressHub,
    ) -> None:
        self.governor = client.governor
        self.last_dispatch = -math.inf  # loop time at which the latest page went
        self.client = paced_client(client, NOTICE_AFTER).with_options(on_dispatch=self._dispatched)
        self.path = path
        self.format = format
        self.query = query
        self.per_page = per_page
        self.concurrency = concurrency
        self.hub = hub
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.started_at = datetime.now(UTC)
        self.total = 0
        self.counted: int | None = None  # the last page's X-Total
        self.counted_at_start: int | None = None  # the first page's
        self.written = 0
        self.pages = 0
        self.total_pages: int | None = None
        self.steady = True  # every page's X-Total equal to the first's
        self.repeated = 0  # rows the page before had already given
        self._previous_ids: frozenset[int] = frozenset()
        self.server_started: datetime | None = None  # the first page's Date header
        self._started = 0  # pages asked for (sent, or waiting in the governor)
        self._page_seconds = RoundTrip()
        self.waits = QuotaWait(self._announce)

    async def _fetch(self, number: int) -> Page[Any]:
        contacts = self.client.contacts  # the public list methods, as a user would page
        self._started += 1
        while True:
            try:
                if self.query is not None:
                    return await contacts.search(self.query, page=number, per_page=self.per_page)
                return await contacts.list(page=number, per_page=self.per_page)
            except QuotaWaitTooLongError as blocked:
                await self.waits.wait_out(blocked)

    async def _announce(self, kind: EventKind, blocked: QuotaWaitTooLongError | None) -> None:
        await self._emit(kind, waiting_for=blocked.wait if blocked is not None else None)

    async def _property_slugs(self) -> list[str]:
        response = await self.client.request("GET", "/contact_properties")
        body = response.json()
        if isinstance(body, Mapping):  # tolerate {"contact_properties": [...]}
            body = next((v for v in body.values() if isinstance(v, list)), [])
        return [p["slug"] for p in body or () if isinstance(p, Mapping) and "slug" in p]

    def _dispatched(self) -> None:
        """A page's request was granted its slot: the ETA's last stretch counts from here."""
        self.last_dispatch = self.loop.time()

    async def run(self) -> ExportReport:
        await self._emit("started")
        slugs = await self._property_slugs() if self.format == "csv" else []
        target = await asyncio.to_thread(_AtomicFile, self.path)
        try:
            if self.format == "csv":
                await asyncio.to_thread(target.write, _csv_text([csv_header(slugs)]))
            await self._write(target, slugs)
            changed_since = await self._changed_since_start()
            await asyncio.to_thread(target.commit)
        except BaseException:
            target.discard()
            raise
        report = ExportReport(
            path=str(self.path),
            format=self.format,
            contacts=self.written,
            pages=self.pages,
            elapsed=self.loop.time() - self.t0,
            started_at=self.started_at,
            total=self.counted,
            total_at_start=self.counted_at_start,
            steady=self.steady,
            repeated=self.repeated,
            changed_since_start=changed_since,
        )
        await self._emit("finished", status="completed")
        return report

    async def _changed_since_start(self) -> bool | None:
        """Whether a contact changed after the walk began: the newest ones, one request.

        Page numbers shift when contacts are created, changed or deleted during the walk, so
        one may be missed: the report must not call such an export a snapshot. ``None`` when
        the server cannot tell (it ignores the order) or the probe failed.
        """
        if self.server_started is not None:
            moment = self.server_started - CLOCK_SLACK  # the server's own clock
        else:
            moment = self.started_at - DEFAULT_LAG
        try:
            return await changed_since(
                self.client.contacts, moment, total=self.counted, query=self.query
            )
        except InroError:
            return None

    async def _write(self, target: _AtomicFile, slugs: Sequence[str]) -> None:
        encoder = msgspec.json.Encoder()
        pages: AsyncGenerator[Page[Any], None] = iter_pages(
            self._fetch, concurrency=self.concurrency
        )
        async with contextlib.aclosing(pages):
            async for page in pages:
                if page.total is not None:
                    self.total = page.total
                if self.pages == 0:
                    self.counted_at_start = page.total
                    self.server_started = _server_time(page)
                elif page.total != self.counted:
                    self.steady = False
                self.counted = page.total
                self.total_pages = page.total_pages
                if page.response is not None:
                    self._page_seconds.add(page.response.elapsed)
                items = self._fresh(page.items)
                if self.format == "jsonl":
                    chunk = encoder.encode_lines(items)
                else:
                    chunk = _csv_text(csv_rows(msgspec.to_builtins(items), slugs)).encode()
                # Written off the loop so the pages still in flight keep moving meanwhile.
                await asyncio.to_thread(target.write_bytes, chunk)
                self.pages += 1
                self.written += len(items)
                await self._emit("progress")

    def _fresh(self, items: list[Any]) -> list[Any]:
        """The page's contacts but those the page before gave: its rows had shifted by some.

        Only the page before is kept (memory stays bounded); a repeat from further back
        would need the list to shift by more than a page while it is read.
        """
        ids = [getattr(item, "id", None) for item in items]
        previous, self._previous_ids = (
            self._previous_ids,
            frozenset(i for i in ids if isinstance(i, int)),
        )
        if previous.isdisjoint(self._previous_ids):
            return items
        fresh = [item for item, i in zip(items, ids, strict=True) if i not in previous]
        self.repeated += len(items) - len(fresh)
        return fresh

    async def _emit(
        self, kind: EventKind, status: str | None = None, waiting_for: float | None = None
    ) -> None:
        elapsed = self.loop.time() - self.t0
        eta: float | None = None
        if self.total_pages is not None and kind == "progress":
            probe = self._page_seconds.seconds or 0.0  # the probe after the last page
            eta = probe
            if self.pages < self.total_pages:
                eta = None
                # Pages not asked for yet; those waiting in the governor are counted by it.
                not_started = max(0, self.total_pages - self._started)
                with contextlib.suppress(Exception):  # an estimate is a nicety
                    pages_left = seconds_left(
                        quota_wait=await self.governor.estimate(not_started),
                        unsent=not_started,
                        left=self.total_pages - self.pages,
                        took=self._page_seconds.seconds,
                        concurrency=self.concurrency,
                        last_sent_at=self.last_dispatch,
                        now=self.loop.time(),
                    )
                    eta = None if pages_left is None else pages_left + probe
        await self.hub.emit(
            ProgressEvent(
                kind=kind,
                operation="export",
                job=str(self.path),
                total=max(self.total, self.written),
                done=self.written,
                elapsed=elapsed,
                rate=self.written / elapsed if elapsed > 0 else 0.0,
                eta=eta,
                waiting_until=self.waits.until,
                quota=self.waits.quota,
                waiting_for=waiting_for,
                status=status,
            )
        )


def export_contacts(
    client: Client,
    path: str | os.PathLike[str],
    *,
    format: ExportFormat | None = None,
    query: str | None = None,
    per_page: int = MAX_PER_PAGE,
    concurrency: int = EXPORT_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
) -> Job[ExportReport]:
    """Write every contact (or those matching ``query``) to ``path`` as JSON Lines or CSV.

    The format follows the suffix (``.jsonl``/``.ndjson``/``.json`` or ``.csv``) unless
    ``format=`` says. Returns a ``Job``: ``report = await job``.
    """
    target = Path(path).expanduser()
    chosen = _format_of(target, format)
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise InvalidArgumentError("query", "must be a non-empty string (or None for everything)")
    check_per_page(per_page)
    check_concurrency(concurrency)
    hub = ProgressHub(on_progress)

    async def runner(job: Job[ExportReport]) -> ExportReport:
        del job
        export = _Export(client, target, chosen, query, per_page, concurrency, hub)
        return await export.run()

    return Job("export", str(target), 0, runner, hub)
