"""RedisGovernor's Lua script as Python sees it: keys and arguments in, decoded replies out.

The script is ``redis_governor.lua`` beside this module (package data); its header lists KEYS,
ARGV and each op's reply. Every reply shape has one decoder here returning a small frozen
dataclass, so nothing else reads a reply by position. Replies come as bytes, or as str from a
client made with ``decode_responses=True``: ``int`` and ``float`` take either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from inro_async.governor._base import Quota
from inro_async.governor._logs import RESOLUTION

__all__ = [
    "HELD_FOR",
    "SCRIPT",
    "CorrectReply",
    "PauseReply",
    "PeekReply",
    "ReserveReply",
    "decode_answered",
    "decode_correct",
    "decode_pause",
    "decode_peek",
    "decode_reserve",
    "script_args",
    "script_keys",
    "static_args",
]

SCRIPT = (
    resources.files("inro_async.governor")
    .joinpath("redis_governor.lua")
    .read_text(encoding="utf-8")
)
"""The Lua source, registered once per Redis client (``EVALSHA``, loaded on first use)."""

HELD_FOR = 2.0
"""Seconds past W + margin a held slot whose answer never comes stays taken.

A slot granted to a process that reports its answers stays taken until its answer (plus W):
the request may leave late from a busy event loop or queue on its way, and the server counts
it when it arrives. Only a process killed with requests in flight never reports them; this
bounds what it strands. Far above the queueing measured at a web worker's start-up (~100 ms),
and short enough that a dead worker's slots come back within seconds.
"""


def script_keys(key: str, quotas: Sequence[Quota]) -> list[str]:
    """KEYS for the organization ``key``: pause, last, a log and a total per quota, askers."""
    tag = "{" + key + "}"  # one hash slot for every key (Redis Cluster)
    keys = [f"{tag}:pause", f"{tag}:last"]
    for quota in quotas:
        name = f"{tag}:{quota.limit}/{quota.period:g}"
        keys += [f"{name}:log", f"{name}:n"]
    keys.append(f"{tag}:askers")
    return keys


def static_args(
    horizon: float,
    quotas: Sequence[Quota],
    server_limits: Sequence[int],
    held_for: float = HELD_FOR,
) -> list[str | float | int]:
    """ARGV after op and margin, the same for every call: horizon, quotas, resolution, hold."""
    args: list[str | float | int] = [str(horizon), len(quotas)]
    for quota, server_limit in zip(quotas, server_limits, strict=True):
        args += [quota.limit, repr(float(quota.period)), server_limit]
    args += [RESOLUTION, repr(float(held_for))]
    return args


def script_args(
    op: str, margin: float, static: Sequence[str | float | int], extra: Sequence[str | float | int]
) -> list[str | float | int]:
    """ARGV for one call: ``op``, the margin in force, ``static_args``, the op's own."""
    return [op, repr(margin), *static, *extra]


@dataclass(frozen=True, slots=True)
class ReserveReply:
    """What ``reserve`` granted: slots in Redis time, or how far away the first one is."""

    server_time: float
    """Redis's clock when the script ran."""
    wait: float
    """Seconds from ``server_time`` to the first slot, granted or not."""
    binding: int | None
    """Index of the quota that held the first slot back; None: nothing did, or a pause, or
    slots already granted to others (``last``)."""
    slots: tuple[float, ...]
    """The slots granted, in Redis time and in order; empty when the first was too far."""
    counted: float
    """The last slot granted, the moment ``counts`` speak of (0.0 when none)."""
    likely: float
    """``wait`` were every held slot answered as its window ends: more is a wait for answers,
    which may come at any moment (what a bound on waiting is judged by)."""
    counts: tuple[int, ...]
    """Per quota, dispatches in its window at ``counted``, these included (empty when none)."""


@dataclass(frozen=True, slots=True)
class PeekReply:
    """Per quota, as Redis sees it across every process: what is used and when a slot frees."""

    server_time: float
    used: tuple[int, ...]
    free_in: tuple[float, ...]
    """Seconds from ``server_time`` until each quota has a free slot (a pause included)."""


@dataclass(frozen=True, slots=True)
class PauseReply:
    """The shared pause after ``pause``: it only ever grows."""

    server_time: float
    paused_for: float
    """Seconds from ``server_time`` until the pause ends (an earlier, longer one kept)."""


@dataclass(frozen=True, slots=True)
class CorrectReply:
    """What ``correct`` added: requests someone else spent, for the quota the header named."""

    server_time: float
    added: int


def decode_reserve(reply: Sequence[Any], quotas: int) -> ReserveReply:
    """``{granted, wait, binding, now, last, likely, count * quotas, slot * granted}``."""
    granted, binding = int(reply[0]), int(reply[2])
    slots = tuple(float(at) for at in reply[6 + quotas :])
    assert len(slots) == granted, reply
    return ReserveReply(
        server_time=float(reply[3]),
        wait=float(reply[1]),
        binding=binding - 1 if binding else None,
        slots=slots,
        counted=float(reply[4]),
        likely=float(reply[5]),
        counts=tuple(int(count) for count in reply[6 : 6 + quotas]) if granted else (),
    )


def decode_peek(reply: Sequence[Any], quotas: int) -> PeekReply:
    """``{1, '0', 0, now, (used, free_in) * quotas}``."""
    pairs = reply[4 : 4 + 2 * quotas]
    return PeekReply(
        server_time=float(reply[3]),
        used=tuple(int(used) for used in pairs[0::2]),
        free_in=tuple(float(free_in) for free_in in pairs[1::2]),
    )


def decode_pause(reply: Sequence[Any]) -> PauseReply:
    """``{1, paused_for, 0, now}``."""
    return PauseReply(server_time=float(reply[3]), paused_for=float(reply[1]))


def decode_answered(reply: Sequence[Any]) -> int:
    """``{1, found, 0, now}``: how many of the slots named were held (and now answered)."""
    return int(float(reply[1]))


def decode_correct(reply: Sequence[Any]) -> CorrectReply:
    """``{1, added, 0, now}``."""
    return CorrectReply(server_time=float(reply[3]), added=int(float(reply[1])))
