"""The fan-out engine: a few workers, one journal, the governor's pace, and clean interruption.

An ``Operation`` knows one kind of call (send a chunk of messages, bulk-update a chunk of
contacts…); this module knows everything else:

* **Bounded concurrency.** ``concurrency`` workers pull chunk numbers from one list: at most that
  many chunks are in flight, and no task is created per item.
* **Journal before wire.** Each chunk's client carries an ``on_dispatch`` hook (a request
  option, passed openly) that commits the chunk as ``in_flight`` at the moment the governor
  grants the slot, right before the request is written. Waiting for quota therefore never makes
  a chunk "unknown".
* **Quota waits.** Requests ask the governor with ``max_wait``; a longer wait comes back as
  ``QuotaWaitTooLongError``, which ``_quota_wait.QuotaWait`` turns into a ``waiting`` event and
  a sleep until the quota frees (or, past ``stop_when_blocked_over``, a ``paused`` report). The
  chunk is retried at exactly the moment the governor named. The ETA is ``_eta``'s.
* **Job-wide errors.** An error that every chunk would meet alike (``Operation.is_fatal``: a
  bad token, a missing scenario), or a server that could not be reached before any item had an
  outcome, stops the job; when nothing else happened first the report says ``refused``.
* **Interruption.** ``job.stop()`` finishes the chunks already sent and starts no more. Cancelling
  the task (Ctrl-C) gives chunks already on the wire ``cancel_grace`` seconds to get their answer,
  then records the rest as ``unknown``; chunks still waiting for a slot stay ``pending``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from inro_async.errors import (
    APIConnectionError,
    InroError,
    QuotaWaitTooLongError,
    RateLimitError,
)
from inro_async.jobs._eta import FinishedChunks
from inro_async.jobs._items import ItemStatus, Outcome, Unique
from inro_async.jobs._job import NOTICE_AFTER, PROGRESS_INTERVAL, Job, JobOptions, open_store
from inro_async.jobs._journal import Journal, JournalMeta
from inro_async.jobs._operation import ChunkContext, Operation, paced_client
from inro_async.jobs._progress import EventKind, ProgressEvent, ProgressHub
from inro_async.jobs._quota_wait import HeldTime, QuotaWait
from inro_async.jobs._recording import OutcomeRecorder
from inro_async.jobs._report import JobReport, JobStatus
from inro_async.jobs._tally import Tally

if TYPE_CHECKING:
    from inro_async.client import Client

__all__ = ["run_fanout"]

T = TypeVar("T")


class _FanOut(Generic[T]):
    """One run of one job."""

    def __init__(
        self,
        client: Client,
        operation: Operation[T],
        unique: Unique[T, Any],
        ranges: Sequence[range],
        options: JobOptions,
        hub: ProgressHub,
    ) -> None:
        self.client = client
        self.op = operation
        self.unique = unique
        self.items = unique.keys
        self.ranges = ranges
        self.options = options
        self.hub = hub
        self.loop = asyncio.get_running_loop()
        self.started_at = datetime.now(UTC)
        self.t0 = self.loop.time()
        self.tally = Tally(len(self.items), [r.start for r in ranges])
        self.requests = 0
        self.throttled = 0  # 429s this run's requests met
        self.held = HeldTime(self.loop.time)  # time a chunk was ready but held by quota
        self.max_wait = NOTICE_AFTER
        if options.stop_when_blocked_over is not None:
            self.max_wait = min(self.max_wait, options.stop_when_blocked_over)
        self.paced = paced_client(client, self.max_wait)
        self.waits = QuotaWait(self._announce, stop_over=options.stop_when_blocked_over)
        self._halt_status: JobStatus | None = None
        self._halted = asyncio.Event()
        self._fatal: BaseException | None = None
        self._answered = False  # an item got an outcome of its own (not a job-wide refusal)
        self._resume_at: datetime | None = None
        self._active: dict[int, tuple[asyncio.Future[list[Outcome]], ChunkContext]] = {}
        self._todo: list[int] = []
        self._next = 0
        self.finished = FinishedChunks()  # what the ETA goes by
        self._last_progress = -math.inf
        self.name: str | None = None
        self.journal: Journal | None = None
        self.recorder: OutcomeRecorder  # with the journal, in run()

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> JobReport[Any]:
        store, self.name = open_store(self.options.job)
        meta = JournalMeta(
            kind=self.op.kind,
            payload_fingerprint=self.op.payload_fingerprint(),
            # Only a journal on disk is ever compared with a later run's.
            items_fingerprint=self._items_fingerprint() if self.name is not None else "",
            total=len(self.items),
            # Where the job runs: a journal resumed against another server or organization
            # would skip items that were never done there.
            base_url=self.client.base_url,
            token_fingerprint=self.client._transport.token_fingerprint,
        )
        try:
            journal = self.journal = Journal(store, meta, self.ranges, name=self.name)
        except BaseException:
            store.close()
            raise
        self.recorder = OutcomeRecorder(journal, self.tally)
        try:
            return await self._run(journal)
        finally:
            journal.close()

    async def _run(self, journal: Journal) -> JobReport[Any]:
        resend = self.options.resend_unknown
        if resend is None:
            resend = self.op.idempotent
        # A failed item was refused, not acted on, so sending it again is what a rerun is for;
        # but only work that may be repeated is retried on its own, so that no outcome recorded
        # as failed can ever turn into a second message. Other failed items are reported again.
        retry = self.op.idempotent
        for record in journal.book:
            self.recorder.take_over(record, resend=resend, retry=retry)
        self._todo = journal.book.to_run(resend_unknown=resend, retry_failed_items=retry)
        await self._emit("started")
        workers = [
            asyncio.ensure_future(self._worker())
            for _ in range(min(self.options.concurrency, len(self._todo)))
        ]
        try:
            await asyncio.gather(*workers)
        except BaseException as exc:
            current = asyncio.current_task()
            if current is None or not current.cancelling():
                for worker in workers:  # one failed: stop the others
                    worker.cancel()
            # Cancelled, gather() has cancelled every worker already and raised as soon as the
            # first was done: the others may still be giving a chunk on the wire its
            # cancel_grace to answer. Cancelling them again would cut that short (unknown).
            await asyncio.gather(*workers, return_exceptions=True)
            if isinstance(exc, asyncio.CancelledError):
                self._halt_status = self._halt_status or JobStatus.CANCELLED
                await self._emit("finished", status=JobStatus.CANCELLED)
            raise
        status = self._halt_status or JobStatus.COMPLETED
        report = self.report(status)
        await self._emit("finished", status=status)
        if self._fatal is not None:
            self._fatal.add_note(
                f"{self.op.kind} job {self.name or ''} stopped; the journal is consistent and "
                f"job.report has what was done ({report.done:,} done, {report.pending:,} pending)"
            )
            raise self._fatal
        return report

    def _items_fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(self.op.keys_text(self.items).encode())
        digest.update(",".join(f"{r.start}-{r.stop}" for r in self.ranges).encode())
        return digest.hexdigest()[:32]

    async def _worker(self) -> None:
        while self._halt_status is None and self._next < len(self._todo):
            index = self._todo[self._next]
            self._next += 1
            await self._run_chunk(index)

    async def _run_chunk(self, index: int) -> None:
        assert self.journal is not None
        while True:
            record = self.journal.book[index]
            ctx = ChunkContext(
                index,
                record.checkpoint,
                self.journal,
                self.paced,
                self._count_request,
                on_throttled=self._count_throttled,
                held=self.held,
            )
            sending = record.to_send
            if isinstance(sending, range):
                items: Sequence[T] = self.items[sending.start : sending.stop]
            else:
                items = [self.items[position] for position in sending]
            task = asyncio.ensure_future(self._attempt(ctx, items))
            self._active[index] = (task, ctx)
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                await self._grace(task, ctx)
                raise
            finally:
                self._active.pop(index, None)
            blocked = self._settle(ctx, task)
            if blocked is None:
                await self._progress()
                return
            if not await self._wait_out(blocked):
                return

    async def _attempt(self, ctx: ChunkContext, items: Sequence[T]) -> list[Outcome]:
        # Until its first await the operation only prepares: a task that has begun and not
        # dispatched is waiting in the governor, whose estimate counts it already.
        ctx.start()
        return await self.op.run_chunk(ctx, items)

    async def _grace(self, task: asyncio.Future[list[Outcome]], ctx: ChunkContext) -> None:
        """The job is being cancelled: let a sent request answer briefly, then settle."""
        try:
            if ctx.dispatched and not task.done() and self.options.cancel_grace > 0:
                await asyncio.wait({task}, timeout=self.options.cancel_grace)
        finally:
            if not task.done():
                task.cancel()
            if task.done():
                self._settle(ctx, task)
            else:
                self._settle_cancelled(ctx)

    # -- recording outcomes ------------------------------------------------------------------

    def _settle(
        self, ctx: ChunkContext, task: asyncio.Future[list[Outcome]]
    ) -> QuotaWaitTooLongError | None:
        """Record how one attempt ended; returns the quota error when it must wait and retry."""
        assert self.journal is not None
        ctx.close()
        if task.cancelled():
            self._settle_cancelled(ctx)
            return None
        error = task.exception()
        if error is None:
            self._answered = True
            self.recorder.answered(ctx, task.result())
            self.finished.finished(self.loop.time(), ctx.sent_at, ctx.requests, answered=True)
            return None
        if isinstance(error, QuotaWaitTooLongError):
            # Only a request that certainly had no effect is ever re-queued in the governor by
            # the transport (a 429, or a connection that failed before writing; a POST is not
            # retried otherwise), so an in-flight chunk that hits a long wait was not processed.
            self.journal.release(ctx.index)
            return error
        if isinstance(error, RateLimitError):
            self._count_throttled()  # the 429 that ended the attempt (repeated ones are counted)
        given = self.recorder.failed(ctx, error)
        self.finished.finished(self.loop.time(), ctx.sent_at, ctx.requests, answered=False)
        fatal = (
            self.op.is_fatal(error)
            or not isinstance(error, InroError)
            or (_unreachable(error) and not self._answered)  # never reached: none would be
        )
        if not (fatal and given is ItemStatus.FAILED):
            self._answered = True  # not the job's refusal: these items' own outcome
        if fatal:
            # Every chunk would fail alike (or it is a bug, not an API answer): stop here.
            self._fatal = error
            self._halt(JobStatus.ABORTED)
        return None

    def _settle_cancelled(self, ctx: ChunkContext) -> None:
        ctx.close()
        if self.recorder.cancelled(ctx):
            self._answered = True

    def _count_request(self) -> None:
        self.requests += 1

    def _count_throttled(self) -> None:
        self.throttled += 1
        self.finished.pace.throttled(self.loop.time())

    # -- stopping, waiting -------------------------------------------------------------------

    def _halt(self, status: JobStatus) -> None:
        """Start no more chunks; cancel the ones still waiting for a slot."""
        if self._halt_status is None:
            self._halt_status = status
        self._halted.set()
        for task, ctx in list(self._active.values()):
            if not ctx.dispatched:
                task.cancel()

    def stop(self) -> None:
        """Graceful stop (``Job.stop``)."""
        self._halt(JobStatus.STOPPED)

    async def _wait_out(self, blocked: QuotaWaitTooLongError) -> bool:
        """Wait for a spent quota (``QuotaWait``), or pause; False when the job is halting."""
        if self._halt_status is not None:
            return False
        if self.waits.pauses(blocked):
            until = self._resume_at = datetime.fromtimestamp(blocked.available_at, UTC)
            self._halt(JobStatus.PAUSED)
            await self._emit(
                "paused", waiting_until=until, quota=str(blocked.quota), waiting_for=blocked.wait
            )
            return False
        self.held.hold()
        try:
            await self.waits.wait_out(blocked, halted=self._halted)
        finally:
            self.held.release()
        self.finished.pace.restart()  # a wait the governor foresaw: its view holds again
        return self._halt_status is None

    async def _announce(self, kind: EventKind, blocked: QuotaWaitTooLongError | None) -> None:
        await self._emit(kind, waiting_for=blocked.wait if blocked is not None else None)

    # -- reporting ---------------------------------------------------------------------------

    def report(self, status: JobStatus | None = None) -> JobReport[Any]:
        """The report as of now."""
        return JobReport(
            operation=self.op.kind,
            job=self.name,
            status=status or self._halt_status or JobStatus.COMPLETED,
            total=len(self.items),
            duplicates=self.unique.duplicates,
            started_at=self.started_at,
            elapsed=self.loop.time() - self.t0,
            requests=self.requests,
            throttled=self.throttled,
            waited=self.held.seconds(),
            counts=dict(self.tally.counts),
            earlier=dict(self.tally.earlier),
            carried_over=self.tally.carried_over,
            resume_at=self._resume_at,
            error=f"{type(self._fatal).__name__}: {self._fatal}" if self._fatal else None,
            refused=self._fatal is not None and not self._answered,
            _items=self.unique.originals,
            _statuses=bytes(self.tally.statuses),
            _tally=self.tally,
        )

    async def _progress(self) -> None:
        # Throttled by the wall clock: progress is read by people, and under a simulated clock
        # (where a day passes in seconds) loop time would ask the governor for an ETA per chunk.
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL or self._next >= len(self._todo):
            self._last_progress = now
            await self._emit("progress")

    async def _eta(self) -> float | None:
        if self.finished.count >= len(self._todo):
            return 0.0
        per_chunk = self.finished.requests_per_chunk(self.op.requests_per_chunk)
        # Chunks still to send, less those already queued in the governor: its estimate
        # counts its own waiters first.
        not_sent = len(self._todo) - self._next
        not_sent += sum(1 for _, ctx in self._active.values() if not ctx.dispatched)
        queued = sum(1 for _, c in self._active.values() if c.running and not c.dispatched)
        requests = max(0, round(not_sent * per_chunk) - queued)
        try:
            dispatched_in = await self.client.governor.estimate(requests)
        except Exception:  # an estimate is a nicety; never let it stop the job
            return None
        sent = [ctx.sent_at for _, ctx in self._active.values() if ctx.sent_at is not None]
        return self.finished.seconds_left(
            quota_wait=dispatched_in,
            unsent=not_sent,
            chunks=len(self._todo),
            concurrency=self.options.concurrency,
            last_sent_at=max(sent, default=None),
            now=self.loop.time(),
        )

    async def _emit(
        self,
        kind: EventKind,
        *,
        status: JobStatus | None = None,
        waiting_until: datetime | None = None,
        quota: str | None = None,
        waiting_for: float | None = None,
    ) -> None:
        counts = self.tally.counts
        elapsed = self.loop.time() - self.t0
        finished_now = self.tally.finished_now
        event = ProgressEvent(
            kind=kind,
            operation=self.op.kind,
            job=self.name,
            total=len(self.items),
            done=counts[ItemStatus.DONE],
            failed=counts[ItemStatus.FAILED],
            not_found=counts[ItemStatus.NOT_FOUND],
            skipped=counts[ItemStatus.SKIPPED],
            unknown=counts[ItemStatus.UNKNOWN],
            elapsed=elapsed,
            rate=finished_now / elapsed if elapsed > 0 else 0.0,
            eta=None if kind in ("finished", "paused") else await self._eta(),
            waiting_until=waiting_until or self.waits.until,
            quota=quota or self.waits.quota,
            waiting_for=waiting_for,
            status=status.value if status is not None else None,
        )
        await self.hub.emit(event)


def _unreachable(error: BaseException) -> bool:
    """The server could not be reached at all: nothing of the request was sent."""
    return isinstance(error, APIConnectionError) and not error.may_have_been_processed


def run_fanout(
    client: Client,
    operation: Operation[T],
    unique: Unique[T, Any],
    ranges: Sequence[range],
    options: JobOptions,
) -> Job[JobReport[Any]]:
    """A job that sends ``unique.keys`` in ``ranges`` chunks with ``operation``."""
    hub = ProgressHub(options.on_progress)
    name = os.fspath(options.job) if options.job is not None else None

    async def runner(job: Job[JobReport[Any]]) -> JobReport[Any]:
        fanout = _FanOut(client, operation, unique, ranges, options, hub)
        job._stop = fanout.stop
        job._snapshot = fanout.report
        return await fanout.run()

    return Job(operation.kind, name, len(unique.keys), runner, hub)
