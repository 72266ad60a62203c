"""Issue 15 #9e: ``inro --quota LIMIT/SECONDS`` sets the client's quotas, like ``fake-server``'s."""

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
    """A fake allowing 2 requests a second and 100 a minute."""
    server = FakeInro(quotas=(Quota(2, 1), Quota(100, 60)))
    server.add_organization(TOKEN, contacts=4_000, seed=7)
    with serve_in_thread(server):
        yield server


def inro(fake: FakeInro, *args: str) -> Result:
    assert fake.base_url is not None
    return CliRunner().invoke(
        main, ["--base-url", fake.base_url, "--token", TOKEN, *args], catch_exceptions=False
    )


def test_a_job_paced_by_the_servers_quotas_meets_no_429(tight: FakeInro, tmp_path: Path) -> None:
    to = tmp_path / "to.txt"
    to.write_text("".join(f"{i}\n" for i in range(1, 4_001)), encoding="utf-8")
    result = inro(
        tight, "--quota", "2/1", "--quota", "100/60s", "--json", "messages", "send",
        "--to", str(to), "--text", "Hi",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert tight.throttled == 0
    assert json.loads(result.stdout)["throttled"] == 0


def test_inro_quota_shows_the_quotas_given(tight: FakeInro) -> None:
    result = inro(tight, "--quota", "2/1", "--quota", "100/60", "--json", "quota")
    assert result.exit_code == 0, result.output
    assert [row["quota"] for row in json.loads(result.stdout)["quotas"]] == ["2/1s", "100/60s"]


@pytest.mark.parametrize("bad", ["2", "two/1", "0/1", "5/0", "5/-1"])
def test_a_malformed_quota_is_a_usage_error_before_any_request(tight: FakeInro, bad: str) -> None:
    result = inro(tight, "--quota", bad, "me")
    assert result.exit_code == 2
    assert "--quota" in result.output
    assert "expected LIMIT/SECONDS like 20/1" in result.output
    assert tight.requests == []
