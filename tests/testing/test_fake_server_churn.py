"""``inro fake-server --churn N/min``: a real process whose contacts change while it serves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from processes import stop

COMMAND = [sys.executable, "-c", "from inro_async.cli import main; main()", "fake-server"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def newest(base_url: str) -> list[tuple[int, str, str | None]]:
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        base_url + "/contacts?per_page=5&order_column=updated_at&order_direction=desc",
        headers={"Authorization": "Bearer test-token"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        return [(c["id"], c["updated_at"], c["notes"]) for c in json.load(answer)]


def test_churn_changes_contacts_while_the_server_runs() -> None:
    port = free_port()
    process = subprocess.Popen(
        [*COMMAND, "--contacts", "50", "--port", str(port), "--churn", "1200/min"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert process.stdout is not None
        assert "fake Inrō API at" in process.stdout.readline()
        base_url = f"http://127.0.0.1:{port}/api/v1"
        first = newest(base_url)
        deadline = time.monotonic() + 10
        while newest(base_url) == first:
            assert time.monotonic() < deadline, "no contact changed in 10 s at 20 changes/s"
            time.sleep(0.1)
    finally:
        stop(process)


def test_a_bad_churn_rate_is_a_usage_error() -> None:
    result = subprocess.run(
        [*COMMAND, "--churn", "often"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=30,
    )
    assert result.returncode == 2
    assert "--churn" in result.stderr
