"""Loopback tests: the SDK's own client against ``FakeInro`` on 127.0.0.1, via our pytest plugin.

``inro_server`` and ``inro_client`` are the fixtures our users get (``inro_async.testing``).
Tests that need quick retries or a short timeout take ``fast``: the same client through
``with_options`` (shared session and governor), as a user would write it.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from inro_async import Retries
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN
from inro_async.testing.store import Organization

FAST_RETRIES = Retries(max_retries=2, backoff_base=0.01, backoff_cap=0.02)
"""Two quick retries: the policy under test, without the production backoff's wait."""
TIMEOUT = 0.25
"""The ``fast`` client's timeout; injected latencies exceed it."""


@pytest.fixture
def inro_fake_options() -> dict[str, Any]:
    """100 seeded contacts; background work (bulk updates, campaign sends) done in 20 ms."""
    return {"contacts": 100, "seed": 11, "batch_delay": 0.02}


@pytest.fixture
def org(inro_server: FakeInro) -> Organization:
    """The fixture organization's store, for checking what the server really did."""
    return inro_server.org


@pytest.fixture
def fast(inro_client: Client) -> Client:
    """``inro_client`` with quick retries and a short timeout."""
    return inro_client.with_options(timeout=TIMEOUT, max_retries=FAST_RETRIES)


def contact_where(org: Organization, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first contact (in id order) passing ``test``."""
    return next(org.contacts[cid] for cid in sorted(org.contacts) if test(org.contacts[cid]))


def active_contact(org: Organization, *, with_email: bool = False) -> dict[str, Any]:
    """An active contact (messages reach it), with an email when asked."""
    return contact_where(
        org, lambda c: c["status"] == "active" and (bool(c["email"]) or not with_email)
    )


def assert_no_secret(error: BaseException, secret: str = TOKEN) -> None:
    """``secret`` appears nowhere in the error's str, repr, args, attributes or traceback."""
    texts = [str(error), repr(error), *map(repr, error.args)]
    texts += [repr(value) for value in vars(error).values()]
    texts.append("".join(traceback.format_exception(error)))
    for text in texts:
        assert secret not in text, text


async def eventually(check: Callable[[], bool], within: float = 2.0) -> None:
    """Wait until ``check()`` holds (server-side work finishing), failing after ``within`` s."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the server's store has no event to wait on
            await asyncio.sleep(0.005)
