"""Many organizations in one process: each paced to its own optimum, none throttled.

    python benchmarks/many_orgs.py [--sizes 1,10,50,200] [--messages 100] [--servers 3]
                                   [--rounds 2] [--stagger SECONDS]

Each organization sends ``--messages`` single ``POST /messages`` at once under the scaled
quotas (20/1s, 100/6s, 250/18s, 450/40s), through one ``ClientPool`` (one connection pool, one
``LocalGovernor`` per organization). The organizations are spread over ``--servers`` fake
servers, each in a child process (``--serve``), so their CPU is not the client's; every server
reports its CPU seconds, and the busiest one's share of the wall time says whether the servers
were the bottleneck. Each size runs in a fresh client process (``--client``), so its peak RSS
is its own.

The comparison is raw aiohttp sending the same requests at the same moments (each
organization's optimal schedule, computed in advance, no governor, no SDK): the floor for the
client's CPU per request. Rounds interleave the two sides on fresh organizations, and the
ratio is taken per round, so a load change on the machine moves both.

A third side, ``paced``, is raw aiohttp under the simplest *sound* pacing a user could write by
hand (an ``asyncio.Semaphore`` per quota, each slot given back one window after its answer):
no SDK, the least CPU, and the utilization any client that learns only from answers reaches in
this process. Where it too stays under 97%, the process, not the governor, is what limits.

``--stagger S`` spreads the organizations' starts over ``S`` seconds (organization i of n starts
i × S / n after the first; each one's utilization is counted from its own start): the load of a
process carrying organizations that do not all begin in the same millisecond, in which one
core's capacity, not a single burst of n × 20 requests, sets the limit.

Columns: per-organization utilization (its own optimum, the greedy schedule plus one round trip,
over its elapsed time: the worst organization and the median), 429s over every organization,
total requests per second, client CPU per request (µs) for each side and their ratio, peak RSS
of the client process, its CPU time over its wall time (``CPU busy``). Then the first burst:
when the worst organization's 20th response came back (ours, raw), and each organization's
utilization counted from it (``1st + optimum`` over its elapsed time, the worst): a slot frees
one window after its answer at the earliest, so a first burst that the process's CPU spreads
over that long delays each of the four turnovers' chains by as much, whatever the governor does
after. ``CPU bound`` is the best the worst organization could reach in this process: ``optimum /
(optimum + raw 1st)``, raw aiohttp's own first burst (no SDK, no governor) followed by a perfect
schedule; where it is under 97% the process's CPU, not the pacing, is what limits the worst
organization. ``CPU busy in 1st`` (ours, raw) is the client's CPU time over the wall time of
that first burst (the median round): near 100%, the client's one core was saturated while it
sent it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from _child import until_stdin_closes
from _memory import rss_peak_mb

SCALED = ((20, 1.0), (100, 6.0), (250, 18.0), (450, 40.0))
BURST = SCALED[0][0]
HERE = Path(__file__).resolve()


def greedy_times(n: int, slack: float = 0.0) -> list[float]:
    """Seconds after the start at which request k may go at the earliest (sliding windows).

    ``slack`` widens every window (raw aiohttp's schedule: sent on time to the microsecond, a
    request arriving a hair early would be a 429).
    """
    times: list[float] = []
    for k in range(n):
        times.append(max([0.0] + [times[k - lim] + w + slack for lim, w in SCALED if k >= lim]))
    return times


def tokens_for(side: str, round_: int, size: int) -> list[str]:
    """The tokens of one run: fresh organizations for every side, round and size."""
    return [f"{side}-r{round_}-n{size}-{i}" for i in range(size)]


# -- the servers (child processes) ----------------------------------------------------------


async def serve(tokens: list[str], messages: int) -> None:
    """One fake server for ``tokens``; prints its URL, then its CPU seconds when stdin closes."""
    from inro_async import Quota
    from inro_async.testing import FakeInro

    quotas = [Quota(lim, w) for lim, w in SCALED]
    fake = FakeInro(quotas=quotas)
    for token in tokens:
        org = fake.add_organization(token, contacts=messages, quotas=quotas)
        for contact in org.contacts.values():
            contact["status"] = "active"
    fake.add_organization("rtt", contacts=1)
    print(await fake.start(), flush=True)
    await until_stdin_closes()
    throttled = sum(1 for r in fake.requests if r.throttled)
    print(json.dumps({"cpu": time.process_time(), "throttled": throttled}), flush=True)
    await fake.close()


# -- one client run (a child process) -------------------------------------------------------


def first_burst(
    answers: dict[str, list[float]],
    burst_cpu: dict[str, float],
    begin_of: dict[str, float],
    started: float,
    cpu_start: float,
    messages: int,
) -> dict[str, object]:
    """When each organization's BURST-th answer came (after its own start), and the CPU and
    wall time spent from the first start until the last of them."""
    tokens = list(answers)
    at = [sorted(answers[t])[min(BURST, messages) - 1] for t in tokens]
    last = tokens[at.index(max(at))]
    return {
        "first": [a - begin_of[t] for a, t in zip(at, tokens, strict=True)],
        "first_cpu": burst_cpu.get(last, cpu_start) - cpu_start,
        "first_wall": max(at) - started,
    }


async def run_ours(
    url_of: dict[str, str], delay_of: dict[str, float], messages: int
) -> dict[str, object]:
    from inro_async import Client, ClientPool, Quota

    quotas = [Quota(lim, w) for lim, w in SCALED]
    tokens, urls = list(url_of), sorted(set(url_of.values()))
    answers: dict[str, list[float]] = {t: [] for t in tokens}  # when each task had its answer
    burst_cpu: dict[str, float] = {}  # the process's CPU clock at each one's BURST-th answer

    # One pool per server URL (a pool has one base URL); all share one session.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as session:
        pools = {
            url: ClientPool({t: t for t in tokens}, base_url=url, quotas=quotas, session=session)
            for url in urls
        }
        clients = [await pools[url_of[t]].client(t) for t in tokens]
        loop = asyncio.get_running_loop()
        cpu_start = cpu = time.process_time()
        started = loop.time()
        begin_of = {t: started + delay_of[t] for t in tokens}  # each organization's own start

        async def send(client: Client, name: str, k: int) -> None:
            await client.messages.send(contact_id=k, text="Spring sale")
            times = answers[name]  # when the task has its answer, as raw's ``send`` records it
            times.append(loop.time())
            if len(times) == BURST:
                burst_cpu[name] = time.process_time()

        async def organization(client: Client, name: str) -> float:
            begin = begin_of[name]
            if begin > loop.time():
                await asyncio.sleep(begin - loop.time())
            await asyncio.gather(*(send(client, name, k) for k in range(1, messages + 1)))
            return loop.time() - begin

        elapsed = await asyncio.gather(
            *(organization(c, t) for c, t in zip(clients, tokens, strict=True))
        )
        cpu = time.process_time() - cpu
        wall = loop.time() - started
        # Every dispatch beyond one per message repeated a 429'd one (nothing else is retried
        # against the fake). Read from the governors rather than by replacing their ``observe``:
        # that would turn off the transport's synchronous calls (``takes_sync_calls``), and the
        # SDK measured would not be the one users run.
        dispatched = sum(client.governor.dispatched for client in clients)  # type: ignore[attr-defined]
        throttled = dispatched - len(clients) * messages
        # Requests the governors believed someone else spent (X-RateLimit-Remaining lower than
        # their own logs allowed): none here, where every token is this process's alone.
        corrected = sum(client.governor.corrected for client in clients)  # type: ignore[attr-defined]
        for pool in pools.values():
            await pool.aclose()
    burst = first_burst(answers, burst_cpu, begin_of, started, cpu_start, messages)
    return {
        "elapsed": elapsed, "cpu": cpu, "wall": wall, "throttled": throttled,
        "corrected": corrected, **burst,
    }  # fmt: skip


async def run_raw(
    url_of: dict[str, str], delay_of: dict[str, float], messages: int
) -> dict[str, object]:
    schedule = greedy_times(messages, slack=0.05)
    tokens = list(url_of)
    throttled = 0
    answers: dict[str, list[float]] = {t: [] for t in tokens}
    burst_cpu: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as session:
        loop = asyncio.get_running_loop()
        cpu_start = cpu = time.process_time()
        started = loop.time()
        begin_of = {t: started + delay_of[t] for t in tokens}  # each organization's own start

        async def send(token: str, k: int) -> None:
            nonlocal throttled
            await asyncio.sleep(max(0.0, begin_of[token] + schedule[k] - loop.time()))
            headers = {"Authorization": f"Bearer {token}"}
            body = {"contact_id": k + 1, "message_type": "text", "content": "Spring sale"}
            async with session.post(f"{url_of[token]}/messages", json=body, headers=headers) as r:
                await r.read()
                throttled += r.status == 429
                answers[token].append(loop.time())
                if len(answers[token]) == BURST:
                    burst_cpu[token] = time.process_time()

        async def organization(token: str) -> float:
            await asyncio.gather(*(send(token, k) for k in range(messages)))
            return loop.time() - begin_of[token]

        elapsed = await asyncio.gather(*(organization(t) for t in tokens))
        cpu = time.process_time() - cpu
        wall = loop.time() - started
    burst = first_burst(answers, burst_cpu, begin_of, started, cpu_start, messages)
    return {"elapsed": elapsed, "cpu": cpu, "wall": wall, "throttled": throttled, **burst}


async def run_paced(
    url_of: dict[str, str], delay_of: dict[str, float], messages: int
) -> dict[str, object]:
    """Raw aiohttp under the simplest sound pacing a user could write by hand.

    One ``asyncio.Semaphore`` per quota and organization; a request takes a slot of each and
    gives every slot back one window after its answer (the server counted it at some moment
    before it answered, so no sooner). No SDK and no governor: the best utilization any
    client that only learns from answers can reach in this process, at the least CPU.
    """
    tokens = list(url_of)
    throttled = 0
    answers: dict[str, list[float]] = {t: [] for t in tokens}
    burst_cpu: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as session:
        loop = asyncio.get_running_loop()
        cpu_start = cpu = time.process_time()
        started = loop.time()
        begin_of = {t: started + delay_of[t] for t in tokens}  # each organization's own start

        async def send(token: str, k: int, slots: list[tuple[asyncio.Semaphore, float]]) -> None:
            nonlocal throttled
            headers = {"Authorization": f"Bearer {token}"}
            body = {"contact_id": k + 1, "message_type": "text", "content": "Spring sale"}
            while True:
                for semaphore, _ in slots:
                    await semaphore.acquire()
                try:
                    async with session.post(
                        f"{url_of[token]}/messages", json=body, headers=headers
                    ) as r:
                        await r.read()
                finally:
                    for semaphore, window in slots:
                        loop.call_later(window, semaphore.release)
                if r.status != 429:
                    break
                throttled += 1
            answers[token].append(loop.time())
            if len(answers[token]) == BURST:
                burst_cpu[token] = time.process_time()

        async def organization(token: str) -> float:
            slots = [(asyncio.Semaphore(lim), w) for lim, w in SCALED]
            begin = begin_of[token]
            if begin > loop.time():
                await asyncio.sleep(begin - loop.time())
            await asyncio.gather(*(send(token, k, slots) for k in range(messages)))
            return loop.time() - begin

        elapsed = await asyncio.gather(*(organization(t) for t in tokens))
        cpu = time.process_time() - cpu
        wall = loop.time() - started
    burst = first_burst(answers, burst_cpu, begin_of, started, cpu_start, messages)
    return {"elapsed": elapsed, "cpu": cpu, "wall": wall, "throttled": throttled, **burst}


RUNNERS = {"ours": run_ours, "raw": run_raw, "paced": run_paced}
SIDES = tuple(RUNNERS)


def client_main(side: str, plan: dict[str, dict[str, float]], messages: int) -> None:
    runner = RUNNERS[side]
    url_of = {t: str(url) for t, url in plan["urls"].items()}
    result = asyncio.run(runner(url_of, plan["delays"], messages))
    result["rss_mb"] = rss_peak_mb()
    print(json.dumps(result), flush=True)


async def round_trip(url: str) -> float:
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer rtt"}) as session:
        samples = []
        for _ in range(9):
            started = time.perf_counter()
            async with session.get(f"{url}/me") as response:
                await response.read()
            samples.append(time.perf_counter() - started)
    return sorted(samples)[len(samples) // 2]


# -- orchestration --------------------------------------------------------------------------


def start_servers(count: int, tokens: list[str], messages: int) -> list[subprocess.Popen[str]]:
    servers = []
    for i in range(count):
        mine = tokens[i::count]  # token j is served by server j % count
        servers.append(
            subprocess.Popen(
                [sys.executable, str(HERE), "--serve", "--messages", str(messages)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "MANY_ORGS_TOKENS": ",".join(mine)},
            )
        )
    return servers


def run_client(
    side: str, url_of: dict[str, str], stagger: float, messages: int
) -> dict[str, object]:
    tokens = list(url_of)
    delays = {t: i * stagger / len(tokens) for i, t in enumerate(tokens)}
    result = subprocess.run(
        [sys.executable, str(HERE), "--client", side, "--messages", str(messages)],
        input=json.dumps({"urls": url_of, "delays": delays}),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50,200")
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stagger", type=float, default=0.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(os.environ["MANY_ORGS_TOKENS"].split(","), args.messages))
        return
    if args.client:
        client_main(args.client, json.loads(sys.stdin.read()), args.messages)
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    # Interleaved: the sides take turns going first, round by round.
    runs = [
        (SIDES[(i + r) % len(SIDES)], r, n)
        for n in sizes
        for r in range(args.rounds)
        for i in range(len(SIDES))
    ]
    all_tokens = [t for side, r, n in runs for t in tokens_for(side, r, n)]
    servers = start_servers(args.servers, all_tokens, args.messages)
    try:
        urls = []
        for server in servers:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            if not url:
                raise SystemExit("a fake server did not start")
            urls.append(url)
        rtt = asyncio.run(round_trip(urls[0]))
        optimum = greedy_times(args.messages)[-1] + rtt
        results: dict[tuple[str, int, int], dict[str, object]] = {}
        wall_total = 0.0
        for side, r, n in runs:
            index = {t: i for i, t in enumerate(all_tokens)}  # server i % servers has it
            url_of = {t: urls[index[t] % args.servers] for t in tokens_for(side, r, n)}
            results[(side, r, n)] = run_client(side, url_of, args.stagger, args.messages)
            wall_total += float(results[(side, r, n)]["wall"])  # type: ignore[arg-type]
    finally:
        server_stats = []
        for server in servers:
            assert server.stdin is not None
            server.stdin.close()
            assert server.stdout is not None
            line = server.stdout.readline().strip()
            server.wait(timeout=60)
            if line:
                server_stats.append(json.loads(line))

    quotas = ", ".join(f"{lim}/{w:g}s" for lim, w in SCALED)
    print(
        f"{args.messages} sends per organization at once; quotas {quotas}; optimum per "
        f"organization {optimum:.2f} s (greedy + one {rtt * 1000:.1f} ms round trip); "
        f"{args.servers} fake servers in child processes; {args.rounds} interleaved rounds; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores at the end"
        + (
            f"; starts spread over {args.stagger:g} s (organization i of n starts "
            f"i × {args.stagger:g} / n s after the first, its optimum counted from its own start)"
            if args.stagger
            else "; every organization starts at once"
        )
    )
    print(
        f"{'orgs':>5}{'util worst':>12}{'util median':>13}{'429s':>6}{'req/s':>8}"
        f"{'CPU µs/req':>12}{'raw µs/req':>12}{'ratio':>8}{'raw 429s':>10}{'peak RSS':>10}"
        f"{'CPU busy':>10}"
    )
    bursts: list[tuple[int, float, float, float, float, float]] = []
    paced: list[tuple[int, float, float, int, float, float, float]] = []
    for n in sizes:
        utils: list[float] = []
        ratios: list[float] = []
        ours_cpu: list[float] = []
        raw_cpu: list[float] = []
        rates: list[float] = []
        rss: list[float] = []
        busy_run: list[float] = []
        throttled = raw_throttled = 0
        for r in range(args.rounds):
            ours, raw = results[("ours", r, n)], results[("raw", r, n)]
            requests = n * args.messages
            utils.extend(optimum / e for e in ours["elapsed"])  # type: ignore[attr-defined]
            ours_cpu.append(float(ours["cpu"]) / requests * 1e6)  # type: ignore[arg-type]
            raw_cpu.append(float(raw["cpu"]) / requests * 1e6)  # type: ignore[arg-type]
            ratios.append(ours_cpu[-1] / raw_cpu[-1])
            rates.append(requests / float(ours["wall"]))  # type: ignore[arg-type]
            rss.append(float(ours["rss_mb"]))  # type: ignore[arg-type]
            busy_run.append(float(ours["cpu"]) / float(ours["wall"]))  # type: ignore[arg-type]
            throttled += int(ours["throttled"])  # type: ignore[call-overload]
            raw_throttled += int(raw["throttled"])  # type: ignore[call-overload]
        firsts = [f for r in range(args.rounds) for f in results[("ours", r, n)]["first"]]  # type: ignore[attr-defined]
        raw_firsts = [f for r in range(args.rounds) for f in results[("raw", r, n)]["first"]]  # type: ignore[attr-defined]
        elapsed = [e for r in range(args.rounds) for e in results[("ours", r, n)]["elapsed"]]  # type: ignore[attr-defined]
        after_first = min((f + optimum) / e for f, e in zip(firsts, elapsed, strict=True))
        busy = [  # the client's CPU over the wall time of its first burst, per side
            statistics.median(
                float(results[(side, r, n)]["first_cpu"])  # type: ignore[arg-type]
                / float(results[(side, r, n)]["first_wall"])  # type: ignore[arg-type]
                for r in range(args.rounds)
            )
            for side in ("ours", "raw")
        ]
        bursts.append((n, max(firsts), max(raw_firsts), after_first, busy[0], busy[1]))
        paced_utils = [
            optimum / e
            for r in range(args.rounds)
            for e in results[("paced", r, n)]["elapsed"]  # type: ignore[attr-defined]
        ]
        paced_cpu = [
            float(results[("paced", r, n)]["cpu"]) / (n * args.messages) * 1e6  # type: ignore[arg-type]
            for r in range(args.rounds)
        ]
        paced.append(
            (
                n,
                min(paced_utils),
                statistics.median(paced_utils),
                sum(int(results[("paced", r, n)]["throttled"]) for r in range(args.rounds)),  # type: ignore[call-overload]
                statistics.median(paced_cpu),
                statistics.median(o / p for o, p in zip(ours_cpu, paced_cpu, strict=True)),
                min(utils),
            )
        )
        ratio = statistics.median(ratios)
        spread = f"{min(ratios):.2f}–{max(ratios):.2f}" if len(ratios) > 1 else ""
        print(
            f"{n:>5}{min(utils):>11.1%}{statistics.median(utils):>12.1%}{throttled:>6}"
            f"{statistics.median(rates):>8.0f}{statistics.median(ours_cpu):>12.0f}"
            f"{statistics.median(raw_cpu):>12.0f}{ratio:>7.2f}×{raw_throttled:>10}"
            f"{max(rss):>8.0f} MB{statistics.median(busy_run):>10.0%}"
            + (f"  (ratio per round {spread})" if spread else "")
        )
    print(
        f"{'orgs':>5}{'1st burst':>11}{'raw 1st':>9}{'util worst from 1st':>21}{'CPU bound':>11}"
        f"{'CPU busy in 1st':>17}{'raw':>6}"
    )
    for n, first, raw_first, after_first, ours_busy, raw_busy in bursts:
        bound = optimum / (optimum + raw_first)  # raw aiohttp's own first burst, then optimal
        print(
            f"{n:>5}{first * 1000:>8.0f} ms{raw_first * 1000:>6.0f} ms{after_first:>20.1%}"
            f"{bound:>11.1%}{ours_busy:>17.0%}{raw_busy:>6.0%}"
        )
    print(
        "paced by hand: raw aiohttp, an asyncio.Semaphore per quota, each slot back one window "
        "after its answer"
    )
    print(
        f"{'orgs':>5}{'util worst':>12}{'util median':>13}{'429s':>6}{'CPU µs/req':>12}"
        f"{'ours/paced CPU':>16}{'ours worst':>12}"
    )
    for n, worst, median, throttled, cpu, ratio, ours_worst in paced:
        print(
            f"{n:>5}{worst:>11.1%}{median:>12.1%}{throttled:>6}{cpu:>12.0f}{ratio:>15.2f}×"
            f"{ours_worst:>11.1%}"
        )
    corrected = sum(int(r["corrected"]) for (side, _, _), r in results.items() if side == "ours")  # type: ignore[call-overload]
    print(
        f"governors: {corrected} requests taken for someone else's (a false correction: every "
        "token is this process's alone)"
    )
    busiest = max(float(s["cpu"]) for s in server_stats) if server_stats else 0.0
    print(
        f"servers: {sum(int(s['throttled']) for s in server_stats)} requests answered 429 in "
        f"all; the busiest server used {busiest:.1f} CPU s over {wall_total:.1f} s of runs "
        f"({busiest / wall_total:.0%} of one core)"
    )


if __name__ == "__main__":
    main()
