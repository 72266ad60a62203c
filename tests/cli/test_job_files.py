"""``inro jobs path|delete|list|resume``: where journals are, deleting them, columns, quoting."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from pathlib import Path

import pytest

from cli._helpers import Invoke
from inro_async.jobs._stores import SqliteStore
from inro_async.testing import FakeInro


def _send(invoke: Invoke, tmp_path: Path, job: str, ids: Iterable[int], folder: str = ".") -> Path:
    directory = tmp_path / folder
    directory.mkdir(exist_ok=True)
    recipients = directory / "to.txt"
    recipients.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    result = invoke("messages", "send", "--to", str(recipients), "--text", "Hi", "--job", job)
    assert result.exit_code == 0, result.output
    return recipients


def test_jobs_path_prints_the_journal_of_a_job(invoke: Invoke, tmp_path: Path) -> None:
    _send(invoke, tmp_path, "spring", range(1, 11))
    result = invoke("jobs", "path", "spring")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "jobs" / "spring.sqlite3")
    assert Path(result.stdout.strip()).is_file()


def test_jobs_path_of_a_job_never_run_says_where_it_would_be_and_exits_1(
    invoke: Invoke, tmp_path: Path
) -> None:
    result = invoke("--json", "jobs", "path", "later")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "name": "later",
        "path": str(tmp_path / "jobs" / "later.sqlite3"),
        "exists": False,
    }
    assert "no journal for job 'later' yet" in result.stderr


def test_jobs_delete_removes_the_journal_and_says_what_it_deleted(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    _send(invoke, tmp_path, "spring", range(1, 11))
    jobs = tmp_path / "jobs"
    result = invoke("--json", "jobs", "delete", "spring")
    assert result.exit_code == 0, result.output
    deleted = json.loads(result.stdout)["deleted"]
    assert str(jobs / "spring.sqlite3") in deleted
    assert str(jobs / "spring.cli.json") in deleted
    assert all(not Path(file).exists() for file in deleted)
    assert list(jobs.iterdir()) == []
    assert "no named jobs" in invoke("jobs", "list").stdout
    # Forgotten: the same name starts over and sends again.
    sends = len(fake.requests_to("messages.send"))
    _send(invoke, tmp_path, "spring", range(1, 11))
    assert len(fake.requests_to("messages.send")) == sends + 1


def test_jobs_delete_refuses_the_journal_of_a_running_job(invoke: Invoke, tmp_path: Path) -> None:
    _send(invoke, tmp_path, "spring", range(1, 11))
    journal = tmp_path / "jobs" / "spring.sqlite3"
    running = SqliteStore(journal)  # what a job holds while it runs: the journal's lock
    try:
        result = invoke("jobs", "delete", "spring")
    finally:
        running.close()
    assert result.exit_code == 1
    assert "job 'spring' is running" in result.output
    assert "nothing was deleted" in result.output
    assert journal.is_file()
    assert (tmp_path / "jobs" / "spring.cli.json").is_file()


def test_jobs_delete_removes_a_damaged_journal_too(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "broken.sqlite3").write_bytes(b"not sqlite at all")
    result = invoke("jobs", "delete", "broken")
    assert result.exit_code == 0, result.output
    assert "broken.sqlite3" in result.stdout
    assert not (tmp_path / "jobs" / "broken.sqlite3").exists()


def test_jobs_delete_of_an_unknown_job_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("jobs", "delete", "nope")
    assert result.exit_code == 2
    assert "no job 'nope' in" in result.output
    assert not (tmp_path / "jobs" / "nope.sqlite3.lock").exists()  # no file made by asking


def test_jobs_list_columns_add_up_to_the_total(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the items cell on one line
    _send(invoke, tmp_path, "hi", [*range(1, 41), 99_999_991, 99_999_992])
    [row] = json.loads(invoke("--json", "jobs", "list").stdout)
    assert sum(row["items"].values()) == row["total"] == 42
    assert row["items"]["not_found"] == 2
    counts = row["items"]
    assert counts["done"] + counts["skipped"] == 40  # the fake skips inactive contacts
    table = invoke("jobs", "list").stdout
    expected = [f"{counts['done']} done", "2 not found"]
    if counts["skipped"]:
        expected.append(f"{counts['skipped']} skipped")
    assert " · ".join(expected) in table


def test_jobs_resume_echoes_the_command_shell_quoted(invoke: Invoke, tmp_path: Path) -> None:
    recipients = _send(invoke, tmp_path, "welcome", range(1, 11), folder="my lists")
    result = invoke("jobs", "resume", "welcome")
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("resuming")]
    command = line.split(": ", 1)[1]
    assert shlex.split(command) == [
        "inro",
        "messages",
        "send",
        "--to",
        str(recipients.resolve()),
        "--text",
        "Hi",
        "--job",
        "welcome",
    ]
