"""``inro fake-server``: its banner names the quotas; ``--verbose`` logs requests and 429s."""

from __future__ import annotations

import signal
import subprocess
import urllib.error
import urllib.request

import pytest
from processes import stop

from cli._helpers import TOKEN, inro_command


def _get(url: str) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.timeout(30)
def test_verbose_fake_server_logs_each_request_and_429_without_the_token() -> None:
    command = [*inro_command(), "fake-server", "--port", "0", "--contacts", "5"]
    process = subprocess.Popen(
        [*command, "--quota", "2/60", "--verbose"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]  # URL, token, export, quotas
        assert banner[3].strip() == "quotas: 2/60s per organization"
        base_url = banner[0].split(" at ", 1)[1].split()[0]
        paths = ["/me", "/contacts?per_page=2", "/me"]
        assert [_get(base_url + path) for path in paths] == [200, 200, 429]
        process.send_signal(signal.SIGINT)
        _, log = process.communicate(timeout=10)
    finally:
        stop(process, signal.SIGINT)
    lines = log.splitlines()
    assert len(lines) == 3, log
    assert lines[0].endswith(" ms")
    assert " GET /api/v1/me -> 200 in " in lines[0]
    assert " GET /api/v1/contacts?per_page=2 -> 200 in " in lines[1]
    assert " GET /api/v1/me -> 429 in " in lines[2]
    assert "[429 Too Many Requests: retry after " in lines[2]
    assert TOKEN not in log
