"""Bulk jobs through the blocking client: same reports and journals, progress in this thread."""

from __future__ import annotations

import io
import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from inro_async import Action, Quota, Trigger
from inro_async.jobs import JobStatus, ProgressEvent, RichProgress
from inro_async.sync import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN

from .conftest import python_child
from .test_portal import deliveries

BIG = {"contacts": 25_000, "seed": 3}


def active_ids(fake: FakeInro) -> set[int]:
    return {cid for cid, c in fake.org.contacts.items() if c["status"] == "active"}


@pytest.mark.parametrize("sync_fake_options", [BIG])
def test_25000_recipients_take_exactly_25_sends_of_1000_and_each_is_delivered_once(
    inro: Client, fake: FakeInro
) -> None:
    report = inro.messages.send_many(range(1, 25_001), text="Spring sale")
    sends = fake.requests_to("messages.send")
    assert len(sends) == 25
    assert all(len(r.body["contact_ids"]) == 1000 for r in sends)
    counts = deliveries(fake)
    assert set(counts.values()) == {1}
    assert set(counts) == active_ids(fake)
    assert len(counts) == report.done
    assert report.done + report.skipped == 25_000
    assert report.status is JobStatus.COMPLETED


KILLED_CHILD = """
import json, sys
from inro_async.sync import Client

base_url, journal, token = sys.argv[1:4]
with Client(token, base_url=base_url) as inro:
    report = inro.messages.send_many(range(1, 20_001), text="Spring sale", job=journal,
                                     concurrency=4)
print(json.dumps({"done": report.done, "skipped": report.skipped,
                  "unknown": report.unknown_items(), "status": report.status.value}))
"""


@pytest.mark.parametrize("sync_fake_options", [BIG])
def test_a_killed_process_rerun_delivers_the_rest_and_duplicates_nothing(
    fake: FakeInro, tmp_path: Path
) -> None:
    assert fake.base_url is not None
    fake.inject("latency", route="messages.send", times=1000, seconds=0.15)
    journal = tmp_path / "promo.sqlite3"
    everyone = set(range(1, 20_001)) & active_ids(fake)

    child = python_child(KILLED_CHILD, fake.base_url, str(journal), TOKEN)
    while sum(deliveries(fake).values()) < 6_000:
        assert child.poll() is None, child.communicate()
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)  # mid-way, chunks in flight: no cleanup of any kind
    child.wait()
    time.sleep(0.3)  # chunks the dead child had in flight finish on the server
    delivered_before = set(deliveries(fake))
    assert 0 < len(delivered_before) < len(everyone)
    requests_before = len(fake.requests)

    rerun = python_child(KILLED_CHILD, fake.base_url, str(journal), TOKEN)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    result = json.loads(out)
    unknown = set(result["unknown"])
    counts = deliveries(fake)
    assert max(counts.values()) == 1  # nobody got it twice
    assert set(counts) | (unknown & everyone) == everyone  # delivered, or reported as unknown
    assert everyone - unknown <= set(counts)
    resent = {
        cid
        for r in fake.requests[requests_before:]
        if r.route == "messages.send"
        for cid in r.body["contact_ids"]
    }
    assert not resent & unknown  # an unknown chunk is reported, never sent blindly again
    assert not resent & delivered_before
    assert result["status"] == "completed"


def test_progress_is_called_back_in_the_callers_thread(inro: Client) -> None:
    seen: list[tuple[str, str]] = []

    def on_progress(event: ProgressEvent) -> None:
        seen.append((threading.current_thread().name, event.kind))
        if event.kind == "started":
            inro.me()  # a callback may use the client: it runs here, not on the portal

    report = inro.messages.send_many(range(1, 101), text="hi", on_progress=on_progress)
    assert report.status is JobStatus.COMPLETED
    assert {thread for thread, _ in seen} == {threading.current_thread().name}
    assert seen[0][1] == "started"
    assert seen[-1][1] == "finished"


def test_a_callback_that_raises_is_logged_and_the_job_goes_on(
    inro: Client, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: ProgressEvent) -> None:
        raise ValueError("a broken progress bar")

    with caplog.at_level(logging.ERROR, logger="inro_async.jobs"):
        report = inro.messages.send_many(range(1, 11), text="hi", on_progress=broken)
    assert report.status is JobStatus.COMPLETED
    assert "progress callback failed" in caplog.text


def test_an_async_callback_is_awaited(inro: Client) -> None:
    kinds: list[str] = []

    async def on_progress(event: ProgressEvent) -> None:
        kinds.append(event.kind)

    inro.contacts.update_many([{"id": 1, "contact": {"notes": "vip"}}], on_progress=on_progress)
    assert kinds[0] == "started"
    assert kinds[-1] == "finished"


def test_rich_progress_draws_the_same_bars(inro: Client) -> None:
    out = io.StringIO()
    with RichProgress(Console(file=out, force_terminal=True, width=100)) as bars:
        report = inro.scenarios.trigger_many(
            first_active_scenario(inro), [1, 2, 3], on_progress=bars
        )
    assert report.done + report.failed + report.skipped == 3
    assert "trigger_many" in out.getvalue()


def first_active_scenario(inro: Client) -> int:
    scenario = inro.scenarios.create(
        title="Welcome",
        triggers=[Trigger(trigger_type="contact_create")],
        actions=[Action(action_key="hi", action_type="message", content="Hi {{contact.name}}")],
        active=True,
    )
    return scenario.id


def test_update_many_and_export_block_and_return_their_reports(
    inro: Client, fake: FakeInro, tmp_path: Path
) -> None:
    report = inro.contacts.update_many(
        [{"id": n, "contact": {"notes": f"note {n}"}} for n in range(1, 51)]
    )
    assert report.done == 50
    assert fake.org.contacts[7]["notes"] == "note 7"
    exported = inro.contacts.export(tmp_path / "all.jsonl")
    assert exported.contacts == 100
    assert len((tmp_path / "all.jsonl").read_text().splitlines()) == 100


@pytest.mark.parametrize("sync_fake_options", [{"contacts": 5_000}])
def test_a_job_paused_by_its_quota_is_finished_by_a_rerun(fake: FakeInro, tmp_path: Path) -> None:
    """Three requests a minute: a 5-chunk job pauses after three, a rerun sends the other two."""
    journal = tmp_path / "slow.sqlite3"
    options: dict[str, Any] = {"text": "hi", "job": journal, "stop_when_blocked_over": 5}
    with Client(TOKEN, base_url=fake.base_url, quotas=[Quota(20, 1), Quota(3, 60)]) as inro:
        first = inro.messages.send_many(range(1, 5_001), **options)
    assert first.status is JobStatus.PAUSED
    assert first.pending == 2_000
    with Client(TOKEN, base_url=fake.base_url) as inro:  # later, with the minute free again
        second = inro.messages.send_many(range(1, 5_001), **options)
    assert second.status is JobStatus.COMPLETED
    assert second.skipped >= 3_000
    assert len(fake.requests_to("messages.send")) == 5
    assert max(deliveries(fake).values()) == 1
