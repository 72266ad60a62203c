"""Reports and events read well, and hand items back in their input form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inro_async.jobs._items import ItemStatus, Outcome
from inro_async.jobs._progress import ProgressEvent
from inro_async.jobs._report import ExportReport, JobReport, JobStatus, format_duration
from inro_async.jobs._tally import Tally
from inro_async.jobs.export import csv_header, csv_rows


def report_of(items: list[object], outcomes: list[Outcome], **fields: object) -> JobReport[object]:
    tally = Tally(len(items), [0])
    for position, outcome in enumerate(outcomes):
        tally.set(position, outcome)
    defaults: dict[str, object] = {
        "operation": "send_many",
        "job": "newsletter",
        "status": JobStatus.COMPLETED,
        "total": len(items),
        "duplicates": 0,
        "started_at": datetime(2026, 11, 23, tzinfo=UTC),
        "elapsed": 125.0,
        "requests": 3,
        "counts": dict(tally.counts),
    }
    defaults.update(fields)
    return JobReport(
        **defaults,  # type: ignore[arg-type]
        _items=items,
        _statuses=bytes(tally.statuses),
        _tally=tally,
    )


def test_failed_and_unknown_items_come_back_in_their_input_form() -> None:
    items: list[object] = [1, "ana", {"email": "b@c.de"}, 4]
    report = report_of(
        items,
        [
            Outcome(ItemStatus.DONE),
            Outcome(ItemStatus.FAILED, "boom"),
            Outcome(ItemStatus.UNKNOWN, "reset"),
            Outcome(ItemStatus.NOT_FOUND),
        ],
    )
    assert report.failed_items() == ["ana"]
    assert report.unknown_items() == [{"email": "b@c.de"}]
    assert report.not_found_items() == [4]
    assert (report.done, report.failed, report.unknown, report.not_found) == (1, 1, 1, 1)
    assert not report.ok


def test_a_report_prints_counts_errors_and_what_to_do_about_unknowns() -> None:
    report = report_of(
        [1, 2, 3],
        [
            Outcome(ItemStatus.DONE),
            Outcome(ItemStatus.SKIPPED, "status is optout"),
            Outcome(ItemStatus.UNKNOWN, "connection reset"),
        ],
        duplicates=2,
    )
    text = str(report)
    assert text.splitlines()[0] == "send_many 'newsletter': completed in 2m 05s"
    assert "3 items (2 duplicates dropped): 1 done · 1 skipped · 1 unknown" in text
    assert "1 × status is optout" in text
    assert "resend_unknown=True" in text


def test_a_paused_report_says_when_to_come_back() -> None:
    resume = datetime(2026, 11, 24, 4, 20, 59, tzinfo=UTC)
    report = report_of(
        [1], [Outcome(ItemStatus.PENDING)], status=JobStatus.PAUSED, resume_at=resume
    )
    assert "paused: the quota frees at 2026-11-24 04:20:59 UTC" in str(report)


def test_durations_are_short_and_human() -> None:
    assert [format_duration(s) for s in (0.5, 12.34, 245, 3 * 3600 + 125, 90_000)] == [
        "0.50 s",
        "12.3 s",
        "4m 05s",
        "3h 02m",
        "1d 01h",
    ]


def test_a_waiting_event_says_until_when_and_which_quota() -> None:
    event = ProgressEvent(
        kind="waiting",
        operation="send_many",
        job="newsletter",
        total=150_000,
        done=100_000,
        rate=1.2,
        waiting_until=datetime(2026, 11, 24, 4, 0, tzinfo=UTC),
        quota="100000/86400s",
    )
    assert str(event) == (
        "send_many newsletter: 100,000/150,000 "
        "(1.2/s, waiting until 2026-11-24 04:00:00 UTC (100000/86400s quota)) [waiting]"
    )
    assert event.fraction == 100_000 / 150_000


@pytest.mark.parametrize(
    ("job", "label"),
    [
        (None, "export"),
        ("newsletter", "export newsletter"),
        ("/var/lib/inro/jobs/newsletter.sqlite", "export newsletter.sqlite"),
    ],
)
def test_a_journal_path_is_labelled_by_its_file_name(job: str | None, label: str) -> None:
    event = ProgressEvent(kind="progress", operation="export", job=job, total=10)
    assert event.label == label
    assert str(event).startswith(f"{label}: 0/10")


def test_csv_has_a_column_per_property_and_keeps_unlisted_ones_as_json() -> None:
    contact = {
        "id": 7,
        "username": "ana",
        "is_follower": True,
        "follower_count": 12,
        "email": None,
        "folders": [{"id": 3, "name": "VIP"}, {"id": 9, "name": "EU"}],
        "custom_properties": {"tier": "gold", "tags": ["a", "b"], "late": 1},
    }
    header = csv_header(["tier", "tags"])
    [row] = csv_rows([contact], ["tier", "tags"])
    cells = dict(zip(header, row, strict=True))
    assert cells["id"] == "7"
    assert cells["is_follower"] == "true"
    assert cells["email"] == ""
    assert cells["folder_ids"] == "[3,9]"
    assert cells["custom_properties.tier"] == "gold"
    assert cells["custom_properties.tags"] == '["a","b"]'
    assert cells["custom_properties.other"] == '{"late":1}'


def test_the_rate_counts_only_items_this_run_finished() -> None:
    outcomes = [Outcome(ItemStatus.UNKNOWN)] * 3 + [Outcome(ItemStatus.SKIPPED)] * 2
    outcomes += [Outcome(ItemStatus.DONE)] * 5
    report = report_of(
        list(range(10)), outcomes, earlier={ItemStatus.DONE: 2}, carried_over=3, elapsed=5.0
    )
    assert report.rate == 1.0  # the 5 done items, not the 2 skipped or 3 carried-over unknown


def test_an_export_report_names_what_the_count_says_beyond_the_rows_written() -> None:
    # The last page read as the count moved: 4,999 rows, 5,000 counted. Never a silent "done".
    report = ExportReport("c.csv", "csv", 4_999, 5, 2.0, total=5_000, total_at_start=5_000)
    assert (report.missing, report.changed) == (1, False)
    assert str(report).splitlines()[1:] == [
        "  1 fewer than the server counts: the count moved as the last page was read"
    ]
    assert str(report).startswith("export: 4,999 of 5,000 contacts (5 pages) to c.csv [csv]")


def test_an_export_report_without_counts_says_only_what_was_written() -> None:
    report = ExportReport("c.jsonl", "jsonl", 30, 1, 1.0)
    assert (report.total, report.missing, report.changed) == (None, 0, False)
    assert str(report).startswith("export: 30 contacts (1 pages) to c.jsonl [jsonl]")


def test_not_found_items_are_named_in_the_summary() -> None:
    items: list[object] = [1, "ana", {"email": "b@c.de"}, 4, 5]
    nobody = Outcome(ItemStatus.NOT_FOUND)
    report = report_of(items, [nobody, nobody, Outcome(ItemStatus.DONE), nobody, nobody])
    assert report.not_found_items() == [1, "ana", 4, 5]
    assert "  4 not found: 1, ana, 4 and 1 more (report.not_found_items())" in str(report)
    few = report_of(items[:2], [Outcome(ItemStatus.DONE), nobody])
    assert "  1 not found: ana\n" in str(few) + "\n"


def test_a_summary_without_hints_names_no_python_call_but_keeps_every_count() -> None:
    nobody = Outcome(ItemStatus.NOT_FOUND)
    items: list[object] = [1, 2, 3, 4, 5]
    outcomes = [Outcome(ItemStatus.UNKNOWN, "connection reset"), nobody, nobody, nobody, nobody]
    report = report_of(items, outcomes)
    plain = report.summary(hints=False)
    assert "resend_unknown" not in plain
    assert "report." not in plain
    assert "4 not found: 2, 3, 4 and 1 more" in plain
    assert "1 unknown · " not in plain  # the order is done, not found, skipped, failed, unknown
    assert "4 not found · 1 unknown" in plain
    assert str(report) == report.summary()
    assert "resend_unknown=True" in str(report)


def test_rich_prints_a_report_as_a_table_of_outcomes_and_its_summary_lines() -> None:
    from rich.console import Console

    report = report_of(
        [1, 2, 3], [Outcome(ItemStatus.DONE), Outcome(ItemStatus.DONE), Outcome(ItemStatus.FAILED)]
    )
    console = Console(record=True, width=100)
    console.print(report)
    text = console.export_text()
    assert text.startswith("send_many 'newsletter': completed in 2m 05s")
    lines = [line for line in text.splitlines() if "│" in line]
    assert any("done" in line and "2" in line for line in lines)
    assert any("failed" in line and "1" in line for line in lines)
    assert any("total" in line and "3" in line for line in lines)
    assert "3 requests" in text
