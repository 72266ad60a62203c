"""Every script in examples/ runs against ``inro fake-server``, the way its docstring says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import stop

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INRO = str(Path(sys.executable).parent / "inro")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def fake_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``inro fake-server`` running; the environment its banner tells a user to export."""
    process = subprocess.Popen(
        [INRO, "fake-server", "--contacts", "3000", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner = [process.stdout.readline() for _ in range(3)]
    exports = banner[2].split("export ", 1)[1].split()
    env = {**os.environ, **dict(pair.split("=", 1) for pair in exports)}
    env["INRO_JOBS_DIR"] = str(tmp_path_factory.mktemp("jobs"))
    try:
        yield env
    finally:
        stop(process)  # SIGTERM, then kill: no server outlives the module


@pytest.mark.parametrize(
    "script",
    [
        "contacts.py",
        "messaging.py",
        "media.py",
        "automation.py",
        "bulk_jobs.py",
        "governor_standalone.py",
        "sync_script.py",
    ],
)
def test_the_example_runs_to_the_end(script: str, fake_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env=fake_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.strip()
    assert fake_env["INRO_API_TOKEN"] == "test-token"  # the fake's own, printed by design


def test_the_web_app_answers_through_its_shared_client(fake_env: dict[str, str]) -> None:
    port = free_port()
    app = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "web_app.py")],
        env={**fake_env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/contacts?q=a"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the example app never answered")
        assert body["total"] > 0
        assert body["contacts"][0]["username"]
    finally:
        stop(app)


def test_the_threaded_web_app_answers_many_requests_at_once_through_one_sync_client(
    fake_env: dict[str, str],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    port = free_port()
    app = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "threaded_web_app.py")],
        env={**fake_env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def get(path: str) -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    try:
        for _ in range(100):
            try:
                status, first = get("/contacts?q=a")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the example app never answered")
        assert status == 200
        assert first["total"] > 0  # type: ignore[operator]
        username = first["contacts"][0]["username"]  # type: ignore[index]
        with ThreadPoolExecutor(8) as pool:  # eight requests in flight at once
            answers = list(pool.map(get, [f"/contacts/{username}"] * 16 + ["/contacts/nobody"]))
        assert [s for s, _ in answers] == [200] * 16 + [404]
        assert {a["username"] for _, a in answers[:16]} == {username}
    finally:
        app.send_signal(signal.SIGINT)
        app.wait(timeout=10)
    assert app.returncode == 0, app.stderr.read() if app.stderr else ""


async def test_the_notebook_cells_run_in_order_with_top_level_await(
    inro_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ast
    import re

    from inro_async.testing import FakeInro

    assert isinstance(inro_server, FakeInro)
    assert inro_server.base_url is not None
    monkeypatch.setenv("INRO_BASE_URL", inro_server.base_url)
    monkeypatch.setenv("INRO_API_TOKEN", inro_server.token)
    text = (EXAMPLES / "notebook.md").read_text()
    cells = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(cells) >= 5
    namespace: dict[str, object] = {}
    for cell in cells:  # what IPython does with each cell: compile allowing top-level await
        code = compile(cell, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, namespace)  # noqa: S307 - our own example's code
        if result is not None:
            await result
    assert len(namespace["rows"]) == len(inro_server.org.contacts)  # type: ignore[arg-type]
    assert sum(inro_server.org.delivery_counts().values()) == namespace["report"].done  # type: ignore[attr-defined]
