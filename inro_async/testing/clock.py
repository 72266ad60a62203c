"""A clock tests can set and advance, for the fake server's rate windows and timestamps."""

from __future__ import annotations

import time

from inro_async.errors import InvalidArgumentError

__all__ = ["ManualClock"]


class ManualClock:
    """Epoch seconds that move only when told: ``clock.advance(3600)`` is an hour, instantly."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)

    def __call__(self) -> float:
        """Now, in epoch seconds."""
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now!r})"

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise InvalidArgumentError(
                "seconds", f"must be >= 0: a clock does not go backwards, got {seconds!r}"
            )
        self._now += seconds
        return self._now

    def set(self, epoch: float) -> None:
        """Jump to ``epoch``."""
        self._now = float(epoch)
