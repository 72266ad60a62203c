"""Contacts: look one up, update it, walk every contact, bulk-update and follow the batch task.

Against the fake server (no token, no network):

    inro fake-server --contacts 5000 &      # prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/contacts.py
"""

from __future__ import annotations

import asyncio
from collections import Counter

from inro_async import Client


async def main() -> None:
    async with Client() as inro:  # token from INRO_API_TOKEN
        org = await inro.me()
        page = await inro.contacts.list(per_page=1000)
        print(f"{org.name}: {page.total:,} contacts")

        first = page.items[0]
        jane = await inro.contacts.get(username=first.username)
        jane = await inro.contacts.update(jane.id, notes="met at the spring fair")
        print("updated:", jane.username, "→", jane.notes)

        # Every contact, 1,000 per page, 4 pages in flight, still in order.
        statuses = Counter([c.status async for c in inro.contacts.iter(concurrency=4)])
        print("by status:", dict(statuses))

        # Up to 1,000 different changes in one call; the writes run as a batch task.
        entries = [
            {"id": c.id, "contact": {"language": "en"}} for c in page.items[:100]
        ] + [{"email": "nobody@example.com", "contact": {"status": "optout"}}]
        result = await inro.contacts.bulk_update(entries)
        print(f"accepted {result.accepted_count}, not found: {[str(n) for n in result.not_found]}")
        task = await inro.batch_tasks.wait(result.batch_task_id, poll_interval=0.5)
        print(f"batch task {task.id}: {task.status}, {task.processed_count} processed")


if __name__ == "__main__":
    asyncio.run(main())
