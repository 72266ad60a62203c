"""Where a fan-out's time goes: per-second laps and the chain of slots behind its last request.

    python benchmarks/fanout_timeline.py [walk|send] [--latency 0.05] [--concurrency N]

Runs one task of ``benchmarks/fanout.py`` against the same child-process fake server, recording
each request's dispatch and answer times as the governor saw them. Under a sliding 20/s quota,
request k + 20 may go only once the answers of requests up to k are a window old, so the job's
end is a chain: the last request, the answer that freed its slot, the request behind that
answer, and so on back to the first second. Each link costs W plus that request's round trip;
``slack`` is how long after its slot freed a request actually went: the governor's own delay,
or the request was not yet issued (every page of the lookahead window, or every chunk, busy).
A round trip well above the floor marks queueing in the server or the client.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import fanout  # the sibling benchmark: same server, tokens and tasks
from _child import child_server

from inro_async.governor import LocalGovernor, Permit


class RecordingGovernor(LocalGovernor):
    """A ``LocalGovernor`` that keeps every dispatch and answer time (event-loop clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.dispatches: list[float] = []
        self.answers: list[tuple[float, float]] = []  # (dispatched at, answered at)

    def _dispatch(self, now: float) -> None:
        self.dispatches.append(now)
        super()._dispatch(now)

    async def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        permit: Permit | None = None,
        elapsed: float | None = None,
    ) -> None:
        now = self._now()
        if permit is not None:
            self.answers.append((permit.granted_at, now))
        await super().observe(status, headers, permit=permit, elapsed=elapsed)


async def run(task: str, base_url: str, contacts: int, concurrency: int | None) -> None:
    import inro_async.jobs  # imported before timing, as in fanout.py
    from inro_async.client import Client

    governor = RecordingGovernor()
    token = fanout.TOKEN if task == "walk" else fanout.SEND_TOKEN
    async with Client(token, base_url=base_url, governor=governor) as inro:
        started = governor._now()
        if task == "walk":
            window = concurrency or inro_async.jobs._job.EXPORT_CONCURRENCY
            async for _ in inro.contacts.iter_pages(per_page=1000, concurrency=window):
                pass
        else:
            await inro.messages.send_many(
                range(1, contacts + 1), text="Spring sale", concurrency=concurrency
            )
        ended = governor._now()
    show(governor, started, ended)


def show(governor: RecordingGovernor, started: float, ended: float) -> None:
    dispatches = sorted(t - started for t in governor.dispatches)
    answers = sorted((sent - started, got - started) for sent, got in governor.answers)
    limit = 20
    print(f"{len(dispatches)} requests, done at {ended - started:.3f} s")
    for lap in range(0, len(dispatches), limit):
        part = answers[lap : lap + limit]
        trips = sorted(got - sent for sent, got in part)
        print(
            f"lap {lap // limit}: sent {part[0][0]:.3f}..{part[-1][0]:.3f} s, round trip "
            f"min {trips[0] * 1000:.0f} / median {trips[len(trips) // 2] * 1000:.0f} / "
            f"max {trips[-1] * 1000:.0f} ms"
        )
    # Walk back from the last request through the answers that freed each slot.
    latest: list[float] = []
    for _, got in answers:
        latest.append(max(got, latest[-1]) if latest else got)
    print("chain behind the last request (request, sent, round trip, slack after its slot):")
    i = len(answers) - 1
    while True:
        sent, got = answers[i]
        if i < limit:
            print(f"  #{i:<4} {sent:7.3f} s  {(got - sent) * 1000:5.0f} ms  (first second)")
            break
        freed_by = max(range(i - limit + 1), key=lambda k: answers[k][1])
        slack = sent - (latest[i - limit] + 1.0)
        trip = (got - sent) * 1000
        print(f"  #{i:<4} {sent:7.3f} s  {trip:5.0f} ms  slack {slack * 1000:4.0f} ms")
        i = freed_by


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["walk", "send"], nargs="?", default="walk")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    options = ("--contacts", str(args.contacts), "--latency", str(args.latency))
    with child_server(fanout.__file__, *options) as (_, base_url):
        asyncio.run(run(args.task, base_url, args.contacts, args.concurrency))


if __name__ == "__main__":
    main()
