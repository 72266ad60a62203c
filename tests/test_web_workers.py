"""``examples/fastapi_app.py`` under real ``uvicorn --workers N``: each worker is a process.

400 concurrent requests go to the app; the fake (strict sliding windows, in a process of its own
so the load does not skew its clock) counts the 429s it answers. One worker, or two sharing a
``RedisGovernor``: 0 × 429. Two workers each with its own ``LocalGovernor`` pace for the whole
quota each, and the fake throttles the excess; that count is printed, not asserted (how the
kernel spreads connections over the workers decides it). The quota is scaled (100/1) so a run
takes about 5 s.

The example's ``RedisGovernor`` has the default 50 ms margin. Before slots were held until their
answers, 2 workers met 1-90 x 429 in every one of 10 runs with it (a 0.25 s margin papered over
it): at the start each worker's loop is busy parsing ~200 incoming requests, so requests granted
their slots left up to ~100 ms later, and the other worker reused those slots at the window's
end while the server still counted them. Each slot now stays taken in Redis until its answer.

The 503 for a request that would queue past ``max_wait`` is checked in-process.
"""

from __future__ import annotations

import asyncio
import collections
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from processes import stop
from redis_server import redis_server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fastapi_app.py"
QUOTA = "100/1"
REQUESTS = 400
CONTACTS = 200

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **extra}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


class _Lines:
    """A stream's lines, read in a thread, so waiting for one never blocks past a deadline."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, text: str, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while sum(text in line for line in self.lines) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {count} x {text!r}:\n" + "".join(self.lines))
            time.sleep(0.05)


async def _load(url: str) -> list[tuple[int, dict[str, Any]]]:
    """``REQUESTS`` GETs at once; each answer's status and JSON body."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(number: int) -> tuple[int, dict[str, Any]]:
            async with session.get(f"{url}/contacts/{number % CONTACTS + 1}") as response:
                return response.status, await response.json(content_type=None)

        return await asyncio.gather(*(one(n) for n in range(REQUESTS)))


def _run(workers: int, redis: str | None) -> tuple[int, collections.Counter[int], set[int]]:
    """The fake's 429 count, the app's statuses and the workers that answered, for one run."""
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_process.py"), QUOTA, str(CONTACTS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_environment(),
    )  # fmt: skip
    assert fake.stdout is not None
    assert fake.stdin is not None
    app: subprocess.Popen[str] | None = None
    try:
        base_url = fake.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), base_url
        port = _free_port()
        settings = {
            "INRO_BASE_URL": base_url,
            "INRO_API_TOKEN": "test-token",
            "INRO_QUOTAS": QUOTA,
            "INRO_MAX_WAIT": "30",  # queueing is measured here, not refused
        }
        if redis is not None:
            settings |= {"INRO_REDIS_URL": redis, "INRO_REDIS_KEY": f"inro:{uuid.uuid4().hex}"}
        app = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "fastapi_app:app",
                "--app-dir", str(EXAMPLE.parent), "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--no-access-log",
            ],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            env=_environment(**settings),
        )  # fmt: skip
        logs = _Lines(app.stderr)
        logs.wait_for("Application startup complete", workers, timeout=60)
        answers = asyncio.run(_load(f"http://127.0.0.1:{port}"))
    finally:
        if app is not None:
            stop(app)
        fake.stdin.close()
        summary = fake.stdout.readline()
        stop(fake)
    throttled = int(summary.split()[0].removeprefix("throttled="))
    statuses = collections.Counter(status for status, _ in answers)
    answered_by = {body["worker"] for status, body in answers if status == 200}
    return throttled, statuses, answered_by


@pytest.mark.flaky(reruns=1)  # real time, three processes on shared cores
def test_one_worker_earns_no_429() -> None:
    throttled, statuses, _ = _run(1, None)
    print(f"\n1 worker, LocalGovernor: {throttled} x 429 (statuses {dict(statuses)})")
    assert statuses == {200: REQUESTS}
    assert throttled == 0


@pytest.mark.flaky(reruns=1)  # real time, three processes on shared cores
def test_two_workers_each_pacing_alone_are_measured() -> None:
    throttled, statuses, workers = _run(2, None)
    print(f"\n2 workers, LocalGovernor each: {throttled} x 429 (statuses {dict(statuses)})")
    assert len(workers) == 2  # both served: the quota was spent by two governors
    assert sum(statuses.values()) == REQUESTS


@pytest.mark.redis
@pytest.mark.flaky(reruns=1)  # real time, four processes on shared cores
def test_two_workers_sharing_a_redis_governor_earn_no_429(redis_url: str) -> None:
    throttled, statuses, workers = _run(2, redis_url)
    print(f"\n2 workers, RedisGovernor: {throttled} x 429 (statuses {dict(statuses)})")
    assert len(workers) == 2
    assert statuses == {200: REQUESTS}
    assert throttled == 0


def _load_example(monkeypatch: pytest.MonkeyPatch, **settings: str) -> ModuleType:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("INRO_REDIS_URL", raising=False)
    spec = importlib.util.spec_from_file_location(f"fastapi_app_{uuid.uuid4().hex}", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_a_request_that_would_queue_past_max_wait_gets_503_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fastapi.testclient import TestClient

    from inro_async.cli._embedded import serve_in_thread
    from inro_async.testing import FakeInro

    server = FakeInro()
    server.add_organization("test-token", contacts=3, seed=1)
    with serve_in_thread(server):
        assert server.base_url is not None
        example = _load_example(
            monkeypatch,
            INRO_BASE_URL=server.base_url,
            INRO_API_TOKEN="test-token",
            INRO_QUOTAS="1/30",  # one request per 30 s: the second would wait ~30 s
            INRO_MAX_WAIT="0.5",
        )
        with TestClient(example.app) as http:
            first = http.get("/contacts/1")
            started = time.monotonic()
            second = http.get("/contacts/2")
            waited = time.monotonic() - started
    assert first.status_code == 200
    assert first.json()["username"]
    assert second.status_code == 503
    assert 25 <= int(second.headers["Retry-After"]) <= 31
    assert waited < 2  # refused at once: the slot is further than max_wait
