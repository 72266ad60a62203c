"""Decoding cost and client overhead, side by side with the alternatives, in one process.

1. A 1,000-contact page (``GET /contacts?per_page=1000``) decoded with our msgspec models, with
   ``json.loads`` + pydantic v2 models of the same fields, and with ``json.loads`` alone.
2. CPU per request (``time.process_time``) of ``inro.contacts.list(per_page=1)`` against the fake
   server on loopback, versus raw aiohttp sending the same requests.

    python benchmarks/decode.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import msgspec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from inro_async import Quota
from inro_async._transport import decoder_for
from inro_async.client import Client
from inro_async.models.contacts import Contact

# -- a realistic page ---------------------------------------------------------------------------


def contact_page(n: int = 1000, seed: int = 7) -> bytes:
    """``n`` contacts shaped like the API's (docs/wire.md, Contacts), as response bytes."""
    try:  # the fake server's own generator when it is there
        from inro_async.testing import FakeInro  # noqa: F401
    except ImportError:
        pass
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
                "custom_properties": {"plan": rng.choice(["free", "pro"]), "score": rng.randrange(100)},
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


async def cpu_per_request(requests: int) -> float:
    from inro_async.testing import FakeInro

    token = "tok_bench"
    fake = FakeInro()
    fake.add_organization(token, contacts=100, seed=1)
    base_url = await fake.start()
    quotas = (Quota(10**9, 1),)  # never binds: this measures the client, not the pacing
    try:
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            url = f"{base_url}/contacts"

            async def raw_one() -> None:
                async with session.get(url, params={"page": "1", "per_page": "1"}, headers=headers) as r:
                    body = await r.read()
                    assert r.status == 200, body
                    json.loads(body)

            async with Client(token=token, base_url=base_url, quotas=quotas, session=session) as inro:

                async def ours_one() -> None:
                    page = await inro.contacts.list(per_page=1)
                    assert len(page.items) == 1

                contenders = {"raw aiohttp + json.loads": raw_one, "inro_async client": ours_one}
                for one in contenders.values():  # warm up connections and caches
                    for _ in range(50):
                        await one()
                results: dict[str, list[float]] = {name: [] for name in contenders}
                for _ in range(5):  # interleaved rounds: both see the same machine state
                    for name, one in contenders.items():
                        gc.collect()
                        started = time.process_time()
                        for _ in range(requests // 5):
                            await one()
                        results[name].append((time.process_time() - started) / (requests // 5))
    finally:
        await fake.stop()

    # process_time covers this whole process: the fake server runs in it too, equally for both.
    raw = statistics.median(results["raw aiohttp + json.loads"])
    ours = statistics.median(results["inro_async client"])
    print(f"CPU per request, {requests:,} sequential GET /contacts?per_page=1 on loopback")
    print("(process CPU: client and fake server share this process, identically for both)")
    print(f"{'':32} {'µs/request':>11} {'ratio':>7}")
    print(f"{'raw aiohttp + json.loads':32} {raw * 1e6:11.0f} {1.0:6.2f}×")
    print(f"{'inro_async client':32} {ours * 1e6:11.0f} {ours / raw:6.2f}×")
    print(f"-> the client costs {ours / raw:.2f}× raw aiohttp (target ≤ 1.3×)")
    return ours / raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--skip-requests", action="store_true")
    args = parser.parse_args()
    decode_table()
    if not args.skip_requests:
        asyncio.run(cpu_per_request(args.requests))


if __name__ == "__main__":
    main()
