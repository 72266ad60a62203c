"""The loopback tests of the async client, run again through ``inro_async.sync.Client``.

Every test of the modules below that takes ``inro_client`` or ``fast`` is collected here a
second time (its id ends in ``[sync]``), with ``inro_client`` replaced by the blocking client
driven from worker threads (``sync_client.as_async``), so that the fake server on the test's
loop keeps answering. ``test_coverage`` checks that every resource method is called in this
folder: through the twins, every one is called through the sync client too. A new async test
that cannot apply to a blocking client goes in ``NOT_TWINNED`` with the reason.
"""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest
from sync_client.as_async import AsyncOverSync

from inro_async.sync import Client as SyncClient
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN

from . import (
    test_automation,
    test_client,
    test_contacts,
    test_crm,
    test_errors,
    test_hostile_pages,
    test_lost_answers,
    test_messaging,
    test_pagination,
    test_retries,
)

MODULES: tuple[ModuleType, ...] = (
    test_automation,
    test_client,
    test_contacts,
    test_crm,
    test_errors,
    test_hostile_pages,
    test_lost_answers,
    test_messaging,
    test_pagination,
    test_retries,
)

NOT_TWINNED = {
    "test_export_without_a_known_suffix_asks_for_format": "an async job method raises at the "
    "call, before its await; the blocking call is the whole job, so the adapter cannot split "
    "them (test_jobs.py checks that the blocking call raises)",
    "test_a_5xx_on_one_page_is_retried_and_the_walk_completes": "injects a fault after the "
    "first page; a blocking walk has fetched the next page by then (prefetch)",
    "test_a_page_that_keeps_failing_stops_the_walk_with_the_error": "the same; test_walks.py "
    "checks that a failing page raises after the items before it",
}
CLIENT_FIXTURES = {"inro_client", "fast"}


def _is_fixture(value: object) -> bool:
    return type(value).__name__ == "FixtureFunctionDefinition" or hasattr(
        value, "_pytestfixturefunction"
    )


def _twins() -> dict[str, object]:
    """The tests to run again, by name."""
    found: dict[str, object] = {}
    for module in MODULES:
        for name, test in vars(module).items():
            if not name.startswith("test_") or name in NOT_TWINNED or not callable(test):
                continue
            uses = CLIENT_FIXTURES & set(inspect.signature(test).parameters)
            if uses:
                assert name not in found, f"two loopback tests are named {name}"
                found[name] = _twin_of(test, timed="fast" in uses)
    return found


def _twin_of(test: Any, *, timed: bool) -> Any:
    """A copy of ``test`` to mark here without marking the original."""
    twin = types.FunctionType(
        test.__code__, test.__globals__, test.__name__, test.__defaults__, test.__closure__
    )
    twin.__dict__.update(test.__dict__)
    twin.__dict__["pytestmark"] = list(getattr(test, "pytestmark", []))
    twin.__kwdefaults__ = test.__kwdefaults__
    twin.__annotations__ = test.__annotations__
    twin.__qualname__ = test.__qualname__
    twin.__doc__ = test.__doc__
    if timed:
        # ``fast`` times out after 0.25 s; a blocking call adds thread wake-ups, which a
        # machine running other work can stretch past it (as for the real-time tests).
        twin = pytest.mark.flaky(reruns=1)(twin)
    return twin


def _their_fixtures() -> dict[str, object]:
    """The fixtures those modules define for their own tests (``umask_022``…)."""
    found: dict[str, object] = {}
    for module in MODULES:
        for name, value in vars(module).items():
            if _is_fixture(value) and name != "inro_client":
                assert found.setdefault(name, value) is value, f"two fixtures named {name}"
    return found


globals().update(_twins())
globals().update(_their_fixtures())


@pytest.fixture(params=["sync"])
async def inro_client(inro_server: FakeInro) -> AsyncIterator[AsyncOverSync]:
    """The blocking client on ``inro_server``, paced for its quotas, as the tests expect."""
    quotas = inro_server.organizations[TOKEN].limiter.quotas
    client = await asyncio.to_thread(
        SyncClient, TOKEN, base_url=inro_server.base_url, quotas=quotas
    )
    try:
        yield AsyncOverSync(client)
    finally:
        await asyncio.to_thread(client.close)


def test_the_twins_cover_most_of_the_loopback_suite() -> None:
    twinned = _twins()
    assert len(twinned) >= 150
    assert set(NOT_TWINNED).isdisjoint(twinned)
