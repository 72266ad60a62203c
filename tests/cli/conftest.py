"""The CLI under test: a fake server in a thread of its own, and ``inro`` through CliRunner.

CliRunner runs a command in the test's thread, and every command calls ``asyncio.run``; so the
tests are synchronous and the fake server gets its own thread and event loop
(``inro_async.cli._embedded.serve_in_thread``), where the test can still inspect it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli._helpers import TOKEN, Invoke
from inro_async.cli import main
from inro_async.cli._embedded import serve_in_thread
from inro_async.testing import FakeInro

CONTACTS = 2_500


@pytest.fixture
def fake() -> Iterator[FakeInro]:
    """A fake Inrō API with 2,500 contacts and production quotas, served from a thread."""
    server = FakeInro(batch_delay=0.01)
    server.add_organization(TOKEN, contacts=CONTACTS, seed=7)
    with serve_in_thread(server):
        yield server


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journals and failed-item files land in the test's directory; no ambient token or URL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INRO_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.delenv("INRO_API_TOKEN", raising=False)
    monkeypatch.delenv("INRO_BASE_URL", raising=False)


@pytest.fixture
def invoke(fake: FakeInro) -> Invoke:
    """Run ``inro --base-url … --token … ARGS`` in-process; the token must never be echoed."""

    def run(*args: str, token: str = TOKEN) -> Result:
        assert fake.base_url is not None
        result = CliRunner().invoke(
            main, ["--base-url", fake.base_url, "--token", token, *args], catch_exceptions=False
        )
        assert token not in result.output
        return result

    return run
