"""The fake server's rate limiter, sans I/O: the strict judge of every client's pacing.

Deliberately independent of the SDK's governor (it must catch the governor's mistakes, not
share them). Two modes:

* ``sliding``: a request is accepted only if fewer than L requests were *accepted* in the
  half-open window ``(now - W, now]``: no interval of length W ever holds more than L accepted
  requests, the strictest a server can be. Throttled requests are not counted.
* ``fixed``: windows are aligned to epoch multiples of W (``[kW, (k+1)W)``) and every request
  counts, throttled or not, as Rack::Attack-style Rails throttles do; a request is throttled when
  its window's count (itself included) exceeds L.

Every verdict carries the values of ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` for the
most constrained window (fewest remaining; ties go to the longest window) and, when throttled,
``Retry-After`` in whole seconds rounded up (docs/wire.md, "Rate limits").
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from inro_async.errors import InvalidArgumentError
from inro_async.governor._base import Quota

__all__ = ["Mode", "RateLimiter", "Verdict"]

Mode = Literal["sliding", "fixed"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    """``X-RateLimit-Limit``: the limit of the most constrained window."""
    remaining: int
    """``X-RateLimit-Remaining``: requests left in that window after this one."""
    reset: int
    """``X-RateLimit-Reset``: whole seconds until that window frees a slot."""
    retry_after: int | None = None
    """``Retry-After`` (whole seconds, rounded up) when throttled."""
    quota: Quota | None = None
    """The quota that throttled the request."""

    def headers(self) -> dict[str, str]:
        """The response headers this verdict implies."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def _ceil(seconds: float) -> int:
    # Guard against 0.9999999 from float error turning 1 s into 1 and 1.0000001 into 2.
    return max(0, math.ceil(round(seconds, 6)))


class RateLimiter:
    """Quotas + mode + clock readings in; accept/reject and header values out."""

    def __init__(self, quotas: Sequence[Quota], mode: Mode = "sliding") -> None:
        if mode not in ("sliding", "fixed"):
            raise InvalidArgumentError("mode", f"must be 'sliding' or 'fixed', got {mode!r}")
        if not quotas:
            raise InvalidArgumentError("quotas", "at least one quota is needed")
        self.quotas = tuple(quotas)
        self.mode: Mode = mode
        self._accepted: list[deque[float]] = [deque() for _ in self.quotas]
        self._windows: list[tuple[int, int]] = [(0, 0) for _ in self.quotas]  # (index, count)

    def __repr__(self) -> str:
        return f"<RateLimiter {self.mode} {', '.join(map(str, self.quotas))}>"

    # -- sliding -----------------------------------------------------------------------------

    def _expire(self, now: float) -> None:
        for quota, log in zip(self.quotas, self._accepted, strict=True):
            horizon = now - quota.period
            while log and log[0] <= horizon:
                log.popleft()

    def _sliding(self, now: float) -> Verdict:
        self._expire(now)
        throttled_by: Quota | None = None
        retry_after = 0.0
        for quota, log in zip(self.quotas, self._accepted, strict=True):
            if len(log) >= quota.limit:
                # The slot frees when the (len - limit + 1)-th oldest accepted request leaves.
                frees = log[len(log) - quota.limit] + quota.period - now
                if throttled_by is None or frees > retry_after:
                    throttled_by, retry_after = quota, frees
        if throttled_by is None:
            for log in self._accepted:
                log.append(now)
        verdict = self._headers_sliding(now)
        if throttled_by is not None:
            return Verdict(
                False,
                verdict.limit,
                verdict.remaining,
                verdict.reset,
                retry_after=max(1, _ceil(retry_after)),
                quota=throttled_by,
            )
        return verdict

    def _headers_sliding(self, now: float) -> Verdict:
        best: tuple[int, float, Quota] | None = None
        for quota, log in zip(self.quotas, self._accepted, strict=True):
            remaining = max(0, quota.limit - len(log))
            # Reset: when the oldest counted request leaves the window (the count next drops).
            frees = log[0] + quota.period - now if log else 0.0
            if best is None or (remaining, -quota.period) < (best[0], -best[2].period):
                best = (remaining, frees, quota)
        assert best is not None
        remaining, frees, quota = best
        return Verdict(True, quota.limit, remaining, _ceil(frees))

    # -- fixed -------------------------------------------------------------------------------

    def _fixed(self, now: float) -> Verdict:
        throttled_by: Quota | None = None
        retry_after = 0.0
        best: tuple[int, float, Quota] | None = None
        for i, quota in enumerate(self.quotas):
            index = math.floor(now / quota.period)
            window, count = self._windows[i]
            count = count + 1 if window == index else 1
            self._windows[i] = (index, count)
            ends = (index + 1) * quota.period - now
            if count > quota.limit and (throttled_by is None or ends > retry_after):
                throttled_by, retry_after = quota, ends
            remaining = max(0, quota.limit - count)
            if best is None or (remaining, -quota.period) < (best[0], -best[2].period):
                best = (remaining, ends, quota)
        assert best is not None
        remaining, ends, quota = best
        if throttled_by is not None:
            return Verdict(
                False,
                quota.limit,
                remaining,
                _ceil(ends),
                retry_after=max(1, _ceil(retry_after)),
                quota=throttled_by,
            )
        return Verdict(True, quota.limit, remaining, _ceil(ends))

    # -- public ------------------------------------------------------------------------------

    def check(self, now: float) -> Verdict:
        """Judge one request arriving at ``now`` (epoch seconds) and count it as the mode says."""
        return self._sliding(now) if self.mode == "sliding" else self._fixed(now)

    def counts(self, now: float) -> dict[Quota, int]:
        """Requests counted in each quota's current window at ``now``."""
        if self.mode == "sliding":
            self._expire(now)
            return {q: len(log) for q, log in zip(self.quotas, self._accepted, strict=True)}
        result: dict[Quota, int] = {}
        for quota, (window, count) in zip(self.quotas, self._windows, strict=True):
            result[quota] = count if window == math.floor(now / quota.period) else 0
        return result
