"""The contact mirror: an initial mirror against ``contacts.export``, then refreshes.

The fake server runs in a child process with 50 ms latency and Inrō's production quotas. Rows:

- the initial mirror of every contact into SQLite (opening and closing the file included) vs
  ``contacts.export`` to JSON Lines, in interleaved rounds (median and spread of the per-round
  ratio), each after ``SETTLE`` idle seconds, and the peak RSS of the mirror;
- a refresh after ``--changes`` changes (updates and creates: deletions are found by the daily
  reconciliation) with ``order_column`` honoured, then against a server that ignores it;
- the naive alternative: a full re-export plus a diff in Python against the previous export.

    python benchmarks/mirror.py [--contacts 100000] [--changes 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _child import child_server
from _memory import rss_now_mb, rss_peak_mb

from inro_async.client import Client
from inro_async.mirror import ContactMirror

TOKEN = "tok_mirror_bench"  # noqa: S105 - the fake server's, not a secret


async def serve(contacts: int, latency: float) -> None:
    """The fake server (child): answers ``churn N`` / ``order on|off`` lines on stdin."""
    from inro_async.testing import FakeInro, Faults
    from inro_async.testing.churn import random_changes

    fake = FakeInro(faults=Faults(latency=latency) if latency else None)
    org = fake.add_organization(TOKEN, contacts=contacts, seed=1)
    print(await fake.start(), flush=True)
    loop = asyncio.get_running_loop()
    step = 0
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command, _, value = line.strip().partition(" ")
        if command == "churn":
            step += 1
            random_changes(org, int(value), seed=step, kinds=("created", "updated"))
        elif command == "order":
            org.ignore_order = value == "off"
        print("ok", flush=True)
    await fake.close()


class Server:
    def __init__(self, process: object) -> None:
        self.process = process

    def tell(self, command: str) -> None:
        process = self.process
        process.stdin.write(command + "\n")  # type: ignore[attr-defined]
        process.stdin.flush()  # type: ignore[attr-defined]
        assert process.stdout.readline().strip() == "ok"  # type: ignore[attr-defined]


SETTLE = 1.5
"""Seconds idle before each timed run: Inrō's per-second window empties, so neither side starts
with the other's requests still counted (the one after a fast finisher waited for them)."""


async def export_seconds(inro: Client, path: Path) -> tuple[float, int]:
    await asyncio.sleep(SETTLE)
    started = time.perf_counter()
    report = await inro.contacts.export(path)
    return time.perf_counter() - started, report.pages


async def mirror_seconds(inro: Client, path: Path) -> tuple[float, int]:
    await asyncio.sleep(SETTLE)
    started = time.perf_counter()  # opening and closing the file count too
    async with ContactMirror(path) as mirror:
        report = await mirror.refresh(inro)
    return time.perf_counter() - started, report.requests


def naive_diff(before: Path, after: Path) -> int:
    def load(path: Path) -> dict[int, str]:
        with path.open() as lines:
            return {json.loads(line)["id"]: line for line in lines}

    old, new = load(before), load(after)
    changed = sum(1 for cid, line in new.items() if old.get(cid) != line)
    return changed + sum(1 for cid in old if cid not in new)


async def measure(base_url: str, server: Server, args: argparse.Namespace, tmp: Path) -> None:
    async with Client(token=TOKEN, base_url=base_url) as inro:
        baseline = rss_now_mb()
        ratios, mirrors, exports, mirror_cpu, export_cpu = [], [], [], [], []
        for index in range(args.rounds):
            cpu = time.process_time()
            mirror_s, requests = await mirror_seconds(inro, tmp / f"round{index}.sqlite3")
            mirror_cpu.append(time.process_time() - cpu)
            if index == 0:
                peak = rss_peak_mb()  # the mirror ran first: this peak is its own
            cpu = time.process_time()
            export_s, _ = await export_seconds(inro, tmp / f"round{index}.jsonl")
            export_cpu.append(time.process_time() - cpu)
            mirrors.append(mirror_s)
            exports.append(export_s)
            ratios.append(mirror_s / export_s)
        n = args.contacts
        print(
            f"Initial mirror of {n:,} contacts, fake in a child process, {args.latency * 1000:g} "
            f"ms latency, production quotas, {args.rounds} interleaved round(s)"
        )
        print(
            f"  {'contacts.export (JSON Lines)':38} {statistics.median(exports):7.2f} s "
            f"({statistics.median(export_cpu):.2f} s CPU in this process)"
        )
        print(
            f"  {'ContactMirror.refresh (SQLite)':38} {statistics.median(mirrors):7.2f} s "
            f"({statistics.median(mirror_cpu):.2f} s CPU; {requests} requests)"
        )
        spread = f"{min(ratios):.3f}–{max(ratios):.3f}"
        print(f"  mirror / export: median {statistics.median(ratios):.3f}x (min–max {spread})")
        print(
            f"  peak RSS of the mirror: {peak:.1f} MB ({peak - baseline:.1f} MB above the "
            f"{baseline:.1f} MB baseline)"
        )

        live = tmp / "round0.sqlite3"
        rows = []
        for label, order in (("ordering honoured", "on"), ("ordering ignored", "off")):
            server.tell(f"order {order}")
            server.tell(f"churn {args.changes}")
            async with ContactMirror(live) as mirror:
                report = await mirror.refresh(inro)
            how = "incremental" if not report.full else "full walk"
            rows.append((f"refresh, {label}", report.requests, report.elapsed, report.events, how))
        server.tell("order on")
        await inro.contacts.export(tmp / "before.jsonl")  # the naive side's previous export
        server.tell(f"churn {args.changes}")
        started = time.perf_counter()
        pages = (await inro.contacts.export(tmp / "again.jsonl")).pages
        found = naive_diff(tmp / "before.jsonl", tmp / "again.jsonl")
        naive_s = time.perf_counter() - started
        rows.append(("naive: re-export + diff", pages, naive_s, found, "full walk"))
        print(f"\nA refresh after {args.changes:,} changes (updates and creates)")
        print(f"  {'':28} {'requests':>8} {'elapsed':>9} {'events':>7}")
        for label, requests, seconds, events, how in rows:
            print(f"  {label:28} {requests:8} {seconds:8.2f}s {events:7}  {how}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.contacts, args.latency))
        return
    child_args = ("--contacts", str(args.contacts), "--latency", str(args.latency))
    with (
        child_server(__file__, *child_args) as (process, base_url),
        tempfile.TemporaryDirectory(prefix="inro-mirror-bench-") as tmp,
    ):
        asyncio.run(measure(base_url, Server(process), args, Path(tmp)))


if __name__ == "__main__":
    main()
