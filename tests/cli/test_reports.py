"""What a job's CLI output tells (issue 15 #9): 429s and waits, not-found items, refusals."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli._helpers import TOKEN
from inro_async import Quota
from inro_async.cli import main
from inro_async.cli._embedded import serve_in_thread
from inro_async.testing import FakeInro, Faults


@pytest.fixture
def tight() -> Iterator[FakeInro]:
    """A fake allowing 2 requests a second and 100 a minute (the client believes 20 a second)."""
    server = FakeInro(quotas=(Quota(2, 1), Quota(100, 60)), batch_delay=0.01)
    server.add_organization(TOKEN, contacts=4_000, seed=7)
    with serve_in_thread(server):
        yield server


def inro(fake: FakeInro, *args: str, token: str = TOKEN) -> Result:
    assert fake.base_url is not None
    result = CliRunner().invoke(
        main, ["--base-url", fake.base_url, "--token", token, *args], catch_exceptions=False
    )
    assert token not in result.output
    return result


def recipients(tmp_path: Path, lines: list[object]) -> str:
    path = tmp_path / "to.txt"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


def test_json_and_text_say_how_many_429s_and_how_long_the_job_waited(
    tight: FakeInro, tmp_path: Path
) -> None:
    to = recipients(tmp_path, list(range(1, 4_001)))
    result = inro(tight, "--json", "messages", "send", "--to", to, "--text", "Hi")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert tight.throttled > 0
    assert summary["throttled"] == tight.throttled
    assert 0 < summary["waited"] <= summary["elapsed"]

    text = inro(tight, "messages", "send", "--to", to, "--text", "Again")
    assert text.exit_code == 0, text.output
    assert "answered 429" in text.stdout
    assert "waiting for quota" in text.stdout


@pytest.fixture
def fake() -> Iterator[FakeInro]:
    server = FakeInro(batch_delay=0.01)
    server.add_organization(TOKEN, contacts=2_500, seed=7)
    with serve_in_thread(server):
        yield server


def lines_of(path: str) -> list[object]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_recipients_no_contact_matched_are_named_in_a_file_of_their_own(
    fake: FakeInro, tmp_path: Path
) -> None:
    to = recipients(tmp_path, [1, 999_998, "nobody.here", 2, "ghost@nowhere.io", 999_999])
    result = inro(fake, "--json", "messages", "send", "--to", to, "--text", "Hi")
    assert result.exit_code == 0, result.output  # not-found recipients are no failure
    summary = json.loads(result.stdout)
    assert summary["not_found"] == 4
    path = summary["not_found_items_file"]
    assert "-not-found-" in path
    assert lines_of(path) == [
        {"id": 999_998},
        {"username": "nobody.here"},
        {"email": "ghost@nowhere.io"},
        {"id": 999_999},
    ]
    assert summary["failed_items_file"] is None

    text = inro(fake, "messages", "send", "--to", to, "--text", "Again")
    flat = " ".join(text.stdout.split())
    assert "4 not found: 999998, nobody.here, ghost@nowhere.io and 1 more" in flat
    assert "4 items matched no contact, written to" in flat


def test_a_job_where_every_contact_was_found_writes_no_not_found_file(
    fake: FakeInro, tmp_path: Path
) -> None:
    to = recipients(tmp_path, [1, 2, 3])
    result = inro(fake, "--json", "messages", "send", "--to", to, "--text", "Hi")
    assert json.loads(result.stdout)["not_found_items_file"] is None
    assert not list(Path.cwd().glob("*-not-found-*"))


@pytest.mark.parametrize(
    ("command", "token"),
    [
        (["messages", "send", "--text", "Hi"], "not-the-right-token"),  # 401 for every chunk
        (["scenarios", "trigger", "424242"], TOKEN),  # no such scenario: 404 for every chunk
    ],
)
def test_a_job_refused_as_a_whole_says_so_in_one_error_line_and_writes_no_file(
    fake: FakeInro, tmp_path: Path, command: list[str], token: str
) -> None:
    to = recipients(tmp_path, list(range(1, 2_501)))
    result = inro(fake, *command, "--to", to, token=token)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1
    assert result.output.splitlines()[-1] == errors[0]
    assert "written to" not in result.output
    assert not list(Path.cwd().glob("*.jsonl"))


class _RefuseFrom(Faults):
    """Sends whose first recipient is ``first`` or later are answered 401 (a revoked token)."""

    def __init__(self, fake: FakeInro, first: int) -> None:
        super().__init__(routes=["messages.send"])
        self._fake, self._first = fake, first

    def draw(self, route: str | None) -> dict[str, object]:
        body = self._fake.requests[-1].body  # recorded just before the draw
        return {"status": 401} if body["contact_ids"][0] >= self._first else {}


def test_a_job_refused_after_some_items_got_outcomes_still_writes_its_files(
    fake: FakeInro, tmp_path: Path
) -> None:
    fake.faults = _RefuseFrom(fake, 1_001)
    to = recipients(tmp_path, list(range(1, 2_501)))
    result = inro(fake, "messages", "send", "--to", to, "--text", "Hi")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("Error: 401")
    [failed] = list(Path.cwd().glob("messages-send-failed-*.jsonl"))
    assert {entry["id"] for entry in lines_of(str(failed))} <= set(range(1_001, 2_501))  # type: ignore[index]
    assert "failed items written to" in " ".join(result.output.split())


def test_a_job_that_cannot_reach_the_server_says_so_in_one_error_line_and_writes_no_file(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    to = recipients(tmp_path, list(range(1, 2_501)))
    base_url = f"http://127.0.0.1:{port}/api/v1"
    args = ["--base-url", base_url, "--token", TOKEN, "messages", "send", "--to", to]
    args += ["--text", "Hi"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("Error: cannot connect")
    assert "written to" not in result.output
    assert not list(Path.cwd().glob("*.jsonl"))
