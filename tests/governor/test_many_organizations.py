"""Many organizations on one event loop, against ``inro fake-server --orgs`` in a child process.

The regression test of issue 19: 20 organizations, each sending 100 single messages at once
under scaled quotas, earned 25-129 429s (in 5-16 of them) and took ~1.5x the optimum. The
server is a separate process, as in production and in ``benchmarks/``, so its queueing is
real and its CPU is not this loop's.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping

import aiohttp
import pytest

from inro_async import Client, Quota
from inro_async.governor import LocalGovernor
from inro_async.governor._base import Permit
from tests.processes import stop

QUOTAS = (Quota(20, 1), Quota(100, 6))
ORGANIZATIONS = 20
SENDS = 100


@pytest.fixture
def many_orgs_server() -> Iterator[tuple[str, list[str]]]:
    """``inro fake-server --orgs 20`` on a free port: its base URL and the tokens it lists."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from inro_async.cli import main; main()",
            "fake-server",
            "--port",
            "0",
            "--orgs",
            str(ORGANIZATIONS),
            "--contacts",
            str(SENDS),
            *(arg for q in QUOTAS for arg in ("--quota", f"{q.limit}/{q.period:g}")),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("fake Inrō API at http://127.0.0.1:"), banner
        base_url = banner.split(" at ", 1)[1].split()[0]
        tokens = []
        while (line := process.stdout.readline()).startswith("  token: "):
            tokens.append(line.removeprefix("  token: ").strip())
        yield base_url, tokens
    finally:
        assert stop(process, signal.SIGTERM) == 0


class CountingGovernor(LocalGovernor):
    """A ``LocalGovernor`` that counts the 429s it is told of."""

    throttled = 0

    async def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        permit: Permit | None = None,
        elapsed: float | None = None,
    ) -> None:
        self.throttled += status == 429
        await super().observe(status, headers, permit=permit, elapsed=elapsed)


@pytest.mark.timeout(60)
def test_twenty_organizations_sending_at_once_earn_no_429(
    many_orgs_server: tuple[str, list[str]],
) -> None:
    base_url, tokens = many_orgs_server
    assert tokens == [f"org-{i}" for i in range(1, ORGANIZATIONS + 1)]

    async def run() -> list[int]:
        async with aiohttp.ClientSession() as session:  # one pool for all, as the README says
            governors = [CountingGovernor(QUOTAS) for _ in tokens]
            clients = [
                Client(token, base_url=base_url, governor=governor, session=session)
                for token, governor in zip(tokens, governors, strict=True)
            ]
            await asyncio.gather(
                *(
                    client.messages.send(contact_id=k, text="Spring sale")
                    for client in clients
                    for k in range(1, SENDS + 1)
                )
            )
            for client in clients:
                await client.aclose()
            return [governor.throttled for governor in governors]

    throttled = asyncio.run(run())
    assert throttled == [0] * ORGANIZATIONS
