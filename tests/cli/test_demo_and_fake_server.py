"""``inro demo`` (its own embedded server) and ``inro fake-server`` (a real subprocess)."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from processes import stop

from cli._helpers import inro_command
from inro_async.cli import main

STEPS = ["export", "update", "send", "trigger"]


def test_demo_json_runs_every_step_without_a_429(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        main, ["demo", "--contacts", "1500", "--seed", "3", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [step["step"] for step in summary["steps"]] == STEPS
    assert summary["throttled"] == 0
    assert summary["failed"] == 0
    assert summary["quotas"] == ["2/1s", "100/60s", "1000/3600s", "10000/86400s"]
    export, update, send, trigger = summary["steps"]
    assert export["done"] == 1_500
    assert update["done"] == trigger["done"] == 225  # 15% of the contacts
    assert send["done"] + send["skipped"] > 0
    assert summary["requests"] == sum(step["requests"] for step in summary["steps"])
    # The governor paces: at 2/s, the export's 3 pages cannot all go in the first second; a
    # fourth request, after them, checks whether any contact changed meanwhile.
    assert export["requests"] == 3 + 1
    assert export["elapsed"] >= 0.9
    assert Path(summary["files"]["export"]).parent == out
    assert (out / "updates.csv").read_text(encoding="utf-8").startswith("id,username,")


def test_demo_prints_a_summary_table_and_uses_a_temporary_directory() -> None:
    result = CliRunner().invoke(main, ["demo", "--contacts", "300", "--quota", "50/1"])
    try:
        assert result.exit_code == 0, result.output
        for step in [*STEPS, "total"]:
            assert step in result.stdout
        assert "0 × 429" in result.stdout
        assert "1/4 export" in result.stderr
        assert "4/4 trigger" in result.stderr
        out = Path(result.stdout.rsplit("files in ", 1)[1].strip())
        assert out.is_absolute()
        assert (out / "contacts.csv").exists()
    finally:
        if "files in " in result.stdout:
            shutil.rmtree(result.stdout.rsplit("files in ", 1)[1].strip(), ignore_errors=True)


def test_demo_refuses_a_malformed_quota() -> None:
    result = CliRunner().invoke(main, ["demo", "--quota", "fast"])
    assert result.exit_code == 2
    assert "expected LIMIT/SECONDS" in result.output


@pytest.mark.timeout(30)
def test_fake_server_serves_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*inro_command(), "fake-server", "--port", "0", "--contacts", "50", "--quota", "20/1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("fake Inrō API at http://127.0.0.1:")
        base_url = banner.split(" at ", 1)[1].split()[0]
        result = CliRunner().invoke(
            main, ["--base-url", base_url, "--token", "test-token", "--json", "me"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["name"] == "Fake Organization 1"
        quota = CliRunner().invoke(
            main, ["--base-url", base_url, "--token", "test-token", "--json", "quota"]
        )
        assert json.loads(quota.stdout)["server"]["X-RateLimit-Limit"] == "20"
    finally:
        assert stop(process, signal.SIGINT) == 0  # killed (None) rather than left running


def test_fake_server_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["fake-server", "--port", str(port), "--contacts", "5"])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: port {port} is in use: pick another with --port, or --port 0 for a free one\n"
    )
