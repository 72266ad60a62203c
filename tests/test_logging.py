"""``INRO_LOG`` and ``inro -v``: the SDK's log lines on stderr, never the token or a query string.

The job test runs a user's script in a child process, as a user would run it with
``INRO_LOG=debug``, against the fake server, and greps everything it wrote (stdout, stderr and
the job's journal) for the token.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from inro_async._logging import Redact, configure_logging, redact
from inro_async.cli import main
from inro_async.cli._embedded import serve_in_thread
from inro_async.testing import FakeInro

TOKEN = "tok_live_LOGSECRET_93b7d1e0c4"  # a test token: greppable in any output
EMAIL = "needle.person@example.com"

SCRIPT = textwrap.dedent(
    f"""
    import asyncio
    from inro_async import Client, NotFoundError

    async def main():
        async with Client() as inro:  # token and base URL from the environment
            await inro.me()
            await inro.contacts.search({EMAIL!r}, per_page=5)
            ids = [contact.id async for contact in inro.contacts.iter()][:40]
            report = await inro.messages.send_many(ids, text="hi", job="logged")
            print("sent", report.done + report.skipped)
            try:
                await inro.contacts.get(email={EMAIL!r})
            except NotFoundError as error:
                print("error", error)

    asyncio.run(main())
    """
)


@pytest.fixture
def fake() -> Iterator[FakeInro]:
    server = FakeInro()
    server.add_organization(TOKEN, contacts=60, seed=5)
    with serve_in_thread(server):
        yield server


@pytest.fixture
def sdk_logger() -> Iterator[logging.Logger]:
    """The ``inro_async`` logger, its handlers and level put back after the test."""
    logger = logging.getLogger("inro_async")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_a_debug_run_of_a_job_never_writes_the_token(fake: FakeInro, tmp_path: Path) -> None:
    assert fake.base_url is not None
    environment = {
        **os.environ,
        "INRO_LOG": "debug",
        "INRO_API_TOKEN": TOKEN,
        "INRO_BASE_URL": fake.base_url,
        "INRO_JOBS_DIR": str(tmp_path / "jobs"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sent 40" in done.stdout
    assert "GET /me -> 200" in done.stderr  # the DEBUG lines are there, on stderr
    assert "POST /messages -> 202" in done.stderr
    assert "GET /contact -> 404" in done.stderr
    everything = done.stdout + done.stderr
    everything += "".join(
        p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()
    )
    assert TOKEN not in everything
    assert EMAIL not in done.stderr  # the search went in query strings: never logged


def test_without_inro_log_the_sdk_installs_no_handler(
    sdk_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INRO_LOG", raising=False)
    before = list(sdk_logger.handlers)
    configure_logging()
    assert sdk_logger.handlers == before


def test_inro_log_info_installs_one_handler_however_many_clients(
    sdk_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inro_async import Client

    monkeypatch.setenv("INRO_LOG", "info")
    before = len(sdk_logger.handlers)
    for _ in range(3):
        Client(token=TOKEN)
    assert len(sdk_logger.handlers) == before + 1
    assert sdk_logger.getEffectiveLevel() == logging.INFO


def test_the_filter_cuts_bearer_tokens_token_fields_and_query_strings() -> None:
    record = logging.LogRecord(
        "inro_async", logging.DEBUG, __file__, 1,
        "sent %s to %s", ("Authorization: Bearer " + TOKEN, f"https://x.test/a?email={EMAIL}"),
        None,
    )  # fmt: skip
    Redact().filter(record)
    assert record.getMessage() == "sent Authorization: Bearer *** to https://x.test/a"
    assert redact(f'{{"token": "{TOKEN}"}} token={TOKEN}&x=1') == '{"token": "***"} token=***&x=1'


def _inro(fake: FakeInro, *args: str) -> tuple[str, str]:
    assert fake.base_url is not None
    result = CliRunner().invoke(
        main, ["--base-url", fake.base_url, "--token", TOKEN, *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    return result.stdout, result.stderr


def test_cli_vv_logs_every_request_on_stderr(
    fake: FakeInro, sdk_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INRO_LOG", raising=False)
    stdout, stderr = _inro(fake, "-vv", "me")
    assert "DEBUG inro_async: GET /me -> 200" in stderr
    assert "GET /me" not in stdout


def test_cli_verbose_after_the_command_counts_too(
    fake: FakeInro, sdk_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INRO_LOG", raising=False)
    _, stderr = _inro(fake, "me", "-v", "-v")
    assert "GET /me -> 200" in stderr


def test_cli_without_verbose_logs_nothing(
    fake: FakeInro, sdk_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INRO_LOG", raising=False)
    _, stderr = _inro(fake, "me")
    assert "GET /me" not in stderr


def test_cli_verbose_before_demo_logs_its_requests_too(
    sdk_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INRO_LOG", raising=False)
    result = CliRunner().invoke(main, ["-vv", "demo", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert sdk_logger.getEffectiveLevel() == logging.DEBUG  # set before demo makes its client
