"""``inro fake-server`` as a user runs it: a real process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import stop

INRO = str(Path(sys.executable).parent / "inro")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_server_process() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [
            INRO,
            "fake-server",
            "--contacts",
            "2500",
            "--port",
            str(port),
            "--mode",
            "fixed",
            "--token",
            "tok-a",
            "--token",
            "tok-b",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(4)]
    try:
        yield process, lines
    finally:
        stop(process)  # SIGTERM, then kill: nothing outlives the test


def get(url: str, token: str) -> tuple[int, dict[str, str], object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1 only
        return response.status, dict(response.headers), json.loads(response.read())


def test_it_prints_the_base_url_and_tokens_then_serves_them(
    fake_server_process: tuple[subprocess.Popen[str], list[str]],
) -> None:
    _process, lines = fake_server_process
    assert lines[0].startswith("fake Inrō API at http://127.0.0.1:")
    assert "fixed windows, 2,500 contacts" in lines[0]
    base_url = lines[0].split(" at ")[1].split(" ")[0]
    assert lines[1].strip() == "token: tok-a"
    assert lines[2].strip() == "token: tok-b"
    assert f"INRO_BASE_URL={base_url}" in lines[3]
    for token in ("tok-a", "tok-b"):
        status, headers, body = get(base_url + "/contacts?per_page=1000", token)
        assert status == 200
        assert headers["X-Total"] == "2500"
        assert isinstance(body, list)
        assert len(body) == 1000


def test_it_stops_cleanly_on_ctrl_c(
    fake_server_process: tuple[subprocess.Popen[str], list[str]],
) -> None:
    process, _ = fake_server_process
    assert stop(process, signal.SIGINT) == 0


_IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
"""Run argv with SIGINT ignored, as a shell starts a background job (``inro fake-server &``)."""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_it_stops_on_a_signal_even_when_started_as_a_background_job(signum: int) -> None:
    """A job started with ``&`` ignores SIGINT: only KeyboardInterrupt used to stop the server."""
    process = subprocess.Popen(
        [sys.executable, "-c", _IGNORING_SIGINT, INRO, "fake-server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("fake Inrō API at http://127.0.0.1:")
    assert stop(process, signum, timeout=10) == 0  # None: it had to be killed
