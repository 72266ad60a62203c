"""Optional on-disk memory of what was spent, so a restarted process respects the hour and day.

Without it, a job restarted mid-day believes nothing was spent and can blow the hour or day quota.
With ``LocalGovernor(state_path=...)`` dispatches are appended to a small SQLite file as
``(epoch, count)`` rows, coalesced and written at most once a second (one short WAL commit, well
under a millisecond, never per request). At start the rows still inside the longest window are
replayed into the log, mapped from wall-clock epoch onto the event loop's clock.

When it is written: a second after the first unsaved dispatch while the event loop runs; at once
by ``LocalGovernor.aclose()`` (or leaving ``async with governor``) and by ``Client.aclose()``;
when the governor is garbage-collected; and when the interpreter exits normally, so a script
that just returns from ``asyncio.run`` loses nothing even without ``aclose``.

What a crash can lose (a kill, ``os._exit``, power loss): the dispatches of the last second
before it (at most 20 at Inrō's production quotas). A restarted process may then overshoot a
window by that many; the server's ``X-RateLimit-*`` headers correct the count on the first
response, and at worst one 429 pauses everyone until ``Retry-After``. Writing ahead of every
request would close that gap at the cost of a disk write per request, which the guarantee does
not need.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

from inro_async.governor._base import Quota
from inro_async.governor._core import GovernorCore

__all__ = ["StateFile"]

_FLUSH_EVERY = 1.0


class _Writer:
    """The connection and the unsaved dispatches; holds no reference to its ``StateFile``.

    Kept apart so that ``weakref.finalize`` can save what is pending when the ``StateFile`` is
    collected or the interpreter exits, without keeping the file (or its governor) alive.
    """

    def __init__(self, db: sqlite3.Connection, horizon: float) -> None:
        self.db: sqlite3.Connection | None = db
        self.horizon = horizon
        self.pending_count = 0
        self.pending_epoch = 0.0
        self.flush_handle: asyncio.TimerHandle | None = None
        self.flush_loop: asyncio.AbstractEventLoop | None = None

    def note(self, now_epoch: float) -> None:
        self.pending_count += 1
        self.pending_epoch = now_epoch
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self.flush_handle is not None and self.flush_loop is not loop:
            # Armed on a loop that has since ended (another asyncio.run): it will never fire.
            self.flush()
        if self.flush_handle is None:
            self.flush_handle = loop.call_later(_FLUSH_EVERY, self.flush)
            self.flush_loop = loop

    def flush(self) -> None:
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None
            self.flush_loop = None
        if self.pending_count == 0 or self.db is None:
            return
        with self.db:
            self.db.execute(
                "INSERT INTO dispatches (epoch, count) VALUES (?, ?)",
                (self.pending_epoch, self.pending_count),
            )
            self.db.execute(
                "DELETE FROM dispatches WHERE epoch < ?",
                (self.pending_epoch - self.horizon - 60.0,),
            )
        self.pending_count = 0

    def close(self) -> None:
        """Flush and close; also run by ``weakref.finalize`` at collection or interpreter exit."""
        try:
            self.flush()
        finally:
            if self.db is not None:
                self.db.close()
                self.db = None


class StateFile:
    """The dispatch log of one governor in a SQLite file."""

    def __init__(self, path: Path, quotas: Sequence[Quota]) -> None:
        self.path = path
        self.horizon = max(q.period for q in quotas)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS dispatches (epoch REAL NOT NULL, count INTEGER NOT NULL)"
        )
        self._writer = _Writer(db, self.horizon)
        # Runs once: at save(), when this object is collected, or at interpreter exit
        # (finalize's atexit hook), whichever comes first.
        self._finalizer = weakref.finalize(self, self._writer.close)

    def __repr__(self) -> str:
        return f"<StateFile {self.path}>"

    @property
    def closed(self) -> bool:
        """Whether ``save`` closed the file (dispatches noted afterwards are not written)."""
        return self._writer.db is None

    def load_into(
        self, core: GovernorCore, now: Callable[[], float], epoch: Callable[[], float]
    ) -> int:
        """Replay the dispatches still inside the longest window; return how many."""
        db = self._writer.db
        if db is None:
            raise RuntimeError(f"{self.path} is closed")
        now_epoch = epoch()
        try:
            offset = now_epoch - now()
        except RuntimeError:  # no running loop yet: loop.time() is monotonic, so is this
            import time

            offset = now_epoch - time.monotonic()
        rows = db.execute(
            "SELECT epoch, count FROM dispatches WHERE epoch > ? ORDER BY epoch",
            (now_epoch - self.horizon - core.margin,),
        ).fetchall()
        total = 0
        for at_epoch, count in rows:
            core.restore(at_epoch - offset, int(count))
            total += int(count)
        return total

    def note_dispatch(self, core: GovernorCore, now: float, now_epoch: float) -> None:
        """Remember one dispatch; written within a second."""
        self._writer.note(now_epoch)

    def flush(self) -> None:
        """Write pending dispatches (stamped with the latest: conservative) and prune old rows."""
        self._writer.flush()

    def save(self, core: GovernorCore, now: float, now_epoch: float) -> None:
        """Flush and close the file (again: nothing)."""
        self._finalizer()
