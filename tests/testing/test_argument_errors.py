"""The fake's own tools refuse bad arguments as the SDK does: ``InvalidArgumentError``, named."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from inro_async import InvalidArgumentError
from inro_async.testing import FakeInro
from inro_async.testing._ratelimit import RateLimiter
from inro_async.testing.churn import parse_rate
from inro_async.testing.clock import ManualClock
from inro_async.testing.faults import unaccounted_answer


def _duplicate_token() -> None:
    fake = FakeInro()
    fake.add_organization("tok")
    fake.add_organization("tok")


CASES: list[tuple[str, Callable[[], object]]] = [
    ("mode", lambda: FakeInro(mode="tumbling")),  # type: ignore[arg-type]
    ("plan", lambda: FakeInro().add_organization("tok", plan="gold")),
    ("token", _duplicate_token),
    ("kind", lambda: FakeInro().inject("earthquake")),
    ("route", lambda: FakeInro().inject("latency", route="nowhere.list")),
    ("seconds", lambda: ManualClock().advance(-1)),
    ("mode", lambda: RateLimiter([], mode="tumbling")),  # type: ignore[arg-type]
    ("quotas", lambda: RateLimiter([])),
    ("rate", lambda: parse_rate("fast")),
    ("rate", lambda: parse_rate("0/min")),
    ("status", lambda: unaccounted_answer(status=500)),
    ("body", lambda: unaccounted_answer(body=[1])),
]


@pytest.mark.parametrize(
    ("argument", "call"), CASES, ids=[f"{a}-{i}" for i, (a, _) in enumerate(CASES)]
)
def test_a_bad_argument_is_named(argument: str, call: Callable[[], object]) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        call()
    assert raised.value.argument == argument
