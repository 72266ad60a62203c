"""The Redis script decides as GovernorCore does: one dispatch trace through both.

``redis_governor.lua`` re-implements the core's sliding-window logs (``_logs.py``) in Lua, so
that every process sharing a key decides on one log. Here the same trace (acquire attempts,
each with a ``max_wait`` and some for a burst of slots; 429 pauses; server corrections; looks at
the counts) runs through a ``GovernorCore`` and through the script on a real redis-server, and
both must decide the same: which attempts get slots and when, how long a refused one would
have waited, what each quota holds and when it frees.

The script's one clock read (``redis.call('TIME')``) is replaced by a key the test sets, so a
trace of seconds runs in milliseconds. Where the two differ by design, the model says so:

- Holding: in a trace with ``hold``, both hold each slot until its answer (the core with
  ``hold=HELD_FOR``, the script's reserve with its hold flag) and each acquire says when its
  slots are answered, or that they never are (``answer_in``): the core is told with ``ended``
  (which touches only the logs), the script with ``answered``, at the first event at or after
  that moment, on the clock of that moment. Without ``hold``, a slot frees W + margin after its
  dispatch in both. Either way the model tells the core of each response without a dispatch time
  too (``heard(None, t)``): the one request the core sends alone after a pause or a sign of
  others' spending (the probe, which the script does not have) is answered at once.
- An attempt waits for its slots: the clock moves to the last one granted, as the governor
  sleeps until it (so the script's ``last``, slots reserved ahead by other processes, never
  binds). The script's share per call is the smallest limit here: one process asks.
- A correction is the response to the slot just granted, arriving at once (so with ``hold``
  that slot is answered then, whatever ``answer_in`` says), so the core (which
  stamps what others spent at the response) and the script (at the dispatch) stamp at the same
  moment. The core frees those W after it, the script W + margin: corrections come only in
  traces with margin 0. The core adds what others spent in one window to every longer one too;
  the script only to the quota the header names, so the model tells the script of each longer
  quota as the server's next headers would. The server's count is each model's own count at
  that slot plus what someone else spent (the trace's ``extra``): the core frees a phantom 10 ppm
  late (``SlidingLog.after``), and at that boundary one shared count would tell the two different
  stories.

Event times are multiples of 1/32 s and every ``max_wait`` or ``near`` an odd multiple of
1/64 s, so no decision hangs on the 10 ppm; a look comes 1/128 s after the clock, off any
boundary, and the next event at least 1/16 s after the clock.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inro_async.governor import GovernorCore, Quota
from inro_async.governor._redis_script import (
    HELD_FOR,
    SCRIPT,
    ReserveReply,
    decode_correct,
    decode_pause,
    decode_peek,
    decode_reserve,
    script_args,
    script_keys,
    static_args,
)

BASE = 1000.0
"""Clock at the start of every trace (the script reads a time <= 0 as relative)."""
LOOK_AFTER = 1 / 128
AFTER_LOOK = 1 / 16
TOLERANCE = 1e-3

_keys = itertools.count()


# -- the trace --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acquire:
    """Ask for ``wanted`` slots: the first within ``max_wait``, the rest within ``near``.

    ``extra`` = (quota index, n): the response to the last slot says someone else spent n.
    ``answer_in``: in a trace with ``hold``, each slot is answered that many seconds after it
    (None: never).
    """

    wanted: int = 1
    max_wait: float = 1 / 64
    near: float = 1 / 64
    extra: tuple[int, int] | None = None
    answer_in: float | None = None


@dataclass(frozen=True)
class Pause:
    """A 429 with ``Retry-After: seconds``."""

    seconds: float


@dataclass(frozen=True)
class Look:
    """Read every quota's count and time to a free slot."""


Action = Acquire | Pause | Look
Trace = list[tuple[float, Action]]
"""(seconds since the previous event, what happens)."""
Decision = tuple[Any, ...]


# -- the two models ---------------------------------------------------------------------------


class CoreModel:
    """``GovernorCore`` driven as ``LocalGovernor`` drives it, one sequential caller."""

    def __init__(self, quotas: Sequence[Quota], margin: float, hold: bool = False) -> None:
        self.quotas = list(quotas)
        self.core = GovernorCore(quotas, margin=margin, hold=HELD_FOR if hold else None)
        self.holding = hold
        self.clock = BASE
        self.pending: list[tuple[float, float]] = []  # (when answered, slot)

    def answer(self, slot: float, at: float) -> None:
        self.core.ended(slot, at)

    def acquire(self, wanted: int, near: float, max_wait: float) -> tuple[float, ...] | float:
        """The slots granted, or the seconds the first would have needed."""
        now = self.clock
        wanted = min(wanted, min(q.limit for q in self.quotas))  # the script's share
        at = self.core.next_free(now)
        if at - now > max_wait:
            return at - now
        slots: list[float] = []
        while True:
            self.core.record(at)
            self.core.heard(None, at)  # answered at once, freeing W + margin after dispatch
            slots.append(at)
            if len(slots) == wanted:
                break
            at = self.core.next_free(at)
            if at - now > near:
                break
        self.clock = slots[-1]
        return tuple(slots)

    def pause(self, seconds: float) -> float:
        self.core.throttled(self.clock, seconds)
        return self.core.paused_until - self.clock

    def look(self) -> tuple[tuple[int, ...], tuple[float, ...]]:
        usage = self.core.usage(self.clock + LOOK_AFTER)
        return tuple(u.used for u in usage), tuple(u.free_in for u in usage)

    def counted(self, quota: int) -> int:
        """What the server may count of this process now: not an entry that left its window
        and only waits in the log behind a held one (as the script's reservation counts)."""
        held = self.core._logs[quota].held_since(self.clock, self.clock)
        assert held is not None
        return held

    def room(self, quota: int) -> int:
        """Requests the server could still report as spent by others, in that quota and up."""
        return min(q.limit - self.counted(j) for j, q in _and_longer(self.quotas, quota))

    def correct(self, quota: int, extra: int) -> int:
        limit = self.quotas[quota].limit
        used = self.counted(quota) + extra
        return self.core.correct(limit, limit - used, self.clock, sent_at=self.clock)


class ScriptModel:
    """The Lua script on a real Redis, its clock set by the test, one process asking."""

    def __init__(
        self, client: redis.Redis, quotas: Sequence[Quota], margin: float, hold: bool = False
    ) -> None:
        self.client = client
        self.quotas = list(quotas)
        self.margin = margin
        self.holding = hold
        self.hold = "1" if hold else "0"
        self.pending: list[tuple[float, float]] = []
        self.keys = script_keys(f"parity-{time.time_ns()}-{next(_keys)}", quotas)
        self.clock_key = self.keys[0] + ":clock"
        self.static = static_args(1.0, quotas, [q.limit for q in quotas])
        self.script = client.register_script(clocked_script(self.clock_key))
        self.clock = BASE
        self.last: ReserveReply | None = None

    def call(self, op: str, now: float, *extra: str | float | int) -> list[Any]:
        self.client.set(self.clock_key, repr(now), px=60_000)
        reply: list[Any] = self.script(
            keys=self.keys, args=script_args(op, self.margin, self.static, extra)
        )
        return reply

    def acquire(self, wanted: int, near: float, max_wait: float) -> tuple[float, ...] | float:
        result = self.call(
            "reserve", self.clock, wanted, repr(near), repr(max_wait), "parity", self.hold
        )
        reply = decode_reserve(result, len(self.quotas))
        if not reply.slots:
            return reply.wait
        self.last = reply
        self.clock = reply.slots[-1]
        return reply.slots

    def answer(self, slot: float, at: float) -> None:
        self.call("answered", at, repr(slot))

    def pause(self, seconds: float) -> float:
        return decode_pause(self.call("pause", self.clock, repr(seconds))).paused_for

    def look(self) -> tuple[tuple[int, ...], tuple[float, ...]]:
        reply = decode_peek(self.call("peek", self.clock + LOOK_AFTER), len(self.quotas))
        return reply.used, reply.free_in

    def room(self, quota: int) -> int:
        assert self.last is not None
        counts = self.last.counts  # each quota's count at the last slot, as the governor keeps
        return min(q.limit - counts[j] for j, q in _and_longer(self.quotas, quota))

    def correct(self, quota: int, extra: int) -> int:
        assert self.last is not None
        slot, counts = self.last.slots[-1], self.last.counts
        added = []
        for j, q in _and_longer(self.quotas, quota):  # the core's "every longer window too"
            remaining = q.limit - (counts[j] + extra)
            result = self.call(
                "correct", self.clock, q.limit, remaining, repr(slot), repr(slot), *counts
            )
            added.append(decode_correct(result).added)
        return added[0]


def clocked_script(clock_key: str) -> str:
    """The script reading its time from ``clock_key`` instead of Redis's clock."""
    assert SCRIPT.count("redis.call('TIME')") == 1
    return SCRIPT.replace("redis.call('TIME')", f"{{redis.call('GET', '{clock_key}'), '0'}}")


def _and_longer(quotas: Sequence[Quota], quota: int) -> list[tuple[int, Quota]]:
    period = quotas[quota].period
    return [(j, q) for j, q in enumerate(quotas) if j == quota or q.period > period]


Model = CoreModel | ScriptModel


def run(trace: Trace, models: tuple[Model, Model]) -> tuple[list[Decision], list[Decision]]:
    """Play ``trace`` through both models in step; their decisions, times from ``BASE``."""
    decisions: tuple[list[Decision], list[Decision]] = ([], [])
    looked = False
    for gap, action in trace:
        for model in models:
            model.clock += max(gap, AFTER_LOOK) if looked else gap
            due = sorted(p for p in model.pending if p[0] <= model.clock)
            model.pending = [p for p in model.pending if p[0] > model.clock]
            for at, slot in due:
                model.answer(slot, at)
        looked = isinstance(action, Look)
        if isinstance(action, Look):
            for model, out in zip(models, decisions, strict=True):
                out.append(("look", *model.look()))
        elif isinstance(action, Pause):
            for model, out in zip(models, decisions, strict=True):
                out.append(("paused", model.pause(action.seconds)))
        else:
            outcomes = [m.acquire(action.wanted, action.near, action.max_wait) for m in models]
            for model, outcome, out in zip(models, outcomes, decisions, strict=True):
                if isinstance(outcome, tuple):
                    out.append(("granted", tuple(at - BASE for at in outcome)))
                    if action.answer_in is not None:
                        model.pending += [(at + action.answer_in, at) for at in outcome]
                else:
                    out.append(("refused", outcome))
            granted = all(isinstance(outcome, tuple) for outcome in outcomes)
            if action.extra is not None and granted:
                quota, extra = action.extra
                extra = min(extra, *(model.room(quota) for model in models))
                if extra > 0:
                    for model, out in zip(models, decisions, strict=True):
                        if model.holding:  # the correction is its answer: answered now
                            slot = model.clock  # the last slot granted
                            model.pending = [p for p in model.pending if p[1] != slot]
                            model.answer(slot, slot)
                        out.append(("corrected", model.correct(quota, extra)))
    return decisions


def same(a: object, b: object) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        exact = isinstance(a, int) and isinstance(b, int)  # counts; times are floats
        return a == b if exact else abs(a - b) <= TOLERANCE
    return a == b


def assert_same_decisions(
    trace: Trace, ours: list[Decision], theirs: list[Decision], names: str = "core, script"
) -> None:
    for i, (one, other) in enumerate(zip(ours, theirs, strict=True)):
        assert same(one, other), (
            f"decision {i} differs ({names}): {one} != {other}\n"
            f"so far: {ours[: i + 1]}\ntrace: {trace}"
        )


@pytest.fixture(scope="module")
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


# -- a trace spelled out ----------------------------------------------------------------------


def test_a_trace_with_a_pause_and_a_correction_gets_the_same_decisions(
    client: redis.Redis,
) -> None:
    quotas = [Quota(3, 1.0), Quota(5, 4.0)]
    trace: Trace = [
        (0.0, Acquire(wanted=2, extra=(0, 1))),  # someone else spent 1: the 1 s quota is full
        (0.5, Acquire(max_wait=1 / 64)),  # full until the first two leave, at 1.0
        (0.0, Pause(0.75)),  # a 429 holds everyone until 1.25
        (0.0, Pause(0.25)),  # a pause is never shortened
        (0.25, Acquire(wanted=2, max_wait=1.0, near=0.5 + 1 / 64)),  # both when the pause ends
        (0.0, Look()),
        (0.0625, Acquire(max_wait=3.0)),  # the 4 s quota frees at 4.0
    ]
    expected = [
        ("granted", (0.0, 0.0)),
        ("corrected", 1),
        ("refused", 0.5),
        ("paused", 0.75),
        ("paused", 0.75),
        ("granted", (1.25, 1.25)),
        ("look", (2, 5), (0.0, 4.0 - 1.25 - LOOK_AFTER)),
        ("granted", (4.0,)),
    ]
    models = (CoreModel(quotas, 0.0), ScriptModel(client, quotas, 0.0))
    core, script = run(trace, models)
    assert_same_decisions(trace, expected, core, "expected, core")
    assert_same_decisions(trace, expected, script, "expected, script")


def test_the_margin_delays_every_slot_alike(client: redis.Redis) -> None:
    quotas = [Quota(2, 1.0)]
    trace: Trace = [
        (0.0, Acquire(wanted=2)),
        (0.0, Look()),
        (0.0625, Acquire(max_wait=1.0)),  # a slot frees at 1.0 + the margin
    ]
    models = (CoreModel(quotas, 0.0625), ScriptModel(client, quotas, 0.0625))
    core, script = run(trace, models)
    expected = [
        ("granted", (0.0, 0.0)),
        ("look", (2,), (1.0625 - LOOK_AFTER,)),
        ("granted", (1.0625,)),
    ]
    assert_same_decisions(trace, expected, core, "expected, core")
    assert_same_decisions(trace, expected, script, "expected, script")


# -- random traces ----------------------------------------------------------------------------


def _odd_64ths(most: int) -> st.SearchStrategy[float]:
    return st.integers(0, most).map(lambda k: (2 * k + 1) / 64)


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Quota], float, bool, Trace]:
    n = draw(st.integers(1, 3))
    periods = draw(
        st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), min_size=n, max_size=n, unique=True)
    )
    limits = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n, unique=True))
    quotas = [Quota(limit, period) for limit, period in zip(limits, periods, strict=True)]
    margin = draw(st.sampled_from([0.0, 0.0625]))
    hold = draw(st.booleans())
    answer_in: st.SearchStrategy[float | None] = st.none()
    if hold:  # answered within 1.5 s (a multiple of 1/32 s), or never
        answer_in = st.one_of(st.none(), st.integers(0, 48).map(lambda k: k / 32))
    extra: st.SearchStrategy[tuple[int, int] | None] = st.none()
    if margin == 0:  # see the module docstring
        told = st.tuples(st.integers(0, n - 1), st.integers(1, 3))
        extra = st.integers(0, 3).flatmap(lambda k: told if k else st.none())
    acquire = st.builds(
        Acquire,
        wanted=st.integers(1, 3),
        max_wait=_odd_64ths(96),
        near=_odd_64ths(16),
        extra=extra,
        answer_in=answer_in,
    )
    pause = st.builds(Pause, st.integers(1, 24).map(lambda k: k / 16))
    kinds: list[st.SearchStrategy[Action]] = [acquire] * 5 + [pause] * 2 + [st.just(Look())]
    action = st.integers(0, len(kinds) - 1).flatmap(kinds.__getitem__)
    gap = st.integers(0, 24).map(lambda k: k / 16)
    trace = draw(st.lists(st.tuples(gap, action), min_size=1, max_size=30))
    return quotas, margin, hold, trace


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_random_traces_get_the_same_decisions_from_the_core_and_the_script(
    client: redis.Redis, case: tuple[list[Quota], float, bool, Trace]
) -> None:
    quotas, margin, hold, trace = case
    models = (CoreModel(quotas, margin, hold), ScriptModel(client, quotas, margin, hold))
    core, script = run(trace, models)
    assert_same_decisions(trace, core, script)
