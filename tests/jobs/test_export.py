"""export: JSON Lines and CSV, pages in order with a bounded lookahead, all or nothing on disk."""

from __future__ import annotations

import asyncio
import csv
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from inro_async._http import HTTPRequest, HTTPResult, MockBackend
from inro_async.client import Client
from inro_async.errors import InternalServerError, InvalidArgumentError
from inro_async.jobs import export_contacts
from inro_async.models.contacts import Contact

from .conftest import StubGovernor, json_result


class ContactPages:
    """``GET /contacts`` and ``GET /contact_properties`` for ``total`` generated contacts."""

    def __init__(self, total: int, *, fail_page: int | None = None) -> None:
        self.total = total
        self.fail_page = fail_page
        self.in_flight = self.peak = 0

    def contact(self, n: int) -> dict[str, Any]:
        return {
            "id": n,
            "username": f"user{n}",
            "status": "active",
            "is_follower": n % 2 == 0,
            "follower_count": n * 10,
            "custom_properties": {"tier": "gold"} if n % 3 == 0 else {},
            "folders": [{"id": 5, "name": "VIP"}] if n % 5 == 0 else [],
        }

    async def __call__(self, request: HTTPRequest) -> HTTPResult:
        if request.url.endswith("/contact_properties"):
            return json_result(200, [{"slug": "tier", "title": "Tier"}])
        params = dict(request.params)
        page, per_page = int(params["page"]), int(params["per_page"])
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.002)
        self.in_flight -= 1
        if page == self.fail_page:
            return json_result(500, {"error": "boom"})
        first = (page - 1) * per_page + 1
        ids = range(first, min(self.total, page * per_page) + 1)
        pages = -(-self.total // per_page)
        headers = {
            "X-Total": str(self.total),
            "X-Total-Pages": str(pages),
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
        }
        return json_result(200, [self.contact(n) for n in ids], headers)


def client_for(server: ContactPages) -> Client:
    return Client(
        "t",
        base_url="http://inro.test/api/v1",
        governor=StubGovernor(),
        backend=MockBackend(server),
        max_retries=0,
    )


async def test_json_lines_hold_every_contact_once_in_order(tmp_path: Path) -> None:
    server = ContactPages(2_345)
    path = tmp_path / "contacts.jsonl"
    report = await export_contacts(client_for(server), path, per_page=100, concurrency=3)
    lines = path.read_bytes().splitlines()
    contacts = [msgspec.json.decode(line, type=Contact) for line in lines]
    assert [c.id for c in contacts] == list(range(1, 2_346))
    assert contacts[2].custom_properties == {"tier": "gold"}
    assert (report.contacts, report.pages, report.format) == (2_345, 24, "jsonl")
    assert server.peak == 3  # the lookahead window, not the whole list


async def test_csv_has_flat_columns_and_folders_as_ids(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    await export_contacts(client_for(ContactPages(30)), path, per_page=10)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 30
    assert rows[4]["folder_ids"] == "[5]"
    assert rows[2]["custom_properties.tier"] == "gold"
    assert rows[1]["is_follower"] == "true"
    assert rows[0]["custom_properties.other"] == ""


async def test_a_failed_export_leaves_no_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "contacts.jsonl"
    path.write_text("yesterday's export\n")
    job = export_contacts(client_for(ContactPages(1_000, fail_page=4)), path, per_page=100)
    with pytest.raises(InternalServerError):
        await job
    assert path.read_text() == "yesterday's export\n"  # untouched
    assert os.listdir(tmp_path) == ["contacts.jsonl"]  # no temporary file left


async def test_the_format_must_be_known_before_anything_is_fetched(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="format"):
        export_contacts(client_for(ContactPages(1)), tmp_path / "contacts.xlsx")


async def test_export_events_count_contacts_against_the_announced_total(tmp_path: Path) -> None:
    job = export_contacts(client_for(ContactPages(500)), tmp_path / "c.jsonl", per_page=100)
    events = [event async for event in job.events()]
    await job
    assert events[0].kind == "started"
    progress = [e for e in events if e.kind == "progress"]
    assert [e.done for e in progress] == [100, 200, 300, 400, 500]
    assert progress[0].total == 500
    assert events[-1].kind == "finished"
