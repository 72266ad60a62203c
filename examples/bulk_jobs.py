"""Bulk jobs: message every contact of a CSV export, resumably, with a progress bar.

Try it against the fake server (no token, no network):

    inro fake-server --contacts 5000 &      # prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/bulk_jobs.py

Kill it half way (Ctrl-C, or even `kill -9`) and run it again: the journal named "spring-promo"
skips every chunk already delivered and reports any chunk whose answer was lost as "unknown"
instead of sending it twice. Pass --resend-unknown once you have checked those contacts.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from inro_async import Client
from inro_async.jobs import RichProgress


async def main(resend_unknown: bool) -> None:
    async with Client() as inro:
        # Anything that names contacts works: ids, usernames, emails, Contact objects.
        recipients = [contact.id async for contact in inro.contacts.iter(concurrency=4)]

        with RichProgress() as progress:
            report = await inro.messages.send_many(
                recipients,
                text="Spring sale: 20% off everything this week 🌷",
                job="spring-promo",  # journal: ~/.local/state/inro_async/jobs/spring-promo.sqlite3
                resend_unknown=resend_unknown,
                stop_when_blocked_over=timedelta(hours=1),  # pause rather than wait out a day
                on_progress=progress,
            )
        print(report)
        if report.failed:
            print("to retry:", report.failed_items()[:10], "…")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resend-unknown", action="store_true")
    asyncio.run(main(parser.parse_args().resend_unknown))
