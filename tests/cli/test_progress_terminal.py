"""Progress output of a real ``inro`` process: live bars on a terminal, plain lines in a pipe."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from cli._helpers import TOKEN, inro_command
from inro_async.cli._embedded import serve_in_thread
from inro_async.testing import FakeInro, Faults

RECIPIENTS = 12_000
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def slow_sends() -> Iterator[FakeInro]:
    """12,000 contacts; 12 chunks go at once and are answered over 0.3-1.5 s, one by one."""
    server = FakeInro(
        faults=Faults(latency=lambda rng: rng.uniform(0.3, 1.5), routes=["messages.send"])
    )
    server.add_organization(TOKEN, contacts=RECIPIENTS)
    with serve_in_thread(server):
        yield server


def _command(server: FakeInro, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    recipients = tmp_path / "to.txt"
    recipients.write_text("".join(f"{i}\n" for i in range(1, RECIPIENTS + 1)), encoding="utf-8")
    argv = [*inro_command(), "messages", "send", "--to", str(recipients), "--text", "Hi"]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    assert server.base_url is not None
    env.update(INRO_API_TOKEN=TOKEN, INRO_BASE_URL=server.base_url, TERM="xterm-256color")
    return argv, env


@pytest.mark.timeout(30)
def test_a_terminal_gets_a_bar_that_advances_in_place(slow_sends: FakeInro, tmp_path: Path) -> None:
    argv, env = _command(slow_sends, tmp_path)
    child = pexpect.spawn(
        argv[0], argv[1:], env=env, cwd=str(tmp_path), encoding="utf-8", dimensions=(40, 160)
    )
    child.expect(pexpect.EOF, timeout=25)
    child.close()
    output = child.before
    assert child.exitstatus == 0, output
    renderings = [line for line in re.split(r"\r|\n", ANSI.sub("", output)) if "send_many" in line]
    counts = {m.group(1) for line in renderings if (m := re.search(r"(\d+)/12000", line))}
    assert len(renderings) >= 5  # redrawn in place, many times
    assert {"0", "12000"} <= counts
    assert len(counts) >= 3  # and it advanced through intermediate values
    assert ANSI.search(output)  # cursor movement: the bar is redrawn where it stands
    assert "12,000 items: " in output
    assert TOKEN not in output


@pytest.mark.timeout(30)
def test_a_pipe_gets_plain_lines_without_escape_codes(slow_sends: FakeInro, tmp_path: Path) -> None:
    argv, env = _command(slow_sends, tmp_path)
    result = subprocess.run(
        argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=25, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr + result.stdout
    assert "\r" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("send_many: 0/12,000")
    assert lines[-1].startswith("send_many: 12,000/12,000")
    assert lines[-1].endswith("[finished]")
    assert "12,000 items: " in result.stdout
    assert TOKEN not in result.stderr + result.stdout
