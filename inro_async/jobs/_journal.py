"""The job journal: which chunk is where, kept so a crashed or interrupted job resumes safely.

Two layers, h11-style:

* ``ChunkBook`` is pure bookkeeping: every chunk's state and the only legal moves between states.
  It takes ``now`` and data and returns new records; it never touches a file.
* ``Journal`` applies each move to a store *before* the caller acts on it: ``MemoryStore`` for
  unnamed jobs, ``SqliteStore`` (one small SQLite file, committed with ``synchronous=FULL``) for
  ``job="name"``.

Per chunk::

    pending ──dispatch──▶ in_flight ──▶ done | failed | unknown
       ▲                     │  └──accept──▶ accepted ──▶ done | failed | unknown
       └─────release─────────┘   (a request that certainly had no effect: 429, not connected)

``in_flight`` is committed when the governor grants the request its slot, immediately before the
bytes go out, so a chunk that was only *waiting* for quota when the process died is still
``pending``. A chunk found ``in_flight`` when a journal is opened was interrupted mid-request:
it becomes ``unknown`` and is never sent again unless the caller says so (``resend_unknown``).

A ``done`` chunk whose items include failed ones goes back ``in_flight`` when a rerun retries
those items (work that may be repeated only: see ``Operation.idempotent``); it keeps its outcomes
meanwhile, and that attempt sends, and later records, its failed items only.

The journal also records where the job ran (base URL, token fingerprint): its work was done
there and nowhere else, so a rerun against another server or organization is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import IO, Protocol

from inro_async.errors import InroError, InvalidArgumentError
from inro_async.jobs._items import ItemStatus, Outcome

__all__ = [
    "ChunkBook",
    "ChunkRecord",
    "ChunkStatus",
    "IllegalTransitionError",
    "JobLockedError",
    "JobMismatchError",
    "Journal",
    "JournalMeta",
    "MemoryStore",
    "SqliteStore",
    "decode_outcomes",
    "encode_outcomes",
    "journal_path",
]

SCHEMA_VERSION = 1
JOBS_DIR_ENV = "INRO_JOBS_DIR"
"""Directory for journals of jobs given by name (default: ``$XDG_STATE_HOME/inro_async/jobs``)."""


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


class JobMismatchError(InroError):
    """A journal exists under this job name for different work; it will not be resumed."""


class JobLockedError(InroError):
    """Another process is running this job right now."""


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
    version: int = SCHEMA_VERSION
    base_url: str | None = None
    """The API root the job ran against (``None``: a journal older than this field)."""
    token_fingerprint: str | None = None
    """``token_fingerprint(token)`` of the client's token; the token itself is never stored."""


class Store(Protocol):
    """Where a journal's records live."""

    def load(self) -> tuple[JournalMeta, list[ChunkRecord]] | None:
        """The stored meta and chunks, or ``None`` for a new journal."""
        ...

    def create(self, meta: JournalMeta, records: Sequence[ChunkRecord]) -> None:
        """Store a new journal in one transaction."""
        ...

    def save(self, records: Sequence[ChunkRecord]) -> None:
        """Durably store changed records, in one transaction."""
        ...

    def adopt_identity(self, meta: JournalMeta) -> None:
        """Record ``meta``'s base URL and token fingerprint in a journal that had none."""
        ...

    def close(self) -> None:
        """Release the file and the lock."""
        ...


class MemoryStore:
    """A store that forgets: unnamed jobs keep their bookkeeping in memory only."""

    def __init__(self) -> None:
        self.meta: JournalMeta | None = None
        self.records: dict[int, ChunkRecord] = {}
        self.saves = 0

    def load(self) -> tuple[JournalMeta, list[ChunkRecord]] | None:
        """``None`` until ``create`` was called."""
        if self.meta is None:
            return None
        return self.meta, list(self.records.values())

    def create(self, meta: JournalMeta, records: Sequence[ChunkRecord]) -> None:
        """Keep the meta and records."""
        self.meta = meta
        self.records = {r.index: r for r in records}

    def save(self, records: Sequence[ChunkRecord]) -> None:
        """Keep the changed records."""
        self.saves += 1
        for record in records:
            self.records[record.index] = record

    def adopt_identity(self, meta: JournalMeta) -> None:
        """Keep ``meta``'s identity."""
        if self.meta is not None:
            self.meta = replace(
                self.meta, base_url=meta.base_url, token_fingerprint=meta.token_fingerprint
            )

    def close(self) -> None:
        """Nothing to release."""


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def journal_path(job: str | os.PathLike[str]) -> Path:
    """Where a job's journal lives: a path as given, or a name under the jobs directory.

    A string containing a path separator or ending in ``.sqlite``/``.sqlite3``/``.db`` is a path;
    anything else is a name (letters, digits, ``.``, ``_``, ``-``) stored as
    ``$INRO_JOBS_DIR/<name>.sqlite3`` (default ``$XDG_STATE_HOME/inro_async/jobs``, which is
    ``~/.local/state/inro_async/jobs``), so a named job resumes from any working directory.
    """
    if isinstance(job, os.PathLike):
        return Path(job)
    if not isinstance(job, str) or not job:
        raise InvalidArgumentError("job", f"must be a name or a path, got {job!r}")
    if "/" in job or os.sep in job or job.endswith((".sqlite", ".sqlite3", ".db")):
        return Path(job).expanduser()
    if not _NAME.match(job):
        raise InvalidArgumentError(
            "job", f"a job name uses letters, digits, '.', '_' and '-' only, got {job!r}"
        )
    base = os.environ.get(JOBS_DIR_ENV)
    if base:
        directory = Path(base).expanduser()
    else:
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        directory = Path(state) / "inro_async" / "jobs"
    return directory / f"{job}.sqlite3"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    idx INTEGER PRIMARY KEY,
    start INTEGER NOT NULL,
    stop INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    checkpoint TEXT,
    outcomes TEXT,
    reasons TEXT,
    error TEXT,
    updated_at REAL NOT NULL
);
"""

_COLUMNS = "idx, start, stop, status, attempts, checkpoint, outcomes, reasons, error, updated_at"
# Built from the constant column list above, never from input.
_INSERT = f"INSERT INTO chunks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_REPLACE = f"INSERT OR REPLACE INTO chunks ({_COLUMNS}) VALUES ({', '.join('?' * 10)})"  # noqa: S608
_SELECT = f"SELECT {_COLUMNS} FROM chunks ORDER BY idx"  # noqa: S608


def _identity_rows(meta: JournalMeta) -> list[tuple[str, str]]:
    rows = [("base_url", meta.base_url), ("token_fingerprint", meta.token_fingerprint)]
    return [(key, value) for key, value in rows if value is not None]


def _row(record: ChunkRecord) -> tuple[object, ...]:
    return (
        record.index,
        record.start,
        record.stop,
        record.status.value,
        record.attempts,
        record.checkpoint,
        record.outcomes,
        record.reasons,
        record.error,
        record.updated_at,
    )


class SqliteStore:
    """One SQLite file per job, locked against a second process running the same job.

    Each ``save`` is one transaction committed with ``synchronous=FULL`` (fsync on commit), so a
    record that was saved survives a killed process and a power cut. The lock is an advisory
    ``flock`` on ``<journal>.lock``: the OS drops it when the process dies, so a crash never
    leaves a job locked.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._lock(path)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per save.
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except BaseException:
            self._lock_file.close()
            raise

    def __repr__(self) -> str:
        return f"<SqliteStore {str(self.path)!r}>"

    @staticmethod
    def _lock(path: Path) -> IO[str]:
        lock_file = open(path.with_name(path.name + ".lock"), "a+")  # noqa: SIM115 - held open
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock, documented
            return lock_file
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            owner = lock_file.read().strip() or "another process"
            lock_file.close()
            raise JobLockedError(
                f"the job journal {str(path)!r} is in use by {owner}; wait for it to finish "
                "(a killed process releases it at once)"
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f"pid {os.getpid()}")
        lock_file.flush()
        return lock_file

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def load(self) -> tuple[JournalMeta, list[ChunkRecord]] | None:
        """The stored meta and chunks, or ``None`` for a new file."""
        meta_rows: Mapping[str, str] = dict(self._db.execute("SELECT key, value FROM meta"))
        if not meta_rows:
            return None
        try:
            meta = JournalMeta(
                kind=meta_rows["kind"],
                payload_fingerprint=meta_rows["payload_fingerprint"],
                items_fingerprint=meta_rows["items_fingerprint"],
                total=int(meta_rows["total"]),
                created_at=float(meta_rows["created_at"]),
                version=int(meta_rows["version"]),
                # Absent from journals written before the identity was recorded.
                base_url=meta_rows.get("base_url"),
                token_fingerprint=meta_rows.get("token_fingerprint"),
            )
        except (KeyError, ValueError) as exc:
            raise JobMismatchError(
                f"{str(self.path)!r} is not a readable job journal ({exc}); "
                "use another job name or delete the file"
            ) from None
        records = [
            ChunkRecord(
                index=row[0],
                start=row[1],
                stop=row[2],
                status=ChunkStatus(row[3]),
                attempts=row[4],
                checkpoint=row[5],
                outcomes=row[6],
                reasons=row[7],
                error=row[8],
                updated_at=row[9],
            )
            for row in self._db.execute(_SELECT)
        ]
        return meta, records

    def create(self, meta: JournalMeta, records: Sequence[ChunkRecord]) -> None:
        """Write the meta and every chunk in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("kind", meta.kind),
                    ("payload_fingerprint", meta.payload_fingerprint),
                    ("items_fingerprint", meta.items_fingerprint),
                    ("total", str(meta.total)),
                    ("created_at", repr(meta.created_at)),
                    ("version", str(meta.version)),
                    *_identity_rows(meta),
                ],
            )
            db.executemany(
                _INSERT,
                [_row(r) for r in records],
            )

    def save(self, records: Sequence[ChunkRecord]) -> None:
        """Replace the given chunks' rows in one durable transaction."""
        if not records:
            return
        with self._transaction() as db:
            db.executemany(
                _REPLACE,
                [_row(r) for r in records],
            )

    def adopt_identity(self, meta: JournalMeta) -> None:
        """Write ``meta``'s base URL and token fingerprint, in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", _identity_rows(meta)
            )

    def close(self) -> None:
        """Close the database and release the lock."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._lock_file.close()


class Journal:
    """A ``ChunkBook`` whose every move is stored before the caller acts on it."""

    def __init__(
        self,
        store: Store,
        meta: JournalMeta,
        ranges: Sequence[range],
        *,
        name: str | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.store = store
        self.name = name
        self._clock = clock
        loaded = store.load()
        self.resumed = loaded is not None
        if loaded is None:
            self.meta = meta
            self.book = ChunkBook.from_ranges(ranges)
            store.create(meta, list(self.book))
            self.recovered: list[ChunkRecord] = []
        else:
            stored_meta, records = loaded
            _check_same_job(name or str(store), stored_meta, meta)
            if stored_meta.base_url is None and stored_meta.token_fingerprint is None:
                # Written before journals recorded where they ran: nothing to compare with,
                # so this run's identity is adopted and every later run is held to it.
                store.adopt_identity(meta)
                stored_meta = replace(
                    stored_meta, base_url=meta.base_url, token_fingerprint=meta.token_fingerprint
                )
            self.meta = stored_meta
            self.book = ChunkBook(records)
            self.recovered = self.book.recover(clock())
            store.save(self.recovered)

    def __repr__(self) -> str:
        return f"<Journal {self.name or 'unnamed'} {self.book!r}>"

    def dispatch(self, index: int) -> None:
        """Record that the chunk's request is about to be sent."""
        record = self.book.dispatch(index, self._clock())
        if record is not None:
            self.store.save([record])

    def release(self, index: int) -> None:
        """Record that the chunk's request certainly had no effect."""
        record = self.book.release(index, self._clock())
        if record is not None:
            self.store.save([record])

    def accept(self, index: int, checkpoint: str) -> None:
        """Record that the API accepted the chunk for background work."""
        self.store.save([self.book.accept(index, checkpoint, self._clock())])

    def finish(self, index: int, outcomes: Sequence[Outcome]) -> None:
        """Record the per-item outcomes of the items the chunk sent."""
        self.store.save([self.book.finish(index, outcomes, self._clock())])

    def fail(self, index: int, error: str, *, unknown: bool) -> None:
        """Record that the chunk failed (``unknown``: it may have been processed)."""
        self.store.save([self.book.fail(index, error, self._clock(), unknown=unknown)])

    def close(self) -> None:
        """Release the store."""
        self.store.close()


class Clock(Protocol):
    """Returns the time in epoch seconds."""

    def __call__(self) -> float:
        """Now."""
        ...


def _check_same_job(name: str, stored: JournalMeta, wanted: JournalMeta) -> None:
    """Refuse to resume a journal written for other work, saying what differs."""
    hint = "rerun with the same arguments, or pick another job name (or delete the journal)"
    if stored.version != wanted.version:
        raise JobMismatchError(
            f"job {name!r} was written by journal format {stored.version}, "
            f"this version reads {wanted.version}; {hint}"
        )
    _check_same_place(name, stored, wanted, hint)
    if stored.kind != wanted.kind:
        raise JobMismatchError(f"job {name!r} is a {stored.kind} job, not {wanted.kind}; {hint}")
    if stored.payload_fingerprint != wanted.payload_fingerprint:
        what = {
            "send_many": "message",
            "trigger_many": "scenario or data",
        }.get(wanted.kind, "operation")
        raise JobMismatchError(
            f"job {name!r} was started with a different {what}; resuming it would mix two "
            f"jobs under one name; {hint}"
        )
    if stored.items_fingerprint != wanted.items_fingerprint or stored.total != wanted.total:
        raise JobMismatchError(
            f"job {name!r} was started with a different list of items ({stored.total:,} "
            f"distinct then, {wanted.total:,} now) or chunk size; {hint}"
        )


def _check_same_place(name: str, stored: JournalMeta, wanted: JournalMeta, hint: str) -> None:
    """Refuse to resume against another server or organization: it has none of the work.

    Either side may be unknown (``None``): a journal older than the identity fields, or a caller
    that names no place; only two known values that differ are a mismatch.
    """
    urls = (stored.base_url, wanted.base_url)
    if None not in urls and urls[0] != urls[1]:
        raise JobMismatchError(
            f"job {name!r} ran against {stored.base_url}, not {wanted.base_url}; what it "
            f"finished there was not done here, so resuming would skip it; {hint}"
        )
    fingerprints = (stored.token_fingerprint, wanted.token_fingerprint)
    if None not in fingerprints and fingerprints[0] != fingerprints[1]:
        raise JobMismatchError(
            f"job {name!r} ran with a different token (another organization, or a token "
            f"regenerated since); what it finished was not done for this one; {hint}"
        )
