"""The job journal: which chunk is where, kept so a crashed or interrupted job resumes safely.

Three pieces, h11-style, each in its own module:

* ``ChunkBook`` (``_book.py``) is pure bookkeeping: every chunk's state and the only legal moves
  between states. It takes ``now`` and data and returns new records; it never touches a file.
* A ``Store`` (``_stores.py``) keeps the records: ``MemoryStore`` for unnamed jobs,
  ``SqliteStore`` (one small SQLite file, committed with ``synchronous=FULL``) for ``job="name"``.
* ``Journal`` (here) applies each move to the store *before* the caller acts on it.

``in_flight`` is committed when the governor grants the request its slot, immediately before the
bytes go out, so a chunk that was only *waiting* for quota when the process died is still
``pending``; see ``_book.py`` for the states. The journal also records where the job ran (base
URL, token fingerprint): its work was done there and nowhere else, so a rerun against another
server or organization is refused. ``journal_reader.py`` reads journals on disk for people.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from inro_async.errors import InvalidArgumentError, JobLockedError, JobMismatchError
from inro_async.jobs._book import (
    JOURNAL_FORMAT,
    ChunkBook,
    ChunkRecord,
    ChunkStatus,
    IllegalTransitionError,
    JournalMeta,
    decode_outcomes,
    encode_outcomes,
)
from inro_async.jobs._items import Outcome
from inro_async.jobs._stores import MemoryStore, SqliteStore, Store

# Re-exported: the job engine imports these from here.
__all__ = [
    "JOURNAL_FORMAT",
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
    "Store",
    "decode_outcomes",
    "encode_outcomes",
    "jobs_directory",
    "journal_path",
]

JOBS_DIR_ENV = "INRO_JOBS_DIR"
"""Directory for journals of jobs given by name (default: ``$XDG_STATE_HOME/inro_async/jobs``)."""
JOURNAL_SUFFIX = ".sqlite3"
"""The file name ending of a named job's journal."""


def jobs_directory() -> Path:
    """Where journals of jobs given by name live: ``$INRO_JOBS_DIR``, else the state directory.

    The default is ``$XDG_STATE_HOME/inro_async/jobs``, which is ``~/.local/state/inro_async/jobs``.
    """
    base = os.environ.get(JOBS_DIR_ENV)
    if base:
        return Path(base).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "inro_async" / "jobs"


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
    return jobs_directory() / f"{job}{JOURNAL_SUFFIX}"


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
            _check_same_job(name or str(store), stored_meta, meta, getattr(store, "path", None))
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


def _check_same_job(
    name: str, stored: JournalMeta, wanted: JournalMeta, where: Path | None = None
) -> None:
    """Refuse to resume a journal written for other work, saying what differs (and where)."""
    journal = f" {str(where)!r}" if where is not None else ""
    hint = (
        "rerun with the same arguments, or pick another job name (or delete the journal"
        f"{journal}: inro jobs delete NAME, or inro_async.jobs.delete_journal)"
    )
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
