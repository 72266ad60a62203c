"""``inro sync contacts`` and ``inro sync events`` against a fake server (issue #16)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli._helpers import Invoke
from cli.conftest import CONTACTS
from inro_async.cli import main
from inro_async.testing import FakeInro
from inro_async.testing.churn import random_changes


def test_sync_contacts_then_events_as_json_lines(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    first = invoke("sync", "contacts", "--to", "crm.sqlite3")
    assert first.exit_code == 0, first.output
    assert f"{CONTACTS} created, 0 updated, 0 deleted (full walk: the first refresh" in first.stdout
    random_changes(fake.org, 25, seed=4, kinds=("updated",))
    second = invoke("--json", "sync", "contacts", "--to", "crm.sqlite3")
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert (report["updated"], report["full"]) == (25, False)
    lines = CliRunner().invoke(main, ["sync", "events", "--from", "crm.sqlite3"]).stdout
    events = [json.loads(line) for line in lines.splitlines()]
    assert len(events) == CONTACTS + 25
    assert [e["type"] for e in events[-25:]] == ["inro.contact.updated"] * 25
    after = CliRunner().invoke(
        main, ["sync", "events", "--from", "crm.sqlite3", "--after", events[-3]["id"]]
    )
    assert [json.loads(line)["id"] for line in after.stdout.splitlines()] == [
        e["id"] for e in events[-2:]
    ]


def test_sync_bad_input_is_a_usage_error(invoke: Invoke) -> None:
    every = invoke("sync", "contacts", "--to", "crm.sqlite3", "--every", "soon")
    assert every.exit_code == 2
    assert "--every" in every.stderr
    both = CliRunner().invoke(
        main, ["sync", "events", "--from", "x.sqlite3", "--after", "a", "--since", "2026-01-01"]
    )
    assert both.exit_code == 2


def test_sync_refuses_a_file_of_another_kind(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n" * 200)
    result = invoke("sync", "contacts", "--to", "notes.txt")
    assert result.exit_code == 1
    assert "not a mirror" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "not a database\n" * 200
