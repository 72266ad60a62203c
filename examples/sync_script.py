"""A plain script with the blocking client: no event loop, no ``await`` (cron jobs, Celery).

``inro_async.sync.Client`` has the async client's calls, models, errors, governor and job
journals; each call blocks until its answer. Against the fake server (no token, no network):

    inro fake-server --contacts 5000 &      # prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/sync_script.py
"""

from __future__ import annotations

from collections import Counter

from inro_async import NotFoundError
from inro_async.jobs import ProgressEvent
from inro_async.sync import Client


def show(event: ProgressEvent) -> None:
    if event.kind in ("started", "finished"):  # called in this thread, as the job goes
        print(" ", event)


def main() -> None:
    with Client() as inro:  # token from INRO_API_TOKEN
        org = inro.me()
        page = inro.contacts.list(per_page=1000)
        print(f"{org.name}: {page.total:,} contacts")

        first = page.items[0]
        jane = inro.contacts.update(first.id, notes="met at the spring fair")
        print("updated:", jane.username, "→", jane.notes)
        try:
            inro.contacts.get(username="no.such.person")
        except NotFoundError as error:  # the same exceptions as the async client
            print("not found:", error.status)

        # An ordinary iterator: the next page is fetched while this loop works on the current one.
        statuses = Counter(c.status for c in inro.contacts.iter(concurrency=4))
        print("by status:", dict(statuses))

        # A bulk job blocks and returns its report; with job= it is resumable after a crash.
        active = [c.id for c in page.items if c.status == "active"][:500]
        report = inro.messages.send_many(active, text="Spring sale!", on_progress=show)
        print(f"sent: {report.done:,} done, {report.skipped:,} skipped")
        print("quota:", ", ".join(f"{u.quota}: {u.used} used" for u in inro.quota()))


if __name__ == "__main__":
    main()
