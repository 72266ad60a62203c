"""A fan-out operation, and what it gets for one chunk: a paced client and its journal entry.

An ``Operation`` knows one kind of call (send a chunk of messages, bulk-update a chunk of
contacts…); the engine (``_runner.py``) knows everything else. ``ChunkContext.client`` carries
the ``on_dispatch`` hook that journals the chunk as in flight when its slot is granted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from inro_async.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    InvalidArgumentError,
    QuotaWaitTooLongError,
    RateLimitError,
    UnexpectedRedirectError,
)
from inro_async.governor._base import Priority
from inro_async.jobs._accounting import UnaccountedAnswerError
from inro_async.jobs._items import Outcome
from inro_async.jobs._journal import (
    Journal,
)
from inro_async.jobs._quota_wait import HeldTime

if TYPE_CHECKING:
    from inro_async.client import Client


T_contra = TypeVar("T_contra", contravariant=True)


class Operation(Protocol[T_contra]):
    """One kind of chunked call: what it sends and how its answer maps to item outcomes."""

    @property
    def kind(self) -> str:
        """``send_many``, ``update_many``…: stored in the journal."""
        ...

    @property
    def idempotent(self) -> bool:
        """Repeating a chunk cannot do harm (PUT), so unknown chunks are resent automatically."""
        ...

    @property
    def requests_per_chunk(self) -> float:
        """Typical requests per chunk, for the ETA (a bulk update also polls its batch task)."""
        ...

    def payload_fingerprint(self) -> str:
        """A stable hash of what is done to every item (the message, the scenario and data…)."""
        ...

    def keys_text(self, items: Sequence[T_contra]) -> str:
        """Each item's stable text form plus a record separator (U+001E), for the fingerprint."""
        ...

    async def run_chunk(self, ctx: ChunkContext, items: Sequence[T_contra]) -> list[Outcome]:
        """Send one chunk with ``ctx.client`` and return one outcome per item."""
        ...

    def is_fatal(self, error: BaseException) -> bool:
        """Whether ``error`` would hit every chunk alike (bad token, missing scenario…)."""
        ...


def may_have_been_processed(error: BaseException) -> bool:
    """Whether a call that raised ``error`` after being sent may still have taken effect.

    Per the transport: a 429 had no effect, a 4xx was refused, a connection that failed before
    the request was written did nothing. A 5xx, a redirect or a lost connection after writing
    may have been acted on, and a 2xx whose body could not be read, or did not account for what
    was sent (``UnaccountedAnswerError``), certainly was.
    """
    if isinstance(error, UnaccountedAnswerError):
        return True
    if isinstance(error, APIConnectionError | UnexpectedRedirectError):
        return error.may_have_been_processed
    if isinstance(error, APIResponseValidationError):
        return True
    if isinstance(error, RateLimitError):
        return False
    if isinstance(error, APIStatusError):
        return error.status >= 500
    return not isinstance(error, InvalidArgumentError | QuotaWaitTooLongError)


def paced_client(client: Client, max_wait: float) -> Client:
    """A copy of ``client`` whose requests go at bulk priority and report long quota waits."""
    return client.with_options(priority=Priority.BULK, max_wait=max_wait)


class ChunkContext:
    """What an operation gets for one chunk: a paced client and the chunk's journal entry."""

    def __init__(
        self,
        index: int,
        checkpoint: str | None,
        journal: Journal,
        client: Client,
        on_request: Callable[[], None],
        *,
        on_throttled: Callable[[], None] | None = None,
        held: HeldTime | None = None,
    ) -> None:
        self.index = index
        self.client = client.with_options(
            on_dispatch=self.dispatched_now, on_no_effect=self.had_no_effect
        )
        """The client to send with: bulk priority, dispatches journaled for this chunk."""
        self.checkpoint = checkpoint
        """What ``accept`` stored in an earlier attempt (e.g. a batch task id), if anything."""
        self.running = False
        """Whether the attempt's task has begun (its first request then waits in the governor)."""
        self.dispatched = False
        """Whether a request of this attempt got past the governor."""
        self.sent_at: float | None = None
        """Event-loop time of this attempt's first dispatch (since it last did nothing)."""
        self.requests = 0
        """Requests of this attempt that got past the governor."""
        self.closed = False
        self._may_have_acted = 0  # this attempt's dispatches not known to have done nothing
        self._journal = journal
        self._on_request = on_request
        self._on_throttled = on_throttled
        self._held = held
        self._waiting = False  # counted in ``held``: ready to go, waiting for quota

    def start(self) -> None:
        """The attempt's task has begun: its first request is waiting for a slot."""
        self.running = True
        self._wait()

    def close(self) -> None:
        """The attempt is over (settled): nothing of it is sent, or waits, any more."""
        self.closed = True
        self._go()

    def _wait(self) -> None:
        if not self._waiting and not self.closed and self._held is not None:
            self._waiting = True
            self._held.hold()

    def _go(self) -> None:
        if self._waiting and self._held is not None:
            self._waiting = False
            self._held.release()

    def dispatched_now(self) -> None:
        """A request of this chunk was granted its slot: journal it before it is sent."""
        if self.closed:
            raise asyncio.CancelledError  # the chunk was settled; never send after that
        self._go()
        self._journal.dispatch(self.index)
        self._may_have_acted += 1
        self.dispatched = True
        if self.sent_at is None:
            self.sent_at = asyncio.get_running_loop().time()
        self.requests += 1
        self._on_request()

    def had_no_effect(self, status: int | None = None) -> None:
        """A request of this chunk certainly did nothing (a 429: ``status``) and goes again.

        Once that holds for every request the attempt has sent, the chunk is pending again, not
        in flight: an interruption before the repeat goes leaves it to be sent, not "unknown".
        """
        if status == 429 and self._on_throttled is not None:
            self._on_throttled()
        self._may_have_acted -= 1
        if self._may_have_acted == 0 and not self.closed:
            self._journal.release(self.index)
            self.dispatched = False  # waiting for a slot again, as before its first dispatch
            self.sent_at = None  # its round trip starts when the repeat goes, not before
        if status == 429:
            self._wait()  # for the pause the 429 set, then a slot (a backoff is no quota wait)

    def accept(self, checkpoint: str) -> None:
        """Record that the API accepted the chunk for background work (resumable by a rerun)."""
        if not self.closed:
            self._journal.accept(self.index, checkpoint)
            self.checkpoint = checkpoint
