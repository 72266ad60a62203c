"""update_many over the HTTP seam: bulk PUTs, batch tasks followed, crashes resumed."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inro_async import _validate_contacts
from inro_async._http import HTTPRequest, HTTPResult, SendError
from inro_async.jobs import ItemStatus, JobStatus, update_many
from inro_async.jobs import contacts as jobs_contacts

from .conftest import body_of, json_result
from .test_runner import chunk_statuses, make_client


class BulkServer:
    """``PUT /contacts/bulk`` and ``GET /batch_tasks/{id}`` over contacts 1..known."""

    def __init__(self, known: int = 100, *, polls_before_done: int = 1) -> None:
        self.known = known
        self.polls_before_done = polls_before_done
        self.puts: list[list[dict[str, Any]]] = []
        self.applied: dict[int, list[dict[str, Any]]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.polls = 0
        self.ids = itertools.count(1)
        self.reset_after_put = False
        self.refuse_index: int | None = None

    def __call__(self, request: HTTPRequest) -> HTTPResult:
        if request.method == "GET":
            task_id = request.url.rsplit("/", 1)[1]
            task = self.tasks[task_id]
            self.polls += 1
            task["polls"] += 1
            if task["polls"] <= self.polls_before_done:
                return json_result(200, {**task["body"], "status": "processing"})
            return json_result(200, task["body"])
        entries = body_of(request)["contacts"]
        if self.refuse_index is not None:
            index, self.refuse_index = self.refuse_index, None
            return json_result(400, {"error": "entry has no identifier", "index": index})
        self.puts.append(entries)
        found, not_found, errors = [], [], []
        for index, entry in enumerate(entries):
            ident = {k: v for k, v in entry.items() if k != "contact"}
            contact_id = ident.get("id")
            if not isinstance(contact_id, int) or not 1 <= contact_id <= self.known:
                not_found.append(ident)
                continue
            if "bad" in entry["contact"].get("custom_properties", {}):
                errors.append({"index": index, "identifier": ident, "error": "unknown slug 'bad'"})
                continue
            found.append(ident)
            self.applied.setdefault(contact_id, []).append(entry["contact"])
        task_id = f"bt_{next(self.ids)}"
        self.tasks[task_id] = {
            "polls": 0,
            "body": {"id": task_id, "status": "completed", "errors": errors},
        }
        body = {
            "batch_task_id": task_id,
            "status": "pending",
            "accepted_count": len(found) + len(errors),  # matched; errors come in the task
            "not_found_count": len(not_found),
            "not_found": not_found,
        }
        if self.reset_after_put:
            raise SendError("connection reset", sent=True)
        return json_result(202, body)


def entries(ids: range, **change: Any) -> list[dict[str, Any]]:
    return [{"id": i, "contact": {"notes": f"n{i}", **change}} for i in ids]


async def test_a_bulk_update_with_unknown_identifiers_reports_each_of_them() -> None:
    server = BulkServer(known=2_000)
    ghost = {"email": "ghost@example.com", "contact": {"notes": "x"}}
    updates = [*entries(range(1, 2_501)), ghost]
    report = await update_many(make_client(server), updates, poll_interval=0.001)
    assert len(server.puts) == 3
    assert report.done == 2_000
    assert report.not_found == 501
    unknown = report.not_found_items()
    assert {"email": "ghost@example.com", "contact": {"notes": "x"}} in [
        u.as_entry() for u in unknown
    ]
    assert sorted(u.identifier.value for u in unknown if u.identifier.kind == "id") == list(
        range(2_001, 2_501)
    )
    assert report.status is JobStatus.COMPLETED


async def test_entries_the_batch_task_rejects_are_failed_with_its_error() -> None:
    server = BulkServer()
    updates = [*entries(range(1, 4)), {"id": 4, "contact": {"custom_properties": {"bad": 1}}}]
    report = await update_many(make_client(server), updates, poll_interval=0.001)
    [(item, outcome)] = [(i, o) for i, o in report.outcomes() if o.status is ItemStatus.FAILED]
    assert item.identifier.value == 4
    assert outcome.reason == "unknown slug 'bad'"
    assert report.done == 3


async def test_a_rerun_after_a_crash_follows_the_same_batch_task_instead_of_resending(
    tmp_path: Path,
) -> None:
    server = BulkServer(polls_before_done=10**9)  # the task never finishes in the first run
    path = tmp_path / "crm.sqlite3"
    first = update_many(
        make_client(server), entries(range(1, 11)), job=path, poll_interval=0.001, task_timeout=0.02
    )
    report = await first
    assert report.unknown == 10  # accepted, progress unknown
    assert chunk_statuses(path) == ["accepted"]

    server.polls_before_done = 0
    rerun = await update_many(make_client(server), entries(range(1, 11)), job=path)
    assert rerun.done == 10
    assert len(server.puts) == 1  # followed, not re-sent
    assert chunk_statuses(path) == ["done"]


async def test_a_lost_answer_to_a_put_is_simply_sent_again_by_the_next_run(tmp_path: Path) -> None:
    server = BulkServer()
    server.reset_after_put = True
    path = tmp_path / "crm.sqlite3"
    report = await update_many(make_client(server), entries(range(1, 6)), job=path)
    assert report.unknown == 5
    server.reset_after_put = False
    rerun = await update_many(
        make_client(server), entries(range(1, 6)), job=path, poll_interval=0.001
    )
    assert rerun.done == 5
    assert len(server.puts) == 2  # a PUT may be repeated: same values, same result


async def test_a_400_naming_one_entry_drops_it_and_sends_the_rest() -> None:
    server = BulkServer()
    server.refuse_index = 1
    report = await update_many(make_client(server), entries(range(1, 4)), poll_interval=0.001)
    assert report.done == 2
    [failed] = report.failed_items()
    assert failed.identifier.value == 2
    assert [e["id"] for e in server.puts[0]] == [1, 3]


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_token_aborts_update_many(status: int) -> None:
    def refuse(request: HTTPRequest) -> HTTPResult:
        return json_result(status, {"error": "no"})

    job = update_many(make_client(refuse), entries(range(1, 3001)), concurrency=1)
    with pytest.raises(Exception, match=str(status)):
        await job
    assert job.report is not None
    assert job.report.status is JobStatus.ABORTED


async def test_each_update_is_checked_once_not_again_by_its_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []

    def counting(check: Callable[[str, object], Any]) -> Callable[[str, object], Any]:
        def wrapper(argument: str, value: object) -> Any:
            checked.append(argument)
            return check(argument, value)

        return wrapper

    # The job's rule for a change, and the resource's (which a chunk must not apply again).
    monkeypatch.setattr(
        jobs_contacts, "contact_update", counting(_validate_contacts.contact_update)
    )
    monkeypatch.setattr(
        _validate_contacts, "contact_update", counting(_validate_contacts.contact_update)
    )
    report = await update_many(make_client(BulkServer(known=2_500)), entries(range(1, 2_501)))
    assert report.done == 2_500
    assert len(checked) == 2_500
    assert checked[-1] == "updates[2499].contact"
