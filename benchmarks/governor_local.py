"""LocalGovernor's own cost per request: the free-slot path and the queued path.

    python benchmarks/governor_local.py [--requests 20000] [--repeat 5]

No network: ``free`` acquires under a quota too large to bind (the path nearly every request
of a quiet client takes); ``queued`` and ``queued+max_wait`` launch every acquire at once under
20/s on a virtual-time loop (``tests/virtual_time.py``), so the figure is CPU per request spent
queueing, waking and dispatching, without waiting in real time. Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from virtual_time import run_virtual

from inro_async.governor import LocalGovernor, Quota


def free(n: int) -> float:
    async def main() -> float:
        governor = LocalGovernor([Quota(10**9, 1.0)])
        started = time.perf_counter()
        for _ in range(n):
            await governor.acquire()
        return time.perf_counter() - started

    return asyncio.run(main())


def queued(n: int, max_wait: float | None) -> float:
    async def main() -> float:
        governor = LocalGovernor([Quota(20, 1.0)], margin=0)
        started = time.perf_counter()
        await asyncio.gather(*(governor.acquire(max_wait=max_wait) for _ in range(n)))
        return time.perf_counter() - started

    return run_virtual(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.requests
    rows: list[tuple[str, Callable[[], float]]] = [
        ("free", lambda: free(n)),
        ("queued", lambda: queued(n, None)),
        ("queued+max_wait", lambda: queued(n, 10 * n)),
    ]
    print(f"{'path':<18}{'µs/request':>12}   ({n} requests, best of {args.repeat})")
    for name, run in rows:
        best = min(run() for _ in range(args.repeat))
        print(f"{name:<18}{best / n * 1e6:>12.2f}")


if __name__ == "__main__":
    main()
