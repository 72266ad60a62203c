"""Optional on-disk memory of what was spent, so a restarted process respects the hour and day.

Without it, a job restarted mid-day believes nothing was spent and can blow the hour or day quota.
With ``LocalGovernor(state_path=...)`` dispatches are appended to a small SQLite file as
``(epoch, count)`` rows, coalesced and written at most once a second (one short WAL commit, well
under a millisecond, never per request). At start the rows still inside the longest window are
replayed into the log, mapped from wall-clock epoch onto the event loop's clock.

What a crash can lose: the dispatches of the last second before it (at most 20 at Inrō's
production quotas). A restarted process may then overshoot a window by that many; the server's
``X-RateLimit-*`` headers correct the count on the first response, and at worst one 429 pauses
everyone until ``Retry-After``. Writing ahead of every request would close that gap at the cost
of a disk write per request, which the guarantee does not need.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from inro_async.governor._base import Quota
from inro_async.governor._core import GovernorCore

__all__ = ["StateFile"]

_FLUSH_EVERY = 1.0


class StateFile:
    """The dispatch log of one governor in a SQLite file."""

    def __init__(self, path: Path, quotas: Sequence[Quota]) -> None:
        self.path = path
        self.horizon = max(q.period for q in quotas)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS dispatches (epoch REAL NOT NULL, count INTEGER NOT NULL)"
        )
        self._pending_count = 0
        self._pending_epoch = 0.0
        self._flush_handle: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<StateFile {self.path}>"

    def load_into(
        self, core: GovernorCore, now: Callable[[], float], epoch: Callable[[], float]
    ) -> int:
        """Replay the dispatches still inside the longest window; return how many."""
        now_epoch = epoch()
        try:
            offset = now_epoch - now()
        except RuntimeError:  # no running loop yet: loop.time() is monotonic, so is this
            import time

            offset = now_epoch - time.monotonic()
        rows = self._db.execute(
            "SELECT epoch, count FROM dispatches WHERE epoch > ? ORDER BY epoch",
            (now_epoch - self.horizon - core.margin,),
        ).fetchall()
        total = 0
        for at_epoch, count in rows:
            core.record(at_epoch - offset, int(count))
            total += int(count)
        return total

    def note_dispatch(self, core: GovernorCore, now: float, now_epoch: float) -> None:
        """Remember one dispatch; written within a second."""
        self._pending_count += 1
        self._pending_epoch = now_epoch
        if self._flush_handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._flush_handle = loop.call_later(_FLUSH_EVERY, self.flush)

    def flush(self) -> None:
        """Write pending dispatches (stamped with the latest: conservative) and prune old rows."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._pending_count == 0:
            return
        with self._db:
            self._db.execute(
                "INSERT INTO dispatches (epoch, count) VALUES (?, ?)",
                (self._pending_epoch, self._pending_count),
            )
            self._db.execute(
                "DELETE FROM dispatches WHERE epoch < ?",
                (self._pending_epoch - self.horizon - 60.0,),
            )
        self._pending_count = 0

    def save(self, core: GovernorCore, now: float, now_epoch: float) -> None:
        """Flush and close the file."""
        self.flush()
        self._db.close()
