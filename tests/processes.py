"""Stopping the processes a test started, whatever state they are in: no orphans.

A test that starts ``inro fake-server`` (or an example app) asks it to stop with a signal, and
a process that does not stop in time is killed, so a failing test or a server that ignores the
signal (one started from a background job ignores SIGINT) never leaves a process behind.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def stop(
    process: subprocess.Popen[Any], signum: int = signal.SIGTERM, timeout: float = 10
) -> int | None:
    """Send ``signum``, wait up to ``timeout`` seconds, then kill; the exit code if it stopped.

    ``None`` means the process had to be killed: a test asserting a clean exit then fails, and
    still leaves nothing running.
    """
    code: int | None = process.poll()
    if code is None:
        process.send_signal(signum)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return code
