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
