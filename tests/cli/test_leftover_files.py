"""Failed and unknown items land in two files: one safe to feed back, one to check first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli._helpers import TOKEN
from inro_async.cli import main
from inro_async.cli._embedded import serve_in_thread
from inro_async.testing import FakeInro, Faults

BAD_FOLDER = 999_999


class _ResetChunksStartingAt(Faults):
    """Reset, after processing, every bulk update whose first entry is contact 1."""

    def __init__(self, fake: FakeInro) -> None:
        super().__init__(routes=["contacts.bulk_update"])
        self._fake = fake

    def draw(self, route: str | None) -> dict[str, Any]:
        # The server records a request just before it draws its faults, with no await between.
        body = self._fake.requests[-1].body
        if route == "contacts.bulk_update" and body["contacts"][0].get("id") == 1:
            return {"reset_after": True}
        return {}


@pytest.fixture
def resetting_fake() -> Iterator[FakeInro]:
    """A fake whose bulk updates of the chunk starting at contact 1 never get an answer."""
    server = FakeInro(batch_delay=0.01)
    server.faults = _ResetChunksStartingAt(server)
    server.add_organization(TOKEN, contacts=2_500, seed=7)
    with serve_in_thread(server):
        yield server


def _inro(fake: FakeInro, *args: str) -> Result:
    assert fake.base_url is not None
    result = CliRunner().invoke(
        main, ["--base-url", fake.base_url, "--token", TOKEN, *args], catch_exceptions=False
    )
    assert TOKEN not in result.output
    return result


def _lines(path: str) -> list[Any]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_unknown_and_failed_updates_go_to_separate_files(
    resetting_fake: FakeInro, tmp_path: Path
) -> None:
    source = tmp_path / "updates.csv"
    rows = ["id,notes,folder_ids"]
    for contact_id in range(1, 1_501):
        folder = BAD_FOLDER if contact_id % 100 == 7 else ""
        rows.append(f"{contact_id},checked,{folder}")
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = _inro(resetting_fake, "--json", "contacts", "update", "--from", str(source))

    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    unknown = _lines(summary["unknown_items_file"])
    failed = _lines(summary["failed_items_file"])
    assert "-unknown-" in summary["unknown_items_file"]
    assert "-failed-" in summary["failed_items_file"]
    # The first chunk (contacts 1-1,000) never got an answer; the refused rows of the second
    # chunk (a folder that does not exist) failed.
    assert [entry["id"] for entry in unknown] == list(range(1, 1_001))
    assert [entry["id"] for entry in failed] == [i for i in range(1_001, 1_501) if i % 100 == 7]
    assert all(entry["contact"]["folder_ids"] == [BAD_FOLDER] for entry in failed)
    assert (summary["unknown"], summary["failed"]) == (1_000, len(failed))


def test_unknown_messages_are_not_offered_for_feeding_back(tmp_path: Path) -> None:
    fake = FakeInro(batch_delay=0.01)
    fake.add_organization(TOKEN, contacts=2_500, seed=7)
    recipients = tmp_path / "to.txt"
    recipients.write_text("".join(f"{i}\n" for i in range(1, 2_501)), encoding="utf-8")
    with serve_in_thread(fake):
        fake.inject("reset_after", route="messages.send")
        result = _inro(fake, "messages", "send", "--to", str(recipients), "--text", "Hi")

    assert result.exit_code == 1, result.output
    lost = [r for r in fake.requests_to("messages.send") if "reset_after" in r.faults]
    assert len(lost) == 1
    [path] = list(Path.cwd().glob("messages-send-unknown-*.jsonl"))
    assert [item["id"] for item in _lines(str(path))] == lost[0].body["contact_ids"]
    assert not list(Path.cwd().glob("*-failed-*"))
    text = " ".join(result.stdout.split())  # undo the console's line wrapping
    assert f"items with an unknown outcome written to {path.name}" in text
    assert "may already have been processed" in text
    assert "check them before sending anything again" in text
    assert "feed it back" not in text


def test_unknown_messages_of_a_named_job_point_to_resend_unknown(tmp_path: Path) -> None:
    fake = FakeInro(batch_delay=0.01)
    fake.add_organization(TOKEN, contacts=2_500, seed=7)
    recipients = tmp_path / "to.txt"
    recipients.write_text("".join(f"{i}\n" for i in range(1, 1_501)), encoding="utf-8")
    with serve_in_thread(fake):
        fake.inject("reset_after", route="messages.send")
        args = ("messages", "send", "--to", str(recipients), "--text", "Hi", "--job", "spring")
        result = _inro(fake, *args)

    assert result.exit_code == 1, result.output
    text = " ".join(result.stdout.split())
    assert "spring-unknown-" in text
    assert "inro jobs resume spring --resend-unknown" in text
    assert "feed it back" not in text


class _LoseFirstRefuseSecond(Faults):
    """The send to contacts 1-1,000 loses its answer; the one to 1,001-2,000 gets a 403."""

    def __init__(self, fake: FakeInro) -> None:
        super().__init__(routes=["messages.send"])
        self._fake = fake

    def draw(self, route: str | None) -> dict[str, Any]:
        first = self._fake.requests[-1].body["contact_ids"][0]  # recorded just before the draw
        return {1: {"reset_after": True}, 1_001: {"status": 403}}.get(first, {})


def test_a_job_stopped_by_an_api_error_still_writes_its_unknown_items(tmp_path: Path) -> None:
    fake = FakeInro(batch_delay=0.01)
    fake.faults = _LoseFirstRefuseSecond(fake)
    fake.add_organization(TOKEN, contacts=3_000, seed=7)
    recipients = tmp_path / "to.txt"
    recipients.write_text("".join(f"{i}\n" for i in range(1, 3_001)), encoding="utf-8")
    with serve_in_thread(fake):
        result = _inro(fake, "messages", "send", "--to", str(recipients), "--text", "Hi")

    assert result.exit_code == 1, result.output
    assert "Error: 403" in result.stderr
    [path] = list(Path.cwd().glob("messages-send-unknown-*.jsonl"))
    assert [item["id"] for item in _lines(str(path))] == list(range(1, 1_001))
    text = " ".join(result.stderr.split())
    assert f"items with an unknown outcome written to {path.name}" in text
    assert "feed it back" not in text.split(path.name)[1]
