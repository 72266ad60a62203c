"""Every ``inro`` command through CliRunner against a fake server (issue #6)."""

from __future__ import annotations

import asyncio
import csv
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli._helpers import TOKEN, Invoke
from inro_async.cli import main
from inro_async.client import Client
from inro_async.testing import FakeInro


def _ids_file(path: Path, ids: range) -> Path:
    path.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    return path


def _active_scenario(fake: FakeInro) -> int:
    async def create() -> int:
        async with Client(TOKEN, base_url=fake.base_url) as inro:
            return (await inro.scenarios.create(template_id=501, active=True)).id

    return asyncio.run(create())


# -- organization and quota ------------------------------------------------------------------


def test_me_shows_the_organization_that_owns_the_token(invoke: Invoke) -> None:
    result = invoke("me")
    assert result.exit_code == 0, result.output
    assert "Fake Organization 1" in result.stdout
    assert "pro" in result.stdout


def test_me_json_is_the_organization_as_json(invoke: Invoke) -> None:
    result = invoke("--json", "me")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "Fake Organization 1"


def test_token_can_come_from_the_environment(fake: FakeInro) -> None:
    assert fake.base_url is not None
    result = CliRunner().invoke(
        main, ["--json", "me"], env={"INRO_API_TOKEN": TOKEN, "INRO_BASE_URL": fake.base_url}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plan"] == "pro"
    assert fake.requests[-1].token == TOKEN


@pytest.mark.parametrize("env", [{}, {"INRO_API_TOKEN": " \n"}])
def test_missing_token_is_a_usage_error_before_any_request(
    fake: FakeInro, env: dict[str, str]
) -> None:
    assert fake.base_url is not None
    result = CliRunner().invoke(main, ["--base-url", fake.base_url, "me"], env=env)
    assert result.exit_code == 2
    assert "no API token" in result.output
    assert fake.requests == []


def test_a_rejected_token_fails_without_echoing_it(invoke: Invoke) -> None:
    result = invoke("me", token="not-the-right-token")
    assert result.exit_code == 1
    assert "401" in result.output or "Unauthorized" in result.output


def test_quota_json_lists_four_quotas_and_the_server_headers(invoke: Invoke) -> None:
    result = invoke("--json", "quota")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [row["quota"] for row in payload["quotas"]] == [
        "20/1s",
        "1000/60s",
        "10000/3600s",
        "100000/86400s",
    ]
    assert payload["server"]["X-RateLimit-Limit"] == "20"


def test_quota_renders_a_table(invoke: Invoke) -> None:
    result = invoke("quota")
    assert result.exit_code == 0, result.output
    assert "100000/86400s" in result.stdout
    assert "server says: X-RateLimit-Limit: 20" in result.stdout


# -- contacts --------------------------------------------------------------------------------


def test_contacts_export_writes_every_contact_to_csv(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "contacts.csv"
    result = invoke("contacts", "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2,500 contacts (3 pages)" in result.stdout
    assert "[csv]" in result.stdout  # printed as text, not swallowed as rich markup
    with out.open(encoding="utf-8") as rows:
        assert len(list(csv.DictReader(rows))) == 2_500


def test_contacts_export_json_reports_the_jsonl_file(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "contacts.jsonl"
    result = invoke("--json", "contacts", "export", "--out", str(out), "--search", "silva")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["format"] == "jsonl"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert payload["contacts"] == len(lines) > 0
    assert payload["total"] == payload["total_at_start"] == payload["contacts"]  # as counted
    assert (payload["snapshot"], payload["repeated"]) == (True, 0)  # nothing changed as it read
    assert all("silva" in json.loads(line)["username"] for line in lines)


def test_contacts_update_applies_a_csv(invoke: Invoke, fake: FakeInro, tmp_path: Path) -> None:
    source = tmp_path / "updates.csv"
    username = fake.org.contacts[3]["username"]
    source.write_text(
        f"id,username,language,custom_properties.plan\n1,,fr,pro\n2,,de,\n,{username},es,basic\n",
        encoding="utf-8",
    )
    result = invoke("--json", "contacts", "update", "--from", str(source))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["operation"], summary["done"], summary["failed"]) == ("update_many", 3, 0)
    contacts = fake.org.contacts
    assert (contacts[1]["language"], contacts[1]["custom_properties"]["plan"]) == ("fr", "pro")
    assert contacts[2]["language"] == "de"
    assert (contacts[3]["language"], contacts[3]["custom_properties"]["plan"]) == ("es", "basic")


# -- messages --------------------------------------------------------------------------------


def test_messages_send_to_a_file_delivers_once_each(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    recipients = _ids_file(tmp_path / "to.txt", range(1, 1_201))
    result = invoke("messages", "send", "--to", str(recipients), "--text", "Hello!")
    assert result.exit_code == 0, result.output
    assert "1,200 items" in result.stdout
    assert len(fake.requests_to("messages.send")) == 2
    counts = fake.org.delivery_counts()
    assert max(counts.values()) == 1
    assert set(counts) <= set(range(1, 1_201))


def test_messages_send_to_a_folder_reaches_its_active_members(
    invoke: Invoke, fake: FakeInro
) -> None:
    members = set(fake.org.folder_members(1))
    result = invoke("--json", "messages", "send", "--folder", "1", "--text", "Hi")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["total"] == len(members)
    assert summary["done"] + summary["skipped"] == len(members)
    assert set(fake.org.delivery_counts()) <= members
    assert len(fake.org.deliveries) == summary["done"]


def test_messages_send_needs_exactly_one_of_to_and_folder(invoke: Invoke, fake: FakeInro) -> None:
    result = invoke("messages", "send", "--text", "Hi")
    assert result.exit_code == 2
    assert "exactly one of --to FILE or --folder ID" in result.output
    assert fake.requests == []


# -- scenarios -------------------------------------------------------------------------------


def test_scenarios_trigger_runs_for_every_contact_with_data(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    scenario = _active_scenario(fake)
    before = len(fake.requests)
    to = tmp_path / "to.csv"
    to.write_text(
        "username\n" + "".join(f"{c['username']}\n" for c in list(fake.org.contacts.values())[:40])
    )
    result = invoke(
        "--json", "scenarios", "trigger", str(scenario), "--to", str(to), "--data", "order=ORD-9"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["done"] == 40
    triggers = fake.requests_to("scenarios.trigger")
    assert len(triggers) == 1 == len(fake.requests) - before
    assert triggers[0].body["data"] == {"order": "ORD-9"}


def test_scenarios_trigger_refuses_data_without_an_equals_sign(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    to = _ids_file(tmp_path / "to.txt", range(1, 3))
    result = invoke("scenarios", "trigger", "5", "--to", str(to), "--data", "oops")
    assert result.exit_code == 2
    assert "expected key=value" in result.output
    assert fake.requests == []


# -- jobs ------------------------------------------------------------------------------------


def test_jobs_list_shows_a_named_job_and_its_counts(invoke: Invoke, tmp_path: Path) -> None:
    recipients = _ids_file(tmp_path / "to.txt", range(1, 51))
    assert (
        invoke("messages", "send", "--to", str(recipients), "--text", "Hi", "--job", "hi").exit_code
        == 0
    )
    result = invoke("--json", "jobs", "list")
    assert result.exit_code == 0, result.output
    [job] = json.loads(result.stdout)
    assert (job["name"], job["kind"], job["total"], job["resumable"]) == (
        "hi",
        "send_many",
        50,
        True,
    )
    assert job["items"].get("done", 0) + job["items"].get("skipped", 0) == 50
    human = invoke("jobs", "list")
    assert "hi" in human.stdout
    assert "send_many" in human.stdout


def test_jobs_list_without_jobs_says_so(invoke: Invoke) -> None:
    result = invoke("jobs", "list")
    assert result.exit_code == 0
    assert "no named jobs" in result.stdout


def test_jobs_list_shows_a_damaged_journal_as_unreadable_and_lists_the_others(
    invoke: Invoke, tmp_path: Path
) -> None:
    recipients = _ids_file(tmp_path / "to.txt", range(1, 51))
    assert (
        invoke("messages", "send", "--to", str(recipients), "--text", "Hi", "--job", "hi").exit_code
        == 0
    )
    (tmp_path / "jobs" / "broken.sqlite3").write_bytes(b"")  # truncated to nothing
    result = invoke("--json", "jobs", "list")
    assert result.exit_code == 0, result.output
    broken, good = json.loads(result.stdout)
    assert (broken["name"], broken["kind"]) == ("broken", None)
    assert "the file is empty" in broken["error"]
    assert (good["name"], good["total"], good["error"]) == ("hi", 50, None)
    human = invoke("jobs", "list")
    assert human.exit_code == 0
    assert "unreadable" in human.stdout
    assert "broken" in human.stdout
    assert "send_many" in human.stdout


def test_jobs_resume_refuses_a_job_whose_journal_is_gone_and_sends_nothing(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    recipients = _ids_file(tmp_path / "to.txt", range(1, 51))
    assert (
        invoke(
            "messages", "send", "--to", str(recipients), "--text", "Hi", "--job", "gone"
        ).exit_code
        == 0
    )
    sends = len(fake.requests_to("messages.send"))
    (tmp_path / "jobs" / "gone.sqlite3").unlink()
    result = invoke("jobs", "resume", "gone")
    assert result.exit_code == 1
    assert "cannot be resumed: no job journal at" in result.output
    assert "inro messages send --to" in result.output  # how to start over on purpose
    assert len(fake.requests_to("messages.send")) == sends


@pytest.mark.parametrize("name", ["a b", ""])
def test_a_bad_job_name_is_a_usage_error_and_sends_nothing(
    invoke: Invoke, fake: FakeInro, tmp_path: Path, name: str
) -> None:
    recipients = _ids_file(tmp_path / "to.txt", range(1, 3))
    sent = invoke("messages", "send", "--to", str(recipients), "--text", "Hi", "--job", name)
    assert sent.exit_code == 2
    assert "Invalid value for --job" in sent.output
    resumed = invoke("jobs", "resume", name)
    assert resumed.exit_code == 2
    assert "Invalid value for NAME" in resumed.output
    assert fake.requests == []


def test_jobs_resume_reruns_the_command_and_sends_nothing_twice(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    recipients = _ids_file(tmp_path / "to.txt", range(1, 1_501))
    first = invoke("messages", "send", "--to", str(recipients), "--text", "Hi", "--job", "welcome")
    assert first.exit_code == 0, first.output
    sends, deliveries = len(fake.requests_to("messages.send")), len(fake.org.deliveries)
    result = invoke("--json", "jobs", "resume", "welcome")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["job"] is not None
    assert summary["total"] == 1_500
    assert (summary["done"], summary["skipped"]) == (0, 1_500)
    assert len(fake.requests_to("messages.send")) == sends
    assert len(fake.org.deliveries) == deliveries


def test_jobs_resume_of_an_unknown_name_is_a_usage_error(invoke: Invoke, fake: FakeInro) -> None:
    result = invoke("jobs", "resume", "nope")
    assert result.exit_code == 2
    assert "no resumable job 'nope'" in result.output
    assert fake.requests == []


def test_contacts_export_writes_the_format_asked_for_at_the_exact_path(
    invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "contacts.csv"
    result = invoke("--json", "contacts", "export", "--format", "jsonl", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["path"] == str(out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2_500
    assert json.loads(lines[0])["id"] == 1  # JSON Lines, despite the .csv name
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["contacts.csv"]


def test_contacts_export_to_a_name_without_a_known_suffix_with_format(
    invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "report.2024"
    result = invoke("contacts", "export", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as rows:
        assert len(list(csv.DictReader(rows))) == 2_500
    assert not (tmp_path / "report.csv").exists()


def test_contacts_export_to_an_unknown_suffix_asks_for_format(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    result = invoke("contacts", "export", "--out", str(tmp_path / "report.2024"))
    assert result.exit_code == 2
    assert "pass --format" in result.output
    assert "format=" not in result.output
    assert fake.requests == []


def test_an_unknown_folder_exits_1_with_one_error_line_and_no_file(
    invoke: Invoke, tmp_path: Path
) -> None:
    result = invoke("messages", "send", "--folder", "999999", "--text", "Hi")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "404" in result.output or "not found" in result.output.lower()
    assert not list(tmp_path.glob("*.jsonl"))


def test_an_unreachable_base_url_exits_1_with_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(
        main, ["--base-url", f"http://127.0.0.1:{port}/api/v1", "--token", TOKEN, "me"]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert TOKEN not in result.output
    assert not list(tmp_path.glob("*.jsonl"))
