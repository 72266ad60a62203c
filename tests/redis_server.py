"""A real redis-server for the shared-governor tests, started on a free loopback port.

Found on PATH (``.ci/run`` installs Debian's package). Without one, the tests are skipped on a
developer machine, and fail when ``INRO_REQUIRE_REDIS=1`` (CI): a missing service must not look
like a pass.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from processes import stop


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    """Start redis-server on 127.0.0.1 and yield its URL; stop it afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "no redis-server on PATH (.ci/run installs one)"
        if os.environ.get("INRO_REQUIRE_REDIS"):
            pytest.fail(message + "; INRO_REQUIRE_REDIS is set, so this is a failure")
        pytest.skip(message)
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop(process)  # SIGTERM, then kill: never left running
