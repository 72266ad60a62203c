"""Common command-line mistakes get a one-line answer that says what to do (issue 15 #11).

A missing output directory is refused, as ``cp`` does, instead of created; a global option
given after the subcommand (``inro me --token x``) works where it is written; a base URL
without ``/api/v1`` is named as the reason of the 404 it gets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli._helpers import TOKEN, Invoke
from inro_async.cli import main
from inro_async.testing import FakeInro


@pytest.mark.parametrize("missing", ["nonexistent/dir", "nonexistent"])
def test_export_to_a_directory_that_does_not_exist_is_refused_in_one_line(
    invoke: Invoke, fake: FakeInro, tmp_path: Path, missing: str
) -> None:
    out = tmp_path / missing / "x.csv"
    result = invoke("contacts", "export", "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot write {out}: no such directory {out.parent} (create it first)"
    ]
    assert not (tmp_path / "nonexistent").exists()  # nothing created
    assert fake.requests == []  # and nothing asked of the API


def test_export_into_a_file_as_if_it_were_a_directory_is_refused(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    out = tmp_path / "notes.txt" / "x.csv"
    result = invoke("contacts", "export", "--out", str(out))
    assert result.exit_code == 2
    assert f"cannot write {out}: {out.parent} is not a directory" in result.stderr
    assert fake.requests == []


def test_export_into_an_existing_directory_still_writes_there(
    invoke: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    result = invoke("--json", "contacts", "export", "--out", str(tmp_path / "out" / "c.jsonl"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["contacts"] == 2_500


# -- global options after the subcommand -----------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_global_options_after_the_subcommand_work_as_before_it(fake: FakeInro) -> None:
    assert fake.base_url is not None
    before = _cli("--base-url", fake.base_url, "--token", TOKEN, "--json", "me")
    after = _cli("me", "--base-url", fake.base_url, "--token", TOKEN, "--json")
    mixed = _cli("--json", "me", "--token", TOKEN, "--base-url", fake.base_url)
    assert before[0] == after[0] == mixed[0] == 0, (before, after, mixed)
    # (created_at is the fake's "now" less the organization's age: it can tick between calls)
    same = [
        {k: v for k, v in json.loads(out[1]).items() if k != "created_at"}
        for out in (before, after, mixed)
    ]
    assert same[0] == same[1] == same[2]
    assert json.loads(after[1])["name"] == "Fake Organization 1"
    assert TOKEN not in after[1] + after[2]


def test_global_options_after_a_nested_subcommand_work_too(fake: FakeInro, tmp_path: Path) -> None:
    assert fake.base_url is not None
    out = tmp_path / "c.csv"
    code, stdout, stderr = _cli(
        "contacts", "export", "--out", str(out), "--token", TOKEN, "--base-url", fake.base_url,
        "-q", "--json",
    )  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout)["contacts"] == 2_500
    assert stderr == ""  # --quiet applied: no progress


def test_a_global_option_given_in_both_places_takes_the_later_one(fake: FakeInro) -> None:
    assert fake.base_url is not None
    code, stdout, _ = _cli("--token", "wrong", "--base-url", fake.base_url, "me", "--token", TOKEN)
    assert code == 0
    assert "Fake Organization 1" in stdout


def test_quotas_after_the_subcommand_are_read_as_the_groups_are(fake: FakeInro) -> None:
    assert fake.base_url is not None
    where = ("--base-url", fake.base_url, "--token", TOKEN, "--json")
    code, stdout, stderr = _cli("quota", *where, "--quota", "5/1", "--quota", "50/60")
    assert code == 0, stderr
    assert [row["quota"] for row in json.loads(stdout)["quotas"]] == ["5/1s", "50/60s"]
    code, _, stderr = _cli("quota", *where, "--quota", "fast")
    assert code == 2
    assert "expected LIMIT/SECONDS" in stderr


def test_help_of_a_subcommand_lists_the_global_options() -> None:
    code, stdout, _ = _cli("me", "--help")
    assert code == 0
    assert "--token" in stdout
    assert "--base-url" in stdout


# -- a base URL without /api/v1 ---------------------------------------------------------------


def test_a_base_url_without_api_v1_is_named_in_the_one_error_line(fake: FakeInro) -> None:
    assert fake.base_url is not None
    bare = fake.base_url.removesuffix("/api/v1")
    code, stdout, stderr = _cli("--base-url", bare, "--token", TOKEN, "me")
    assert code == 1
    assert stdout == ""
    (line,) = stderr.strip().splitlines()
    assert line.startswith("Error: 404 Not found: GET /me")
    assert "the base URL's path is '/', but the API's routes are under /api/v1" in line


def test_a_global_option_not_repeated_after_the_subcommand_keeps_the_groups_value(
    fake: FakeInro,
) -> None:
    # The copy after the subcommand must stand aside when it is not written: its empty value
    # (no token, no flag, no quota) never overwrites what the group was given.
    assert fake.base_url is not None
    code, stdout, stderr = _cli("--token", TOKEN, "--json", "--base-url", fake.base_url, "me")
    assert code == 0, stderr
    assert json.loads(stdout)["id"] == 1
