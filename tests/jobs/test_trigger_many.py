"""trigger_many over the HTTP seam: chunks of contacts, data on every call, job-wide refusals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from inro_async import _validate_contacts
from inro_async._http import HTTPRequest, HTTPResult
from inro_async.errors import InvalidArgumentError, UnprocessableEntityError
from inro_async.jobs import JobStatus, trigger_many
from inro_async.resources import _automation_rules

from .conftest import body_of, json_result
from .test_runner import make_client


async def test_every_contact_is_triggered_once_with_the_data() -> None:
    calls: list[dict[str, object]] = []

    def trigger(request: HTTPRequest) -> HTTPResult:
        body = body_of(request)
        calls.append(body)
        missing = [c for c in body["contacts"] if c.get("email") == "gone@x.io"]
        accepted = len(body["contacts"]) - len(missing)
        return json_result(
            202, {"status": "queued", "accepted_count": accepted, "not_found": missing}
        )

    contacts = [*range(1, 2_001), "ana", {"email": "gone@x.io"}, 5]
    report = await trigger_many(
        make_client(trigger), 42, contacts, data={"order_id": "A-17"}, concurrency=2
    )
    assert [len(c["contacts"]) for c in calls] == [1000, 1000, 2]  # type: ignore[arg-type]
    assert all(c["data"] == {"order_id": "A-17"} for c in calls)
    assert (report.done, report.not_found, report.duplicates) == (2_001, 1, 1)


async def test_an_inactive_scenario_stops_the_job_after_the_first_refusal() -> None:
    def inactive(request: HTTPRequest) -> HTTPResult:
        return json_result(422, {"error": "scenario is not active"})

    job = trigger_many(make_client(inactive), 42, range(1, 10_001), concurrency=1)
    with pytest.raises(UnprocessableEntityError, match="not active"):
        await job
    assert job.report is not None
    assert job.report.status is JobStatus.ABORTED
    assert job.report.pending == 9_000  # one chunk tried, nine left untouched


def test_data_must_be_json() -> None:
    with pytest.raises(InvalidArgumentError, match="data"):
        trigger_many(None, 1, [1], data={"when": object()})  # type: ignore[arg-type]


async def test_each_contact_is_checked_once_not_again_by_its_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: Counter[object] = Counter()

    def counting(check: Callable[..., Any], value_of: Callable[..., object]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            checked[value_of(*args, **kwargs)] += 1
            return check(*args, **kwargs)

        return wrapper

    # The shared identifier rules (the job applies them once), and the resource's entry point
    # (which a chunk must not go through again).
    for kind, rule in list(_validate_contacts.IDENTIFIER_PROBLEMS.items()):
        monkeypatch.setitem(
            _validate_contacts.IDENTIFIER_PROBLEMS, kind, counting(rule, lambda value: value)
        )
    monkeypatch.setattr(
        _automation_rules,
        "one_identifier",
        counting(_automation_rules.one_identifier, lambda **kw: next(v for v in kw.values() if v)),
    )
    usernames = [f"user{i}" for i in range(2_500)]

    def ok(request: HTTPRequest) -> HTTPResult:
        accepted = len(body_of(request)["contacts"])
        return json_result(202, {"status": "queued", "accepted_count": accepted})

    report = await trigger_many(make_client(ok), 42, usernames, data={"a": 1})
    assert report.done == 2_500
    assert checked == Counter({42: 1} | {name: 1 for name in usernames})  # and the scenario id


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("concurrency", 0),
        ("concurrency", 65),
        ("concurrency", True),
        ("chunk_size", 0),
        ("chunk_size", 1001),
        ("chunk_size", 2.0),
        ("stop_when_blocked_over", -1),
        ("stop_when_blocked_over", float("nan")),
        ("stop_when_blocked_over", "1h"),
    ],
)
def test_bad_job_options_are_refused_before_anything_is_sent(option: str, value: object) -> None:
    sent: list[HTTPRequest] = []

    def record(request: HTTPRequest) -> HTTPResult:
        sent.append(request)
        return json_result(202, {"status": "queued"})

    with pytest.raises(InvalidArgumentError, match=option):
        trigger_many(make_client(record), 42, [1, 2], **{option: value})  # type: ignore[arg-type]
    assert sent == []
