"""An odd ``X-RateLimit-*`` header never turns a delivered message into an error (issue 15 #5).

The header arrives with the answer, after the server processed the request: a governor that
raised on ``inf`` or ``1e999`` (``int(float("inf"))`` is an ``OverflowError``) made a delivered
send look failed, and a rerun would send it again. Both governors read the headers with the same
parser (``inro_async._headers.parse_int_header``): an odd value is ignored and logged once.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from inro_async import Client
from inro_async._headers import parse_int_header
from inro_async.governor import LocalGovernor, Quota
from inro_async.governor._base import Governor
from inro_async.governor.redis import RedisGovernor
from inro_async.testing import FakeInro

TOKEN = "odd-headers"
QUOTAS = [Quota(20, 1)]
_keys = itertools.count()


@pytest.fixture
async def odd_server() -> AsyncIterator[FakeInro]:
    """The fake, whose every answer says ``X-RateLimit-Limit: inf``, ``-Remaining: 1e999``."""
    fake = FakeInro(quotas=QUOTAS)
    fake.add_organization(TOKEN, contacts=20)

    async def odd_headers(_request: web.BaseRequest, response: web.StreamResponse) -> None:
        response.headers["X-RateLimit-Limit"] = "inf"
        response.headers["X-RateLimit-Remaining"] = "1e999"

    fake.app.on_response_prepare.append(odd_headers)
    async with fake:
        yield fake


def _governor(kind: str, redis_url: str) -> Governor:
    if kind == "local":
        return LocalGovernor(QUOTAS, margin=0)
    key = f"odd-{time.time_ns()}-{next(_keys)}"
    return RedisGovernor(redis_url, key=key, quotas=QUOTAS, margin=0.0)


@pytest.mark.parametrize("kind", ["local", "redis"])
async def test_a_send_answered_with_infinite_rate_limit_headers_is_a_success(
    odd_server: FakeInro, kind: str, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    governor = _governor(kind, redis_url)
    async with Client(token=TOKEN, base_url=odd_server.base_url, governor=governor) as inro:
        result = await inro.messages.send(contact_id=1, text="hello")
        again = await inro.messages.send(contact_id=2, text="hello")
    assert (result.accepted_count, again.accepted_count) == (1, 1)
    assert odd_server.org.delivery_counts() == {1: 1, 2: 1}  # each delivered once, not retried
    assert len(odd_server.requests_to("messages.send")) == 2
    if isinstance(governor, RedisGovernor):
        await governor.aclose()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20", 20),
        (" 7 ", 7),
        ("20.0", 20),
        ("-3", -3),
        (None, None),
        ("inf", None),
        ("-inf", None),
        ("1e999", None),
        ("nan", None),
        ("many", None),
        ("", None),
        ("9" * 5000, None),  # past int()'s digit limit: a ValueError, and float() says inf
    ],
)
def test_the_shared_parser_never_raises(value: str | None, expected: int | None) -> None:
    assert parse_int_header("X-Test-Never-Raises", value) == expected


def test_an_odd_value_is_logged_once_per_header(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="inro_async"):
        for value in ("inf", "1e999", "many"):
            assert parse_int_header("X-Test-Logged-Once", value) is None
        assert parse_int_header("X-Test-Logged-Once", "5") == 5
    messages = [r.getMessage() for r in caplog.records if "X-Test-Logged-Once" in r.getMessage()]
    assert len(messages) == 1
    assert "'inf'" in messages[0]
