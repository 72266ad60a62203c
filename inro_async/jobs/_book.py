"""The chunk book: every chunk's state and the only legal moves between states. Pure: no I/O.

A job's items are split into chunks (one request each). Per chunk::

    pending ──dispatch──▶ in_flight ──▶ done | failed | unknown
       ▲                     │  └──accept──▶ accepted ──▶ done | failed | unknown
       └─────release─────────┘   (a request that certainly had no effect: 429, not connected)

``ChunkBook`` takes ``now`` and data and returns new ``ChunkRecord``s; it never touches a file,
a clock or a socket (h11-style), so every rule of the journal is tested here without a disk.
The ``Journal`` (``_journal.py``) stores each move before the caller acts on it.

A chunk found ``in_flight`` when a journal is opened was interrupted mid-request: ``recover``
makes it ``unknown``, and it is never sent again unless the caller says so (``resend_unknown``).
A ``done`` chunk whose items include failed ones goes back ``in_flight`` when a rerun retries
those items (work that may be repeated only); it keeps its outcomes meanwhile, and that attempt
sends, and later records, its failed items only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from inro_async.errors import InroError
from inro_async.jobs._items import ItemStatus, Outcome

__all__ = [
    "JOURNAL_FORMAT",
    "ChunkBook",
    "ChunkRecord",
    "ChunkStatus",
    "IllegalTransitionError",
    "JournalMeta",
    "decode_outcomes",
    "encode_outcomes",
    "item_counts",
    "item_outcomes",
    "record_problem",
    "records_problem",
]

JOURNAL_FORMAT = 1
"""The journal's format version; a journal written in another one is not resumed."""


class ChunkStatus(StrEnum):
    """Where one chunk stands; stored verbatim in the journal."""

    PENDING = "pending"
    """Not sent yet (or sent and certainly without effect)."""
    IN_FLIGHT = "in_flight"
    """Its request was given a slot and is being sent or awaited."""
    ACCEPTED = "accepted"
    """The API accepted it for background work (a batch task) that is not finished yet."""
    DONE = "done"
    """Finished: per-item outcomes recorded."""
    FAILED = "failed"
    """The call certainly did not take effect; a rerun sends it again."""
    UNKNOWN = "unknown"
    """Sent without a usable answer; not sent again unless asked (or the work is idempotent)."""


_MOVES: dict[ChunkStatus, frozenset[ChunkStatus]] = {
    ChunkStatus.PENDING: frozenset({ChunkStatus.IN_FLIGHT}),
    ChunkStatus.IN_FLIGHT: frozenset(
        {
            ChunkStatus.PENDING,
            ChunkStatus.ACCEPTED,
            ChunkStatus.DONE,
            ChunkStatus.FAILED,
            ChunkStatus.UNKNOWN,
        }
    ),
    ChunkStatus.ACCEPTED: frozenset(
        {ChunkStatus.DONE, ChunkStatus.FAILED, ChunkStatus.UNKNOWN, ChunkStatus.IN_FLIGHT}
    ),
    ChunkStatus.FAILED: frozenset({ChunkStatus.IN_FLIGHT}),
    ChunkStatus.UNKNOWN: frozenset({ChunkStatus.IN_FLIGHT}),
    # Only to retry its failed items, and only for work that may be repeated (see dispatch).
    ChunkStatus.DONE: frozenset({ChunkStatus.IN_FLIGHT}),
}


class IllegalTransitionError(InroError):
    """A chunk was asked to move between two states the journal's state machine forbids."""


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """One chunk: the positions of its items in the job's item list, and its state."""

    index: int
    start: int
    stop: int
    status: ChunkStatus = ChunkStatus.PENDING
    attempts: int = 0
    """How many times a request for it was dispatched, over every run."""
    checkpoint: str | None = None
    """Operation data needed to resume it (e.g. the batch task id of an accepted bulk update)."""
    outcomes: str | None = None
    """One ``ItemStatus`` letter per item, once it is done (see ``encode_outcomes``)."""
    reasons: str | None = None
    """JSON object: position in chunk → the API's reason or the item's error."""
    error: str | None = None
    """The chunk-level error for failed and unknown chunks."""
    updated_at: float = 0.0

    @property
    def size(self) -> int:
        """Number of items in the chunk."""
        return self.stop - self.start

    @property
    def items(self) -> range:
        """Positions of its items in the job's item list."""
        return range(self.start, self.stop)

    @property
    def has_failed_items(self) -> bool:
        """Whether an earlier attempt recorded items as failed (the rest have final outcomes)."""
        return self.outcomes is not None and ItemStatus.FAILED.value in self.outcomes

    @property
    def to_send(self) -> range | list[int]:
        """Positions an attempt sends: every item, or only the failed ones of a retried chunk.

        A chunk keeps its ``outcomes`` while its failed items are retried, so whatever happens
        to that retry (a crash, a lost answer) never touches the items that were finished.
        """
        if self.outcomes is None:
            return self.items
        failed = ItemStatus.FAILED.value
        return [self.start + i for i, letter in enumerate(self.outcomes) if letter == failed]


def encode_outcomes(outcomes: Sequence[Outcome]) -> tuple[str, str | None]:
    """Per-item outcomes as the journal keeps them: a string of letters and a reasons JSON."""
    letters = "".join([outcome.status._value_ for outcome in outcomes])  # not .value: ~5x
    reasons = {str(i): o.reason for i, o in enumerate(outcomes) if o.reason is not None}
    return letters, (json.dumps(reasons, ensure_ascii=False) if reasons else None)


def decode_outcomes(letters: str, reasons: str | None) -> list[Outcome]:
    """The inverse of ``encode_outcomes``."""
    by_position: dict[str, str] = json.loads(reasons) if reasons else {}
    return [
        Outcome(ItemStatus(letter), by_position.get(str(i))) for i, letter in enumerate(letters)
    ]


class ChunkBook:
    """Every chunk of a job and the legal moves between states; pure, no I/O."""

    def __init__(self, records: Iterable[ChunkRecord]) -> None:
        self._records = {record.index: record for record in records}

    @classmethod
    def from_ranges(cls, ranges: Iterable[range]) -> ChunkBook:
        """A fresh book: one pending chunk per range, numbered from 0."""
        return cls(ChunkRecord(index, r.start, r.stop) for index, r in enumerate(ranges))

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[ChunkRecord]:
        return iter(sorted(self._records.values(), key=lambda r: r.index))

    def __getitem__(self, index: int) -> ChunkRecord:
        return self._records[index]

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for record in self._records.values():
            counts[record.status.value] = counts.get(record.status.value, 0) + 1
        inner = ", ".join(f"{status}={n}" for status, n in sorted(counts.items()))
        return f"<ChunkBook {len(self)} chunks: {inner}>"

    def _move(self, index: int, to: ChunkStatus, now: float, **changes: object) -> ChunkRecord:
        record = self._records[index]
        if to not in _MOVES[record.status]:
            raise IllegalTransitionError(
                f"chunk {index} cannot move from {record.status.value} to {to.value}"
            )
        new = replace(record, status=to, updated_at=now, **changes)  # type: ignore[arg-type]
        self._records[index] = new
        return new

    def dispatch(self, index: int, now: float) -> ChunkRecord | None:
        """The chunk's request got its slot: → in_flight. ``None`` when nothing changes.

        Repeated dispatches of one chunk (transport retries, batch-task polls) change nothing.
        """
        record = self._records[index]
        if record.status in (ChunkStatus.IN_FLIGHT, ChunkStatus.ACCEPTED):
            return None
        if record.status is ChunkStatus.DONE and not record.has_failed_items:
            raise IllegalTransitionError(
                f"chunk {index} cannot move from done to in_flight: nothing in it failed"
            )
        return self._move(
            index, ChunkStatus.IN_FLIGHT, now, attempts=record.attempts + 1, error=None
        )

    def release(self, index: int, now: float) -> ChunkRecord | None:
        """The request certainly had no effect (throttled, never connected): → pending."""
        if self._records[index].status is not ChunkStatus.IN_FLIGHT:
            return None
        return self._move(index, ChunkStatus.PENDING, now)

    def accept(self, index: int, checkpoint: str, now: float) -> ChunkRecord:
        """The API took the chunk for background work; keep what is needed to follow it up."""
        return self._move(index, ChunkStatus.ACCEPTED, now, checkpoint=checkpoint)

    def finish(self, index: int, outcomes: Sequence[Outcome], now: float) -> ChunkRecord:
        """The chunk's answer arrived: → done, with one outcome per item sent.

        For a retry of a chunk's failed items, the new outcomes replace those items' only.
        """
        record = self._records[index]
        if ChunkStatus.DONE not in _MOVES[record.status]:
            raise IllegalTransitionError(
                f"chunk {index} cannot move from {record.status.value} to done"
            )
        sent = record.to_send
        if len(outcomes) != len(sent):
            raise ValueError(f"chunk {index} sent {len(sent)} items but {len(outcomes)} outcomes")
        if record.outcomes is not None:
            merged = decode_outcomes(record.outcomes, record.reasons)
            for position, outcome in zip(sent, outcomes, strict=True):
                merged[position - record.start] = outcome
            outcomes = merged
        letters, reasons = encode_outcomes(outcomes)
        # The checkpoint (a batch task id) was this attempt's; a retry of failed items is a new
        # request and must not follow the old task.
        return self._move(
            index, ChunkStatus.DONE, now, outcomes=letters, reasons=reasons, checkpoint=None
        )

    def fail(self, index: int, error: str, now: float, *, unknown: bool) -> ChunkRecord:
        """The call failed: → unknown when it may have been processed, else → failed."""
        to = ChunkStatus.UNKNOWN if unknown else ChunkStatus.FAILED
        return self._move(index, to, now, error=error)

    def recover(self, now: float) -> list[ChunkRecord]:
        """After a crash: chunks left in flight may have been processed, so they are unknown."""
        return [
            self._move(r.index, ChunkStatus.UNKNOWN, now, error="interrupted while in flight")
            for r in list(self._records.values())
            if r.status is ChunkStatus.IN_FLIGHT
        ]

    def to_run(self, *, resend_unknown: bool, retry_failed_items: bool = False) -> list[int]:
        """Chunks this run should work on, in order.

        Pending, failed and accepted ones, plus unknown ones when ``resend_unknown``, plus done
        ones with failed items when ``retry_failed_items``.
        """
        wanted = {ChunkStatus.PENDING, ChunkStatus.FAILED, ChunkStatus.ACCEPTED}
        if resend_unknown:
            wanted.add(ChunkStatus.UNKNOWN)
        return [
            r.index
            for r in self
            if r.status in wanted
            or (retry_failed_items and r.status is ChunkStatus.DONE and r.has_failed_items)
        ]


@dataclass(frozen=True, slots=True)
class JournalMeta:
    """What a journal was created for; a rerun must match it to resume."""

    kind: str
    """The operation, e.g. ``send_many``."""
    payload_fingerprint: str
    """Hash of what is done to every item (the message, the scenario and its data…)."""
    items_fingerprint: str
    """Hash of the item list and its chunking."""
    total: int
    """Distinct items."""
    created_at: float = field(default_factory=time.time)
    version: int = JOURNAL_FORMAT
    base_url: str | None = None
    """The API root the job ran against (``None``: a journal older than this field)."""
    token_fingerprint: str | None = None
    """``token_fingerprint(token)`` of the client's token; the token itself is never stored."""


_ACCEPTED = "accepted by the API for background work; a rerun follows it up"
_IN_DOUBT = "in flight: being sent now, or interrupted mid-request (a rerun marks it unknown)"


def _attempt(record: ChunkRecord) -> Outcome | None:
    """The state of the items the chunk's attempt sends; ``None`` for a done chunk."""
    status = record.status
    if status is ChunkStatus.DONE:
        return None
    if status is ChunkStatus.PENDING:
        return Outcome(ItemStatus.PENDING)
    if status is ChunkStatus.ACCEPTED:
        return Outcome(ItemStatus.PENDING, _ACCEPTED)
    if status is ChunkStatus.IN_FLIGHT:
        return Outcome(ItemStatus.UNKNOWN, _IN_DOUBT)
    if status is ChunkStatus.UNKNOWN:
        return Outcome(ItemStatus.UNKNOWN, record.error)
    return Outcome(ItemStatus.FAILED, record.error)


def item_outcomes(record: ChunkRecord) -> list[Outcome]:
    """Where each item of a chunk stands according to its record, in the chunk's order.

    A done chunk's items have their recorded outcomes. The items an attempt sends (all of them,
    or only the failed ones of a retried chunk) take the chunk's state: ``pending`` before it
    is sent and while the API works on it (``accepted``: a rerun follows it up), ``unknown``
    while in flight or after a lost answer, ``failed`` with the chunk's error. The other items
    of a retried chunk keep their outcomes.
    """
    if record.outcomes is not None:
        outcomes = decode_outcomes(record.outcomes, record.reasons)
    else:
        outcomes = [Outcome(ItemStatus.PENDING)] * record.size
    attempt = _attempt(record)
    if attempt is not None:
        for position in record.to_send:
            outcomes[position - record.start] = attempt
    return outcomes


def item_counts(record: ChunkRecord) -> dict[ItemStatus, int]:
    """How many of the chunk's items stand in each state: ``item_outcomes`` counted, fast."""
    counts = dict.fromkeys(ItemStatus, 0)
    sent = record.to_send
    if record.outcomes is not None:
        for status in ItemStatus:
            counts[status] = record.outcomes.count(status.value)
    attempt = _attempt(record)
    if attempt is not None:
        if record.outcomes is not None:
            counts[ItemStatus.FAILED] -= len(sent)  # a retry sends exactly the failed items
        counts[attempt.status] += len(sent)
    return counts


_LETTERS = frozenset(status.value for status in ItemStatus)


def record_problem(record: ChunkRecord) -> str | None:
    """What makes a stored chunk impossible (a damaged journal), or ``None`` when it is sound."""
    if not 0 <= record.start <= record.stop or record.attempts < 0:
        return f"impossible positions {record.start}..{record.stop}"
    if record.outcomes is not None:
        if len(record.outcomes) != record.size:
            return f"{len(record.outcomes)} outcomes for {record.size} items"
        if not set(record.outcomes) <= _LETTERS:
            return f"unknown outcome letters in {record.outcomes[:20]!r}"
    elif record.status is ChunkStatus.DONE:
        return "no outcomes though it is done"
    if record.reasons is not None:
        try:
            reasons = json.loads(record.reasons)
        except ValueError:
            reasons = None
        if not isinstance(reasons, dict):
            return "reasons that are not a JSON object"
    return None


def records_problem(records: Sequence[ChunkRecord], total: int) -> str | None:
    """What makes a journal's chunks impossible for ``total`` items, or ``None``.

    A job's chunks are numbered from 0 and cover its items once, in order.
    """
    position = 0
    for expected, record in enumerate(records):
        if record.index != expected:
            return f"chunk {expected} is missing"
        if record.start != position:
            return f"chunk {expected} starts at item {record.start}, not {position}"
        position = record.stop
    if position != total:
        return f"its chunks cover {position:,} items, not the {total:,} it was created for"
    return None
