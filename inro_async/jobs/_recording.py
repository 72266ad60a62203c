"""How a chunk's attempt ends up in the journal and the tally: the outcome of every item.

``_runner._FanOut`` decides *when* a chunk has ended (answered, failed, cancelled, or blocked by
quota); this module decides *what* that means for its items, in one place:

* an answer: each item's own outcome, journaled and counted;
* a failure: ``unknown`` when the request may have reached the server (or the API had already
  accepted the chunk), else ``failed`` with the reason; a chunk that never left stays down to run;
* a cancellation: a chunk journaled in flight is ``unknown``, one still waiting stays pending;
* a rerun: what earlier runs recorded shows as ``skipped`` (done before) or carried over.
"""

from __future__ import annotations

from collections.abc import Sequence

from inro_async.jobs._items import ItemStatus, Outcome
from inro_async.jobs._journal import ChunkRecord, ChunkStatus, Journal, decode_outcomes
from inro_async.jobs._operation import ChunkContext, may_have_been_processed
from inro_async.jobs._tally import Tally

__all__ = ["OutcomeRecorder"]


class OutcomeRecorder:
    """Writes the outcome of one chunk's attempt to the ``journal`` and the ``tally``."""

    def __init__(self, journal: Journal, tally: Tally) -> None:
        self.journal = journal
        self.tally = tally

    def take_over(self, record: ChunkRecord, *, resend: bool, retry: bool) -> None:
        """Show what earlier runs left in ``record``; items this run will send stay pending."""
        if record.outcomes is not None:
            failed = ItemStatus.FAILED
            for offset, outcome in enumerate(decode_outcomes(record.outcomes, record.reasons)):
                position = record.start + offset
                if outcome.status is not failed:
                    self.tally.earlier[outcome.status] += 1
                    self.tally.set(position, Outcome(ItemStatus.SKIPPED))
                elif record.status is ChunkStatus.DONE and not retry:
                    self.tally.carried_over += 1
                    self.tally.set(position, outcome)
        if record.status is ChunkStatus.UNKNOWN and not resend:
            message = f"sent in an earlier run without a usable answer ({record.error})"
            self._set(record.to_send, ItemStatus.UNKNOWN, message)
            self.tally.carried_over += len(record.to_send)

    def answered(self, ctx: ChunkContext, outcomes: Sequence[Outcome]) -> None:
        """The chunk got its answer: each item's own outcome."""
        record = self.journal.book[ctx.index]
        self.journal.finish(ctx.index, list(outcomes))
        sent = record.to_send
        if isinstance(sent, range):
            self.tally.set_many(sent, list(outcomes))
        else:
            for position, outcome in zip(sent, outcomes, strict=True):
                self.tally.set(position, outcome)

    def cancelled(self, ctx: ChunkContext) -> bool:
        """The attempt was cancelled; True when its items became ``unknown`` (it was sent)."""
        record = self.journal.book[ctx.index]
        if record.status is not ChunkStatus.IN_FLIGHT:
            return False  # still waiting for a slot: nothing left, it stays pending
        message = "cancelled while in flight; the request may have been processed"
        self.journal.fail(ctx.index, message, unknown=True)
        self._set(record.to_send, ItemStatus.UNKNOWN, message)
        return True

    def failed(self, ctx: ChunkContext, error: BaseException) -> ItemStatus:
        """Record a failed attempt; the status its items got (failed, or unknown)."""
        record = self.journal.book[ctx.index]
        message = f"{type(error).__name__}: {error}"
        if record.status is ChunkStatus.ACCEPTED:
            # The API took the chunk; only following it up failed. A rerun checks again.
            self._set(
                record.to_send,
                ItemStatus.UNKNOWN,
                f"accepted, but its progress could not be read ({message}); rerun to check",
            )
            return ItemStatus.UNKNOWN
        if record.status is ChunkStatus.IN_FLIGHT:
            unknown = may_have_been_processed(error)
            self.journal.fail(ctx.index, message, unknown=unknown)
            status = ItemStatus.UNKNOWN if unknown else ItemStatus.FAILED
            self._set(record.to_send, status, message)
            return status
        if record.status is ChunkStatus.UNKNOWN:
            self._set(record.to_send, ItemStatus.UNKNOWN, record.error or message)
            return ItemStatus.UNKNOWN
        # Failed before this attempt sent anything (the governor raised, say): the journal
        # already has the chunk down to run (pending, or failed by an earlier run), so a
        # rerun sends it; only this run's report says why it did not go.
        self._set(record.to_send, ItemStatus.FAILED, message)
        return ItemStatus.FAILED

    def _set(self, positions: range | list[int], status: ItemStatus, error: str) -> None:
        """Give the items sent by one attempt the same status and error."""
        if isinstance(positions, range):
            self.tally.set_range(positions, status, error)
        else:  # a retry's failed items: the error is theirs, not the whole chunk's
            for position in positions:
                self.tally.set(position, Outcome(status, error))
