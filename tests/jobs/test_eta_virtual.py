"""ETAs under a simulated clock: exact answer times, so the estimate is held to 10 ms.

The loopback tests (``test_loopback.py``) check the same ETAs end to end over real HTTP, where a
loaded machine stretches answer times; here nothing does, so any drift is the estimate's own.
No socket: ``MockBackend`` answers after a virtual ``asyncio.sleep`` and the real governor
(``LocalGovernor``, production quotas) decides when each request goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from virtual_time import run_virtual

from inro_async._http import HTTPRequest, HTTPResult, MockBackend
from inro_async.client import Client
from inro_async.governor._base import INRO_QUOTAS
from inro_async.governor.local import LocalGovernor
from inro_async.jobs import ProgressEvent, export_contacts, send_many

from .conftest import json_result

EXACT = 0.01
"""Seconds an ETA may miss by when every answer takes exactly its latency."""

T = TypeVar("T")


@pytest.fixture(autouse=True)
def every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress is throttled by the wall clock, which barely moves here: emit every event."""
    monkeypatch.setattr("inro_async.jobs._runner.PROGRESS_INTERVAL", 0.0)


@pytest.fixture
def inline_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``asyncio.to_thread`` work inline: a worker thread's finish is real time, and the
    virtual clock would jump to the next timer while the loop waited for it."""

    async def inline(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return func(*args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", inline)


def late(latency: float, answer: Callable[[HTTPRequest], HTTPResult]) -> MockBackend:
    """A backend whose every answer comes ``latency`` virtual seconds after its request."""

    async def handler(request: HTTPRequest) -> HTTPResult:
        await asyncio.sleep(latency)
        return answer(request)

    return MockBackend(handler)


def client_on(backend: MockBackend) -> Client:
    return Client(
        "t",
        base_url="http://inro.test/api/v1",
        governor=LocalGovernor(INRO_QUOTAS),
        backend=backend,
        max_retries=0,
    )


def accept_all(request: HTTPRequest) -> HTTPResult:
    body = msgspec.json.decode(request.body or b"{}")
    count = sum(len(v) for k, v in body.items() if k.startswith("contact_"))
    return json_result(202, {"status": "queued", "accepted_count": count})


def contact_pages(total: int) -> Callable[[HTTPRequest], HTTPResult]:
    def answer(request: HTTPRequest) -> HTTPResult:
        params = dict(request.params)
        page, per_page = int(params["page"]), int(params["per_page"])
        ids = range((page - 1) * per_page + 1, min(total, page * per_page) + 1)
        headers = {
            "X-Total": str(total),
            "X-Total-Pages": str(-(-total // per_page)),
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
        }
        return json_result(200, [{"id": n, "username": f"u{n}"} for n in ids], headers)

    return answer


def test_a_send_eta_is_the_last_slots_wait_plus_one_answer() -> None:
    # 25 chunks of 1,000 answered 0.4 s after they go: 20 go at 0, are answered at 0.4, and
    # their slots free at 1.4 (answer + 1 s); the last 5 go then and are answered at 1.8.
    seen: list[tuple[float, ProgressEvent]] = []

    async def main() -> float:
        loop = asyncio.get_running_loop()
        async with client_on(late(0.4, accept_all)) as inro:
            report = await send_many(
                inro,
                range(1, 25_001),
                text="Spring sale",
                on_progress=lambda e: seen.append((loop.time(), e)),
            )
        assert report.done == 25_000
        return loop.time()

    ended = run_virtual(main, start=1_000.0)
    started = seen[0][0]
    assert ended - started == pytest.approx(1.8, abs=EXACT)
    midway = [(at, e.eta) for at, e in seen if 0 < e.finished < 25_000]
    assert len(midway) >= 20  # one per answered chunk
    for at, eta in midway:
        assert eta == pytest.approx(ended - at, abs=EXACT)
    # Before any answer, the last 5 chunks' wait for a slot is known: never "0 s" up front.
    before = [e.eta for _, e in seen if e.finished == 0]
    assert before
    assert all(eta is not None and eta >= 1.0 for eta in before)


def test_an_export_eta_follows_the_lookahead_window(tmp_path: Path, inline_threads: None) -> None:
    # 25 pages answered 0.3 s after they go, 8 in flight: the window (8 pages per 0.3 s), not
    # the 20/s quota, sets the pace once page 1 has said how many there are.
    seen: list[tuple[float, ProgressEvent]] = []

    async def main() -> float:
        loop = asyncio.get_running_loop()
        async with client_on(late(0.3, contact_pages(25_000))) as inro:
            report = await export_contacts(
                inro,
                tmp_path / "all.jsonl",
                on_progress=lambda e: seen.append((loop.time(), e)),
            )
        assert report.contacts == 25_000
        return loop.time()

    ended = run_virtual(main, start=1_000.0)
    # From page 2 on (page 1's answer is when the total becomes known, and its estimate cannot
    # yet tell that pages sent later in the window free their slots a round trip later).
    midway = [(at, e.eta) for at, e in seen if 1_000 < e.done < 25_000]
    assert len(midway) >= 20
    for at, eta in midway:
        assert eta == pytest.approx(ended - at, abs=EXACT)
    assert (tmp_path / "all.jsonl").read_bytes().count(b"\n") == 25_000
