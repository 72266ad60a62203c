"""How long ``n`` more requests take under a ``GovernorCore``'s logs, sans I/O: a simulation.

An estimate (``GovernorCore.estimate``, a ``max_wait`` check on joining the queue, a job's
ETA) runs the core's own decisions on a shadow: a copy of the logs, with requests in flight
assumed answered as fast as the slowest seen and a probe's answer assumed to come at once. It
dispatches in bursts (each step sends everything that may go at once), so it costs about one
step per burst, not one per request. The real core is never touched.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from inro_async.governor._base import Quota

if TYPE_CHECKING:
    from inro_async.governor._core import GovernorCore

__all__ = ["simulate"]


def simulate(core: GovernorCore, n: int, now: float) -> tuple[float, Quota | None]:
    """When ``n`` more requests, sent greedily from ``now``, have gone, and what held the last.

    The quota that held the last of them back, or None when a pause did (or nothing did).
    """
    if n <= 0:
        return now, None
    kind = type(core)
    shadow = kind.__new__(kind)
    shadow.quotas = core.quotas
    shadow.margin = core.margin
    shadow.windows = core.windows
    shadow._logs = [log.copy() for log in core._logs]
    shadow.paused_until = core.paused_until
    shadow.probing = False  # an estimate assumes the probe's answer comes at once
    shadow.probe_sent = None
    shadow.contended_until = -math.inf
    shadow.last_view = core.last_view
    shadow.heard_at = core.heard_at
    shadow.stale = core.stale
    shadow.longest = core.longest
    shadow.slowest = 0.0  # the requests estimated are answered before their slots free
    shadow.hold = None
    t = now
    left = n
    binding: Quota | None = None
    while True:
        decision = shadow.decide(t)
        if decision.at > t:
            binding = None if decision.paused else decision.quota
        t = decision.at
        burst = min(left, max(1, shadow.available(t)))
        shadow.record(t, burst)
        left -= burst
        if left == 0:
            return t, binding
