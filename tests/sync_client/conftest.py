"""Fixtures for the blocking client: the fake server on its own loop, and a sync client on it.

A blocking call made from the test's thread would stop a server running on that thread's event
loop, so these tests run ``FakeInro`` in a thread of its own (``serve_in_thread``), the way a
user testing blocking code would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from inro_async.sync import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN
from inro_async.testing.thread import serve_in_thread


@pytest.fixture
def sync_fake_options() -> dict[str, Any]:
    """``FakeInro`` options (quotas, mode…) and the organization's (contacts, seed)."""
    return {"contacts": 100, "seed": 11, "batch_delay": 0.02}


@pytest.fixture
def fake(sync_fake_options: dict[str, Any]) -> Iterator[FakeInro]:
    """A fake Inrō server answering from its own thread, one organization (``test-token``)."""
    org_keys = {"contacts", "seed", "plan"}
    server = FakeInro(**{k: v for k, v in sync_fake_options.items() if k not in org_keys})
    server.add_organization(TOKEN, **{k: v for k, v in sync_fake_options.items() if k in org_keys})
    with serve_in_thread(server):
        yield server


@pytest.fixture
def inro(fake: FakeInro) -> Iterator[Client]:
    """A sync client on ``fake``, paced for the quotas the fake enforces."""
    with Client(TOKEN, base_url=fake.base_url, quotas=fake.org.limiter.quotas) as client:
        yield client


def python_child(code: str, *args: str, **popen: Any) -> subprocess.Popen[str]:
    """Run ``code`` in a new interpreter with this worktree's package first on the path."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )
