"""Jobs under random faults and random interruptions keep their promises (issue 15).

Hypothesis draws a job (``send_many``, ``trigger_many`` or ``update_many``), a seeded mix of
server faults (5xx, connection resets before and after the server acted, slow answers past the
client's timeout, truncated and malformed bodies) and a moment to cancel it; the job runs
against the fake over loopback with a journal, then is run again from that journal. Whatever
was drawn:

* every item ends each run in exactly one state;
* nothing is ``done`` that the server did not deliver (or run, or update);
* nothing is delivered twice, across both runs;
* ``unknown`` only for items whose request reached the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from inro_async import Quota
from inro_async.client import Client
from inro_async.jobs import Job, JobReport, trigger_many, update_many
from inro_async.jobs._items import ItemStatus
from inro_async.models.automation import Action, Trigger
from inro_async.testing import FakeInro, Faults
from inro_async.testing.store import Organization

TOKEN = "properties-token"
FAST = (Quota(10_000, 1),)
TIMEOUT = 0.3

ROUTES = {
    "send_many": "messages.send",
    "trigger_many": "scenarios.trigger",
    "update_many": "contacts.bulk_update",
}


@dataclass(frozen=True)
class Draw:
    """One example: the job, the faults, when to cancel (None: let it finish)."""

    job: str
    seed: int
    error_rate: float
    reset_before_rate: float
    reset_after_rate: float
    slow_rate: float
    truncate_rate: float
    malformed_rate: float
    cancel_after: float | None


rates = st.sampled_from([0.0, 0.0, 0.1, 0.3])
draws = st.builds(
    Draw,
    job=st.sampled_from(sorted(ROUTES)),
    seed=st.integers(0, 2**16),
    error_rate=rates,
    reset_before_rate=rates,
    reset_after_rate=rates,
    slow_rate=st.sampled_from([0.0, 0.0, 0.2]),
    truncate_rate=rates,
    malformed_rate=rates,
    cancel_after=st.none() | st.floats(0.0, 0.4),
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI stays reproducible
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a failing draw is printed; shrinking one is slow
)
@given(draw=draws)
def test_jobs_keep_their_promises_under_faults_and_interruptions(draw: Draw) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(draw, Path(tmp) / "job.sqlite3"))


async def run(draw: Draw, journal: Path) -> None:
    faults = Faults(
        seed=draw.seed,
        latency=lambda rng: TIMEOUT * 2 if rng.random() < draw.slow_rate else 0.0,
        error_rate=draw.error_rate,
        reset_before_rate=draw.reset_before_rate,
        reset_after_rate=draw.reset_after_rate,
        truncate_rate=draw.truncate_rate,
        malformed_rate=draw.malformed_rate,
        routes=[ROUTES[draw.job]],
    )
    server = FakeInro(quotas=FAST, faults=faults, batch_delay=0.02)
    org = server.add_organization(TOKEN, plan="pro", contacts=600, seed=draw.seed)
    await server.start()
    try:
        async with Client(TOKEN, base_url=server.base_url, quotas=FAST, timeout=TIMEOUT) as inro:
            # The setup goes unhurried: the faults are for the job (a loaded machine is slow).
            scenario = await inro.with_options(timeout=30).scenarios.create(
                title="P",
                triggers=[Trigger(trigger_type="contact_create")],
                actions=[Action(action_key="hi", action_type="message", content="Hi")],
                active=True,
            )
            first = await attempt(inro, draw, journal, scenario.id, draw.cancel_after)
            check(server, org, draw, first, scenario.id)
            again = await attempt(inro, draw, journal, scenario.id, None)
            check(server, org, draw, again, scenario.id)
    finally:
        await server.close()


def make_job(inro: Client, draw: Draw, journal: Path, scenario_id: int) -> Job[JobReport[Any]]:
    common: dict[str, Any] = {"job": journal, "concurrency": 3}
    if draw.job == "send_many":
        return inro.messages.send_many(range(1, 2_501), text="hi", **common)
    if draw.job == "trigger_many":
        return trigger_many(inro, scenario_id, range(1, 301), chunk_size=50, **common)
    updates = [{"id": cid, "contact": {"notes": "p"}} for cid in range(1, 301)]
    return update_many(inro, updates, chunk_size=50, poll_interval=0.02, **common)


async def attempt(
    inro: Client, draw: Draw, journal: Path, scenario_id: int, cancel_after: float | None
) -> JobReport[Any]:
    job = make_job(inro, draw, journal, scenario_id)
    task = job.start()
    if cancel_after is not None:
        await asyncio.sleep(cancel_after)
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(asyncio.shield(task), timeout=60)
    if not task.done():
        raise AssertionError("the job did not end")
    report = job.report
    assert report is not None, "a job that ran has a report"
    return report


def check(
    server: FakeInro, org: Organization, draw: Draw, report: JobReport[Any], scenario_id: int
) -> None:
    states = report.done + report.failed + report.not_found + report.skipped + report.unknown
    assert states + report.pending == report.total, "an item without exactly one state"
    counts = org.delivery_counts()
    assert all(n == 1 for n in counts.values()), "a message was delivered twice"
    route = ROUTES[draw.job]
    reached = {
        ident(entry)
        for r in server.requests
        if r.route == route and not r.throttled and isinstance(r.body, dict)
        for entry in r.body.get("contact_ids") or r.body.get("contacts") or ()
    }
    unknown = {ident(i) for i in report.items(ItemStatus.UNKNOWN)}
    assert unknown <= reached, "unknown items whose request never reached the server"
    done = {ident(i) for i in report.items(ItemStatus.DONE)}
    if draw.job == "send_many":
        assert done <= set(counts), "done, but never delivered"
    elif draw.job == "trigger_many":
        runs = [e["contact_id"] for e in org.executions if e["scenario_id"] == scenario_id]
        assert len(runs) == len(set(runs)), "a scenario ran twice for one contact"
        assert done <= set(runs), "done, but the scenario never ran for it"
    else:
        changed = {cid for cid, c in org.contacts.items() if c.get("notes") == "p"}
        assert done <= changed, "done, but never updated"


def ident(item: Any) -> int:
    if hasattr(item, "identifier"):  # an update_many entry
        return int(item.identifier.value)
    if isinstance(item, dict):
        return int(item["id"])
    return int(item)
