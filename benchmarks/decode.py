"""Decoding cost and client overhead, side by side with the alternatives, in one process.

1. A 1,000-contact page (``GET /contacts?per_page=1000``) decoded with our msgspec models, with
   ``json.loads`` + pydantic v2 models of the same fields, and with ``json.loads`` alone.
2. CPU per request (``time.process_time``: user + system) of ``inro.contacts.list(per_page=1)``
   against the fake server on loopback, versus raw aiohttp sending the same requests, in
   interleaved rounds; the figure is the median of the per-round ratios, printed with its spread
   (one long run gives anything from 1.15× to 1.33× on a noisy machine). The fake runs in a child
   process, so the CPU measured is the client's alone.

    python benchmarks/decode.py [--rounds 15] [--per-round 300] [--skip-decode | --skip-requests]
    python benchmarks/decode.py --profile 5000    # the SDK side under cProfile
    python benchmarks/decode.py --instructions    # instructions per request, under callgrind

3. With ``--instructions``, each side's instructions per request, counted by valgrind's
   callgrind (the difference between a run of N requests and a run of none, so start-up cancels
   out): repeatable whatever else the machine is doing, unlike CPU time, and blind to what a
   cache miss costs, so read it beside the CPU table, not instead of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import pstats
import random
import statistics
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import msgspec
from _callgrind import per_call as instructions_per_call
from _child import child_server, until_stdin_closes
from _rounds import round_order, spread
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from inro_async import Quota
from inro_async._transport import decoder_for
from inro_async.client import Client
from inro_async.models.contacts import Contact

# -- a realistic page ---------------------------------------------------------------------------


def contact_page(n: int = 1000, seed: int = 7) -> bytes:
    """``n`` contacts shaped like the API's (docs/wire.md, Contacts), as response bytes."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def when() -> str:
        moment = start + timedelta(seconds=rng.randrange(60 * 60 * 24 * 700))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    contacts = []
    for i in range(1, n + 1):
        handle = f"user_{rng.randrange(10**8):08d}"
        contacts.append(
            {
                "id": i,
                "name": f"User {i}",
                "username": handle,
                "instagram_url": f"https://instagram.com/{handle}",
                "profile_picture": f"https://cdn.example/p/{handle}.jpg",
                "status": rng.choice(["active"] * 8 + ["optout", "inactive"]),
                "notes": rng.choice([None, "met at the fair", "VIP customer"]),
                "is_follower": rng.random() < 0.6,
                "email": rng.choice([None, f"{handle}@example.com"]),
                "real_name": rng.choice([None, f"Real Name {i}"]),
                "phone": rng.choice([None, f"+1555{rng.randrange(10**7):07d}"]),
                "language": rng.choice(["en", "fr", "de", "es", None]),
                "follower_count": rng.randrange(50_000),
                "follower_growth": round(rng.uniform(-5, 5), 2),
                "bio": "Coffee, travel and photography. DM for collabs.",
                "website": rng.choice([None, f"https://{handle}.example"]),
                "created_at": when(),
                "updated_at": when(),
                "custom_properties": {
                    "plan": rng.choice(["free", "pro"]),
                    "score": rng.randrange(100),
                },
                "folders": [{"id": f, "name": f"Folder {f}"} for f in range(rng.randrange(3))],
                "last_messages": [
                    {"content": f"message {k}", "received_at": when(), "received": k % 2 == 0}
                    for k in range(rng.randrange(4))
                ],
                "last_comments": [{"text": "love it!", "received_at": when()}],
                "last_mentions": [],
            }
        )
    return msgspec.json.encode(contacts)


# -- the pydantic equivalent (idiomatic v2, same fields, same leniency) --------------------------


class PFolderRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int = 0
    name: str | None = None


class PLastMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    content: str | None = None
    received_at: datetime | None = None
    received: bool | None = None


class PLastText(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str | None = None
    received_at: datetime | None = None


class PContact(BaseModel):
    model_config = ConfigDict(frozen=True)  # unknown fields ignored, lax numbers: the defaults
    id: int = 0
    username: str | None = None
    name: str | None = None
    status: str | None = None
    email: str | None = None
    phone: str | None = None
    real_name: str | None = None
    language: str | None = None
    notes: str | None = None
    is_follower: bool | None = None
    follower_count: int | None = None
    follower_growth: float | None = None
    bio: str | None = None
    website: str | None = None
    instagram_url: str | None = None
    profile_picture: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    custom_properties: dict[str, Any] = Field(default_factory=dict)
    folders: list[PFolderRef] = Field(default_factory=list)
    last_messages: list[PLastMessage] = Field(default_factory=list)
    last_comments: list[PLastText] = Field(default_factory=list)
    last_mentions: list[PLastText] = Field(default_factory=list)


# -- timing -------------------------------------------------------------------------------------


def best_of(function: Callable[[], object], *, repeat: int = 7, number: int = 20) -> float:
    """Seconds per call: the best of ``repeat`` rounds of ``number`` calls (GC as in real use)."""
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            function()
        rounds.append((time.perf_counter() - started) / number)
    return min(rounds)


def decode_table() -> float:
    raw = contact_page()
    ours = decoder_for(list[Contact])
    adapter = TypeAdapter(list[PContact])
    assert ours.decode(raw)[5].username == adapter.validate_python(json.loads(raw))[5].username

    rows = [
        ("inro_async (msgspec Structs)", lambda: ours.decode(raw)),
        ("json.loads + pydantic v2", lambda: adapter.validate_python(json.loads(raw))),
        ("pydantic v2 validate_json", lambda: adapter.validate_json(raw)),
        ("json.loads alone (dicts)", lambda: json.loads(raw)),
    ]
    times = {name: best_of(fn) for name, fn in rows}
    ours_time = times[rows[0][0]]
    print(f"Decoding one page of 1,000 contacts ({len(raw) / 1024:,.0f} KiB of JSON)")
    print(f"{'':32} {'ms/page':>9} {'vs ours':>9}")
    for name, seconds in times.items():
        print(f"{name:32} {seconds * 1000:9.2f} {seconds / ours_time:8.1f}×")
    speedup = times["json.loads + pydantic v2"] / ours_time
    print(f"-> ours is {speedup:.1f}× faster than json.loads + pydantic (target ≥ 3×)\n")
    return speedup


# -- CPU per request ----------------------------------------------------------------------------

TOKEN = "tok_bench_decode"  # noqa: S105 - the fake server's, not a secret
RAW_TOKEN = "tok_bench_decode_raw"  # noqa: S105
"""The raw sides' own organization (the same contacts): their requests must not count in the
SDK's quota window, where its governor would rightly read them as another process's spending
and pace as a shared quota demands, which is not what this benchmark measures."""
NO_LIMIT = (Quota(10**9, 1),)  # quotas that never bind: this measures the client, not pacing
TARGET = 1.10
"""The SDK's median CPU per request may be at most this multiple of raw aiohttp's (issue 14)."""

SDK = "inro_async client"
RAW = "raw aiohttp + json.loads"
TYPED = "raw aiohttp + msgspec typed"
SIDES = {
    SDK: "inro.contacts.list(per_page=1): checks the arguments, waits on the governor (quota "
    "log, X-RateLimit correction), sends with retries and status mapping, decodes into typed "
    "Contact structs and reads the paging headers into a Page",
    RAW: "one aiohttp session, session.get(url, params={page, per_page}, headers={Authorization, "
    "Accept}), read the body, check the status, json.loads into dicts (as response.json() does)",
    TYPED: "the same, decoding with msgspec into the SDK's Contact structs instead (the same "
    "typed result without the SDK's pacing, retries and paging; for reference, not the target)",
}


async def serve() -> None:
    """The fake server, in a child process so that its CPU is not counted as the client's."""
    from inro_async.testing import FakeInro

    fake = FakeInro(quotas=NO_LIMIT)
    fake.add_organization(TOKEN, plan="pro", contacts=100, seed=1)
    fake.add_organization(RAW_TOKEN, plan="pro", contacts=100, seed=1)
    print(await fake.start(), flush=True)
    await until_stdin_closes()
    await fake.close()


Contender = Callable[[], Awaitable[object]]


@contextlib.asynccontextmanager
async def contenders(base_url: str) -> AsyncIterator[dict[str, Contender]]:
    """One request of each side, by name, while their sessions are open."""
    headers = {"Authorization": f"Bearer {RAW_TOKEN}", "Accept": "application/json"}
    url = f"{base_url}/contacts"
    typed = msgspec.json.Decoder(list[Contact], strict=False)
    async with aiohttp.ClientSession() as session:

        async def raw_one() -> None:
            params = {"page": "1", "per_page": "1"}
            async with session.get(url, params=params, headers=headers) as response:
                body = await response.read()
                assert response.status == 200, body
                assert len(json.loads(body)) == 1

        async def typed_one() -> None:
            params = {"page": "1", "per_page": "1"}
            async with session.get(url, params=params, headers=headers) as response:
                body = await response.read()
                assert response.status == 200, body
                assert len(typed.decode(body)) == 1

        async with Client(token=TOKEN, base_url=base_url, quotas=NO_LIMIT) as inro:

            async def sdk_one() -> None:
                page = await inro.contacts.list(per_page=1)
                assert len(page.items) == 1

            yield {SDK: sdk_one, RAW: raw_one, TYPED: typed_one}


async def cpu_per_request(base_url: str, rounds: int, per_round: int) -> float:
    """Print the interleaved rounds' table; return the median of the per-round SDK/raw ratios."""
    async with contenders(base_url) as sides:
        for one in sides.values():  # warm up connections and caches
            for _ in range(100):
                await one()
        results: dict[str, list[float]] = {name: [] for name in sides}
        order = list(sides)
        for index in range(rounds):
            # Interleaved, the order reversed every other round: a drift in the machine's speed
            # (other processes, CPU frequency) lands on every side alike.
            for name in round_order(order, index):
                one = sides[name]
                gc.collect()
                started = time.process_time()
                for _ in range(per_round):
                    await one()
                results[name].append((time.process_time() - started) / per_round)

    print(
        f"Client CPU per request: sequential GET /contacts?per_page=1 (one contact) on loopback;\n"
        "the fake server runs in a child process (its CPU is not counted); quotas never bind.\n"
        f"{rounds} interleaved rounds of {per_round:,} requests per side, the order of the sides "
        "reversed every other round;\nCPU is this process's user + system time (time.process_time)."
    )
    for name, does in SIDES.items():
        print(textwrap.fill(f"{name}: {does}.", 100, initial_indent="- ", subsequent_indent="  "))
    ratios = {
        name: [a / b for a, b in zip(results[name], results[RAW], strict=True)] for name in SIDES
    }
    print(f"\n{'':28} {'µs CPU per request':^28} | {'per-round ratio to raw + json.loads':^36}")
    columns = (
        f"{'median':>7} {'IQR':>9} {'min–max':>10} | {'median':>7} {'IQR':>13} {'min–max':>13}"
    )
    print(f"{'':28} {columns}")
    for name in (RAW, SDK, TYPED):
        median, low, high, q1, q3 = (v * 1e6 for v in spread(results[name]))
        cpu = f"{median:7.0f} {q1:4.0f}–{q3:<4.0f} {low:4.0f}–{high:<5.0f}"
        r_median, r_low, r_high, r_q1, r_q3 = spread(ratios[name])
        ratio_cells = (
            f"{r_median:6.2f}× {r_q1:5.2f}–{r_q3:.2f}× {r_low:5.2f}–{r_high:.2f}×"
            if name != RAW
            else f"{1:6.2f}×"
        )
        print(f"{name:28} {cpu} | {ratio_cells}")
    ratio = statistics.median(ratios[SDK])
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"-> the client's median CPU per request is {ratio:.2f}× raw aiohttp's "
        f"(target ≤ {TARGET:.2f}×: {verdict})"
    )
    return ratio


async def one_side(base_url: str, side: str, requests: int) -> None:
    """Warm up, then ``requests`` requests of one side alone (what callgrind counts)."""
    async with contenders(base_url) as sides:
        one = sides[side]
        for _ in range(50 + requests):
            await one()


def instructions(requests: int) -> None:
    """Print each side's instructions per request, counted by callgrind; needs valgrind."""
    print(
        f"Instructions per request (valgrind callgrind, the client process only; the fake "
        f"server runs natively in its child):\n{requests:,} requests minus none, per side."
    )
    per_request = {
        side: instructions_per_call(__file__, side, requests) for side in (RAW, SDK, TYPED)
    }
    for side, count in per_request.items():
        print(f"{side:28} {count:10,.0f}   {count / per_request[RAW]:5.2f}×")


async def profile(base_url: str, requests: int, top: int) -> None:
    """The SDK side alone under cProfile (CPU clock); the top entries by own time."""
    async with contenders(base_url) as sides:
        one = sides[SDK]
        for _ in range(100):
            await one()
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(requests):
            await one()
        profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (>= 5)")
    parser.add_argument("--per-round", type=int, default=300, help="requests per side per round")
    parser.add_argument("--skip-decode", action="store_true", help="only CPU per request")
    parser.add_argument("--skip-requests", action="store_true", help="only the decoding table")
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile N requests of the SDK side instead"
    )
    parser.add_argument(
        "--instructions", action="store_true", help="instructions per request (valgrind)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-side", choices=list(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=300, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    if args.one_side:
        with child_server(__file__) as (_, base_url):
            asyncio.run(one_side(base_url, args.one_side, args.count))
        return
    if args.instructions:
        instructions(args.count)
        return
    if args.rounds < 5:
        parser.error("--rounds must be at least 5: the median of fewer is noise")
    if args.profile:
        with child_server(__file__) as (_, base_url):
            asyncio.run(profile(base_url, args.profile, top=40))
        return
    if not args.skip_decode:
        decode_table()
    if args.skip_requests:
        return
    with child_server(__file__) as (_, base_url):
        asyncio.run(cpu_per_request(base_url, args.rounds, args.per_round))


if __name__ == "__main__":
    main()
