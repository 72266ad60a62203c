"""The pytest plugin our users get: fixtures from the ``pytest11`` entry point, not a conftest."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from inro_async import Client, Quota
from inro_async.testing import FakeInro


def test_the_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins["inro_async"] == "inro_async.testing.pytest_plugin"


async def test_inro_server_serves_on_loopback_with_a_free_port(inro_server: FakeInro) -> None:
    assert inro_server.base_url is not None
    assert inro_server.base_url.startswith("http://127.0.0.1:")
    assert not inro_server.base_url.startswith("http://127.0.0.1:0/")
    assert "test-token" in inro_server.organizations


async def test_inro_client_talks_to_inro_server(inro_server: FakeInro, inro_client: Client) -> None:
    page = await inro_client.contacts.list(per_page=5)
    assert page.total == len(inro_server.org.contacts)
    await inro_client.messages.send(contact_id=page.items[0].id, text="Hi")
    assert [r.route for r in inro_server.requests] == ["contacts.list", "messages.send"]


class TestTheClientPacesForTheFakesQuotas:
    @pytest.fixture
    def inro_fake_options(self) -> dict[str, Any]:
        return {"contacts": 10, "quotas": [Quota(2, 1)]}

    async def test_the_client_governor_has_the_servers_quotas(
        self, inro_server: FakeInro, inro_client: Client
    ) -> None:
        assert tuple(inro_client.governor.quotas) == (Quota(2, 1),)
        assert inro_server.org.limiter.quotas == (Quota(2, 1),)

    async def test_a_burst_is_paced_without_earning_a_429(
        self, inro_server: FakeInro, inro_client: Client
    ) -> None:
        await asyncio.gather(*(inro_client.contacts.get(id=i) for i in range(1, 6)))
        assert len(inro_server.requests_to("contacts.get")) == 5
        assert inro_server.throttled == 0


USER_TESTS = """
import pytest
from inro_async import Quota


@pytest.fixture
def inro_fake_options():
    return {"contacts": 7, "mode": "fixed", "quotas": [Quota(20, 1)], "seed": 4}


async def test_options_shape_the_server(inro_server, inro_client):
    assert inro_server.mode == "fixed"
    assert len(inro_server.org.contacts) == 7
    contacts = [c async for c in inro_client.contacts.iter()]
    assert len(contacts) == 7
    active = next(c for c in contacts if c.status == "active")
    await inro_client.messages.send(contact_id=active.id, text="Welcome!")
    assert inro_server.org.delivery_counts() == {active.id: 1}
"""


def test_a_users_project_gets_the_fixtures_without_any_conftest(tmp_path: Path) -> None:
    (tmp_path / "test_users_code.py").write_text(textwrap.dedent(USER_TESTS))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_unknown_options_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "test_typo.py").write_text(
        textwrap.dedent("""
        import pytest

        @pytest.fixture
        def inro_fake_options():
            return {"contact": 7}

        async def test_it(inro_server):
            pass
    """)
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "InvalidArgumentError: inro_fake_options: unknown keys: contact" in result.stdout
