"""The benchmarks' fake server in a child process, so its CPU and GC stay out of the figures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def child_server(script: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``python script --serve *args``; yield the process and the first line it prints.

    That line is the server's base URL (and whatever else the script puts on it). Leaving the
    block closes the child's stdin, which tells it to stop, and waits for it; anything it
    printed on the way out is still in ``process.stdout`` for the caller to read.
    """
    process = subprocess.Popen(
        [sys.executable, script, "--serve", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        if not first:
            raise SystemExit("the fake server did not start")
        yield process, first
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=30)


async def until_stdin_closes() -> None:
    """In a child server: wait (off the loop) until the parent closes our stdin."""
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
