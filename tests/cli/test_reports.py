"""What a job's CLI output tells (issue 15 #9): 429s and waits, not-found items, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli._helpers import TOKEN
from inro_async import Quota
from inro_async.cli import main
from inro_async.cli._embedded import serve_in_thread
from inro_async.testing import FakeInro


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
