"""Two refreshes of one mirror at once: one waits for the other; no event is doubled."""

from __future__ import annotations

import asyncio

from mirror_support import client_for, started

from inro_async.mirror import ContactMirror
from inro_async.testing.churn import random_changes


async def test_two_refreshes_at_once_make_each_event_once(where: str) -> None:
    fake = await started(2_000)
    try:
        async with client_for(fake) as inro:
            async with ContactMirror(where) as first:
                await first.refresh(inro)
            random_changes(fake.org, 50, seed=8, kinds=("updated", "created"))
            one, two = ContactMirror(where), ContactMirror(where)
            async with one, two:
                reports = await asyncio.gather(one.refresh(inro), two.refresh(inro))
                assert sorted(r.events for r in reports) == [0, 50]
                events = [e async for e in one.events()]
                assert len(events) == len({e["id"] for e in events}) == 2_050
    finally:
        await fake.close()
