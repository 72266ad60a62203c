"""Helpers for the jobs tests: a scriptable governor and a tiny POST /messages stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from inro_async._http import HTTPRequest, HTTPResult, MockBackend
from inro_async.errors import QuotaWaitTooLongError
from inro_async.governor._base import INRO_QUOTAS, Permit, Quota, QuotaUsage


class StubGovernor:
    """No limits; ``block_at[n]`` makes the n-th acquire (1-based) report a long wait."""

    def __init__(self, block_at: Mapping[int, float] | None = None) -> None:
        self.acquires = 0
        self.priorities: list[int] = []
        self.max_waits: list[float | None] = []
        self.block_at = dict(block_at or {})
        self.hold = asyncio.Event()
        self.hold.set()

    @property
    def quotas(self) -> Sequence[Quota]:
        return INRO_QUOTAS

    async def acquire(self, *, priority: int = 0, max_wait: float | None = None) -> Permit:
        self.acquires += 1
        self.priorities.append(priority)
        self.max_waits.append(max_wait)
        wait = self.block_at.pop(self.acquires, None)
        if wait is not None:
            raise QuotaWaitTooLongError(
                wait=wait,
                available_at=1_800_000_000.0 + wait,
                quota=INRO_QUOTAS[-1],
                max_wait=max_wait or 0.0,
            )
        await self.hold.wait()
        return Permit(asyncio.get_running_loop().time())

    async def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        permit: Permit | None = None,
        elapsed: float | None = None,
    ) -> None:
        return None

    async def snapshot(self) -> list[QuotaUsage]:
        return []

    async def estimate(self, n: int) -> float:
        return n / 20


def json_result(status: int, body: Any, headers: Mapping[str, str] | None = None) -> HTTPResult:
    return MockBackend.result(status, msgspec.json.encode(body), headers)


def body_of(request: HTTPRequest) -> Any:
    return msgspec.json.decode(request.body or b"{}")
